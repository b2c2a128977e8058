/** Sessions and branch totals as the queries return them, for the view-model tests. */
import type { PrSummary } from '../../src/core/store/pullRequests';
import type { BranchSummary, SessionView } from '../../src/core/store/queries';

const ZERO = {
  tokens_input: 0,
  tokens_output: 0,
  tokens_cache_read: 0,
  tokens_cache_write: 0,
  cost_usd: 0,
  unpriced_requests: 0,
};

export function sessionView(id: string, over: Partial<SessionView> = {}): SessionView {
  return {
    session_id: id,
    parent_session_id: null,
    agent_id: null,
    forked_from_session_id: null,
    machine_id: null,
    framework: 'claude_code',
    title: id,
    first_started_at: null,
    last_started_at: null,
    first_ended_at: null,
    last_ended_at: null,
    last_activity: '2026-11-25T10:00:00.000Z',
    revival_count: 0,
    status: 'idle',
    status_updated_at: null,
    waiting_for: null,
    pid: null,
    process_start_time: null,
    cwd: null,
    local_git_dir: null,
    git_branch: null,
    git_worktree_path: null,
    github_repo: null,
    github_issue: null,
    issue_url: null,
    github_pr: null,
    pr_url: null,
    git_additions: null,
    git_deletions: null,
    agent_lines_added: null,
    agent_lines_removed: null,
    first_user_message: null,
    last_user_message: null,
    model: null,
    compaction_count: 0,
    message_count: 0,
    tool_call_count: 0,
    api_request_count: 0,
    api_error_count: 0,
    ...ZERO,
    agent_cost_usd: null,
    context: null,
    token_totals_pending: null,
    n_hook_events: 0,
    n_otel_events: 0,
    metrics_source: 'transcript',
    transcript_available: true,
    transcript_path: null,
    subagent_ids: [],
    branches: [],
    rollup: { ...ZERO },
    toplevel: null,
    ...over,
  };
}

export function branchSummary(branch: string, over: Partial<BranchSummary> = {}): BranchSummary {
  return {
    ...ZERO,
    git_dir: '/r/.git',
    branch,
    pr: null,
    sessions: 0,
    live: 0,
    waiting: 0,
    requests: 0,
    by_session: [],
    by_model: [],
    by_agent: [],
    ...over,
  };
}

export function prSummary(number: number, over: Partial<PrSummary> = {}): PrSummary {
  return {
    ...ZERO,
    git_dir: '/r/.git',
    pr: { number, url: `https://github.com/o/r/pull/${number}`, source: 'gh', repo: 'o/r' },
    head_branch: null,
    also: [],
    sessions: 0,
    live: 0,
    waiting: 0,
    requests: 0,
    by_session: [],
    by_model: [],
    by_agent: [],
    ...over,
  };
}
