import { dayIn } from './time';

/**
 * `--since` / `--until`: a period of local calendar days or of instants. A day (`2026-12-01`, or
 * `20261201` as ccusage writes it) is compared with a request's local day in the report's time zone,
 * both ends included; an ISO time or a relative one (`12h`, `7d`, `2w` before now) with its instant.
 */

export type Bound = { day: string } | { ms: number };

export interface Period {
  since: Bound | null;
  until: Bound | null;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Throws a RangeError saying what is accepted when `text` is none of the forms. */
export function parseBound(text: string, now: number): Bound {
  const t = text.trim();
  let m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(t);
  if (m) {
    const day = `${m[1]}-${m[2]}-${m[3]}`;
    // A real calendar day (2026-02-30 is not one).
    const ms = Date.parse(`${day}T00:00:00Z`);
    if (Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day) return { day };
  }
  m = /^(\d+)\s*([hdw])$/i.exec(t);
  if (m) return { ms: now - Number(m[1]) * UNIT_MS[m[2].toLowerCase()] };
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return { ms };
  }
  throw new RangeError(`${text} is not a date: use YYYY-MM-DD, YYYYMMDD, an ISO time or 12h / 7d / 2w`);
}

export function parsePeriod(since: string | null, until: string | null, now = Date.now()): Period {
  return {
    since: since === null ? null : parseBound(since, now),
    until: until === null ? null : parseBound(until, now),
  };
}

export function isWholeTime(p: Period): boolean {
  return p.since === null && p.until === null;
}

/**
 * Whether an instant (ISO) falls in the period, its local day taken in `zone`. Without bounds
 * everything does, also what has no time; with bounds, what has no time does not.
 */
export function periodFilter(p: Period, zone: string): (ts: string | null) => boolean {
  if (isWholeTime(p)) return () => true;
  const fmt = new Map<string, Intl.DateTimeFormat>();
  const after = (ts: string, b: Bound) => ('day' in b ? (dayIn(ts, zone, fmt) ?? '') >= b.day : Date.parse(ts) >= b.ms);
  const before = (ts: string, b: Bound) =>
    'day' in b ? (dayIn(ts, zone, fmt) ?? '') <= b.day : Date.parse(ts) <= b.ms;
  return (ts) => ts !== null && (!p.since || after(ts, p.since)) && (!p.until || before(ts, p.until));
}
