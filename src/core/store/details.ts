import type { AgentEvent } from '../model/events';
import type { StoreDb } from './db';
import { keyHash } from './requests';
import { ofSessionFiles } from './schema';
import { SEARCH_TEXT_MAX, type SearchStore, addSearchText, forgetSearchTexts } from './search';
import { all, one } from './sqlite';

/**
 * What the Session Details page shows beyond the session row: splits, prompts, tools, errors; and
 * the per-file rows behind it, written as a file is read.
 */

/**
 * Keeps what a batch of a file's events says beyond the session row: prompt and assistant text
 * for search (bounded), tool calls by name, when API errors and compactions happened. Rows are
 * per file, so a file read again from the start replaces its own. A statement per row: batching
 * them (one JSON text expanded by json_each, or multi-row VALUES) measured slower or no faster
 * (docs/performance.md, issue 17).
 */
export function addFileDetails(
  store: SearchStore,
  fileId: number,
  sessionId: string,
  events: Iterable<AgentEvent>,
): void {
  for (const e of events) {
    if (e.kind === 'user_prompt' || e.kind === 'assistant_text') {
      const text = e.text.trim().slice(0, SEARCH_TEXT_MAX);
      if (!text) continue;
      addSearchText(store, fileId, e.kind === 'user_prompt' ? 'prompt' : 'assistant', e.ts, text);
    } else if (e.kind === 'tool_call') {
      store.exec('INSERT OR IGNORE INTO tool_calls(file_id, tool_id, name, origin_session_id) VALUES (?, ?, ?, ?)', [
        fileId,
        keyHash(e.id),
        e.name,
        e.copied_from ?? null,
      ]);
      // A fork whose copies are only tool calls is found by its origin too (refreshCopiedCounts).
      if (e.copied_from)
        store.exec('INSERT OR IGNORE INTO file_copies(file_id, origin_session_id) VALUES (?, ?)', [
          fileId,
          e.copied_from,
        ]);
    } else if (e.kind === 'api_error' || e.kind === 'compaction') {
      store.exec('INSERT INTO session_marks(file_id, session_id, kind, ts) VALUES (?, ?, ?, ?)', [
        fileId,
        sessionId,
        e.kind,
        e.ts,
      ]);
    }
  }
  store.markDirty();
}

/** Forgets a file's details (it is read again from its start). */
export function forgetFileDetails(store: StoreDb, fileId: number): void {
  forgetSearchTexts(store, fileId);
  store.exec('DELETE FROM tool_calls WHERE file_id = ?', [fileId]);
  store.exec('DELETE FROM file_copies WHERE file_id = ?', [fileId]);
  store.exec('DELETE FROM session_marks WHERE file_id = ?', [fileId]);
}

// ---- reading -------------------------------------------------------------------------------------

export interface SplitRow {
  key: string;
  requests: number;
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number;
  unpriced_requests: number;
}

export interface SessionDetails {
  session_id: string;
  /** This session's own counted requests (not its subagents'), per branch recorded with each request. */
  by_branch: SplitRow[];
  by_model: SplitRow[];
  /** Prompts in order (the stored, bounded text). */
  prompts: { ts: string | null; text: string }[];
  /** Distinct tool calls per tool name, most used first. */
  tools: { name: string; calls: number }[];
  /** API errors and compactions, in order. */
  marks: { kind: 'api_error' | 'compaction'; ts: string | null }[];
  /** The session the agent marked this one as forked from (docs/accounting.md §2), else null. */
  forked_from: ForkOrigin | null;
}

export interface ForkOrigin {
  session_id: string;
  /** The origin's title when it is indexed. */
  title: string | null;
  /** Whether a transcript of the origin is present: while it is, the copied history counts there. */
  origin_present: boolean;
  /**
   * What of this session's marked copies counts elsewhere (for the sessions that made them): the
   * lists above still show them, the session's counts do not.
   */
  counted_elsewhere: { requests: number; prompts: number; tool_calls: number; api_errors: number };
}

/** Whether a session has a transcript that is not deleted (`<alias>.origin_session_id` names it). */
const ORIGIN_PRESENT = (alias: string) =>
  `EXISTS (SELECT 1 FROM files o WHERE o.session_id = ${alias}.origin_session_id AND o.deleted = 0)`;

