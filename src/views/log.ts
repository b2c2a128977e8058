import type * as vscode from 'vscode';
import { createLogOutputChannel } from './apis/window.apis';

/** The extension's LogOutputChannel ("Agent Handler"); its level follows the user's log level. */
export type Log = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'show'>;

export function createLog(): vscode.LogOutputChannel {
  return createLogOutputChannel('Agent Handler');
}
