import { createHash, hash } from 'node:crypto';
import type { UsageRow } from '../model/reducer';
import { largerUsage } from '../model/reducer';
import type { StoreDb } from './db';
import { PRICE_RULE_OF_U, ofSessionFiles } from './schema';
import { all } from './sqlite';

/**
 * The request rows (`usage`): one per request per file, keyed by the request's dedup key. Which of
 * a request's rows counts (forks, copies, sidechains), and the session totals made from the
 * counted ones. Prices arrive with the rows; the store never computes one (src/core/pricing/).
 */

export interface PricedUsageRow extends UsageRow {
  cost_usd: number | null;
  priced: boolean;
  /** How the cost was made (PriceResult.rule), for "explain cost". */
  price_rule: string;
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

/** price_rules ids by text: a store meets a handful of rules, each looked up once. */
export class PriceRuleIds {
  private readonly ids = new Map<string, number>();

  constructor(private readonly store: StoreDb) {}

  /** The id of a price rule's text (added to price_rules when new). */
  idOf(rule: string): number {
    let id = this.ids.get(rule);
    if (id === undefined) {
      this.store.exec('INSERT OR IGNORE INTO price_rules(rule) VALUES (?)', [rule]);
      id = this.store.first<{ id: number }>('SELECT rule_id AS id FROM price_rules WHERE rule = ?', [rule])!.id;
      this.ids.set(rule, id);
    }
    return id;
  }

