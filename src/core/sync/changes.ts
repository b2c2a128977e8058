import type { StoreDb } from '../store/db';
import { all } from '../store/sqlite';

/**
 * Which local sessions changed since the shared database last acknowledged them: the push's cursor,
 * kept in the local store (docs/sync.md, "What is pushed when").
 *
 * While sync is on, SQLite triggers on every table a pushed value comes from mark the session it
 * belongs to in `sync_dirty`; the first time (no table yet) every session is marked. A push claims
 * a batch of marks (claimed = 1), sends them, and after the server's COMMIT deletes exactly the
 * marks it claimed: a session changed again meanwhile was re-marked unclaimed (claimed = 0) by its
 * trigger and stays for the next push. A push that fails leaves its claims, which the next push
 * takes again (an upsert of the same rows changes nothing). The marks are store rows like any
 * other: persisted by the store's owner, rebuilt (every session marked) with the store.
 *
 * Nothing here exists while sync is off: a store that never synced has no table and no trigger.
 */

/** The triggers: each marks the session a changed row belongs to. */
const MARK = (expr: string) =>
  `INSERT OR REPLACE INTO sync_dirty(session_id, claimed) SELECT ${expr}, 0 WHERE ${expr} IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM sync_dirty WHERE session_id = ${expr} AND claimed = 0)`;

const TRIGGERS: [name: string, when: string, body: string][] = [
  ['sync_usage_ins', 'AFTER INSERT ON usage', MARK('NEW.session_id')],
  ['sync_usage_upd', 'AFTER UPDATE ON usage', MARK('NEW.session_id')],
  ['sync_usage_del', 'AFTER DELETE ON usage', MARK('OLD.session_id')],
  ['sync_sessions_ins', 'AFTER INSERT ON sessions', MARK('NEW.session_id')],
  ['sync_sessions_upd', 'AFTER UPDATE ON sessions', MARK('NEW.session_id')],
  ['sync_sessions_del', 'AFTER DELETE ON sessions', MARK('OLD.session_id')],
  ['sync_prs_ins', 'AFTER INSERT ON session_prs', MARK('NEW.session_id')],
  ['sync_prs_upd', 'AFTER UPDATE ON session_prs', MARK('NEW.session_id')],
  ['sync_prs_del', 'AFTER DELETE ON session_prs', MARK('OLD.session_id')],
  ['sync_live_ins', 'AFTER INSERT ON session_live', MARK('NEW.session_id')],
  ['sync_live_upd', 'AFTER UPDATE ON session_live', MARK('NEW.session_id')],
  // A working directory's repository (its remote) is every session's there.
  [
    'sync_cwd_ins',
    'AFTER INSERT ON cwd_info',
    'INSERT OR REPLACE INTO sync_dirty(session_id, claimed) SELECT session_id, 0 FROM sessions WHERE cwd = NEW.cwd',
  ],
  [
    'sync_cwd_upd',
    'AFTER UPDATE ON cwd_info',
    'INSERT OR REPLACE INTO sync_dirty(session_id, claimed) SELECT session_id, 0 FROM sessions WHERE cwd = NEW.cwd',
  ],
];

/**
 * Starts tracking changes (idempotent): creates the table and the triggers once, marking every
 * session. `target` names the shared database and machine id the marks are for: another target
 * (the user pointed sync elsewhere, or changed the machine id) marks every session again.
 * Returns whether it wrote.
 */
export function trackChanges(store: StoreDb & { getMeta(k: string): string | undefined }, target: string): boolean {
  const exists = !!store.first<{ n: number }>(
    "SELECT 1 AS n FROM sqlite_schema WHERE type = 'table' AND name = 'sync_dirty'",
  );
  const haveTriggers =
    store.first<{ n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'sync_%'")
      ?.n === TRIGGERS.length;
  const sameTarget = store.getMeta('sync_target') === target;
  if (exists && haveTriggers && sameTarget) return false;
  store.transaction(() => {
    store.db.exec(
      'CREATE TABLE IF NOT EXISTS sync_dirty (session_id TEXT PRIMARY KEY, claimed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID',
    );
    for (const [name, when, body] of TRIGGERS)
      store.db.exec(`CREATE TRIGGER IF NOT EXISTS ${name} ${when} BEGIN ${body}; END`);
    if (!exists || !sameTarget) markAll(store);
    store.exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('sync_target', ?)", [target]);
  });
  return true;
}

/** Stops tracking (sync turned off): the triggers and marks go; turning it on again marks every session. */
export function stopTracking(store: StoreDb): void {
  store.transaction(() => {
    for (const [name] of TRIGGERS) store.db.exec(`DROP TRIGGER IF EXISTS ${name}`);
    store.db.exec('DROP TABLE IF EXISTS sync_dirty');
    store.exec("DELETE FROM meta WHERE key = 'sync_target'");
  });
}

/** Marks every session (first enable, another target, a server that lost this machine's rows). */
export function markAll(store: StoreDb): void {
  store.exec('INSERT OR REPLACE INTO sync_dirty(session_id, claimed) SELECT session_id, 0 FROM sessions');
  store.markDirty();
}

/** Sessions waiting to be pushed (claimed by a push in flight or not). */
export function pendingCount(store: StoreDb): number {
  if (!store.first("SELECT 1 AS n FROM sqlite_schema WHERE type = 'table' AND name = 'sync_dirty'")) return 0;
  return store.first<{ n: number }>('SELECT count(*) AS n FROM sync_dirty')?.n ?? 0;
}

/** Claims up to `limit` marked sessions for a push (claimed ones first: a failed push's batch is retried first). */
export function claimBatch(store: StoreDb, limit: number, skip: ReadonlySet<string> = new Set()): string[] {
  const ids = all<{ session_id: string }>(
    store.db,
    'SELECT session_id FROM sync_dirty WHERE session_id NOT IN (SELECT value FROM json_each(?)) ORDER BY claimed DESC, session_id LIMIT ?',
    [JSON.stringify([...skip]), limit],
  ).map((r) => r.session_id);
  if (!ids.length) return ids;
  store.exec('UPDATE sync_dirty SET claimed = 1 WHERE session_id IN (SELECT value FROM json_each(?))', [
    JSON.stringify(ids),
  ]);
  store.markDirty();
  return ids;
}

/** After the server committed them: forgets the marks still claimed (a session re-marked meanwhile stays). */
export function acknowledge(store: StoreDb, ids: string[]): void {
  if (!ids.length) return;
  store.exec('DELETE FROM sync_dirty WHERE claimed = 1 AND session_id IN (SELECT value FROM json_each(?))', [
    JSON.stringify(ids),
  ]);
  store.markDirty();
}
