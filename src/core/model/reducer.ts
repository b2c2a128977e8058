import { oneLine, parseGithubLink } from '../text';
import type { AgentEvent, UsageEvent } from './events';
import { type TokenCounts, totalTokenCounts } from './session';

/**
 * The reducer: a pure fold from one transcript file's events to what that file says about its
 * session, plus one usage row per API response. It keeps, per response key, the line with the largest
 * total (streamed responses are written as several lines that share the key; the last, complete one
 * is the largest). Deduplication *across* files (forks, copies) needs every file and lives in the
 * store, by the same key. The state is plain JSON so the indexer can persist it next to the file's
 * byte offset and continue folding appended lines after a restart.
 */

export type TurnState = 'waiting_model' | 'tool_running' | 'ended';

export interface FileState {
  session_id: string | null;
  parent_session_id: string | null;
  agent_id: string | null;
  /** The session the agent marked this one as forked from (the origin of the last marked copy). */
  forked_from_session_id: string | null;

  cwd: string | null;
  agent_version: string | null;
  git_branch: string | null;
  ai_title: string | null;
  custom_title: string | null;
  git_worktree_path: string | null;
  github_repo: string | null;
  github_pr: number | null;
  pr_url: string | null;
  seen_pr_url: string | null;
  seen_issue_url: string | null;
  /** Lines the agent says it added and removed (Claude Code cost-state, Copilot codeChanges). */
  agent_lines_added: number | null;
  agent_lines_removed: number | null;
  agent_cost_usd: number | null;
  agent_model_costs?: Record<string, number> | null;
  model: string | null;
  context: number | null;
  token_totals_pending: boolean | null;

  /** First timestamped record in file order: decides who owns a request copied into another file. */
  first_record_at: string | null;
  last_activity: string | null;
  /** The activity before last_activity: where a run ended when the next record starts a new one. */
  previous_activity: string | null;
  first_started_at: string | null;
  last_started_at: string | null;
  /** When the first run ended, once a second run (a revival) started: immutable history. */
  first_ended_at: string | null;
  run_count: number;

  first_user_message: string | null;
  last_user_message: string | null;
  /** This file's own prompts and API errors; those of marked copies are in `copied`. */
  message_count: number;
  compaction_count: number;
  api_error_count: number;
  /**
   * Prompts and API errors of lines the agent marked as copied from another session, per that
   * session: they count for it while it has a transcript, else here (docs/accounting.md §2).
   */
  copied: Record<string, CopiedCounts> | null;

  turn_state: TurnState | null;
  turn_state_at: string | null;
  /**
   * Every pull request the file mentions, with the branch recorded at that moment: which branch a PR
   * belongs to, and which sessions worked on it from another branch (a review), come from these.
   */
  prs: PrObservation[];
  /** The adapter's own per-file parse state (see LineContext.state). */
  adapter_state: Record<string, unknown>;
}

export interface CopiedCounts {
  messages: number;
  api_errors: number;
}

/** A pull request seen in a session: the agent's own record (Claude `pr-link`) or a URL in its text. */
export interface PrObservation {
  number: number;
  url: string | null;
  /** owner/name when known (the URL's, or the record's prRepository). */
  repo: string | null;
  source: 'agent' | 'transcript';
  /** The branch the transcript recorded when the PR was seen (the session's branch then). */
  branch: string | null;
  ts: string | null;
}

/** At most this many PR sightings are kept per file (first sighting per PR, source and branch). */
const PR_OBSERVATIONS_MAX = 200;

export interface UsageRow {
  dedup_key: string;
  message_id: string | null;
  sidechain: boolean;
  ts: string | null;
  model: string | null;
  provider?: string | null;
  vendor_cost_usd?: number | null;
  request_count?: number;
  git_branch: string | null;
  tokens: TokenCounts;
  speed: string | null;
  /** The session the agent marked this request as copied from (null: not a marked copy). */
  origin_session_id?: string | null;
}

/**
 * The first and last prompt are kept short: the store is an index, not a copy of the transcripts
 * (each is stored twice, in the session and in its file's parse state). The tooltip shows 300
 * characters; the Details page shows whole prompts from the search index.
 */
export const MESSAGE_MAX = 300;

