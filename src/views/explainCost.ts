import * as vscode from 'vscode';
import { explanationMarkdown } from '../core/pricing/explainText';
import { setTextDocumentLanguage } from './apis/extensions.apis';
import { showTextDocument } from './apis/window.apis';
import { openTextDocument, registerTextDocumentContentProvider } from './apis/workspace.apis';
import { Disposable } from './disposable';
import type { IndexClient } from './indexClient';

/**
 * "Explain Cost" documents: read-only virtual markdown documents (scheme `agent-handler-cost`),
 * made from the worker's explanation of a session or a branch. Shown as markdown source (never
 * rendered as trusted markdown); session titles in it are escaped.
 */
export const EXPLAIN_SCHEME = 'agent-handler-cost';

export type ExplainTarget = { session_id: string } | { gitDir: string; branch: string };

export class ExplainCostDocuments extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: IndexClient) {
    super();
    this._register(registerTextDocumentContentProvider(EXPLAIN_SCHEME, this));
    this._register(this.changed);
  }

  /** A document per target; opening it again shows the figures as they are now. */
  uriFor(target: ExplainTarget, label: string): vscode.Uri {
    const safe = label.replace(/[^\w.-]+/g, '-').slice(0, 60) || 'cost';
    return vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${safe}.md`, query: JSON.stringify(target) });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    let target: ExplainTarget;
    try {
      target = JSON.parse(uri.query) as ExplainTarget;
    } catch {
      return '# Cost\n\nThis link does not name a session or a branch.\n';
    }
    const e = await this.client.query('explain', target);
    if (!e) return '# Cost\n\nThat session is no longer in the index.\n';
    return explanationMarkdown(e);
  }

  async show(target: ExplainTarget, label: string): Promise<void> {
    const uri = this.uriFor(target, label);
    this.changed.fire(uri);
    const doc = await openTextDocument(uri);
    await setTextDocumentLanguage(doc, 'markdown');
    await showTextDocument(doc, { preview: true });
  }
}
