import * as vscode from 'vscode';
import type { BranchResult } from '../core/ingest/protocol';
import { createStatusBarItem } from './apis/window.apis';
import { getConfiguration, onDidChangeConfiguration } from './apis/workspace.apis';
import { CoalescedRun, Disposable, interval } from './disposable';
import type { GitHubPrLookup } from './githubPr';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { INDEXING_STATUS, type StatusBarFacts, statusBarModel } from './model/statusBar';
import { untrustedMarkdown } from './vscodeItems';
import type { WorkspaceRepo } from './workspaceRepo';

/**
 * One status bar item for the workspace's current branch: its tokens and cost, counted per request
 * by the branch each request was made on, across every session and worktree of the repository.
 * What it says is statusBarModel's (plain data, tested without VS Code); this class asks the index
 * and copies the model onto the item.
 */
export class BranchStatusBar extends Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly refresh = this._register(new CoalescedRun(() => void this.update(), 150));
  summary: BranchResult | null = null;
  /** Sessions waiting for the person, on any branch or project (set by Needs you). */
  private waitingAll = 0;

  constructor(
    private readonly client: IndexClient,
    private readonly repo: WorkspaceRepo,
    private readonly log: Log,
    private readonly github: GitHubPrLookup,
  ) {
    super();
    this.item = this._register(createStatusBarItem('agentHandler.branch', vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'Agent Handler';
    this.item.command = 'agentHandler.showBranchSessions';
    this.item.text = INDEXING_STATUS.text;
    this.item.tooltip = INDEXING_STATUS.tooltip;
    this.item.show();
    this._register(client.onDidChange(() => this.scheduleRefresh()));
    this._register(client.onDidChangeState(() => this.scheduleRefresh()));
    this._register(client.onDidChangeSync(() => this.scheduleRefresh()));
    this._register(repo.onDidChange(() => this.scheduleRefresh(0)));
    this._register(
      onDidChangeConfiguration(
        (e) =>
          (e.affectsConfiguration('agentHandler.statusBar') || e.affectsConfiguration('agentHandler.budget')) &&
          this.scheduleRefresh(),
      ),
    );
    this._register(interval(() => this.scheduleRefresh(), 30_000));
  }

  /** How many sessions wait for the person anywhere: shown with the warning background while any. */
  setWaiting(count: number): void {
    if (count === this.waitingAll) return;
    this.waitingAll = count;
    this.scheduleRefresh(0);
  }

  scheduleRefresh(delay?: number): void {
    this.refresh.schedule(delay);
  }

  private async update(): Promise<void> {
    if (!this.client.ready) return;
    const indexing = this.client.indexing;
    const ws = this.repo.current;
    try {
      let facts: StatusBarFacts;
      if (!ws) {
        this.summary = null;
        const mode = getConfiguration('agentHandler').get<string>('statusBar.whenNoRepository', 'workspaceTotal');
        if (mode === 'hide') {
          this.item.hide();
          return;
        }
        facts = { kind: 'noRepository', total: await this.client.query('total', {}) };
      } else {
        const summary = await this.client.query('branch', {
          gitDir: ws.git_dir,
          branch: ws.branch,
          toplevel: ws.toplevel,
        });
        this.summary = summary;
        const budgetUsd = getConfiguration('agentHandler').get<unknown>('budget.branchUsd', null);
        facts = { kind: 'branch', branch: ws.branch, repoLabel: ws.github_repo ?? ws.toplevel, summary, budgetUsd };
        if (!summary.pr && ws.github_repo) this.github.lookUp(ws.git_dir, ws.github_repo, ws.branch);
      }
      const shown = statusBarModel(facts, { indexing, waiting: this.waitingAll, sync: this.client.sync });
      this.item.text = shown.text;
      this.item.tooltip = untrustedMarkdown(shown.tooltip);
      this.item.backgroundColor = shown.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      if (shown.accessibilityLabel !== undefined)
        this.item.accessibilityInformation = { label: shown.accessibilityLabel };
      this.item.show();
    } catch (err) {
      this.log.error(`status bar update failed: ${(err as Error).message}`);
    }
  }
}
