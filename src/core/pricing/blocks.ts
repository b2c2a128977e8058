import { all } from '../store/sqlite';
import type { Store } from '../store/store';

/**
 * 5-hour billing windows ("blocks"), computed as ccusage (20) computes them, so the two agree on
 * the same transcripts (test/unit/cli-blocks.test.ts compares them):
 *
 * - requests in time order; a block starts at its first request's time floored to the UTC hour and
 *   ends 5 hours later;
 * - a request more than 5 hours after its block's start, or more than 5 hours after the previous
 *   request, starts a new block; when the previous request is more than 5 hours back, a gap block
 *   covers the idle time (from 5 hours after that request to the new one);
 * - a block is active while now is before its end and less than 5 hours after its last request;
 * - burn rate (the active block's): its tokens (every kind) and cost over the minutes from its first
 *   request to its last; projection: its figures if that rate goes on to its end.
 *
 * Every agent's counted requests take part (ccusage reads Claude Code's only: on Claude Code alone
 * the two agree).
 */

export const BLOCK_HOURS = 5;
const BLOCK_MS = BLOCK_HOURS * 3_600_000;

export interface BlockRequest {
  ms: number;
  model: string | null;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  cost_usd: number;
  requests: number;
  unpriced: number;
}

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/** ccusage's `blocks --json` block, field for field, plus the unpriced requests. */
export interface Block {
  id: string;
  startTime: string;
  endTime: string;
  actualEndTime: string | null;
  isActive: boolean;
  isGap: boolean;
  entries: number;
  tokenCounts: TokenCounts;
  totalTokens: number;
  costUSD: number;
  unpricedRequests: number;
  models: string[];
  burnRate: { tokensPerMinute: number; tokensPerMinuteForIndicator: number; costPerHour: number } | null;
  projection: { totalTokens: number; totalCost: number; remainingMinutes: number } | null;
}

function floorToHour(ms: number): number {
  return ms - (((ms % 3_600_000) + 3_600_000) % 3_600_000);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function makeBlock(start: number, reqs: BlockRequest[], now: number): Block {
  const end = start + BLOCK_MS;
  const last = reqs[reqs.length - 1].ms;
  const counts: TokenCounts = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  let cost = 0;
  let entries = 0;
  let unpriced = 0;
  const models: string[] = [];
  for (const r of reqs) {
    counts.inputTokens += r.input;
    counts.outputTokens += r.output;
    counts.cacheCreationInputTokens += r.cache_write;
    counts.cacheReadInputTokens += r.cache_read;
    cost += r.cost_usd;
    entries += r.requests;
    unpriced += r.unpriced;
    if (r.model && !models.includes(r.model)) models.push(r.model);
  }
  const total =
    counts.inputTokens + counts.outputTokens + counts.cacheCreationInputTokens + counts.cacheReadInputTokens;
  const isActive = now - last < BLOCK_MS && now < end;
  const minutes = (last - reqs[0].ms) / 60_000;
  // ccusage gives the active block alone a burn rate.
  const burnRate =
    isActive && minutes > 0
      ? {
          tokensPerMinute: total / minutes,
          tokensPerMinuteForIndicator: (counts.inputTokens + counts.outputTokens) / minutes,
          costPerHour: (cost / minutes) * 60,
        }
      : null;
  let projection: Block['projection'] = null;
  if (isActive && burnRate) {
    const remaining = Math.max(0, (end - now) / 60_000);
    projection = {
      totalTokens: Math.round(total + burnRate.tokensPerMinute * remaining),
      totalCost: Math.round((cost + (burnRate.costPerHour / 60) * remaining) * 100) / 100,
      remainingMinutes: Math.round(remaining),
    };
  }
  return {
    id: iso(start),
    startTime: iso(start),
    endTime: iso(end),
    actualEndTime: iso(last),
    isActive,
    isGap: false,
    entries,
    tokenCounts: counts,
    totalTokens: total,
    costUSD: cost,
    unpricedRequests: unpriced,
    models,
    burnRate,
    projection,
  };
}

function gapBlock(lastMs: number, nextMs: number): Block {
  const start = lastMs + BLOCK_MS;
  return {
    id: `gap-${iso(start)}`,
    startTime: iso(start),
    endTime: iso(nextMs),
    actualEndTime: null,
    isActive: false,
    isGap: true,
    entries: 0,
    tokenCounts: { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
    totalTokens: 0,
    costUSD: 0,
    unpricedRequests: 0,
    models: [],
    burnRate: null,
    projection: null,
  };
}

/** The blocks of requests (any order), oldest first, gaps included. Pure: `now` decides the active one. */
export function identifyBlocks(requests: BlockRequest[], now: number): Block[] {
  const sorted = [...requests].sort((a, b) => a.ms - b.ms);
  const blocks: Block[] = [];
  let start = 0;
  let current: BlockRequest[] = [];
  for (const r of sorted) {
    if (!current.length) {
      start = floorToHour(r.ms);
      current = [r];
      continue;
    }
    const lastMs = current[current.length - 1].ms;
    if (r.ms - start > BLOCK_MS || r.ms - lastMs > BLOCK_MS) {
      blocks.push(makeBlock(start, current, now));
      if (r.ms - lastMs > BLOCK_MS) blocks.push(gapBlock(lastMs, r.ms));
      start = floorToHour(r.ms);
      current = [r];
    } else current.push(r);
  }
  if (current.length) blocks.push(makeBlock(start, current, now));
  return blocks;
}

/** The store's counted requests with a time (those `keep` keeps), as blocks. */
export function usageBlocks(store: Store, now: number, keep?: (ts: string | null) => boolean): Block[] {
  const rows = all<{
    ts: string;
    model: string | null;
    input: number;
    output: number;
    cache_read: number;
    cache_write: number;
    cost_usd: number | null;
    priced: number;
    request_count: number;
  }>(
    store.db,
    `SELECT ts, model, input, output, cache_read, cache_write, cost_usd, priced, request_count
     FROM usage WHERE counted = 1 AND ts IS NOT NULL`,
  );
  const requests: BlockRequest[] = [];
  for (const r of rows) {
    if (keep && !keep(r.ts)) continue;
    const ms = Date.parse(r.ts);
    if (!Number.isFinite(ms)) continue;
    requests.push({
      ms,
      model: r.model,
      input: r.input,
      output: r.output,
      cache_read: r.cache_read,
      cache_write: r.cache_write,
      cost_usd: r.cost_usd ?? 0,
      requests: r.request_count,
      unpriced: r.priced ? 0 : r.request_count,
    });
  }
  return identifyBlocks(requests, now);
}
