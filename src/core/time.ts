/**
 * Time zones and calendar days: the per-day figures (the CLI's daily report, the export's daily
 * totals, the dashboard) count a request on the local day a person there saw it.
 */

/** A day in milliseconds (the length of a UTC day; a local day may be an hour longer or shorter). */
export const DAY_MS = 86_400_000;

/** The system's time zone (the default of every per-day figure). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Throws a RangeError naming the zone when it is not an IANA zone (or UTC offset) the runtime knows. */
export function checkTimeZone(tz: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new RangeError(`unknown time zone ${tz}`);
  }
}

/** `YYYY-MM-DD` of an instant in a time zone (the calendar day a person there saw). */
export function dayIn(ts: string, tz: string, cache = new Map<string, Intl.DateTimeFormat>()): string | null {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return null;
  let fmt = cache.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    cache.set(tz, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}
