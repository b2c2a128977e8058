import {
  type GroupBy,
  type GroupNode,
  type GroupingFacts,
  type SessionNode,
  type TreeNode,
  type WorkspaceRepoRef,
  groupSessions,
} from '../../core/grouping';
import { describeFilter, filterSessions, isEmptyFilter, type SessionFilter } from '../../core/filter';
import { totalTokens } from '../../core/model/session';
import { costLabel } from '../../core/report';
import { adapterFor } from '../../core/sources/registry';
import type { BranchSummary, SessionView } from '../../core/store/queries';
import { formatAgo, sessionLabel } from '../../core/text';
import { agentLabel, sessionDescription } from './labels';
import { isRemote, otherMachinesGroup, remoteSessionTooltip, remoteSessionView } from './otherMachines';
import { sessionTooltip } from './tooltips';
import type { RemoteSession } from '../../core/sync/types';

/**
 * The Sessions tree as plain data: which nodes there are (the pure grouping of core, filtered),
 * their parents, and each node's item (label, description, icon, context value, collapsible state).
 * sessionsTree.ts turns these into `vscode.TreeItem`s and refreshes them; nothing here needs VS Code.
 */

/** A codicon with an optional theme colour id. */
export interface ThemeIconModel {
  id: string;
  color?: string;
}

export type Collapsible = 'none' | 'collapsed' | 'expanded';

export interface TreeItemModel {
  id: string;
  label: string;
  description?: string;
  /** Plain text; a session's markdown tooltip is made on hover (SessionsTreeModel.tooltip). */
  tooltip?: string;
  icon: ThemeIconModel;
  /** Read by the `when` clauses of the view's menus in package.json. */
  contextValue: string;
  collapsible: Collapsible;
  accessibilityLabel?: string;
}

const GROUP_ICONS: Record<GroupNode['icon'], string> = {
  'current-branch': 'git-branch',
  repo: 'repo',
  branch: 'git-branch',
  folder: 'folder',
  calendar: 'calendar',
  projects: 'folder-library',
  'pull-request': 'git-pull-request',
  'needs-you': 'bell-dot',
  machines: 'remote-explorer',
  machine: 'vm',
};

/**
 * A working session spins and a waiting one rings; the others show their agent's icon, dimmed when
 * done, so the agent is visible at a glance without another column.
 */
export function sessionIcon(s: SessionView): ThemeIconModel {
  const agentIcon = adapterFor(s.framework)?.icon ?? 'hubot';
  switch (s.status) {
    case 'busy':
      return { id: 'sync~spin', color: 'charts.blue' };
    case 'wait':
      return { id: 'bell-dot', color: 'charts.orange' };
    case 'idle':
      return { id: agentIcon, color: 'charts.green' };
    default:
      return { id: agentIcon, color: 'disabledForeground' };
  }
}

/** How the session's agent resumes it in a terminal, when it can. */
export function resumeCommandFor(s: SessionView): { command: string; args: string[] } | null | undefined {
  return adapterFor(s.framework)?.resumeCommand?.(s.session_id);
}

/** Offered "Resume": a top-level session whose agent can resume it (a subagent cannot be resumed alone). */
export function isResumable(s: SessionView): boolean {
  return !s.parent_session_id && !!resumeCommandFor(s);
}

export function groupItem(node: GroupNode): TreeItemModel {
  return {
    // An empty group gets another id: VS Code would otherwise keep it collapsed once it fills.
    id: node.children.length ? node.id : `${node.id}:empty`,
    label: node.label,
    description: node.description,
    tooltip: node.tooltip,
    icon: node.icon === 'needs-you' ? { id: 'bell-dot', color: 'charts.orange' } : { id: GROUP_ICONS[node.icon] },
    contextValue: 'agentHandler.group',
    collapsible: node.children.length === 0 ? 'none' : node.expanded ? 'expanded' : 'collapsed',
  };
}

