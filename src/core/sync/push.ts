import { existsSync } from 'node:fs';
import type * as Pg from 'pg';
import { defaultBranch as gitDefaultBranch } from '../git/pr';
import type { SessionView } from '../store/queries';
import { listSessions } from '../store/queries';
import { heads, lookups, prForBranch, sightings } from '../store/pullRequests';
import { PRICE_RULE_OF_U, ofSessionFiles } from '../store/schema';
import { all } from '../store/sqlite';
import type { Store } from '../store/store';
import { acknowledge, claimBatch, markAll, pendingCount } from './changes';
import { repoKey } from './repoKey';
import type { SyncInclude } from './types';

/**
 * Pushes this machine's changed sessions and their counted requests to the shared database
 * (docs/sync.md, "What is pushed when"). A batch of marked sessions (changes.ts) goes in ONE
 * transaction: their session rows and every counted request upserted by primary key, and this
 * machine's server rows of those sessions that no longer count locally deleted. Only after the
 * COMMIT are the marks cleared, so a crash, a kill -9 or a cut connection at any point leaves
 * marks that the next push sends again, and the upserts make sending twice the same as once.
 *
 * Every value travels as a query parameter (JSON decoded by json_populate_recordset on the server):
 * no SQL is ever built from a value.
 */

export interface PushOptions {
  machineId: string;
  machineName: string;
  include: SyncInclude[];
  /** Sessions per transaction (a week offline is many batches, each committed on its own). */
  batchSize?: number;
  /** Agent Handler's version, recorded on the machine's row. */
  version?: string;
  /** A repository's default branch (a review on it does not make a PR its head's); default: git. */
  defaultBranch?: (gitDir: string, toplevel: string | null) => Promise<string | null>;
  /** After each committed batch: how many sessions it held and how many are still pending. */
  onBatch?: (pushed: number, pending: number) => void;
}

export interface PushResult {
  sessions: number;
  requests: number;
  /** Sessions gone from the local index whose server rows were deleted. */
  removed: number;
  batches: number;
  /** Sessions still marked afterwards (changed while the push ran). */
  pending: number;
}

export const DEFAULT_BATCH_SIZE = 50;

/** What cwd_info says of a working directory, by cwd. */
interface CwdRepo {
  cwd: string;
  git_dir: string | null;
  toplevel: string | null;
  github_repo: string | null;
  remote: string | null;
}

interface RequestRow {
  request_key: string;
  session_id: string;
  framework: string;
  ts: string | null;
  model: string | null;
  branch: string | null;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  cost_usd: number | null;
  priced: number;
  price_source: string | null;
  request_count: number;
  cwd: string | null;
}

