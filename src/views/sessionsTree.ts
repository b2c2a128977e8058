import * as vscode from 'vscode';
import { type GroupBy, type GroupNode, type GroupingFacts, type SessionNode, type TreeNode, groupSessions } from '../core/grouping';
import type { SessionView } from '../core/store/queries';
import { formatAgo, sessionLabel } from '../core/text';
import { type SessionFilter, describeFilter, filterSessions, isEmptyFilter } from '../core/filter';
import { adapterFor } from '../core/sources/registry';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { costText, sessionDescription, sessionTooltip } from './markdown';
import type { WorkspaceRepo } from './workspaceRepo';

const GROUP_ICONS: Record<GroupNode['icon'], string> = {
  'current-branch': 'git-branch',
  repo: 'repo',
  branch: 'git-branch',
  folder: 'folder',
  calendar: 'calendar',
  projects: 'folder-library',
  'pull-request': 'git-pull-request',
  'needs-you': 'bell-dot',
};

/**
 * A working session spins and a waiting one rings; the others show their agent's icon, dimmed when
 * done, so the agent is visible at a glance without another column.
 */
export function statusIcon(s: SessionView): vscode.ThemeIcon {
  const agentIcon = adapterFor(s.framework)?.icon ?? 'hubot';
  switch (s.status) {
    case 'busy':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'wait':
      return new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('charts.orange'));
    case 'idle':
      return new vscode.ThemeIcon(agentIcon, new vscode.ThemeColor('charts.green'));
    default:
      return new vscode.ThemeIcon(agentIcon, new vscode.ThemeColor('disabledForeground'));
  }
}

export function agentLabel(framework: string): string {
  return adapterFor(framework)?.displayName ?? framework;
}

/**
 * The Sessions tree. Nodes come from the pure grouping in core; this class only turns them into
 * TreeItems and refreshes (debounced) when the index or the workspace branch changes.
 */
