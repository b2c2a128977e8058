/**
 * The hook spool end to end: every real hook payload Claude Code sent
 * (test/fixtures/claude/<version>/hooks/hooks.jsonl, from shared/fixtures/real/claude-hooks) is piped through the real media/hook-spool.js into a spool,
 * indexed after each event next to the same version's real transcripts, and the session's status
 * checked after every step.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { emptyFacts, foldLive } from '../../src/core/model/liveFacts';
import { deriveStatus } from '../../src/core/model/status';
import type { LiveEvent } from '../../src/core/model/events';
import { Indexer } from '../../src/core/ingest/indexer';
import { ADAPTERS } from '../../src/core/sources/registry';
import { listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { CLAUDE_FIXTURES, REPO_ROOT, fixtureHome, mustGet, silentLogger, tempDir } from './helpers';

const SCRIPT = path.join(REPO_ROOT, 'media', 'hook-spool.js');
/** Real hooks.jsonl per Claude Code version (copied from shared/fixtures/real/claude-hooks). */
const hookFixture = (version: string) => path.join(CLAUDE_FIXTURES, version, 'hooks', 'hooks.jsonl');

/** Runs the hook script the way an agent does: the payload on stdin, spool dir and agent as arguments. */
function runHook(spoolDir: string, payload: string, agent = 'claude'): void {
  execFileSync(process.execPath, [SCRIPT, spoolDir, agent], { input: payload, stdio: ['pipe', 'pipe', 'pipe'] });
}

async function setup(version: '2.1.197' | '2.1.332') {
  const home = await fixtureHome(version);
  const spoolDir = path.join(await tempDir('ah-spool-'), 'spool');
  await fsp.mkdir(spoolDir, { recursive: true });
  const store = await Store.open(path.join(await tempDir('ah-store-'), 'store.sqlite'));
  const indexer = new Indexer(store, ADAPTERS, { home, env: {}, spoolDir }, silentLogger);
  await indexer.scanAll();
  return { home, spoolDir, store, indexer, spoolFile: path.join(spoolDir, 'claude-hooks.jsonl') };
}

/** Replays a fixture's hooks one by one; after each, the status of the payload's session. */
async function replay(version: '2.1.197' | '2.1.332') {
  const ctx = await setup(version);
  const sessionsBefore = listSessions(ctx.store).length;
  const lines = readFileSync(hookFixture(version), 'utf8').split('\n').filter(Boolean);
  const steps: { session: string; event: string; status: string }[] = [];
  for (const line of lines) {
    const payload = JSON.parse(line) as { session_id: string; hook_event_name: string };
    runHook(ctx.spoolDir, line);
    await ctx.indexer.indexPaths([ctx.spoolFile]);
    const s = mustGet(new Map(listSessions(ctx.store, Date.now()).map((v) => [v.session_id, v])), payload.session_id);
    steps.push({ session: payload.session_id, event: payload.hook_event_name, status: s.status });
  }
  return { ...ctx, steps, sessionsBefore, lines };
}

const seq = (steps: { event: string; status: string }[]) => steps.map((s) => `${s.event}:${s.status}`);

