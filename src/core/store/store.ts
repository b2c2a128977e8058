import { createHash, hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, promises as fsp, writeSync } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import type { AgentEvent } from '../model/events';
import type { FileState, UsageRow } from '../model/reducer';
import { largerUsage, newFileState, sessionFacts } from '../model/reducer';
import type { LiveProcess } from '../sources/types';
import { type LiveFacts, emptyFacts, foldLive } from '../model/liveFacts';
import type { LiveEvent } from '../model/events';
import { machineId } from '../machine';
import { liveBytes, readWithRoom, ROOM_NEW, withRoom } from './memfile';
import { type Params, all, loadSqlJs, one, readRows, run } from './sqlite';

/**
 * The index. It holds nothing the transcripts do not: deleting it loses nothing but time. A file of
 * another schema or parser version, or one that cannot be read, is moved aside and rebuilt.
 *
 * Bump PARSER_VERSION whenever adapters, the reducer or pricing would produce different rows from
 * the same files: the next start rebuilds from the transcripts.
 */
export const SCHEMA_VERSION = 9;
export const PARSER_VERSION = 9;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
  file_id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  framework TEXT NOT NULL,
  root TEXT NOT NULL,
  session_id TEXT,
  size INTEGER NOT NULL DEFAULT 0,
  mtime_ms REAL NOT NULL DEFAULT 0,
  ino TEXT,
  offset INTEGER NOT NULL DEFAULT 0,
  fingerprint TEXT,
  fingerprint_len INTEGER NOT NULL DEFAULT 0,
  first_record_at TEXT,
  last_activity TEXT,
  state_json TEXT,
  skipped_lines INTEGER NOT NULL DEFAULT 0,
  last_skip_reason TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  indexed_at TEXT
);
CREATE INDEX IF NOT EXISTS files_session ON files(session_id);
-- One row per request per file. A request's dedup key and message id are kept as 12-byte hashes
-- (requestKeyRef): they are only ever compared, and as text they were a third of the index.
CREATE TABLE IF NOT EXISTS usage (
  file_id INTEGER NOT NULL,
  dedup_hash BLOB NOT NULL,
  session_id TEXT NOT NULL,
  message_hash BLOB,
  sidechain INTEGER NOT NULL DEFAULT 0,
  ts TEXT,
  model TEXT,
  git_branch TEXT,
  input INTEGER NOT NULL,
  output INTEGER NOT NULL,
  cache_read INTEGER NOT NULL,
  cache_write INTEGER NOT NULL,
  cache_write_1h INTEGER NOT NULL,
  speed TEXT,
  provider TEXT,
  vendor_cost_usd REAL,
  cost_usd REAL,
  priced INTEGER NOT NULL,
  -- How the cost was made (price_rules: a few distinct texts, one small number per row).
  rule_id INTEGER,
  request_count INTEGER NOT NULL DEFAULT 1,
  counted INTEGER NOT NULL DEFAULT 0,
  -- The branch the request counts on (docs/accounting.md §5): the recorded one for agents that
  -- record it per request, else the cwd's HEAD reflog at the request's time. Set when settled.
  branch TEXT,
  branch_resolved INTEGER NOT NULL DEFAULT 0,
  -- The session the agent marked this request as copied from (a fork's copied history); NULL for
  -- the file's own requests and for unmarked copies. Followed by recomputeCounted.
  origin_session_id TEXT,
  PRIMARY KEY (file_id, dedup_hash)
);
CREATE TABLE IF NOT EXISTS price_rules (rule_id INTEGER PRIMARY KEY, rule TEXT NOT NULL UNIQUE);
CREATE INDEX IF NOT EXISTS usage_key ON usage(dedup_hash);
CREATE INDEX IF NOT EXISTS usage_message ON usage(message_hash);
CREATE INDEX IF NOT EXISTS usage_branch ON usage(branch, counted);
-- Only the rows still waiting for their branch (a handful after each pass): a partial index.
CREATE INDEX IF NOT EXISTS usage_unresolved ON usage(branch_resolved) WHERE branch_resolved = 0;
-- Only marked copies (a fork's copied history): where recomputeCounted's walk over marks starts.
CREATE INDEX IF NOT EXISTS usage_marked ON usage(dedup_hash) WHERE origin_session_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  parent_session_id TEXT,
  agent_id TEXT,
  machine_id TEXT,
  framework TEXT NOT NULL,
  title TEXT,
  first_started_at TEXT,
  last_started_at TEXT,
  first_ended_at TEXT,
  last_activity TEXT,
  revival_count INTEGER NOT NULL DEFAULT 0,
  turn_state TEXT,
  turn_state_at TEXT,
  cwd TEXT,
  git_branch TEXT,
  git_worktree_path TEXT,
  github_repo TEXT,
  github_issue INTEGER,
  issue_url TEXT,
  github_pr INTEGER,
  pr_url TEXT,
  agent_lines_added INTEGER,
  agent_lines_removed INTEGER,
  first_user_message TEXT,
  last_user_message TEXT,
  model TEXT,
  compaction_count INTEGER NOT NULL DEFAULT 0,
  message_count INTEGER NOT NULL DEFAULT 0,
  tool_call_count INTEGER NOT NULL DEFAULT 0,
  api_request_count INTEGER NOT NULL DEFAULT 0,
  api_error_count INTEGER NOT NULL DEFAULT 0,
  tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0,
  tokens_cache_read INTEGER NOT NULL DEFAULT 0,
  tokens_cache_write INTEGER NOT NULL DEFAULT 0,
  -- NULL while no request of the session could be priced (the specified record's cost_usd).
  cost_usd REAL,
  unpriced_requests INTEGER NOT NULL DEFAULT 0,
  agent_cost_usd REAL,
  agent_model_costs TEXT,
  context INTEGER,
  token_totals_pending INTEGER,
  n_hook_events INTEGER NOT NULL DEFAULT 0,
  n_otel_events INTEGER NOT NULL DEFAULT 0,
  transcript_available INTEGER NOT NULL DEFAULT 1,
  transcript_path TEXT,
  root TEXT,
  forked_from_session_id TEXT
);
CREATE INDEX IF NOT EXISTS sessions_parent ON sessions(parent_session_id);
CREATE INDEX IF NOT EXISTS sessions_cwd ON sessions(cwd);
CREATE TABLE IF NOT EXISTS cwd_info (
  cwd TEXT PRIMARY KEY,
  git_dir TEXT,
  toplevel TEXT,
  github_repo TEXT,
  resolved_at TEXT
);
-- Lines changed on a branch against its repository's default branch (git diff from the merge base):
-- the specified record's git_additions / git_deletions of the sessions on that branch.
CREATE TABLE IF NOT EXISTS branch_diff (
  git_dir TEXT NOT NULL,
  branch TEXT NOT NULL,
  additions INTEGER NOT NULL,
  deletions INTEGER NOT NULL,
  base TEXT,
  head TEXT,
  PRIMARY KEY (git_dir, branch)
);
-- Pull requests a session's transcript mentions (PrObservation), with the branch then.
CREATE TABLE IF NOT EXISTS session_prs (
  session_id TEXT NOT NULL,
  number INTEGER NOT NULL,
  url TEXT,
  repo TEXT,
  source TEXT NOT NULL,
  recorded_branch TEXT,
  branch TEXT,
  ts TEXT
);
CREATE INDEX IF NOT EXISTS session_prs_session ON session_prs(session_id);
CREATE INDEX IF NOT EXISTS session_prs_number ON session_prs(number);
-- Answers of the network sources (gh CLI, GitHub REST) per (repository, branch); a miss is cached too (number NULL).
CREATE TABLE IF NOT EXISTS pr_lookup (
  git_dir TEXT NOT NULL,
  branch TEXT NOT NULL,
  source TEXT NOT NULL,
  number INTEGER,
  url TEXT,
  state TEXT,
  title TEXT,
  fetched_at_ms REAL NOT NULL,
  PRIMARY KEY (git_dir, branch, source)
);
CREATE TABLE IF NOT EXISTS live (
  pid INTEGER PRIMARY KEY,
  session_id TEXT,
  root TEXT,
  status TEXT,
  waiting_for TEXT,
  started_at_ms REAL,
  updated_at_ms REAL,
  alive INTEGER NOT NULL DEFAULT 0,
  checked_at TEXT
);
CREATE INDEX IF NOT EXISTS live_session ON live(session_id);
CREATE TABLE IF NOT EXISTS session_live (
  session_id TEXT NOT NULL,
  file_id INTEGER NOT NULL,
  facts_json TEXT NOT NULL,
  status TEXT,
  status_at_ms REAL,
  pid INTEGER,
  process_started_at_ms REAL,
  alive INTEGER,
  PRIMARY KEY (session_id, file_id)
);
-- A searchable text: a prompt or answer of a file (its session is the file's), or a session's
-- title (file_id 0, session_id set: it belongs to no one file).
CREATE TABLE IF NOT EXISTS search_doc (
  docid INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL,
  session_id TEXT,
  kind TEXT NOT NULL,
  ts TEXT
);
CREATE INDEX IF NOT EXISTS search_doc_file ON search_doc(file_id);
-- A session's own texts are found through its files (search_doc_file); only titles (file 0) by session.
CREATE INDEX IF NOT EXISTS search_doc_title ON search_doc(session_id) WHERE kind = 'title';
-- The texts are kept deflated (ah_deflate/ah_inflate, registered on every open): they are most of
-- what the index would otherwise store, and only the few shown as excerpts are ever inflated.
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts4(body, compress=ah_deflate, uncompress=ah_inflate, tokenize=unicode61 "remove_diacritics=2");
-- One row per distinct tool call of a file (a session's are found through its files): its count is
-- the session's tool_call_count, its names the Details page's tool list. No rowid, no other index:
-- the key is the table.
CREATE TABLE IF NOT EXISTS tool_calls (
  file_id INTEGER NOT NULL,
  -- keyHash of the call id: only ever counted.
  tool_id BLOB NOT NULL,
  name TEXT NOT NULL,
  -- The session the agent marked the call's line as copied from; NULL for the file's own calls.
  origin_session_id TEXT,
  PRIMARY KEY (file_id, tool_id)
) WITHOUT ROWID;
-- Per file, the sessions it holds marked copies of, with the copied prompts and API errors (its
-- copied tool calls are the tool_calls rows naming the session). Only forks have rows: it finds the
-- forks whose counts change when an origin's transcript appears or goes (refreshCopiedCounts).
CREATE TABLE IF NOT EXISTS file_copies (
  file_id INTEGER NOT NULL,
  origin_session_id TEXT NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  api_errors INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (file_id, origin_session_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_marks (
  file_id INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  ts TEXT
);
CREATE INDEX IF NOT EXISTS session_marks_file ON session_marks(file_id);
CREATE INDEX IF NOT EXISTS session_marks_session ON session_marks(session_id);
`;

/**
 * Names the schema a store was made with (kept in meta with the number of schema objects it
 * makes): a loaded store with another schema text, or missing an object (an index dropped for a
 * bulk load that never finished), has the script run over it once.
 */
const SCHEMA_FINGERPRINT = createHash('sha1').update(SCHEMA).digest('hex');

/**
 * The database lives in wasm memory and reaches the disk only through persist(): a rollback journal
 * on sql.js's in-memory file system would only copy pages for nothing. export() resets pragmas, so
 * persist() sets them again.
 */
const SESSION_PRAGMAS = 'PRAGMA journal_mode = MEMORY; PRAGMA temp_store = MEMORY';

/**
 * SQL functions the schema needs: the search texts' compression (FTS4 calls them on every write and
 * on every read of a text). Registered before anything touches the tables, on every open.
 */
function registerFunctions(db: Database): void {
  // Short texts (most titles and prompts) stay text: deflating them saves little and costs a call.
  db.create_function('ah_deflate', (text: unknown) => (typeof text === 'string' && text.length > DEFLATE_FROM ? deflateRawSync(text) : text) as never);
  db.create_function('ah_inflate', (data: unknown) => (data instanceof Uint8Array ? inflateRawSync(data).toString('utf8') : data) as never);
}

/** Gathered search texts are indexed between two pieces of a batch once they hold this many characters. */
const PENDING_TEXT_CHARS = 150_000;

/** Search texts longer than this many characters are stored deflated. */
const DEFLATE_FROM = 160;

/**
 * Text kept for full-text search, per message: the first this many characters. The index finds a
 * session; the transcript holds the rest.
 */
export const SEARCH_TEXT_MAX = 2048;

/** A usage row's price rule text, in a query over `usage u` (rules are kept in price_rules). */
export const PRICE_RULE_OF_U = '(SELECT rule FROM price_rules WHERE rule_id = u.rule_id)';

/** The request rows' indexes that only settling and the views read (see Store.beginBulkLoad). */
const BULK_DEFERRED_INDEXES = ['usage_key', 'usage_message', 'usage_branch', 'usage_unresolved'];

/**
 * `<col> IN (the files of these n sessions)`, n placeholders: how the request rows of sessions are
 * found. usage.session_id has no index of its own (it would be the store's largest after the table);
 * its file_id leads the primary key.
 */
export function ofSessionFiles(fileIdColumn: string, n: number): string {
  return `${fileIdColumn} IN (SELECT file_id FROM files WHERE session_id IN (${Array.from({ length: n }, () => '?').join(', ')}))`;
}

/**
 * How a request's dedup key (or message id) is stored: the first 12 bytes of its SHA-1. Keys are
 * only compared, never shown; 96 bits make a collision between two of a user's requests (about
 * n²/2^97: 10^-13 for a hundred million requests) far less likely than a corrupt disk.
 */
export function keyHash(key: string): Buffer {
  return sha1(key).subarray(0, 12);
}

/**
 * SHA-1 of a string. `crypto.hash` (Node ≥ 20.12) is a quarter of the cost of a Hash object per call
 * (160,000 keys: 180 vs 630 ms); older hosts (VS Code builds on an earlier Node) use the object.
 */
const sha1: (s: string) => Buffer =
  typeof hash === 'function' ? (s) => hash('sha1', s, 'buffer') : (s) => createHash('sha1').update(s).digest();

/** A request key as the store hands it around (recomputeCounted, resetFile): its hash in hex. */
export function requestKeyRef(dedupKey: string): string {
  return keyRef(keyHash(dedupKey));
}

function keyRef(hash: Buffer): string {
  return hash.toString('hex').toUpperCase();
}

/** Separates a document's path from the session id in the rows of the sessions it holds. */
export const DOC_SEP = '#session=';

/**
 * A file's parse state as stored: top-level fields still at their empty value (most of them, most
 * of the time) are left out; parseStateJson puts them back.
 */
export function stateJson(state: FileState): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v === null || v === 0 || (Array.isArray(v) && !v.length)) continue;
    out[k] = v;
  }
  return JSON.stringify(out);
}

export function parseStateJson(json: string, ids: Parameters<typeof newFileState>[0]): FileState {
  return { ...newFileState(ids), ...(JSON.parse(json) as Partial<FileState>) };
}

/** The file a row stands for: itself, or the document holding the session of a `<doc>#session=<id>` row. */
export function documentPathOf(rowPath: string): string {
  const i = rowPath.lastIndexOf(DOC_SEP);
  return i === -1 ? rowPath : rowPath.slice(0, i);
}

export interface FileRow {
  file_id: number;
  path: string;
  framework: string;
  root: string;
  session_id: string | null;
  size: number;
  mtime_ms: number;
  ino: string | null;
  offset: number;
  fingerprint: string | null;
  fingerprint_len: number;
  first_record_at: string | null;
  last_activity: string | null;
  state_json: string | null;
  skipped_lines: number;
  last_skip_reason: string | null;
  deleted: number;
}

export type FileHead = Pick<FileRow, 'file_id' | 'path' | 'session_id' | 'deleted'>;

export interface PricedUsageRow extends UsageRow {
  cost_usd: number | null;
  priced: boolean;
  /** How the cost was made (PriceResult.rule), for "explain cost". */
  price_rule: string;
}

/** What re-pricing needs of a stored row: everything priceRequest reads, from the row itself. */
export interface StoredPriceInput {
  framework: string;
  model: string | null;
  provider: string | null;
  vendor_cost_usd: number | null;
  request_count: number;
  speed: string | null;
  ts: string | null;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  cache_write_1h: number;
}

/** The rule of a request priced with the agent's own per-model figure (see fillFromAgentFigures). */
export const AGENT_FILL_RULE = "the agent's own session figure";

export interface StoreOptions {
  /** The machine's id (default: machineId(), which honours AGENT_HANDLER_MACHINE_ID). */
  machineId?: string;
}

export type OpenOutcome = 'created' | 'loaded' | 'rebuilt-version' | 'rebuilt-corrupt';

export class Store {
  private dirty = false;
  /**
   * Prepared statements reused across calls (preparing one costs as much as running it). sql.js's
   * export() frees every statement, so persist() and close() free and forget them all first.
   */
  private readonly statements = new Map<string, Statement>();
  /** Open transactions and savepoints (transaction() and batch()). */
  private depth = 0;
  /** Bumped on every write: readers and the persist debounce compare it. */
  generation = 0;
  /** The Buffer sql.js was given as its file (memfile.ts); null once it is known to have moved. */
  private fileBytes: Buffer | null = null;

  private constructor(
    readonly db: Database,
    readonly file: string | null,
    readonly outcome: OpenOutcome,
    readonly movedAside: string | null,
  ) {}

  /**
   * Opens the store file (or an in-memory one for `null`). A file that is not a store of this
   * schema and parser version is moved aside (kept for a bug report) and a new one is created.
   */
  static async open(file: string | null, options: StoreOptions = {}): Promise<Store> {
    const SQL = await loadSqlJs();
    const machine = options.machineId ?? machineId();
    if (!file) return Store.init(SQL, new SQL.Database(), null, 'created', null, machine);
    // The file's bytes with room to grow after them; sql.js keeps this Buffer as its file (memfile.ts).
    const bytes = readWithRoom(file);
    if (!bytes) return Store.init(SQL, new SQL.Database(), file, 'created', null, machine);
    let reason: OpenOutcome = 'rebuilt-corrupt';
    try {
      const db = new SQL.Database(bytes);
      const version = one<{ user_version: number }>(db, 'PRAGMA user_version')?.user_version;
      const parser = one<{ value: string }>(db, "SELECT value FROM meta WHERE key = 'parser_version'")?.value;
      if (version === SCHEMA_VERSION && parser === String(PARSER_VERSION)) {
        one(db, 'SELECT count(*) FROM sessions');
        return Store.init(SQL, db, file, 'loaded', null, machine, bytes);
      }
      db.close();
      reason = 'rebuilt-version';
    } catch {
      reason = 'rebuilt-corrupt';
    }
    const aside = `${file}.${reason === 'rebuilt-version' ? 'old' : 'corrupt'}-${Date.now()}`;
    await fsp.rename(file, aside).catch(() => undefined);
    return Store.init(SQL, new SQL.Database(), file, reason, aside, machine);
  }

  /**
   * Prepares a database for use. A loaded store made with this schema (SCHEMA_FINGERPRINT and its
   * count of schema objects in meta) is left untouched: running the whole schema script and
   * rewriting the meta rows on every start cost ~80 ms at 1 GB and changed pages of a store nothing
   * changed. A new store kept in a file is moved into a Buffer with room (memfile.ts) before any
   * row is written: a cold index then never has sql.js copy its growing file.
   */
  private static init(
    SQL: SqlJsStatic,
    db: Database,
    file: string | null,
    outcome: OpenOutcome,
    aside: string | null,
    machine: string,
    bytes: Buffer | null = null,
  ): Store {
    registerFunctions(db);
    let changed = outcome !== 'loaded';
    if (changed || one<{ value: string }>(db, "SELECT value FROM meta WHERE key = 'schema'")?.value !== schemaMark(db)) {
      // A new database: 8 KiB pages keep a file's parse state (one to two KiB) on its row's page
      // instead of an overflow page of its own. Only takes effect before the first table exists.
      if (outcome !== 'loaded') db.exec('PRAGMA page_size = 8192');
      db.exec(SCHEMA);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('parser_version', ?)", [String(PARSER_VERSION)]);
      run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", [schemaMark(db)]);
      changed = true;
    }
    db.exec(SESSION_PRAGMAS);
    // The machine's id (machine.ts), not the store's: a rebuilt store or the CLI's own store carries
    // the same one. Set anew (an override was changed): every local session is this machine's.
    if (one<{ value: string }>(db, "SELECT value FROM meta WHERE key = 'machine_id'")?.value !== machine) {
      run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('machine_id', ?)", [machine]);
      run(db, 'UPDATE sessions SET machine_id = ?', [machine]);
      changed = true;
    }
    if (file && !bytes) {
      bytes = withRoom(db.export(), ROOM_NEW);
      db.close();
      db = new SQL.Database(bytes);
      registerFunctions(db);
      db.exec(SESSION_PRAGMAS);
    }
    const store = new Store(db, file, outcome, aside);
    store.fileBytes = bytes;
    store.dirty = changed;
    return store;
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
  private exec(sql: string, params: Params = []): void {
    this.statement(sql).run(params);
  }

  /** The first row of a query (prepared once, reused), as an object. */
  private first<T>(sql: string, params: Params = []): T | undefined {
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

  /** How many sessions the store knows (cheap: no session is read). */
  sessionCount(): number {
    return this.first<{ n: number }>('SELECT count(*) AS n FROM sessions')?.n ?? 0;
  }

  getMeta(key: string): string | undefined {
    return this.first<{ value: string }>( 'SELECT value FROM meta WHERE key = ?', [key])?.value;
  }

  setMeta(key: string, value: string): void {
    this.exec('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)', [key, value]);
    this.markDirty();
  }

  /**
   * Runs `fn` atomically. Inside a batch (or another transaction) it is a savepoint: a piece that
   * fails rolls back alone and the batch goes on.
   */
  transaction<T>(fn: () => T): T {
    const nested = this.depth > 0;
    // Between two pieces of a batch (never inside one): index what was gathered once it is sizeable.
    if (this.depth === 1 && this.pendingChars > PENDING_TEXT_CHARS) this.flushSearchTexts();
    this.db.run(nested ? 'SAVEPOINT piece' : 'BEGIN');
    this.depth++;
    try {
      const result = fn();
      if (!nested) this.flushSearchTexts();
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
      // A price rule added by what was rolled back is gone again.
      this.ruleIds.clear();
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
      try {
        this.flushSearchTexts();
      } finally {
        this.depth = 0;
        this.db.run('COMMIT');
        // A pass that changed no row (a rescan that found nothing new) leaves the store clean:
        // marking it dirty anyway made every start and every periodic rescan write the whole store
        // file back (100 MB at 1 GB). Schema changes (endBulkLoad) mark the store dirty themselves.
        if (this.totalChanges() !== before) this.markDirty();
      }
    }
  }

  /** Rows inserted, updated or deleted on this connection since it opened (SQLite's total_changes()). */
  private totalChanges(): number {
    return this.first<{ n: number }>('SELECT total_changes() AS n')?.n ?? 0;
  }

  // ---- bulk load ---------------------------------------------------------------------------

  /** The CREATE statements of the indexes beginBulkLoad dropped, until endBulkLoad builds them. */
  private deferredIndexes: string[] = [];

  /**
   * Filling a store that has read no file yet (the first index, a rebuild): the request rows'
   * secondary indexes are dropped now and built once by endBulkLoad. Building an index from sorted
   * rows is several times faster than keeping it up to date row by row, and packs its pages full
   * (the store is smaller). Nothing the pass itself runs reads these indexes; what a query asks
   * meanwhile is answered by scanning. Returns whether it did so. A store persisted meanwhile gets
   * them back when it is next opened (SCHEMA creates missing indexes).
   */
  beginBulkLoad(): boolean {
    // A store that has never read a file: not one whose transcripts simply carry no tokens (Cursor),
    // which would drop and build its indexes, and save, on every pass.
    if (this.deferredIndexes.length || this.first('SELECT 1 AS x FROM files LIMIT 1')) return false;
    const names = BULK_DEFERRED_INDEXES.map(() => '?').join(', ');
    const rows = all<{ name: string; sql: string }>(this.db, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND name IN (${names})`, BULK_DEFERRED_INDEXES);
    for (const r of rows) run(this.db, `DROP INDEX ${r.name}`);
    this.deferredIndexes = rows.map((r) => r.sql);
    this.freeStatements();
    return rows.length > 0;
  }

  /** Builds the indexes beginBulkLoad dropped (always called, also when the pass failed). */
  endBulkLoad(): void {
    for (const sql of this.deferredIndexes) this.db.run(sql);
    this.deferredIndexes = [];
    this.freeStatements();
    this.markDirty();
  }

  // ---- files -------------------------------------------------------------------------------

  getFile(filePath: string): FileRow | undefined {
    return this.first<FileRow>( 'SELECT * FROM files WHERE path = ?', [filePath]);
  }

  listFiles(): FileRow[] {
    return all<FileRow>(this.db, 'SELECT * FROM files');
  }

  /** Every file's identity and presence, without the parse state (cheap on thousands of files). */
  listFileHeads(): FileHead[] {
    return all<FileHead>(this.db, 'SELECT file_id, path, session_id, deleted FROM files');
  }

  /**
   * The rows of the sessions a document holds (`<doc>#session=<id>`): a range on the path index,
   * since every such path starts with `<doc>#session=` and sorts before `<doc>#session>`.
   */
  listDocumentSessionRows(docPath: string): FileRow[] {
    const from = `${docPath}${DOC_SEP}`;
    const to = `${from.slice(0, -1)}${String.fromCharCode(from.charCodeAt(from.length - 1) + 1)}`;
    return all<FileRow>(this.db, 'SELECT * FROM files WHERE path >= ? AND path < ?', [from, to]).filter(
      (f) => documentPathOf(f.path) === docPath,
    );
  }

  insertFile(f: { path: string; framework: string; root: string; session_id: string | null }): FileRow {
    this.exec('INSERT INTO files(path, framework, root, session_id) VALUES (?, ?, ?, ?)', [f.path, f.framework, f.root, f.session_id]);
    this.markDirty();
    return this.getFile(f.path)!;
  }

  /** Forgets what was read of a file (it shrank or was replaced): its rows go, it is read again. */
  resetFile(fileId: number): string[] {
    const keys = this.keysOfFile(fileId);
    this.exec('DELETE FROM usage WHERE file_id = ?', [fileId]);
    this.exec('DELETE FROM session_live WHERE file_id = ?', [fileId]);
    this.forgetFileDetails(fileId);
    this.exec(`UPDATE files SET offset = 0, fingerprint = NULL, fingerprint_len = 0, first_record_at = NULL,
      last_activity = NULL, state_json = NULL, skipped_lines = 0, last_skip_reason = NULL, deleted = 0 WHERE file_id = ?`, [fileId]);
    this.markDirty();
    return keys;
  }

  /** The key refs (requestKeyRef) of a file's requests. */
  private keysOfFile(fileId: number): string[] {
    return all<{ k: string }>(this.db, 'SELECT hex(dedup_hash) AS k FROM usage WHERE file_id = ?', [fileId]).map((r) => r.k);
  }

  saveFileProgress(
    fileId: number,
    p: {
      size: number;
      mtime_ms: number;
      ino: string;
      offset: number;
      fingerprint: string;
      fingerprint_len: number;
      state: FileState;
      /** Keep the state for the next read to continue from (false for documents: always read whole). */
      resumable: boolean;
      skipped: number;
      skip_reason: string | null;
      session_id: string | null;
    },
  ): void {
    this.exec(
      `UPDATE files SET size = ?, mtime_ms = ?, ino = ?, offset = ?, fingerprint = ?, fingerprint_len = ?, first_record_at = ?,
        last_activity = ?, state_json = ?, skipped_lines = skipped_lines + ?, last_skip_reason = COALESCE(?, last_skip_reason),
        session_id = COALESCE(?, session_id), deleted = 0, indexed_at = ? WHERE file_id = ?`,
      [
        p.size, p.mtime_ms, p.ino, p.offset, p.fingerprint, p.fingerprint_len, p.state.first_record_at, p.state.last_activity,
        p.resumable ? stateJson(p.state) : null, p.skipped, p.skip_reason, p.session_id, new Date().toISOString(), fileId,
      ],
    );
    this.markDirty();
  }

  /** Only the stat fields changed (e.g. a touch): no need to re-read. */
  saveFileStat(fileId: number, size: number, mtimeMs: number, ino: string): void {
    this.exec('UPDATE files SET size = ?, mtime_ms = ?, ino = ? WHERE file_id = ?', [size, mtimeMs, ino, fileId]);
    this.markDirty();
  }

  /**
   * A transcript that is gone (retention, /cd, archive) keeps its rows, marked deleted: its history
   * still counts unless another file holds the same requests, which then win.
   */
  markFileDeleted(fileId: number): string[] {
    this.exec('UPDATE files SET deleted = 1 WHERE file_id = ?', [fileId]);
    this.markDirty();
    return this.keysOfFile(fileId);
  }

  /** A file marked deleted is there again, unchanged (moved away and back): its rows are present again. */
  markFilePresent(fileId: number): string[] {
    this.exec('UPDATE files SET deleted = 0 WHERE file_id = ?', [fileId]);
    this.markDirty();
    return this.keysOfFile(fileId);
  }

  // ---- usage -------------------------------------------------------------------------------

  /**
   * Merges a batch's rows for a file: per key the larger row wins (streamed lines grow). Returns the
   * key refs of all the rows given (for recomputeCounted).
   */
  upsertUsage(fileId: number, sessionId: string, rows: PricedUsageRow[], fileHasRows = true): string[] {
    // A file read from its start has no rows yet: only this call's own rows can be "the previous one".
    const written = new Map<string, { input: number; output: number; cache_read: number; cache_write: number }>();
    const refs: string[] = [];
    for (const r of rows) {
      const hash = keyHash(r.dedup_key);
      refs.push(keyRef(hash));
      const prev =
        written.get(r.dedup_key) ??
        (fileHasRows
          ? this.first<{ input: number; output: number; cache_read: number; cache_write: number }>(
              'SELECT input, output, cache_read, cache_write FROM usage WHERE file_id = ? AND dedup_hash = ?',
              [fileId, hash],
            )
          : undefined);
      if (prev) {
        const prevRow: UsageRow = { ...r, tokens: { ...prev, cache_write_1h: 0 } };
        if (largerUsage(prevRow, r) === prevRow) continue;
      }
      this.exec(
        `INSERT OR REPLACE INTO usage(file_id, dedup_hash, session_id, message_hash, sidechain, ts, model, git_branch, input, output,
          cache_read, cache_write, cache_write_1h, speed, provider, vendor_cost_usd, cost_usd, priced, rule_id, request_count, counted, origin_session_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
        [
          fileId, hash, sessionId, r.message_id === null ? null : keyHash(r.message_id), r.sidechain ? 1 : 0, r.ts, r.model, r.git_branch, r.tokens.input, r.tokens.output,
          r.tokens.cache_read, r.tokens.cache_write, r.tokens.cache_write_1h, r.speed, r.provider ?? null,
          r.vendor_cost_usd ?? null, r.cost_usd, r.priced ? 1 : 0, this.ruleId(r.price_rule), r.request_count ?? 1, r.origin_session_id ?? null,
        ],
      );
      written.set(r.dedup_key, r.tokens);
    }
    this.markDirty();
    return refs;
  }

  /**
   * Decides, for every row of the given keys, whether it counts. A key found in several files counts
   * once: for a main-chain row before a sidechain one (else the next rule would drop the sidechain
   * row and the request would count nowhere), a present file before a deleted one, then the row of
   * the session that made it by the agent's own copy marks (fewest marked hops back to it), then
   * the file whose session started first (a fork or an old-style resume copies history into a
   * newer file, unmarked by some versions). A sidechain copy of a message that also exists on a
   * main chain does not count (side questions re-log the parent's messages). docs/accounting.md §2–3.
   * Returns the sessions whose totals may have changed.
   */
  recomputeCounted(keys: Iterable<string>): Set<string> {
    const keyList = [...new Set(keys)];
    const sessions = new Set<string>();
    if (keyList.length === 0) return sessions;
    this.exec('CREATE TEMP TABLE IF NOT EXISTS tmp_keys (k BLOB PRIMARY KEY)');
    this.exec('DELETE FROM tmp_keys');
    const stmt = this.db.prepare('INSERT OR IGNORE INTO tmp_keys(k) VALUES (?)');
    try {
      for (const k of keyList) stmt.run([Buffer.from(k, 'hex')]);
    } finally {
      stmt.free();
    }
    // Rows sharing a message id with the changed ones may change sides too.
    this.exec(`INSERT OR IGNORE INTO tmp_keys(k) SELECT u2.dedup_hash FROM usage u1 JOIN usage u2 ON u2.message_hash = u1.message_hash
      WHERE u1.dedup_hash IN (SELECT k FROM tmp_keys) AND u1.message_hash IS NOT NULL`);
    for (const r of all<{ session_id: string }>(this.db, 'SELECT DISTINCT session_id FROM usage WHERE dedup_hash IN (SELECT k FROM tmp_keys)')) {
      sessions.add(r.session_id);
    }
    this.markedCopyHops();
    this.exec('UPDATE usage SET counted = 0 WHERE dedup_hash IN (SELECT k FROM tmp_keys)');
    this.exec(`UPDATE usage SET counted = 1 WHERE rowid IN (
      SELECT (SELECT u.rowid FROM usage u JOIN files f ON f.file_id = u.file_id LEFT JOIN tmp_hops h ON h.rid = u.rowid WHERE u.dedup_hash = t.k
              ORDER BY u.sidechain, f.deleted, COALESCE(h.hops, 0), f.first_record_at IS NULL, f.first_record_at, f.session_id, u.file_id LIMIT 1)
      FROM tmp_keys t)`);
    this.exec(`UPDATE usage SET counted = 0 WHERE counted = 1 AND sidechain = 1 AND message_hash IS NOT NULL
      AND dedup_hash IN (SELECT k FROM tmp_keys)
      AND EXISTS (SELECT 1 FROM usage m WHERE m.message_hash = usage.message_hash AND m.sidechain = 0)`);
    this.markDirty();
    return sessions;
  }

  /**
   * For every marked copy among the rows of tmp_keys, how many marked hops lead back from it to the
   * row of the session that made the request (into tmp_hops; a row not there is 0 hops: the maker's,
   * an unmarked copy, or a copy whose origin holds no row of the key, which then counts where it
   * is). A copy names its origin session; the origin's row of the same key may be a marked copy
   * itself (a fork of a fork), and so on. Walks start from the partial index of marked rows
   * (usage_marked), so a store without forks pays nothing for them. Walks stop after 16 hops: a
   * cycle of marks (no real transcript makes one) ends as a tie that the started-first rule breaks.
   */
  private markedCopyHops(): void {
    this.exec('CREATE TEMP TABLE IF NOT EXISTS tmp_hops (rid INTEGER PRIMARY KEY, hops INTEGER NOT NULL)');
    this.exec('DELETE FROM tmp_hops');
    this.exec(`INSERT INTO tmp_hops(rid, hops)
      WITH RECURSIVE walk(rid, k, target, hops) AS (
        SELECT u.rowid, u.dedup_hash, u.origin_session_id, 1 FROM usage u INDEXED BY usage_marked
         WHERE u.origin_session_id IS NOT NULL AND EXISTS (SELECT 1 FROM tmp_keys t WHERE t.k = u.dedup_hash)
        UNION
        SELECT w.rid, w.k, o.origin_session_id, w.hops + 1 FROM walk w
         JOIN usage o ON o.dedup_hash = w.k AND o.session_id = w.target
         WHERE o.origin_session_id IS NOT NULL AND w.hops < 16
      )
      SELECT rid, MAX(hops) FROM walk w
       WHERE EXISTS (SELECT 1 FROM usage h WHERE h.dedup_hash = w.k AND h.session_id = w.target)
       GROUP BY rid`);
  }

  /**
   * Prices every stored row again from its stored tokens (the price overrides changed, or refreshed
   * price data arrived): no transcript is read. Returns how many rows changed cost.
   */
  repriceAll(price: (row: StoredPriceInput) => { cost_usd: number | null; priced: boolean; rule: string }): number {
    const rows = all<StoredPriceInput & { rid: number; cost_usd: number | null; priced: number; price_rule: string | null }>(
      this.db,
      `SELECT u.rowid AS rid, f.framework AS framework, u.model, u.provider, u.vendor_cost_usd, u.request_count, u.speed, u.ts,
        u.input, u.output, u.cache_read, u.cache_write, u.cache_write_1h, u.cost_usd, u.priced, ${PRICE_RULE_OF_U} AS price_rule
       FROM usage u JOIN files f ON f.file_id = u.file_id`,
    );
    let changed = 0;
    this.transaction(() => {
      const stmt = this.db.prepare('UPDATE usage SET cost_usd = ?, priced = ?, rule_id = ? WHERE rowid = ?');
      try {
        for (const r of rows) {
          const p = price(r);
          if (!p.priced && r.price_rule?.startsWith(AGENT_FILL_RULE)) continue;
          if (p.cost_usd === r.cost_usd && (p.priced ? 1 : 0) === r.priced && p.rule === r.price_rule) continue;
          stmt.run([p.cost_usd, p.priced ? 1 : 0, this.ruleId(p.rule), r.rid]);
          changed++;
        }
      } finally {
        stmt.free();
      }
      const every = all<{ session_id: string }>(this.db, 'SELECT session_id FROM sessions').map((r) => r.session_id);
      if (this.fillFromAgentFigures(every).size) changed++;
      if (changed) this.recomputeTotals(every);
    });
    return changed;
  }

  /**
   * The agent's own figure fills a gap: for a session whose agent recorded its cost per model
   * (Claude Code cost-state `modelUsage`, covering the session with its subagents), the counted
   * requests of a model we could not price get that model's figure, minus what we did price of it,
   * shared among them by token count, labelled as the agent's. Runs for the given top-level
   * sessions (and their subagents); returns the sessions whose rows changed. docs/accounting.md, "Pricing".
   */
  fillFromAgentFigures(sessionIds: Iterable<string>): Set<string> {
    const changed = new Set<string>();
    for (const root of this.rootSessions(sessionIds)) {
      const rootRow = one<{ agent_model_costs: string | null; framework: string }>(this.db, 'SELECT agent_model_costs, framework FROM sessions WHERE session_id = ?', [root]);
      let costs: Record<string, number> = {};
      try {
        costs = rootRow?.agent_model_costs ? (JSON.parse(rootRow.agent_model_costs) as Record<string, number>) : {};
      } catch {
        costs = {};
      }
      const tree = this.sessionTree(root);
      const rows = all<{ rid: number; session_id: string; model: string | null; tokens: number; cost_usd: number | null; priced: number; price_rule: string | null }>(
        this.db,
        `SELECT rowid AS rid, session_id, model, input + output + cache_read + cache_write AS tokens, cost_usd, priced, ${PRICE_RULE_OF_U} AS price_rule
         FROM usage u WHERE counted = 1 AND ${ofSessionFiles('file_id', tree.length)}`,
        tree,
      );
      const byModel = new Map<string, typeof rows>();
      for (const r of rows) {
        const m = r.model ?? '';
        byModel.set(m, [...(byModel.get(m) ?? []), r]);
      }
      for (const [model, list] of byModel) {
        const filled = list.filter((r) => r.price_rule?.startsWith(AGENT_FILL_RULE));
        const gaps = list.filter((r) => !r.priced || r.price_rule?.startsWith(AGENT_FILL_RULE));
        if (!gaps.length) continue;
        const pricedSum = list.filter((r) => r.priced && !r.price_rule?.startsWith(AGENT_FILL_RULE)).reduce((a, r) => a + (r.cost_usd ?? 0), 0);
        const agentCost = costs[model];
        const gap = typeof agentCost === 'number' ? agentCost - pricedSum : 0;
        const tokens = gaps.reduce((a, r) => a + r.tokens, 0);
        if (gap > 0 && tokens > 0) {
          const rule = `${AGENT_FILL_RULE}: ${rootRow?.framework === 'claude_code' ? 'Claude Code' : (rootRow?.framework ?? 'agent')} cost-state ${model} $${agentCost} − $${pricedSum.toFixed(6)} priced here, shared by tokens`;
          for (const r of gaps) {
            const share = (gap * r.tokens) / tokens;
            if (r.priced && r.cost_usd === share && r.price_rule === rule) continue;
            this.exec('UPDATE usage SET cost_usd = ?, priced = 1, rule_id = ? WHERE rowid = ?', [share, this.ruleId(rule), r.rid]);
            changed.add(r.session_id);
          }
        } else {
          // The agent's figure no longer covers them (or is gone): unpriced again.
          for (const r of filled) {
            this.exec('UPDATE usage SET cost_usd = NULL, priced = 0, rule_id = ? WHERE rowid = ?', [this.ruleId(`no price for ${model || 'an unrecorded model'}`), r.rid]);
            changed.add(r.session_id);
          }
        }
      }
    }
    if (changed.size) this.markDirty();
    return changed;
  }

  /** The top-level sessions of the given ones (a subagent's parent, recursively). */
  private rootSessions(sessionIds: Iterable<string>): Set<string> {
    const roots = new Set<string>();
    for (const id of sessionIds) {
      let cur = id;
      for (let i = 0; i < 50; i++) {
        const p = one<{ parent_session_id: string | null }>(this.db, 'SELECT parent_session_id FROM sessions WHERE session_id = ?', [cur]);
        if (!p?.parent_session_id) break;
        cur = p.parent_session_id;
      }
      roots.add(cur);
    }
    return roots;
  }

  /** A session and its subagents, recursively. */
  private sessionTree(root: string): string[] {
    const out = [root];
    for (let i = 0; i < out.length && out.length < 10_000; i++) {
      for (const c of all<{ session_id: string }>(this.db, 'SELECT session_id FROM sessions WHERE parent_session_id = ?', [out[i]])) {
        if (!out.includes(c.session_id)) out.push(c.session_id);
      }
    }
    return out;
  }

  /** Session totals from their counted rows. */
  recomputeTotals(sessionIds: Iterable<string>): void {
    for (const id of new Set(sessionIds)) {
      const t = this.first<{ i: number; o: number; cr: number; cw: number; cost: number | null; requests: number; unpriced: number }>(
        `SELECT COALESCE(SUM(input),0) AS i, COALESCE(SUM(output),0) AS o, COALESCE(SUM(cache_read),0) AS cr,
          COALESCE(SUM(cache_write),0) AS cw, SUM(CASE WHEN priced = 1 THEN cost_usd END) AS cost, COALESCE(SUM(request_count),0) AS requests,
          COALESCE(SUM(CASE WHEN priced = 0 THEN request_count ELSE 0 END),0) AS unpriced
         FROM usage WHERE ${ofSessionFiles('file_id', 1)} AND counted = 1`,
        [id],
      )!;
      this.exec(
        `UPDATE sessions SET tokens_input = ?, tokens_output = ?, tokens_cache_read = ?, tokens_cache_write = ?, cost_usd = ?,
          api_request_count = ?, unpriced_requests = ? WHERE session_id = ?`,
        [t.i, t.o, t.cr, t.cw, t.cost, t.requests, t.unpriced, id],
      );
    }
    this.markDirty();
  }

  // ---- sessions ----------------------------------------------------------------------------

  /**
   * Writes what a file says about its session. When several files carry the same session id (a
   * copy under two config roots, a moved file), the present file with the latest activity speaks.
   */
  /** price_rules ids by text: a store meets a handful of rules, each looked up once. */
  private readonly ruleIds = new Map<string, number>();

  /** The id of a price rule's text (added to price_rules when new). */
  private ruleId(rule: string): number {
    let id = this.ruleIds.get(rule);
    if (id === undefined) {
      this.exec('INSERT OR IGNORE INTO price_rules(rule) VALUES (?)', [rule]);
      id = this.first<{ id: number }>('SELECT rule_id AS id FROM price_rules WHERE rule = ?', [rule])!.id;
      this.ruleIds.set(rule, id);
    }
    return id;
  }

  /**
   * A session's prompt, tool call and API error counts as one of its files tells them: its own, plus
   * the marked copies whose origin session has no present transcript (docs/accounting.md §2: a copy
   * counts for the session it names while that session's transcript is there, else where it is).
   * Tool calls are the file's distinct call ids (addFileDetails keeps one row per id).
   */
  private fileCounts(fileId: number, s: FileState): { messages: number; tool_calls: number; api_errors: number } {
    const copies = this.first<{ m: number; e: number }>(
      `SELECT COALESCE(SUM(messages), 0) AS m, COALESCE(SUM(api_errors), 0) AS e FROM file_copies c
       WHERE c.file_id = ? AND NOT EXISTS (SELECT 1 FROM files o WHERE o.session_id = c.origin_session_id AND o.deleted = 0)`,
      [fileId],
    );
    const tools = this.first<{ n: number }>(
      `SELECT count(*) AS n FROM tool_calls t WHERE t.file_id = ? AND (t.origin_session_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM files o WHERE o.session_id = t.origin_session_id AND o.deleted = 0))`,
      [fileId],
    );
    return { messages: s.message_count + (copies?.m ?? 0), tool_calls: tools?.n ?? 0, api_errors: s.api_error_count + (copies?.e ?? 0) };
  }

  /** The file that speaks for a session (several carry its id: a copy under two config roots, a moved file). */
  private speakingFile(sessionId: string): number | undefined {
    return this.first<{ file_id: number }>(
      'SELECT file_id FROM files WHERE session_id = ? ORDER BY deleted, last_activity DESC, file_id LIMIT 1',
      [sessionId],
    )?.file_id;
  }

  /**
   * After the given sessions' transcripts appeared, grew or went: the forks holding marked copies of
   * their lines count those copies' prompts, tool calls and API errors again (for the origin while
   * it is present, else for the fork). Returns the sessions whose counts were written.
   */
  refreshCopiedCounts(origins: Iterable<string>): Set<string> {
    const wanted = new Set(origins);
    const refreshed = new Set<string>();
    if (!wanted.size) return refreshed;
    // Only files with marked copies have rows here (a few forks): read whole, not looked up per origin.
    const forkFiles = new Set<number>();
    for (const r of all<{ file_id: number; origin_session_id: string }>(this.db, 'SELECT file_id, origin_session_id FROM file_copies')) {
      if (wanted.has(r.origin_session_id)) forkFiles.add(r.file_id);
    }
    for (const fileId of forkFiles) {
      const f = this.first<Pick<FileRow, 'session_id' | 'state_json'>>('SELECT session_id, state_json FROM files WHERE file_id = ?', [fileId]);
      if (!f?.session_id || !f.state_json || this.speakingFile(f.session_id) !== fileId) continue;
      const c = this.fileCounts(fileId, parseStateJson(f.state_json, { session_id: f.session_id, parent_session_id: null, agent_id: null }));
      this.exec('UPDATE sessions SET message_count = ?, tool_call_count = ?, api_error_count = ? WHERE session_id = ?', [c.messages, c.tool_calls, c.api_errors, f.session_id]);
      refreshed.add(f.session_id);
    }
    if (refreshed.size) this.markDirty();
    return refreshed;
  }

  writeSessionFromFile(fileId: number, framework: string, root: string, filePath: string, s: FileState, machineId: string | null): void {
    const sessionId = s.session_id;
    if (!sessionId) return;
    // What the file holds copies of is the file's own fact, written whether or not it speaks for its session.
    for (const [origin, n] of Object.entries(s.copied ?? {})) {
      this.exec(
        `INSERT INTO file_copies(file_id, origin_session_id, messages, api_errors) VALUES (?, ?, ?, ?)
         ON CONFLICT(file_id, origin_session_id) DO UPDATE SET messages = excluded.messages, api_errors = excluded.api_errors`,
        [fileId, origin, n.messages, n.api_errors],
      );
    }
    const best = this.speakingFile(sessionId);
    if (best !== undefined && best !== fileId) return;
    const f = sessionFacts(s);
    const counts = this.fileCounts(fileId, s);
    this.exec(
      `INSERT INTO sessions(session_id, parent_session_id, agent_id, machine_id, framework, title, first_started_at, last_started_at,
        first_ended_at, last_activity, revival_count, turn_state, turn_state_at, cwd, git_branch, git_worktree_path, github_repo, github_issue, issue_url,
        github_pr, pr_url, agent_lines_added, agent_lines_removed, first_user_message, last_user_message, model, compaction_count, message_count,
        tool_call_count, api_error_count, agent_cost_usd, agent_model_costs, context, token_totals_pending, transcript_available, transcript_path, root,
        forked_from_session_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT(session_id) DO UPDATE SET parent_session_id = excluded.parent_session_id, agent_id = excluded.agent_id,
        forked_from_session_id = excluded.forked_from_session_id,
        machine_id = excluded.machine_id, framework = excluded.framework, title = excluded.title,
        first_started_at = excluded.first_started_at, last_started_at = excluded.last_started_at,
        first_ended_at = excluded.first_ended_at, last_activity = excluded.last_activity, revival_count = excluded.revival_count, turn_state = excluded.turn_state,
        turn_state_at = excluded.turn_state_at, cwd = excluded.cwd, git_branch = excluded.git_branch,
        git_worktree_path = excluded.git_worktree_path, github_repo = COALESCE(excluded.github_repo, sessions.github_repo),
        github_issue = excluded.github_issue, issue_url = excluded.issue_url, github_pr = excluded.github_pr, pr_url = excluded.pr_url,
        agent_lines_added = excluded.agent_lines_added, agent_lines_removed = excluded.agent_lines_removed, first_user_message = excluded.first_user_message,
        last_user_message = excluded.last_user_message, model = excluded.model, compaction_count = excluded.compaction_count,
        message_count = excluded.message_count, tool_call_count = excluded.tool_call_count, api_error_count = excluded.api_error_count,
        agent_cost_usd = excluded.agent_cost_usd, agent_model_costs = excluded.agent_model_costs, context = excluded.context,
        token_totals_pending = excluded.token_totals_pending, transcript_available = 1,
        transcript_path = excluded.transcript_path, root = excluded.root`,
      [
        sessionId, s.parent_session_id, s.agent_id, machineId, framework, f.title, s.first_started_at, s.last_started_at,
        s.first_ended_at, s.last_activity, f.revival_count, s.turn_state, s.turn_state_at, s.cwd, s.git_branch, s.git_worktree_path, f.github_repo,
        f.github_issue, f.issue_url, f.github_pr, f.pr_url, s.agent_lines_added, s.agent_lines_removed, s.first_user_message, s.last_user_message,
        s.model, s.compaction_count, counts.messages, counts.tool_calls, counts.api_errors, s.agent_cost_usd,
        s.agent_model_costs ? JSON.stringify(s.agent_model_costs) : null, s.context,
        s.token_totals_pending === null || s.token_totals_pending === undefined ? null : s.token_totals_pending ? 1 : 0, filePath, root,
        s.forked_from_session_id ?? null,
      ],
    );
    this.exec('DELETE FROM session_prs WHERE session_id = ?', [sessionId]);
    for (const p of s.prs ?? []) {
      this.exec('INSERT INTO session_prs(session_id, number, url, repo, source, recorded_branch, branch, ts) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)', [
        sessionId, p.number, p.url, p.repo, p.source, p.branch, p.ts,
      ]);
    }
    this.indexTitle(sessionId, f.title);
    this.markDirty();
  }

  /** After a file is marked deleted: its session stays, pointing at another present file if any. */
  refreshTranscriptAvailability(sessionId: string): void {
    const present = this.first<{ path: string }>(
      'SELECT path FROM files WHERE session_id = ? AND deleted = 0 ORDER BY last_activity DESC LIMIT 1',
      [sessionId],
    );
    this.exec('UPDATE sessions SET transcript_available = ?, transcript_path = COALESCE(?, transcript_path) WHERE session_id = ?', [
      present ? 1 : 0, present ? documentPathOf(present.path) : null, sessionId,
    ]);
    this.markDirty();
  }

  // ---- searchable text, tool calls, errors and compactions ------------------------------------

  /**
   * Keeps what a batch of a file's events says beyond the session row: prompt and assistant text
   * for search (bounded), tool calls by name, when API errors and compactions happened. Rows are
   * per file, so a file read again from the start replaces its own.
   */
  addFileDetails(fileId: number, sessionId: string, events: Iterable<AgentEvent>): void {
    for (const e of events) {
      if (e.kind === 'user_prompt' || e.kind === 'assistant_text') {
        const text = e.text.trim().slice(0, SEARCH_TEXT_MAX);
        if (!text) continue;
        const docid = this.newDocid();
        this.exec('INSERT INTO search_doc(docid, file_id, session_id, kind, ts) VALUES (?, ?, NULL, ?, ?)', [docid, fileId, e.kind === 'user_prompt' ? 'prompt' : 'assistant', e.ts]);
        this.pendingTexts.set(docid, text);
        this.pendingChars += text.length;
      } else if (e.kind === 'tool_call') {
        this.exec('INSERT OR IGNORE INTO tool_calls(file_id, tool_id, name, origin_session_id) VALUES (?, ?, ?, ?)', [fileId, keyHash(e.id), e.name, e.copied_from ?? null]);
        // A fork whose copies are only tool calls is found by its origin too (refreshCopiedCounts).
        if (e.copied_from) this.exec('INSERT OR IGNORE INTO file_copies(file_id, origin_session_id) VALUES (?, ?)', [fileId, e.copied_from]);
      } else if (e.kind === 'api_error' || e.kind === 'compaction') {
        this.exec('INSERT INTO session_marks(file_id, session_id, kind, ts) VALUES (?, ?, ?, ?)', [fileId, sessionId, e.kind, e.ts]);
      }
    }
    this.markDirty();
  }

  /**
   * Texts whose search_doc row is written but whose full-text entry is not yet (docid → text).
   * FTS4 writes out what it has gathered at every savepoint, and a pass keeps each file in a
   * savepoint of its own: indexed file by file, thousands of tiny index segments were written and
   * merged again, more than half of a cold pass's search cost. So texts are gathered here and
   * indexed together between two pieces once there are enough of them (PENDING_TEXT_CHARS), when
   * the transaction ends, and before anything reads the index. A text whose
   * row was rolled back or deleted meanwhile is not indexed.
   */
  private readonly pendingTexts = new Map<number, string>();
  private pendingChars = 0;
  /** The next search_doc docid (never reused within a store, so a pending text cannot land on another row). */
  private nextDocid = 0;

  private newDocid(): number {
    if (!this.nextDocid) {
      this.nextDocid = 1 + (this.first<{ n: number }>('SELECT MAX(COALESCE((SELECT MAX(docid) FROM search_doc), 0), COALESCE((SELECT MAX(docid) FROM search_fts), 0)) AS n')?.n ?? 0);
    }
    return this.nextDocid++;
  }

  /** Indexes the gathered search texts (see pendingTexts). Never inside a savepoint. */
  flushSearchTexts(): void {
    if (!this.pendingTexts.size) return;
    const texts = [...this.pendingTexts];
    this.pendingTexts.clear();
    this.pendingChars = 0;
    const write = () => {
      // Docids only grow: the rows still there among the gathered ones are those from the smallest on.
      const from = texts.reduce((m, [docid]) => Math.min(m, docid), Infinity);
      const present = new Set(all<{ docid: number }>(this.db, 'SELECT docid FROM search_doc WHERE docid >= ?', [from]).map((r) => r.docid));
      for (const [docid, body] of texts) {
        if (present.has(docid)) this.exec('INSERT INTO search_fts(docid, body) VALUES (?, ?)', [docid, body]);
      }
    };
    if (this.depth > 0) write();
    else this.transaction(write);
    this.markDirty();
  }

  private forgetFileDetails(fileId: number): void {
    this.exec('DELETE FROM search_fts WHERE docid IN (SELECT docid FROM search_doc WHERE file_id = ?)', [fileId]);
    this.exec('DELETE FROM search_doc WHERE file_id = ?', [fileId]);
    this.exec('DELETE FROM tool_calls WHERE file_id = ?', [fileId]);
    this.exec('DELETE FROM file_copies WHERE file_id = ?', [fileId]);
    this.exec('DELETE FROM session_marks WHERE file_id = ?', [fileId]);
  }

  /** The session's title as a search document of its own (file_id 0: it belongs to no one file). */
  private indexTitle(sessionId: string, title: string | null): void {
    const prev = this.first<{ docid: number }>("SELECT docid FROM search_doc WHERE session_id = ? AND kind = 'title'", [sessionId]);
    const prevBody = prev
      ? (this.pendingTexts.get(prev.docid) ?? this.first<{ body: string }>('SELECT body FROM search_fts WHERE docid = ?', [prev.docid])?.body ?? null)
      : null;
    if (prevBody === title) return;
    if (prev) {
      this.exec('DELETE FROM search_fts WHERE docid = ?', [prev.docid]);
      this.exec('DELETE FROM search_doc WHERE docid = ?', [prev.docid]);
      this.pendingTexts.delete(prev.docid);
    }
    if (!title) return;
    const docid = this.newDocid();
    this.exec("INSERT INTO search_doc(docid, file_id, session_id, kind, ts) VALUES (?, 0, ?, 'title', NULL)", [docid, sessionId]);
    this.pendingTexts.set(docid, title);
    this.pendingChars += title.length;
  }

  // ---- git facts per working directory ---------------------------------------------------------

  unresolvedCwds(): string[] {
    return all<{ cwd: string }>(
      this.db,
      'SELECT DISTINCT s.cwd FROM sessions s LEFT JOIN cwd_info c ON c.cwd = s.cwd WHERE s.cwd IS NOT NULL AND c.cwd IS NULL',
    ).map((r) => r.cwd);
  }

  setCwdInfo(cwd: string, info: { git_dir: string | null; toplevel: string | null; github_repo: string | null }): void {
    this.exec('INSERT OR REPLACE INTO cwd_info(cwd, git_dir, toplevel, github_repo, resolved_at) VALUES (?, ?, ?, ?, ?)', [
      cwd, info.git_dir, info.toplevel, info.github_repo, new Date().toISOString(),
    ]);
    this.markDirty();
  }

  // ---- per-request branch attribution ----------------------------------------------------------

  /** Usage rows whose branch is not settled yet, with what attribution needs to know. */
  /** The (repository, branch) pairs the given sessions worked on, with the working tree to ask git in. */
  sessionBranches(sessionIds: Iterable<string>): { git_dir: string; toplevel: string; branch: string; head: string | null }[] {
    const ids = [...new Set(sessionIds)];
    if (!ids.length) return [];
    return all(
      this.db,
      `SELECT DISTINCT c.git_dir AS git_dir, c.toplevel AS toplevel, s.git_branch AS branch, d.head AS head
       FROM sessions s JOIN cwd_info c ON c.cwd = s.cwd LEFT JOIN branch_diff d ON d.git_dir = c.git_dir AND d.branch = s.git_branch
       WHERE s.session_id IN (SELECT value FROM json_each(?)) AND c.git_dir IS NOT NULL AND c.toplevel IS NOT NULL
         AND s.git_branch IS NOT NULL AND s.git_branch <> '' AND s.git_branch <> 'HEAD'`,
      [JSON.stringify(ids)],
    );
  }

  /** Keeps a branch's diff against the default branch (null: none, e.g. the branch is gone or is the default). */
  setBranchDiff(gitDir: string, branch: string, diff: { additions: number; deletions: number; base: string; head: string } | null): void {
    if (diff) {
      this.exec('INSERT OR REPLACE INTO branch_diff(git_dir, branch, additions, deletions, base, head) VALUES (?, ?, ?, ?, ?, ?)', [
        gitDir, branch, diff.additions, diff.deletions, diff.base, diff.head,
      ]);
    } else {
      this.exec('DELETE FROM branch_diff WHERE git_dir = ? AND branch = ?', [gitDir, branch]);
    }
    this.markDirty();
  }

  unresolvedBranchRows(): { rowid: number; ts: string | null; git_branch: string | null; framework: string; session_branch: string | null; cwd: string | null; git_dir: string | null; toplevel: string | null; cwd_known: number }[] {
    return all(
      this.db,
      `SELECT u.rowid AS rowid, u.ts AS ts, u.git_branch AS git_branch, f.framework AS framework, s.git_branch AS session_branch, s.cwd AS cwd,
        c.git_dir AS git_dir, c.toplevel AS toplevel, c.cwd IS NOT NULL AS cwd_known
       FROM usage u JOIN files f ON f.file_id = u.file_id LEFT JOIN sessions s ON s.session_id = u.session_id LEFT JOIN cwd_info c ON c.cwd = s.cwd
       WHERE u.branch_resolved = 0`,
    );
  }

  setRowBranch(rowid: number, branch: string | null): void {
    this.exec('UPDATE usage SET branch = ?, branch_resolved = 1 WHERE rowid = ?', [branch, rowid]);
  }

  /** PR sightings whose branch is not settled yet (written with the session, attributed like requests). */
  unresolvedPrRows(): { rowid: number; ts: string | null; recorded_branch: string | null; framework: string; toplevel: string | null; cwd_known: number; git_dir: string | null }[] {
    return all(
      this.db,
      `SELECT p.rowid AS rowid, p.ts AS ts, p.recorded_branch AS recorded_branch, s.framework AS framework, c.toplevel AS toplevel,
        c.cwd IS NOT NULL AS cwd_known, c.git_dir AS git_dir
       FROM session_prs p JOIN sessions s ON s.session_id = p.session_id LEFT JOIN cwd_info c ON c.cwd = s.cwd WHERE p.branch IS NULL`,
    );
  }

  setPrRowBranch(rowid: number, branch: string): void {
    this.exec('UPDATE session_prs SET branch = ? WHERE rowid = ?', [branch, rowid]);
  }

  /** Keeps what a network source said about a branch's PR (or that it has none). */
  setPrLookup(gitDir: string, branch: string, source: string, pr: { number: number; url: string; state: string | null; title: string | null } | null, atMs = Date.now()): void {
    run(
      this.db,
      'INSERT OR REPLACE INTO pr_lookup(git_dir, branch, source, number, url, state, title, fetched_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [gitDir, branch, source, pr?.number ?? null, pr?.url ?? null, pr?.state ?? null, pr?.title ?? null, atMs],
    );
    this.markDirty();
  }

  getPrLookup(gitDir: string, branch: string, source: string): { number: number | null; url: string | null; state: string | null; title: string | null; fetched_at_ms: number } | undefined {
    return one(this.db, 'SELECT number, url, state, title, fetched_at_ms FROM pr_lookup WHERE git_dir = ? AND branch = ? AND source = ?', [gitDir, branch, source]);
  }

  // ---- live process registry -----------------------------------------------------------------

  replaceLive(root: string, entries: LiveProcess[]): void {
    // Every rescan reads the registries; the same processes in the same states write nothing, so a
    // start or rescan that found nothing new leaves the store clean (no persist of the whole file).
    const values = (e: LiveProcess) => [e.pid, e.session_id, e.status, e.waiting_for, e.started_at_ms, e.updated_at_ms, e.alive ? 1 : 0];
    const stored = all<{ pid: number; session_id: string | null; status: string | null; waiting_for: string | null; started_at_ms: number | null; updated_at_ms: number | null; alive: number }>(
      this.db,
      'SELECT pid, session_id, status, waiting_for, started_at_ms, updated_at_ms, alive FROM live WHERE root = ? ORDER BY pid',
      [root],
    );
    const wanted = [...entries].sort((a, b) => a.pid - b.pid).map((e) => JSON.stringify(values(e)));
    const have = stored.map((r) => JSON.stringify([r.pid, r.session_id, r.status, r.waiting_for, r.started_at_ms, r.updated_at_ms, r.alive]));
    if (wanted.length === have.length && wanted.every((w, i) => w === have[i])) return;
    this.exec('DELETE FROM live WHERE root = ?', [root]);
    for (const e of entries) {
      this.exec(
        `INSERT OR REPLACE INTO live(pid, session_id, root, status, waiting_for, started_at_ms, updated_at_ms, alive, checked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [e.pid, e.session_id, root, e.status, e.waiting_for, e.started_at_ms, e.updated_at_ms, e.alive ? 1 : 0, new Date().toISOString()],
      );
    }
    this.markDirty();
  }

  // ---- live facts from the hook spool and telemetry ------------------------------------------

  /**
   * Folds a spool file's new live events into the facts kept per (session, file). The sessions
   * themselves are left alone: their transcripts own them. Returns the sessions touched.
   */
  applyLiveEvents(fileId: number, events: LiveEvent[]): Set<string> {
    const touched = new Set<string>();
    const facts = new Map<string, LiveFacts>();
    for (const e of events) {
      let f = facts.get(e.session_id);
      if (!f) {
        const row = one<{ facts_json: string }>(this.db, 'SELECT facts_json FROM session_live WHERE session_id = ? AND file_id = ?', [e.session_id, fileId]);
        f = row ? (JSON.parse(row.facts_json) as LiveFacts) : emptyFacts(e.session_id);
        facts.set(e.session_id, f);
      }
      foldLive(f, e);
    }
    for (const f of facts.values()) {
      run(
        this.db,
        `INSERT INTO session_live(session_id, file_id, facts_json, status, status_at_ms, pid, process_started_at_ms, alive)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT(session_id, file_id) DO UPDATE SET facts_json = excluded.facts_json, status = excluded.status,
          status_at_ms = excluded.status_at_ms, pid = excluded.pid, process_started_at_ms = excluded.process_started_at_ms,
          alive = CASE WHEN session_live.pid IS excluded.pid THEN session_live.alive ELSE NULL END`,
        [f.session_id, fileId, JSON.stringify(f), f.status, f.status_at_ms, f.pid, f.process_started_at_ms],
      );
      touched.add(f.session_id);
    }
    if (facts.size) this.markDirty();
    return touched;
  }

  /** Live facts whose process may still run (not ended): their pids are checked against the OS. */
  liveFactsToCheck(): { session_id: string; file_id: number; pid: number; process_started_at_ms: number | null; alive: number | null }[] {
    return all(this.db, "SELECT session_id, file_id, pid, process_started_at_ms, alive FROM session_live WHERE pid IS NOT NULL AND (status IS NULL OR status != 'done')");
  }

  setLiveAlive(sessionId: string, fileId: number, alive: boolean): void {
    this.exec('UPDATE session_live SET alive = ? WHERE session_id = ? AND file_id = ?', [alive ? 1 : 0, sessionId, fileId]);
    this.markDirty();
  }

  // ---- persistence -----------------------------------------------------------------------------

  /**
   * Writes the database to a temp file, syncs it and renames it over the store: a crash leaves the
   * old or the new file, never half of one. Never called inside a transaction (sql.js's export()
   * closes and reopens the database, which would roll it back).
   */
  async persist(): Promise<void> {
    if (!this.file || !this.dirty) return;
    if (this.depth > 0) throw new Error('persist() inside a transaction');
    this.flushSearchTexts();
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
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
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

  /**
   * Removes temp files a persist left behind when its process was killed between writing and
   * renaming (kill -9, power loss). Called by the writer only, so it never removes the temp file
   * of a persist in flight: there is one writer per store.
   */
  static async removeStaleTemps(file: string): Promise<number> {
    const dir = path.dirname(file);
    const prefix = `${path.basename(file)}.tmp-`;
    let removed = 0;
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(prefix)) continue;
      await fsp.unlink(path.join(dir, name)).then(() => removed++, () => undefined);
    }
    return removed;
  }

  close(): void {
    this.freeStatements();
    this.db.close();
    this.fileBytes = null;
  }
}

/** What meta 'schema' holds for a store made with this schema: its fingerprint and object count. */
function schemaMark(db: Database): string {
  return `${SCHEMA_FINGERPRINT}/${one<{ n: number }>(db, 'SELECT count(*) AS n FROM sqlite_schema')?.n ?? 0}`;
}

/** Writes a new file and syncs it to the disk before returning. */
function writeDurably(file: string, bytes: Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
