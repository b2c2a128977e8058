/**
 * The session model, after mi6's `Session`: one row per agent session (a subagent is a session of its
 * own with `parent_session_id`). Field names are snake_case because they are the store's columns and
 * the CLI's JSON keys as well; a field an agent's files do not carry stays null, never invented.
 */

export type SessionStatus = 'idle' | 'busy' | 'wait' | 'done';

/** Which source owns the numbers of a session; a lower source never overwrites a higher one. */
export type MetricsSource = 'transcript' | 'otel' | 'hook';

/**
 * The specified record (Sessions Schema v2, `shared/reference/session-schema.md`): its 40 fields in
 * their order, then our extras. docs/session-model.md says which agent fills which field.
 */
export interface Session {
  session_id: string;
  /** The machine the session ran on (src/core/machine.ts): the key of multi-machine sync. */
  machine_id: string | null;
  /** The agent: the id of the adapter that read the session (src/core/sources/registry.ts; docs/session-model.md lists them). */
  framework: string;
  first_started_at: string | null;
  /** The most recent start or revival. */
  last_started_at: string | null;
  /** The first time the session ended: immutable history, kept through revivals. */
  first_ended_at: string | null;
  /** The most recent end; null while the session runs (a revival clears it). */
  last_ended_at: string | null;
  last_activity: string | null;
  revival_count: number;
  status: SessionStatus;
  /** When the status was last set: an update older than this is stale. */
  status_updated_at: string | null;
  pid: number | null;
  /** The agent process's start time in Unix seconds: (pid, start time) is the process's identity. */
  process_start_time: number | null;
  cwd: string | null;
  /** The repository's `.git` directory (`git rev-parse --git-common-dir`: the same for every worktree). */
  local_git_dir: string | null;
  git_branch: string | null;
  /** The worktree root the session ran in. */
  git_worktree_path: string | null;
  github_repo: string | null;
  github_issue: number | null;
  github_pr: number | null;
  /** Lines added on the session's branch against the default branch (git diff from the merge base). */
  git_additions: number | null;
  git_deletions: number | null;
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
  /** Null when no request of the session could be priced (see unpriced_requests). */
  cost_usd: number | null;
  /** Current context-window usage: input + cache read + cache write of the last main-chain request. */
  context: number | null;
  n_hook_events: number;
  n_otel_events: number;
  transcript_available: boolean;
  transcript_path: string | null;

  // ---- extras of ours, beside the specified fields ----
  parent_session_id: string | null;
  /** Subagent id (Claude `agentId`), null for a top-level session. */
  agent_id: string | null;
  /**
   * The session this one was forked from, when the agent marks it (Claude Code `forkedFrom`, a
   * replayed line's original `sessionId`; Codex `forked_from_id`). A fork is a session of its own,
   * not a subagent: nothing rolls up into its origin.
   */
  forked_from_session_id: string | null;
  title: string | null;
  /** What a waiting session waits for (Claude's registry `waitingFor`, a hook's notification). */
  waiting_for: string | null;
  issue_url: string | null;
  pr_url: string | null;
  /** Lines the agent itself reports it added and removed (not a git diff). */
  agent_lines_added: number | null;
  agent_lines_removed: number | null;
  /** Requests with tokens but no price for their model: shown as "unpriced", never as $0. */
  unpriced_requests: number;
  /** The agent's own cumulative cost figure when it writes one (Claude `cost-state`), for comparison. */
  agent_cost_usd: number | null;
  /** True while the agent has not yet written this session's token totals (Copilot writes them at exit). */
  token_totals_pending: boolean | null;
  /** metricsSource() of the record, kept beside it for readers of the JSON. */
  metrics_source: MetricsSource;
}

