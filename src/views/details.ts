import * as vscode from 'vscode';
import { renderSessionDetails } from '../core/detailsText';
import type { IndexClient } from './indexClient';

export const DETAILS_SCHEME = 'agent-handler-session';

/** agent-handler-session:/<session id>.txt — the .txt keeps it plain text (nothing rendered). */
export function detailsUri(sessionId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: DETAILS_SCHEME, path: `/${sessionId}.txt` });
}

export function sessionIdOf(uri: vscode.Uri): string | null {
  if (uri.scheme !== DETAILS_SCHEME) return null;
  return uri.path.replace(/^\//, '').replace(/\.txt$/, '') || null;
}

/**
 * Session Details as a read-only virtual document, regenerated from the index whenever it changes
 * (open pages follow a live session).
 */
export class SessionDetailsProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly sub: vscode.Disposable;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly client: IndexClient) {
    this.sub = client.onDidChange(() => {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === DETAILS_SCHEME) this.emitter.fire(doc.uri);
      }, 500);
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = sessionIdOf(uri);
    const found = id ? await this.client.query('details', { sessionId: id }) : null;
    if (!found) return `No session ${id ?? ''} in the index (its agent may be turned off, or the index is still being read).\n`;
    return renderSessionDetails(found.session, found.details);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
    this.emitter.dispose();
  }
}
