import type { MergedLive } from '../model/liveFacts';
import type { TurnState } from '../model/reducer';
import { type StatusSettings, deriveStatus } from '../model/status';

/**
 * The part of a session's view that depends on the clock: its status (and when it took it, what it
 * waits for, when it ended) and the process shown while it runs. One pure function of what the store
 * holds and `now`, so the store's query (queries.ts listSessions) and the CLI's scan manifest
 * (cli/manifest.ts), which keeps these inputs beside its saved answer, derive them the same way.
 * No sql.js here: the CLI's thin entry bundles this module.
 */

/** A live process registry entry (the `live` table) as the view reads it. */
export interface LiveRow {
  pid: number;
  session_id: string;
  status: string | null;
  waiting_for: string | null;
  started_at_ms: number | null;
  updated_at_ms: number | null;
  alive: number;
}

/** Everything the clock-dependent fields are derived from. */
export interface ClockInputs {
  hooks: MergedLive | null;
  turn_state: TurnState | null;
  turn_state_at: string | null;
  last_activity: string | null;
  /** The transcript's own first end (the stored row's first_ended_at). */
  first_ended_at: string | null;
  live: LiveRow | null;
}

/** The view's fields that `now` decides (their names are the view's). */
export interface ClockFields {
  status: string;
  status_updated_at: string | null;
  waiting_for: string | null;
  last_ended_at: string | null;
  first_ended_at: string | null;
  pid: number | null;
  process_start_time: number | null;
}

export function sessionClock(c: ClockInputs, now: number, settings: StatusSettings): ClockFields {
  const { live, hooks } = c;
  const st = deriveStatus(
    {
      hooks,
      turn_state: c.turn_state,
      turn_state_at: c.turn_state_at,
      last_activity: c.last_activity,
      live: live
        ? {
            alive: live.alive === 1,
            status: live.status,
            waiting_for: live.waiting_for,
            updated_at_ms: live.updated_at_ms,
            started_at_ms: live.started_at_ms,
          }
        : null,
    },
    now,
    settings,
  );
  const proc = processOf(live, hooks, st.status);
  return {
    status: st.status,
    status_updated_at: st.status_updated_at,
    waiting_for: st.waiting_for,
    last_ended_at: st.last_ended_at,
    // The first end is history: the transcript's end of its first run (a revival followed), the hooks'
    // first SessionEnd, else the current end.
    first_ended_at: earliestIso(c.first_ended_at, hooks?.first_ended_at_ms ?? null, st.last_ended_at),
    pid: proc.pid,
    process_start_time: proc.process_start_time,
  };
}

/** Whether two derivations agree on every field (a saved rendering of the view still holds). */
export function sameClock(a: ClockFields, b: ClockFields): boolean {
  return (
    a.status === b.status &&
    a.status_updated_at === b.status_updated_at &&
    a.waiting_for === b.waiting_for &&
    a.last_ended_at === b.last_ended_at &&
    a.first_ended_at === b.first_ended_at &&
    a.pid === b.pid &&
    a.process_start_time === b.process_start_time
  );
}

/** The agent's process while the session runs: from the hooks, else from the agent's registry. */
function processOf(
  live: LiveRow | null,
  hooks: MergedLive | null,
  status: string,
): { pid: number | null; process_start_time: number | null } {
  if (hooks?.pid && hooks.alive !== false && status !== 'done')
    return { pid: hooks.pid, process_start_time: unixSeconds(hooks.process_started_at_ms) };
  if (live?.alive) return { pid: live.pid, process_start_time: unixSeconds(live.started_at_ms) };
  return { pid: null, process_start_time: null };
}

/** A process start as the record keeps it: whole Unix seconds. */
function unixSeconds(ms: number | null): number | null {
  return ms ? Math.floor(ms / 1000) : null;
}

/** The earliest of some times (ISO text or ms), as ISO text; null when none is known. */
function earliestIso(iso: string | null, ms: number | null, other: string | null): string | null {
  const times = [iso, ms === null ? null : new Date(ms).toISOString(), other].filter((t): t is string => t !== null);
  return times.length ? times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)) : null;
}
