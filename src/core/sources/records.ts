/** Reading untrusted JSON records: every adapter takes fields through these, never trusting a shape. */

export type Rec = Record<string, unknown>;

export function isObject(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A positive finite number, else 0 (token counts: negative or NaN values count as nothing). */
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** How much of one tool result or text block is searched for PR/issue links. */
export const LINK_SCAN_LIMIT = 64 * 1024;