export class SessionsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly loaded = new vscode.EventEmitter<SessionView[]>();
  /** Fires after every reload with the sessions as now known (Needs you listens). */
  readonly onDidLoad = this.loaded.event;
  private roots: TreeNode[] = [];
  private parents = new Map<TreeNode, TreeNode>();
  private byId = new Map<string, SessionNode>();
  sessions: SessionView[] = [];
  /** The view's filter (title bar); `sessions` stays unfiltered for the commands. */
  private filter: SessionFilter = {};
  /** Sessions of more than one agent are listed: descriptions then name the agent. */
  private multiAgent = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  readonly view: vscode.TreeView<TreeNode>;

  constructor(
    private readonly client: IndexClient,
    private readonly repo: WorkspaceRepo,
    private readonly log: Log,
  ) {
    this.view = vscode.window.createTreeView('agentHandler.sessions', { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      client.onDidChange(() => this.scheduleRefresh()),
      repo.onDidChange(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('agentHandler.groupBy') && this.scheduleRefresh()),
    );
    // Status and "2h ago" move with the clock even when no file changes.
    const tick = setInterval(() => this.scheduleRefresh(), 30_000);
    this.disposables.push({ dispose: () => clearInterval(tick) });
    void this.showSaved();
  }

  scheduleRefresh(delay = 150): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload();
    }, delay);
  }

  /**
   * The session list the index saved at its last save (sessionSnapshot.ts), shown at once while the
   * worker loads the store; its own answer replaces it. Nothing but the tree sees it: Needs you and
   * the status bar wait for the worker (no notification from a list as old as the last save).
   */
  private async showSaved(): Promise<void> {
    const saved = await this.client.savedSessions();
    if (!saved || this.client.ready || this.sessions.length) return;
    this.sessions = saved;
    this.render(this.groupBy(), {}, false);
    this.log.info(`showing the ${saved.length} sessions saved with the index while it loads`);
  }

  async reload(): Promise<void> {
    if (!this.client.ready) return;
    try {
      this.sessions = await this.client.query('sessions', {});
    } catch (err) {
      this.log.error(`could not read sessions: ${(err as Error).message}`);
      return;
    }
    const ws = this.repo.current;
    const mode = this.groupBy();
    const facts: GroupingFacts = {};
    try {
      if (mode === 'branch' && ws) {
        // The current branch's totals come from the same query as the status bar's, never summed here.
        const b = await this.client.query('branch', { gitDir: ws.git_dir, branch: ws.branch });
        const t = b.pr_summary ?? b;
        facts.current = { tokens: t.tokens_input + t.tokens_output + t.tokens_cache_read + t.tokens_cache_write, cost: costText(t), pr: b.pr?.number ?? null };
      }
      if (mode === 'pullRequests') facts.prs = await this.client.query('pullRequests', {});
    } catch (err) {
      this.log.error(`could not read branch totals: ${(err as Error).message}`);
    }
    this.render(mode, facts, true);
  }

  private groupBy(): GroupBy {
    return vscode.workspace.getConfiguration('agentHandler').get<GroupBy>('groupBy', 'branch');
  }

  /** Groups the sessions into the tree's nodes and shows them; `fresh`: the worker's own answer. */
  private render(mode: GroupBy, facts: GroupingFacts, fresh: boolean): void {
    this.multiAgent = new Set(this.sessions.map((x) => x.framework)).size > 1;
    const ws = this.repo.current;
    // The filter hides sessions; group totals (the branch's, a PR's) stay what the index says.
    const shown = filterSessions(this.sessions, this.filter, Date.now());
    this.roots = groupSessions(shown, mode, ws ? { git_dir: ws.git_dir, branch: ws.branch, toplevel: ws.toplevel } : null, Date.now(), facts);
    this.parents = new Map();
    this.byId = new Map();
    const walk = (nodes: TreeNode[], parent?: TreeNode) => {
      for (const n of nodes) {
        if (parent) this.parents.set(n, parent);
        if (n.kind === 'session' && !n.alias && !this.byId.has(n.session.session_id)) this.byId.set(n.session.session_id, n);
        walk(n.children, n);
      }
    };
    walk(this.roots);
    void vscode.commands.executeCommand('setContext', 'agentHandler.hasSessions', this.sessions.length > 0);
    const filtered = !isEmptyFilter(this.filter);
    const filterText = filtered ? `filter: ${describeFilter(this.filter, agentLabel)} (${shown.length} of ${this.sessions.length})` : '';
    this.view.description = [ws?.branch, filterText].filter(Boolean).join(' · ') || undefined;
    this.emitter.fire(undefined);
    if (fresh) this.loaded.fire(this.sessions);
  }

  get currentFilter(): SessionFilter {
    return this.filter;
  }

  setFilter(f: SessionFilter): void {
    this.filter = f;
    void vscode.commands.executeCommand('setContext', 'agentHandler.filtered', !isEmptyFilter(f));
    void this.reload();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    return node ? node.children : this.roots;
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(node);
  }

  nodeFor(sessionId: string): SessionNode | undefined {
    return this.byId.get(sessionId);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(
        node.label,
        node.children.length === 0 ? vscode.TreeItemCollapsibleState.None : node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
      );
      // An empty group gets another id: VS Code would otherwise keep it collapsed once it fills.
      item.id = node.children.length ? node.id : `${node.id}:empty`;
      item.description = node.description;
      item.tooltip = node.tooltip;
      item.iconPath = node.icon === 'needs-you' ? new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('charts.orange')) : new vscode.ThemeIcon(GROUP_ICONS[node.icon]);
      item.contextValue = 'agentHandler.group';
      return item;
    }
    const s = node.session;
    const item = new vscode.TreeItem(sessionLabel(s), node.children.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `${node.scope ? `${node.scope}:` : ''}${node.alias ? 'needs-you:' : ''}session:${s.session_id}`;
    const described = sessionDescription(s, formatAgo(s.last_activity, Date.now()));
    item.description = this.multiAgent ? `${agentLabel(s.framework)} · ${described}` : described;
    item.iconPath = statusIcon(s);
    const resumable = !s.parent_session_id && !!adapterFor(s.framework)?.resumeCommand?.(s.session_id);
    item.contextValue = `agentHandler.session${resumable ? '.resumable' : ''}${s.transcript_available ? '.transcript' : ''}`;
    item.accessibilityInformation = { label: `${sessionLabel(s)}, ${agentLabel(s.framework)}, ${s.status}, ${item.description}` };
    return item;
  }

  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    if (node.kind === 'session') {
      const origin = node.session.forked_from_session_id;
      // Looked up on hover only: a fork's tooltip names its origin by title.
      item.tooltip = sessionTooltip(node.session, origin ? this.sessions.find((x) => x.session_id === origin) : null);
    }
    return item;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.emitter.dispose();
    this.loaded.dispose();
  }
}
