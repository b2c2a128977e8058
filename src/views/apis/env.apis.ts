import { type Uri, env } from 'vscode';

/** Every call the views make into `vscode.env` (see window.apis.ts for why). */

export function writeClipboard(text: string): Thenable<void> {
  return env.clipboard.writeText(text);
}

export function openExternal(uri: Uri): Thenable<boolean> {
  return env.openExternal(uri);
}
