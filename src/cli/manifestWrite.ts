import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { IndexStats, ScanObserver } from '../core/ingest/indexer';
import { sessionJson } from '../core/export';
import { machineId } from '../core/machine';
import { writePrivate } from '../core/privateFs';
import { DOC_SEP } from '../core/store/files';
import { liveFactsToCheck } from '../core/store/live';
import { all } from '../core/store/sqlite';
import type { Store } from '../core/store/store';
import type { SessionClock, SessionView } from '../core/store/queries';
import type { SourceAdapter, SourceEnv } from '../core/sources/types';
import { sourceEnvFrom } from '../core/sources/registry';
import {
  MANIFEST_FORMAT,
  answerPieces,
  encodeManifest,
  type SavedSessions,
  type ScanManifest,
  type Stamp,
  codeStamp,
  manifestFile,
  stampOf,
} from './manifest';
import { jsonArrayElement } from './output';

/**
 * Gathers a scan manifest (manifest.ts) around one full scan of the CLI and writes it once the store
 * is persisted. Everything is recorded as it was *before* the scan looked at it (folder mtimes just
 * before their listing, registry files before their reading, transcripts as the store recorded them
 * before reading on), so a change made while the scan ran shows as a change next time.
 */
export class ScanRecorder {
  /** The environment the adapters are given: every variable they read is noted with its value. */
  readonly sourceEnv: SourceEnv;
  private readonly envRead = new Map<string, string | null>();
  private readonly dirs: [string, number | null][] = [];
  private readonly roots: ScanManifest['roots'] = [];
  private readonly registryFiles: [string, ...Stamp][] = [];
  readonly observer: ScanObserver = { dir: (d) => this.dirs.push([d, ctimeOf(d)]) };

  constructor(
    private readonly adapters: SourceAdapter[],
    private readonly spool: string | null,
  ) {
    const read = this.envRead;
    const env = new Proxy(process.env, {
      get(target, name) {
        const value = Reflect.get(target, name) as string | undefined;
        if (typeof name === 'string') read.set(name, value ?? null);
        return value;
      },
      has(target, name) {
        if (typeof name === 'string') read.set(name, target[name] ?? null);
        return Reflect.has(target, name);
      },
      // Whoever lists the variables depends on all of them.
      ownKeys(target) {
        for (const name of Object.keys(target)) read.set(name, target[name] ?? null);
        return Reflect.ownKeys(target);
      },
    });
    this.sourceEnv = sourceEnvFrom(env, os.homedir(), undefined, spool ?? undefined);
  }

  /** Before the scan: the roots and the live registries (the folders and files their reading will see). */
  beforeScan(): void {
    for (const adapter of this.adapters) {
      for (const given of adapter.roots(this.sourceEnv)) {
        let real: string | null = null;
        try {
          real = fs.realpathSync(given);
        } catch {
          // absent
        }
        this.roots.push([adapter.id, given, real]);
        if (!real || !adapter.liveRegistry) continue;
        for (const dir of adapter.liveDirs?.(real) ?? []) {
          this.dirs.push([dir, ctimeOf(dir)]);
          let names: string[] = [];
          try {
            names = fs.readdirSync(dir);
          } catch {
            // no registry (yet)
          }
          for (const name of names) {
            const stamp = stampOf(path.join(dir, name));
            if (stamp) this.registryFiles.push([path.join(dir, name), ...stamp]);
          }
        }
      }
    }
  }

  /**
   * Right after this process persisted the store as its writer: gathers what the store recorded of
   * each file and process, and returns the writer of the manifest (the sessions' answer is added when
   * the caller has listed them). A scan that could not read some file gives none (that file may have
   * no row to compare with) and removes an older manifest.
   */
  async prepare(
    storeFile: string,
    store: Store,
    stats: IndexStats,
  ): Promise<((sessions: SavedSessions | null) => Promise<void>) | null> {
    const target = manifestFile(storeFile);
    const storeStamp = stampOf(storeFile);
    if (stats.files_failed > 0 || !storeStamp) {
      await fs.promises.unlink(target).catch(() => undefined);
      return null;
    }
    const byId = new Map(this.adapters.map((a) => [a.id, a]));
    const files: [string, ...Stamp][] = [...this.registryFiles];
    const documents: ScanManifest['documents'] = [];
    for (const f of presentFiles(store)) {
      const adapter = byId.get(f.framework);
      if (!adapter) continue;
      if (adapter.format === 'document')
        documents.push([f.framework, f.path, f.size, f.mtime_ms, adapter.signature !== undefined]);
      else files.push([f.path, f.size, f.mtime_ms, f.ino ?? '']);
    }
    const processes: ScanManifest['processes'] = [
      ...all<{ pid: number; started_at_ms: number | null; alive: number }>(
        store.db,
        'SELECT pid, started_at_ms, alive FROM live',
      ).map((l): [number, number | null, boolean] => [l.pid, l.started_at_ms, l.alive === 1]),
      ...liveFactsToCheck(store).map((f): [number, number | null, boolean] => [
        f.pid,
        f.process_started_at_ms,
        f.alive === 1,
      ]),
    ];
    const facts: Omit<ScanManifest, 'sessions'> = {
      format: MANIFEST_FORMAT,
      code: codeStamp(),
      store: storeStamp,
      machine: machineId(),
      env: [...this.envRead],
      home: os.homedir(),
      spool: this.spool,
      roots: this.roots,
      dirs: this.dirs,
      files,
      documents,
      processes,
    };
    return (sessions) => writeAtomically(target, encodeManifest(facts, sessions));
  }
}

/** The `sessions --json` answer as the manifest keeps it: each element's text, and its clock. */
export function savedSessions(listed: { views: SessionView[]; clocks: SessionClock[] }): SavedSessions {
  function* elements(): Generator<string> {
    for (const v of listed.views) yield jsonArrayElement(sessionJson(v));
  }
  return { pieces: answerPieces(elements()), clocks: listed.clocks };
}

/** Temp file + rename, mode 0600; a manifest that cannot be written is only a shortcut lost. */
export async function writeAtomically(target: string, pieces: Uint8Array[]): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await writePrivate(tmp, pieces);
    await fs.promises.rename(tmp, target);
  } catch {
    await fs.promises.unlink(tmp).catch(() => undefined);
  }
}

/** The store's rows of files on disk (not gone, not a document's session) with what it recorded of them. */
function presentFiles(
  store: Store,
): { path: string; framework: string; size: number; mtime_ms: number; ino: string | null }[] {
  return all<{ path: string; framework: string; size: number; mtime_ms: number; ino: string | null }>(
    store.db,
    'SELECT path, framework, size, mtime_ms, ino FROM files WHERE deleted = 0',
  ).filter((f) => !f.path.includes(DOC_SEP));
}

/** A folder's ctime: it moves with its mtime (an entry added, removed, renamed) and with a chmod. */
function ctimeOf(p: string): number | null {
  return fs.statSync(p, { throwIfNoEntry: false })?.ctimeMs ?? null;
}
