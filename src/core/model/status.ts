import type { SessionStatus } from './session';
import type { TurnState } from './reducer';

/**
 * A session's status from what is known, best source first: our hooks (the spool: exact busy /
 * wait / idle / done transitions, the agent's pid checked against the OS), else the agent's live
 * process registry when it has one (Claude's `sessions/<pid>.json`, validated against the
 * process's start time), else the transcript's last turn state and how long ago it was written.
 */

/**
 * Transcript activity this much after the hooks' last word means the session went on without them
 * (a resume by a process without our hooks, hooks removed): the other sources decide. The slack
 * covers records an agent writes while it exits, after its SessionEnd hook ran.
 */
export const HOOK_SUPERSEDED_AFTER_MS = 5_000;

export interface StatusSettings {
  /** A turn in progress whose transcript was not written for longer than this is not trusted as busy. */
  busyWindowMs: number;
  /** An idle session quiet for longer than this is done. */
  idleWindowMs: number;
}

export const DEFAULT_STATUS_SETTINGS: StatusSettings = {
  busyWindowMs: 5 * 60_000,
  idleWindowMs: 30 * 60_000,
};

export interface StatusInput {
  turn_state: TurnState | null;
  turn_state_at: string | null;
  last_activity: string | null;
  live: {
    alive: boolean;
    status: string | null;
    waiting_for: string | null;
    updated_at_ms: number | null;
    started_at_ms: number | null;
  } | null;
  /** Merged facts from our hook spool (src/core/model/liveFacts.ts), if any. */
  hooks?: {
    status: 'busy' | 'wait' | 'idle' | 'done' | null;
    status_at_ms: number | null;
    waiting_for: string | null;
    /** The process that sent them runs (true), is gone (false), unknown (null). */
    alive: boolean | null;
  } | null;
}

export interface StatusResult {
  status: SessionStatus;
  waiting_for: string | null;
  status_updated_at: string | null;
  last_ended_at: string | null;
}

export function deriveStatus(
  s: StatusInput,
  now: number,
  settings: StatusSettings = DEFAULT_STATUS_SETTINGS,
): StatusResult {
  const lastActivity = s.last_activity ? Date.parse(s.last_activity) : NaN;
  const quietFor = Number.isFinite(lastActivity) ? now - lastActivity : Infinity;
  const changedAt = s.turn_state_at ?? s.last_activity;

  const h = s.hooks;
  if (h?.status && h.status_at_ms !== null) {
    const since = new Date(h.status_at_ms).toISOString();
    const supersededByTranscript =
      Number.isFinite(lastActivity) && lastActivity > h.status_at_ms + HOOK_SUPERSEDED_AFTER_MS;
    if (h.status === 'done' || h.alive === false) {
      // SessionEnd, or the hooks' process is gone without one (killed, crashed): the session ended,
      // unless its transcript went on afterwards (a revival the hooks did not see).
      if (!supersededByTranscript)
        return { status: 'done', waiting_for: null, status_updated_at: since, last_ended_at: since };
    } else {
      const quietSince = Math.max(h.status_at_ms, Number.isFinite(lastActivity) ? lastActivity : -Infinity);
      // A process not known to run (no pid check possible) that was quiet for the idle window has ended.
      if (h.alive !== true && now - quietSince > settings.idleWindowMs) {
        const doneAt = new Date(quietSince + settings.idleWindowMs).toISOString();
        return {
          status: 'done',
          waiting_for: null,
          status_updated_at: doneAt,
          last_ended_at: new Date(quietSince).toISOString(),
        };
      }
      return {
        status: h.status,
        waiting_for: h.status === 'wait' ? h.waiting_for : null,
        status_updated_at: since,
        last_ended_at: null,
      };
    }
  }

  if (s.live) {
    const since = s.live.updated_at_ms ? new Date(s.live.updated_at_ms).toISOString() : changedAt;
    if (!s.live.alive) {
      return { status: 'done', waiting_for: null, status_updated_at: since, last_ended_at: s.last_activity };
    }
    switch (s.live.status) {
      case 'busy':
        return { status: 'busy', waiting_for: null, status_updated_at: since, last_ended_at: null };
      case 'waiting':
        return { status: 'wait', waiting_for: s.live.waiting_for, status_updated_at: since, last_ended_at: null };
      case 'idle':
        return { status: 'idle', waiting_for: null, status_updated_at: since, last_ended_at: null };
      default:
        break; // an unknown registry status: fall back to the transcript, the process being alive
    }
    const inTurn = s.turn_state === 'waiting_model' || s.turn_state === 'tool_running';
    return { status: inTurn ? 'busy' : 'idle', waiting_for: null, status_updated_at: changedAt, last_ended_at: null };
  }

  const inTurn = s.turn_state === 'waiting_model' || s.turn_state === 'tool_running';
  if (inTurn && quietFor <= settings.busyWindowMs) {
    return { status: 'busy', waiting_for: null, status_updated_at: changedAt, last_ended_at: null };
  }
  if (quietFor <= settings.idleWindowMs) {
    return { status: 'idle', waiting_for: null, status_updated_at: changedAt, last_ended_at: null };
  }
  const doneAt = Number.isFinite(lastActivity) ? new Date(lastActivity + settings.idleWindowMs).toISOString() : null;
  return { status: 'done', waiting_for: null, status_updated_at: doneAt, last_ended_at: s.last_activity };
}
