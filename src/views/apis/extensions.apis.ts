import {
  type AuthenticationSession,
  type Extension,
  type TextDocument,
  authentication,
  extensions,
  languages,
} from 'vscode';

/**
 * The views' calls into `vscode.extensions`, `vscode.authentication` and `vscode.languages`: one
 * or two each, kept together (see window.apis.ts for why).
 */

export function getExtension<T>(id: string): Extension<T> | undefined {
  return extensions.getExtension<T>(id);
}

/** Never prompts: only a session the person already signed in with. */
export function silentAuthenticationSession(
  providerId: string,
  scopes: readonly string[],
): Thenable<AuthenticationSession | undefined> {
  return authentication.getSession(providerId, scopes, { silent: true });
}

export function setTextDocumentLanguage(document: TextDocument, languageId: string): Thenable<TextDocument> {
  return languages.setTextDocumentLanguage(document, languageId);
}
