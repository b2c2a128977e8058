import {
  type CancellationToken,
  type Disposable,
  type InputBoxOptions,
  type LogOutputChannel,
  type MessageOptions,
  type Progress,
  type ProgressOptions,
  type QuickPick,
  type QuickPickItem,
  type QuickPickOptions,
  type SaveDialogOptions,
  type StatusBarAlignment,
  type StatusBarItem,
  type Terminal,
  type TerminalOptions,
  type TextDocument,
  type TextDocumentShowOptions,
  type TextEditor,
  type TreeView,
  type TreeViewOptions,
  Uri,
  type ViewColumn,
  type WebviewPanel,
  type WebviewPanelOptions,
  type WebviewOptions,
  window,
} from 'vscode';

/**
 * Every call the views make into `vscode.window`, one thin function each (the shape of
 * vscode-python-environments' `*.apis.ts`): the views' own logic lives in modules that import no
 * `vscode` at all, and what is left here is the one place that talks to the workbench.
 */

export function createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number): StatusBarItem {
  return window.createStatusBarItem(id, alignment, priority);
}

export function createTreeView<T>(viewId: string, options: TreeViewOptions<T>): TreeView<T> {
  return window.createTreeView(viewId, options);
}

export function createQuickPick<T extends QuickPickItem>(): QuickPick<T> {
  return window.createQuickPick<T>();
}

export function createTerminal(options: TerminalOptions): Terminal {
  return window.createTerminal(options);
}

export function createWebviewPanel(
  viewType: string,
  title: string,
  column: ViewColumn,
  options: WebviewPanelOptions & WebviewOptions,
): WebviewPanel {
  return window.createWebviewPanel(viewType, title, column, options);
}

export function createLogOutputChannel(name: string): LogOutputChannel {
  return window.createOutputChannel(name, { log: true });
}

export function showQuickPick<T extends QuickPickItem>(
  items: readonly T[],
  options: QuickPickOptions & { canPickMany: true },
): Thenable<T[] | undefined>;
export function showQuickPick<T extends QuickPickItem>(
  items: readonly T[],
  options: QuickPickOptions,
): Thenable<T | undefined>;
export function showQuickPick<T extends QuickPickItem>(
  items: readonly T[],
  options: QuickPickOptions,
): Thenable<T | T[] | undefined> {
  return window.showQuickPick(items, options);
}

export function showInputBox(options: InputBoxOptions): Thenable<string | undefined> {
  return window.showInputBox(options);
}

export function showSaveDialog(options: SaveDialogOptions): Thenable<Uri | undefined> {
  return window.showSaveDialog(options);
}

export function showTextDocument(
  document: TextDocument | Uri,
  options?: TextDocumentShowOptions,
): Thenable<TextEditor> {
  // Two overloads in the API, one function here.
  return document instanceof Uri
    ? window.showTextDocument(document, options)
    : window.showTextDocument(document, options);
}

export function showInformationMessage<T extends string>(message: string, ...items: T[]): Thenable<T | undefined>;
export function showInformationMessage<T extends string>(
  message: string,
  options: MessageOptions,
  ...items: T[]
): Thenable<T | undefined>;
export function showInformationMessage<T extends string>(
  message: string,
  first?: MessageOptions | T,
  ...items: T[]
): Thenable<T | undefined> {
  if (first === undefined) return window.showInformationMessage<T>(message);
  return typeof first === 'string'
    ? window.showInformationMessage(message, first, ...items)
    : window.showInformationMessage(message, first, ...items);
}

export function showWarningMessage<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return window.showWarningMessage(message, ...items);
}

export function showErrorMessage(message: string): Thenable<string | undefined> {
  return window.showErrorMessage(message);
}

export function setStatusBarMessage(text: string, hideAfterMs: number): Disposable {
  return window.setStatusBarMessage(text, hideAfterMs);
}

export function withProgress<R>(
  options: ProgressOptions,
  task: (progress: Progress<{ message?: string; increment?: number }>, token: CancellationToken) => Thenable<R>,
): Thenable<R> {
  return window.withProgress(options, task);
}

export function activeTextEditor(): TextEditor | undefined {
  return window.activeTextEditor;
}
