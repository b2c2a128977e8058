/**
 * What a set of counted requests adds up to: the shapes the session list, branch totals and pull
 * request totals share, and the SQL that sums them. Below queries.ts and pullRequests.ts alike, so
 * neither needs the other for them.
 */

export interface Totals {
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number;
  unpriced_requests: number;
}

/** Totals of nothing: where a sum starts. */
export function zeroTotals(): Totals {
  return {
    tokens_input: 0,
    tokens_output: 0,
    tokens_cache_read: 0,
    tokens_cache_write: 0,
    cost_usd: 0,
    unpriced_requests: 0,
  };
}

/** Adds `from`'s totals into `into` (and its request count when both carry one). */
export function addTotals(into: Totals & { requests?: number }, from: Totals & { requests?: number }): void {
  into.tokens_input += from.tokens_input;
  into.tokens_output += from.tokens_output;
  into.tokens_cache_read += from.tokens_cache_read;
  into.tokens_cache_write += from.tokens_cache_write;
  into.cost_usd += from.cost_usd;
  into.unpriced_requests += from.unpriced_requests;
  if (into.requests !== undefined && from.requests !== undefined) into.requests += from.requests;
}

export interface BranchPart extends Totals {
  requests: number;
}

/** Totals of a set of counted requests, broken down per session, per model and per agent. */
export interface UsageBreakdown extends Totals {
  /** Sessions with at least one of the requests (subagents included). */
  sessions: number;
  /** Of those, busy or waiting now. */
  live: number;
  /** Of those, waiting for the person. */
  waiting: number;
  requests: number;
  by_session: (BranchPart & {
    session_id: string;
    framework: string | null;
    title: string | null;
    status: string;
    parent_session_id: string | null;
  })[];
  by_model: (BranchPart & { model: string })[];
  by_agent: (BranchPart & { framework: string })[];
}

/** The columns of a BranchPart summed over usage rows `u` (each counted request once). */
export const SUMS = `COALESCE(SUM(u.input),0) AS tokens_input, COALESCE(SUM(u.output),0) AS tokens_output,
  COALESCE(SUM(u.cache_read),0) AS tokens_cache_read, COALESCE(SUM(u.cache_write),0) AS tokens_cache_write,
  COALESCE(SUM(u.cost_usd),0) AS cost_usd, COALESCE(SUM(CASE WHEN u.priced = 0 THEN u.request_count ELSE 0 END),0) AS unpriced_requests,
  COALESCE(SUM(u.request_count),0) AS requests`;
