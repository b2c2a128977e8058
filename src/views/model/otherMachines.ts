import { type GroupBy, type GroupNode, type TreeNode, groupSessions } from '../../core/grouping';
import type { SessionStatus } from '../../core/model/session';
import { costLabel } from '../../core/report';
import type { SessionView } from '../../core/store/queries';
import type { RemoteSession } from '../../core/sync/types';
import { displayText, escapeMd, formatTokens, sessionLabel } from '../../core/text';
import { agentLabel } from './labels';

/**
 * The Sessions tree's "Other machines" group (sync): the other machines' sessions from the shared
 * database, by machine name, then grouped as the local ones are. A remote session is shown through
 * the same SessionView shape as a local one, marked with its machine, so the tree's grouping and
 * filter serve both; commands that need the session's files (resume, open transcript) are not
 * offered on it (its context value is not a local session's).
 */

export interface RemoteSessionView extends SessionView {
  remote: { machine_id: string; machine_name: string };
}

export function isRemote(s: SessionView): s is RemoteSessionView {
  return 'remote' in s && typeof (s as Partial<RemoteSessionView>).remote === 'object';
}

const STATUSES: readonly SessionStatus[] = ['idle', 'busy', 'wait', 'done'];

/** A remote session as a SessionView: what the shared database holds, every local-only field empty. */
export function remoteSessionView(r: RemoteSession): RemoteSessionView {
  const totals = {
    tokens_input: r.tokens_input,
    tokens_output: r.tokens_output,
    tokens_cache_read: r.tokens_cache_read,
    tokens_cache_write: r.tokens_cache_write,
    cost_usd: r.cost_usd ?? 0,
    unpriced_requests: r.unpriced_requests,
  };
  // Its status is as of the other machine's last push, and nobody here can answer it: a waiting
  // session is listed as idle (the Needs you group is for this machine's sessions).
  const status = STATUSES.includes(r.status as SessionStatus) ? (r.status as SessionStatus) : 'done';
  return {
    session_id: r.session_id,
    machine_id: r.machine_id,
    framework: r.framework ?? 'unknown',
    first_started_at: r.first_started_at,
    last_started_at: r.first_started_at,
    first_ended_at: r.last_ended_at,
    last_ended_at: r.last_ended_at,
    last_activity: r.last_activity,
    revival_count: 0,
    status: status === 'wait' ? 'idle' : status,
    status_updated_at: null,
    pid: null,
    process_start_time: null,
    cwd: null,
    local_git_dir: null,
    git_branch: r.git_branch,
    git_worktree_path: null,
    github_repo: r.repo,
    github_issue: null,
    github_pr: r.github_pr,
    git_additions: null,
    git_deletions: null,
    first_user_message: null,
    last_user_message: null,
    model: r.model,
    compaction_count: 0,
    message_count: 0,
    tool_call_count: 0,
    api_request_count: 0,
    api_error_count: 0,
    ...totals,
    cost_usd: r.cost_usd,
    context: null,
    n_hook_events: 0,
    n_otel_events: 0,
    transcript_available: false,
    transcript_path: null,
    parent_session_id: r.parent_session_id,
    agent_id: null,
    forked_from_session_id: null,
    title: r.title,
    waiting_for: null,
    issue_url: null,
    pr_url: null,
    agent_lines_added: null,
    agent_lines_removed: null,
    agent_cost_usd: null,
    token_totals_pending: null,
    metrics_source: 'transcript',
    subagent_ids: [],
    // The shared rows are per session: a session's own figures stand for its rollup.
    rollup: totals,
    // Grouped by repository where the local tree groups by folder.
    toplevel: r.repo ?? 'unknown repository',
    branches: [],
    remote: { machine_id: r.machine_id, machine_name: r.machine_name || r.machine_id },
  };
}

/** How a machine's sessions are grouped under it: by repository in the modes that group by place. */
function modeUnderMachine(mode: GroupBy): GroupBy {
  return mode === 'date' || mode === 'none' ? mode : 'project';
}

