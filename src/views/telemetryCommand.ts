import * as vscode from 'vscode';
import { promises as fsp } from 'node:fs';
import { telemetryEnv } from '../core/live/otlp';

/**
 * Show Telemetry Setup: the environment variables that make Claude Code export its telemetry to the
 * local receiver (opt-in: `agentHandler.telemetry.receiver`; nothing listens until it is on).
 */
export function registerTelemetryCommand(ctx: vscode.ExtensionContext, endpointFile: string): void {
  ctx.subscriptions.push(
    vscode.commands.registerCommand('agentHandler.showTelemetrySetup', async () => {
      const config = vscode.workspace.getConfiguration('agentHandler');
      if (!config.get<boolean>('telemetry.receiver', false)) {
        const on = await vscode.window.showInformationMessage(
          'The telemetry receiver is off. Turn it on? It listens on 127.0.0.1 only, in the window that writes the index, and takes effect after a window reload.',
          'Turn On and Reload',
        );
        if (on) {
          await config.update('telemetry.receiver', true, vscode.ConfigurationTarget.Global);
          await vscode.commands.executeCommand('workbench.action.reloadWindow');
        }
        return;
      }
      let port = 0;
      try {
        port = Number((JSON.parse(await fsp.readFile(endpointFile, 'utf8')) as { port?: number }).port) || 0;
      } catch {
        // not started (yet)
      }
      if (!port) {
        void vscode.window.showWarningMessage('Agent Handler: the telemetry receiver is not running yet; see Show Log.');
        return;
      }
      const env = telemetryEnv(port);
      const content = [
        '# Agent Handler telemetry receiver: set these where you start Claude Code',
        '# (a shell profile, or the "env" block of ~/.claude/settings.json). JSON bodies only (http/json).',
        '',
        ...Object.entries(env).map(([k, v]) => `export ${k}=${v}`),
        '',
        '# In ~/.claude/settings.json:',
        JSON.stringify({ env }, null, 2),
        '',
      ].join('\n');
      const doc = await vscode.workspace.openTextDocument({ content, language: 'shellscript' });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
  );
}
