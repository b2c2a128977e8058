import type * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { claimPrivateDir } from './core/privateFs';
import { setContext } from './views/apis/commands.apis';
import { registerCommands } from './views/commands';
import { refreshHookScript } from './core/hooks/hookScript';
import { registerHookCommands } from './views/hookCommands';
import { NeedsYou } from './views/needsYou';
import { registerTelemetryCommand } from './views/telemetryCommand';
import { registerExploreCommands } from './views/explore';
import { IndexClient } from './views/indexClient';
import { ExplainCostDocuments } from './views/explainCost';
import { GitHubPrLookup } from './views/githubPr';
import { createLog } from './views/log';
import { SessionsTree } from './views/sessionsTree';
import { forwardSettingsChanges, workerInit } from './views/settings';
import { BranchStatusBar } from './views/statusBar';
import { SyncController } from './views/sync';
import { WorkspaceRepo } from './views/workspaceRepo';
import { IndexProgress } from './views/indexProgress';

/**
 * Composition root: builds the pieces and wires them; no logic of its own. Activation only starts
 * the indexing worker and registers views, so it returns at once; the status bar says "indexing…"
 * until the worker has read what changed.
 */

let client: IndexClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const t0 = Date.now();
  const log = createLog();
  context.subscriptions.push(log);
  const storage = context.globalStorageUri.fsPath;
  const storeFile = path.join(storage, 'index.sqlite');
  const spoolDir = path.join(storage, 'spool');
  const endpointFile = path.join(storage, 'otlp-endpoint.json');
  // Ours alone: the index of the user's prompts, the spool, the receiver's token (0700 / 0600).
  claimPrivateDir(storage);
  claimPrivateDir(spoolDir);
  client = new IndexClient(
    path.join(context.extensionPath, 'dist', 'worker.js'),
    workerInit({ storeFile, spoolDir, endpointFile }, log),
    log,
  );
  context.subscriptions.push(client);
  // The Sessions view's welcome text (package.json viewsWelcome) says "Reading…" while this is true.
  void setContext('agentHandler.indexing', true);
  context.subscriptions.push(
    client.onDidChangeState(() => void setContext('agentHandler.indexing', client?.indexing ?? false)),
  );

  context.subscriptions.push(new IndexProgress(client));

  const repo = new WorkspaceRepo(log);
  const tree = new SessionsTree(client, repo, log);
  const statusBar = new BranchStatusBar(client, repo, log, new GitHubPrLookup(client, log));
  const explain = new ExplainCostDocuments(client);
  context.subscriptions.push(repo, tree, statusBar, explain, new NeedsYou(tree, statusBar, log));
  registerCommands(context, { client, tree, statusBar, explain, repo, log, endpointFile });
  const hookPaths = { script: path.join(storage, 'hook-spool.js'), spoolDir };
  registerHookCommands(context, hookPaths, log);
  registerTelemetryCommand(context, endpointFile);
  // Hooks already installed run the copy in global storage: keep it the version this extension ships.
  if (fs.existsSync(hookPaths.script))
    void refreshHookScript(context.extensionPath, hookPaths).catch((err: Error) =>
      log.warn(`could not update the hook script: ${err.message}`),
    );
  registerExploreCommands(context, { client, tree, repo, log });
  context.subscriptions.push(forwardSettingsChanges((settings) => void client?.query('settings', settings), log));
  // Sync (off by default): the password from SecretStorage, the prompt, Sync Now; the work is the worker's.
  context.subscriptions.push(new SyncController(context.secrets, client, log));
  void repo.start();
  log.info(
    `Agent Handler ${context.extension.packageJSON.version} activated in ${Date.now() - t0} ms; index at ${storeFile}`,
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
