import * as path from 'node:path';
import { totalTokens } from '../model/session';
import { DAY_MS, dayIn, systemTimeZone } from '../time';
import type { CostBar, DashboardData } from '../model/dashboardData';
import { dailyTotals } from './daily';
import { type SessionView, listSessions } from './queries';
import { all } from './sqlite';
import type { Store } from './store';
import { addTotals, zeroTotals } from './totals';

/**
 * Everything the dashboard draws, in one answer: the views never compute money. Every sum counts
 * each request once (counted usage rows), in the requested local-day range, agent and repository.
 */

export type { CostBar, DashboardData };

export interface DashboardOptions {
  /** How many local days back, today included; 0 = since the first request. */
  days: number;
  timeZone?: string;
  framework?: string;
  /** Only this repository (git common dir). */
  gitDir?: string;
  /** The workspace's repository, for the per-branch and per-PR charts. */
  currentGitDir?: string;
  /** How many bars in the top-N charts and rows in the costliest sessions table. */
  top?: number;
  now?: number;
}

export function dashboardData(
  store: Store,
  opts: DashboardOptions,
  sessions: SessionView[] = listSessions(store),
): DashboardData {
  const now = opts.now ?? Date.now();
  const timeZone = opts.timeZone ?? systemTimeZone();
  const top = opts.top ?? 10;
  const fmt = new Map<string, Intl.DateTimeFormat>();
  // The range: the last `days` local dates. `since` is a UTC instant safely before the first local
  // midnight of the range (a day and a half earlier); rows are then kept by their local date.
  let days = opts.days;
  if (days <= 0) {
    const min = all<{ ts: string | null }>(
      store.db,
      'SELECT MIN(ts) AS ts FROM usage WHERE counted = 1 AND ts IS NOT NULL',
    )[0]?.ts;
    const t = min ? Date.parse(min) : NaN;
    days = Number.isFinite(t) ? Math.min(3660, Math.max(1, Math.ceil((now - t) / DAY_MS) + 1)) : 1;
  }
  const dates: string[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = dayIn(new Date(now - i * DAY_MS).toISOString(), timeZone, fmt)!;
    if (dates.at(-1) !== d) dates.push(d);
  }
  const first = dates[0]!;
  const since = new Date(now - (days + 1.5) * DAY_MS).toISOString();
  const { rows, sessionsPerDay } = dailyTotals(store, {
    timeZone,
    since,
    framework: opts.framework,
    gitDir: opts.gitDir,
  });
  const daily = rows.filter((r) => r.date >= first);
  const totals = { ...zeroTotals(), requests: 0 };
  for (const r of daily) addTotals(totals, r);
  const inputSide = totals.tokens_input + totals.tokens_cache_read + totals.tokens_cache_write;

  // The top-N splits work on UTC instants: `firstInstant` is the earliest row of the local range.
  const firstInstant = firstInstantOf(store, since, first, timeZone, fmt);
  const where = `u.counted = 1 AND u.ts >= $first ${opts.framework ? 'AND s.framework = $framework' : ''}`;
  const params = { $first: firstInstant, ...(opts.framework ? { $framework: opts.framework } : {}) };
  const bars = (keyExpr: string, extra: string, p: Record<string, string>) =>
    all<CostBar>(
      store.db,
      `SELECT ${keyExpr} AS key, COALESCE(SUM(u.cost_usd),0) AS cost_usd, COALESCE(SUM(u.input + u.output + u.cache_read + u.cache_write),0) AS tokens,
         COALESCE(SUM(u.request_count),0) AS requests
       FROM usage u JOIN sessions s ON s.session_id = u.session_id LEFT JOIN sessions ps ON ps.session_id = s.parent_session_id
         LEFT JOIN cwd_info c ON c.cwd = s.cwd
       WHERE ${where} ${extra} GROUP BY 1 HAVING key IS NOT NULL ORDER BY cost_usd DESC, tokens DESC, key LIMIT ${top}`,
      { ...params, ...p },
    );
  const repoFilter = opts.gitDir ? 'AND c.git_dir = $gitDir' : '';
  const repoParam: Record<string, string> = opts.gitDir ? { $gitDir: opts.gitDir } : {};
  const current = opts.currentGitDir;
  const byProject = bars('COALESCE(c.toplevel, s.cwd)', repoFilter, repoParam);

  const inRange = (s: SessionView) => (s.last_activity ?? '') >= firstInstant;
  const repoOf = (s: SessionView) => s.local_git_dir;
  const costliest = sessions
    .filter(
      (s) =>
        !s.parent_session_id &&
        inRange(s) &&
        (!opts.framework || s.framework === opts.framework) &&
        (!opts.gitDir || repoOf(s) === opts.gitDir),
    )
    .sort((a, b) => b.rollup.cost_usd - a.rollup.cost_usd)
    .slice(0, top)
    .map((s) => ({
      session_id: s.session_id,
      title: s.title,
      framework: s.framework,
      git_branch: s.git_branch,
      cost_usd: s.rollup.cost_usd,
      tokens: totalTokens(s.rollup),
      last_activity: s.last_activity,
    }));

  const repos = all<{ git_dir: string; toplevel: string | null; github_repo: string | null }>(
    store.db,
    'SELECT git_dir, MIN(toplevel) AS toplevel, MAX(github_repo) AS github_repo FROM cwd_info WHERE git_dir IS NOT NULL GROUP BY git_dir ORDER BY 1',
  ).map((r) => ({ git_dir: r.git_dir, label: r.github_repo ?? (r.toplevel ? path.basename(r.toplevel) : r.git_dir) }));

  return {
    dates,
    daily,
    sessions_per_day: sessionsPerDay.filter((d) => d.date >= first),
    by_branch: current
      ? bars("COALESCE(u.git_branch, '(no branch)')", 'AND c.git_dir = $current', { $current: current })
      : [],
    // A subagent's requests count for its parent's pull request.
    by_pr: current
      ? bars("'#' || COALESCE(s.github_pr, ps.github_pr)", 'AND c.git_dir = $current', { $current: current })
      : [],
    by_project: byProject,
    totals,
    cache_read_share: inputSide > 0 ? totals.tokens_cache_read / inputSide : null,
    costliest,
    agents: [...new Set(sessions.map((s) => s.framework))].sort(),
    repos,
    time_zone: timeZone,
  };
}

/** The UTC instant where the local range starts: the first row time whose local date is in range. */
function firstInstantOf(
  store: Store,
  since: string,
  first: string,
  timeZone: string,
  fmt: Map<string, Intl.DateTimeFormat>,
): string {
  // Scan the day and a half before the range's first local date for the local midnight.
  const stamps = all<{ ts: string }>(
    store.db,
    'SELECT DISTINCT ts FROM usage WHERE counted = 1 AND ts >= ? ORDER BY ts LIMIT 100000',
    [since],
  );
  for (const { ts } of stamps) {
    const d = dayIn(ts, timeZone, fmt);
    if (d && d >= first) return ts;
  }
  return '9999';
}
