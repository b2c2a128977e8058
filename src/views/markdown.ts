import * as vscode from 'vscode';
import { adapterFor } from '../core/sources/registry';
import { branchLabel } from '../core/grouping';
import { MESSAGE_MAX } from '../core/model/reducer';
import { costLabel, safePrUrl } from '../core/report';
import { PR_SOURCE_LABEL } from '../core/store/pullRequests';
import type { BranchSummary, SessionView } from '../core/store/queries';
import type { Totals } from '../core/store/totals';
import { compareWithAgent } from '../core/pricing/settings';
import { displayText, escapeMd, forkOriginLabel, formatTokens, formatUsd, sessionLabel } from '../core/text';

/**
 * Tooltips. Transcript text is data: every value is escaped, and the MarkdownString is neither
 * trusted nor allowed HTML, so no text from a transcript can run a command or inject markup.
 */

/** Shared with core (pure, unit-tested there). */
export { escapeMd };

export function untrusted(): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', false);
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}

export function costText(t: { cost_usd: number | null; unpriced_requests: number }): string {
  return costLabel(t);
}

function tokensOf(t: Totals): number {
  return t.tokens_input + t.tokens_output + t.tokens_cache_read + t.tokens_cache_write;
}

/** `forkOrigin`: the session `s` was forked from, when it is indexed (its title names it). */
export function sessionTooltip(s: SessionView, forkOrigin?: Pick<SessionView, 'title'> | null): vscode.MarkdownString {
  const md = untrusted();
  md.appendMarkdown(`**${escapeMd(sessionLabel(s, 200))}**\n\n`);
  const rows: [string, string | number | null | undefined][] = [
    ['Status', s.status + (s.waiting_for ? ` (waiting for ${s.waiting_for})` : '')],
    ['Agent', adapterFor(s.framework)?.displayName ?? s.framework],
    ['Session', s.session_id],
    ['Parent session', s.parent_session_id],
    ['Forked from', s.forked_from_session_id ? forkOriginLabel(s.forked_from_session_id, forkOrigin?.title ?? null) : null],
    ['Model', s.model],
    ['Branch', s.git_branch],
    ['Working folder', s.cwd],
    ['Worktree', s.git_worktree_path],
    ['Repository', s.github_repo],
    ['Pull request', s.pr_url],
    ['Issue', s.issue_url],
    ['Started', s.first_started_at],
    ['Last started', s.last_started_at],
    ['Last activity', s.last_activity],
    ['Ended', s.last_ended_at],
    ['First ended', s.first_ended_at !== s.last_ended_at ? s.first_ended_at : null],
    ['Resumed', s.revival_count ? `${s.revival_count} time(s)` : null],
    ['Process', s.pid ? `pid ${s.pid}` : null],
    ['Prompts', s.message_count],
    ['Tool calls', s.tool_call_count],
    ['API requests', s.api_request_count],
    ['API errors', s.api_error_count],
    ['Compactions', s.compaction_count],
    ['Context', s.context !== null ? `${formatTokens(s.context)} tokens` : null],
    ['Lines on the branch', s.git_additions !== null ? `+${s.git_additions} −${s.git_deletions ?? 0}` : null],
    ['Lines by the agent', s.agent_lines_added !== null ? `+${s.agent_lines_added} −${s.agent_lines_removed ?? 0}` : null],
  ];
  md.appendMarkdown('| | |\n|---|---|\n');
  for (const [k, v] of rows) if (v !== null && v !== undefined && v !== '') md.appendMarkdown(`| ${k} | ${escapeMd(displayText(String(v), 300))} |\n`);
  md.appendMarkdown('\n| Tokens | This session | With subagents |\n|---|---:|---:|\n');
  const r = s.rollup;
  const line = (k: string, a: number, b: number) => md.appendMarkdown(`| ${k} | ${a.toLocaleString('en-US')} | ${b.toLocaleString('en-US')} |\n`);
  line('Input', s.tokens_input, r.tokens_input);
  line('Output', s.tokens_output, r.tokens_output);
  line('Cache read', s.tokens_cache_read, r.tokens_cache_read);
  line('Cache write', s.tokens_cache_write, r.tokens_cache_write);
  md.appendMarkdown(`| **Cost** | ${escapeMd(costText(s))} | ${escapeMd(costText(r))} |\n`);
  if (s.token_totals_pending) {
    md.appendMarkdown(`\n${escapeMd(adapterFor(s.framework)?.displayName ?? s.framework)} writes token totals when the session's process exits: the running process's usage is not known yet.\n`);
  }
  if (s.branches.length > 1 || (s.branches.length === 1 && s.branches[0].branch !== s.git_branch)) {
    md.appendMarkdown('\n| Branch worked on | Requests | Tokens | Cost | Share |\n|---|---:|---:|---:|---:|\n');
    for (const b of s.branches) {
      md.appendMarkdown(`| ${escapeMd(branchLabel(b.branch))} | ${b.requests} | ${formatTokens(b.tokens)} | ${escapeMd(costText(b))} | ${Math.round(b.share * 100)}% |\n`);
    }
  }
  const agent = compareWithAgent(r.cost_usd, s.agent_cost_usd);
  if (agent) {
    const agentName = adapterFor(s.framework)?.displayName ?? s.framework;
    const pct = `${agent.difference_pct >= 0 ? '+' : ''}${agent.difference_pct.toFixed(1)} %`;
    md.appendMarkdown(
      `\n${escapeMd(agentName)}'s own figure (with subagents): ${escapeMd(formatUsd(agent.agent_usd))}, ours ${escapeMd(formatUsd(agent.ours_usd))}` +
        (agent.differs ? ` ⚠ differs by ${escapeMd(pct)} (over 1 %): run Explain Cost to see why\n` : ` (${escapeMd(pct)})\n`),
    );
  }
  if (s.unpriced_requests) md.appendMarkdown(`\n${s.unpriced_requests} request(s) have no known price: their tokens count, their cost is not shown as $0.\n`);
  if (s.first_user_message) md.appendMarkdown(`\nFirst prompt: ${escapeMd(displayText(s.first_user_message, MESSAGE_MAX))}\n`);
  if (s.last_user_message && s.message_count > 1) md.appendMarkdown(`\nLast prompt: ${escapeMd(displayText(s.last_user_message, MESSAGE_MAX))}\n`);
  md.appendMarkdown(`\nTranscript: ${escapeMd(displayText(s.transcript_path ?? 'unknown', 500))}${s.transcript_available ? '' : ' (gone)'}\n`);
  return md;
}

