import type { DailyRow, MachineSeries } from '../model/dashboardData';
import type { Totals } from '../store/totals';
import type { MachinePart, SharedTotals } from './types';

/**
 * A branch's or a PR's totals across machines, as the views show them. The shared database counts a
 * request two machines hold once, for one of them (remote.ts, CANONICAL), so once this machine has
 * pushed, its totals are the answer as they are: the worker reads them again after every push, so
 * they follow the local index within seconds. A machine that has no rows there (not pushed yet, or
 * one that only views, with a read-only role) gets its part from the local index, added; a request it
 * holds in common with another machine then counts twice until it pushes.
 */

export interface LocalPart extends Totals {
  requests: number;
  sessions: number;
}

const TOTAL_KEYS = [
  'tokens_input',
  'tokens_output',
  'tokens_cache_read',
  'tokens_cache_write',
  'cost_usd',
  'unpriced_requests',
  'requests',
  'sessions',
] as const;

export function withLocalPart(
  shared: SharedTotals,
  local: LocalPart,
  self: { machine_id: string; machine_name: string; last_push_at: string | null },
): SharedTotals {
  const pushed = shared.machines.some((m) => m.machine_id === self.machine_id);
  const machines: MachinePart[] = shared.machines.map((m) => ({
    ...m,
    this_machine: m.machine_id === self.machine_id,
  }));
  if (!pushed)
    machines.push({
      machine_id: self.machine_id,
      machine_name: self.machine_name,
      last_push_at: self.last_push_at,
      this_machine: true,
      tokens_input: local.tokens_input,
      tokens_output: local.tokens_output,
      tokens_cache_read: local.tokens_cache_read,
      tokens_cache_write: local.tokens_cache_write,
      cost_usd: local.cost_usd,
      unpriced_requests: local.unpriced_requests,
      requests: local.requests,
      sessions: local.sessions,
    });
  // A machine with nothing on this branch is left out, this one included: the split lists contributors.
  const shown = machines.filter((m) => m.requests > 0 || m.sessions > 0);
  shown.sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests || (a.this_machine ? -1 : 1));
  const total = Object.fromEntries(TOTAL_KEYS.map((k) => [k, 0])) as Record<(typeof TOTAL_KEYS)[number], number>;
  for (const m of shown) for (const k of TOTAL_KEYS) total[k] += m[k];
  return { ...total, machines: shown };
}

/** Whether any other machine adds to these totals (the views then say "across N machines"). */
export function hasOtherMachines(shared: SharedTotals | undefined): shared is SharedTotals {
  return !!shared && shared.machines.some((m) => !m.this_machine);
}

/** One machine's tokens and cost on one calendar day, as the shared database sums them. */
export interface MachineDayRow {
  date: string;
  machine_id: string;
  machine_name: string;
  tokens: number;
  cost_usd: number;
}

/**
 * The dashboard's per-machine series over `dates` from the shared database's per-day sums (each
 * request once across machines, as withLocalPart), this machine's from its local daily rows (every
 * agent and repository) while it has none there; machines with nothing in the range are left out,
 * the most expensive first.
 */
export function machineSeries(
  dates: string[],
  local: DailyRow[],
  shared: MachineDayRow[],
  self: { machine_id: string; machine_name: string },
): MachineSeries[] {
  const index = new Map(dates.map((d, i) => [d, i]));
  const series = new Map<string, MachineSeries>();
  const of = (id: string, name: string, mine: boolean) => {
    let s = series.get(id);
    if (!s) {
      s = {
        machine_id: id,
        machine_name: name,
        this_machine: mine,
        cost_usd: dates.map(() => 0),
        tokens: dates.map(() => 0),
      };
      series.set(id, s);
    }
    return s;
  };
  const mine = of(self.machine_id, self.machine_name, true);
  const pushed = shared.some((r) => r.machine_id === self.machine_id);
  for (const r of pushed ? [] : local) {
    const i = index.get(r.date);
    if (i === undefined) continue;
    mine.cost_usd[i] += r.cost_usd;
    mine.tokens[i] += r.tokens_input + r.tokens_output + r.tokens_cache_read + r.tokens_cache_write;
  }
  for (const r of shared) {
    const i = index.get(r.date);
    if (i === undefined) continue;
    const s = r.machine_id === self.machine_id ? mine : of(r.machine_id, r.machine_name, false);
    s.cost_usd[i] += r.cost_usd;
    s.tokens[i] += r.tokens;
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return [...series.values()]
    .filter((s) => sum(s.tokens) > 0 || sum(s.cost_usd) > 0)
    .sort((a, b) => sum(b.cost_usd) - sum(a.cost_usd) || a.machine_name.localeCompare(b.machine_name));
}
