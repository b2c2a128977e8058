import { closeSync, fsyncSync, promises as fsp, writeSync } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import { mkdirPrivate, openPrivateSync, tightenIfOurs, tightenWithCompanions } from '../privateFs';
import { liveBytes, readWithRoom, ROOM_NEW, withRoom } from './memfile';
import { type Params, all, loadSqlJs, readRows, run } from './sqlite';

/**
 * The store's database as sql.js holds it, with sql.js's traps handled in this one place: its
 * statements are prepared once and reused, but export() frees them all and resets the pragmas; a
 * transaction must never be open when it exports; the file it is given is a Buffer with room to
 * grow (memfile.ts). What the tables mean is the other modules' business.
 */

export type OpenOutcome = 'created' | 'loaded' | 'rebuilt-version' | 'rebuilt-corrupt';

/**
 * The database lives in wasm memory and reaches the disk only through persist(): a rollback journal
 * on sql.js's in-memory file system would only copy pages for nothing. export() resets pragmas, so
 * persist() sets them again.
 */
export const SESSION_PRAGMAS = 'PRAGMA journal_mode = MEMORY; PRAGMA temp_store = MEMORY';

/** Search texts longer than this many characters are stored deflated. */
const DEFLATE_FROM = 160;

/**
 * SQL functions the schema needs: the search texts' compression (FTS4 calls them on every write and
 * on every read of a text). Registered before anything touches the tables, on every open.
 */
export function registerFunctions(db: Database): void {
  // Short texts (most titles and prompts) stay text: deflating them saves little and costs a call.
  db.create_function(
    'ah_deflate',
    (text: unknown) => (typeof text === 'string' && text.length > DEFLATE_FROM ? deflateRawSync(text) : text) as never,
  );
  db.create_function(
    'ah_inflate',
    (data: unknown) => (data instanceof Uint8Array ? inflateRawSync(data).toString('utf8') : data) as never,
  );
}

export interface OpenedDatabase {
  SQL: SqlJsStatic;
  db: Database;
  /** The Buffer sql.js was given as its file (memfile.ts); null for a new database. */
  bytes: Buffer | null;
  outcome: OpenOutcome;
  movedAside: string | null;
}

/**
 * `PRAGMA application_id` of every store (the ASCII bytes "AgHd"): SQLite's own field for "which
 * program's file is this", at offset 68 of the header, so a file is recognised without opening it.
 */
export const STORE_APPLICATION_ID = 0x41674864;

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * What to do with a file that is not a usable store. `move-aside`: whatever lies at the path is the
 * caller's own (the extension's storage, the CLI's cache), so an unreadable one is moved aside and
 * rebuilt. `refuse`: the path was given by a person and may be anyone's file: only a file that is
 * recognisably a store of ours (the SQLite header and our application_id, or an older store's meta
 * table) may be moved aside; anything else throws NotAStoreError and is left untouched.
 */
export type ForeignFiles = 'move-aside' | 'refuse';

/** A file at a store path that is not one of our stores (ForeignFiles `refuse`); it was not touched. */
export class NotAStoreError extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`${file} is not an Agent Handler store (${why})`);
  }
}

/**
 * Why the bytes of a file are not one of our stores, or null when they are: the SQLite header and
 * our application_id, or (a store made before the application_id was set) no id and a meta table
 * naming a parser version.
 */
function notOurs(SQL: SqlJsStatic, bytes: Buffer): string | null {
  if (bytes.length === 0) return 'an empty file';
  if (bytes.length < 100 || !bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER))
    return 'not a SQLite database';
  const id = bytes.readUInt32BE(68);
  if (id === STORE_APPLICATION_ID) return null;
  if (id !== 0) return `a SQLite database of another application (application_id 0x${id.toString(16)})`;
  let db: Database | null = null;
  try {
    // A copy: sql.js may write to the Buffer it is given, and this one becomes the store's own.
    db = new SQL.Database(Uint8Array.from(bytes));
    const meta = all(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'");
    if (!meta.length || !all(db, "SELECT 1 FROM meta WHERE key = 'parser_version'").length)
      return 'a SQLite database without our tables';
    return null;
  } catch {
    return 'a SQLite database that cannot be read';
  } finally {
    db?.close();
  }
}

/**
 * Opens the database in `file` (an in-memory one for `null`). A file `isUsable` does not accept
 * (another version), or that cannot be read as a database at all, is moved aside (kept for a bug
 * report) and a new database is returned in its place; with `foreign: 'refuse'` only a file of ours
 * is (see ForeignFiles).
 */
