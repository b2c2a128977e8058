import * as vscode from 'vscode';
import { renderSessionDetails } from '../core/detailsText';
import { textDocuments } from './apis/workspace.apis';
import { CoalescedRun, Disposable } from './disposable';
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
export class SessionDetailsProvider extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly emitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.emitter.event;
  private readonly refresh = this._register(
    new CoalescedRun(() => {
      for (const doc of textDocuments()) if (doc.uri.scheme === DETAILS_SCHEME) this.emitter.fire(doc.uri);
    }, 500),
  );

  constructor(private readonly client: IndexClient) {
    super();
    this._register(client.onDidChange(() => this.refresh.schedule()));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = sessionIdOf(uri);
    const found = id ? await this.client.query('details', { sessionId: id }) : null;
    if (!found)
      return `No session ${id ?? ''} in the index (its agent may be turned off, or the index is still being read).\n`;
    return renderSessionDetails(found.session, found.details);
  }
}
