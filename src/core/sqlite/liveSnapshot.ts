import { promises as fsp } from 'node:fs';
import type { Database } from 'sql.js';
import { loadSqlJs } from '../store/sqlite';

/**
 * A consistent, read-only snapshot of another program's live SQLite database (OpenCode's
 * `opencode.db`, Cursor's `store.db`), made WITHOUT opening the file with SQLite and without ever
 * writing to it: Node 20 has no `node:sqlite`, and sql.js only opens bytes in memory.
 *
 * A database in WAL mode keeps its latest transactions in `<db>-wal` until a checkpoint copies them
 * into the main file. So the snapshot is the main file's bytes with every WAL frame up to the LAST
 * VALID COMMIT applied on top (what a new SQLite reader would see), following the file format
 * (https://www.sqlite.org/fileformat2.html §4 "The Write-Ahead Log"):
 *
 * - WAL header, 32 bytes, big-endian: magic 0x377f0682 (checksum words little-endian) or 0x377f0683
 *   (big-endian), format version 3007000, page size, checkpoint sequence, salt-1, salt-2, and a
 *   checksum of the first 24 bytes;
 * - then frames: a 24-byte header (page number; the database size in pages for a commit frame, else
 *   0; salt-1; salt-2; checksum-1; checksum-2) and one page. A frame is valid when its salts equal the
 *   header's and its checksum, cumulative from the header's over each frame's first 8 header bytes and
 *   its page, matches. The first invalid frame ends the log (a torn write, or frames of an older
 *   generation left after the log was restarted with new salts); frames after the last commit frame
 *   belong to a transaction still being written and are left out.
 *
 * The `-shm` index is not read (it only caches what the frames say). The copy's header is switched
 * to the rollback journal (bytes 18-19 = 1) so SQLite in wasm never looks for a WAL of its own.
 *
 * Order of reads: the WAL's header, the database, then the whole WAL, then its header again. The
 * only thing that changes the main file in WAL mode is a checkpoint, which copies committed WAL
 * frames into it, and frames are only ever appended to a WAL until it restarts (a new header with
 * new salts, after a complete checkpoint). So when the header is the same before the database is
 * read and after the WAL is, every page a checkpoint may have written into the main file while it
 * was being read is also in the frames applied afterwards, in the same or a later version: the
 * image is exactly the WAL's last commit, even if the main file was read half old, half new. Read
 * in the other order (the WAL first), a checkpoint during the database read could copy frames
 * appended after the WAL was read, leaving pages of a later transaction in an older image; only the
 * main file's mtime would tell, and it moves in coarse clock ticks (two writes within one tick look
 * like one). A header that changed means a restart in between: the files are read again. (The
 * concurrent-writer test in test/unit/sqlite-snapshot.test.ts checks that every snapshot returned
 * while a writer commits and checkpoints thousands of times a second is a committed state.)
 * `withLiveSnapshot` runs `PRAGMA quick_check` (see SnapshotOptions) and the caller's queries, and
 * makes one more snapshot if either fails.
 */

export const WAL_MAGIC_LE = 0x377f0682;
export const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const WAL_VERSION = 3007000;

/** What the WAL contributed to a snapshot. */
export interface WalInfo {
  /** Bytes of the -wal file read (0 when there is none). */
  wal_bytes: number;
  /** Frames whose salts and checksums are good, in order from the start. */
  frames_valid: number;
  /** Frames applied: the valid ones up to and including the last commit frame. */
  frames_applied: number;
  /** Commit frames among the applied ones (transactions). */
  commits: number;
  /** Pages of the resulting image. */
  db_pages: number;
  page_size: number;
  /** Why a present, non-empty WAL was not used at all (bad magic, header checksum, page size), else null. */
  ignored: string | null;
}

export interface DbImage {
  image: Uint8Array;
  info: WalInfo;
}

function u32be(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/**
 * SQLite's WAL checksum over `len` bytes (a multiple of 8) from `off`, continuing from (s0, s1):
 * for each pair of 32-bit words x0, x1 (in the byte order the magic says),
 * s0 += x0 + s1; s1 += x1 + s0 (mod 2^32).
 */
export function walChecksum(
  b: Uint8Array,
  off: number,
  len: number,
  bigEndian: boolean,
  s0: number,
  s1: number,
): [number, number] {
  const view = new DataView(b.buffer, b.byteOffset + off, len);
  const little = !bigEndian;
  for (let i = 0; i < len; i += 8) {
    s0 = (s0 + view.getUint32(i, little) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, little) + s0) >>> 0;
  }
  return [s0, s1];
}

/** The page size a database header records (offset 16, big-endian; 1 means 65536), or null. */
export function dbPageSize(db: Uint8Array): number | null {
  if (db.length < 100) return null;
  const raw = (db[16] << 8) | db[17];
  const size = raw === 1 ? 65536 : raw;
  return isPageSize(size) ? size : null;
}

function isPageSize(n: number): boolean {
  return n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
}

