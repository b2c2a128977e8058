import * as vscode from 'vscode';
import * as os from 'node:os';
import { type ExportFormat, type ExportWhat, exportText } from '../core/export';
import { systemTimeZone } from '../core/time';
import { writeNewPrivateOrExisting } from '../core/privateFs';
import { type SessionFilter, isEmptyFilter } from '../core/filter';
import type { SessionStatus } from '../core/model/session';
import { executeCommand, registerCommand } from './apis/commands.apis';
import {
  activeTextEditor,
  showInformationMessage,
  showInputBox,
  showQuickPick,
  showSaveDialog,
  showTextDocument,
} from './apis/window.apis';
import {
  openTextDocument,
  registerTextDocumentContentProvider,
  workspaceFolders,
  writeFile,
} from './apis/workspace.apis';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { agentLabel } from './model/labels';
import { isSessionNode } from './model/sessionsTree';
import { pickSession } from './commands';
import { DETAILS_SCHEME, SessionDetailsProvider, detailsUri, sessionIdOf } from './details';
import { searchSessions } from './search';
import { DashboardPanel } from './dashboard';
import type { WorkspaceRepo } from './workspaceRepo';
import type { SessionsTree } from './sessionsTree';

interface Deps {
  client: IndexClient;
  tree: SessionsTree;
  repo: WorkspaceRepo;
  log: Log;
}

/** Shows a session in the Sessions view (selected, focused, its parents expanded). */
export async function revealSession(tree: SessionsTree, sessionId: string): Promise<boolean> {
  if (!tree.nodeFor(sessionId)) await tree.reload();
  // Hidden by the view's filter: show everything again rather than fail.
  if (!tree.nodeFor(sessionId) && !isEmptyFilter(tree.currentFilter)) {
    tree.setFilter({});
    await tree.reload();
  }
  const node = tree.nodeFor(sessionId);
  if (!node) return false;
  await tree.view.reveal(node, { select: true, focus: true, expand: true });
  return true;
}

