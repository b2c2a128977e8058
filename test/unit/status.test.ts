/**
 * Status inference (deriveStatus) with an explicit `now`: the agent's live registry when there is
 * one, else the transcript's turn state and how long ago the file was written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { processRuns } from '../../src/core/live/process';
import { DEFAULT_STATUS_SETTINGS, type StatusInput, deriveStatus } from '../../src/core/model/status';
import { assistant, indexHome, mustGet, sessionsById, tempDir, userPrompt, writeTranscript } from './helpers';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

function input(over: Partial<StatusInput>): StatusInput {
  return { turn_state: null, turn_state_at: null, last_activity: null, live: null, ...over };
}

const live = (status: string | null, alive = true, waiting_for: string | null = null) => ({
  alive,
  status,
  waiting_for,
  updated_at_ms: NOW - 5_000,
  started_at_ms: NOW - 3_600_000,
});

describe('deriveStatus without a live registry (transcript only)', () => {
  test('defaults: busy window 5 min, idle window 30 min', () => {
    assert.deepEqual(DEFAULT_STATUS_SETTINGS, { busyWindowMs: 5 * MIN, idleWindowMs: 30 * MIN });
  });

  test('a turn in progress written 1 min ago is busy (waiting for the model or running a tool)', () => {
    for (const turn_state of ['waiting_model', 'tool_running'] as const) {
      const r = deriveStatus(input({ turn_state, turn_state_at: ago(MIN), last_activity: ago(MIN) }), NOW);
      assert.deepEqual(r, { status: 'busy', waiting_for: null, status_updated_at: ago(MIN), last_ended_at: null });
    }
  });

  test('exactly at the busy window it is still busy; 1 ms later it is idle', () => {
    const at = input({ turn_state: 'tool_running', last_activity: ago(5 * MIN) });
    assert.equal(deriveStatus(at, NOW).status, 'busy');
    assert.equal(deriveStatus({ ...at, last_activity: ago(5 * MIN + 1) }, NOW).status, 'idle');
  });

  test('an ended turn is idle within 30 min of the last write', () => {
    const r = deriveStatus(
      input({ turn_state: 'ended', turn_state_at: ago(10 * MIN), last_activity: ago(10 * MIN) }),
      NOW,
    );
    assert.deepEqual(r, { status: 'idle', waiting_for: null, status_updated_at: ago(10 * MIN), last_ended_at: null });
    assert.equal(deriveStatus(input({ turn_state: 'ended', last_activity: ago(30 * MIN) }), NOW).status, 'idle');
  });

  test('quiet for longer than the idle window: done, changed when the window ran out, ended at the last write', () => {
    const last = ago(31 * MIN);
    const r = deriveStatus(input({ turn_state: 'waiting_model', last_activity: last }), NOW);
    assert.deepEqual(r, { status: 'done', waiting_for: null, status_updated_at: ago(MIN), last_ended_at: last });
  });

  test('no activity known: done with no dates', () => {
    assert.deepEqual(deriveStatus(input({}), NOW), {
      status: 'done',
      waiting_for: null,
      status_updated_at: null,
      last_ended_at: null,
    });
  });

  test('custom windows are honoured', () => {
    const s = { busyWindowMs: 10_000, idleWindowMs: 20_000 };
    assert.equal(
      deriveStatus(input({ turn_state: 'waiting_model', last_activity: ago(15_000) }), NOW, s).status,
      'idle',
    );
    assert.equal(deriveStatus(input({ turn_state: 'ended', last_activity: ago(25_000) }), NOW, s).status, 'done');
  });
});

describe("deriveStatus with the agent's live registry (pid checked against its start time)", () => {
  const since = new Date(NOW - 5_000).toISOString();

  test('registry busy / waiting / idle are taken as they are, whatever the transcript says', () => {
    const old = ago(3 * 3_600_000); // transcript quiet for 3 h: it would say done
    assert.deepEqual(deriveStatus(input({ last_activity: old, live: live('busy') }), NOW), {
      status: 'busy',
      waiting_for: null,
      status_updated_at: since,
      last_ended_at: null,
    });
    assert.deepEqual(
      deriveStatus(input({ last_activity: old, live: live('waiting', true, 'permission prompt') }), NOW),
      {
        status: 'wait',
        waiting_for: 'permission prompt',
        status_updated_at: since,
        last_ended_at: null,
      },
    );
    assert.deepEqual(deriveStatus(input({ last_activity: old, turn_state: 'tool_running', live: live('idle') }), NOW), {
      status: 'idle',
      waiting_for: null,
      status_updated_at: since,
      last_ended_at: null,
    });
  });

  test('a dead process (or a reused pid) is done, even when the transcript was just written mid-turn', () => {
    const r = deriveStatus(
      input({ turn_state: 'waiting_model', last_activity: ago(1_000), live: live('busy', false) }),
      NOW,
    );
    assert.deepEqual(r, { status: 'done', waiting_for: null, status_updated_at: since, last_ended_at: ago(1_000) });
  });

  test('an alive process with an unknown registry status falls back to the turn state, never to done', () => {
    const old = ago(3 * 3_600_000);
    assert.equal(
      deriveStatus(input({ turn_state: 'tool_running', last_activity: old, live: live('compacting') }), NOW).status,
      'busy',
    );
    assert.equal(
      deriveStatus(input({ turn_state: 'ended', last_activity: old, live: live(null) }), NOW).status,
      'idle',
    );
  });
});

describe('the live registry end to end (Claude sessions/<pid>.json, pid checked with its start time)', () => {
  const S = 'eeeeeeee-0000-4000-8000-00000000000e';

  test('processRuns: this process with its start time yes; a wrong start time (reused pid) or a dead pid no', async () => {
    const started = Date.now() - process.uptime() * 1000;
    assert.equal(await processRuns(process.pid, started), true);
    assert.equal(await processRuns(process.pid, started - 2 * 3_600_000), false);
    assert.equal(await processRuns(deadPid(), null), false);
    assert.equal(await processRuns(-1, null), false);
  });

  test('a waiting registry entry of a live process makes the session wait; a dead one makes it done', async () => {
    const home = path.join(await tempDir('ah-live-'), 'home');
    await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: '2026-11-24T10:00:00.000Z', text: 'live' }),
      assistant({ session: S, ts: '2026-11-24T10:00:01.000Z', msg: 'm', req: 'r', usage: { in: 1 }, stop: 'tool_use' }),
    ]);
    const sessionsDir = path.join(home, '.claude', 'sessions');
    await fsp.mkdir(sessionsDir, { recursive: true });
    const entry = (pid: number, startedAt: number) => ({
      pid,
      sessionId: S,
      cwd: '/x',
      startedAt,
      kind: 'interactive',
      status: 'waiting',
      waitingFor: 'permission prompt',
      updatedAt: startedAt + 1000,
    });
    const started = Math.round(Date.now() - process.uptime() * 1000);
    await fsp.writeFile(path.join(sessionsDir, `${process.pid}.json`), JSON.stringify(entry(process.pid, started)));
    const ix = await indexHome(home);
    // `now` is a week after the transcript: without the registry it would be done.
    let s = mustGet(ix.sessions, S);
    assert.equal(s.status, 'wait');
    assert.equal(s.waiting_for, 'permission prompt');
    assert.equal(s.pid, process.pid);

    // The process is gone (its pid now belongs to nobody): done, no pid.
    await fsp.rm(path.join(sessionsDir, `${process.pid}.json`));
    const gone = deadPid();
    await fsp.writeFile(path.join(sessionsDir, `${gone}.json`), JSON.stringify(entry(gone, started)));
    await ix.indexer.scanAll();
    s = mustGet(sessionsById(ix.store), S);
    assert.equal(s.status, 'done');
    assert.equal(s.pid, null);
  });
});

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}
