import { type LiveFacts, type MergedLive, mergeFacts } from '../model/liveFacts';
import { DEFAULT_STATUS_SETTINGS, type StatusSettings } from '../model/status';
import { type ClockFields, type ClockInputs, type LiveRow, sessionClock } from './sessionClock';
import type { TurnState } from '../model/reducer';
import { type Session, isLive, metricsSource, totalTokens } from '../model/session';
import { all, allWideAside, one } from './sqlite';
import { DOC_SEP } from './files';
import type { Store } from './store';
import { type PrRef, type PrSummary, prForBranch } from './pullRequests';
import { type BranchPart, type Totals, type UsageBreakdown, SUMS, addTotals } from './totals';

/**
 * Read queries shared by the extension (through the worker), the CLI and the tests. Views never
 * compute money: every sum they show comes from here.
 */

/** A session as shown: the stored row, its live status, and its totals with its subagents'. */
export interface SessionView extends Session {
  subagent_ids: string[];
  /** The agent's own cost per model (Claude Code cost-state), covering the session with its subagents. */
  agent_model_costs?: Record<string, number> | null;
  /** This session plus all its subagents, each request once. */
  rollup: Totals;
  /** Whether the session's cwd belongs to a repository (and which worktree top level). */
  toplevel: string | null;
  /** The branches its own counted requests were made on (per request), most expensive first. */
  branches: SessionBranchShare[];
}

export interface SessionBranchShare {
  branch: string | null;
  requests: number;
  tokens: number;
  cost_usd: number;
  unpriced_requests: number;
  /** This branch's part of the session's own cost (0..1; by tokens when the session cost nothing). */
  share: number;
}

/** The stored row: what the record derives when it is read (status, process, end) is left out. */
interface SessionRow extends Omit<
  Session,
  | 'status'
  | 'status_updated_at'
  | 'waiting_for'
  | 'pid'
  | 'process_start_time'
  | 'last_ended_at'
  | 'transcript_available'
  | 'token_totals_pending'
  | 'metrics_source'
> {
  token_totals_pending: number | null;
  toplevel: string | null;
  transcript_available: number;
}

/** What a session row holds that its view does not show: read apart from the row (allWideAside). */
interface SessionAside {
  turn_state: TurnState | null;
  turn_state_at: string | null;
  cwd_github_repo: string | null;
}
const SESSION_ASIDE: readonly string[] = ['turn_state', 'turn_state_at', 'cwd_github_repo', 'root'];

export function listSessions(
  store: Store,
  now = Date.now(),
  settings: StatusSettings = DEFAULT_STATUS_SETTINGS,
): SessionView[] {
  return listSessionsWithClock(store, now, settings).views;
}

/** A session's clock-dependent fields and what they were derived from (sessionClock.ts). */
export interface SessionClock {
  inputs: ClockInputs;
  fields: ClockFields;
}