/**
 * Pure: the database image a new reader would see, from the main file's bytes and the WAL's bytes
 * (null or empty when there is none). Never modifies its inputs, unless `ownsDb` says the caller
 * hands the database bytes over (then they may be patched and returned as the image: no copy).
 */
export function applyWal(db: Uint8Array, wal: Uint8Array | null, ownsDb = false): DbImage {
  const info: WalInfo = {
    wal_bytes: wal?.length ?? 0,
    frames_valid: 0,
    frames_applied: 0,
    commits: 0,
    db_pages: 0,
    page_size: dbPageSize(db) ?? 0,
    ignored: null,
  };
  const done = (image: Uint8Array): DbImage => {
    const out = image === db && !ownsDb ? new Uint8Array(db) : image;
    toRollbackHeader(out);
    info.db_pages = info.page_size ? Math.floor(out.length / info.page_size) : 0;
    return { image: out, info };
  };
  if (!wal || wal.length === 0) return done(db);
  if (wal.length < WAL_HEADER) {
    info.ignored = 'WAL shorter than its header';
    return done(db);
  }
  const magic = u32be(wal, 0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) {
    info.ignored = 'not a WAL (bad magic)';
    return done(db);
  }
  const bigEndian = magic === WAL_MAGIC_BE;
  if (u32be(wal, 4) !== WAL_VERSION) {
    info.ignored = `unknown WAL format version ${u32be(wal, 4)}`;
    return done(db);
  }
  const pageSize = u32be(wal, 8);
  if (!isPageSize(pageSize)) {
    info.ignored = `bad WAL page size ${pageSize}`;
    return done(db);
  }
  const [h0, h1] = walChecksum(wal, 0, 24, bigEndian, 0, 0);
  if (h0 !== u32be(wal, 24) || h1 !== u32be(wal, 28)) {
    info.ignored = 'WAL header checksum mismatch';
    return done(db);
  }
  const mainPageSize = dbPageSize(db);
  if (mainPageSize !== null && mainPageSize !== pageSize) {
    info.ignored = `WAL page size ${pageSize} differs from the database's ${mainPageSize}`;
    return done(db);
  }
  info.page_size = pageSize;
  const salt1 = u32be(wal, 16);
  const salt2 = u32be(wal, 20);

  // Latest frame offset per page: of committed transactions, and of the one being written.
  const committed = new Map<number, number>();
  const pending = new Map<number, number>();
  let commitPages = 0;
  let s0 = h0;
  let s1 = h1;
  const frameSize = FRAME_HEADER + pageSize;
  for (let off = WAL_HEADER; off + frameSize <= wal.length; off += frameSize) {
    const pgno = u32be(wal, off);
    const dbSize = u32be(wal, off + 4);
    if (pgno === 0 || u32be(wal, off + 8) !== salt1 || u32be(wal, off + 12) !== salt2) break;
    let c = walChecksum(wal, off, 8, bigEndian, s0, s1);
    c = walChecksum(wal, off + FRAME_HEADER, pageSize, bigEndian, c[0], c[1]);
    if (c[0] !== u32be(wal, off + 16) || c[1] !== u32be(wal, off + 20)) break;
    s0 = c[0];
    s1 = c[1];
    info.frames_valid++;
    pending.set(pgno, off + FRAME_HEADER);
    if (dbSize !== 0) {
      for (const [p, o] of pending) committed.set(p, o);
      pending.clear();
      commitPages = dbSize;
      info.commits++;
      info.frames_applied = info.frames_valid;
    }
  }
  if (info.commits === 0) return done(db);

  // The committed database size wins: a transaction may have grown or shrunk the file.
  const image = new Uint8Array(commitPages * pageSize);
  image.set(db.subarray(0, Math.min(db.length, image.length)));
  for (const [pgno, dataOff] of committed) {
    if (pgno > commitPages) continue;
    image.set(wal.subarray(dataOff, dataOff + pageSize), (pgno - 1) * pageSize);
  }
  return done(image);
}

