import * as vscode from 'vscode';
import { withProgress } from './apis/window.apis';
import { Disposable } from './disposable';
import type { IndexClient } from './indexClient';

/**
 * A first index that takes a while (a large home: gigabytes of transcripts) shows its progress in the
 * status bar's progress area (ProgressLocation.Window): files, megabytes, percent and time left, the
 * line the CLI prints on a terminal. It appears with the worker's first progress report (after 2 s)
 * and ends with the pass; short passes never show it.
 */
export class IndexProgress extends Disposable {
  private report: ((text: string) => void) | null = null;
  private finish: (() => void) | null = null;

  constructor(private readonly client: IndexClient) {
    super();
    this._register(client.onDidProgress((text) => this.show(text)));
    this._register(client.onDidChangeState(() => !client.indexing && this.end()));
  }

  private show(text: string): void {
    if (this.report) {
      this.report(text);
      return;
    }
    void withProgress({ location: vscode.ProgressLocation.Window, title: 'Agent Handler' }, (progress) => {
      this.report = (message) => progress.report({ message });
      this.report(text);
      return new Promise<void>((resolve) => (this.finish = resolve));
    });
  }

  private end(): void {
    this.finish?.();
    this.finish = null;
    this.report = null;
  }

  override dispose(): void {
    this.end();
    super.dispose();
  }
}
