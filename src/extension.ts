import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AgentSettings, PrSettings, PricingSettings } from './core/ingest/protocol';
import { sanitizeOverrides } from './core/pricing/settings';
import type { StatusSettings } from './core/model/status';
import { ADAPTERS } from './core/sources/registry';
import { registerCommands } from './views/commands';
import { refreshHookScript, registerHookCommands } from './views/hookCommands';
import { NeedsYou } from './views/needsYou';
import { registerTelemetryCommand } from './views/telemetryCommand';
import { registerExploreCommands } from './views/explore';
import { IndexClient } from './views/indexClient';
import { ExplainCostDocuments } from './views/explainCost';
import { GitHubPrLookup } from './views/githubPr';
import { createLog } from './views/log';
import { SessionsTree } from './views/sessionsTree';
import { BranchStatusBar } from './views/statusBar';
import { WorkspaceRepo } from './views/workspaceRepo';

/**
 * Composition root: builds the pieces and wires them; no logic of its own. Activation only starts
 * the indexing worker and registers views, so it returns at once; the status bar says "indexing…"
 * until the worker has read what changed.
 */

let client: IndexClient | undefined;

function pricingSettings(log?: { warn(m: string): void }): PricingSettings {
  const c = vscode.workspace.getConfiguration('agentHandler.pricing');
  const { overrides, problems } = sanitizeOverrides(c.get<unknown>('overrides', {}));
  for (const p of problems) log?.warn(p);
  return { overrides, refresh: c.get<boolean>('refresh', false) };
}

function settings(log?: { warn(m: string): void }): { status: StatusSettings; agents: AgentSettings; pricing: PricingSettings; pullRequests: PrSettings } {
  const c = vscode.workspace.getConfiguration('agentHandler');
  const agents: AgentSettings = { extraRoots: {}, disabled: [] };
  for (const a of ADAPTERS) {
    const key = a.settingsKey ?? a.id;
    if (!c.get<boolean>(`agents.${key}.enabled`, true)) agents.disabled.push(a.id);
    agents.extraRoots[a.id] = c.get<string[]>(`agents.${key}.extraRoots`, []);
  }
  return {
    status: {
      busyWindowMs: 5 * 60_000,
      idleWindowMs: Math.max(1, c.get<number>('idleAfterMinutes', 30)) * 60_000,
    },
    agents,
    pricing: pricingSettings(log),
    // On by default: it does something only when gh is installed and logged in, and never prompts.
    pullRequests: { gh: c.get<boolean>('pullRequests.useGhCli', true) },
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const t0 = Date.now();
  const log = createLog();
  context.subscriptions.push(log);
  const storeFile = path.join(context.globalStorageUri.fsPath, 'index.sqlite');
  // Our hook script and telemetry receiver append here; the worker reads it like a transcript folder.
  const spoolDir = path.join(context.globalStorageUri.fsPath, 'spool');
  fs.mkdirSync(spoolDir, { recursive: true });
  const s = settings(log);
  client = new IndexClient(
    path.join(context.extensionPath, 'dist', 'worker.js'),
    {
      storeFile,
      env: { ...process.env },
      home: os.homedir(),
      agents: s.agents,
      status: s.status,
      pricing: s.pricing,
      pullRequests: s.pullRequests,
      spoolDir,
      telemetry: {
        enabled: vscode.workspace.getConfiguration('agentHandler').get<boolean>('telemetry.receiver', false),
        endpointFile: path.join(context.globalStorageUri.fsPath, 'otlp-endpoint.json'),
      },
      rescanIntervalMs: Math.max(5, vscode.workspace.getConfiguration('agentHandler').get<number>('rescanIntervalSeconds', 60)) * 1000,
      machineId: vscode.workspace.getConfiguration('agentHandler').get<string>('machineId', ''),
    },
    log,
  );
  context.subscriptions.push(client);
  void vscode.commands.executeCommand('setContext', 'agentHandler.indexing', true);
  context.subscriptions.push(
    client.onDidChangeState(() => void vscode.commands.executeCommand('setContext', 'agentHandler.indexing', client?.indexing ?? false)),
  );

  const repo = new WorkspaceRepo(log);
  const tree = new SessionsTree(client, repo, log);
  const statusBar = new BranchStatusBar(client, repo, log, new GitHubPrLookup(client, log));
  const explain = new ExplainCostDocuments(client);
  context.subscriptions.push(repo, tree, statusBar, explain, new NeedsYou(tree, statusBar, log));
  registerCommands(context, { client, tree, statusBar, explain, repo, log });
  const hookPaths = { script: path.join(context.globalStorageUri.fsPath, 'hook-spool.js'), spoolDir };
  registerHookCommands(context, hookPaths, log);
  registerTelemetryCommand(context, path.join(context.globalStorageUri.fsPath, 'otlp-endpoint.json'));
  // Hooks already installed run the copy in global storage: keep it the version this extension ships.
  if (fs.existsSync(hookPaths.script)) void refreshHookScript(context.extensionPath, hookPaths).catch((err: Error) => log.warn(`could not update the hook script: ${err.message}`));
  registerExploreCommands(context, { client, tree, repo, log });
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (
        e.affectsConfiguration('agentHandler.idleAfterMinutes') ||
        e.affectsConfiguration('agentHandler.agents') ||
        e.affectsConfiguration('agentHandler.pricing') ||
        e.affectsConfiguration('agentHandler.pullRequests')
      ) {
        void client?.query('settings', settings(log));
      }
    }),
  );
  void repo.start();
  log.info(`Agent Handler ${context.extension.packageJSON.version} activated in ${Date.now() - t0} ms; index at ${storeFile}`);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