export function newFileState(ids: {
  session_id: string | null;
  parent_session_id: string | null;
  agent_id: string | null;
}): FileState {
  return {
    session_id: ids.session_id,
    parent_session_id: ids.parent_session_id,
    agent_id: ids.agent_id,
    forked_from_session_id: null,
    cwd: null,
    agent_version: null,
    git_branch: null,
    ai_title: null,
    custom_title: null,
    git_worktree_path: null,
    github_repo: null,
    github_pr: null,
    pr_url: null,
    seen_pr_url: null,
    seen_issue_url: null,
    agent_lines_added: null,
    agent_lines_removed: null,
    agent_cost_usd: null,
    agent_model_costs: null,
    model: null,
    context: null,
    token_totals_pending: null,
    first_record_at: null,
    last_activity: null,
    previous_activity: null,
    first_started_at: null,
    last_started_at: null,
    first_ended_at: null,
    run_count: 0,
    first_user_message: null,
    last_user_message: null,
    message_count: 0,
    compaction_count: 0,
    api_error_count: 0,
    copied: null,
    turn_state: null,
    turn_state_at: null,
    prs: [],
    adapter_state: {},
  };
}

/**
 * Folds events into `state` (mutated and returned) and returns this batch's usage rows, one per key,
 * each the largest line of its key within the batch. The store merges rows of later batches with
 * the same rule.
 */
export function foldEvents(state: FileState, events: Iterable<AgentEvent>): UsageRow[] {
  const usage = new Map<string, UsageRow>();
  for (const e of events) {
    switch (e.kind) {
      case 'activity':
        if (e.ts) {
          state.first_record_at ??= e.ts;
          if (!state.last_activity || e.ts > state.last_activity) {
            state.previous_activity = state.last_activity;
            state.last_activity = e.ts;
          }
          state.first_started_at ??= e.ts;
          if (state.run_count === 0) {
            state.run_count = 1;
            state.last_started_at = e.ts;
          }
        }
        break;
      case 'usage':
        keepLargest(usage, e);
        break;
      case 'user_prompt': {
        const text = oneLine(e.text, MESSAGE_MAX);
        // A copied prompt is still the conversation's text (first/last prompt, title), but it was
        // typed in the session it names.
        state.first_user_message ??= text;
        state.last_user_message = text;
        if (e.copied_from) {
          copiedCounts(state, e.copied_from).messages += 1;
          break;
        }
        state.message_count += 1;
        // The first prompt of the file is the first run's start, already counted.
        if (e.run_start && state.message_count > 1 && e.ts) startRun(state, e.ts);
        break;
      }
      case 'turn':
        state.turn_state = e.state;
        state.turn_state_at = e.ts ?? state.turn_state_at;
        break;
      case 'api_error':
        if (e.copied_from) copiedCounts(state, e.copied_from).api_errors += 1;
        else state.api_error_count += 1;
        break;
      case 'compaction':
        state.compaction_count += 1;
        break;
      case 'meta':
        if (e.session_id !== undefined) state.session_id ??= e.session_id;
        if (e.parent_session_id !== undefined) state.parent_session_id ??= e.parent_session_id;
        if (e.agent_id !== undefined) state.agent_id ??= e.agent_id;
        if (e.forked_from_session_id !== undefined) state.forked_from_session_id = e.forked_from_session_id;
        if (e.cwd !== undefined) state.cwd = e.cwd;
        if (e.agent_version !== undefined) {
          // Another version of the agent wrote this record: a process that started after an upgrade.
          if (state.agent_version && e.agent_version !== state.agent_version && e.ts) startRun(state, e.ts);
          state.agent_version = e.agent_version;
        }
        if (e.git_branch !== undefined) state.git_branch = e.git_branch;
        if (e.ai_title !== undefined) state.ai_title = e.ai_title;
        if (e.custom_title !== undefined) state.custom_title = e.custom_title;
        if (e.git_worktree_path !== undefined) state.git_worktree_path = e.git_worktree_path;
        if (e.github_repo !== undefined) state.github_repo = e.github_repo;
        if (e.github_pr !== undefined) state.github_pr = e.github_pr;
        if (e.pr_url !== undefined) state.pr_url = e.pr_url;
        if (e.seen_pr_url !== undefined) state.seen_pr_url = e.seen_pr_url;
        if (e.seen_issue_url !== undefined) state.seen_issue_url = e.seen_issue_url;
        if (e.pr_url !== undefined || e.github_pr !== undefined) {
          const link = e.pr_url ? parseGithubLink(e.pr_url) : null;
          const number = e.github_pr ?? link?.number;
          if (number !== undefined)
            observePr(state, {
              number,
              url: e.pr_url ?? null,
              repo: e.github_repo ?? link?.repo ?? null,
              source: 'agent',
              branch: state.git_branch,
              ts: e.ts,
            });
        }
        if (e.seen_pr_url !== undefined) {
          const link = parseGithubLink(e.seen_pr_url);
          if (link)
            observePr(state, {
              number: link.number,
              url: e.seen_pr_url,
              repo: link.repo,
              source: 'transcript',
              branch: state.git_branch,
              ts: e.ts,
            });
        }
        if (e.agent_lines_added !== undefined) state.agent_lines_added = e.agent_lines_added;
        if (e.agent_lines_removed !== undefined) state.agent_lines_removed = e.agent_lines_removed;
        if (e.agent_cost_usd !== undefined) state.agent_cost_usd = e.agent_cost_usd;
        if (e.agent_model_costs !== undefined) state.agent_model_costs = e.agent_model_costs;
        if (e.model !== undefined) state.model = e.model;
        if (e.context !== undefined) state.context = e.context;
        if (e.token_totals_pending !== undefined) state.token_totals_pending = e.token_totals_pending;
        break;
      case 'tool_call':
      case 'assistant_text':
      case 'live':
        // Kept per file by the store (tool_calls, search texts, session_live), not folded into the session.
        break;
    }
  }
  return [...usage.values()];
}

