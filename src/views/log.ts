import * as vscode from 'vscode';

/** The extension's LogOutputChannel ("Agent Handler"); its level follows the user's log level. */
export type Log = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'show'>;

export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Agent Handler', { log: true });
}