function forkOrigin(store: StoreDb, sessionId: string): ForkOrigin | null {
  const origin = one<{ id: string | null }>(
    store.db,
    'SELECT forked_from_session_id AS id FROM sessions WHERE session_id = ?',
    [sessionId],
  )?.id;
  if (!origin) return null;
  const files = 'SELECT file_id FROM files WHERE session_id = ?';
  const copies = one<{ prompts: number; api_errors: number }>(
    store.db,
    `SELECT COALESCE(SUM(messages), 0) AS prompts, COALESCE(SUM(api_errors), 0) AS api_errors FROM file_copies c WHERE c.file_id IN (${files}) AND ${ORIGIN_PRESENT('c')}`,
    [sessionId],
  );
  return {
    session_id: origin,
    title:
      one<{ title: string | null }>(store.db, 'SELECT title FROM sessions WHERE session_id = ?', [origin])?.title ??
      null,
    origin_present: !!one(store.db, 'SELECT 1 AS x FROM files WHERE session_id = ? AND deleted = 0 LIMIT 1', [origin]),
    counted_elsewhere: {
      requests:
        one<{ n: number }>(
          store.db,
          `SELECT COALESCE(SUM(request_count), 0) AS n FROM usage WHERE file_id IN (${files}) AND origin_session_id IS NOT NULL AND counted = 0`,
          [sessionId],
        )?.n ?? 0,
      prompts: copies?.prompts ?? 0,
      tool_calls:
        one<{ n: number }>(
          store.db,
          `SELECT count(*) AS n FROM tool_calls t WHERE t.file_id IN (${files}) AND t.origin_session_id IS NOT NULL AND ${ORIGIN_PRESENT('t')}`,
          [sessionId],
        )?.n ?? 0,
      api_errors: copies?.api_errors ?? 0,
    },
  };
}

const SPLIT = `COUNT(*) AS _rows, COALESCE(SUM(request_count),0) AS requests, COALESCE(SUM(input),0) AS tokens_input,
  COALESCE(SUM(output),0) AS tokens_output, COALESCE(SUM(cache_read),0) AS tokens_cache_read,
  COALESCE(SUM(cache_write),0) AS tokens_cache_write, COALESCE(SUM(cost_usd),0) AS cost_usd,
  COALESCE(SUM(CASE WHEN priced = 0 THEN request_count ELSE 0 END),0) AS unpriced_requests`;

export function sessionDetails(store: SearchStore, sessionId: string): SessionDetails {
  const split = (expr: string) =>
    all<SplitRow & { _rows?: number }>(
      store.db,
      `SELECT ${expr} AS key, ${SPLIT} FROM usage WHERE ${ofSessionFiles('file_id', 1)} AND counted = 1 GROUP BY 1 ORDER BY cost_usd DESC, key`,
      [sessionId],
    ).map(({ _rows, ...r }) => r);
  return {
    session_id: sessionId,
    by_branch: split("COALESCE(git_branch, '(no branch)')"),
    by_model: split("COALESCE(model, 'unknown')"),
    prompts: all<{ ts: string | null; text: string }>(
      store.db,
      // A prompt's text, indexed for search or still waiting to be (search.ts PendingSearchTexts).
      `SELECT d.ts AS ts, COALESCE((SELECT body FROM search_pending p WHERE p.docid = d.docid),
         (SELECT body FROM search_fts f WHERE f.docid = d.docid)) AS text FROM search_doc d
       WHERE d.file_id IN (SELECT file_id FROM files WHERE session_id = ?) AND d.kind = 'prompt' ORDER BY d.ts IS NULL, d.ts, d.docid`,
      [sessionId],
    ),
    tools: all<{ name: string; calls: number }>(
      store.db,
      // One call per tool id: a copy of the same call in another file of the session counts once.
      'SELECT name, COUNT(DISTINCT tool_id) AS calls FROM tool_calls WHERE file_id IN (SELECT file_id FROM files WHERE session_id = ?) GROUP BY name ORDER BY calls DESC, name',
      [sessionId],
    ),
    marks: all<{ kind: 'api_error' | 'compaction'; ts: string | null }>(
      store.db,
      'SELECT kind, ts FROM session_marks WHERE session_id = ? ORDER BY ts IS NULL, ts, rowid',
      [sessionId],
    ),
    forked_from: forkOrigin(store, sessionId),
  };
}
