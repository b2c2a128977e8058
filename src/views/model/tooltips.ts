import { branchLabel } from '../../core/grouping';
import { totalTokens } from '../../core/model/session';
import { MESSAGE_MAX } from '../../core/model/reducer';
import { compareWithAgent } from '../../core/pricing/settings';
import { costLabel, safePrUrl } from '../../core/report';
import { PR_SOURCE_LABEL } from '../../core/store/pullRequests';
import type { BranchSummary, SessionView } from '../../core/store/queries';
import type { MachinePart } from '../../core/sync/types';
import { displayText, escapeMd, forkOriginLabel, formatTokens, formatUsd, sessionLabel } from '../../core/text';
import { agentLabel } from './labels';

/**
 * Tooltips, as markdown text. Transcript text is data: every value is escaped here, and the views
 * show the text in a MarkdownString that is neither trusted nor allowed HTML (vscodeItems.ts), so no
 * text from a transcript can run a command or inject markup.
 */

/** `forkOrigin`: the session `s` was forked from, when it is indexed (its title names it). */
export function sessionTooltip(s: SessionView, forkOrigin?: Pick<SessionView, 'title'> | null): string {
  const md: string[] = [];
  md.push(`**${escapeMd(sessionLabel(s, 200))}**\n\n`);
  const rows: [string, string | number | null | undefined][] = [
    ['Status', s.status + (s.waiting_for ? ` (waiting for ${s.waiting_for})` : '')],
    ['Agent', agentLabel(s.framework)],
    ['Session', s.session_id],
    ['Parent session', s.parent_session_id],
    [
      'Forked from',
      s.forked_from_session_id ? forkOriginLabel(s.forked_from_session_id, forkOrigin?.title ?? null) : null,
    ],
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
    [
      'Lines by the agent',
      s.agent_lines_added !== null ? `+${s.agent_lines_added} −${s.agent_lines_removed ?? 0}` : null,
    ],
  ];
  md.push('| | |\n|---|---|\n');
  for (const [k, v] of rows)
    if (v !== null && v !== undefined && v !== '') md.push(`| ${k} | ${escapeMd(displayText(String(v), 300))} |\n`);
  md.push('\n| Tokens | This session | With subagents |\n|---|---:|---:|\n');
  const r = s.rollup;
  const line = (k: string, a: number, b: number) =>
    md.push(`| ${k} | ${a.toLocaleString('en-US')} | ${b.toLocaleString('en-US')} |\n`);
  line('Input', s.tokens_input, r.tokens_input);
  line('Output', s.tokens_output, r.tokens_output);
  line('Cache read', s.tokens_cache_read, r.tokens_cache_read);
  line('Cache write', s.tokens_cache_write, r.tokens_cache_write);
  md.push(`| **Cost** | ${escapeMd(costLabel(s))} | ${escapeMd(costLabel(r))} |\n`);
  if (s.token_totals_pending) {
    md.push(
      `\n${escapeMd(agentLabel(s.framework))} writes token totals when the session's process exits: the running process's usage is not known yet.\n`,
    );
  }
  if (s.branches.length > 1 || (s.branches.length === 1 && s.branches[0].branch !== s.git_branch)) {
    md.push('\n| Branch worked on | Requests | Tokens | Cost | Share |\n|---|---:|---:|---:|---:|\n');
    for (const b of s.branches) {
      md.push(
        `| ${escapeMd(branchLabel(b.branch))} | ${b.requests} | ${formatTokens(b.tokens)} | ${escapeMd(costLabel(b))} | ${Math.round(b.share * 100)}% |\n`,
      );
    }
  }
  const agent = compareWithAgent(r.cost_usd, s.agent_cost_usd);
  if (agent) {
    const pct = `${agent.difference_pct >= 0 ? '+' : ''}${agent.difference_pct.toFixed(1)} %`;
    md.push(
      `\n${escapeMd(agentLabel(s.framework))}'s own figure (with subagents): ${escapeMd(formatUsd(agent.agent_usd))}, ours ${escapeMd(formatUsd(agent.ours_usd))}` +
        (agent.differs
          ? ` ⚠ differs by ${escapeMd(pct)} (over 1 %): run Explain Cost to see why\n`
          : ` (${escapeMd(pct)})\n`),
    );
  }
  if (s.unpriced_requests)
    md.push(
      `\n${s.unpriced_requests} request(s) have no known price: their tokens count, their cost is not shown as $0.\n`,
    );
  if (s.first_user_message) md.push(`\nFirst prompt: ${escapeMd(displayText(s.first_user_message, MESSAGE_MAX))}\n`);
  if (s.last_user_message && s.message_count > 1)
    md.push(`\nLast prompt: ${escapeMd(displayText(s.last_user_message, MESSAGE_MAX))}\n`);
  md.push(
    `\nTranscript: ${escapeMd(displayText(s.transcript_path ?? 'unknown', 500))}${s.transcript_available ? '' : ' (gone)'}\n`,
  );
  return md.join('');
}

