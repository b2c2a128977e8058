import { type Disposable, commands } from 'vscode';

/** Every call the views make into `vscode.commands` (see window.apis.ts for why). */

export function registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
  return commands.registerCommand(id, handler);
}

export function executeCommand<T = unknown>(id: string, ...args: unknown[]): Thenable<T> {
  return commands.executeCommand<T>(id, ...args);
}

/** A `when`-clause context key (the welcome views and menus read ours). */
export function setContext(key: string, value: boolean): Thenable<unknown> {
  return commands.executeCommand('setContext', key, value);
}
