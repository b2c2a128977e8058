/** Reading untrusted JSON records: every adapter takes fields through these, never trusting a shape. */

import { findGithubLinks } from '../text';
import { LONG_STRING_KEPT_CHARS } from './lineBytes';

export type Rec = Record<string, unknown>;

export function isObject(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * More than any session could have used (a thousand billion tokens): a larger count is a corrupt
 * value, not usage, and would only poison every total it is added to.
 */
const NUM_MAX = 1e12;

/** A positive finite number below NUM_MAX, else 0 (token counts: negative, NaN or absurd values count as nothing). */
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < NUM_MAX ? v : 0;
}

/**
 * How much of one tool result or text block is searched for PR/issue links: no more than a long
 * string keeps once lineBytes.ts has cut it, so a link is found (or not) the same either way.
 */
export const LINK_SCAN_LIMIT = LONG_STRING_KEPT_CHARS;

/**
 * Notes the last GitHub PR and issue links in a value (a string, or any JSON value as its text),
 * looking at its first LINK_SCAN_LIMIT characters only.
 */
export function collectGithubLinks(links: { pr?: string; issue?: string }, v: unknown): void {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (v === undefined || v === null) return;
  else {
    try {
      text = JSON.stringify(v);
    } catch {
      return;
    }
  }
  if (!text.includes('github.com/')) return;
  const found = findGithubLinks(text.length > LINK_SCAN_LIMIT ? text.slice(0, LINK_SCAN_LIMIT) : text);
  if (found.pr) links.pr = found.pr;
  if (found.issue) links.issue = found.issue;
}
