import type * as Pg from 'pg';
import { formatUsd } from '../text';
import { type RequestGroup, prFilter, requestGroups, sharedTotals } from './remote';
import type { SharedTotals } from './types';

/**
 * A pull request's bill across every machine, as Markdown fit for a PR comment (`agent-handler pr
 * --number N --markdown`): totals, then per machine, per agent, per model and per session, with
 * the unpriced requests called out. Built from the shared database's counted requests (each
 * request once, remote.ts), in a fixed order so the same rows always give the same text.
 */

export interface PrReportRow {
  name: string;
  requests: number;
  tokens: number;
  cost_usd: number;
  unpriced_requests: number;
}

export interface PrReportSession extends PrReportRow {
  session_id: string;
  machine_name: string;
  framework: string | null;
  title: string | null;
  first_ts: string | null;
  last_ts: string | null;
}

export interface PrReport {
  repo: string;
  number: number;
  head_branch: string | null;
  totals: SharedTotals;
  by_machine: PrReportRow[];
  by_agent: PrReportRow[];
  by_model: PrReportRow[];
  by_session: PrReportSession[];
  /** Models with unpriced requests, and how many. */
  unpriced_models: { model: string; requests: number }[];
}

const tokensOf = (g: RequestGroup) => g.tokens_input + g.tokens_output + g.tokens_cache_read + g.tokens_cache_write;

function rollup(groups: RequestGroup[], keyOf: (g: RequestGroup) => string): PrReportRow[] {
  const rows = new Map<string, PrReportRow>();
  for (const g of groups) {
    const name = keyOf(g);
    let r = rows.get(name);
    if (!r) rows.set(name, (r = { name, requests: 0, tokens: 0, cost_usd: 0, unpriced_requests: 0 }));
    r.requests += g.requests;
    r.tokens += tokensOf(g);
    r.cost_usd += g.cost_usd;
    r.unpriced_requests += g.unpriced_requests;
  }
  return [...rows.values()].sort(byCostThenName);
}