describe('hook spool script', () => {
  it('appends one line per event with received_at, the agent pid and its start time, and drops content fields', async () => {
    const spoolDir = path.join(await tempDir('ah-spool-'), 'spool');
    const payload = { session_id: 's-1', hook_event_name: 'UserPromptSubmit', prompt: 'secret prompt text', cwd: '/x' };
    runHook(spoolDir, JSON.stringify(payload));
    runHook(spoolDir, 'not json at all');
    const lines = readFileSync(path.join(spoolDir, 'claude-hooks.jsonl'), 'utf8').split('\n');
    assert.equal(lines.length, 3); // two lines and the final newline
    const rec = JSON.parse(lines[0]!);
    assert.equal(rec.v, 1);
    assert.equal(rec.agent, 'claude');
    assert.ok(Number.isFinite(Date.parse(rec.received_at)));
    // execFileSync runs no shell: the hook's parent is this test process.
    assert.equal(rec.ppid, process.pid);
    if (process.platform === 'linux') {
      const started = rec.ppid_started_at_ms as number;
      assert.ok(Math.abs(started - (Date.now() - process.uptime() * 1000)) < 5000, `start time ${started}`);
    }
    assert.deepEqual(rec.hook, { session_id: 's-1', hook_event_name: 'UserPromptSubmit', cwd: '/x' });
    assert.equal(JSON.parse(lines[1]!).hook.unparsed, 'not json at all');
  });

  it('exits 0 and writes nothing when it cannot write (never fails the agent)', () => {
    // A spool "folder" under a regular file cannot be created.
    const out = execFileSync(process.execPath, [SCRIPT, path.join(SCRIPT, 'nope'), 'claude'], { input: '{}' });
    assert.equal(out.length, 0);
    execFileSync(process.execPath, [SCRIPT], { input: '{}' });
  });
});

