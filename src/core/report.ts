import { totalTokens } from './model/session';
import type { PrRef, PrSummary } from './store/pullRequests';
import type { BranchSummary } from './store/queries';
import type { UsageBreakdown } from './store/totals';
import { formatTokens, formatUsd, oneLine } from './text';

/**
 * Text made from branch and PR totals: the "Copy Cost Summary" markdown table for a PR
 * description, and the checks a PR link passes before it is shown as a link. Pure, so tested
 * without VS Code; the numbers all come from the queries.
 */

/** `usd` formats the amount (a table column gives its own, of one precision for the column). */
export function costLabel(
  t: { cost_usd: number | null; unpriced_requests: number },
  usd: (n: number) => string = formatUsd,
): string {
  // A session's cost is null when nothing of it could be priced; with no request at all, nothing was billed.
  const cost = t.cost_usd ?? 0;
  if (t.unpriced_requests && cost === 0) return 'unpriced';
  return t.unpriced_requests ? `${usd(cost)} + unpriced` : usd(cost);
}

/**
 * A PR URL from a transcript or a lookup is shown as a link only when it is plainly a pull request
 * page on an https host (github.com or a GitHub Enterprise host): no other scheme, no credentials.
 */
export function safePrUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  return /^https:\/\/[A-Za-z0-9.-]+(?::\d+)?\/[\w.-]+\/[\w.-]+\/pull\/\d+\/?$/.test(url) ? url : null;
}

/** Table cells: one line, no pipes (a session title is transcript text). */
function cell(text: string): string {
  return oneLine(text, 80)
    .replace(/\|/g, '\\|')
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

/** The markdown pasted into a PR description: totals, then per agent, per model and per session. */
export function costSummaryMarkdown(
  b: BranchSummary,
  pr: PrSummary | null,
  agentName: (framework: string) => string,
): string {
  const t: UsageBreakdown = pr ?? b;
  const ref: PrRef | null = pr?.pr ?? b.pr;
  const lines: string[] = [];
  lines.push(`### Agent cost: ${ref ? `#${ref.number}` : `\`${b.branch}\``}`);
  lines.push('');
  const scope = pr
    ? `Requests on \`${pr.head_branch ?? b.branch}\`${pr.also.length ? ` plus ${pr.also.length} session(s) that worked on this PR from another branch` : ''}`
    : `Requests on \`${b.branch}\``;
  lines.push(
    `${scope}: **${formatTokens(totalTokens(t))} tokens, ${costLabel(t)}** in ${t.requests} request(s) from ${t.sessions} session(s).`,
  );
  if (b.diff) lines.push(`Lines changed against \`${b.diff.base}\`: +${b.diff.additions} −${b.diff.deletions}.`);
  lines.push('');
  lines.push('| Agent | Requests | Tokens | Cost |');
  lines.push('|---|---:|---:|---:|');
  for (const a of t.by_agent)
    lines.push(
      `| ${cell(agentName(a.framework))} | ${a.requests} | ${formatTokens(totalTokens(a))} | ${costLabel(a)} |`,
    );
  lines.push('');
  lines.push('| Model | Requests | Tokens | Cost |');
  lines.push('|---|---:|---:|---:|');
  for (const m of t.by_model)
    lines.push(`| ${cell(m.model)} | ${m.requests} | ${formatTokens(totalTokens(m))} | ${costLabel(m)} |`);
  lines.push('');
  lines.push('| Session | Agent | Requests | Tokens | Cost |');
  lines.push('|---|---|---:|---:|---:|');
  for (const s of t.by_session) {
    lines.push(
      `| ${cell((s.parent_session_id ? '↳ ' : '') + (s.title ?? s.session_id))} | ${cell(s.framework ? agentName(s.framework) : '')} | ${s.requests} | ${formatTokens(totalTokens(s))} | ${costLabel(s)} |`,
    );
  }
  lines.push('');
  lines.push(
    "<sub>Counted per request by Agent Handler from the agents' transcripts (list prices; tokens = input + output + cache read + cache write).</sub>",
  );
  return `${lines.join('\n')}\n`;
}