/** listSessions, with each view's SessionClock beside it (same order): the CLI's scan manifest keeps them. */
export function listSessionsWithClock(
  store: Store,
  now = Date.now(),
  settings: StatusSettings = DEFAULT_STATUS_SETTINGS,
): { views: SessionView[]; clocks: SessionClock[] } {
  const rows = allWideAside<SessionRow, SessionAside>(
    store.db,
    `SELECT s.*, c.git_dir AS local_git_dir, c.toplevel AS toplevel, c.github_repo AS cwd_github_repo,
       d.additions AS git_additions, d.deletions AS git_deletions
     FROM sessions s LEFT JOIN cwd_info c ON c.cwd = s.cwd LEFT JOIN branch_diff d ON d.git_dir = c.git_dir AND d.branch = s.git_branch`,
    SESSION_ASIDE,
  );
  // Sorted here, not by SQLite: an ORDER BY made SQLite sort the rows' JSON text (~2 KB each) in a
  // temp b-tree, 0.3-0.6 s of a warm start at 5,000 sessions; sorting 5,000 references takes ms.
  // Latest first, no activity last (SQLite's DESC order: NULL sorts lowest); ISO text compares
  // the same in JS as in SQLite.
  rows.sort((a, b) => byActivityDesc(a[0].last_activity, b[0].last_activity));
  const live = new Map<string, LiveRow>();
  // Per session the entry to trust: a live process over a dead one, then the latest update.
  for (const l of all<LiveRow>(
    store.db,
    'SELECT * FROM live WHERE session_id IS NOT NULL ORDER BY alive, updated_at_ms',
  )) {
    live.set(l.session_id, l);
  }
  const spooled = new Map<string, { facts: LiveFacts; alive: number | null }[]>();
  for (const l of all<{ session_id: string; facts_json: string; alive: number | null }>(
    store.db,
    'SELECT session_id, facts_json, alive FROM session_live',
  )) {
    let list = spooled.get(l.session_id);
    if (!list) spooled.set(l.session_id, (list = []));
    list.push({ facts: JSON.parse(l.facts_json) as LiveFacts, alive: l.alive });
  }
  const clocks: SessionClock[] = [];
  const views = rows.map(([r, aside]) => {
    const hooks = mergeFacts(spooled.get(r.session_id) ?? []);
    const inputs: ClockInputs = {
      hooks,
      turn_state: aside.turn_state,
      turn_state_at: aside.turn_state_at,
      last_activity: r.last_activity,
      first_ended_at: r.first_ended_at,
      live: live.get(r.session_id) ?? null,
    };
    const fields = sessionClock(inputs, now, settings);
    clocks.push({ inputs, fields });
    return toView(r, aside, hooks, fields);
  });
  const byId = new Map(views.map((v) => [v.session_id, v]));
  for (const v of views) {
    if (v.parent_session_id) byId.get(v.parent_session_id)?.subagent_ids.push(v.session_id);
  }
  for (const v of views) v.rollup = rollup(v, byId, new Set());
  for (const b of all<Omit<SessionBranchShare, 'share'> & { session_id: string; share: number }>(
    store.db,
    `SELECT session_id, branch, COALESCE(SUM(request_count),0) AS requests, COALESCE(SUM(input + output + cache_read + cache_write),0) AS tokens,
      COALESCE(SUM(cost_usd),0) AS cost_usd, COALESCE(SUM(CASE WHEN priced = 0 THEN request_count ELSE 0 END),0) AS unpriced_requests, 0 AS share
     FROM usage WHERE counted = 1 GROUP BY session_id, branch ORDER BY cost_usd DESC, tokens DESC`,
  )) {
    const { session_id, ...part } = b;
    const v = byId.get(session_id);
    if (!v) continue;
    const cost = v.cost_usd ?? 0;
    const whole = cost > 0 ? cost : totalTokens(v);
    part.share = whole > 0 ? (cost > 0 ? part.cost_usd : part.tokens) / whole : 0;
    v.branches.push(part);
  }
  return { views, clocks };
}

function byActivityDesc(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? 1 : -1;
}

function toView(r: SessionRow, aside: SessionAside, hooks: MergedLive | null, clock: ClockFields): SessionView {
  const { toplevel } = r;
  const { cwd_github_repo } = aside;
  const costsJson = (r as SessionRow & { agent_model_costs?: string | null }).agent_model_costs;
  let agentModelCosts: Record<string, number> | null = null;
  try {
    agentModelCosts = costsJson ? (JSON.parse(costsJson) as Record<string, number>) : null;
  } catch {
    agentModelCosts = null;
  }
  const own: Totals = {
    tokens_input: r.tokens_input,
    tokens_output: r.tokens_output,
    tokens_cache_read: r.tokens_cache_read,
    tokens_cache_write: r.tokens_cache_write,
    cost_usd: r.cost_usd ?? 0,
    unpriced_requests: r.unpriced_requests,
  };
  // The row becomes the view in place: copying ~50 properties into a new object per session was
  // most of the cost of listing thousands of them. What the view does not show was read aside.
  const v = r as unknown as Record<string, unknown>;
  v.github_repo = r.github_repo ?? cwd_github_repo;
  // Without the agent's own worktree record, the working tree git reports for the folder.
  v.git_worktree_path = r.git_worktree_path ?? toplevel;
  v.status = clock.status;
  v.status_updated_at = clock.status_updated_at;
  v.waiting_for = clock.waiting_for;
  v.last_ended_at = clock.last_ended_at;
  v.first_ended_at = clock.first_ended_at;
  v.pid = clock.pid;
  v.process_start_time = clock.process_start_time;
  // Revival: a resume the hooks saw counts even when the transcript shows no new run (yet); the
  // first_* fields are the transcript's and never change.
  v.revival_count = Math.max(r.revival_count, hooks?.resumes ?? 0);
  v.last_started_at = laterIso(r.last_started_at, hooks?.last_started_at_ms ?? null);
  v.n_hook_events = r.n_hook_events + (hooks?.hook_events ?? 0);
  v.n_otel_events = r.n_otel_events + (hooks?.otel_events ?? 0);
  v.transcript_available = r.transcript_available === 1;
  v.metrics_source = metricsSource(v as unknown as Session);
  v.token_totals_pending = r.token_totals_pending === null ? null : r.token_totals_pending === 1;
  v.toplevel = toplevel;
  v.agent_model_costs = agentModelCosts;
  v.subagent_ids = [];
  v.branches = [];
  v.rollup = own;
  return v as unknown as SessionView;
}

