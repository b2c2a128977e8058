import * as os from 'node:os';
import type { Logger } from '../core/ingest/indexer';
import { Indexer } from '../core/ingest/indexer';
import type { RepoInfo } from '../core/git/repo';
import { MACHINE_ID_ENV, machineId, validMachineId } from '../core/machine';
import { ADAPTERS } from '../core/sources/registry';
import { WriterLease } from '../core/store/lease';
import type { Store } from '../core/store/store';
import { SyncClient } from '../core/sync/client';
import { SyncConfigError, describeTarget, parseConnection, syncErrorMessage } from '../core/sync/connection';
import { SyncLoop } from '../core/sync/loop';
import type { PushResult } from '../core/sync/push';
import { repoKey } from '../core/sync/repoKey';
import { prMarkdown, prReport } from '../core/sync/report';
import type { SharedTotals, SyncInclude, SyncSettings, SyncState } from '../core/sync/types';
import { type Args, UsageError } from './args';
import { ScanRecorder } from './manifestWrite';
import type { Output } from './output';

/**
 * The CLI's side of sync (docs/sync.md): `sync` (index, then push once or --watch), and the
 * shared totals `branch --json` / `pr --json` add with --postgres, and `pr --markdown`. A bad
 * connection string or flag is a usage error (exit 2); a server that cannot be reached or refuses
 * is one line on stderr and exit 1, never a stack trace.
 */

export const POSTGRES_ENV = 'AGENT_HANDLER_POSTGRES';
export const MACHINE_NAME_ENV = 'AGENT_HANDLER_MACHINE_NAME';

export interface SyncIo {
  stdout: Output;
  stderr: Output;
}

/** A sync failure already explained on stderr: the command exits 1. */
export class SyncFailed extends Error {}

/** The connection text from --postgres or the environment; null when neither is set. */
export function postgresOf(args: Args): string | null {
  return args.postgres ?? (process.env[POSTGRES_ENV]?.trim() || null);
}

/**
 * The settings of this run. Applies --machine-id to the process (before the store is opened, so
 * the store labels its sessions with it too). Throws UsageError on a bad URL, id or --include.
 */
export function syncSettings(args: Args, postgres: string): SyncSettings {
  try {
    parseConnection(postgres);
  } catch (err) {
    if (err instanceof SyncConfigError) throw new UsageError(err.message);
    throw err;
  }
  if (args.machineId !== null) {
    if (!validMachineId(args.machineId.trim()))
      throw new UsageError('--machine-id must be 1 to 128 printable characters without spaces');
    process.env[MACHINE_ID_ENV] = args.machineId.trim();
  }
  let id: string;
  try {
    id = machineId();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const i of args.include)
    if (i !== 'titles' && i !== 'prompts') throw new UsageError(`--include takes titles and prompts, not ${i}`);
  return {
    enabled: true,
    postgres,
    include: args.include as SyncInclude[],
    machineId: id,
    machineName: args.machineName?.trim() || process.env[MACHINE_NAME_ENV]?.trim() || os.hostname(),
  };
}

/** Explains a sync error in one line on stderr and returns the failure to throw. */
async function failed(io: SyncIo, err: unknown, target?: string): Promise<SyncFailed> {
  const line = syncErrorMessage(err, target);
  await io.stderr.write(`agent-handler: ${line}\n`);
  return new SyncFailed(line);
}

/** Persists the store when this process may (no other writer holds its lease). */
async function persistIfWriter(store: Store, storePath: string): Promise<void> {
  const lease = new WriterLease(`${storePath}.lock`);
  if (!(await lease.tryAcquire())) return;
  try {
    await store.persist();
  } finally {
    await lease.release();
  }
}

function pushLine(r: PushResult, target: string): string {
  return `pushed ${r.sessions} session${r.sessions === 1 ? '' : 's'} (${r.requests} requests${r.removed ? `, ${r.removed} removed` : ''}) to ${target}${r.pending ? `; ${r.pending} changed meanwhile, pushed next time` : ''}\n`;
}

/** Pushes the store's changes with a client of its own; throws SyncFailed (explained) on failure. */
async function pushOnce(io: SyncIo, settings: SyncSettings, store: Store, args: Args): Promise<PushResult> {
  let client: SyncClient | null = null;
  try {
    client = await SyncClient.connect(settings);
    const result = await client.push(store, { batchSize: args.batchSize ?? undefined });
    await persistIfWriter(store, args.store);
    return result;
  } catch (err) {
    // The marks a push claimed are kept with the store (its batches before the failure are acknowledged).
    await persistIfWriter(store, args.store).catch(() => undefined);
    throw await failed(io, err, client?.target ?? targetOf(settings));
  } finally {
    await client?.close();
  }
}

