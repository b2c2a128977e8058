import { createHash } from 'node:crypto';
import type { Database } from 'sql.js';
import { one, run } from './sqlite';
import { PARSER_VERSION, SCHEMA_VERSION } from './versions';

/**
 * The index's tables, and what opening a store does with the version it finds. The index holds
 * nothing the transcripts do not: deleting it loses nothing but time.
 *
 * Bump PARSER_VERSION whenever adapters, the reducer or pricing would produce different rows from
 * the same files: the next start rebuilds from the transcripts.
 */
export { PARSER_VERSION, SCHEMA_VERSION };

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
  resolved_at TEXT,
  -- The origin remote, normalised (src/core/git/remoteKey.ts): how sync names a repository that is not on GitHub.
  remote TEXT
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
-- Texts kept whose full-text entry is not written yet (search.ts PendingSearchTexts): a pass writes
-- the numbers first; the index is filled from here in slices afterwards.
CREATE TABLE IF NOT EXISTS search_pending (docid INTEGER PRIMARY KEY, body TEXT NOT NULL);
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

/** What meta 'schema' holds for a store made with this schema: its fingerprint and object count. */
function schemaMark(db: Database): string {
  return `${SCHEMA_FINGERPRINT}/${one<{ n: number }>(db, 'SELECT count(*) AS n FROM sqlite_schema')?.n ?? 0}`;
}

/**
 * Whether a loaded database is a store this code can use: made by this parser version, of this
 * schema version (once migrate() has run). Throws when the file is not a store at all (corrupt).
 */
export function isUsableStore(db: Database): boolean {
  const version = one<{ user_version: number }>(db, 'PRAGMA user_version')?.user_version;
  const parser = one<{ value: string }>(db, "SELECT value FROM meta WHERE key = 'parser_version'")?.value;
  if (parser !== String(PARSER_VERSION) || migrate(db, version) !== SCHEMA_VERSION) return false;
  one(db, 'SELECT count(*) FROM sessions');
  return true;
}

/**
 * Brings a loaded store of an older schema version to this one in place, in order, returning the
 * version it reached. The policy today migrates nothing: a store of another schema or parser
 * version is moved aside and rebuilt from the transcripts (it is an index; a rebuild costs time,
 * not data). A change whose rebuild would cost users too much adds its step here
 * (`if (version === 9) { ...; version = 10; }`); ensureSchema then runs the schema script over the
 * store (its schema mark differs), which creates what is new and saves it. A parser change is
 * never migrated: the rows themselves would differ.
 */
function migrate(db: Database, version: number | undefined): number | undefined {
  if (version === 10) {
    // 11: cwd_info.remote (sync's name of a repository not on GitHub). Rows resolved before keep
    // NULL: sync then names their repository by github_repo, as before.
    db.exec('ALTER TABLE cwd_info ADD COLUMN remote TEXT; PRAGMA user_version = 11');
    version = 11;
  }
  return version;
}

/**
 * Makes sure the database has this schema, returning whether it wrote anything. A loaded store made
 * with this schema (SCHEMA_FINGERPRINT and its count of schema objects in meta) is left untouched:
 * running the whole schema script and rewriting the meta rows on every start cost ~80 ms at 1 GB
 * and changed pages of a store nothing changed.
 */
export function ensureSchema(db: Database, isNew: boolean): boolean {
  if (!isNew && one<{ value: string }>(db, "SELECT value FROM meta WHERE key = 'schema'")?.value === schemaMark(db))
    return false;
  // A new database: 8 KiB pages keep a file's parse state (one to two KiB) on its row's page
  // instead of an overflow page of its own. Only takes effect before the first table exists.
  if (isNew) db.exec('PRAGMA page_size = 8192');
  db.exec(SCHEMA);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('parser_version', ?)", [String(PARSER_VERSION)]);
  run(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", [schemaMark(db)]);
  return true;
}

/** The request rows' indexes that only settling and the views read (see Store.beginBulkLoad). */
export const BULK_DEFERRED_INDEXES = ['usage_key', 'usage_message', 'usage_branch', 'usage_unresolved'];

/** A usage row's price rule text, in a query over `usage u` (rules are kept in price_rules). */
export const PRICE_RULE_OF_U = '(SELECT rule FROM price_rules WHERE rule_id = u.rule_id)';

/**
 * `<col> IN (the files of these n sessions)`, n placeholders: how the request rows of sessions are
 * found. usage.session_id has no index of its own (it would be the store's largest after the table);
 * its file_id leads the primary key.
 */
export function ofSessionFiles(fileIdColumn: string, n: number): string {
  return `${fileIdColumn} IN (SELECT file_id FROM files WHERE session_id IN (${Array.from({ length: n }, () => '?').join(', ')}))`;
}
