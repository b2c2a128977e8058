import type * as Pg from 'pg';
import type { SyncSettings } from './types';

/**
 * The connection to the shared PostgreSQL (docs/sync.md). `pg` is loaded on first use, never at
 * import: the CLI's thin entry and the extension's start must not pay for it while sync is off.
 *
 * The connection text is a URL (`postgres://user@host:5432/db?sslmode=require`) or a libpq keyword
 * string (`host=db.example port=5432 dbname=ah user=ah`). The password comes, in order, from
 * `settings.password` (the extension's SecretStorage), the text itself, `PGPASSWORD`, then
 * `~/.pgpass` (or `PGPASSFILE`), which is read by us (pg's own reading of it is deprecated).
 */

let pgModule: typeof Pg | undefined;
function pg(): typeof Pg {
  pgModule ??= require('pg') as typeof Pg;
  return pgModule;
}

/** How long a connection may take to open, and one statement to run, before it counts as a failure. */
export const CONNECT_TIMEOUT_MS = 10_000;
export const STATEMENT_TIMEOUT_MS = 60_000;

/** A connection text that cannot be used as it is: the CLI exits 2 on it, the extension shows it. */
export class SyncConfigError extends Error {}

/** What a connection text names, with the password kept apart (never printed). */
export interface ConnectionTarget {
  host: string | null;
  port: number | null;
  database: string | null;
  user: string | null;
  password: string | null;
  /** Every other parameter (sslmode, application_name, options, ...), as given. */
  params: Record<string, string>;
}

/** Parses a URL or a libpq keyword string; throws SyncConfigError (without the password) when it is neither. */
export function parseConnection(text: string): ConnectionTarget {
  const trimmed = text.trim();
  if (!trimmed) throw new SyncConfigError('no PostgreSQL connection string is set');
  if (/^postgres(?:ql)?:\/\//i.test(trimmed)) return parseUrl(trimmed);
  if (/^[a-z_]+\s*=/i.test(trimmed)) return parseKeywords(trimmed);
  throw new SyncConfigError(
    'the PostgreSQL connection string is neither a postgres:// URL nor a libpq keyword string (host=... dbname=...)',
  );
}

function parseUrl(text: string): ConnectionTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SyncConfigError(`the PostgreSQL URL ${redactUrl(text)} cannot be parsed`);
  }
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  const take = (key: string) => {
    const v = params[key];
    delete params[key];
    return v ?? null;
  };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new SyncConfigError(`the PostgreSQL URL ${redactUrl(text)} has a badly escaped part`);
    }
  };
  const portParam = take('port');
  const port = portParam !== null ? Number(portParam) : url.port ? Number(url.port) : null;
  const dbPath = url.pathname.replace(/^\//, '');
  return {
    host: take('host') ?? (url.hostname ? decode(url.hostname.replace(/^\[(.+)\]$/, '$1')) : null),
    port,
    database: take('dbname') ?? (dbPath ? decode(dbPath) : null),
    user: take('user') ?? (url.username ? decode(url.username) : null),
    password: take('password') ?? (url.password ? decode(url.password) : null),
    params,
  };
}

/** libpq's `key=value key='quoted \' value'` form. */
function parseKeywords(text: string): ConnectionTarget {
  const values: Record<string, string> = {};
  const re = /\s*([a-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s']*))/giy;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) {
      if (!text.slice(at).trim()) break;
      throw new SyncConfigError('the PostgreSQL keyword string cannot be parsed (expected key=value pairs)');
    }
    values[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    at = re.lastIndex;
  }
  const take = (key: string) => {
    const v = values[key];
    delete values[key];
    return v ?? null;
  };
  const port = take('port');
  return {
    host: take('host') ?? take('hostaddr'),
    port: port === null ? null : Number(port),
    database: take('dbname'),
    user: take('user'),
    password: take('password'),
    params: values,
  };
}

/** A URL with its password replaced, for messages. */
function redactUrl(text: string): string {
  return text.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/** `user@host:port/db` for messages and logs: never the password. */
export function describeTarget(t: ConnectionTarget): string {
  return `${t.user ? `${t.user}@` : ''}${t.host ?? 'localhost'}${t.port ? `:${t.port}` : ''}/${t.database ?? t.user ?? ''}`;
}

/** The pg client configuration for a target: short timeouts, and the password from where it may come. */
export function clientConfig(t: ConnectionTarget, settings: Pick<SyncSettings, 'password'>): Pg.ClientConfig {
  if (t.port !== null && !(Number.isInteger(t.port) && t.port > 0 && t.port < 65536))
    throw new SyncConfigError(`the PostgreSQL port ${String(t.port)} is not a port number`);
  const { sslmode, application_name, ...rest } = t.params;
  const config: Pg.ClientConfig = {
    host: t.host ?? undefined,
    port: t.port ?? undefined,
    database: t.database ?? undefined,
    user: t.user ?? undefined,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
    application_name: application_name ?? 'agent-handler',
    ssl: sslConfig(sslmode ?? process.env.PGSSLMODE ?? null),
  };
  if (rest.options) config.options = rest.options;
  const given = settings.password || t.password || process.env.PGPASSWORD;
  // Asked only when the server wants a password: ~/.pgpass (PGPASSFILE), as libpq reads it.
  config.password = given ? given : () => pgpassLookup(config);
  return config;
}

/** libpq's sslmode as pg understands it: disable/allow/prefer → no TLS, require → TLS unverified, verify-* → verified. */
function sslConfig(mode: string | null): Pg.ClientConfig['ssl'] {
  switch (mode) {
    case null:
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
    case 'no-verify':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
    default:
      throw new SyncConfigError(`sslmode ${mode} is not one of disable, prefer, require, verify-ca, verify-full`);
  }
}

function pgpassLookup(config: Pg.ClientConfig): Promise<string> {
  type PgPass = (info: Record<string, unknown>, cb: (pass: string | undefined) => void) => void;
  const pgpass = require('pgpass') as PgPass;
  return new Promise((resolve) => {
    pgpass(
      {
        host: config.host ?? 'localhost',
        port: config.port ?? 5432,
        database: config.database ?? config.user,
        user: config.user ?? process.env.PGUSER ?? process.env.USER,
      },
      (pass) => resolve(pass ?? ''),
    );
  });
}

/** Opens a connection to the target of `settings.postgres`; throws what syncErrorMessage explains. */
export async function connect(settings: Pick<SyncSettings, 'postgres' | 'password'>): Promise<Pg.Client> {
  const target = parseConnection(settings.postgres);
  const client = new (pg().Client)(clientConfig(target, settings));
  // An error on an idle connection (the server restarted) must not crash the process: the next
  // query fails and the caller reconnects.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/** This version's schema is older than the database's: nothing is written (schema.ts). */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `the shared database's schema is version ${found}, newer than this Agent Handler's (${supported}): update Agent Handler on this machine`,
    );
  }
}

