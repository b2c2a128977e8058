import { dayIn, systemTimeZone } from '../time';
import { all } from './sqlite';
import type { Store } from './store';
import type { DailyRow } from '../model/dashboardData';

/**
 * Counted requests per local calendar day, agent and model, filtered by time, agent and repository:
 * the export's daily totals and the dashboard's per-day charts (pricing/report's `daily` is the
 * unfiltered per-day report of the CLI; both use time.ts's `dayIn`). Days are in the given IANA time zone (default: this machine's), so a
 * request at 23:30 local time counts on that local day whatever its UTC date.
 */

export type { DailyRow };

export interface DailyOptions {
  timeZone?: string;
  /** Only requests at or after this instant (ISO-8601). */
  since?: string;
  /** Only this agent's requests. */
  framework?: string;
  /** Only requests of sessions working in this repository (`git rev-parse --git-common-dir`). */
  gitDir?: string;
  /** Only the requests whose time it keeps (a period: core/period.ts). */
  keep?: (ts: string | null) => boolean;
}

export function dailyUsage(store: Store, opts: DailyOptions = {}): DailyRow[] {
  return dailyTotals(store, opts).rows;
}

/** Per day, agent and model, and per day the distinct sessions (a session may use several models). */
export function dailyTotals(
  store: Store,
  opts: DailyOptions = {},
): { rows: DailyRow[]; sessionsPerDay: { date: string; sessions: number }[] } {
  const zone = opts.timeZone ?? systemTimeZone();
  const fmtCache = new Map<string, Intl.DateTimeFormat>();
  const usage = all<{
    ts: string | null;
    session_id: string;
    framework: string;
    model: string | null;
    input: number;
    output: number;
    cache_read: number;
    cache_write: number;
    cost_usd: number | null;
    priced: number;
    request_count: number;
  }>(
    store.db,
    `SELECT u.ts AS ts, u.session_id AS session_id, COALESCE(s.framework, 'unknown') AS framework, u.model AS model, u.input AS input,
       u.output AS output, u.cache_read AS cache_read, u.cache_write AS cache_write, u.cost_usd AS cost_usd, u.priced AS priced,
       u.request_count AS request_count
     FROM usage u LEFT JOIN sessions s ON s.session_id = u.session_id LEFT JOIN cwd_info c ON c.cwd = s.cwd
     WHERE u.counted = 1 AND u.ts IS NOT NULL ${opts.since ? 'AND u.ts >= $since' : ''}
       ${opts.framework ? 'AND s.framework = $framework' : ''} ${opts.gitDir ? 'AND c.git_dir = $gitDir' : ''}`,
    {
      ...(opts.since ? { $since: opts.since } : {}),
      ...(opts.framework ? { $framework: opts.framework } : {}),
      ...(opts.gitDir ? { $gitDir: opts.gitDir } : {}),
    },
  );
  const perDay = new Map<string, Set<string>>();
  // Formatting is the slow part: cache it per minute (every zone's offset is whole minutes).
  const dayOf = new Map<string, string | null>();
  const out = new Map<string, DailyRow & { ids: Set<string> }>();
  for (const r of usage) {
    if (opts.keep && !opts.keep(r.ts)) continue;
    const minute = r.ts!.slice(0, 16);
    let date = dayOf.get(minute);
    if (date === undefined) {
      date = dayIn(r.ts!, zone, fmtCache);
      dayOf.set(minute, date);
    }
    if (!date) continue;
    const model = r.model ?? 'unknown';
    const key = `${date}\0${r.framework}\0${model}`;
    let d = out.get(key);
    if (!d) {
      d = {
        date,
        framework: r.framework,
        model,
        requests: 0,
        tokens_input: 0,
        tokens_output: 0,
        tokens_cache_read: 0,
        tokens_cache_write: 0,
        cost_usd: 0,
        unpriced_requests: 0,
        sessions: 0,
        ids: new Set(),
      };
      out.set(key, d);
    }
    d.requests += r.request_count;
    d.tokens_input += r.input;
    d.tokens_output += r.output;
    d.tokens_cache_read += r.cache_read;
    d.tokens_cache_write += r.cache_write;
    d.cost_usd += r.cost_usd ?? 0;
    if (!r.priced) d.unpriced_requests += r.request_count;
    d.ids.add(r.session_id);
    let day = perDay.get(date);
    if (!day) perDay.set(date, (day = new Set()));
    day.add(r.session_id);
  }
  const rows = [...out.values()]
    .map(({ ids, ...d }) => ({ ...d, sessions: ids.size }))
    .sort(
      (a, b) =>
        a.date.localeCompare(b.date) || a.framework.localeCompare(b.framework) || a.model.localeCompare(b.model),
    );
  const sessionsPerDay = [...perDay]
    .map(([date, ids]) => ({ date, sessions: ids.size }))
    .sort((a, b) => a.date.localeCompare(b.date));
  return { rows, sessionsPerDay };
}
