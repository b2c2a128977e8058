import type { TokenCounts } from '../model/session';
import { isObject, num } from './records';

/**
 * Codex's token counts as a tuple (input, cached input, cache-write input, output, reasoning
 * output, total), the arithmetic the Codex adapter (codex.ts) pairs and subtracts cumulative
 * snapshots with, and the tuple's token kinds.
 */
export type Tuple = [number, number, number, number, number, number];

/** The creation time (ms) of a UUIDv7, or null for another kind of id. */
export function uuidV7Ms(id: string | null | undefined): number | null {
  if (!id) return null;
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i.exec(id);
  return m ? parseInt(m[1] + m[2], 16) : null;
}

export function tupleOf(u: unknown): Tuple | null {
  if (!isObject(u)) return null;
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  const total = num(u.total_tokens) || input + output;
  return [
    input,
    num(u.cached_input_tokens),
    num(u.cache_write_input_tokens),
    output,
    num(u.reasoning_output_tokens),
    total,
  ];
}

export function sameTuple(a: Tuple | null | undefined, b: Tuple | null | undefined): boolean {
  return !!a && !!b && a.every((v, i) => v === b[i]);
}

/** The same response's usage as written by two record kinds (total_tokens may be left out by one). */
export function sameUsage(a: Tuple, b: Tuple): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4];
}

/**
 * A cumulative total a little below the previous one: an older snapshot written late (Codex does
 * this now and then), not a reset of the counters. Its response was counted with its own snapshot.
 */
export function staleSnapshot(total: Tuple, prev: Tuple, last: Tuple): boolean {
  return total[5] * 100 >= prev[5] * 98 || total[5] + 2 * last[5] >= prev[5];
}

export function within(a: Tuple, b: Tuple): boolean {
  return a.every((v, i) => v <= b[i]);
}

export function add(a: Tuple, b: Tuple): Tuple {
  return a.map((v, i) => v + b[i]) as Tuple;
}

export function sub(a: Tuple, b: Tuple): Tuple | null {
  const d = a.map((v, i) => v - b[i]) as Tuple;
  return d.every((v) => v >= 0) ? d : null;
}

/**
 * Codex usage → token kinds. `input_tokens` INCLUDES the cached part (and the cache-write part
 * newer builds report), `reasoning_output_tokens` is a part of `output_tokens`.
 */
export function codexTokens(u: Tuple): TokenCounts {
  const [input, cached, write, output] = u;
  const cacheRead = Math.min(cached, input);
  const cacheWrite = Math.min(write, input - cacheRead);
  return {
    input: input - cacheRead - cacheWrite,
    output,
    cache_read: cacheRead,
    cache_write: cacheWrite,
    cache_write_1h: 0,
  };
}

/** Tokens in the model's context after a response, as Codex computes it: total − reasoning. */
export function contextOf(u: Tuple): number {
  return Math.max(0, u[5] - u[4]);
}

export function tupleKey(owner: string, t: Tuple): string {
  return `codex:${owner}:${t.join('/')}`;
}
