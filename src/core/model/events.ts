import type { TokenCounts } from './session';

/**
 * Normalized events: what a source adapter makes of an agent's records. Everything agent-specific
 * stops at the adapter; the reducer folds these into a session and its per-request usage rows.
 * Every event carries `ts` (ISO-8601) when its record had one, and `main` = false for sidechain
 * records (a subagent's or a side question's copy), which never drive the session's status.
 */
export type AgentEvent =
  | ActivityEvent
  | UsageEvent
  | UserPromptEvent
  | AssistantTextEvent
  | ToolCallEvent
  | TurnEvent
  | ApiErrorEvent
  | CompactionEvent
  | MetaEvent
  | LiveEvent;

interface Base {
  ts: string | null;
}

/**
 * A record another session wrote, copied into this file (a fork, an old-style resume), when the
 * agent marks it so: the session it names. Claude Code: `forkedFrom.sessionId`, or a copied line
 * that kept its original `sessionId`. Unmarked copies (Claude Code 2.1.332 `--fork-session`) carry
 * nothing; the store then falls back to the session that started first (docs/accounting.md §2).
 */
interface Copyable {
  copied_from?: string;
}

/** Any record with a timestamp: the session was active then. */
export interface ActivityEvent extends Base {
  kind: 'activity';
}

/** One API response's usage (possibly one of several streamed lines of the same response). */
export interface UsageEvent extends Base, Copyable {
  kind: 'usage';
  /**
   * The key that identifies the response across lines and files (Claude: message.id + requestId).
   * Requestless responses get a session-scoped key, since gateways reuse message ids.
   */
  dedup_key: string;
  message_id: string | null;
  sidechain: boolean;
  model: string | null;
  /**
   * The price-list provider of the model when the record says it (OpenCode's providerID); else
   * the agent's default provider is used.
   */
  provider?: string | null;
  git_branch: string | null;
  tokens: TokenCounts;
  speed: string | null;
  /** The agent's own cost for this request, when it records one (OpenCode `cost`): used when no price is known. */
  vendor_cost_usd?: number | null;
  /**
   * How many API requests this row stands for (default 1): agents that only write per-model totals
   * (Copilot's shutdown summary) give one row for many requests, priced as their average request.
   */
  request_count?: number;
}

export interface UserPromptEvent extends Base, Copyable {
  kind: 'user_prompt';
  text: string;
  /** The first prompt of a new process run of the session (a start or a resume). */
  run_start: boolean;
}

/**
 * Text the assistant wrote to the person (not tool calls, not thinking), main chain only. Kept only
 * for full-text search, bounded (see SEARCH_TEXT_MAX in the store); never counted.
 */
export interface AssistantTextEvent extends Base {
  kind: 'assistant_text';
  text: string;
}

export interface ToolCallEvent extends Base, Copyable {
  kind: 'tool_call';
  id: string;
  name: string;
}

/**
 * Where the main conversation stands after a record, for status inference:
 * `waiting_model` = a prompt or tool result was sent and no answer came yet;
 * `tool_running` = the model asked for a tool whose result has not come yet;
 * `ended` = the assistant's turn ended.
 */
export interface TurnEvent extends Base {
  kind: 'turn';
  state: 'waiting_model' | 'tool_running' | 'ended';
}

export interface ApiErrorEvent extends Base, Copyable {
  kind: 'api_error';
}

export interface CompactionEvent extends Base {
  kind: 'compaction';
}

/** Facts about the session; later values replace earlier ones unless said otherwise. */
export interface MetaEvent extends Base {
  kind: 'meta';
  session_id?: string;
  parent_session_id?: string;
  agent_id?: string;
  /** The session this one was forked from, as the agent marked it (the last marked copy's origin: the nearest one). */
  forked_from_session_id?: string;
  cwd?: string;
  /** The agent's version that wrote the record: a change means a new process run (an upgrade). */
  agent_version?: string;
  git_branch?: string;
  /** A generated title: used unless a custom title exists. */
  ai_title?: string;
  custom_title?: string;
  git_worktree_path?: string;
  github_repo?: string;
  github_pr?: number;
  pr_url?: string;
  /** PR or issue links seen in tool output or assistant text (the last one wins, below an explicit pr-link). */
  seen_pr_url?: string;
  seen_issue_url?: string;
  agent_lines_added?: number;
  agent_lines_removed?: number;
  agent_cost_usd?: number;
  /** The agent's own cost per model (Claude Code cost-state `modelUsage[model].costUSD`), for models we cannot price. */
  agent_model_costs?: Record<string, number>;
  model?: string;
  /** Input + cache read + cache write of the last main-chain request. */
  context?: number;
  /** The agent writes token totals only later (Copilot: at process exit); true while they are still to come. */
  token_totals_pending?: boolean;
}

/**
 * A live fact about a session that another file owns (its transcript): from our hook spool or
 * telemetry. It never creates a session row or changes what the transcript says; the indexer keeps
 * it in the `session_live` table, merged into the session's status at query time (src/core/live).
 */
export interface LiveEvent extends Base {
  kind: 'live';
  /** The session the fact is about (the hook payload's session_id). */
  session_id: string;
  source: 'hook' | 'otel';
  /** The event's name as the agent gave it (SessionStart, PreToolUse, claude_code.api_request...). */
  event: string;
  /** When the fact was received, ms since epoch: a fact older than the one kept never replaces it. */
  at_ms: number;
  status?: 'busy' | 'wait' | 'idle' | 'done';
  waiting_for?: string | null;
  /** The agent's process and when it started (checked against the OS: pids are reused). */
  pid?: number | null;
  process_started_at_ms?: number | null;
  /** A SessionStart: `resume` (and friends) is a revival of a session that ran before. */
  start_source?: string;
}
