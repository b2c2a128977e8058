import * as vscode from 'vscode';
import * as path from 'node:path';
import * as os from 'node:os';
import { formatDiagnostics, hooksState } from '../core/diagnostics';
import { totalTokens } from '../core/model/session';
import { receiverEnv } from '../core/live/otlp';
import type { BranchSummary, SessionView } from '../core/store/queries';
import { PR_SOURCE_LABEL } from '../core/store/pullRequests';
import { costLabel, costSummaryMarkdown, safePrUrl } from '../core/report';
import { displayText, formatAgo, formatTokens, sessionLabel } from '../core/text';
import { executeCommand, registerCommand } from './apis/commands.apis';
import { writeClipboard, openExternal } from './apis/env.apis';
import {
  createTerminal,
  setStatusBarMessage,
  showErrorMessage,
  showInformationMessage,
  showQuickPick,
  showTextDocument,
  showWarningMessage,
  withProgress,
} from './apis/window.apis';
import { getConfiguration, openTextDocument, stat } from './apis/workspace.apis';
import type { ExplainCostDocuments } from './explainCost';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { agentLabel, sessionDescription, withoutIcons } from './model/labels';
import { isResumable, isSessionNode, resumeCommandFor } from './model/sessionsTree';
import type { SessionsTree } from './sessionsTree';
import type { BranchStatusBar } from './statusBar';
import type { WorkspaceRepo } from './workspaceRepo';

interface Deps {
  client: IndexClient;
  tree: SessionsTree;
  statusBar: BranchStatusBar;
  explain: ExplainCostDocuments;
  repo: WorkspaceRepo;
  log: Log;
  /** The telemetry receiver's endpoint file: a resumed agent is pointed at the receiver when it runs. */
  endpointFile: string;
}

/**
 * Commands. Those that act on a session take it from the tree item they were invoked on; from the
 * command palette they ask for one with a quick pick. A node from an older tree refresh is
 * re-resolved by id, so a command never acts on stale data.
 */