export async function openDatabase(
  file: string | null,
  isUsable: (db: Database) => boolean,
  foreign: ForeignFiles = 'move-aside',
): Promise<OpenedDatabase> {
  const SQL = await loadSqlJs();
  const created = (outcome: OpenOutcome, movedAside: string | null): OpenedDatabase => ({
    SQL,
    db: new SQL.Database(),
    bytes: null,
    outcome,
    movedAside,
  });
  if (!file) return created('created', null);
  // Ours wherever it is: a store (and its lock, manifest, saved list) an older version or a wide
  // umask left readable by others is made private before anything more is written.
  tightenWithCompanions(file);
  // The file's bytes with room to grow after them; sql.js keeps this Buffer as its file (memfile.ts).
  const bytes = readWithRoom(file);
  if (!bytes) return created('created', null);
  if (foreign === 'refuse') {
    const why = notOurs(SQL, bytes);
    if (why) throw new NotAStoreError(file, why);
  }
  let reason: OpenOutcome = 'rebuilt-corrupt';
  try {
    const db = new SQL.Database(bytes);
    if (isUsable(db)) return { SQL, db, bytes, outcome: 'loaded', movedAside: null };
    db.close();
    reason = 'rebuilt-version';
  } catch {
    reason = 'rebuilt-corrupt';
  }
  const aside = `${file}.${reason === 'rebuilt-version' ? 'old' : 'corrupt'}-${Date.now()}`;
  await fsp.rename(file, aside).catch(() => undefined);
  // Kept for a bug report, and as private as the store it was.
  tightenIfOurs(aside);
  return created(reason, aside);
}

/**
 * A new database moved into a Buffer with room (memfile.ts) before any row is written: a cold index
 * then never has sql.js copy its growing file. Returns the database to use from now on.
 */
export function giveRoom(SQL: SqlJsStatic, db: Database): { db: Database; bytes: Buffer } {
  const bytes = withRoom(db.export(), ROOM_NEW);
  db.close();
  const moved = new SQL.Database(bytes);
  registerFunctions(moved);
  moved.exec(SESSION_PRAGMAS);
  return { db: moved, bytes };
}

export class StoreDb {
  /**
   * Prepared statements reused across calls (preparing one costs as much as running it). sql.js's
   * export() frees every statement, so persist() and close() free and forget them all first.
   */
  private readonly statements = new Map<string, Statement>();
  /** Open transactions and savepoints (transaction() and batch()). */
  private depth = 0;
  private dirty: boolean;
  /** Bumped on every write: readers and the persist debounce compare it. */
  generation = 0;
  /** The Buffer sql.js was given as its file (memfile.ts); null once it is known to have moved. */
  private fileBytes: Buffer | null;
  /** The CREATE statements of the indexes deferIndexes dropped, until buildDeferredIndexes builds them. */
  private deferredIndexes: string[] = [];

  protected constructor(
    readonly db: Database,
    readonly file: string | null,
    fileBytes: Buffer | null,
    dirty: boolean,
  ) {
    this.fileBytes = fileBytes;
    this.dirty = dirty;
  }

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs a statement (prepared once, reused). */
  exec(sql: string, params: Params = []): void {
    this.statement(sql).run(params);
  }

