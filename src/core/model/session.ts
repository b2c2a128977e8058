/**
 * The session model, after mi6's `Session`: one row per agent session (a subagent is a session of its
 * own with `parent_session_id`). Field names are snake_case because they are the store's columns and
 * the CLI's JSON keys as well; a field an agent's files do not carry stays null, never invented.
 */

export type SessionStatus = 'idle' | 'busy' | 'wait' | 'done';

/** Which source owns the numbers of a session; a lower source never overwrites a higher one. */
export type MetricsSource = 'transcript' | 'otel' | 'hook';

export interface Session {
  session_id: string;
  parent_session_id: string | null;
  /** Subagent id (Claude `agentId`), null for a top-level session. */
  agent_id: string | null;
  /**
   * The session this one was forked from, when the agent marks it (Claude Code `forkedFrom`, a
   * replayed line's original `sessionId`; Codex `forked_from_id`). A fork is a session of its own,
   * not a subagent: nothing rolls up into its origin.
   */
  forked_from_session_id: string | null;
  machine_id: string | null;
  /** The agent (framework name): 'claude_code', later 'codex', 'gemini', ... */
  framework: string;
  title: string | null;

  first_started_at: string | null;
  last_started_at: string | null;
  ended_at: string | null;
  last_activity_at: string | null;
  revival_count: number;

  status: SessionStatus;
  status_changed_at: string | null;
  /** What a waiting session waits for (Claude's registry `waitingFor`). */
  waiting_for: string | null;
  pid: number | null;
  process_started_at: string | null;

  cwd: string | null;
  /** `git rev-parse --git-common-dir` of cwd: the same for every worktree of a repository. */
  git_dir: string | null;
  git_branch: string | null;
  worktree_path: string | null;
  github_repo: string | null;
  issue_number: number | null;
  issue_url: string | null;
  pr_number: number | null;
  pr_url: string | null;
  additions: number | null;
  deletions: number | null;

  first_user_message: string | null;
  last_user_message: string | null;
  model: string | null;

  compaction_count: number;
  message_count: number;
  tool_call_count: number;
  api_request_count: number;
  api_error_count: number;

  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number;
  /** Requests with tokens but no price for their model: shown as "unpriced", never as $0. */
  unpriced_requests: number;
  /** The agent's own cumulative cost figure when it writes one (Claude `cost-state`), for comparison. */
  agent_cost_usd: number | null;
  /** Input + cache read + cache write of the last main-chain request. */
  context_tokens: number | null;
  /** True while the agent has not yet written this session's token totals (Copilot writes them at exit). */
  token_totals_pending: boolean | null;

  hook_event_count: number;
  otel_event_count: number;
  metrics_source: MetricsSource;
  transcript_available: boolean;
  transcript_path: string | null;
}

export function totalTokens(s: Pick<Session, 'tokens_input' | 'tokens_output' | 'tokens_cache_read' | 'tokens_cache_write'>): number {
  return s.tokens_input + s.tokens_output + s.tokens_cache_read + s.tokens_cache_write;
}

export function isActive(s: Pick<Session, 'status'>): boolean {
  return s.status === 'busy' || s.status === 'wait';
}

export function durationMs(s: Pick<Session, 'first_started_at' | 'last_activity_at' | 'ended_at'>): number | null {
  if (!s.first_started_at) return null;
  const end = s.ended_at ?? s.last_activity_at;
  if (!end) return null;
  return Math.max(0, Date.parse(end) - Date.parse(s.first_started_at));
}

/** Cursor-like hosts serve many sessions from one process: pid liveness says nothing about one session. */
export function usesSharedProcess(s: Pick<Session, 'framework'>): boolean {
  return s.framework === 'cursor';
}

/** Amp writes no hooks and fewer fields. */
export function isAmp(s: Pick<Session, 'framework'>): boolean {
  return s.framework === 'amp';
}

/** Token counts of one deduplicated API request. */
export interface TokenCounts {
  input: number;
  output: number;
  cache_read: number;
  /** All cache writes (5-minute + 1-hour). */
  cache_write: number;
  /** The 1-hour part of cache_write (billed at a higher rate). */
  cache_write_1h: number;
}

export const ZERO_TOKENS: TokenCounts = { input: 0, output: 0, cache_read: 0, cache_write: 0, cache_write_1h: 0 };

export function sumTokens(t: TokenCounts): number {
  return t.input + t.output + t.cache_read + t.cache_write;
}
