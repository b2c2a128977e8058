import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/**
 * Reads the complete lines a file gained since a byte offset. A last line without its newline is
 * left for the next read (the agent is still writing it). Reading goes in chunks, so a file of any
 * size, or a line of many megabytes, never becomes one string larger than that line.
 */

const CHUNK = 1024 * 1024;
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
  if (len === 0) return '';
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, 0);
    return createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex');
  } finally {
    await fh.close();
  }
}

export async function detectChange(path: string, cursor: FileCursor | null): Promise<FileChange> {
  let st;
  try {
    st = await fsp.stat(path, { bigint: false });
  } catch {
    return { kind: 'gone' };
  }
  if (!st.isFile()) return { kind: 'gone' };
  const ino = String(st.ino);
  const base = { size: st.size, mtime_ms: st.mtimeMs, ino };
  if (!cursor) return { kind: 'append', ...base };
  if (cursor.size === st.size && cursor.mtime_ms === st.mtimeMs && cursor.ino === ino) return { kind: 'unchanged' };
  if (cursor.ino !== null && cursor.ino !== ino) return { kind: 'reset', ...base, reason: 'replaced (new inode)' };
  if (st.size < cursor.offset) return { kind: 'reset', ...base, reason: 'truncated' };
  if (cursor.fingerprint_len > 0) {
    const fp = await fingerprint(path, cursor.fingerprint_len).catch(() => null);
    if (fp !== cursor.fingerprint) return { kind: 'reset', ...base, reason: 'rewritten (first bytes changed)' };
  }
  if (st.size === cursor.offset) return { kind: 'stat-only', ...base };
  return { kind: 'append', ...base };
}

/**
 * Calls `onLine` for every complete line between `start` and the file's end; returns the offset
 * just past the last complete line (where the next read starts).
 */
export async function readCompleteLines(
  path: string,
  start: number,
  onLine: (line: Buffer, endOffset: number) => void,
): Promise<{ offset: number; bytes: number }> {
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let pos = start;
    let lineStart = start;
    let pending: Buffer[] = [];
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
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
    await fh.close();
  }
}
