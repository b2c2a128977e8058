import { sessionRecord } from './export';
import { totalTokens } from './model/session';
import type { SessionDetails, SplitRow } from './store/details';
import type { SessionView } from './store/queries';
import { forkedFromText, formatTokens, formatUsd, oneLine } from './text';

/**
 * The Session Details page as plain text (a read-only document: transcript text stays text, nothing
 * in it is rendered or run): the splits, prompts, tools, errors and compactions, then every Session field.
 */
export function renderSessionDetails(s: SessionView, d: SessionDetails): string {
  const out: string[] = [];
  const title = oneLine(s.title ?? s.session_id, 120);
  out.push(title, '='.repeat(Math.min(120, title.length)), '');
  if (d.forked_from) out.push(...forkLines(d.forked_from), '');

  section(out, "Per branch (this session's requests, by the branch recorded with each)", d.by_branch);
  section(out, 'Per model', d.by_model);

  out.push(`Prompts (${d.prompts.length})`, '-------');
  if (!d.prompts.length) out.push('none kept');
  for (const p of d.prompts)
    out.push(`${(p.ts ?? '').replace('T', ' ').slice(0, 19).padEnd(19)}  ${oneLine(firstLine(p.text), 160)}`);
  out.push('');

  out.push(`Tool calls by name (${d.tools.reduce((a, t) => a + t.calls, 0)})`, '------------------');
  if (!d.tools.length) out.push('none');
  const toolWidth = Math.max(0, ...d.tools.map((t) => t.name.length));
  for (const t of d.tools) out.push(`${oneLine(t.name, 80).padEnd(toolWidth)}  ${t.calls}`);
  out.push('');

  const errors = d.marks.filter((m) => m.kind === 'api_error');
  const compactions = d.marks.filter((m) => m.kind === 'compaction');
  out.push(`API errors (${errors.length})`, '----------');
  for (const m of errors) out.push(m.ts ?? 'time unknown');
  if (!errors.length) out.push('none');
  out.push('');
  out.push(`Compactions (${compactions.length})`, '-----------');
  for (const m of compactions) out.push(m.ts ?? 'time unknown');
  if (!compactions.length) out.push('none');
  out.push('');
  if (s.subagent_ids.length) {
    out.push(`Subagents (${s.subagent_ids.length})`, '---------', ...s.subagent_ids, '');
  }

  out.push('Every field', '-----------');
  const rec = sessionRecord(s);
  const width = Math.max(...Object.keys(rec).map((k) => k.length));
  for (const [k, v] of Object.entries(rec)) {
    const text =
      v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    out.push(`${k.padEnd(width)}  ${oneLine(text, 500)}`);
  }
  out.push('');

  return `${out.join('\n')}\n`;
}

/** Where a fork came from, and what of its copied history counts there (docs/accounting.md §2). */
function forkLines(f: NonNullable<SessionDetails['forked_from']>): string[] {
  const head = forkedFromText(f.session_id, f.title);
  const lines = [`${head.charAt(0).toUpperCase()}${head.slice(1)}`];
  const e = f.counted_elsewhere;
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  if (e.requests + e.prompts + e.tool_calls + e.api_errors > 0) {
    lines.push(
      `Copied history counted there: ${[n(e.requests, 'request'), n(e.prompts, 'prompt'), n(e.tool_calls, 'tool call'), n(e.api_errors, 'API error')].join(', ')}`,
    );
  }
  if (!f.origin_present)
    lines.push('Its transcript is not here (deleted or never indexed): the copied history counts in this session.');
  return lines;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).find((l) => l.trim()) ?? '';
}

function section(out: string[], heading: string, rows: SplitRow[]): void {
  out.push(heading, '-'.repeat(heading.length));
  if (!rows.length) out.push('no requests');
  const w = Math.max(0, ...rows.map((r) => r.key.length));
  for (const r of rows) {
    const tokens = totalTokens(r);
    const cost = r.unpriced_requests
      ? `${formatUsd(r.cost_usd)} + ${r.unpriced_requests} unpriced`
      : formatUsd(r.cost_usd);
    out.push(
      `${oneLine(r.key, 80).padEnd(w)}  ${String(r.requests).padStart(5)} req  ${formatTokens(tokens).padStart(7)} tok  ${cost}`,
    );
  }
  out.push('');
}
