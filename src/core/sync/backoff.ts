/**
 * How long sync waits after a failure: one rule for the CLI's `sync --watch` (loop.ts) and the
 * extension's worker (ingest/syncLink.ts), so a server that is down sees the same pace from both.
 * Dependency-free: the worker bundle imports it without the PostgreSQL client.
 */

export const BACKOFF_FIRST_MS = 5_000;
export const BACKOFF_CAP_MS = 5 * 60_000;

/** The delay before retry n (1-based): doubling from `firstMs`, capped, with ±50 % jitter so machines do not retry in step. */
export function backoffDelay(
  failures: number,
  random: () => number = Math.random,
  firstMs = BACKOFF_FIRST_MS,
  capMs = BACKOFF_CAP_MS,
): number {
  const base = Math.min(capMs, firstMs * 2 ** Math.max(0, failures - 1));
  return Math.min(capMs, Math.round(base * (0.5 + random())));
}
