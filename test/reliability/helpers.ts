/**
 * Shared by the reliability suite: fixture homes per agent (copies of the real fixtures), a
 * snapshot of what the index counts (to compare before and after a fault), and the summary line
 * each fault class prints. Not a test file itself (node --test only runs *.test.js).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { after } from 'node:test';
import { all } from '../../src/core/store/sqlite';
import type { Store } from '../../src/core/store/store';

export { agentHome, copyDir } from '../unit/helpers';

/** Every regular file below a folder. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export interface SessionCount {
  requests: number;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  cost_usd: number;
}

/**
 * What the index counts, per session: counted requests, tokens and cost. Two snapshots equal means
 * no record was lost and none counted twice.
 */
export function countSnapshot(store: Store): Record<string, SessionCount> {
  const rows = all<{ session_id: string } & SessionCount>(
    store.db,
    `SELECT session_id, SUM(request_count) AS requests, SUM(input) AS input, SUM(output) AS output,
            SUM(cache_read) AS cache_read, SUM(cache_write) AS cache_write, ROUND(COALESCE(SUM(cost_usd), 0), 9) AS cost_usd
       FROM usage WHERE counted = 1 GROUP BY session_id ORDER BY session_id`,
  );
  const out: Record<string, SessionCount> = {};
  for (const { session_id, ...c } of rows) out[session_id] = c;
  return out;
}

/** Session ids listed, with how many rows each has (always 1 when nothing is double). */
export function sessionIds(store: Store): string[] {
  return all<{ session_id: string }>(store.db, 'SELECT session_id FROM sessions ORDER BY session_id').map(
    (r) => r.session_id,
  );
}

export function skippedTotal(store: Store): number {
  return all<{ n: number }>(store.db, 'SELECT COALESCE(SUM(skipped_lines), 0) AS n FROM files')[0].n;
}

/** Every number the index holds is finite and not negative (a wrong-shaped field never becomes NaN). */
export function assertSaneNumbers(store: Store): void {
  const cols = ['input', 'output', 'cache_read', 'cache_write', 'cache_write_1h', 'request_count'];
  for (const c of cols) {
    const bad = all(
      store.db,
      `SELECT ${c} AS v FROM usage WHERE NOT (typeof(${c}) IN ('integer','real') AND ${c} >= 0 AND ${c} < 1e18)`,
    );
    if (bad.length) throw new Error(`usage.${c} holds ${JSON.stringify(bad[0].v)}`);
  }
  const bad = all(
    store.db,
    `SELECT session_id, cost_usd, tokens_input FROM sessions WHERE NOT (cost_usd >= 0 AND tokens_input >= 0 AND tokens_output >= 0)`,
  );
  if (bad.length) throw new Error(`session totals not sane: ${JSON.stringify(bad[0])}`);
}

/** One line per fault class at the end of its file: what ran and the three figures that must be 0. */
export class FaultSummary {
  cases = 0;
  crashes = 0;
  lost = 0;
  double = 0;
  private readonly notes: string[] = [];

  constructor(readonly faultClass: string) {
    after(() => {
      const extra = this.notes.length ? ` (${this.notes.join('; ')})` : '';
      console.log(
        `RELIABILITY ${this.faultClass}: ${this.cases} cases, ${this.crashes} crashes, ${this.lost} lost sessions, ${this.double} double counts${extra}`,
      );
    });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Compares a snapshot with the expected one, counting lost sessions and double counts. */
  compare(expected: Record<string, SessionCount>, actual: Record<string, SessionCount>): void {
    this.cases++;
    for (const [id, e] of Object.entries(expected)) {
      const a = actual[id];
      if (!a || a.requests < e.requests) this.lost++;
      else if (a.requests > e.requests || a.input > e.input || a.output > e.output) this.double++;
    }
    for (const id of Object.keys(actual)) if (!(id in expected)) this.double++;
  }

  /** Runs one case; an exception counts as a crash (and fails the test). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.crashes++;
      throw err;
    }
  }
}