/** Each machine's part of a total across machines (sync), this machine first among equals. */
export function machinesTable(machines: MachinePart[]): string {
  const md = ['| Machine | Sessions | Requests | Tokens | Cost |\n|---|---:|---:|---:|---:|\n'];
  for (const m of machines) {
    const name = displayText(m.machine_name || m.machine_id, 80) + (m.this_machine ? ' (this machine)' : '');
    md.push(
      `| ${escapeMd(name)} | ${m.sessions} | ${m.requests} | ${formatTokens(totalTokens(m))} | ${escapeMd(costLabel(m))} |\n`,
    );
  }
  return md.join('');
}

/**
 * The status bar's tooltip for the workspace branch (and its PR, when it has one). `acrossMachines`:
 * the markdown of every machine's totals (sync), shown after the local totals.
 */
export function branchTooltip(b: BranchSummary, repoLabel: string, acrossMachines = ''): string {
  const md: string[] = [];
  const pr = b.pr;
  const p = b.pr_summary ?? null;
  md.push(`**Agent Handler** · ${escapeMd(repoLabel)} · ${escapeMd(b.branch)}\n\n`);
  if (pr) {
    const url = safePrUrl(pr.url);
    const title = pr.title ? ` ${escapeMd(pr.title)}` : '';
    md.push(
      `Pull request ${url ? `[#${pr.number}](${url})` : `#${pr.number}`}${title}${pr.state ? ` (${escapeMd(pr.state.toLowerCase())})` : ''} · from ${escapeMd(PR_SOURCE_LABEL[pr.source])}\n\n`,
    );
    if (p) {
      md.push(
        `PR total: ${formatTokens(totalTokens(p))} tokens, ${escapeMd(costLabel(p))} in ${p.requests} request(s)`,
      );
      md.push(
        p.also.length
          ? ` (this branch, plus ${p.also.length} session(s) that worked on the PR from another branch)\n\n`
          : '\n\n',
      );
    }
  }
  md.push(
    `Branch ${escapeMd(b.branch)}: ${formatTokens(totalTokens(b))} tokens, ${escapeMd(costLabel(b))}; ${b.sessions} session(s), ${b.live} live${b.waiting ? `, ${b.waiting} waiting for you` : ''}, ${b.requests} request(s)\n\n`,
  );
  if (b.diff) md.push(`Lines changed against ${escapeMd(b.diff.base)}: +${b.diff.additions} −${b.diff.deletions}\n\n`);
  if (acrossMachines) md.push(acrossMachines, '\nThe tables below are this machine\u2019s.\n\n');
  const t = p ?? b;
  if (t.by_session.length) {
    md.push('| Agent | Requests | Tokens | Cost |\n|---|---:|---:|---:|\n');
    for (const a of t.by_agent)
      md.push(
        `| ${escapeMd(agentLabel(a.framework))} | ${a.requests} | ${formatTokens(totalTokens(a))} | ${escapeMd(costLabel(a))} |\n`,
      );
    md.push('\n| Session | Agent | Status | Tokens | Cost |\n|---|---|---|---:|---:|\n');
    for (const s of t.by_session.slice(0, 15)) {
      const agent = s.framework ? agentLabel(s.framework) : '';
      md.push(
        `| ${escapeMd((s.parent_session_id ? '↳ ' : '') + sessionLabel(s, 60))} | ${escapeMd(agent)} | ${s.status} | ${formatTokens(totalTokens(s))} | ${escapeMd(costLabel(s))} |\n`,
      );
    }
    if (t.by_session.length > 15) md.push(`\n…and ${t.by_session.length - 15} more\n`);
    md.push('\n| Model | Requests | Tokens | Cost |\n|---|---:|---:|---:|\n');
    for (const m of t.by_model)
      md.push(
        `| ${escapeMd(m.model)} | ${m.requests} | ${formatTokens(totalTokens(m))} | ${escapeMd(costLabel(m))} |\n`,
      );
    md.push(
      `\nInput ${t.tokens_input.toLocaleString('en-US')} · output ${t.tokens_output.toLocaleString('en-US')} · cache read ${t.tokens_cache_read.toLocaleString('en-US')} · cache write ${t.tokens_cache_write.toLocaleString('en-US')}\n`,
    );
  } else {
    md.push('No agent requests on this branch yet.\n');
  }
  md.push("\nClick for this branch's sessions, or to explain its cost.");
  return md.join('');
}
