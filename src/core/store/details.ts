import { all } from './sqlite';
import { type Store, ofSessionFiles } from './store';

/** What the Session Details page shows beyond the session row: splits, prompts, tools, errors. */

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
}

const SPLIT = `COUNT(*) AS _rows, COALESCE(SUM(request_count),0) AS requests, COALESCE(SUM(input),0) AS tokens_input,
  COALESCE(SUM(output),0) AS tokens_output, COALESCE(SUM(cache_read),0) AS tokens_cache_read,
  COALESCE(SUM(cache_write),0) AS tokens_cache_write, COALESCE(SUM(cost_usd),0) AS cost_usd,
  COALESCE(SUM(CASE WHEN priced = 0 THEN request_count ELSE 0 END),0) AS unpriced_requests`;

export function sessionDetails(store: Store, sessionId: string): SessionDetails {
  store.flushSearchTexts();
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
      `SELECT d.ts AS ts, f.body AS text FROM search_doc d JOIN search_fts f ON f.docid = d.docid
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
  };
}
