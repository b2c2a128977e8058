import type { FileState } from '../model/reducer';
import { sessionFacts } from '../model/reducer';
import type { StoreDb } from './db';
import { type FileRow, documentPathOf, parseStateJson } from './files';
import { type SearchStore, indexTitle } from './search';
import { all, one } from './sqlite';

/**
 * The session rows: what a session's files say about it, merged into one row (the file with the
 * latest activity speaks; the reducer's sessionFacts decides the derived fields), its counts with
 * the marked copies of its forks, and the tree of a session and its subagents.
 */

/**
 * A session's prompt, tool call and API error counts as one of its files tells them: its own, plus
 * the marked copies whose origin session has no present transcript (docs/accounting.md §2: a copy
 * counts for the session it names while that session's transcript is there, else where it is).
 * Tool calls are the file's distinct call ids (addFileDetails keeps one row per id).
 */
function fileCounts(
  store: StoreDb,
  fileId: number,
  s: FileState,
): { messages: number; tool_calls: number; api_errors: number } {
  const copies = store.first<{ m: number; e: number }>(
    `SELECT COALESCE(SUM(messages), 0) AS m, COALESCE(SUM(api_errors), 0) AS e FROM file_copies c
     WHERE c.file_id = ? AND NOT EXISTS (SELECT 1 FROM files o WHERE o.session_id = c.origin_session_id AND o.deleted = 0)`,
    [fileId],
  );
  const tools = store.first<{ n: number }>(
    `SELECT count(*) AS n FROM tool_calls t WHERE t.file_id = ? AND (t.origin_session_id IS NULL
      OR NOT EXISTS (SELECT 1 FROM files o WHERE o.session_id = t.origin_session_id AND o.deleted = 0))`,
    [fileId],
  );
  return {
    messages: s.message_count + (copies?.m ?? 0),
    tool_calls: tools?.n ?? 0,
    api_errors: s.api_error_count + (copies?.e ?? 0),
  };
}

/** The file that speaks for a session (several carry its id: a copy under two config roots, a moved file). */
function speakingFile(store: StoreDb, sessionId: string): number | undefined {
  return store.first<{ file_id: number }>(
    'SELECT file_id FROM files WHERE session_id = ? ORDER BY deleted, last_activity DESC, file_id LIMIT 1',
    [sessionId],
  )?.file_id;
}

/**
 * After the given sessions' transcripts appeared, grew or went: the forks holding marked copies of
 * their lines count those copies' prompts, tool calls and API errors again (for the origin while
 * it is present, else for the fork). Returns the sessions whose counts were written.
 */
export function refreshCopiedCounts(store: StoreDb, origins: Iterable<string>): Set<string> {
  const wanted = new Set(origins);
  const refreshed = new Set<string>();
  if (!wanted.size) return refreshed;
  // Only files with marked copies have rows here (a few forks): read whole, not looked up per origin.
  const forkFiles = new Set<number>();
  for (const r of all<{ file_id: number; origin_session_id: string }>(
    store.db,
    'SELECT file_id, origin_session_id FROM file_copies',
  )) {
    if (wanted.has(r.origin_session_id)) forkFiles.add(r.file_id);
  }
  for (const fileId of forkFiles) {
    const f = store.first<Pick<FileRow, 'session_id' | 'state_json'>>(
      'SELECT session_id, state_json FROM files WHERE file_id = ?',
      [fileId],
    );
    if (!f?.session_id || !f.state_json || speakingFile(store, f.session_id) !== fileId) continue;
    const c = fileCounts(
      store,
      fileId,
      parseStateJson(f.state_json, { session_id: f.session_id, parent_session_id: null, agent_id: null }),
    );
    store.exec('UPDATE sessions SET message_count = ?, tool_call_count = ?, api_error_count = ? WHERE session_id = ?', [
      c.messages,
      c.tool_calls,
      c.api_errors,
      f.session_id,
    ]);
    refreshed.add(f.session_id);
  }
  if (refreshed.size) store.markDirty();
  return refreshed;
}

/**
 * Writes what a file says about its session. When several files carry the same session id (a
 * copy under two config roots, a moved file), the present file with the latest activity speaks.
 */
