import * as vscode from 'vscode';
import type { GroupBy, GroupingFacts, SessionNode, TreeNode } from '../core/grouping';
import type { SessionFilter } from '../core/filter';
import { isEmptyFilter } from '../core/filter';
import type { SessionView } from '../core/store/queries';
import { setContext } from './apis/commands.apis';
import { createTreeView } from './apis/window.apis';
import { getConfiguration, onDidChangeConfiguration } from './apis/workspace.apis';
import { CoalescedRun, Disposable, interval } from './disposable';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { SessionsTreeModel, currentBranchFacts } from './model/sessionsTree';
import { treeItem, untrustedMarkdown } from './vscodeItems';
import type { WorkspaceRepo } from './workspaceRepo';

/**
 * The Sessions tree. Nodes, items and tooltips come from SessionsTreeModel (plain data, tested
 * without VS Code); this class asks the index, turns the model's items into TreeItems, and
 * refreshes (debounced) when the index or the workspace branch changes.
 */
export class SessionsTree extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly emitter = this._register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly loaded = this._register(new vscode.EventEmitter<SessionView[]>());
  /** Fires after every reload with the sessions as now known (Needs you listens). */
  readonly onDidLoad = this.loaded.event;
  private readonly model = new SessionsTreeModel();
  private readonly refresh = this._register(new CoalescedRun(() => void this.reload(), 150));
  readonly view: vscode.TreeView<TreeNode>;

  constructor(
    private readonly client: IndexClient,
    private readonly repo: WorkspaceRepo,
    private readonly log: Log,
  ) {
    super();
    this.view = this._register(
      createTreeView('agentHandler.sessions', { treeDataProvider: this, showCollapseAll: true }),
    );
    this._register(client.onDidChange(() => this.scheduleRefresh()));
    this._register(client.onDidChangeSync(() => this.scheduleRefresh()));
    this._register(repo.onDidChange(() => this.scheduleRefresh()));
    this._register(
      onDidChangeConfiguration((e) => e.affectsConfiguration('agentHandler.groupBy') && this.scheduleRefresh()),
    );
    // Status and "2h ago" move with the clock even when no file changes.
    this._register(interval(() => this.scheduleRefresh(), 30_000));
    void this.showSaved();
  }

  /** Every session the index listed, unfiltered (the commands pick from these). */
  get sessions(): SessionView[] {
    return this.model.sessions;
  }

  scheduleRefresh(delay?: number): void {
    this.refresh.schedule(delay);
  }

  /**
   * The session list the index saved at its last save (sessionSnapshot.ts), shown at once while the
   * worker loads the store; its own answer replaces it. Nothing but the tree sees it: Needs you and
   * the status bar wait for the worker (no notification from a list as old as the last save).
   */
  private async showSaved(): Promise<void> {
    const saved = await this.client.savedSessions();
    if (!saved || this.client.ready || this.model.sessions.length) return;
    this.model.sessions = saved;
    this.render(this.groupBy(), {}, false);
    this.log.info(`showing the ${saved.length} sessions saved with the index while it loads`);
  }

  async reload(): Promise<void> {
    if (!this.client.ready) return;
    try {
      this.model.sessions = await this.client.query('sessions', {});
      // Only once sync was turned on: a local-only window asks what it always asked.
      if (this.client.sync) this.model.setRemote(await this.client.query('otherSessions', {}));
    } catch (err) {
      this.log.error(`could not read sessions: ${(err as Error).message}`);
      return;
    }
    const ws = this.repo.current;
    const mode = this.groupBy();
    const facts: GroupingFacts = {};
    try {
      if (mode === 'branch' && ws)
        facts.current = currentBranchFacts(
          await this.client.query('branch', { gitDir: ws.git_dir, branch: ws.branch }),
        );
      if (mode === 'pullRequests') facts.prs = await this.client.query('pullRequests', {});
    } catch (err) {
      this.log.error(`could not read branch totals: ${(err as Error).message}`);
    }
    this.render(mode, facts, true);
  }

  private groupBy(): GroupBy {
    return getConfiguration('agentHandler').get<GroupBy>('groupBy', 'branch');
  }

  /** Groups the sessions into the tree's nodes and shows them; `fresh`: the worker's own answer. */
  private render(mode: GroupBy, facts: GroupingFacts, fresh: boolean): void {
    this.view.description = this.model.render(mode, this.repo.current, facts, Date.now());
    void setContext('agentHandler.hasSessions', this.model.sessions.length > 0);
    this.emitter.fire(undefined);
    if (fresh) this.loaded.fire(this.model.sessions);
  }

  get currentFilter(): SessionFilter {
    return this.model.filter;
  }

  setFilter(f: SessionFilter): void {
    this.model.filter = f;
    void setContext('agentHandler.filtered', !isEmptyFilter(f));
    void this.reload();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    return this.model.children(node);
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.model.parent(node);
  }

  nodeFor(sessionId: string): SessionNode | undefined {
    return this.model.nodeFor(sessionId);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return treeItem(this.model.item(node, Date.now()));
  }

  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    const tooltip = this.model.tooltip(node);
    if (tooltip !== undefined) item.tooltip = untrustedMarkdown(tooltip);
    return item;
  }
}