function laterIso(iso: string | null, ms: number | null): string | null {
  if (ms === null) return iso;
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) && t >= ms ? iso : new Date(ms).toISOString();
}

function rollup(v: SessionView, byId: Map<string, SessionView>, seen: Set<string>): Totals {
  seen.add(v.session_id);
  const t: Totals = {
    tokens_input: v.tokens_input,
    tokens_output: v.tokens_output,
    tokens_cache_read: v.tokens_cache_read,
    tokens_cache_write: v.tokens_cache_write,
    cost_usd: v.cost_usd ?? 0,
    unpriced_requests: v.unpriced_requests,
  };
  for (const id of v.subagent_ids) {
    const child = byId.get(id);
    if (!child || seen.has(id)) continue;
    addTotals(t, rollup(child, byId, seen));
  }
  return t;
}

export interface BranchSummary extends UsageBreakdown {
  git_dir: string;
  branch: string;
  /** The branch's pull request from what is already known (agent record, transcript, cached lookups). */
  pr: PrRef | null;
  /** Lines changed on the branch against its merge base with the default branch, once computed. */
  diff?: { additions: number; deletions: number; base: string } | null;
  /** The PR's own totals (head branch + sessions that recorded it elsewhere), when the branch has a PR. */
  pr_summary?: PrSummary | null;
}

/**
 * Sums the counted requests matching `where` (over `usage u JOIN sessions s JOIN cwd_info c`), each
 * once, with the per-session, per-model and per-agent breakdowns. Shared by branch and PR totals.
 */
export function usageBreakdown(
  store: Store,
  where: string,
  params: (string | number)[],
  sessions?: SessionView[],
): UsageBreakdown {
  const from = `FROM usage u JOIN sessions s ON s.session_id = u.session_id JOIN cwd_info c ON c.cwd = s.cwd WHERE u.counted = 1 AND (${where})`;
  const total = one<BranchPart>(store.db, `SELECT ${SUMS} ${from}`, params)!;
  const perSession = all<BranchPart & { session_id: string }>(
    store.db,
    `SELECT u.session_id AS session_id, ${SUMS} ${from} GROUP BY u.session_id ORDER BY cost_usd DESC`,
    params,
  );
  const perModel = all<BranchPart & { model: string }>(
    store.db,
    `SELECT COALESCE(u.model, 'unknown') AS model, ${SUMS} ${from} GROUP BY COALESCE(u.model, 'unknown') ORDER BY cost_usd DESC`,
    params,
  );
  const perAgent = all<BranchPart & { framework: string }>(
    store.db,
    `SELECT s.framework AS framework, ${SUMS} ${from} GROUP BY s.framework ORDER BY cost_usd DESC`,
    params,
  );
  const views = new Map((sessions ?? listSessions(store)).map((s) => [s.session_id, s]));
  const bySession = perSession.map((p) => {
    const v = views.get(p.session_id);
    return {
      ...p,
      framework: v?.framework ?? null,
      title: v?.title ?? null,
      status: v?.status ?? 'done',
      parent_session_id: v?.parent_session_id ?? null,
    };
  });
  return {
    ...total,
    sessions: bySession.length,
    live: bySession.filter(isLive).length,
    waiting: bySession.filter((s) => s.status === 'wait').length,
    by_session: bySession,
    by_model: perModel,
    by_agent: perAgent,
  };
}