  /** The first row of a query (prepared once, reused), as an object. */
  first<T>(sql: string, params: Params = []): T | undefined {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params);
      return readRows<T>(stmt, 1)[0];
    } finally {
      stmt.reset();
    }
  }

  private freeStatements(): void {
    for (const stmt of this.statements.values()) stmt.free();
    this.statements.clear();
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  markDirty(): void {
    this.dirty = true;
    this.generation++;
  }

  /** Whether a transaction (or a batch) is open: work that must not be split waits for its end. */
  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Called after a rollback: what was cached of rows the rollback removed must be forgotten. */
  protected afterRollback(): void {}

  /**
   * Runs `fn` atomically. Inside a batch (or another transaction) it is a savepoint: a piece that
   * fails rolls back alone and the batch goes on.
   */
  transaction<T>(fn: () => T): T {
    const nested = this.depth > 0;
    this.db.run(nested ? 'SAVEPOINT piece' : 'BEGIN');
    this.depth++;
    try {
      const result = fn();
      this.db.run(nested ? 'RELEASE piece' : 'COMMIT');
      this.markDirty();
      return result;
    } catch (err) {
      if (nested) {
        this.db.run('ROLLBACK TO piece');
        this.db.run('RELEASE piece');
      } else {
        this.db.run('ROLLBACK');
      }
      this.afterRollback();
      throw err;
    } finally {
      this.depth--;
    }
  }

  /**
   * One transaction around a whole pass (many files, each its own savepoint): committing per file
   * wrote every touched page through sql.js's file layer thousands of times. What a failing pass
   * wrote before the failure is kept: every piece in it was complete. Passes never overlap (the
   * service runs index work one piece at a time), and persist() is never called inside one.
   */
  async batch<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return fn();
    const before = this.totalChanges();
    this.db.run('BEGIN');
    this.depth = 1;
    try {
      return await fn();
    } finally {
      this.depth = 0;
      this.db.run('COMMIT');
      // A pass that changed no row (a rescan that found nothing new) leaves the store clean:
      // marking it dirty anyway made every start and every periodic rescan write the whole store
      // file back (100 MB at 1 GB). Schema changes (buildDeferredIndexes) mark the store dirty themselves.
      if (this.totalChanges() !== before) this.markDirty();
    }
  }

  /** Rows inserted, updated or deleted on this connection since it opened (SQLite's total_changes()). */
  private totalChanges(): number {
    return this.first<{ n: number }>('SELECT total_changes() AS n')?.n ?? 0;
  }

  get hasDeferredIndexes(): boolean {
    return this.deferredIndexes.length > 0;
  }

  /**
   * Drops the named indexes until buildDeferredIndexes: building an index from sorted rows is several
   * times faster than keeping it up to date row by row, and packs its pages full. Returns whether
   * any was dropped. A store persisted meanwhile gets them back when it is next opened (the schema
   * script creates missing indexes).
   */
  deferIndexes(names: readonly string[]): boolean {
    const list = names.map(() => '?').join(', ');
    const rows = all<{ name: string; sql: string }>(
      this.db,
      `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND name IN (${list})`,
      [...names],
    );
    for (const r of rows) run(this.db, `DROP INDEX ${r.name}`);
    this.deferredIndexes = rows.map((r) => r.sql);
    this.freeStatements();
    return rows.length > 0;
  }

  /** Builds the indexes deferIndexes dropped. */
  buildDeferredIndexes(): void {
    for (const sql of this.deferredIndexes) this.db.run(sql);
    this.deferredIndexes = [];
    this.freeStatements();
    this.markDirty();
  }

  /**
   * Writes the database to a temp file, syncs it and renames it over the store: a crash leaves the
   * old or the new file, never half of one. Never called inside a transaction (sql.js's export()
   * closes and reopens the database, which would roll it back).
   */
  async persist(): Promise<void> {
    if (!this.file || !this.dirty) return;
    if (this.depth > 0) throw new Error('persist() inside a transaction');
    const generation = this.generation;
    this.freeStatements();
    // Straight from sql.js's file when it is still the Buffer we gave it (memfile.ts): no copy of
    // the whole database. Else export() (a copy), and the Buffer is not asked again.
    let bytes: Uint8Array | null = this.fileBytes ? liveBytes(this.db, this.fileBytes) : null;
    if (!bytes) {
      this.fileBytes = null;
      bytes = this.db.export();
      this.db.exec(SESSION_PRAGMAS);
    }
    const image = bytes;
    mkdirPrivate(path.dirname(this.file));
    const tmp = `${this.file}.tmp-${process.pid}-${Date.now()}`;
    try {
      // Synchronous: the bytes may be the live database, which a write between two awaits would
      // change half-way through the copy. The worker thread (or the CLI) waits, never the UI.
      writeDurably(tmp, image);
      await fsp.rename(tmp, this.file);
    } catch (err) {
      // A full disk (ENOSPC) or a write error: the old store file is untouched. The partial temp
      // file goes, or every failed retry would leave one more behind on an already full disk.
      await fsp.unlink(tmp).catch(() => undefined);
      throw err;
    }
    if (this.generation === generation) this.dirty = false;
  }

  close(): void {
    this.freeStatements();
    this.db.close();
    this.fileBytes = null;
  }
}

/**
 * Removes temp files a persist left behind when its process was killed between writing and
 * renaming (kill -9, power loss). Called by the writer only, so it never removes the temp file
 * of a persist in flight: there is one writer per store.
 */
export async function removeStaleTemps(file: string): Promise<number> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.tmp-`;
  let removed = 0;
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    await fsp.unlink(path.join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Writes a new private file (0600: the store holds the user's prompts) and syncs it to the disk. */
function writeDurably(file: string, bytes: Uint8Array): void {
  const fd = openPrivateSync(file, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
