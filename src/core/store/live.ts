import type { LiveEvent } from '../model/events';
import { type LiveFacts, emptyFacts, foldLive } from '../model/liveFacts';
import type { LiveProcess } from '../sources/types';
import type { StoreDb } from './db';
import { all, one, run } from './sqlite';

/**
 * What is known of sessions while they run, beside their transcripts: the agents' own process
 * registries (`live`, replaced on every read of them) and the facts our hook spool and telemetry
 * gave per (session, spool file) (`session_live`, folded by model/liveFacts.ts). Queries merge
 * them into a session's status when it is read (model/status.ts).
 */

export function replaceLive(store: StoreDb, root: string, entries: LiveProcess[]): void {
  // Every rescan reads the registries; the same processes in the same states write nothing, so a
  // start or rescan that found nothing new leaves the store clean (no persist of the whole file).
  const values = (e: LiveProcess) => [
    e.pid,
    e.session_id,
    e.status,
    e.waiting_for,
    e.started_at_ms,
    e.updated_at_ms,
    e.alive ? 1 : 0,
  ];
  const stored = all<{
    pid: number;
    session_id: string | null;
    status: string | null;
    waiting_for: string | null;
    started_at_ms: number | null;
    updated_at_ms: number | null;
    alive: number;
  }>(
    store.db,
    'SELECT pid, session_id, status, waiting_for, started_at_ms, updated_at_ms, alive FROM live WHERE root = ? ORDER BY pid',
    [root],
  );
  const wanted = [...entries].sort((a, b) => a.pid - b.pid).map((e) => JSON.stringify(values(e)));
  const have = stored.map((r) =>
    JSON.stringify([r.pid, r.session_id, r.status, r.waiting_for, r.started_at_ms, r.updated_at_ms, r.alive]),
  );
  if (wanted.length === have.length && wanted.every((w, i) => w === have[i])) return;
  store.exec('DELETE FROM live WHERE root = ?', [root]);
  for (const e of entries) {
    store.exec(
      `INSERT OR REPLACE INTO live(pid, session_id, root, status, waiting_for, started_at_ms, updated_at_ms, alive, checked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        e.pid,
        e.session_id,
        root,
        e.status,
        e.waiting_for,
        e.started_at_ms,
        e.updated_at_ms,
        e.alive ? 1 : 0,
        new Date().toISOString(),
      ],
    );
  }
  store.markDirty();
}

/**
 * Folds a spool file's new live events into the facts kept per (session, file). The sessions
 * themselves are left alone: their transcripts own them. Returns the sessions touched.
 */
export function applyLiveEvents(store: StoreDb, fileId: number, events: LiveEvent[]): Set<string> {
  const touched = new Set<string>();
  const facts = new Map<string, LiveFacts>();
  for (const e of events) {
    let f = facts.get(e.session_id);
    if (!f) {
      const row = one<{ facts_json: string }>(
        store.db,
        'SELECT facts_json FROM session_live WHERE session_id = ? AND file_id = ?',
        [e.session_id, fileId],
      );
      f = row ? (JSON.parse(row.facts_json) as LiveFacts) : emptyFacts(e.session_id);
      facts.set(e.session_id, f);
    }
    foldLive(f, e);
  }
  for (const f of facts.values()) {
    run(
      store.db,
      `INSERT INTO session_live(session_id, file_id, facts_json, status, status_at_ms, pid, process_started_at_ms, alive)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
       ON CONFLICT(session_id, file_id) DO UPDATE SET facts_json = excluded.facts_json, status = excluded.status,
        status_at_ms = excluded.status_at_ms, pid = excluded.pid, process_started_at_ms = excluded.process_started_at_ms,
        alive = CASE WHEN session_live.pid IS excluded.pid THEN session_live.alive ELSE NULL END`,
      [f.session_id, fileId, JSON.stringify(f), f.status, f.status_at_ms, f.pid, f.process_started_at_ms],
    );
    touched.add(f.session_id);
  }
  if (facts.size) store.markDirty();
  return touched;
}

/** Live facts whose process may still run (not ended): their pids are checked against the OS. */
export function liveFactsToCheck(
  store: StoreDb,
): { session_id: string; file_id: number; pid: number; process_started_at_ms: number | null; alive: number | null }[] {
  return all(
    store.db,
    "SELECT session_id, file_id, pid, process_started_at_ms, alive FROM session_live WHERE pid IS NOT NULL AND (status IS NULL OR status != 'done')",
  );
}

export function setLiveAlive(store: StoreDb, sessionId: string, fileId: number, alive: boolean): void {
  store.exec('UPDATE session_live SET alive = ? WHERE session_id = ? AND file_id = ?', [
    alive ? 1 : 0,
    sessionId,
    fileId,
  ]);
  store.markDirty();
}

/** Forgets the facts a spool file gave (it is read again from its start). */
export function forgetFileLiveFacts(store: StoreDb, fileId: number): void {
  store.exec('DELETE FROM session_live WHERE file_id = ?', [fileId]);
}