export function sessionDescription(s: SessionView, ago: string): string {
  const t = s.rollup;
  // An agent that writes its totals only at exit (Copilot): say so rather than show 0.
  if (s.token_totals_pending && tokensOf(t) === 0) return [ago, 'tokens at exit'].filter(Boolean).join(' · ');
  return [ago, `${formatTokens(tokensOf(t))} tok`, costText(t)].filter(Boolean).join(' · ');
}

export function branchTooltip(b: BranchSummary, repoLabel: string): vscode.MarkdownString {
  const md = untrusted();
  const pr = b.pr;
  const p = b.pr_summary ?? null;
  md.appendMarkdown(`**Agent Handler** · ${escapeMd(repoLabel)} · ${escapeMd(b.branch)}\n\n`);
  if (pr) {
    const url = safePrUrl(pr.url);
    const title = pr.title ? ` ${escapeMd(pr.title)}` : '';
    md.appendMarkdown(`Pull request ${url ? `[#${pr.number}](${url})` : `#${pr.number}`}${title}${pr.state ? ` (${escapeMd(pr.state.toLowerCase())})` : ''} · from ${escapeMd(PR_SOURCE_LABEL[pr.source])}\n\n`);
    if (p) {
      md.appendMarkdown(`PR total: ${formatTokens(tokensOf(p))} tokens, ${escapeMd(costText(p))} in ${p.requests} request(s)`);
      md.appendMarkdown(p.also.length ? ` (this branch, plus ${p.also.length} session(s) that worked on the PR from another branch)\n\n` : '\n\n');
    }
  }
  md.appendMarkdown(`Branch ${escapeMd(b.branch)}: ${formatTokens(tokensOf(b))} tokens, ${escapeMd(costText(b))}; ${b.sessions} session(s), ${b.live} live${b.waiting ? `, ${b.waiting} waiting for you` : ''}, ${b.requests} request(s)\n\n`);
  if (b.diff) md.appendMarkdown(`Lines changed against ${escapeMd(b.diff.base)}: +${b.diff.additions} −${b.diff.deletions}\n\n`);
  const t = p ?? b;
  if (t.by_session.length) {
    md.appendMarkdown('| Agent | Requests | Tokens | Cost |\n|---|---:|---:|---:|\n');
    for (const a of t.by_agent) md.appendMarkdown(`| ${escapeMd(adapterFor(a.framework)?.displayName ?? a.framework)} | ${a.requests} | ${formatTokens(tokensOf(a))} | ${escapeMd(costText(a))} |\n`);
    md.appendMarkdown('\n| Session | Agent | Status | Tokens | Cost |\n|---|---|---|---:|---:|\n');
    for (const s of t.by_session.slice(0, 15)) {
      const agent = s.framework ? (adapterFor(s.framework)?.displayName ?? s.framework) : '';
      md.appendMarkdown(`| ${escapeMd((s.parent_session_id ? '↳ ' : '') + sessionLabel(s, 60))} | ${escapeMd(agent)} | ${s.status} | ${formatTokens(tokensOf(s))} | ${escapeMd(costText(s))} |\n`);
    }
    if (t.by_session.length > 15) md.appendMarkdown(`\n…and ${t.by_session.length - 15} more\n`);
    md.appendMarkdown('\n| Model | Requests | Tokens | Cost |\n|---|---:|---:|---:|\n');
    for (const m of t.by_model) md.appendMarkdown(`| ${escapeMd(m.model)} | ${m.requests} | ${formatTokens(tokensOf(m))} | ${escapeMd(costText(m))} |\n`);
    md.appendMarkdown(`\nInput ${t.tokens_input.toLocaleString('en-US')} · output ${t.tokens_output.toLocaleString('en-US')} · cache read ${t.tokens_cache_read.toLocaleString('en-US')} · cache write ${t.tokens_cache_write.toLocaleString('en-US')}\n`);
  } else {
    md.appendMarkdown('No agent requests on this branch yet.\n');
  }
  md.appendMarkdown('\nClick for this branch\'s sessions, or to explain its cost.');
  return md;
}