describe('hook replay → status (real Claude Code hooks)', () => {
  it('2.1.197: start, three runs (two resumes), a subagent; done after each SessionEnd', async () => {
    const r = await replay('2.1.197');
    const main = r.steps.filter((s) => s.session.startsWith('e47fc0b4'));
    // Worked by hand from hooks.jsonl: SessionStart → idle, UserPromptSubmit/PreToolUse/PostToolUse → busy,
    // Stop → idle, SessionEnd → done; SessionStart source=resume brings it back (idle).
    assert.deepEqual(seq(main), [
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'Stop:idle',
      'SessionEnd:done',
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'PreToolUse:busy',
      'PostToolUse:busy',
      'Stop:idle',
      'SessionEnd:done',
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'PreToolUse:busy',
      'PostToolUse:busy',
      'Stop:idle',
      'SessionEnd:done',
    ]);
    const sub = r.steps.filter((s) => s.session.startsWith('5be170c6'));
    // SubagentStart/SubagentStop do not change the main session's status; the subagent's tool calls keep it busy.
    assert.deepEqual(seq(sub), [
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'PreToolUse:busy',
      'SubagentStart:busy',
      'PreToolUse:busy',
      'PostToolUse:busy',
      'SubagentStop:busy',
      'PostToolUse:busy',
      'Stop:idle',
      'SessionEnd:done',
    ]);
    const sessions = new Map(listSessions(r.store, Date.now()).map((v) => [v.session_id, v]));
    const s = mustGet(sessions, 'e47fc0b4-81c5-4ad6-9e15-78a0f4a0fe8d');
    // Two SessionStart hooks with source=resume; the transcript alone counts 0 (--continue appends).
    assert.equal(s.revival_count, 2);
    assert.equal(s.n_hook_events, 16); // lines 1–16 of hooks.jsonl are this session's
    assert.equal(mustGet(sessions, '5be170c6-ce9c-41d3-8673-83b7bb7393a6').n_hook_events, 10);
    // first_* stay the transcript's; last_started_at is the last resume's arrival.
    assert.equal(s.first_started_at, '2026-11-25T14:11:21.860Z'); // the transcript's line 1
    const replayStarted = Date.now() - 60_000;
    assert.ok(Date.parse(s.last_started_at!) > replayStarted, `last_started_at ${s.last_started_at}`);
    // Hook events never make session rows of their own.
    assert.equal(listSessions(r.store).length, r.sessionsBefore);
  });

  it('2.1.332: the same runs; an async subagent keeps working after the main turn stopped', async () => {
    const r = await replay('2.1.332');
    const main = r.steps.filter((s) => s.session.startsWith('e2dbd8e3'));
    // The third run's PreToolUse(Read) got no PostToolUse (permission refused in -p mode): Stop → idle.
    assert.deepEqual(seq(main), [
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'Stop:idle',
      'SessionEnd:done',
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'PreToolUse:busy',
      'PostToolUse:busy',
      'Stop:idle',
      'SessionEnd:done',
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'PreToolUse:busy',
      'Stop:idle',
      'SessionEnd:done',
    ]);
    const sub = r.steps.filter((s) => s.session.startsWith('3f810603'));
    assert.deepEqual(seq(sub), [
      'SessionStart:idle',
      'UserPromptSubmit:busy',
      'PreToolUse:busy',
      'SubagentStart:busy',
      'PostToolUse:busy',
      'Stop:idle',
      'PreToolUse:busy',
      'PostToolUse:busy',
      'SubagentStop:busy',
      'UserPromptSubmit:busy',
      'Stop:idle',
      'SessionEnd:done',
    ]);
    assert.equal(listSessions(r.store).length, r.sessionsBefore);
  });

  it('a permission Notification waits, the PostToolUse after it is busy again, Stop is idle', async () => {
    const ctx = await setup('2.1.332');
    const id = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';
    const statusNow = () => mustGet(new Map(listSessions(ctx.store, Date.now()).map((v) => [v.session_id, v])), id);
    const send = async (p: object) => {
      runHook(ctx.spoolDir, JSON.stringify({ session_id: id, cwd: '/w', ...p }));
      await ctx.indexer.indexPaths([ctx.spoolFile]);
    };
    await send({ hook_event_name: 'PreToolUse', tool_name: 'Bash' });
    assert.equal(statusNow().status, 'busy');
    await send({
      hook_event_name: 'Notification',
      notification_type: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
    });
    assert.equal(statusNow().status, 'wait');
    assert.equal(statusNow().waiting_for, 'Claude needs your permission to use Bash');
    assert.equal(statusNow().pid, process.pid);
    await send({ hook_event_name: 'PostToolUse', tool_name: 'Bash' });
    assert.equal(statusNow().status, 'busy');
    await send({
      hook_event_name: 'Notification',
      notification_type: 'idle_prompt',
      message: 'Claude is waiting for your input',
    });
    assert.equal(statusNow().status, 'busy'); // an idle reminder is not a status change
    await send({ hook_event_name: 'Stop' });
    assert.equal(statusNow().status, 'idle');
    await send({ hook_event_name: 'PermissionRequest', tool_name: 'Write' });
    assert.equal(statusNow().status, 'wait');
    assert.equal(statusNow().waiting_for, 'permission: Write');
  });

  it('a process that died without SessionEnd, or whose pid was reused, ends the session', async () => {
    const ctx = await setup('2.1.332');
    const id = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';
    const now = Date.now();
    const line = (ppid: number, startedMs: number | null, at: number) =>
      `${JSON.stringify({ v: 1, agent: 'claude', received_at: new Date(at).toISOString(), ppid, ppid_started_at_ms: startedMs, hook: { session_id: id, hook_event_name: 'PreToolUse' } })}\n`;
    const status = () => mustGet(new Map(listSessions(ctx.store, Date.now()).map((v) => [v.session_id, v])), id);
    // This process, started when the OS says: alive, busy.
    const myStart = Date.now() - process.uptime() * 1000;
    await fsp.appendFile(ctx.spoolFile, line(process.pid, myStart, now));
    await ctx.indexer.indexPaths([ctx.spoolFile]);
    assert.equal(status().status, 'busy');
    // Same pid, but a start time a day off: another process got the pid.
    await fsp.appendFile(ctx.spoolFile, line(process.pid, myStart - 86_400_000, now + 1));
    await ctx.indexer.indexPaths([ctx.spoolFile]);
    assert.equal(status().status, 'done');
    assert.equal(status().pid, null);
    // A pid that exists no more (2^22 + 1 is above Linux's pid_max).
    await fsp.appendFile(ctx.spoolFile, line(4_194_305, null, now + 2));
    await ctx.indexer.indexPaths([ctx.spoolFile]);
    assert.equal(status().status, 'done');
  });

  it('revival: a session whose process died is done; a SessionStart resume from a new process brings it back, revival_count + 1', async () => {
    const ctx = await setup('2.1.332');
    const id = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';
    const view = () => mustGet(new Map(listSessions(ctx.store, Date.now()).map((v) => [v.session_id, v])), id);
    const before = view();
    const line = (ppid: number, at: number, hook: object) =>
      `${JSON.stringify({ v: 1, agent: 'claude', received_at: new Date(at).toISOString(), ppid, ppid_started_at_ms: null, hook: { session_id: id, ...hook } })}\n`;
    const now = Date.now();
    // A run whose process (a pid above pid_max) is gone without SessionEnd: done.
    await fsp.appendFile(
      ctx.spoolFile,
      line(4_194_305, now - 2000, { hook_event_name: 'SessionStart', source: 'startup' }),
    );
    await fsp.appendFile(ctx.spoolFile, line(4_194_305, now - 1000, { hook_event_name: 'UserPromptSubmit' }));
    await ctx.indexer.indexPaths([ctx.spoolFile]);
    assert.equal(view().status, 'done');
    assert.equal(view().revival_count, before.revival_count);
    // `claude --resume` in a new, running process (this one).
    await fsp.appendFile(ctx.spoolFile, line(process.pid, now, { hook_event_name: 'SessionStart', source: 'resume' }));
    await ctx.indexer.indexPaths([ctx.spoolFile]);
    const after = view();
    assert.equal(after.status, 'idle');
    assert.equal(after.revival_count, before.revival_count + 1); // 0 + 1: one resume
    assert.equal(after.last_started_at, new Date(now).toISOString());
    assert.equal(after.first_started_at, before.first_started_at); // first_* never change
    assert.equal(after.first_user_message, before.first_user_message);
    assert.equal(after.pid, process.pid);
  });

  it('the spool is an index input like a transcript: a rebuild from scratch gives the same statuses', async () => {
    const r = await replay('2.1.197');
    const before = listSessions(r.store, Date.now()).map((s) => [
      s.session_id,
      s.status,
      s.revival_count,
      s.n_hook_events,
    ]);
    const store2 = await Store.open(null);
    await new Indexer(store2, ADAPTERS, { home: r.home, env: {}, spoolDir: r.spoolDir }, silentLogger).scanAll();
    const after = listSessions(store2, Date.now()).map((s) => [
      s.session_id,
      s.status,
      s.revival_count,
      s.n_hook_events,
    ]);
    assert.deepEqual(after, before);
  });
});

