import type { LiveEvent } from './events';

/**
 * What the live sources (our hook spool, telemetry) know about one session, folded from their
 * events in a pure function like the reducer. One row per (session, spool file) in the store's
 * `session_live` table; queries merge them into the session's status (status.ts).
 */
export interface LiveFacts {
  session_id: string;
  status: 'busy' | 'wait' | 'idle' | 'done' | null;
  /** When the kept status was received (ms): an older event never replaces it. */
  status_at_ms: number | null;
  waiting_for: string | null;
  pid: number | null;
  process_started_at_ms: number | null;
  hook_events: number;
  otel_events: number;
  /** SessionStart events with source `resume`: the session came back after its process ended. */
  resumes: number;
  last_started_at_ms: number | null;
  last_event_at_ms: number | null;
  /** The first SessionEnd (status done) received: the session's first end, kept through revivals. */
  first_ended_at_ms?: number | null;
}

export function emptyFacts(sessionId: string): LiveFacts {
  return {
    session_id: sessionId,
    status: null,
    status_at_ms: null,
    waiting_for: null,
    pid: null,
    process_started_at_ms: null,
    hook_events: 0,
    otel_events: 0,
    resumes: 0,
    last_started_at_ms: null,
    last_event_at_ms: null,
    first_ended_at_ms: null,
  };
}

/** Folds one event into the facts (mutated and returned). Counts add up; status keeps the newest. */
export function foldLive(f: LiveFacts, e: LiveEvent): LiveFacts {
  if (e.source === 'hook') f.hook_events += 1;
  else f.otel_events += 1;
  const newer = f.last_event_at_ms === null || e.at_ms >= f.last_event_at_ms;
  if (newer) f.last_event_at_ms = e.at_ms;
  if (e.status && (f.status_at_ms === null || e.at_ms >= f.status_at_ms)) {
    f.status = e.status;
    f.status_at_ms = e.at_ms;
    f.waiting_for = e.status === 'wait' ? (e.waiting_for ?? null) : null;
  }
  if (e.status === 'done' && (f.first_ended_at_ms == null || e.at_ms < f.first_ended_at_ms))
    f.first_ended_at_ms = e.at_ms;
  // The process of the newest event is the session's (a resume runs in a new process).
  if (e.pid && newer) {
    f.pid = e.pid;
    f.process_started_at_ms = e.process_started_at_ms ?? null;
  }
  if (e.start_source !== undefined) {
    if (e.start_source === 'resume') f.resumes += 1;
    if (f.last_started_at_ms === null || e.at_ms > f.last_started_at_ms) f.last_started_at_ms = e.at_ms;
  }
  return f;
}

/** One session's live facts from every spool file, with what the OS says about its process. */
export interface MergedLive {
  status: LiveFacts['status'];
  status_at_ms: number | null;
  waiting_for: string | null;
  pid: number | null;
  process_started_at_ms: number | null;
  /** The recorded process runs (true), is gone (false), or was not checked yet / has no pid (null). */
  alive: boolean | null;
  hook_events: number;
  otel_events: number;
  resumes: number;
  last_started_at_ms: number | null;
  first_ended_at_ms: number | null;
}

/** Merges a session's facts from several spool files: the newest status and process, counts summed. */
export function mergeFacts(rows: { facts: LiveFacts; alive: number | null }[]): MergedLive | null {
  if (rows.length === 0) return null;
  const m: MergedLive = {
    status: null,
    status_at_ms: null,
    waiting_for: null,
    pid: null,
    process_started_at_ms: null,
    alive: null,
    hook_events: 0,
    otel_events: 0,
    resumes: 0,
    last_started_at_ms: null,
    first_ended_at_ms: null,
  };
  let pidAt = -Infinity;
  for (const { facts: f, alive } of rows) {
    m.hook_events += f.hook_events;
    m.otel_events += f.otel_events;
    m.resumes += f.resumes;
    const ended = f.first_ended_at_ms ?? null;
    if (ended !== null && (m.first_ended_at_ms === null || ended < m.first_ended_at_ms)) m.first_ended_at_ms = ended;
    if (f.last_started_at_ms !== null && (m.last_started_at_ms === null || f.last_started_at_ms > m.last_started_at_ms))
      m.last_started_at_ms = f.last_started_at_ms;
    if (f.status && f.status_at_ms !== null && (m.status_at_ms === null || f.status_at_ms >= m.status_at_ms)) {
      m.status = f.status;
      m.status_at_ms = f.status_at_ms;
      m.waiting_for = f.waiting_for;
    }
    if (f.pid && (f.last_event_at_ms ?? 0) >= pidAt) {
      pidAt = f.last_event_at_ms ?? 0;
      m.pid = f.pid;
      m.process_started_at_ms = f.process_started_at_ms;
      m.alive = alive === null ? null : alive === 1;
    }
  }
  return m;
}