/** The commands that find and look into sessions: search, export, details, filter, dashboard. */
export function registerExploreCommands(ctx: vscode.ExtensionContext, d: Deps): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => ctx.subscriptions.push(registerCommand(id, fn));

  reg('agentHandler.searchSessions', async () => {
    const id = await searchSessions(d.client, d.log);
    if (id && !(await revealSession(d.tree, id))) {
      void showInformationMessage(
        'Agent Handler: that session is not in the Sessions view (its agent may be turned off).',
      );
    }
  });

  const details = new SessionDetailsProvider(d.client);
  ctx.subscriptions.push(details, registerTextDocumentContentProvider(DETAILS_SCHEME, details));

  reg('agentHandler.showSessionDetails', async (arg) => {
    const id = isSessionNode(arg)
      ? arg.session.session_id
      : (await pickSession(d.tree.sessions, 'Show the details of…'))?.session_id;
    if (!id) return;
    const doc = await openTextDocument(detailsUri(id));
    await showTextDocument(doc, { preview: true });
  });

  // The details page's title buttons act on its session through the tree's session commands.
  const detailsSessionId = (arg: unknown) => {
    const uri = arg instanceof vscode.Uri ? arg : activeTextEditor()?.document.uri;
    return uri ? sessionIdOf(uri) : null;
  };
  const fromDetails = (command: string) => async (arg: unknown) => {
    const id = detailsSessionId(arg);
    const session = id ? d.tree.sessions.find((s) => s.session_id === id) : undefined;
    if (session) await executeCommand(command, { kind: 'session', session, children: [] });
  };
  reg('agentHandler.details.resumeSession', fromDetails('agentHandler.resumeSession'));
  reg('agentHandler.details.openTranscript', fromDetails('agentHandler.openTranscript'));
  reg('agentHandler.details.explainCost', fromDetails('agentHandler.explainCost'));
  reg('agentHandler.details.reveal', async (arg) => {
    const id = detailsSessionId(arg);
    if (id) await revealSession(d.tree, id);
  });

  reg('agentHandler.filterSessions', async () => {
    const cur = d.tree.currentFilter;
    type Item = vscode.QuickPickItem & { set?: (f: SessionFilter) => void };
    const items: Item[] = [];
    const agents = [...new Set(d.tree.sessions.map((s) => s.framework))].sort();
    items.push({ label: 'Agent', kind: vscode.QuickPickItemKind.Separator });
    for (const a of agents)
      items.push({
        label: agentLabel(a),
        picked: !!cur.agents?.includes(a),
        set: (f) => (f.agents = [...(f.agents ?? []), a]),
      });
    items.push({ label: 'Status', kind: vscode.QuickPickItemKind.Separator });
    const statuses: [SessionStatus, string][] = [
      ['busy', 'working'],
      ['wait', 'waiting for you'],
      ['idle', 'idle'],
      ['done', 'done'],
    ];
    for (const [st, label] of statuses)
      items.push({
        label,
        picked: !!cur.statuses?.includes(st),
        set: (f) => (f.statuses = [...(f.statuses ?? []), st]),
      });
    items.push({ label: 'Active within', kind: vscode.QuickPickItemKind.Separator });
    for (const [days, label] of [
      [1, 'today (24 hours)'],
      [7, '7 days'],
      [30, '30 days'],
    ] as const) {
      // Several ranges picked: the narrowest holds.
      items.push({ label, picked: cur.days === days, set: (f) => (f.days = Math.min(f.days ?? Infinity, days)) });
    }
    const picked = await showQuickPick(items, {
      canPickMany: true,
      title: 'Filter Sessions (1/2)',
      placeHolder: 'Agents, statuses, how recent (none = all)',
    });
    if (!picked) return;
    const text = await showInputBox({
      title: 'Filter Sessions (2/2)',
      prompt: 'Text in the title, prompts, branch, folder or id (empty = any)',
      value: cur.text ?? '',
    });
    if (text === undefined) return;
    const next: SessionFilter = {};
    for (const p of picked) p.set?.(next);
    if (text.trim()) next.text = text.trim();
    d.tree.setFilter(next);
  });

  reg('agentHandler.clearFilter', () => d.tree.setFilter({}));

  reg('agentHandler.showDashboard', () => {
    DashboardPanel.show(ctx.extensionUri, d.client, d.repo, d.log, (id) => revealSession(d.tree, id));
  });

  reg('agentHandler.export', async () => {
    const what = await showQuickPick(
      [
        { label: 'Sessions', description: 'every session, every field', what: 'sessions' as ExportWhat },
        {
          label: 'Daily totals',
          description: 'tokens and cost per local day, agent and model',
          what: 'daily' as ExportWhat,
        },
      ],
      { title: 'Export', placeHolder: 'What to export' },
    );
    if (!what) return;
    const format = await showQuickPick(
      [
        { label: 'CSV', description: 'for spreadsheets', format: 'csv' as ExportFormat },
        { label: 'JSON', format: 'json' as ExportFormat },
      ],
      { title: 'Export', placeHolder: 'Format' },
    );
    if (!format) return;
    const folder = workspaceFolders()?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    const target = await showSaveDialog({
      title: `Export ${what.label.toLowerCase()}`,
      defaultUri: vscode.Uri.joinPath(
        folder,
        `agent-handler-${what.what}-${new Date().toISOString().slice(0, 10)}.${format.format}`,
      ),
      filters: format.format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
    });
    if (!target) return;
    const data =
      what.what === 'sessions'
        ? { sessions: await d.client.query('sessions', {}) }
        : { daily: await d.client.query('daily', { timeZone: systemTimeZone() }) };
    const bytes = Buffer.from(exportText(what.what, format.format, data), 'utf8');
    // A file on this machine is created private (it lists prompts); one that was there keeps its mode.
    if (target.scheme === 'file') await writeNewPrivateOrExisting(target.fsPath, bytes);
    else await writeFile(target, bytes);
    const count = what.what === 'sessions' ? data.sessions?.length : data.daily?.length;
    d.log.info(`exported ${count} ${what.what} row(s) to ${target.fsPath}`);
    const open = await showInformationMessage(`Agent Handler: exported ${count} row(s) to ${target.fsPath}`, 'Open');
    if (open) await showTextDocument(target);
  });
}