/**
 * A branch's totals in one repository: every counted request made on that branch (per request, by
 * the branch it was attributed to, docs/accounting.md §5), in any session whose working directory
 * is in any worktree of the repository. `defaultBranch` keeps review sightings of a PR on the
 * default branch from naming it the default branch's PR.
 */
export function branchSummary(
  store: Store,
  gitDir: string,
  branch: string,
  sessions?: SessionView[],
  defaultBranch: string | null = null,
): BranchSummary {
  return {
    git_dir: gitDir,
    branch,
    ...usageBreakdown(store, 'c.git_dir = ? AND u.branch = ?', [gitDir, branch], sessions),
    pr: prForBranch(store, gitDir, branch, defaultBranch),
  };
}

/** Sum of every counted request (the workspace total when there is no repository). */
export function grandTotal(store: Store): Totals & { requests: number } {
  return one<Totals & { requests: number }>(store.db, `SELECT ${SUMS} FROM usage u WHERE u.counted = 1`)!;
}

export interface Diagnostics {
  files: number;
  files_deleted: number;
  sessions: number;
  requests: number;
  lines_skipped: number;
  files_with_skips: { path: string; skipped_lines: number; last_skip_reason: string | null }[];
  unpriced_models: { model: string; requests: number }[];
  /** Files (on disk / gone) and sessions per agent. */
  per_agent: { framework: string; files: number; files_deleted: number; sessions: number }[];
}

export function diagnostics(store: Store): Diagnostics {
  const c = one<{ files: number; deleted: number; skipped: number }>(
    store.db,
    'SELECT COUNT(*) AS files, COALESCE(SUM(deleted),0) AS deleted, COALESCE(SUM(skipped_lines),0) AS skipped FROM files',
  )!;
  return {
    files: c.files,
    files_deleted: c.deleted,
    sessions: one<{ n: number }>(store.db, 'SELECT COUNT(*) AS n FROM sessions')!.n,
    requests: one<{ n: number }>(store.db, 'SELECT COALESCE(SUM(request_count),0) AS n FROM usage WHERE counted = 1')!
      .n,
    lines_skipped: c.skipped,
    files_with_skips: all(
      store.db,
      'SELECT path, skipped_lines, last_skip_reason FROM files WHERE skipped_lines > 0 ORDER BY skipped_lines DESC LIMIT 50',
    ),
    unpriced_models: all(
      store.db,
      "SELECT COALESCE(model, 'unknown') AS model, SUM(request_count) AS requests FROM usage WHERE counted = 1 AND priced = 0 GROUP BY 1 ORDER BY 2 DESC",
    ),
    // Document rows (`<doc>#session=<id>`) stand for sessions, not files: only real paths count as files.
    per_agent: all(
      store.db,
      `SELECT framework,
              SUM(CASE WHEN instr(path, '${DOC_SEP}') = 0 THEN 1 ELSE 0 END) AS files,
              SUM(CASE WHEN instr(path, '${DOC_SEP}') = 0 AND deleted = 1 THEN 1 ELSE 0 END) AS files_deleted,
              (SELECT COUNT(*) FROM sessions s WHERE s.framework = f.framework) AS sessions
         FROM files f GROUP BY framework ORDER BY framework`,
    ),
  };
}

/**
 * The ids of the sessions whose id starts with `prefix`, at most `limit` (a unique prefix is
 * accepted wherever an id is asked for, as git and docker accept them).
 */
export function sessionIdsStartingWith(store: Store, prefix: string, limit: number): string[] {
  return all<{ session_id: string }>(
    store.db,
    'SELECT session_id FROM sessions WHERE substr(session_id, 1, length($p)) = $p ORDER BY session_id LIMIT $n',
    { $p: prefix, $n: limit },
  ).map((r) => r.session_id);
}
