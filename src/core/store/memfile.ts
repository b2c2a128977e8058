import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Database } from 'sql.js';

/**
 * The store's bytes as sql.js's in-memory file, with room to grow.
 *
 * sql.js keeps the database as one array in its in-memory file system (MEMFS), handed the Buffer
 * we give it without a copy. When SQLite writes past the array's end, MEMFS allocates a new array
 * 12.5% larger and copies the whole file into it: ~9 copies of the final size over a cold index
 * (~3 s of CPU at 1 GB of transcripts, and twice the store in memory at each step). And sql.js's
 * export() copies the whole database into a new array at every save.
 *
 * Both are avoided by giving sql.js a Buffer larger than the file (the room is allocated, never
 * written until SQLite uses it, so it costs address space, not memory: untouched pages are not
 * resident). SQLite reads
 * the database's size from its header, not the file's, and writes new pages into the room. A save
 * then writes the database straight from that Buffer, after checking it is still sql.js's file:
 * a fresh random value written to the database must be in it (once MEMFS has moved the file to a
 * larger array, which it does only when the room is used up, it never comes back); otherwise the
 * save goes through export() as before.
 */

/** Room for a new store (a cold index of ~2.5 GB of transcripts fits: ~10% of the corpus). */
export const ROOM_NEW = 256 * 2 ** 20;

/** Room for a loaded store: a quarter of its size, at least this (appends of a working day). */
export const ROOM_LOADED_MIN = 64 * 2 ** 20;

export function roomFor(size: number): number {
  return Math.max(ROOM_LOADED_MIN, Math.floor(size / 4));
}

/**
 * A zeroed Buffer of `size + room` bytes, or of `size` when that much is not available. Zeroed, so
 * no leftover process memory can reach the disk (a save writes whole pages from it); a large zeroed
 * allocation comes from the system as untouched zero pages, so the room still costs no memory.
 */
function allocate(size: number, room: number): Buffer {
  try {
    return Buffer.alloc(size + room);
  } catch {
    return Buffer.alloc(size);
  }
}

/**
 * Whether SQLite will take the database's size from its header (and so ignore the room after
 * it): the header is SQLite's, its "version-valid-for" number equals the change counter, and the
 * page count it gives covers the file exactly. A file written by SQLite 3.7.0 or later, by sql.js
 * or by a save from here, passes; any other file gets no room (it loads as before).
 */
export function headerSizeIsValid(bytes: Uint8Array, size: number): boolean {
  if (size < 100) return false;
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('latin1');
  if (magic !== 'SQLite format 3\0') return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 100);
  const raw = view.getUint16(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const changeCounter = view.getUint32(24);
  const pages = view.getUint32(28);
  const validFor = view.getUint32(92);
  return pages > 0 && changeCounter === validFor && pages * pageSize === size;
}

/**
 * Reads a store file into a Buffer with room after it (one synchronous read: the store is opened
 * in the worker thread or the CLI, never on the extension host). Returns the Buffer to give sql.js
 * (the file's bytes, plus the room when the header allows it), or null when the file is missing.
 */
export function readWithRoom(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = allocate(size, roomFor(size));
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    // Shorter than its stat (truncated meanwhile): what was read, and no room.
    if (off < size || !headerSizeIsValid(buf, size)) return buf.subarray(0, off);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** A copy of a (small) database image with room after it. */
export function withRoom(image: Uint8Array, room: number): Buffer {
  const buf = allocate(image.length, room);
  buf.set(image);
  return buf.length > image.length && headerSizeIsValid(buf, image.length) ? buf : buf.subarray(0, image.length);
}

/**
 * The database's bytes as they are in `file` (the Buffer sql.js was given), when it is still
 * sql.js's file; null when MEMFS has moved the file (the caller exports instead). Writes one meta
 * row (the check value). Call outside any transaction: committed pages are all in the file then.
 */
export function liveBytes(db: Database, file: Buffer): Buffer | null {
  const check = randomUUID();
  db.run("INSERT OR REPLACE INTO meta(key, value) VALUES ('save_check', ?)", [check]);
  const pageCount = Number(db.exec('PRAGMA page_count')[0]?.values[0]?.[0]);
  const pageSize = Number(db.exec('PRAGMA page_size')[0]?.values[0]?.[0]);
  const size = pageCount * pageSize;
  if (!(size > 0) || size > file.length) return null;
  const bytes = file.subarray(0, size);
  return bytes.indexOf(check, 0, 'latin1') === -1 ? null : bytes;
}