/** Makes every node id under a machine its own (the same repository may be a local group too). */
function scoped(nodes: TreeNode[], prefix: string): TreeNode[] {
  return nodes.map((n) =>
    n.kind === 'group'
      ? { ...n, id: `${prefix}:${n.id}`, children: scoped(n.children, prefix) }
      : { ...n, scope: prefix, children: scoped(n.children, prefix) as typeof n.children },
  );
}

/** The "Other machines" group, or null when no other machine has sessions (or sync is off). */
export function otherMachinesGroup(sessions: SessionView[], mode: GroupBy, now: number): GroupNode | null {
  const remote = sessions.filter(isRemote);
  if (!remote.length) return null;
  const byMachine = new Map<string, RemoteSessionView[]>();
  for (const s of remote) {
    const list = byMachine.get(s.remote.machine_id) ?? [];
    list.push(s);
    byMachine.set(s.remote.machine_id, list);
  }
  const machines: GroupNode[] = [...byMachine]
    .map(([id, list]) => {
      // Subagents nest under their parents from the same machine only.
      const byId = new Map(list.map((s) => [s.session_id, s]));
      for (const s of list) if (s.parent_session_id) byId.get(s.parent_session_id)?.subagent_ids.push(s.session_id);
      const name = list[0].remote.machine_name;
      const prefix = `m:${id}`;
      const top = list.filter((s) => !s.parent_session_id || !byId.has(s.parent_session_id)).length;
      return {
        kind: 'group' as const,
        id: `other-machines:${prefix}`,
        label: displayText(name, 80),
        description: `${top} session${top === 1 ? '' : 's'}`,
        tooltip: `Sessions of ${displayText(name, 80)} (machine id ${id}), from the shared database`,
        icon: 'machine' as const,
        expanded: false,
        children: scoped(groupSessions(list, modeUnderMachine(mode), null, now), prefix),
      };
    })
    .sort((a, b) => a.label.localeCompare(b.label));
  return {
    kind: 'group',
    id: 'other-machines',
    label: 'Other machines',
    description: `${machines.length} machine${machines.length === 1 ? '' : 's'}`,
    tooltip: 'Sessions of your other machines, as they last pushed them to the shared database (agentHandler.sync)',
    icon: 'machines',
    expanded: false,
    children: machines,
  };
}

/** A remote session's tooltip: what the shared database holds about it, escaped like any transcript text. */
export function remoteSessionTooltip(s: RemoteSessionView): string {
  const md: string[] = [`**${escapeMd(sessionLabel(s, 200))}**\n\n`, '| | |\n|---|---|\n'];
  const rows: [string, string | number | null][] = [
    ['Machine', s.remote.machine_name],
    ['Status', `${s.status} (as last pushed)`],
    ['Agent', agentLabel(s.framework)],
    ['Session', s.session_id],
    ['Parent session', s.parent_session_id],
    ['Model', s.model],
    ['Repository', s.github_repo],
    ['Branch', s.git_branch],
    ['Pull request', s.github_pr !== null ? `#${s.github_pr}` : null],
    ['Started', s.first_started_at],
    ['Last activity', s.last_activity],
    ['Ended', s.last_ended_at],
  ];
  for (const [k, v] of rows)
    if (v !== null && v !== '') md.push(`| ${k} | ${escapeMd(displayText(String(v), 300))} |\n`);
  md.push(
    `\nInput ${s.tokens_input.toLocaleString('en-US')} · output ${s.tokens_output.toLocaleString('en-US')} · cache read ${s.tokens_cache_read.toLocaleString('en-US')} · cache write ${s.tokens_cache_write.toLocaleString('en-US')} · ${formatTokens(s.tokens_input + s.tokens_output + s.tokens_cache_read + s.tokens_cache_write)} tokens · ${escapeMd(costLabel(s))}\n`,
  );
  md.push('\nIts transcript is on that machine: resume it there.\n');
  return md.join('');
}
