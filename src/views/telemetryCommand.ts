import * as vscode from 'vscode';
import { receiverEnv } from '../core/live/otlp';
import { executeCommand, registerCommand } from './apis/commands.apis';
import { showInformationMessage, showTextDocument, showWarningMessage } from './apis/window.apis';
import { getConfiguration, openTextDocument } from './apis/workspace.apis';

/**
 * Show Telemetry Setup: the environment variables that make Claude Code export its telemetry to the
 * local receiver (opt-in: `agentHandler.telemetry.receiver`; nothing listens until it is on).
 */
export function registerTelemetryCommand(ctx: vscode.ExtensionContext, endpointFile: string): void {
  ctx.subscriptions.push(
    registerCommand('agentHandler.showTelemetrySetup', async () => {
      const config = getConfiguration('agentHandler');
      if (!config.get<boolean>('telemetry.receiver', false)) {
        const on = await showInformationMessage(
          'The telemetry receiver is off. Turn it on? It listens on 127.0.0.1 only, in the window that writes the index, and takes effect after a window reload.',
          'Turn On and Reload',
        );
        if (on) {
          await config.update('telemetry.receiver', true, vscode.ConfigurationTarget.Global);
          await executeCommand('workbench.action.reloadWindow');
        }
        return;
      }
      const env = await receiverEnv(endpointFile);
      if (!env) {
        void showWarningMessage('Agent Handler: the telemetry receiver is not running yet; see Show Log.');
        return;
      }
      const content = [
        '# Agent Handler telemetry receiver: set these where you start Claude Code',
        '# (a shell profile, or the "env" block of ~/.claude/settings.json). JSON bodies only (http/json).',
        "# OTEL_EXPORTER_OTLP_HEADERS holds this install's token: the receiver refuses requests without it.",
        '# Keep it private (a file only you can read); terminals Agent Handler starts get it already.',
        '',
        ...Object.entries(env).map(([k, v]) => `export ${k}=${v}`),
        '',
        '# In ~/.claude/settings.json:',
        JSON.stringify({ env }, null, 2),
        '',
      ].join('\n');
      const doc = await openTextDocument({ content, language: 'shellscript' });
      await showTextDocument(doc, { preview: true });
    }),
  );
}