/** The server's upsert of rows given as a JSON array, every column but the key updated. */
function upsertSql(table: string, key: string[], columns: string[]): string {
  const set = columns.filter((c) => !key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
  return `INSERT INTO ${table} (${columns.join(', ')})
    SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${table}, $1::json)
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${set.join(', ')}`;
}

const SESSION_COLUMNS = [
  'machine_id',
  'session_id',
  'parent_session_id',
  'framework',
  'first_started_at',
  'last_started_at',
  'first_ended_at',
  'last_ended_at',
  'last_activity',
  'revival_count',
  'status',
  'status_updated_at',
  'repo',
  'git_branch',
  'github_issue',
  'github_pr',
  'git_additions',
  'git_deletions',
  'model',
  'compaction_count',
  'message_count',
  'tool_call_count',
  'api_request_count',
  'api_error_count',
  'tokens_input',
  'tokens_output',
  'tokens_cache_read',
  'tokens_cache_write',
  'cost_usd',
  'unpriced_requests',
  'context',
  'n_hook_events',
  'n_otel_events',
  'transcript_available',
  'title',
  'first_user_message',
  'last_user_message',
  'updated_at',
] as const;

const REQUEST_COLUMNS = [
  'machine_id',
  'request_key',
  'session_id',
  'framework',
  'ts',
  'model',
  'repo',
  'branch',
  'pr',
  'input',
  'output',
  'cache_read',
  'cache_write',
  'cost_usd',
  'priced',
  'price_source',
  'request_count',
] as const;

const UPSERT_SESSIONS = upsertSql('sessions', ['machine_id', 'session_id'], [...SESSION_COLUMNS]);
const UPSERT_REQUESTS = upsertSql('requests', ['machine_id', 'request_key'], [...REQUEST_COLUMNS]);

/**
 * Pushes every marked session, a batch per transaction, until none is left (or only sessions
 * re-marked during this push, which the next push takes). Throws on the first failure, having
 * committed the batches before it.
 */
export async function push(client: Pg.ClientBase, store: Store, options: PushOptions): Promise<PushResult> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const known = await client.query('SELECT 1 FROM machines WHERE machine_id = $1', [options.machineId]);
  // A server that does not know this machine (a new database, or one restored from an older backup)
  // gets everything again.
  if (!known.rowCount) markAll(store);
  const result: PushResult = { sessions: 0, requests: 0, removed: 0, batches: 0, pending: 0 };
  const context = new PushContext(store, options);
  const pushedBefore = new Set<string>();
  for (;;) {
    const ids = context.ownWrite(() => claimBatch(store, batchSize, pushedBefore));
    if (!ids.length) break;
    const batch = await context.build(ids);
    await inTransaction(client, async () => {
      await client.query(
        'DELETE FROM requests WHERE machine_id = $1 AND session_id = ANY($2::text[]) AND NOT (request_key = ANY($3::text[]))',
        [options.machineId, ids, batch.requests.map((r) => r.request_key)],
      );
      if (batch.removed.length) {
        await client.query('DELETE FROM sessions WHERE machine_id = $1 AND session_id = ANY($2::text[])', [
          options.machineId,
          batch.removed,
        ]);
      }
      if (batch.sessions.length) await client.query(UPSERT_SESSIONS, [toJson(batch.sessions)]);
      if (batch.requests.length) await client.query(UPSERT_REQUESTS, [toJson(batch.requests)]);
      await upsertMachine(client, options);
    });
    context.ownWrite(() => acknowledge(store, ids));
    // A session re-marked while its batch was in flight waits for the next push (no endless loop
    // on a session an agent is writing to right now).
    for (const id of ids) pushedBefore.add(id);
    result.sessions += batch.sessions.length;
    result.requests += batch.requests.length;
    result.removed += batch.removed.length;
    result.batches++;
    options.onBatch?.(ids.length, pendingCount(store));
  }
  if (result.batches || !known.rowCount) {
    const prs = await context.pullRequests();
    await inTransaction(client, async () => {
      await client.query('DELETE FROM pull_requests WHERE machine_id = $1', [options.machineId]);
      if (prs.length)
        await client.query(
          `INSERT INTO pull_requests (machine_id, repo, number, head_branch, url)
           SELECT machine_id, repo, number, head_branch, url FROM json_populate_recordset(NULL::pull_requests, $1::json)
           ON CONFLICT (machine_id, repo, number) DO UPDATE SET head_branch = EXCLUDED.head_branch, url = EXCLUDED.url`,
          [JSON.stringify(prs)],
        );
      await upsertMachine(client, options);
    });
  }
  result.pending = pendingCount(store);
  return result;
}

async function upsertMachine(client: Pg.ClientBase, options: PushOptions): Promise<void> {
  await client.query(
    `INSERT INTO machines (machine_id, machine_name, last_push_at, agent_handler_version) VALUES ($1, $2, now(), $3)
     ON CONFLICT (machine_id) DO UPDATE SET machine_name = EXCLUDED.machine_name, last_push_at = EXCLUDED.last_push_at,
       agent_handler_version = EXCLUDED.agent_handler_version`,
    [options.machineId, options.machineName, options.version ?? null],
  );
}

/**
 * Rows as the JSON parameter the server decodes. A value the server would refuse must not block
 * every later push: NUL characters (PostgreSQL text cannot hold them) are dropped, and a time that
 * is not a time becomes null (timeOrNull).
 */
function toJson(rows: Record<string, unknown>[]): string {
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\0', '') : v));
}

/** An ISO time the server can read, or null (a transcript's odd timestamp never fails a push). */
function timeOrNull(t: string | null | undefined): string | null {
  return t && Number.isFinite(Date.parse(t)) ? t : null;
}

/** An integer column's value: a finite number rounded, else null. */
function intOrNull(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? Math.round(n) : null;
}