/** Marks a WAL-mode database image as a rollback-journal one (header bytes 18-19 from 2 to 1). */
function toRollbackHeader(image: Uint8Array): void {
  if (image.length >= 100 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
}

async function readOrNull(p: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A stat that changes when a file is written: size, mtime (ns), inode. '' when absent. */
async function fileStamp(p: string): Promise<string> {
  try {
    const st = await fsp.stat(p, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ino}`;
  } catch {
    return '';
  }
}

/** A database image and whether the files were seen unchanged around the reads (see readLiveImage). */
export interface LiveImage extends DbImage {
  stable: boolean;
}

/** How many times the files are read while checkpoints keep changing them, and the pause between. */
const READ_ATTEMPTS = 6;
const RETRY_PAUSE_MS = 15;

/**
 * Reads the WAL's header, the database, the whole WAL, and the WAL's header again (see the order at
 * the top), and applies the WAL. `stable` (the image is a committed state) when the three headers
 * are the same (no restart: every frame a checkpoint may have copied into the main file while it
 * was read is in the WAL read after it) and the main file's size, mtime and inode did not move;
 * otherwise the files are read again (up to 6 times, pausing a little longer each time). Throws when the database file cannot be read
 * (ENOENT included).
 */
export async function readLiveImage(dbPath: string): Promise<LiveImage> {
  const walPath = `${dbPath}-wal`;
  for (let attempt = 1; ; attempt++) {
    const headerBefore = await walHeader(walPath);
    const stampBefore = await fileStamp(dbPath);
    const db = await fsp.readFile(dbPath);
    const wal = await readOrNull(walPath);
    const headerRead =
      wal && wal.length >= WAL_HEADER ? Buffer.from(wal.buffer, wal.byteOffset, WAL_HEADER).toString('hex') : '';
    const headerAfter = await walHeader(walPath);
    const stable =
      headerBefore === headerRead && headerRead === headerAfter && stampBefore === (await fileStamp(dbPath));
    if (stable || attempt >= READ_ATTEMPTS) return { ...applyWal(db, wal, true), stable };
    // A checkpoint and a WAL restart just happened: the writer is busy; let it get ahead.
    await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS * attempt));
  }
}

/** The WAL's 32-byte header in hex, or '' when the file is absent or shorter. */
async function walHeader(walPath: string): Promise<string> {
  let fh;
  try {
    fh = await fsp.open(walPath, 'r');
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(WAL_HEADER);
    const { bytesRead } = await fh.read(buf, 0, WAL_HEADER, 0);
    return bytesRead === WAL_HEADER ? buf.toString('hex') : '';
  } finally {
    await fh.close();
  }
}

/** An open in-memory snapshot; `close()` frees it (sql.js keeps the bytes until then). */
export interface LiveSnapshot {
  db: Database;
  info: WalInfo;
  /** The files were unchanged around the read (see readLiveImage). */
  stable: boolean;
  close(): void;
}

/** Opens a snapshot of a live database in memory (no integrity check; see withLiveSnapshot). */
export async function openLiveSnapshot(dbPath: string): Promise<LiveSnapshot> {
  const SQL = await loadSqlJs();
  const { image, info, stable } = await readLiveImage(dbPath);
  const db = new SQL.Database(image);
  try {
    // Belt and braces: the bytes are our own copy, but nothing here should ever write.
    db.run('PRAGMA query_only = 1');
  } catch (err) {
    db.close();
    throw err;
  }
  return { db, info, stable, close: () => db.close() };
}

export interface SnapshotOptions {
  /**
   * When to run `PRAGMA quick_check` before the caller's queries: `always`, `never`, or `auto`
   * (default): when the database is at most QUICK_CHECK_AUTO_BYTES, or when the files kept changing
   * during every read attempt (a file seen unchanged around the read cannot be torn by a
   * checkpoint). Measured on a 428 MB OpenCode-shaped database: a whole read (files, sql.js, every
   * row) takes 2-5 s, the check 0.3-2 s more.
   */
  quickCheck?: 'always' | 'never' | 'auto';
}

/** Below this size `auto` always runs quick_check (a few tens of milliseconds). */
export const QUICK_CHECK_AUTO_BYTES = 32 * 1024 * 1024;

/**
 * Runs `read` over a snapshot of a live database, and closes it. When the snapshot fails
 * `PRAGMA quick_check` (see SnapshotOptions) or `read` throws, a second snapshot is made and read
 * (the files may have changed between the reads); a second failure is thrown to the caller.
 */
export async function withLiveSnapshot<T>(
  dbPath: string,
  read: (db: Database, info: WalInfo) => T | Promise<T>,
  opts: SnapshotOptions = {},
): Promise<T> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    let snap: LiveSnapshot | null = null;
    try {
      snap = await openLiveSnapshot(dbPath);
      const mode = opts.quickCheck ?? 'auto';
      const check =
        mode === 'always' ||
        (mode === 'auto' && (!snap.stable || snap.info.db_pages * snap.info.page_size <= QUICK_CHECK_AUTO_BYTES));
      if (check) {
        const res = snap.db.exec('PRAGMA quick_check');
        const first = res[0]?.values[0]?.[0];
        if (first !== 'ok') throw new Error(`quick_check: ${String(first ?? 'no answer').slice(0, 200)}`);
      }
      return await read(snap.db, snap.info);
    } catch (err) {
      lastError = err;
      // ENOENT: the database is gone; another read will not bring it back.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
    } finally {
      snap?.close();
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/**
 * A size and mtime that change whenever the database or its WAL does (for an adapter's
 * `signature()`), with any extra side files (e.g. Cursor's meta.json) folded in. Null when the
 * database file itself is missing.
 */
export async function liveSignature(
  dbPath: string,
  extraFiles: string[] = [],
): Promise<{ size: number; mtime_ms: number } | null> {
  let st;
  try {
    st = await fsp.stat(dbPath);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  let size = st.size;
  let mtime = st.mtimeMs;
  for (const p of [`${dbPath}-wal`, ...extraFiles]) {
    try {
      const s = await fsp.stat(p);
      size += s.size;
      mtime = Math.max(mtime, s.mtimeMs);
    } catch {
      // not there: nothing to add
    }
  }
  return { size, mtime_ms: mtime };
}
