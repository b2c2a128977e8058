import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Indexer, type Logger } from '../core/ingest/indexer';
import { claimPrivateDir, mkdirPrivate } from '../core/privateFs';
import { ADAPTERS } from '../core/sources/registry';
import { WriterLease } from '../core/store/lease';
import type { ForeignFiles } from '../core/store/db';
import { Store } from '../core/store/store';
import { UsageError, defaultStore } from './args';
import {
  type SavedSessions,
  type Verdict,
  debugPath,
  encodeManifest,
  manifestFile,
  manifestHolds,
  stampOf,
} from './manifest';
import { ScanRecorder, writeAtomically } from './manifestWrite';
import { ProgressLine } from './progress';

/**
 * The store a command answers from, brought up to date with the transcripts: scanned (only what
 * changed is read) and persisted when this process is the store's writer, or, when the scan
 * manifest says a scan would change nothing, loaded as it is.
 */
export interface Indexed {
  store: Store;
  /**
   * Writes the scan manifest with the `sessions --json` answer (or adds the answer to the manifest
   * that held); does nothing when this run may not vouch for the store file (it was not its writer).
   */
  saveManifest(sessions: SavedSessions): Promise<void>;
}

/** Whether the scan manifest holds, asked once per run (the thin entry may have asked already). */
let verdict: Promise<Verdict> | null = null;

export function freshness(storePath: string, spool: string | null, known?: Verdict): Promise<Verdict> {
  verdict ??= known ? Promise.resolve(known) : manifestHolds(storePath, spool, ADAPTERS);
  return verdict;
}

export interface OpenOptions {
  /** The caller lists the sessions and saves the manifest with them (saveManifest); otherwise it is saved here, without an answer. */
  withSessions?: boolean;
  /** A file at the store path that is not a usable store: moved aside, or refused (a path a person gave: --store). */
  foreign?: ForeignFiles;
}

export async function openIndexed(
  storePath: string,
  spoolDir: string | null,
  log: Logger,
  { withSessions = false, foreign = 'move-aside' }: OpenOptions = {},
): Promise<Indexed> {
  const recorder = new ScanRecorder(ADAPTERS, spoolDir);
  for (const adapter of ADAPTERS) {
    for (const root of adapter.roots(recorder.sourceEnv)) {
      try {
        await fsp.readdir(root);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR')
          throw new UsageError(`cannot read ${adapter.displayName} folder ${root}: ${code}`);
      }
    }
  }
  const fresh = await freshness(storePath, spoolDir);
  if (fresh.holds) {
    debugPath('nothing changed since the scan manifest: the store is used without a scan');
    const store = await Store.open(storePath, { foreign });
    const { manifest } = fresh;
    return {
      store,
      saveManifest: async (sessions) => {
        // Still the store the manifest describes (no writer saved it since): the answer joins it.
        if (manifest.sessions || JSON.stringify(stampOf(storePath)) !== JSON.stringify(manifest.store)) return;
        const { answer: _none, sessions: _noAnswer, ...facts } = manifest;
        await writeAtomically(manifestFile(storePath), encodeManifest(facts, sessions));
      },
    };
  }
  debugPath(`scanning (${fresh.reason})`);
  prepareStoreFolder(storePath);
  const store = await Store.open(storePath, { foreign });
  const lease = new WriterLease(`${storePath}.lock`);
  const writer = await lease.tryAcquire();
  let saveManifest: Indexed['saveManifest'] = async () => undefined;
  const progress = new ProgressLine(process.stderr);
  try {
    recorder.beforeScan();
    const stats = await new Indexer(store, ADAPTERS, recorder.sourceEnv, log, { answersQueries: false })
      .scanAll({ ...recorder.observer, progress: (p) => progress.update(p) })
      .finally(() => progress.end());
    // Another process (a VS Code window) writes this store: index in memory, leave the file to it.
    if (writer) {
      await store.persist();
      // Saved under the lease: the store file is still the one just persisted.
      const save = await recorder.prepare(storePath, store, stats);
      if (save && withSessions) saveManifest = save;
      else await save?.(null);
    }
  } finally {
    await lease.release();
  }
  return { store, saveManifest };
}

/**
 * The store's folder, private: the default one (`~/.cache/agent-handler`) is ours, so it and its
 * files are tightened when an older version left them wider; a folder given with `--store` may be
 * anyone's, so only what is created for it is private (Store.open tightens the store's own files).
 */
function prepareStoreFolder(storePath: string): void {
  if (path.resolve(storePath) === path.resolve(defaultStore())) claimPrivateDir(path.dirname(storePath));
  else mkdirPrivate(path.dirname(storePath));
}