export function registerCommands(ctx: vscode.ExtensionContext, d: Deps): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => ctx.subscriptions.push(registerCommand(id, fn));

  const resolve = async (
    arg: unknown,
    placeHolder: string,
    filter: (s: SessionView) => boolean = () => true,
  ): Promise<SessionView | undefined> => {
    if (isSessionNode(arg)) return d.tree.sessions.find((s) => s.session_id === arg.session.session_id) ?? arg.session;
    return pickSession(d.tree.sessions.filter(filter), placeHolder);
  };

  reg('agentHandler.refresh', async () => {
    await withProgress({ location: { viewId: 'agentHandler.sessions' } }, () => d.client.query('refresh', {}));
    d.tree.scheduleRefresh(0);
    d.statusBar.scheduleRefresh(0);
  });

  reg('agentHandler.rebuildIndex', async () => {
    try {
      await withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Agent Handler: rebuilding the index from the transcripts…',
        },
        () => d.client.query('rebuild', {}),
      );
      d.log.info('index rebuilt');
    } catch (err) {
      void showWarningMessage(`Agent Handler: ${(err as Error).message}`);
    }
  });

  reg('agentHandler.openTranscript', async (arg) => {
    const s = await resolve(arg, 'Open the transcript of…', (x) => x.transcript_available && !!x.transcript_path);
    if (!s?.transcript_path) return;
    try {
      const doc = await openTextDocument(vscode.Uri.file(s.transcript_path));
      await showTextDocument(doc, { preview: true });
    } catch (err) {
      void showErrorMessage(`Agent Handler: cannot open ${s.transcript_path}: ${(err as Error).message}`);
    }
  });

  reg('agentHandler.resumeSession', async (arg) => {
    const s = await resolve(arg, 'Resume which session?', isResumable);
    if (!s) return;
    const cmd = resumeCommandFor(s);
    if (!cmd) {
      void showWarningMessage(`Agent Handler: ${s.framework} session ${s.session_id} cannot be resumed from here.`);
      return;
    }
    // With the receiver on, the agent exports its telemetry to it, token included (only this
    // terminal's process gets it).
    const env = getConfiguration('agentHandler').get<boolean>('telemetry.receiver', false)
      ? ((await receiverEnv(d.endpointFile)) ?? undefined)
      : undefined;
    // The agent is the terminal's process with its arguments as a list: no shell parses the id.
    const terminal = createTerminal({
      env,
      name: sessionLabel(s, 40),
      cwd: s.cwd && (await exists(s.cwd)) ? s.cwd : undefined,
      shellPath: cmd.command,
      shellArgs: cmd.args,
      iconPath: new vscode.ThemeIcon('hubot'),
    });
    terminal.show();
  });

  reg('agentHandler.copySessionId', async (arg) => {
    const s = await resolve(arg, 'Copy the id of…');
    if (!s) return;
    await writeClipboard(s.session_id);
    setStatusBarMessage(`$(copy) Copied session id ${s.session_id}`, 4000);
  });

  reg('agentHandler.revealSessionFolder', async (arg) => {
    const s = await resolve(arg, 'Reveal the folder of…', (x) => !!x.transcript_path);
    if (!s?.transcript_path) return;
    await executeCommand('revealFileInOS', vscode.Uri.file(s.transcript_path));
  });

  reg('agentHandler.showLog', () => d.log.show());

  const explainBranch = async () => {
    const b = d.statusBar.summary;
    if (!b) return false;
    await d.explain.show({ gitDir: b.git_dir, branch: b.branch }, `branch-${b.branch}`);
    return true;
  };

  reg('agentHandler.explainCost', async (arg) => {
    // From a tree item: that session. From the palette: the current branch or a session.
    if (!isSessionNode(arg)) {
      const b = d.statusBar.summary;
      if (b) {
        const choice = await showQuickPick(
          [
            {
              label: `$(git-branch) Branch ${b.branch}`,
              description: 'every request made on the current branch',
              branch: true,
            },
            { label: '$(comment-discussion) A session…', description: 'one session with its subagents', branch: false },
          ],
          { placeHolder: 'Explain the cost of…' },
        );
        if (!choice) return;
        if (choice.branch) {
          await explainBranch();
          return;
        }
      }
    }
    const s = await resolve(arg, 'Explain the cost of…');
    if (!s) return;
    await d.explain.show({ session_id: s.session_id }, s.title ?? s.session_id);
  });

  reg('agentHandler.showBranchSessions', async () => {
    const b = d.statusBar.summary;
    const ids = new Set(b?.by_session.map((x) => x.session_id) ?? []);
    const sessions = b ? d.tree.sessions.filter((s) => ids.has(s.session_id)) : d.tree.sessions;
    const s = await pickSession(
      sessions,
      b ? `Sessions with requests on ${b.branch}` : 'Sessions',
      b ? `Explain the cost of ${b.branch}` : undefined,
    );
    if (s === EXPLAIN_ITEM) {
      await explainBranch();
      return;
    }
    if (!s) return;
    const node = d.tree.nodeFor(s.session_id);
    if (node) await d.tree.view.reveal(node, { select: true, focus: true, expand: true });
  });

  /** The workspace branch's summary, asked fresh (the status bar's may be a moment old). */
  const branchNow = async (): Promise<BranchSummary | null> => {
    const ws = d.repo.current;
    if (!ws) {
      void showInformationMessage('Agent Handler: this workspace is not in a git repository.');
      return null;
    }
    return d.client.query('branch', { gitDir: ws.git_dir, branch: ws.branch, toplevel: ws.toplevel });
  };

  reg('agentHandler.openPullRequest', async () => {
    const b = await branchNow();
    if (!b) return;
    const url = safePrUrl(b.pr?.url);
    if (!b.pr || !url) {
      void showInformationMessage(
        b.pr
          ? `Agent Handler: pull request #${b.pr.number} has no link.`
          : `Agent Handler: no pull request is known for ${b.branch}.`,
      );
      return;
    }
    await openExternal(vscode.Uri.parse(url));
  });

  reg('agentHandler.showBranchCost', async () => {
    const b = await branchNow();
    if (!b) return;
    const t = b.pr_summary ?? b;
    type Item = vscode.QuickPickItem & { sessionId?: string };
    const sep = (label: string): Item => ({ label, kind: vscode.QuickPickItemKind.Separator });
    const row = (
      label: string,
      x: Parameters<typeof totalTokens>[0] & Parameters<typeof costLabel>[0] & { requests: number },
      extra = '',
    ): Item => ({
      label,
      description: `${formatTokens(totalTokens(x))} tok · ${costLabel(x)} · ${x.requests} request(s)${extra}`,
    });
    const items: Item[] = [];
    items.push(
      row(
        b.pr ? `$(git-pull-request) #${b.pr.number}` : `$(git-branch) ${b.branch}`,
        t,
        b.pr ? ` · PR from ${PR_SOURCE_LABEL[b.pr.source]}` : '',
      ),
    );
    if (b.pr_summary) items.push(row(`$(git-branch) ${b.branch}`, b, ' · this branch only'));
    if (b.diff)
      items.push({
        label: `$(diff) +${b.diff.additions} −${b.diff.deletions}`,
        description: `lines changed against ${b.diff.base}`,
      });
    items.push(sep('Per agent'), ...t.by_agent.map((a) => row(agentLabel(a.framework), a)));
    items.push(sep('Per model'), ...t.by_model.map((m) => row(m.model, m)));
    items.push(
      sep('Per session'),
      ...t.by_session.map((s) => ({
        ...row(`${s.parent_session_id ? '↳ ' : ''}${withoutIcons(sessionLabel(s))}`, s),
        detail: s.framework ? agentLabel(s.framework) : undefined,
        sessionId: s.session_id,
      })),
    );
    const picked = await showQuickPick(items, {
      placeHolder: `What ${b.pr ? `#${b.pr.number}` : b.branch} cost, per agent, model and session (pick a session to reveal it)`,
      matchOnDescription: true,
    });
    const node = picked?.sessionId ? d.tree.nodeFor(picked.sessionId) : undefined;
    if (node) await d.tree.view.reveal(node, { select: true, focus: true, expand: true });
  });

  reg('agentHandler.copyCostSummary', async () => {
    const b = await branchNow();
    if (!b) return;
    await writeClipboard(costSummaryMarkdown(b, b.pr_summary ?? null, agentLabel));
    setStatusBarMessage(`$(copy) Copied the cost summary of ${b.pr ? `#${b.pr.number}` : b.branch}`, 4000);
  });

  reg('agentHandler.showDiagnostics', async () => {
    const diag = await d.client.query('diagnostics', {});
    const hooks = await hooksState(os.homedir(), process.env).catch(() => undefined);
    const text = formatDiagnostics(diag, { version: ctx.extension.packageJSON.version as string, hooks });
    // Plain text (never rendered as markdown): transcript paths and reasons stay inert.
    const doc = await openTextDocument({ content: text, language: 'plaintext' });
    await showTextDocument(doc, { preview: true });
    const copy = 'Copy to Clipboard';
    if ((await showInformationMessage('Agent Handler diagnostics: copy them for a bug report?', copy)) === copy) {
      await writeClipboard(text);
    }
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(vscode.Uri.file(p));
    return true;
  } catch {
    return false;
  }
}

/** The quick pick item that stands for "explain this branch's cost" rather than a session. */
const EXPLAIN_ITEM = Symbol('explain');

export async function pickSession(sessions: SessionView[], placeHolder: string): Promise<SessionView | undefined>;
export async function pickSession(
  sessions: SessionView[],
  placeHolder: string,
  explainLabel: string | undefined,
): Promise<SessionView | typeof EXPLAIN_ITEM | undefined>;
export async function pickSession(
  sessions: SessionView[],
  placeHolder: string,
  explainLabel?: string,
): Promise<SessionView | typeof EXPLAIN_ITEM | undefined> {
  const now = Date.now();
  const items: (vscode.QuickPickItem & { session: SessionView | typeof EXPLAIN_ITEM })[] = sessions.map((s) => ({
    label: `${s.parent_session_id ? '$(debug-stackframe-dot) ' : ''}${withoutIcons(sessionLabel(s))}`,
    description: sessionDescription(s, formatAgo(s.last_activity, now)),
    detail: withoutIcons(
      displayText(`${s.status} · ${s.git_branch ?? ''} · ${s.cwd ? path.basename(s.cwd) : ''} · ${s.session_id}`, 200),
    ),
    session: s,
  }));
  if (explainLabel)
    items.unshift({
      label: `$(info) ${explainLabel}`,
      description: 'tokens × price per model, rules, unpriced requests',
      session: EXPLAIN_ITEM,
      alwaysShow: true,
    });
  const picked = await showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true });
  return picked?.session;
}