/** The names of the specified fields, in their order (docs/session-model.md lists the same). */
export const SPECIFIED_FIELDS = [
  'session_id',
  'machine_id',
  'framework',
  'first_started_at',
  'last_started_at',
  'first_ended_at',
  'last_ended_at',
  'last_activity',
  'revival_count',
  'status',
  'status_updated_at',
  'pid',
  'process_start_time',
  'cwd',
  'local_git_dir',
  'git_branch',
  'git_worktree_path',
  'github_repo',
  'github_issue',
  'github_pr',
  'git_additions',
  'git_deletions',
  'first_user_message',
  'last_user_message',
  'model',
  'compaction_count',
  'message_count',
  'tool_call_count',
  'api_request_count',
  'api_error_count',
  'tokens_input',
  'tokens_output',
  'tokens_cache_read',
  'tokens_cache_write',
  'cost_usd',
  'context',
  'n_hook_events',
  'n_otel_events',
  'transcript_available',
  'transcript_path',
] as const satisfies readonly (keyof Session)[];

type TokenFields = Pick<Session, 'tokens_input' | 'tokens_output' | 'tokens_cache_read' | 'tokens_cache_write'>;

/** The four token kinds added up. */
export function totalTokens(s: TokenFields): number {
  return s.tokens_input + s.tokens_output + s.tokens_cache_read + s.tokens_cache_write;
}

/** Active: no end is recorded. (Whether it is working right now is its status: see isLive.) */
export function isActive(s: Pick<Session, 'last_ended_at'>): boolean {
  return s.last_ended_at === null;
}

/** Live: the agent is working or waiting for the user right now (what the views count as "live"). */
export function isLive(s: Pick<Session, 'status'>): boolean {
  return s.status === 'busy' || s.status === 'wait';
}

/**
 * How far a recorded process start may be from the OS's start time: agents record it after booting,
 * some only to the second.
 */
export const START_TOLERANCE_MS = 60_000;

/**
 * Whether the session's process runs: it has a pid, a process with that pid exists, **and** that
 * process started when the session says (pids are reused). `osStartMs` is what the OS says of the
 * pid (src/core/live/process.ts): its start in ms, -1 for "exists, start unknown", null for no process.
 */
export function isProcessRunning(s: Pick<Session, 'pid' | 'process_start_time'>, osStartMs: number | null): boolean {
  if (s.pid === null || !Number.isInteger(s.pid) || s.pid <= 0 || osStartMs === null) return false;
  if (osStartMs < 0 || s.process_start_time === null) return true;
  return Math.abs(osStartMs - s.process_start_time * 1000) <= START_TOLERANCE_MS;
}

/** Milliseconds from the first start to the last end, or to the last activity while it runs. */
export function duration(s: Pick<Session, 'first_started_at' | 'last_ended_at' | 'last_activity'>): number | null {
  if (!s.first_started_at) return null;
  const end = s.last_ended_at ?? s.last_activity;
  if (!end) return null;
  const ms = Date.parse(end) - Date.parse(s.first_started_at);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/** Which source owns the numbers: the transcript, else telemetry, else hooks (transcript > otel > hook). */
export function metricsSource(s: Pick<Session, 'transcript_available' | 'n_otel_events'>): MetricsSource {
  if (s.transcript_available) return 'transcript';
  return s.n_otel_events > 0 ? 'otel' : 'hook';
}

/** Telemetry may set token figures only while no transcript speaks for the session. */
export function shouldOtelUpdateTokens(s: Pick<Session, 'transcript_available'>): boolean {
  return !s.transcript_available;
}

/** Hooks may set message and tool counts only while no transcript speaks for the session. */
export function shouldHookUpdateCounts(s: Pick<Session, 'transcript_available'>): boolean {
  return !s.transcript_available;
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

/** The four token kinds of one request added up (cache_write_1h is inside cache_write): totalTokens for TokenCounts. */
export function totalTokenCounts(t: Pick<TokenCounts, 'input' | 'output' | 'cache_read' | 'cache_write'>): number {
  return t.input + t.output + t.cache_read + t.cache_write;
}

/** The context window a request used: everything it sent (input, cache read, cache write), not what came back. */
export function contextTokens(t: Pick<TokenCounts, 'input' | 'cache_read' | 'cache_write'>): number {
  return t.input + t.cache_read + t.cache_write;
}
