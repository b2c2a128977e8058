import type { DailyRow } from './store/daily';
import { SPECIFIED_FIELDS } from './model/session';
import type { SessionView } from './store/queries';

/**
 * Sessions and daily totals as CSV or JSON, for the Export command and `agent-handler export`.
 * Transcript text (titles, prompts) goes into the file as data: CSV cells that a spreadsheet would
 * run as a formula are neutralized.
 */

export type ExportFormat = 'csv' | 'json';
export type ExportWhat = 'sessions' | 'daily';

/**
 * A session as the JSON of `sessions --json` shows it: the 40 specified fields first, in their order
 * (null where unknown, never missing), then every extra of ours as the view holds it.
 */
export function sessionJson(s: SessionView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const view = s as unknown as Record<string, unknown>;
  for (const k of SPECIFIED_FIELDS) out[k] = view[k] ?? null;
  for (const [k, v] of Object.entries(view)) if (!(k in out)) out[k] = v;
  return out;
}

/** Every Session field, flat: the specified ones first, the subagent list joined, the totals with subagents as rollup_*. */
export function sessionRecord(s: SessionView): Record<string, unknown> {
  const { subagent_ids, rollup, branches, ...fields } = sessionJson(s) as Record<string, unknown> &
    Pick<SessionView, 'subagent_ids' | 'rollup' | 'branches'>;
  return {
    ...fields,
    subagent_ids: subagent_ids.join(';'),
    rollup_tokens_input: rollup.tokens_input,
    rollup_tokens_output: rollup.tokens_output,
    rollup_tokens_cache_read: rollup.tokens_cache_read,
    rollup_tokens_cache_write: rollup.tokens_cache_write,
    rollup_cost_usd: rollup.cost_usd,
    rollup_unpriced_requests: rollup.unpriced_requests,
    branches,
  };
}

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. A text
 * starting with = + - @ (or a tab or carriage return) gets a leading apostrophe, so a spreadsheet
 * shows it instead of evaluating it (OWASP CSV injection). Numbers are written as they are.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(records: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? [...new Set(records.flatMap((r) => Object.keys(r)))];
  const lines = [cols.map(csvCell).join(',')];
  for (const r of records) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function exportText(
  what: ExportWhat,
  format: ExportFormat,
  data: { sessions?: SessionView[]; daily?: DailyRow[] },
): string {
  const records: Record<string, unknown>[] =
    what === 'sessions' ? (data.sessions ?? []).map(sessionRecord) : (data.daily ?? []).map((d) => ({ ...d }));
  if (format === 'json') return `${JSON.stringify(records, null, 2)}\n`;
  return toCsv(records);
}
