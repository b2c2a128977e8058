import { promises as fsp, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** Folders never descended into while looking for transcripts. */
const SKIP_DIRS = new Set(['tool-results', 'file-history', 'node_modules', '.git']);

/** A file's size and modification time, or null when it is not a readable regular file. */
export async function statSignature(p: string): Promise<{ size: number; mtime_ms: number } | null> {
  try {
    const st = await fsp.stat(p);
    return st.isFile() ? { size: st.size, mtime_ms: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

/**
 * Every file below `dir` (not following directory symlinks, so loops cannot trap it). Folders are
 * listed synchronously, like every read of the indexer (see tailer.ts): it runs off the extension
 * host's thread, and a round trip through libuv's thread pool per folder left a CPU-bound pass idle.
 * `onDir` hears of each folder just before it is listed (the CLI's scan manifest records its ctime
 * then, so any entry added after the listing shows as a changed folder).
 */
export function* walk(dir: string, ignore: Set<string> = new Set(), onDir?: (dir: string) => void): Generator<string> {
  onDir?.(dir);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !ignore.has(p)) yield* walk(p, ignore, onDir);
    } else if (e.isFile()) {
      yield p;
    }
  }
}
