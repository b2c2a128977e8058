import type * as Pg from 'pg';
import type { MachinePart, MachineRef, RemoteSession, SharedTotals } from './types';
import { addTotals, zeroTotals } from '../store/totals';

/**
 * What the shared database answers: branch and PR totals across every machine, the other
 * machines' sessions, the machines, a per-machine daily series. Reads only (SELECT), so a role
 * that may only read can view.
 *
 * **Each request once across machines.** A request two machines hold (a synced `~/.claude`, a
 * copied transcript) has the same request_key on both (the local dedup key's hash). It counts for
 * one of them: the machine with the smallest machine_id that holds it (CANONICAL below), with that
 * machine's branch, PR and cost. Every total here applies that one rule before summing, so the
 * per-machine parts always add up to the total (docs/sync.md, docs/accounting.md §11).
 */

/** A request row `r` is the copy that counts (see above): no machine with a smaller id holds its key. */
const CANONICAL = `NOT EXISTS (SELECT 1 FROM requests o WHERE o.request_key = r.request_key AND o.machine_id < r.machine_id)`;

/** Which requests a total covers: a constant SQL condition over `r` with numbered parameters. */
interface RequestFilter {
  where: string;
  params: unknown[];
}

/** One group of counted requests: a session's requests of one model on one machine. */
export interface RequestGroup {
  machine_id: string;
  machine_name: string;
  last_push_at: string | null;
  session_id: string;
  framework: string | null;
  model: string | null;
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number;
  unpriced_requests: number;
  requests: number;
  first_ts: string | null;
  last_ts: string | null;
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : String(v);
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

/** The counted requests a filter covers, grouped per machine, session and model. */
export async function requestGroups(client: Pg.ClientBase, filter: RequestFilter): Promise<RequestGroup[]> {
  const r = await client.query(
    `SELECT r.machine_id, COALESCE(m.machine_name, r.machine_id) AS machine_name, m.last_push_at, r.session_id,
       r.framework, r.model,
       SUM(r.input)::float8 AS tokens_input, SUM(r.output)::float8 AS tokens_output,
       SUM(r.cache_read)::float8 AS tokens_cache_read, SUM(r.cache_write)::float8 AS tokens_cache_write,
       COALESCE(SUM(r.cost_usd), 0)::float8 AS cost_usd,
       SUM(CASE WHEN r.priced THEN 0 ELSE r.request_count END)::float8 AS unpriced_requests,
       SUM(r.request_count)::float8 AS requests, MIN(r.ts) AS first_ts, MAX(r.ts) AS last_ts
     FROM requests r LEFT JOIN machines m ON m.machine_id = r.machine_id
     WHERE (${filter.where}) AND ${CANONICAL}
     GROUP BY r.machine_id, m.machine_name, m.last_push_at, r.session_id, r.framework, r.model
     ORDER BY r.machine_id, r.session_id, r.model NULLS LAST`,
    filter.params,
  );
  return r.rows.map((g: Record<string, unknown>) => ({
    machine_id: String(g.machine_id),
    machine_name: String(g.machine_name),
    last_push_at: iso(g.last_push_at),
    session_id: String(g.session_id),
    framework: (g.framework as string | null) ?? null,
    model: (g.model as string | null) ?? null,
    tokens_input: num(g.tokens_input),
    tokens_output: num(g.tokens_output),
    tokens_cache_read: num(g.tokens_cache_read),
    tokens_cache_write: num(g.tokens_cache_write),
    cost_usd: num(g.cost_usd),
    unpriced_requests: num(g.unpriced_requests),
    requests: num(g.requests),
    first_ts: iso(g.first_ts),
    last_ts: iso(g.last_ts),
  }));
}

/** Totals of groups, split per machine (in machine_id order); the parts sum to the total. */
export function sharedTotals(groups: RequestGroup[], thisMachineId: string): SharedTotals {
  const parts = new Map<string, MachinePart & { sessionIds: Set<string> }>();
  const all = new Set<string>();
  for (const g of groups) {
    let p = parts.get(g.machine_id);
    if (!p) {
      p = {
        machine_id: g.machine_id,
        machine_name: g.machine_name,
        last_push_at: g.last_push_at,
        this_machine: g.machine_id === thisMachineId,
        ...zeroTotals(),
        requests: 0,
        sessions: 0,
        sessionIds: new Set(),
      };
      parts.set(g.machine_id, p);
    }
    addTotals(p, g);
    p.sessionIds.add(g.session_id);
    all.add(`${g.machine_id}\0${g.session_id}`);
  }
  const machines: MachinePart[] = [...parts.values()]
    .sort((a, b) => (a.machine_id < b.machine_id ? -1 : a.machine_id > b.machine_id ? 1 : 0))
    .map(({ sessionIds, ...p }) => ({ ...p, sessions: sessionIds.size }));
  const total = { ...zeroTotals(), requests: 0 };
  for (const m of machines) addTotals(total, m);
  return { ...total, sessions: all.size, machines };
}

/** The requests made on a branch of a repository (repoKey), on any machine. */
export function branchFilter(repo: string, branch: string): RequestFilter {
  return { where: 'r.repo = $1 AND r.branch = $2', params: [repo, branch] };
}

/**
 * The requests of a pull request, on any machine: those a machine attributed to it (`pr`: its head
 * branch there, or a session that recorded it from another branch) and those made on its head
 * branch as any machine knows it (the caller's `headBranch`, or any machine's pull_requests row).
 */
export function prFilter(repo: string, number: number, headBranch: string | null): RequestFilter {
  return {
    where: `r.repo = $1 AND (r.pr = $2 OR r.branch = $3
      OR r.branch IN (SELECT p.head_branch FROM pull_requests p WHERE p.repo = $1 AND p.number = $2 AND p.head_branch IS NOT NULL))`,
    params: [repo, number, headBranch],
  };
}

export async function branchTotals(
  client: Pg.ClientBase,
  repo: string,
  branch: string,
  thisMachineId: string,
): Promise<SharedTotals> {
  return sharedTotals(await requestGroups(client, branchFilter(repo, branch)), thisMachineId);
}

export async function prTotals(
  client: Pg.ClientBase,
  repo: string,
  number: number,
  headBranch: string | null,
  thisMachineId: string,
): Promise<SharedTotals> {
  return sharedTotals(await requestGroups(client, prFilter(repo, number, headBranch)), thisMachineId);
}

/** The head branch of a PR as the machines know it (the first by machine_id), or null. */
export async function prHeadBranch(client: Pg.ClientBase, repo: string, number: number): Promise<string | null> {
  const r = await client.query<{ head_branch: string }>(
    'SELECT head_branch FROM pull_requests WHERE repo = $1 AND number = $2 AND head_branch IS NOT NULL ORDER BY machine_id LIMIT 1',
    [repo, number],
  );
  return r.rows[0]?.head_branch ?? null;
}

export async function machines(client: Pg.ClientBase): Promise<MachineRef[]> {
  const r = await client.query(
    'SELECT machine_id, machine_name, last_push_at FROM machines ORDER BY machine_name, machine_id',
  );
  return r.rows.map((m: Record<string, unknown>) => ({
    machine_id: String(m.machine_id),
    machine_name: String(m.machine_name),
    last_push_at: iso(m.last_push_at),
  }));
}

/** The other machines' sessions, latest activity first (at most `limit`). */
export async function otherSessions(
  client: Pg.ClientBase,
  thisMachineId: string,
  limit = 5000,
): Promise<RemoteSession[]> {
  const r = await client.query(
    `SELECT s.*, COALESCE(m.machine_name, s.machine_id) AS machine_name, m.last_push_at
     FROM sessions s LEFT JOIN machines m ON m.machine_id = s.machine_id
     WHERE s.machine_id <> $1 ORDER BY s.last_activity DESC NULLS LAST, s.machine_id, s.session_id LIMIT $2`,
    [thisMachineId, limit],
  );
  return r.rows.map((s: Record<string, unknown>) => ({
    machine_id: String(s.machine_id),
    machine_name: String(s.machine_name),
    last_push_at: iso(s.last_push_at),
    session_id: String(s.session_id),
    parent_session_id: (s.parent_session_id as string | null) ?? null,
    framework: (s.framework as string | null) ?? null,
    title: (s.title as string | null) ?? null,
    first_started_at: iso(s.first_started_at),
    last_activity: iso(s.last_activity),
    last_ended_at: iso(s.last_ended_at),
    status: (s.status as string | null) ?? null,
    repo: (s.repo as string | null) ?? null,
    git_branch: (s.git_branch as string | null) ?? null,
    github_pr: s.github_pr === null || s.github_pr === undefined ? null : Number(s.github_pr),
    model: (s.model as string | null) ?? null,
    tokens_input: num(s.tokens_input),
    tokens_output: num(s.tokens_output),
    tokens_cache_read: num(s.tokens_cache_read),
    tokens_cache_write: num(s.tokens_cache_write),
    cost_usd: s.cost_usd === null || s.cost_usd === undefined ? null : Number(s.cost_usd),
    unpriced_requests: num(s.unpriced_requests),
  }));
}

export interface MachineDay {
  /** The calendar day in the time zone asked (YYYY-MM-DD). */
  date: string;
  machine_id: string;
  machine_name: string;
  tokens: number;
  cost_usd: number;
}

/** Tokens and cost per calendar day (in `timeZone`, an IANA name) and machine, since `sinceIso`. */
export async function dailyByMachine(client: Pg.ClientBase, sinceIso: string, timeZone = 'UTC'): Promise<MachineDay[]> {
  const r = await client.query(
    `SELECT to_char((r.ts AT TIME ZONE $2)::date, 'YYYY-MM-DD') AS date, r.machine_id,
       COALESCE(m.machine_name, r.machine_id) AS machine_name,
       SUM(r.input + r.output + r.cache_read + r.cache_write)::float8 AS tokens, COALESCE(SUM(r.cost_usd), 0)::float8 AS cost_usd
     FROM requests r LEFT JOIN machines m ON m.machine_id = r.machine_id
     WHERE r.ts >= $1::timestamptz AND ${CANONICAL}
     GROUP BY 1, r.machine_id, m.machine_name ORDER BY 1, r.machine_id`,
    [sinceIso, timeZone],
  );
  return r.rows.map((d: Record<string, unknown>) => ({
    date: String(d.date),
    machine_id: String(d.machine_id),
    machine_name: String(d.machine_name),
    tokens: num(d.tokens),
    cost_usd: num(d.cost_usd),
  }));
}
