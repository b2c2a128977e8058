import { type CostRow, type DailyRow } from './report';

/**
 * The weekly and monthly reports: the daily report's days (pricing/report.ts `daily`, so every
 * total is the daily report's, added up) folded into weeks or months. A day is a local calendar
 * day already, so a week or a month is plain calendar arithmetic on its date.
 */

export type PeriodRow = Omit<DailyRow, 'date'>;

const WEEK_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** The first day (YYYY-MM-DD) of the week holding `date`, weeks starting on `startOfWeek` (0 = Sunday). */
export function weekStart(date: string, startOfWeek: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  const back = (d.getUTCDay() - startOfWeek + 7) % 7;
  return new Date(d.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

function add(into: CostRow, c: CostRow): void {
  into.input += c.input;
  into.output += c.output;
  into.cache_read += c.cache_read;
  into.cache_write += c.cache_write;
  into.cost_usd += c.cost_usd;
  into.requests += c.requests;
  into.unpriced_requests += c.unpriced_requests;
}

function empty(): CostRow {
  return { input: 0, output: 0, cache_read: 0, cache_write: 0, cost_usd: 0, requests: 0, unpriced_requests: 0 };
}

/** Adds the days up under the key each gets ('unknown' stays 'unknown', last); keys in order. */
export function rollUp(days: DailyRow[], keyOf: (date: string) => string): (PeriodRow & { key: string })[] {
  const out = new Map<string, { total: CostRow; agents: Map<string, CostRow>; models: Map<string, CostRow> }>();
  for (const day of days) {
    const key = day.date === 'unknown' ? 'unknown' : keyOf(day.date);
    let p = out.get(key);
    if (!p) out.set(key, (p = { total: empty(), agents: new Map(), models: new Map() }));
    add(p.total, day);
    for (const { agent, ...c } of day.by_agent) {
      const a = p.agents.get(agent) ?? empty();
      p.agents.set(agent, a);
      add(a, c);
    }
    for (const { model, ...c } of day.by_model) {
      const m = p.models.get(model) ?? empty();
      p.models.set(model, m);
      add(m, c);
    }
  }
  const byCost = <T extends CostRow>(a: T, b: T) => b.cost_usd - a.cost_usd;
  return [...out.entries()]
    .sort(([a], [b]) => (a === 'unknown' ? 1 : b === 'unknown' ? -1 : a.localeCompare(b)))
    .map(([key, p]) => ({
      key,
      ...p.total,
      by_agent: [...p.agents.entries()].map(([agent, c]) => ({ agent, ...c })).sort(byCost),
      by_model: [...p.models.entries()].map(([model, c]) => ({ model, ...c })).sort(byCost),
    }));
}

interface DailyReport {
  time_zone: string;
  price_data: string;
  days: DailyRow[];
}

export function weekly(report: DailyReport, startOfWeek: number) {
  return {
    time_zone: report.time_zone,
    price_data: report.price_data,
    start_of_week: WEEK_DAYS[startOfWeek],
    weeks: rollUp(report.days, (d) => weekStart(d, startOfWeek)).map(({ key, ...row }) => ({ week: key, ...row })),
  };
}

export function monthly(report: DailyReport) {
  return {
    time_zone: report.time_zone,
    price_data: report.price_data,
    months: rollUp(report.days, (d) => d.slice(0, 7)).map(({ key, ...row }) => ({ month: key, ...row })),
  };
}
