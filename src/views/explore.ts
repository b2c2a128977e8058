import * as vscode from 'vscode';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { searchSessions } from './search';
import type { SessionsTree } from './sessionsTree';

interface Deps {
  client: IndexClient;
  tree: SessionsTree;
  log: Log;
}

/** Shows a session in the Sessions view (selected, focused, its parents expanded). */
export async function revealSession(tree: SessionsTree, sessionId: string): Promise<boolean> {
  if (!tree.nodeFor(sessionId)) await tree.reload();
  const node = tree.nodeFor(sessionId);
  if (!node) return false;
  await tree.view.reveal(node, { select: true, focus: true, expand: true });
  return true;
}

/** The commands that find and look into sessions: search, export, details, filter, dashboard. */
export function registerExploreCommands(ctx: vscode.ExtensionContext, d: Deps): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg('agentHandler.searchSessions', async () => {
    const id = await searchSessions(d.client, d.log);
    if (id && !(await revealSession(d.tree, id))) {
      void vscode.window.showInformationMessage('Agent Handler: that session is not in the Sessions view (its agent may be turned off).');
    }
  });
}