/** `agent-handler sync`: index, push once and exit, or keep pushing with --watch. */
export async function syncCommand(args: Args, io: SyncIo, indexed: () => Promise<Store>, log: Logger): Promise<number> {
  const postgres = postgresOf(args);
  if (!postgres) throw new UsageError(`sync needs --postgres URL (or ${POSTGRES_ENV})`);
  const settings = syncSettings(args, postgres);
  const store = await indexed();
  if (!args.watch) {
    try {
      const result = await pushOnce(io, settings, store, args);
      await io.stdout.write(pushLine(result, targetOf(settings)));
      return 0;
    } catch (err) {
      if (err instanceof SyncFailed) return 1;
      throw err;
    }
  }
  const recorder = new ScanRecorder(ADAPTERS, args.spool);
  let first = true;
  const loop = new SyncLoop({
    settings,
    store,
    keepAlive: true,
    intervalMs: (args.interval ?? 60) * 1000,
    batchSize: args.batchSize ?? undefined,
    // The first pass was indexed already; later ones read what the agents wrote since.
    prepare: async () => {
      if (first) {
        first = false;
        return;
      }
      await new Indexer(store, ADAPTERS, recorder.sourceEnv, log, { answersQueries: false }).scanAll();
    },
    afterPush: async (r) => {
      await persistIfWriter(store, args.store);
      if (r.batches) await io.stdout.write(pushLine(r, targetOf(settings)));
    },
    onState: (s: SyncState) => {
      if (s.state === 'error' && s.message)
        void io.stderr.write(
          `agent-handler: ${s.message} (retrying in ${Math.round(((s.retry_at ?? Date.now()) - Date.now()) / 1000)} s)\n`,
        );
    },
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      void loop.stop().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    loop.start();
  });
  return 0;
}

/** `user@host:port/db` of the settings (parsed already by syncSettings), for messages. */
function targetOf(settings: SyncSettings): string {
  return describeTarget(parseConnection(settings.postgres));
}

/** What `branch --json` / `pr --json` add with --postgres: every machine's part and the totals across them. */
export interface SharedFields {
  machines: SharedTotals['machines'];
  all_machines: Omit<SharedTotals, 'machines'>;
}

function sharedFields(t: SharedTotals): SharedFields {
  const { machines, ...totals } = t;
  return { machines, all_machines: totals };
}

/**
 * With --postgres: pushes this machine's rows first (so the answer includes them), then reads the
 * shared totals of `ask`. Null without --postgres. Throws SyncFailed (explained on stderr).
 */
export async function withShared<T>(
  args: Args,
  io: SyncIo,
  store: Store,
  ask: (client: SyncClient, settings: SyncSettings) => Promise<T>,
): Promise<T | null> {
  const postgres = postgresOf(args);
  if (!postgres) return null;
  const settings = syncSettings(args, postgres);
  await pushOnce(io, settings, store, args);
  let client: SyncClient | null = null;
  try {
    client = await SyncClient.connect(settings);
    return await ask(client, settings);
  } catch (err) {
    throw await failed(io, err, client?.target ?? targetOf(settings));
  } finally {
    await client?.close();
  }
}

/** The shared name of the repository at --cwd (or --repo): what the rows of every machine carry. */
export function sharedRepo(args: Args, repo: RepoInfo | null): string {
  const key = args.repo ? args.repo.trim().toLowerCase() : repoKey(repo);
  if (!key)
    throw new UsageError(
      'this repository has no remote to name it across machines: give --repo OWNER/NAME (or the remote host/path)',
    );
  return key;
}

export async function sharedBranch(args: Args, io: SyncIo, store: Store, repo: RepoInfo): Promise<SharedFields | null> {
  return withShared(args, io, store, async (c) =>
    sharedFields(await c.branchTotals(sharedRepo(args, repo), repo.branch)),
  );
}

export async function sharedPr(
  args: Args,
  io: SyncIo,
  store: Store,
  repo: RepoInfo | null,
  number: number,
  headBranch: string | null,
): Promise<SharedFields | null> {
  return withShared(args, io, store, async (c) =>
    sharedFields(await c.prTotals(sharedRepo(args, repo), number, headBranch)),
  );
}

/** `pr --number N --markdown --postgres URL`: the PR's bill across machines, for a PR comment. */
export async function prMarkdownCommand(
  args: Args,
  io: SyncIo,
  store: Store,
  repo: RepoInfo | null,
  headBranch: string | null,
): Promise<number> {
  if (args.number === null) throw new UsageError('pr --markdown needs --number N');
  if (!postgresOf(args)) throw new UsageError(`pr --markdown needs --postgres URL (or ${POSTGRES_ENV})`);
  const name = sharedRepo(args, repo);
  const number = args.number;
  try {
    const text = await withShared(args, io, store, async (c, s) =>
      prMarkdown(await prReport(c.pg, name, number, headBranch, s.machineId)),
    );
    await io.stdout.write(text ?? '');
    return 0;
  } catch (err) {
    if (err instanceof SyncFailed) return 1;
    throw err;
  }
}
