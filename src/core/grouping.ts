import * as path from 'node:path';
import { isLive, totalTokens } from './model/session';
import { costLabel } from './report';
import type { PrSummary } from './store/pullRequests';
import type { SessionView } from './store/queries';
import { displayText, formatTokens } from './text';

/**
 * How the Sessions tree is grouped, as a pure function of the sessions and the workspace's
 * repository, so it is tested without VS Code. Subagents always sit under their parent.
 */

export type GroupBy = 'branch' | 'pullRequests' | 'project' | 'date' | 'none';

/** What the queries say beyond the sessions: the current branch's totals and PR, the PRs' totals. */
export interface GroupingFacts {
  /** The current branch's totals (branchSummary, or the PR's when it has one) and PR number. */
  current?: { tokens: number; cost: string; pr: number | null } | null;
  /** For the "Pull requests" grouping (listPullRequests). */
  prs?: PrSummary[];
}

export interface SessionNode {
  kind: 'session';
  session: SessionView;
  children: SessionNode[];
  /** Set when a session may be listed in several groups (one per PR): keeps tree item ids unique. */
  scope?: string;
  /** A second appearance of the session (in the Needs you group): its tree item needs its own id. */
  alias?: boolean;
}

export interface GroupNode {
  kind: 'group';
  /** Stable across refreshes, so expansion state survives. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon:
    | 'current-branch'
    | 'repo'
    | 'branch'
    | 'folder'
    | 'calendar'
    | 'projects'
    | 'pull-request'
    | 'needs-you'
    // Sync's "Other machines" group and one machine in it (src/views/model/otherMachines.ts).
    | 'machines'
    | 'machine';
  expanded: boolean;
  children: TreeNode[];
}

export type TreeNode = GroupNode | SessionNode;

export interface WorkspaceRepoRef {
  git_dir: string;
  branch: string;
  toplevel: string;
}

/** Top-level sessions (no parent, or a parent not indexed) with their subagents nested. */
export function nestSubagents(sessions: SessionView[]): SessionNode[] {
  const byId = new Map(sessions.map((s) => [s.session_id, s]));
  const seen = new Set<string>();
  const node = (s: SessionView): SessionNode => {
    seen.add(s.session_id);
    const children = s.subagent_ids
      .map((id) => byId.get(id))
      .filter((c): c is SessionView => !!c && !seen.has(c.session_id))
      .sort(byActivity)
      .map(node);
    return { kind: 'session', session: s, children };
  };
  return sessions
    .filter((s) => !s.parent_session_id || !byId.has(s.parent_session_id))
    .sort(byActivity)
    .map(node);
}

function byActivity(a: SessionView, b: SessionView): number {
  return (b.last_activity ?? '').localeCompare(a.last_activity ?? '');
}

export function branchLabel(branch: string | null): string {
  if (branch === null) return 'unknown branch';
  if (branch === '') return 'no branch';
  if (branch === 'HEAD') return 'detached HEAD';
  // Branch names come from transcripts too: shown through the same sanitizer as titles.
  return displayText(branch, 80);
}

function projectOf(s: SessionView): string {
  return s.toplevel ?? s.cwd ?? 'unknown folder';
}

function groupBy<K>(nodes: SessionNode[], key: (s: SessionView) => K): Map<K, SessionNode[]> {
  const m = new Map<K, SessionNode[]>();
  for (const n of nodes) {
    const k = key(n.session);
    const list = m.get(k) ?? [];
    list.push(n);
    m.set(k, list);
  }
  return m;
}

function countDescription(nodes: SessionNode[]): string {
  const live = nodes.filter((n) => isLive(n.session)).length;
  const n = nodes.length;
  return `${n} session${n === 1 ? '' : 's'}${live ? ` · ${live} live` : ''}`;
}

function projectGroups(nodes: SessionNode[], prefix: string): GroupNode[] {
  return [...groupBy(nodes, projectOf)]
    .sort((a, b) => byActivity(a[1][0].session, b[1][0].session))
    .map(([project, list]) => ({
      kind: 'group' as const,
      id: `${prefix}:project:${project}`,
      label: displayText(path.basename(project) || project, 80),
      description: countDescription(list),
      tooltip: project,
      icon: 'folder' as const,
      expanded: false,
      children: list,
    }));
}

/** Sessions waiting for the person (a permission, a question), longest waiting first. */
export function waitingSessions(sessions: SessionView[]): SessionView[] {
  return sessions
    .filter((s) => s.status === 'wait')
    .sort((a, b) => (a.status_updated_at ?? '').localeCompare(b.status_updated_at ?? ''));
}

/**
 * The tree: a "Needs you" group on top while any session waits (each waiting session again, where
 * it also stays in its usual place), then the groups of the chosen mode.
 */
export function groupSessions(
  sessions: SessionView[],
  mode: GroupBy,
  ws: WorkspaceRepoRef | null,
  now: number,
  facts: GroupingFacts = {},
): TreeNode[] {
  const groups = groupByMode(sessions, mode, ws, now, facts);
  const waiting = waitingSessions(sessions);
  if (waiting.length === 0) return groups;
  const needsYou: GroupNode = {
    kind: 'group',
    id: 'needs-you',
    label: 'Needs you',
    description: `${waiting.length} waiting`,
    tooltip: 'Sessions waiting for your answer (a permission or a question)',
    icon: 'needs-you',
    expanded: true,
    children: waiting.map((s) => ({ kind: 'session', session: s, children: [], alias: true })),
  };
  return [needsYou, ...groups];
}

function groupByMode(
  sessions: SessionView[],
  mode: GroupBy,
  ws: WorkspaceRepoRef | null,
  now: number,
  facts: GroupingFacts = {},
): TreeNode[] {
  const roots = nestSubagents(sessions);
  switch (mode) {
    case 'none':
      return roots;
    case 'pullRequests':
      return prGroups(roots, facts.prs ?? []);
    case 'project':
      return projectGroups(roots, 'p');
    case 'date':
      return dateGroups(roots, now);
    case 'branch':
      break;
  }
  if (!ws) {
    return [
      {
        kind: 'group',
        id: 'b:other',
        label: 'Other projects',
        icon: 'projects',
        expanded: true,
        description: countDescription(roots),
        children: projectGroups(roots, 'b:other'),
      },
    ];
  }
  const inRepo = (s: SessionView) => s.local_git_dir === ws.git_dir;
  // A session that made requests on the current branch belongs there even if it moved on since
  // (attribution is per request); each session is listed once.
  const onBranch = (n: SessionNode): boolean =>
    n.session.git_branch === ws.branch ||
    n.session.branches.some((b) => b.branch === ws.branch) ||
    n.children.some(onBranch);
  const current = roots.filter((n) => inRepo(n.session) && onBranch(n));
  const repoOther = roots.filter((n) => inRepo(n.session) && !onBranch(n));
  const others = roots.filter((n) => !inRepo(n.session));
  const cur = facts.current;
  const totals = cur ? `${cur.pr !== null ? `#${cur.pr} · ` : ''}${formatTokens(cur.tokens)} tok · ${cur.cost} · ` : '';
  const groups: GroupNode[] = [
    {
      kind: 'group',
      id: 'b:current',
      label: branchLabel(ws.branch),
      description: `${totals}current branch · ${countDescription(current)}`,
      icon: 'current-branch',
      expanded: true,
      children: current,
    },
  ];
  if (repoOther.length) {
    groups.push({
      kind: 'group',
      id: 'b:repo',
      label: 'This repository',
      description: `${path.basename(ws.toplevel)} · ${countDescription(repoOther)}`,
      icon: 'repo',
      expanded: true,
      children: [...groupBy(repoOther, (s) => s.git_branch)]
        .sort((a, b) => byActivity(a[1][0].session, b[1][0].session))
        .map(([branch, list]) => ({
          kind: 'group' as const,
          id: `b:repo:branch:${branch}`,
          label: branchLabel(branch),
          description: countDescription(list),
          icon: 'branch' as const,
          expanded: false,
          children: list,
        })),
    });
  }
  if (others.length) {
    groups.push({
      kind: 'group',
      id: 'b:other',
      label: 'Other projects',
      description: countDescription(others),
      icon: 'projects',
      expanded: false,
      children: projectGroups(others, 'b:other'),
    });
  }
  return groups;
}

/**
 * One group per pull request (most expensive first) holding the sessions counted in its totals (a
 * session under a PR when it or one of its subagents has requests there), then the sessions of no PR.
 */
function prGroups(roots: SessionNode[], prs: PrSummary[]): GroupNode[] {
  const inSomePr = new Set<string>();
  const ids = (n: SessionNode): string[] => [n.session.session_id, ...n.children.flatMap(ids)];
  const groups: GroupNode[] = prs.map((p) => {
    const members = new Set(p.by_session.map((s) => s.session_id));
    const id = `pr:${p.git_dir}:${p.pr.number}`;
    // A session that worked on several PRs is listed under each: scoped copies of its nodes.
    const scoped = (n: SessionNode): SessionNode => ({ ...n, scope: id, children: n.children.map(scoped) });
    const children = roots.filter((n) => ids(n).some((x) => members.has(x))).map(scoped);
    for (const n of children) inSomePr.add(n.session.session_id);
    const repo = p.pr.repo ? `${p.pr.repo}` : path.basename(path.dirname(p.git_dir));
    return {
      kind: 'group' as const,
      id,
      label: `#${p.pr.number}${p.pr.title ? ` ${displayText(p.pr.title, 100)}` : ''}`,
      description: `${branchLabel(p.head_branch)} · ${formatTokens(totalTokens(p))} tok · ${costLabel(p)} · ${countDescription(children)}`,
      tooltip: `${repo} #${p.pr.number}${p.pr.url ? ` ${p.pr.url}` : ''}`,
      icon: 'pull-request' as const,
      expanded: false,
      children,
    };
  });
  const rest = roots.filter((n) => !inSomePr.has(n.session.session_id));
  if (rest.length)
    groups.push({
      kind: 'group',
      id: 'pr:none',
      label: 'No pull request',
      description: countDescription(rest),
      icon: 'projects',
      expanded: false,
      children: rest,
    });
  return groups;
}

function dateGroups(roots: SessionNode[], now: number): GroupNode[] {
  const startOfToday = new Date(now);
  startOfToday.setHours(0, 0, 0, 0);
  const day = 86_400_000;
  const buckets: [string, number][] = [
    ['Today', startOfToday.getTime()],
    ['Yesterday', startOfToday.getTime() - day],
    ['Last 7 days', startOfToday.getTime() - 6 * day],
    ['Last 30 days', startOfToday.getTime() - 29 * day],
    ['Older', -Infinity],
  ];
  const groups = new Map<string, SessionNode[]>();
  for (const n of roots) {
    const t = n.session.last_activity ? Date.parse(n.session.last_activity) : -Infinity;
    const label = buckets.find(([, from]) => t >= from)![0];
    groups.set(label, [...(groups.get(label) ?? []), n]);
  }
  return buckets
    .filter(([label]) => groups.has(label))
    .map(([label], i) => ({
      kind: 'group',
      id: `d:${label}`,
      label,
      description: countDescription(groups.get(label)!),
      icon: 'calendar',
      expanded: i === 0,
      children: groups.get(label)!,
    }));
}
