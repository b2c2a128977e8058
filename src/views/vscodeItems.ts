import * as vscode from 'vscode';
import type { Collapsible, ThemeIconModel, TreeItemModel } from './model/sessionsTree';

/**
 * The thin adapter from the view models (src/views/model/, plain data) to VS Code's objects. Kept
 * apart so that the models stay loadable in plain Node and this stays too small to need tests.
 */

/** Markdown shown as text: not trusted (no command links), no HTML. */
export function untrustedMarkdown(value: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(value, false);
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}

export function themeIcon(icon: ThemeIconModel): vscode.ThemeIcon {
  return icon.color ? new vscode.ThemeIcon(icon.id, new vscode.ThemeColor(icon.color)) : new vscode.ThemeIcon(icon.id);
}

const COLLAPSIBLE: Record<Collapsible, vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function treeItem(model: TreeItemModel): vscode.TreeItem {
  const item = new vscode.TreeItem(model.label, COLLAPSIBLE[model.collapsible]);
  item.id = model.id;
  item.description = model.description;
  if (model.tooltip !== undefined) item.tooltip = model.tooltip;
  item.iconPath = themeIcon(model.icon);
  item.contextValue = model.contextValue;
  if (model.accessibilityLabel !== undefined) item.accessibilityInformation = { label: model.accessibilityLabel };
  return item;
}