export function writeSessionFromFile(
  store: SearchStore,
  fileId: number,
  framework: string,
  root: string,
  filePath: string,
  s: FileState,
  machineId: string | null,
): void {
  const sessionId = s.session_id;
  if (!sessionId) return;
  // What the file holds copies of is the file's own fact, written whether or not it speaks for its session.
  for (const [origin, n] of Object.entries(s.copied ?? {})) {
    store.exec(
      `INSERT INTO file_copies(file_id, origin_session_id, messages, api_errors) VALUES (?, ?, ?, ?)
       ON CONFLICT(file_id, origin_session_id) DO UPDATE SET messages = excluded.messages, api_errors = excluded.api_errors`,
      [fileId, origin, n.messages, n.api_errors],
    );
  }
  const best = speakingFile(store, sessionId);
  if (best !== undefined && best !== fileId) return;
  const f = sessionFacts(s);
  const counts = fileCounts(store, fileId, s);
  store.exec(
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
      sessionId,
      s.parent_session_id,
      s.agent_id,
      machineId,
      framework,
      f.title,
      s.first_started_at,
      s.last_started_at,
      s.first_ended_at,
      s.last_activity,
      f.revival_count,
      s.turn_state,
      s.turn_state_at,
      s.cwd,
      s.git_branch,
      s.git_worktree_path,
      f.github_repo,
      f.github_issue,
      f.issue_url,
      f.github_pr,
      f.pr_url,
      s.agent_lines_added,
      s.agent_lines_removed,
      s.first_user_message,
      s.last_user_message,
      s.model,
      s.compaction_count,
      counts.messages,
      counts.tool_calls,
      counts.api_errors,
      s.agent_cost_usd,
      s.agent_model_costs ? JSON.stringify(s.agent_model_costs) : null,
      s.context,
      s.token_totals_pending === null || s.token_totals_pending === undefined ? null : s.token_totals_pending ? 1 : 0,
      filePath,
      root,
      s.forked_from_session_id ?? null,
    ],
  );
  store.exec('DELETE FROM session_prs WHERE session_id = ?', [sessionId]);
  for (const p of s.prs ?? []) {
    store.exec(
      'INSERT INTO session_prs(session_id, number, url, repo, source, recorded_branch, branch, ts) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)',
      [sessionId, p.number, p.url, p.repo, p.source, p.branch, p.ts],
    );
  }
  indexTitle(store, sessionId, f.title);
  store.markDirty();
}

/** After a file is marked deleted: its session stays, pointing at another present file if any. */
export function refreshTranscriptAvailability(store: StoreDb, sessionId: string): void {
  const present = store.first<{ path: string }>(
    'SELECT path FROM files WHERE session_id = ? AND deleted = 0 ORDER BY last_activity DESC LIMIT 1',
    [sessionId],
  );
  store.exec(
    'UPDATE sessions SET transcript_available = ?, transcript_path = COALESCE(?, transcript_path) WHERE session_id = ?',
    [present ? 1 : 0, present ? documentPathOf(present.path) : null, sessionId],
  );
  store.markDirty();
}

/** Every session's id. */
export function allSessionIds(store: StoreDb): string[] {
  return all<{ session_id: string }>(store.db, 'SELECT session_id FROM sessions').map((r) => r.session_id);
}

/** The top-level sessions of the given ones (a subagent's parent, recursively). */
export function rootSessions(store: StoreDb, sessionIds: Iterable<string>): Set<string> {
  const roots = new Set<string>();
  for (const id of sessionIds) {
    let cur = id;
    for (let i = 0; i < 50; i++) {
      const p = one<{ parent_session_id: string | null }>(
        store.db,
        'SELECT parent_session_id FROM sessions WHERE session_id = ?',
        [cur],
      );
      if (!p?.parent_session_id) break;
      cur = p.parent_session_id;
    }
    roots.add(cur);
  }
  return roots;
}

/** A session and its subagents, recursively. */
export function sessionTree(store: StoreDb, root: string): string[] {
  const out = [root];
  for (let i = 0; i < out.length && out.length < 10_000; i++) {
    for (const c of all<{ session_id: string }>(
      store.db,
      'SELECT session_id FROM sessions WHERE parent_session_id = ?',
      [out[i]],
    )) {
      if (!out.includes(c.session_id)) out.push(c.session_id);
    }
  }
  return out;
}

/**
 * The agent's own cost per model as it recorded it for a session (Claude Code cost-state
 * `modelUsage`, covering the session with its subagents), with the session's agent; undefined when
 * there is no such session. A figure that cannot be read counts as none.
 */
export function agentModelCosts(
  store: StoreDb,
  sessionId: string,
): { costs: Record<string, number>; framework: string } | undefined {
  const row = one<{ agent_model_costs: string | null; framework: string }>(
    store.db,
    'SELECT agent_model_costs, framework FROM sessions WHERE session_id = ?',
    [sessionId],
  );
  if (!row) return undefined;
  let costs: Record<string, number> = {};
  try {
    costs = row.agent_model_costs ? (JSON.parse(row.agent_model_costs) as Record<string, number>) : {};
  } catch {
    costs = {};
  }
  return { costs, framework: row.framework };
}
