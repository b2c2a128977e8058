import * as vscode from 'vscode';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dashboardHtml } from './dashboardHtml';
import { systemTimeZone } from '../core/time';
import { createWebviewPanel } from './apis/window.apis';
import { CoalescedRun, Disposable } from './disposable';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { agentLabel } from './model/labels';
import type { WorkspaceRepo } from './workspaceRepo';

interface Filters {
  days: number;
  framework: string;
  gitDir: string;
  metric: 'cost' | 'tokens';
  /** Sync: the machine whose series the per-machine chart shows ('' = every machine). */
  machine: string;
}

const DEFAULT_FILTERS: Filters = { days: 30, framework: '', gitDir: '', metric: 'cost', machine: '' };

/**
 * The dashboard: one webview panel. Its script (dist/dashboard.js, Chart.js bundled in) gets the
 * numbers by postMessage from the worker's `dashboard` query, again whenever the index changes. Strict
 * CSP: only the extension's own script (with a nonce) and stylesheet, no inline code, no network.
 */
export class DashboardPanel extends Disposable {
  static current: DashboardPanel | undefined;
  private filters: Filters = { ...DEFAULT_FILTERS };
  /** Live, but at most once a second: an active session appends many lines. */
  private readonly refresh = this._register(
    new CoalescedRun(() => {
      if (this.panel.visible) void this.push();
    }, 1000),
  );
  private ready = false;

  static show(
    extensionUri: vscode.Uri,
    client: IndexClient,
    repo: WorkspaceRepo,
    log: Log,
    reveal: (sessionId: string) => Promise<unknown>,
  ): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      return DashboardPanel.current;
    }
    const panel = createWebviewPanel('agentHandler.dashboard', 'Agent Handler Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    });
    DashboardPanel.current = new DashboardPanel(panel, extensionUri, client, repo, log, reveal);
    return DashboardPanel.current;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly client: IndexClient,
    private readonly repo: WorkspaceRepo,
    private readonly log: Log,
    reveal: (sessionId: string) => Promise<unknown>,
  ) {
    super();
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'agent-handler.svg');
    panel.webview.html = html(panel.webview, extensionUri);
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(
      panel.webview.onDidReceiveMessage(
        (m: { type: string; filters?: Partial<Filters> | null; sessionId?: string }) => {
          if (m.type === 'ready') {
            this.ready = true;
            if (m.filters) this.filters = sanitize(m.filters);
            void this.push();
          } else if (m.type === 'filters' && m.filters) {
            this.filters = sanitize(m.filters);
            void this.push();
          } else if (m.type === 'reveal' && typeof m.sessionId === 'string') {
            void reveal(m.sessionId);
          }
        },
      ),
    );
    this._register(client.onDidChange(() => this.schedule()));
    this._register(repo.onDidChange(() => this.schedule()));
    this._register(panel.onDidChangeViewState(() => panel.visible && this.schedule()));
    // Last: closing the panel from here disposes what listens to it first.
    this._register(panel);
  }

  /** Nothing to send before the page said it is ready (it asks for the data then). */
  private schedule(): void {
    if (this.ready) this.refresh.schedule();
  }

  private async push(): Promise<void> {
    if (!this.client.ready) return;
    const ws = this.repo.current;
    try {
      const data = await this.client.query('dashboard', {
        days: this.filters.days,
        framework: this.filters.framework || undefined,
        gitDir: this.filters.gitDir || undefined,
        currentGitDir: ws?.git_dir,
        timeZone: systemTimeZone(),
        top: 10,
      });
      const agentNames = Object.fromEntries(data.agents.map((a) => [a, agentLabel(a)]));
      const currentRepo = ws ? (ws.github_repo ?? path.basename(ws.toplevel)) : null;
      await this.panel.webview.postMessage({ type: 'data', data, filters: this.filters, agentNames, currentRepo });
    } catch (err) {
      this.log.error(`dashboard: ${(err as Error).message}`);
    }
  }

  override dispose(): void {
    DashboardPanel.current = undefined;
    super.dispose();
  }
}

function sanitize(f: Partial<Filters>): Filters {
  return {
    days: [0, 7, 30, 90, 365].includes(Number(f.days)) ? Number(f.days) : DEFAULT_FILTERS.days,
    framework: typeof f.framework === 'string' ? f.framework : '',
    gitDir: typeof f.gitDir === 'string' ? f.gitDir : '',
    metric: f.metric === 'tokens' ? 'tokens' : 'cost',
    machine: typeof f.machine === 'string' ? f.machine : '',
  };
}

function html(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return dashboardHtml({
    cspSource: webview.cspSource,
    nonce: randomBytes(16).toString('base64'),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'dashboard.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.css')).toString(),
  });
}
