import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/**
 * Reads the complete lines a file gained since a byte offset. A last line without its newline is
 * left for the next read (the agent is still writing it). Reading goes in chunks, so a file of any
 * size, or a line of many megabytes, never becomes one string larger than that line.
 *
 * File access is synchronous on purpose: this runs in the indexing worker thread (or the CLI), never
 * on the extension host's thread, and a stat/open/read round trip through libuv's thread pool costs
 * about ten times the call itself, which over thousands of small files dominated a cold index.
 * Long reads still yield to the worker's event loop now and then (see YIELD_EVERY_BYTES), so queries
 * and watcher events are answered while a large file is read.
 */

const CHUNK = 1024 * 1024;
/** A long read gives the event loop a turn after this many bytes. */
const YIELD_EVERY_BYTES = 32 * CHUNK;
/** Bytes hashed to recognise a file that was replaced by another one under the same path. */
export const FINGERPRINT_BYTES = 1024;

export interface FileCursor {
  size: number;
  mtime_ms: number;
  ino: string | null;
  offset: number;
  fingerprint: string | null;
  fingerprint_len: number;
}

export type FileChange =
  | { kind: 'unchanged' }
  | { kind: 'stat-only'; size: number; mtime_ms: number; ino: string }
  | { kind: 'append'; size: number; mtime_ms: number; ino: string }
  /** Shrank, replaced (other inode or other first bytes): read again from the start. */
  | { kind: 'reset'; size: number; mtime_ms: number; ino: string; reason: string }
  | { kind: 'gone' };

export async function fingerprint(path: string, len: number): Promise<string> {
  return fingerprintSync(path, len);
}

function fingerprintSync(path: string, len: number): string {
  if (len === 0) return '';
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.alloc(len);
    const bytesRead = fs.readSync(fd, buf, 0, len, 0);
    return createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

export async function detectChange(path: string, cursor: FileCursor | null): Promise<FileChange> {
  const st = fs.statSync(path, { throwIfNoEntry: false });
  if (!st || !st.isFile()) return { kind: 'gone' };
  const ino = String(st.ino);
  const base = { size: st.size, mtime_ms: st.mtimeMs, ino };
  if (!cursor) return { kind: 'append', ...base };
  if (cursor.size === st.size && cursor.mtime_ms === st.mtimeMs && cursor.ino === ino) return { kind: 'unchanged' };
  if (cursor.ino !== null && cursor.ino !== ino) return { kind: 'reset', ...base, reason: 'replaced (new inode)' };
  if (st.size < cursor.offset) return { kind: 'reset', ...base, reason: 'truncated' };
  if (cursor.fingerprint_len > 0) {
    let fp: string | null = null;
    try {
      fp = fingerprintSync(path, cursor.fingerprint_len);
    } catch {
      fp = null;
    }
    if (fp !== cursor.fingerprint) return { kind: 'reset', ...base, reason: 'rewritten (first bytes changed)' };
  }
  if (st.size === cursor.offset) return { kind: 'stat-only', ...base };
  return { kind: 'append', ...base };
}

/**
 * Read buffers kept between reads: a fresh megabyte per file meant, over thousands of files, as
 * many page faults and as much garbage. Two, because reads may interleave (a long read yields).
 */
const spareChunks: Buffer[] = [];

/**
 * Calls `onLine` for every complete line between `start` and the file's end; returns the offset
 * just past the last complete line (where the next read starts). The line passed to `onLine` may be
 * a view of a reused buffer: it is valid during the call only.
 */
export async function readCompleteLines(
  path: string,
  start: number,
  onLine: (line: Buffer, endOffset: number) => void,
): Promise<{ offset: number; bytes: number }> {
  const fd = fs.openSync(path, 'r');
  const buf = spareChunks.pop() ?? Buffer.allocUnsafe(CHUNK);
  try {
    let pos = start;
    let lineStart = start;
    let pending: Buffer[] = [];
    let sinceYield = 0;
    for (;;) {
      const bytesRead = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      sinceYield += bytesRead;
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, from);
        if (nl === -1 || nl >= bytesRead) break;
        const piece = buf.subarray(from, nl);
        const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
        pending = [];
        const end = pos + nl + 1;
        onLine(line, end);
        lineStart = end;
        from = nl + 1;
      }
      if (from < bytesRead) pending.push(Buffer.from(buf.subarray(from, bytesRead)));
      pos += bytesRead;
    }
    return { offset: lineStart, bytes: lineStart - start };
  } finally {
    fs.closeSync(fd);
    if (spareChunks.length < 2) spareChunks.push(buf);
  }
}