  /** After a rollback: a price rule added by what was rolled back is gone again. */
  forget(): void {
    this.ids.clear();
  }
}

/** The store as the request rows need it: its database and the ids of the price rules it holds. */
export interface RequestStore extends StoreDb {
  readonly priceRules: PriceRuleIds;
}

/** The key refs (requestKeyRef) of a file's requests. */
export function requestKeysOfFile(store: StoreDb, fileId: number): string[] {
  return all<{ k: string }>(store.db, 'SELECT hex(dedup_hash) AS k FROM usage WHERE file_id = ?', [fileId]).map(
    (r) => r.k,
  );
}

/** Forgets a file's requests (it is read again from its start). */
export function forgetFileRequests(store: StoreDb, fileId: number): void {
  store.exec('DELETE FROM usage WHERE file_id = ?', [fileId]);
}

/** What a stored request row says that a newer copy of the same request may keep. */
interface StoredUsage {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  ts: string | null;
  origin_session_id: string | null;
}

/**
 * Merges a batch's rows for a file: per key the larger row wins (streamed lines grow). Returns the
 * key refs of all the rows given (for recomputeCounted).
 */
export function upsertUsage(
  store: RequestStore,
  fileId: number,
  sessionId: string,
  rows: PricedUsageRow[],
  fileHasRows = true,
): string[] {
  // A file read from its start has no rows yet: only this call's own rows can be "the previous one".
  const written = new Map<string, StoredUsage>();
  const refs: string[] = [];
  for (const r of rows) {
    const hash = keyHash(r.dedup_key);
    refs.push(keyRef(hash));
    const prev =
      written.get(r.dedup_key) ??
      (fileHasRows
        ? store.first<StoredUsage>(
            'SELECT input, output, cache_read, cache_write, ts, origin_session_id FROM usage WHERE file_id = ? AND dedup_hash = ?',
            [fileId, hash],
          )
        : undefined);
    let ts = r.ts;
    let origin = r.origin_session_id ?? null;
    if (prev) {
      const { input, output, cache_read, cache_write } = prev;
      const prevRow: UsageRow = { ...r, tokens: { input, output, cache_read, cache_write, cache_write_1h: 0 } };
      if (largerUsage(prevRow, r) === prevRow) continue;
      // As the reducer merges a response's lines within one read (keepLargest): the larger copy's
      // tokens, the first sighting's time and copy mark. A response whose lines two reads split
      // otherwise moved to its last line's time (another day, another branch in the reflog).
      ts = prev.ts ?? ts;
      origin ??= prev.origin_session_id;
    }
    store.exec(
      `INSERT OR REPLACE INTO usage(file_id, dedup_hash, session_id, message_hash, sidechain, ts, model, git_branch, input, output,
        cache_read, cache_write, cache_write_1h, speed, provider, vendor_cost_usd, cost_usd, priced, rule_id, request_count, counted, origin_session_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
      [
        fileId,
        hash,
        sessionId,
        r.message_id === null ? null : keyHash(r.message_id),
        r.sidechain ? 1 : 0,
        ts,
        r.model,
        r.git_branch,
        r.tokens.input,
        r.tokens.output,
        r.tokens.cache_read,
        r.tokens.cache_write,
        r.tokens.cache_write_1h,
        r.speed,
        r.provider ?? null,
        r.vendor_cost_usd ?? null,
        r.cost_usd,
        r.priced ? 1 : 0,
        store.priceRules.idOf(r.price_rule),
        r.request_count ?? 1,
        origin,
      ],
    );
    written.set(r.dedup_key, { ...r.tokens, ts, origin_session_id: origin });
  }
  store.markDirty();
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
export function recomputeCounted(store: StoreDb, keys: Iterable<string>): Set<string> {
  const keyList = [...new Set(keys)];
  const sessions = new Set<string>();
  if (keyList.length === 0) return sessions;
  store.exec('CREATE TEMP TABLE IF NOT EXISTS tmp_keys (k BLOB PRIMARY KEY)');
  store.exec('DELETE FROM tmp_keys');
  const stmt = store.db.prepare('INSERT OR IGNORE INTO tmp_keys(k) VALUES (?)');
  try {
    for (const k of keyList) stmt.run([Buffer.from(k, 'hex')]);
  } finally {
    stmt.free();
  }
  // Rows sharing a message id with the changed ones may change sides too.
  store.exec(`INSERT OR IGNORE INTO tmp_keys(k) SELECT u2.dedup_hash FROM usage u1 JOIN usage u2 ON u2.message_hash = u1.message_hash
    WHERE u1.dedup_hash IN (SELECT k FROM tmp_keys) AND u1.message_hash IS NOT NULL`);
  for (const r of all<{ session_id: string }>(
    store.db,
    'SELECT DISTINCT session_id FROM usage WHERE dedup_hash IN (SELECT k FROM tmp_keys)',
  )) {
    sessions.add(r.session_id);
  }
  markedCopyHops(store);
  store.exec('UPDATE usage SET counted = 0 WHERE dedup_hash IN (SELECT k FROM tmp_keys)');
  store.exec(`UPDATE usage SET counted = 1 WHERE rowid IN (
    SELECT (SELECT u.rowid FROM usage u JOIN files f ON f.file_id = u.file_id LEFT JOIN tmp_hops h ON h.rid = u.rowid WHERE u.dedup_hash = t.k
            ORDER BY u.sidechain, f.deleted, COALESCE(h.hops, 0), f.first_record_at IS NULL, f.first_record_at, f.session_id, u.file_id LIMIT 1)
    FROM tmp_keys t)`);
  store.exec(`UPDATE usage SET counted = 0 WHERE counted = 1 AND sidechain = 1 AND message_hash IS NOT NULL
    AND dedup_hash IN (SELECT k FROM tmp_keys)
    AND EXISTS (SELECT 1 FROM usage m WHERE m.message_hash = usage.message_hash AND m.sidechain = 0)`);
  store.markDirty();
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
function markedCopyHops(store: StoreDb): void {
  store.exec('CREATE TEMP TABLE IF NOT EXISTS tmp_hops (rid INTEGER PRIMARY KEY, hops INTEGER NOT NULL)');
  store.exec('DELETE FROM tmp_hops');
  store.exec(`INSERT INTO tmp_hops(rid, hops)
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

/** Session totals from their counted rows. */
export function recomputeTotals(store: StoreDb, sessionIds: Iterable<string>): void {
  for (const id of new Set(sessionIds)) {
    const t = store.first<{
      i: number;
      o: number;
      cr: number;
      cw: number;
      cost: number | null;
      requests: number;
      unpriced: number;
    }>(
      `SELECT COALESCE(SUM(input),0) AS i, COALESCE(SUM(output),0) AS o, COALESCE(SUM(cache_read),0) AS cr,
        COALESCE(SUM(cache_write),0) AS cw, SUM(CASE WHEN priced = 1 THEN cost_usd END) AS cost, COALESCE(SUM(request_count),0) AS requests,
        COALESCE(SUM(CASE WHEN priced = 0 THEN request_count ELSE 0 END),0) AS unpriced
       FROM usage WHERE ${ofSessionFiles('file_id', 1)} AND counted = 1`,
      [id],
    )!;
    store.exec(
      `UPDATE sessions SET tokens_input = ?, tokens_output = ?, tokens_cache_read = ?, tokens_cache_write = ?, cost_usd = ?,
        api_request_count = ?, unpriced_requests = ? WHERE session_id = ?`,
      [t.i, t.o, t.cr, t.cw, t.cost, t.requests, t.unpriced, id],
    );
  }
  store.markDirty();
}

// ---- the rows as pricing sees them (src/core/pricing/repricing.ts prices them again) -----------------

/** What pricing needs of a stored row: everything priceRequest reads, from the row itself. */
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

/** A stored row's cost as it stands. `rid` names the row for setRequestCost. */
export interface StoredCost {
  rid: number;
  cost_usd: number | null;
  priced: number;
  price_rule: string | null;
}

/** Every request row, with what pricing it again needs and its cost as it stands. */
export function requestsToPrice(store: StoreDb): (StoredPriceInput & StoredCost)[] {
  return all(
    store.db,
    `SELECT u.rowid AS rid, f.framework AS framework, u.model, u.provider, u.vendor_cost_usd, u.request_count, u.speed, u.ts,
      u.input, u.output, u.cache_read, u.cache_write, u.cache_write_1h, u.cost_usd, u.priced, ${PRICE_RULE_OF_U} AS price_rule
     FROM usage u JOIN files f ON f.file_id = u.file_id`,
  );
}

/** The counted requests of the given sessions, with their token total and cost as it stands. */
export function countedRequestsOf(
  store: StoreDb,
  sessionIds: string[],
): (StoredCost & { session_id: string; model: string | null; tokens: number })[] {
  return all(
    store.db,
    `SELECT rowid AS rid, session_id, model, input + output + cache_read + cache_write AS tokens, cost_usd, priced, ${PRICE_RULE_OF_U} AS price_rule
     FROM usage u WHERE counted = 1 AND ${ofSessionFiles('file_id', sessionIds.length)}`,
    sessionIds,
  );
}

/** Sets a request row's cost and how it was made. */
export function setRequestCost(
  store: RequestStore,
  rid: number,
  costUsd: number | null,
  priced: boolean,
  rule: string,
): void {
  store.exec('UPDATE usage SET cost_usd = ?, priced = ?, rule_id = ? WHERE rowid = ?', [
    costUsd,
    priced ? 1 : 0,
    store.priceRules.idOf(rule),
    rid,
  ]);
}