function byCostThenName(a: PrReportRow, b: PrReportRow): number {
  return b.cost_usd - a.cost_usd || b.tokens - a.tokens || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The report's numbers from the shared database (titles only where the machines share them). */
export async function prReport(
  client: Pg.ClientBase,
  repo: string,
  number: number,
  headBranch: string | null,
  thisMachineId: string,
): Promise<PrReport> {
  const groups = await requestGroups(client, prFilter(repo, number, headBranch));
  const titles = new Map<string, string | null>();
  if (groups.length) {
    const r = await client.query<{ machine_id: string; session_id: string; title: string | null }>(
      `SELECT machine_id, session_id, title FROM sessions
       WHERE (machine_id, session_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [groups.map((g) => g.machine_id), groups.map((g) => g.session_id)],
    );
    for (const s of r.rows) titles.set(`${s.machine_id}\0${s.session_id}`, s.title);
  }
  const sessions = new Map<string, PrReportSession>();
  for (const g of groups) {
    const key = `${g.machine_id}\0${g.session_id}`;
    let s = sessions.get(key);
    if (!s) {
      s = {
        name: g.session_id,
        session_id: g.session_id,
        machine_name: g.machine_name,
        framework: g.framework,
        title: titles.get(key) ?? null,
        first_ts: g.first_ts,
        last_ts: g.last_ts,
        requests: 0,
        tokens: 0,
        cost_usd: 0,
        unpriced_requests: 0,
      };
      sessions.set(key, s);
    }
    s.requests += g.requests;
    s.tokens += tokensOf(g);
    s.cost_usd += g.cost_usd;
    s.unpriced_requests += g.unpriced_requests;
    if (g.first_ts && (!s.first_ts || g.first_ts < s.first_ts)) s.first_ts = g.first_ts;
    if (g.last_ts && (!s.last_ts || g.last_ts > s.last_ts)) s.last_ts = g.last_ts;
  }
  const unpriced = new Map<string, number>();
  for (const g of groups)
    if (g.unpriced_requests)
      unpriced.set(g.model ?? 'unknown', (unpriced.get(g.model ?? 'unknown') ?? 0) + g.unpriced_requests);
  const headRow = await client.query<{ head_branch: string }>(
    'SELECT head_branch FROM pull_requests WHERE repo = $1 AND number = $2 AND head_branch IS NOT NULL ORDER BY machine_id LIMIT 1',
    [repo, number],
  );
  return {
    repo,
    number,
    head_branch: headBranch ?? headRow.rows[0]?.head_branch ?? null,
    totals: sharedTotals(groups, thisMachineId),
    by_machine: rollup(groups, (g) => g.machine_name),
    by_agent: rollup(groups, (g) => g.framework ?? 'unknown'),
    by_model: rollup(groups, (g) => g.model ?? 'unknown'),
    by_session: [...sessions.values()].sort(
      (a, b) =>
        (a.first_ts ?? '').localeCompare(b.first_ts ?? '') ||
        a.machine_name.localeCompare(b.machine_name) ||
        a.session_id.localeCompare(b.session_id),
    ),
    unpriced_models: [...unpriced.entries()]
      .map(([model, requests]) => ({ model, requests }))
      .sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model)),
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
/** Cost to the cent, or to a hundredth of a cent below a cent (formatUsd, as everywhere). */
const usd = (n: number) => formatUsd(n);
/** A table cell: no pipe or line break from a title can break the table. */
const cell = (s: string) =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function rowCells(r: PrReportRow): string[] {
  return [
    r.name,
    int(r.requests),
    int(r.tokens),
    usd(r.cost_usd),
    r.unpriced_requests ? `${int(r.unpriced_requests)} unpriced` : '',
  ];
}

/** `2026-11-25 14:11–14:11 UTC`, or across days with both dates. */
function span(first: string | null, last: string | null): string {
  if (!first) return '';
  const a = first.slice(0, 16).replace('T', ' ');
  if (!last) return `${a} UTC`;
  const b = last.slice(0, 16).replace('T', ' ');
  return a.slice(0, 10) === b.slice(0, 10) ? `${a}–${b.slice(11)} UTC` : `${a} – ${b} UTC`;
}

/** The report as Markdown (a heading, totals, then the tables). */
export function prMarkdown(r: PrReport): string {
  const t = r.totals;
  const tokens = t.tokens_input + t.tokens_output + t.tokens_cache_read + t.tokens_cache_write;
  const out: string[] = [
    `### Agent cost of ${cell(r.repo)}#${r.number}`,
    '',
    r.head_branch ? `Head branch \`${r.head_branch.replace(/`/g, "'")}\`.` : 'Head branch unknown.',
    '',
  ];
  if (!t.requests) {
    out.push('No agent requests are recorded for this pull request on any machine that syncs.', '');
    return `${out.join('\n')}\n`;
  }
  out.push(
    `**${usd(t.cost_usd)}** · ${int(tokens)} tokens (${int(t.tokens_input)} input, ${int(t.tokens_output)} output, ` +
      `${int(t.tokens_cache_read)} cache read, ${int(t.tokens_cache_write)} cache write) · ${int(t.requests)} requests · ` +
      `${int(t.sessions)} sessions on ${t.machines.length} machine${t.machines.length === 1 ? '' : 's'}`,
    '',
  );
  if (t.unpriced_requests) {
    out.push(
      `> [!WARNING]`,
      `> ${int(t.unpriced_requests)} request${t.unpriced_requests === 1 ? ' has' : 's have'} no known price and ${t.unpriced_requests === 1 ? 'is' : 'are'} not in the cost: ` +
        r.unpriced_models.map((m) => `${cell(m.model)} (${int(m.requests)})`).join(', '),
      '',
    );
  }
  const head = (first: string) => [first, 'requests', 'tokens', 'cost', 'unpriced'];
  out.push('#### Per machine', '', ...table(head('machine'), r.by_machine.map(rowCells)), '');
  out.push('#### Per agent', '', ...table(head('agent'), r.by_agent.map(rowCells)), '');
  out.push('#### Per model', '', ...table(head('model'), r.by_model.map(rowCells)), '');
  out.push(
    '#### Per session',
    '',
    ...table(
      ['session', 'machine', 'agent', 'when', 'requests', 'tokens', 'cost'],
      r.by_session.map((s) => [
        s.title ? `${s.title.slice(0, 80)} (\`${s.session_id}\`)` : `\`${s.session_id}\``,
        s.machine_name,
        s.framework ?? 'unknown',
        span(s.first_ts, s.last_ts),
        int(s.requests),
        int(s.tokens),
        usd(s.cost_usd),
      ]),
    ),
    '',
    '<sub>Each request counted once across machines (docs/sync.md). Generated by agent-handler.</sub>',
  );
  return `${out.join('\n')}\n`;
}