/** `multiAgent`: sessions of more than one agent are listed, so the description names the agent. */
export function sessionItem(node: SessionNode, multiAgent: boolean, now: number): TreeItemModel {
  const s = node.session;
  if (isRemote(s)) {
    // Another machine's session: marked with its machine; none of the commands on local files apply.
    const described = `on ${s.remote.machine_name} · ${sessionDescription(s, formatAgo(s.last_activity, now))}`;
    const description = multiAgent ? `${agentLabel(s.framework)} · ${described}` : described;
    return {
      id: `${node.scope ? `${node.scope}:` : ''}session:${s.session_id}`,
      label: sessionLabel(s),
      description,
      icon: { id: 'vm', color: s.status === 'busy' || s.status === 'idle' ? 'charts.green' : 'disabledForeground' },
      contextValue: 'agentHandler.remoteSession',
      collapsible: node.children.length ? 'collapsed' : 'none',
      accessibilityLabel: `${sessionLabel(s)}, ${agentLabel(s.framework)}, on ${s.remote.machine_name}, ${s.status}, ${description}`,
    };
  }
  const described = sessionDescription(s, formatAgo(s.last_activity, now));
  const description = multiAgent ? `${agentLabel(s.framework)} · ${described}` : described;
  return {
    id: `${node.scope ? `${node.scope}:` : ''}${node.alias ? 'needs-you:' : ''}session:${s.session_id}`,
    label: sessionLabel(s),
    description,
    icon: sessionIcon(s),
    contextValue: `agentHandler.session${isResumable(s) ? '.resumable' : ''}${s.transcript_available ? '.transcript' : ''}`,
    collapsible: node.children.length ? 'collapsed' : 'none',
    accessibilityLabel: `${sessionLabel(s)}, ${agentLabel(s.framework)}, ${s.status}, ${description}`,
  };
}

/** The current branch's group header: the same totals as the status bar's (the PR's when it has one), never summed here. */
export function currentBranchFacts(b: BranchSummary): NonNullable<GroupingFacts['current']> {
  const t = b.pr_summary ?? b;
  return { tokens: totalTokens(t), cost: costLabel(t), pr: b.pr?.number ?? null };
}

/** A command's argument when it was invoked on a session's tree item (menus pass the node). */
export function isSessionNode(arg: unknown): arg is SessionNode {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && arg.kind === 'session' && 'session' in arg;
}

export class SessionsTreeModel {
  /** Every session the index listed (unfiltered: the commands pick from these). */
  sessions: SessionView[] = [];
  /** The other machines' sessions (sync; empty when it is off), shown in their own group only. */
  private remote: SessionView[] = [];
  private roots: TreeNode[] = [];
  private parents = new Map<TreeNode, TreeNode>();
  private byId = new Map<string, SessionNode>();
  /** The view's filter (title bar): hides sessions from the tree, not from `sessions`. */
  filter: SessionFilter = {};
  private multiAgent = false;

  /** Groups the sessions into the tree's nodes; returns the view's description (branch, filter). */
  render(mode: GroupBy, ws: WorkspaceRepoRef | null, facts: GroupingFacts, now: number): string | undefined {
    this.multiAgent = new Set([...this.sessions, ...this.remote].map((x) => x.framework)).size > 1;
    // The filter hides sessions; group totals (the branch's, a PR's) stay what the index says.
    const shown = filterSessions(this.sessions, this.filter, now);
    this.roots = groupSessions(
      shown,
      mode,
      ws ? { git_dir: ws.git_dir, branch: ws.branch, toplevel: ws.toplevel } : null,
      now,
      facts,
    );
    const others = otherMachinesGroup(filterSessions(this.remote, this.filter, now), mode, now);
    if (others) this.roots.push(others);
    this.parents = new Map();
    this.byId = new Map();
    const walk = (nodes: TreeNode[], parent?: TreeNode) => {
      for (const n of nodes) {
        if (parent) this.parents.set(n, parent);
        if (n.kind === 'session' && !n.alias && !this.byId.has(n.session.session_id))
          this.byId.set(n.session.session_id, n);
        walk(n.children, n);
      }
    };
    walk(this.roots);
    const filterText = isEmptyFilter(this.filter)
      ? ''
      : `filter: ${describeFilter(this.filter, agentLabel)} (${shown.length} of ${this.sessions.length})`;
    return [ws?.branch, filterText].filter(Boolean).join(' · ') || undefined;
  }

  /** The other machines' sessions as the worker last read them (sync). */
  setRemote(sessions: RemoteSession[]): void {
    this.remote = sessions.map(remoteSessionView);
  }

  children(node?: TreeNode): TreeNode[] {
    return node ? node.children : this.roots;
  }

  parent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(node);
  }

  /** The session's own node (not its Needs you alias). */
  nodeFor(sessionId: string): SessionNode | undefined {
    return this.byId.get(sessionId);
  }

  item(node: TreeNode, now: number): TreeItemModel {
    return node.kind === 'group' ? groupItem(node) : sessionItem(node, this.multiAgent, now);
  }

  /** A session's markdown tooltip, made on hover only: a fork's names its origin by title. */
  tooltip(node: TreeNode): string | undefined {
    if (node.kind !== 'session') return undefined;
    if (isRemote(node.session)) return remoteSessionTooltip(node.session);
    const origin = node.session.forked_from_session_id;
    return sessionTooltip(node.session, origin ? this.sessions.find((x) => x.session_id === origin) : null);
  }
}