describe('live facts fold', () => {
  const ev = (at: number, status: LiveEvent['status'], extra: Partial<LiveEvent> = {}): LiveEvent => ({
    kind: 'live',
    ts: new Date(at).toISOString(),
    session_id: 's',
    source: 'hook',
    event: 'x',
    at_ms: at,
    status,
    ...extra,
  });

  it('a stale update never overwrites a newer one', () => {
    const f = emptyFacts('s');
    foldLive(f, ev(2000, 'wait', { waiting_for: 'perm' }));
    foldLive(f, ev(1000, 'busy')); // arrived late (another spool file), older
    assert.equal(f.status, 'wait');
    assert.equal(f.waiting_for, 'perm');
    assert.equal(f.hook_events, 2); // still counted
    foldLive(f, ev(2000, 'idle')); // same instant, later in the file: wins
    assert.equal(f.status, 'idle');
  });

  it('a done session whose transcript goes on after SessionEnd is not done (revived without hooks)', () => {
    const end = Date.parse('2026-11-25T10:00:00Z');
    const base = { turn_state: 'waiting_model' as const, turn_state_at: '2026-11-25T10:01:00.000Z', live: null };
    const hooks = { status: 'done' as const, status_at_ms: end, waiting_for: null, alive: null };
    // 10:00:03: within the 5 s exit slack: still done.
    assert.equal(
      deriveStatus({ ...base, last_activity: '2026-11-25T10:00:03.000Z', hooks }, end + 60_000).status,
      'done',
    );
    // 10:01: a resume without hooks wrote to the transcript: the transcript decides (busy, 30 s ago).
    assert.equal(
      deriveStatus({ ...base, last_activity: '2026-11-25T10:01:00.000Z', hooks }, end + 90_000).status,
      'busy',
    );
  });
});
