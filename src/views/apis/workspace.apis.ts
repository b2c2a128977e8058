import {
  type ConfigurationChangeEvent,
  type Disposable,
  type FileStat,
  type TextDocument,
  type TextDocumentContentProvider,
  type Uri,
  type WorkspaceConfiguration,
  type WorkspaceFolder,
  type WorkspaceFoldersChangeEvent,
  workspace,
} from 'vscode';

/** Every call the views make into `vscode.workspace` (see window.apis.ts for why). */

export function getConfiguration(section: string): WorkspaceConfiguration {
  return workspace.getConfiguration(section);
}

export function onDidChangeConfiguration(listener: (e: ConfigurationChangeEvent) => unknown): Disposable {
  return workspace.onDidChangeConfiguration(listener);
}

export function onDidChangeWorkspaceFolders(listener: (e: WorkspaceFoldersChangeEvent) => unknown): Disposable {
  return workspace.onDidChangeWorkspaceFolders(listener);
}

export function workspaceFolders(): readonly WorkspaceFolder[] | undefined {
  return workspace.workspaceFolders;
}

export function textDocuments(): readonly TextDocument[] {
  return workspace.textDocuments;
}

export function openTextDocument(target: Uri | { content: string; language: string }): Thenable<TextDocument> {
  // Two overloads in the API, one function here.
  return 'scheme' in target ? workspace.openTextDocument(target) : workspace.openTextDocument(target);
}

export function registerTextDocumentContentProvider(scheme: string, provider: TextDocumentContentProvider): Disposable {
  return workspace.registerTextDocumentContentProvider(scheme, provider);
}

export function stat(uri: Uri): Thenable<FileStat> {
  return workspace.fs.stat(uri);
}

export function writeFile(uri: Uri, content: Uint8Array): Thenable<void> {
  return workspace.fs.writeFile(uri, content);
}
