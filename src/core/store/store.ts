import type { Database } from 'sql.js';
import { machineId } from '../machine';
import { type PrLookup, getPrLookup, setPrLookup } from './attribution';
import {
  type ForeignFiles,
  type OpenOutcome,
  STORE_APPLICATION_ID,
  StoreDb,
  giveRoom,
  openDatabase,
  registerFunctions,
  removeStaleTemps,
  SESSION_PRAGMAS,
} from './db';
import { hasFiles } from './files';
import { PriceRuleIds } from './requests';
import { BULK_DEFERRED_INDEXES, ensureSchema, isUsableStore } from './schema';
import { PendingSearchTexts } from './search';
import { one, run } from './sqlite';

/**
 * The index: the one object callers hold. It owns the database (db.ts: statements, transactions,
 * saves) and what the writing modules keep between calls (the next search docid, price rule ids);
 * what the tables hold is read and written by the modules beside it (files, requests, sessions,
 * search, details, attribution, live) and read by the queries. It holds nothing the
 * transcripts do not: deleting it loses nothing but time. A file of another schema or parser
 * version, or one that cannot be read, is moved aside and rebuilt (schema.ts).
 */

export interface StoreOptions {
  /** The machine's id (default: machineId(), which honours AGENT_HANDLER_MACHINE_ID). */
  machineId?: string;
  /** A file at the path that is not a usable store: moved aside (default) or refused (db.ts ForeignFiles). */
  foreign?: ForeignFiles;
}

export class Store extends StoreDb {
  readonly searchTexts = new PendingSearchTexts(this);
  readonly priceRules = new PriceRuleIds(this);

  private constructor(
    db: Database,
    file: string | null,
    readonly outcome: OpenOutcome,
    readonly movedAside: string | null,
    fileBytes: Buffer | null,
    dirty: boolean,
  ) {
    super(db, file, fileBytes, dirty);
  }

  /**
   * Opens the store file (or an in-memory one for `null`). A file that is not a store of this
   * schema and parser version is moved aside (kept for a bug report) and a new one is created.
   */
  static async open(file: string | null, options: StoreOptions = {}): Promise<Store> {
    const machine = options.machineId ?? machineId();
    const opened = await openDatabase(file, isUsableStore, options.foreign);
    let { db, bytes } = opened;
    registerFunctions(db);
    let changed = ensureSchema(db, opened.outcome !== 'loaded');
    db.exec(SESSION_PRAGMAS);
    if (labelMachine(db, machine)) changed = true;
    if (stampApplicationId(db)) changed = true;
    if (file && !bytes) ({ db, bytes } = giveRoom(opened.SQL, db));
    return new Store(db, file, opened.outcome, opened.movedAside, bytes, changed);
  }

  /** See db.ts removeStaleTemps (the writer calls it once it holds the lease). */
  static removeStaleTemps(file: string): Promise<number> {
    return removeStaleTemps(file);
  }

  /** How many sessions the store knows (cheap: no session is read). */
  sessionCount(): number {
    return this.first<{ n: number }>('SELECT count(*) AS n FROM sessions')?.n ?? 0;
  }

  getMeta(key: string): string | undefined {
    return this.first<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key])?.value;
  }

  setMeta(key: string, value: string): void {
    this.exec('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)', [key, value]);
    this.markDirty();
  }

  /**
   * Filling a store that has read no file yet (the first index, a rebuild): the request rows'
   * secondary indexes are dropped now and built once by endBulkLoad. Nothing the pass itself runs
   * reads these indexes; what a query asks meanwhile is answered by scanning. Returns whether it
   * did so.
   */
  beginBulkLoad(): boolean {
    // A store that has never read a file: not one whose transcripts simply carry no tokens (Cursor),
    // which would drop and build its indexes, and save, on every pass.
    if (this.hasDeferredIndexes || hasFiles(this)) return false;
    return this.deferIndexes(BULK_DEFERRED_INDEXES);
  }

  /** Builds the indexes beginBulkLoad dropped (always called, also when the pass failed). */
  endBulkLoad(): void {
    this.buildDeferredIndexes();
  }

  /** Kept here for the service and the CLI, which cache PR lookups through the store they hold (attribution.ts). */
  setPrLookup(
    gitDir: string,
    branch: string,
    source: string,
    pr: { number: number; url: string; state: string | null; title: string | null } | null,
    atMs = Date.now(),
  ): void {
    setPrLookup(this, gitDir, branch, source, pr, atMs);
  }

  getPrLookup(gitDir: string, branch: string, source: string): PrLookup | undefined {
    return getPrLookup(this, gitDir, branch, source);
  }

  protected override afterRollback(): void {
    this.priceRules.forget();
  }
}

/**
 * Marks the database as ours (db.ts STORE_APPLICATION_ID): every new store, and a store made before
 * the mark existed the first time it is opened. Returns whether it wrote.
 */
function stampApplicationId(db: Database): boolean {
  if (one<{ application_id: number }>(db, 'PRAGMA application_id')?.application_id === STORE_APPLICATION_ID)
    return false;
  db.exec(`PRAGMA application_id = ${STORE_APPLICATION_ID}`);
  return true;
}

/**
 * Records the machine's id (machine.ts), not the store's: a rebuilt store or the CLI's own store
 * carries the same one. Set anew when it changed (an override was changed): every local session is
 * this machine's. Returns whether it wrote.
 */
function labelMachine(db: Database, machine: string): boolean {
  if (one<{ value: string }>(db, "SELECT value FROM meta WHERE key = 'machine_id'")?.value === machine) return false;
  run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('machine_id', ?)", [machine]);
  run(db, 'UPDATE sessions SET machine_id = ?', [machine]);
  return true;
}
