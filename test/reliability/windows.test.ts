/**
 * Fault class: two windows. Two IndexService processes (two extension hosts, as VS Code runs one
 * per window) share one storage folder: exactly one writes, the other serves reads and reloads
 * what the writer saves; killing the writer (SIGKILL: a crashed window) hands the index over within
 * the lease time; no update is lost and no session appears twice.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import type { SessionView } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { assistant, jsonl, tempDir, userPrompt } from '../unit/helpers';
import { FaultSummary, agentHome, countSnapshot, sessionIds } from './helpers';
import { Indexer } from '../../src/core/ingest/indexer';
import { ADAPTERS } from '../../src/core/sources/registry';
import { silentLogger } from '../unit/helpers';

const summary = new FaultSummary('two windows');

class Window {
  readonly proc: ChildProcess;
  role = 'starting';
  private next = 1;
  private readonly pending = new Map<number, (v: { result?: unknown; error?: string }) => void>();
  readonly errors: string[] = [];

  constructor(storeFile: string, home: string) {
    this.proc = fork(path.join(__dirname, 'serviceChild.js'), [storeFile, home], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.proc.on(
      'message',
      (m: {
        type: string;
        id?: number;
        role?: string;
        event?: { type: string; role?: string };
        result?: unknown;
        error?: string;
        message?: string;
      }) => {
        if (m.type === 'started') this.role = m.role!;
        else if (m.type === 'event' && (m.event!.type === 'role' || m.event!.type === 'ready'))
          this.role = m.event!.role!;
        else if (m.type === 'result') this.pending.get(m.id!)?.(m);
        else if (m.type === 'error') this.errors.push(m.message!);
      },
    );
  }

  async sessions(): Promise<SessionView[]> {
    const id = this.next++;
    const reply = await new Promise<{ result?: unknown; error?: string }>((resolve) => {
      this.pending.set(id, resolve);
      this.proc.send({ type: 'query', id, name: 'sessions' });
    });
    if (reply.error) throw new Error(reply.error);
    return reply.result as SessionView[];
  }

  kill9(): Promise<void> {
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGKILL');
    return exited;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.send({ type: 'stop' });
    await exited;
  }
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a fresh index of the home counts: the truth to compare each window with. */
async function truth(home: string) {
  const store = await Store.open(null);
  await new Indexer(store, ADAPTERS, { home, env: {} }, silentLogger).scanAll();
  const t = { counts: countSnapshot(store), ids: sessionIds(store) };
  store.close();
  return t;
}

function countsOf(sessions: SessionView[]): Record<string, number> {
  return Object.fromEntries(sessions.map((s) => [s.session_id, s.tokens_input + s.tokens_output]));
}

async function newSession(home: string, n: number): Promise<string> {
  const id = `66666666-2222-4333-8444-${String(n).padStart(12, '0')}`;
  const project = path.join(home, '.claude', 'projects', '-home-dev-agent-work-repo-claude-2-1-332');
  await fsp.writeFile(
    path.join(project, `${id}.jsonl`),
    jsonl([
      userPrompt({ session: id, ts: '2026-11-25T20:00:00.000Z', text: `window test ${n}` }),
      assistant({
        session: id,
        ts: '2026-11-25T20:00:01.000Z',
        msg: `msg_win_${n}`,
        req: `req_win_${n}`,
        usage: { in: 10 + n, out: 5 },
      }),
    ]),
  );
  return id;
}

describe('two windows on one store', () => {
  const windows: Window[] = [];
  after(async () => {
    for (const w of windows) await w.stop().catch(() => undefined);
  });

  it('exactly one writes, the other reads and reloads; SIGKILL of the writer hands over; nothing lost, nothing twice', async () => {
    const home = await agentHome('claude_code');
    const storeFile = path.join(await tempDir('ah-rel-win-'), 'globalStorage', 'index.sqlite');
    await fsp.mkdir(path.dirname(storeFile), { recursive: true });

    const a = new Window(storeFile, home);
    windows.push(a);
    await waitFor('window A to start', () => a.role !== 'starting');
    const b = new Window(storeFile, home);
    windows.push(b);
    await waitFor('window B to start', () => b.role !== 'starting');
    assert.deepEqual([a.role, b.role].sort(), ['reader', 'writer'], 'exactly one writer');
    const [writer, reader] = a.role === 'writer' ? [a, b] : [b, a];
    summary.cases++;

    // The writer indexes a new session and saves; the reader reloads and serves it.
    const first = await newSession(home, 1);
    await waitFor('the reader to see the writer’s update', async () =>
      (await reader.sessions()).some((s) => s.session_id === first),
    );
    let t = await truth(home);
    assert.deepEqual(countsOf(await reader.sessions()), countsOf(await writer.sessions()));
    assert.deepEqual((await reader.sessions()).map((s) => s.session_id).sort(), t.ids);
    summary.cases++;

    // A new session written just before the writer crashes: it may never have saved it.
    const second = await newSession(home, 2);
    await new Promise((r) => setTimeout(r, 150));
    const killedAt = Date.now();
    await writer.kill9();
    await waitFor('the reader to take over', () => reader.role === 'writer');
    const handoverMs = Date.now() - killedAt;
    // The lease is stale after IndexService.HEARTBEAT_MS * 3 without a heartbeat; a dead pid on this
    // host makes it stale at once, taken at the reader's next heartbeat.
    assert.ok(handoverMs <= 4 * IndexService.HEARTBEAT_MS, `handed over in ${handoverMs} ms`);
    summary.note(
      `handover after SIGKILL of the writer in ${(handoverMs / 1000).toFixed(1)} s (lease ${(3 * IndexService.HEARTBEAT_MS) / 1000} s)`,
    );

    const third = await newSession(home, 3);
    await waitFor('the new writer to index everything', async () => {
      const ids = (await reader.sessions()).map((s) => s.session_id);
      return ids.includes(second) && ids.includes(third);
    });
    t = await truth(home);
    const sessions = await reader.sessions();
    const ids = sessions.map((s) => s.session_id).sort();
    assert.equal(new Set(ids).size, ids.length, 'no session twice');
    assert.deepEqual(ids, t.ids, 'no session lost');
    await reader.stop();
    const store = await Store.open(storeFile);
    assert.equal(store.outcome, 'loaded');
    summary.compare(t.counts, countSnapshot(store));
    assert.deepEqual(countSnapshot(store), t.counts, 'the saved index counts what the transcripts hold, once');
    store.close();

    // A third window started now becomes the writer (the lease was released on stop).
    const c = new Window(storeFile, home);
    windows.push(c);
    await waitFor('window C to start', () => c.role !== 'starting');
    assert.equal(c.role, 'writer');
    assert.deepEqual((await c.sessions()).map((s) => s.session_id).sort(), t.ids);
    summary.cases++;
    assert.deepEqual([...a.errors, ...b.errors, ...c.errors], [], 'no window logged an error');
  });
});