function copiedCounts(state: FileState, origin: string): CopiedCounts {
  const byOrigin = (state.copied ??= {});
  // The id comes from a transcript: an own property, whatever it is (never an inherited `__proto__`).
  if (!Object.prototype.hasOwnProperty.call(byOrigin, origin)) {
    Object.defineProperty(byOrigin, origin, {
      value: { messages: 0, api_errors: 0 },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return byOrigin[origin];
}

/** Keeps the first sighting of each (PR, source, branch): later ones add nothing the first did not say. */
function observePr(state: FileState, o: PrObservation): void {
  state.prs ??= [];
  const same = state.prs.find(
    (p) => p.number === o.number && p.source === o.source && p.branch === o.branch && (p.repo ?? '') === (o.repo ?? ''),
  );
  if (same) {
    same.url ??= o.url;
    return;
  }
  if (state.prs.length < PR_OBSERVATIONS_MAX) state.prs.push(o);
}

function keepLargest(usage: Map<string, UsageRow>, e: UsageEvent): void {
  const prev = usage.get(e.dedup_key);
  // Ties go to the later line: it is the more complete copy of the same response.
  if (prev && totalTokenCounts(prev.tokens) > totalTokenCounts(e.tokens)) return;
  usage.set(e.dedup_key, {
    dedup_key: e.dedup_key,
    message_id: e.message_id,
    sidechain: e.sidechain,
    ts: prev?.ts ?? e.ts,
    model: e.model,
    provider: e.provider ?? null,
    vendor_cost_usd: e.vendor_cost_usd ?? null,
    request_count: e.request_count ?? 1,
    git_branch: e.git_branch,
    tokens: e.tokens,
    speed: e.speed,
    origin_session_id: e.copied_from ?? prev?.origin_session_id ?? null,
  });
}

/**
 * A record at `ts` starts another run of the session (a revival): the run before it ended at the
 * last activity before this record, and the first such end is kept for good.
 */
function startRun(state: FileState, ts: string): void {
  if (state.run_count === 1)
    state.first_ended_at ??= state.last_activity === ts ? state.previous_activity : state.last_activity;
  state.run_count += 1;
  state.last_started_at = ts;
}

/** Which of two rows of the same key a merge keeps (the larger; on a tie the newer one). */
export function largerUsage(a: UsageRow, b: UsageRow): UsageRow {
  return totalTokenCounts(a.tokens) > totalTokenCounts(b.tokens) ? a : b;
}

/** The session fields a file's state determines (totals come from the store's deduplicated rows). */
export interface SessionFacts {
  title: string | null;
  github_pr: number | null;
  pr_url: string | null;
  github_issue: number | null;
  issue_url: string | null;
  github_repo: string | null;
  revival_count: number;
}

export const TITLE_MAX = 80;

export function sessionFacts(s: FileState): SessionFacts {
  const title =
    s.custom_title || s.ai_title || (s.first_user_message ? oneLine(s.first_user_message, TITLE_MAX) : null);
  // An explicit pr-link record outranks a URL seen in text.
  const prUrl = s.pr_url ?? s.seen_pr_url;
  const pr = prUrl ? parseGithubLink(prUrl) : null;
  const issue = s.seen_issue_url ? parseGithubLink(s.seen_issue_url) : null;
  return {
    title,
    pr_url: prUrl,
    github_pr: s.github_pr ?? pr?.number ?? null,
    issue_url: s.seen_issue_url,
    github_issue: issue?.number ?? null,
    github_repo: s.github_repo ?? pr?.repo ?? null,
    revival_count: Math.max(0, s.run_count - 1),
  };
}