/** Runs `fn` in a transaction: COMMIT when it returns, ROLLBACK when it throws. */
export async function inTransaction<T>(client: Pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const out = await fn();
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * What a push reads of the local store once (the session list, the repositories of working
 * directories, PR heads per branch) and the rows of a batch made from it.
 */
class PushContext {
  private views: Map<string, SessionView> | null = null;
  private cwds: Map<string, CwdRepo> | null = null;
  private readonly defaults = new Map<string, Promise<string | null>>();
  private readonly branchPr = new Map<string, number | null>();

  constructor(
    private readonly store: Store,
    private readonly options: PushOptions,
  ) {}

  /**
   * The store's generation what was read last reflects: the session list and the working
   * directories are read once per push, and again only when something else wrote the store
   * between two batches (the extension's worker indexes while a push waits for the server).
   */
  private readAt = -1;

  /** Runs one of the push's own writes (claiming, acknowledging): it does not make what was read stale. */
  ownWrite<T>(fn: () => T): T {
    const current = this.store.generation === this.readAt;
    const out = fn();
    if (current) this.readAt = this.store.generation;
    return out;
  }

  private fresh(): void {
    if (this.store.generation === this.readAt) return;
    this.views = null;
    this.cwds = null;
    this.branchPr.clear();
    this.readAt = this.store.generation;
  }

  private sessionViews(): Map<string, SessionView> {
    this.fresh();
    this.views ??= new Map(listSessions(this.store).map((v) => [v.session_id, v]));
    return this.views;
  }

  private cwdRepos(): Map<string, CwdRepo> {
    this.fresh();
    this.cwds ??= new Map(
      all<CwdRepo>(this.store.db, 'SELECT cwd, git_dir, toplevel, github_repo, remote FROM cwd_info').map((c) => [
        c.cwd,
        c,
      ]),
    );
    return this.cwds;
  }

  private defaultBranch(gitDir: string, toplevel: string | null): Promise<string | null> {
    let d = this.defaults.get(gitDir);
    if (!d) {
      const ask =
        this.options.defaultBranch ??
        ((_g: string, top: string | null) =>
          top && existsSync(top) ? gitDefaultBranch(top).catch(() => null) : Promise.resolve(null));
      d = ask(gitDir, toplevel);
      this.defaults.set(gitDir, d);
    }
    return d;
  }

  /** The PR a branch's requests count for by the index's sources (pullRequests.ts), memoised. */
  private async prOfBranch(c: CwdRepo, branch: string): Promise<number | null> {
    if (!c.git_dir) return null;
    const key = `${c.git_dir}\0${branch}`;
    if (!this.branchPr.has(key)) {
      const def = await this.defaultBranch(c.git_dir, c.toplevel);
      this.branchPr.set(key, prForBranch(this.store, c.git_dir, branch, def)?.number ?? null);
    }
    return this.branchPr.get(key) ?? null;
  }

  async build(ids: string[]): Promise<{
    sessions: Record<string, unknown>[];
    requests: Record<string, unknown>[];
    removed: string[];
  }> {
    const fresh = this.sessionViews();
    const cwds = this.cwdRepos();
    const include = new Set(this.options.include);
    const now = new Date().toISOString();
    const machine_id = this.options.machineId;
    const sessions: Record<string, unknown>[] = [];
    const removed: string[] = [];
    for (const id of ids) {
      const v = fresh.get(id);
      if (!v) {
        removed.push(id);
        continue;
      }
      const c = v.cwd ? cwds.get(v.cwd) : undefined;
      sessions.push({
        machine_id,
        session_id: v.session_id,
        parent_session_id: v.parent_session_id,
        framework: v.framework,
        first_started_at: timeOrNull(v.first_started_at),
        last_started_at: timeOrNull(v.last_started_at),
        first_ended_at: timeOrNull(v.first_ended_at),
        last_ended_at: timeOrNull(v.last_ended_at),
        last_activity: timeOrNull(v.last_activity),
        revival_count: v.revival_count,
        status: v.status,
        status_updated_at: timeOrNull(v.status_updated_at),
        repo: repoKey(c ?? { github_repo: v.github_repo }),
        git_branch: v.git_branch,
        github_issue: intOrNull(v.github_issue),
        github_pr: intOrNull(v.github_pr),
        git_additions: intOrNull(v.git_additions),
        git_deletions: intOrNull(v.git_deletions),
        model: v.model,
        compaction_count: v.compaction_count,
        message_count: v.message_count,
        tool_call_count: v.tool_call_count,
        api_request_count: v.api_request_count,
        api_error_count: v.api_error_count,
        tokens_input: v.tokens_input,
        tokens_output: v.tokens_output,
        tokens_cache_read: v.tokens_cache_read,
        tokens_cache_write: v.tokens_cache_write,
        cost_usd: v.cost_usd,
        unpriced_requests: v.unpriced_requests,
        context: intOrNull(v.context),
        n_hook_events: v.n_hook_events,
        n_otel_events: v.n_otel_events,
        transcript_available: v.transcript_available,
        title: include.has('titles') ? v.title : null,
        first_user_message: include.has('prompts') ? v.first_user_message : null,
        last_user_message: include.has('prompts') ? v.last_user_message : null,
        updated_at: now,
      });
    }
    const live = sessions.map((s) => s.session_id as string);
    const rows = live.length
      ? all<RequestRow>(
          this.store.db,
          `SELECT hex(u.dedup_hash) AS request_key, u.session_id AS session_id, f.framework AS framework, u.ts AS ts,
             u.model AS model, u.branch AS branch, u.input AS input, u.output AS output, u.cache_read AS cache_read,
             u.cache_write AS cache_write, u.cost_usd AS cost_usd, u.priced AS priced, ${PRICE_RULE_OF_U} AS price_source,
             u.request_count AS request_count, s.cwd AS cwd
           FROM usage u JOIN files f ON f.file_id = u.file_id LEFT JOIN sessions s ON s.session_id = u.session_id
           WHERE u.counted = 1 AND ${ofSessionFiles('u.file_id', live.length)}`,
          live,
        )
      : [];
    const recorded = this.recordedPrs(live);
    const requests: Record<string, unknown>[] = [];
    for (const r of rows) {
      const c = r.cwd ? cwds.get(r.cwd) : undefined;
      let pr: number | null = null;
      if (r.branch && c) {
        const def = c.git_dir ? await this.defaultBranch(c.git_dir, c.toplevel) : null;
        // The session's own record of a PR made while on this branch (a review from another
        // branch), else the PR whose head the branch is.
        pr = r.branch !== def ? (recorded.get(`${r.session_id}\0${r.branch}`) ?? null) : null;
        pr ??= await this.prOfBranch(c, r.branch);
      }
      requests.push({
        machine_id,
        request_key: r.request_key,
        session_id: r.session_id,
        framework: r.framework,
        ts: timeOrNull(r.ts),
        model: r.model,
        repo: repoKey(c ?? null),
        branch: r.branch,
        pr,
        input: r.input,
        output: r.output,
        cache_read: r.cache_read,
        cache_write: r.cache_write,
        cost_usd: r.cost_usd,
        priced: r.priced === 1,
        price_source: r.price_source,
        request_count: r.request_count,
      });
    }
    return { sessions, requests, removed };
  }

  /** The PRs the given sessions recorded, per (session, branch then): the latest. */
  private recordedPrs(ids: string[]): Map<string, number> {
    const out = new Map<string, number>();
    if (!ids.length) return out;
    for (const p of all<{ session_id: string; branch: string; number: number }>(
      this.store.db,
      `SELECT session_id, branch, number FROM session_prs WHERE branch IS NOT NULL AND branch <> 'HEAD'
         AND session_id IN (SELECT value FROM json_each(?)) ORDER BY ts`,
      [JSON.stringify(ids)],
    )) {
      out.set(`${p.session_id}\0${p.branch}`, p.number);
    }
    return out;
  }

  /** Every PR this machine knows, with its head branch, per shared repository name. */
  async pullRequests(): Promise<
    { machine_id: string; repo: string; number: number; head_branch: string | null; url: string | null }[]
  > {
    const byRepo = new Map<string, { git_dir: string; toplevel: string | null; key: string }>();
    for (const c of this.cwdRepos().values()) {
      const key = repoKey(c);
      if (c.git_dir && key && !byRepo.has(c.git_dir))
        byRepo.set(c.git_dir, { git_dir: c.git_dir, toplevel: c.toplevel, key });
    }
    const out = new Map<
      string,
      { machine_id: string; repo: string; number: number; head_branch: string | null; url: string | null }
    >();
    for (const r of byRepo.values()) {
      const def = await this.defaultBranch(r.git_dir, r.toplevel);
      const add = (number: number, head: string | null, url: string | null) => {
        const k = `${r.key}\0${number}`;
        if (!out.has(k) || (!out.get(k)!.head_branch && head))
          out.set(k, { machine_id: this.options.machineId, repo: r.key, number, head_branch: head, url });
      };
      for (const [number, s] of heads(sightings(this.store, r.git_dir), def)) add(number, s.branch, s.url);
      for (const l of lookups(this.store, r.git_dir)) add(l.number, l.branch, l.url);
    }
    return [...out.values()];
  }
}