/** A database that was never migrated, asked by a machine that only reads. */
export class SchemaMissingError extends Error {
  constructor() {
    super(
      'the shared database has no Agent Handler tables yet: push once from a machine whose role may create tables (agent-handler sync)',
    );
  }
}

/**
 * One line a person can act on, for any error of the sync path: what went wrong and what to do.
 * Never contains the password (pg's messages do not carry it; the connection text is never quoted).
 */
export function syncErrorMessage(err: unknown, target?: string): string {
  const e = err as { code?: string; message?: string; errno?: string; routine?: string } | null;
  const where = target ? ` (${target})` : '';
  if (err instanceof SyncConfigError || err instanceof SchemaTooNewError || err instanceof SchemaMissingError)
    return (err as Error).message;
  const code = e?.code ?? '';
  const msg = oneLine(e?.message ?? String(err));
  switch (code) {
    case 'ECONNREFUSED':
      return `the PostgreSQL server${where} refused the connection: is it running and listening on that host and port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the PostgreSQL host${where} cannot be found: check the host name in the connection string`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `the PostgreSQL server${where} cannot be reached (${code}): check the network, VPN or firewall`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection to the PostgreSQL server${where} was cut (${code}): will retry`;
    case '28P01':
      return `PostgreSQL rejected the password${where}: check the user and password (PGPASSWORD, ~/.pgpass or the stored password)`;
    case '28000':
      return `PostgreSQL refused this user${where} (${msg}): check pg_hba.conf and the user name`;
    case '3D000':
      return `the database${where} does not exist: create it (createdb) or fix the database name`;
    case '53100':
      return `the PostgreSQL server's disk is full${where}: free space on the server; nothing was lost here, the push will be retried`;
    case '53200':
    case '53300':
      return `the PostgreSQL server is out of resources${where} (${msg}): will retry`;
    case '42501':
      return `this PostgreSQL role may not write${where} (${msg}): it can read totals; pushing needs a role with INSERT/UPDATE/DELETE (and CREATE for the first push)`;
    case '57014':
      return `a statement took too long on the PostgreSQL server${where} and was cancelled: will retry`;
    case '57P01':
    case '57P02':
    case '57P03':
      return `the PostgreSQL server${where} is shutting down or starting: will retry`;
    case '25006':
      return `the PostgreSQL server${where} is read-only (a standby?): point sync at the primary to push`;
    default:
      break;
  }
  if (/timeout|timed out/i.test(msg))
    return `the PostgreSQL server${where} did not answer in time: check the host, port and firewall`;
  if (/terminated unexpectedly|Connection terminated|ended unexpectedly|not queryable|connection error/i.test(msg))
    return `the connection to the PostgreSQL server${where} was cut: will retry`;
  if (/ssl|tls|certificate|self[- ]signed/i.test(`${msg} ${code}`))
    return `TLS to the PostgreSQL server${where} failed (${msg}): check sslmode and the server's certificate`;
  if (/password authentication|SASL|SCRAM|no password/i.test(msg))
    return `PostgreSQL wants a password${where}: set it in the connection string, PGPASSWORD or ~/.pgpass`;
  return `PostgreSQL sync failed${where}: ${msg}${code ? ` (${code})` : ''}`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}
