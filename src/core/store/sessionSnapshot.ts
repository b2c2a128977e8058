import { promises as fsp } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { writePrivate } from '../privateFs';
import type { SessionView } from './queries';
import { PARSER_VERSION, SCHEMA_VERSION } from './schema';

/**
 * The session list as the writer last saved it, next to the store (`<store>.sessions`). At start the
 * views show it at once, before the worker has loaded the store and listed its sessions (about a
 * second at 5,000 sessions; docs/performance.md), then replace it with the worker's own answer. It
 * is the index's view of the transcripts at its last save, exactly as stale as the store file that
 * a starting worker loads, and never used for anything but that first paint.
 *
 * Read on the extension host's thread, so it is kept in V8's serialization (JSON.parse of the same
 * list took 2.5 times longer) and in chunks of CHUNK sessions, each deserialized in a turn of the
 * event loop of its own: the whole list at once (5,000 sessions, 11 MB) held the thread ~100 ms.
 */

const FORMAT = `sessions-2/schema-${SCHEMA_VERSION}/parser-${PARSER_VERSION}`;

/** Sessions per separately deserialized chunk (~5–10 ms of the extension host's thread each). */
const CHUNK = 250;

/** How often, at most, a writer saves the list while it keeps indexing (and once more when it stops). */
export const SNAPSHOT_EVERY_MS = 60_000;

export function sessionSnapshotFile(storeFile: string): string {
  return `${storeFile}.sessions`;
}

interface Snapshot {
  format: string;
  saved_at: string;
  /** serialize() of consecutive slices of the list. */
  chunks: Uint8Array[];
}

/** Saves the list atomically (temp file + rename). */
export async function writeSessionSnapshot(
  storeFile: string,
  sessions: SessionView[],
  now = new Date(),
): Promise<void> {
  const file = sessionSnapshotFile(storeFile);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < sessions.length; i += CHUNK) chunks.push(serialize(sessions.slice(i, i + CHUNK)));
    await writePrivate(tmp, serialize({ format: FORMAT, saved_at: now.toISOString(), chunks } satisfies Snapshot));
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** The saved list, or null when there is none, it is damaged, or another version wrote it. */
export async function readSessionSnapshot(
  storeFile: string,
): Promise<{ saved_at: string; sessions: SessionView[] } | null> {
  try {
    const s = deserialize(await fsp.readFile(sessionSnapshotFile(storeFile))) as Partial<Snapshot> | null;
    if (!s || s.format !== FORMAT || !Array.isArray(s.chunks) || typeof s.saved_at !== 'string') return null;
    const sessions: SessionView[] = [];
    for (const chunk of s.chunks) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const part = deserialize(chunk) as unknown;
      if (!Array.isArray(part)) return null;
      for (const v of part) sessions.push(v as SessionView);
    }
    return { saved_at: s.saved_at, sessions };
  } catch {
    return null;
  }
}
