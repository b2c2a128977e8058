import * as vscode from 'vscode';
import type { BranchSummary } from '../core/store/queries';
import { formatTokens, formatUsd } from '../core/text';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { branchTooltip, costText, untrusted } from './markdown';
import type { GitHubPrLookup } from './githubPr';
import type { WorkspaceRepo } from './workspaceRepo';

/**
 * One status bar item for the workspace's current branch: its tokens and cost, counted per request
 * by the branch each request was made on, across every session and worktree of the repository.
 */
export class BranchStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  summary: BranchSummary | null = null;
  /** Sessions waiting for the person, on any branch or project (set by Needs you). */
  private waitingAll = 0;

  constructor(
    private readonly client: IndexClient,
    private readonly repo: WorkspaceRepo,
    private readonly log: Log,
    private readonly github: GitHubPrLookup,
  ) {
    this.item = vscode.window.createStatusBarItem('agentHandler.branch', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Agent Handler';
    this.item.command = 'agentHandler.showBranchSessions';
    this.item.text = '$(sync~spin) Agent Handler: indexing…';
    this.item.tooltip = 'Agent Handler is reading agent transcripts';
    this.item.show();
    this.disposables.push(
      this.item,
      client.onDidChange(() => this.scheduleRefresh()),
      client.onDidChangeState(() => this.scheduleRefresh()),
      repo.onDidChange(() => this.scheduleRefresh(0)),
      vscode.workspace.onDidChangeConfiguration((e) => (e.affectsConfiguration('agentHandler.statusBar') || e.affectsConfiguration('agentHandler.budget')) && this.scheduleRefresh()),
    );
    const tick = setInterval(() => this.scheduleRefresh(), 30_000);
    this.disposables.push({ dispose: () => clearInterval(tick) });
  }

  /** How many sessions wait for the person anywhere: shown with the warning background while any. */
  setWaiting(count: number): void {
    if (count === this.waitingAll) return;
    this.waitingAll = count;
    this.scheduleRefresh(0);
  }

  scheduleRefresh(delay = 150): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.update();
    }, delay);
  }

  private async update(): Promise<void> {
    if (!this.client.ready) return;
    const spinner = this.client.indexing ? '$(sync~spin) ' : '';
    const ws = this.repo.current;
    try {
      if (!ws) {
        this.summary = null;
        const mode = vscode.workspace.getConfiguration('agentHandler').get<string>('statusBar.whenNoRepository', 'workspaceTotal');
        if (mode === 'hide') {
          this.item.hide();
          return;
        }
        const t = await this.client.query('total', {});
        this.item.text = `${spinner}$(hubot) all sessions · ${formatTokens(t.tokens_input + t.tokens_output + t.tokens_cache_read + t.tokens_cache_write)} tok · ${costText(t)}${this.waitingText()}`;
        this.item.backgroundColor = this.waitingAll ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
        const md = untrusted();
        md.appendMarkdown('**Agent Handler**\n\nThis workspace is not in a git repository: the total of every indexed session is shown.');
        this.item.tooltip = md;
        this.item.show();
        return;
      }
      const b = await this.client.query('branch', { gitDir: ws.git_dir, branch: ws.branch, toplevel: ws.toplevel });
      this.summary = b;
      // With a PR, the PR's totals (its head branch plus sessions that worked on it from elsewhere).
      const shown = b.pr_summary ?? b;
      const tokens = shown.tokens_input + shown.tokens_output + shown.tokens_cache_read + shown.tokens_cache_write;
      const live = b.live ? ` · $(pulse) ${b.live}` : '';
      const head = b.pr ? `$(git-pull-request) #${b.pr.number}` : `$(hubot) ${ws.branch}`;
      this.item.text = `${spinner}${head} · ${formatTokens(tokens)} tok · ${costText(shown)}${live}${this.waitingText()}`;
      this.item.tooltip = branchTooltip(b, ws.github_repo ?? ws.toplevel);
      const prPart = b.pr ? `, pull request #${b.pr.number}` : '';
      const budget = vscode.workspace.getConfiguration('agentHandler').get<number | null>('budget.branchUsd', null);
      // Only a budget the person set, once crossed, or a session waiting for the person colours the item.
      const over = typeof budget === 'number' && budget > 0 && shown.cost_usd > budget;
      this.item.backgroundColor = over || this.waitingAll ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      const overText = over ? `, over the budget of ${formatUsd(budget)}` : '';
      this.item.accessibilityInformation = { label: `Agent Handler: branch ${ws.branch}${prPart}, ${tokens} tokens, ${costText(shown)}, ${shown.sessions} sessions${overText}` };
      if (over && this.item.tooltip instanceof vscode.MarkdownString) this.item.tooltip.appendMarkdown(`\n\n**Over the budget** of ${formatUsd(budget)} (agentHandler.budget.branchUsd).`);
      if (!b.pr && ws.github_repo) this.github.lookUp(ws.git_dir, ws.github_repo, ws.branch);
      this.item.show();
    } catch (err) {
      this.log.error(`status bar update failed: ${(err as Error).message}`);
    }
  }

  private waitingText(): string {
    return this.waitingAll ? ` · $(bell-dot) ${this.waitingAll} waiting` : '';
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
