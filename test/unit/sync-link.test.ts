/**
 * The worker's side of sync (src/core/ingest/syncLink.ts) over a fake sync module: nothing is
 * loaded while sync is off, only the writer pushes (through the service's queue), reads are cached
 * and announced, errors become one line with backoff, and a server that wants a password is asked
 * for one once rather than retried in a loop.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type SharedDb, SyncLink, type SyncModule } from '../../src/core/ingest/syncLink';
import type { Store } from '../../src/core/store/store';
import type { RemoteSession, SharedTotals, SyncSettings, SyncState } from '../../src/core/sync/types';

const ZERO = {
  tokens_input: 0,
  tokens_output: 0,
  tokens_cache_read: 0,
  tokens_cache_write: 0,
  cost_usd: 0,
  unpriced_requests: 0,
};
const SETTINGS: SyncSettings = {
  enabled: true,
  postgres: 'postgresql://test@127.0.0.1:1/db',
  include: [],
  machineId: '',
  machineName: 'laptop',
};
const CI_TOTALS: SharedTotals = {
  ...ZERO,
  tokens_input: 2000,
  cost_usd: 0.01,
  requests: 2,
  sessions: 1,
  machines: [
    {
      ...ZERO,
      tokens_input: 2000,
      cost_usd: 0.01,
      requests: 2,
      sessions: 1,
      machine_id: 'other',
      machine_name: 'ci-runner',
      last_push_at: null,
      this_machine: false,
    },
  ],
};
const TIMINGS = { pushMs: 60_000, readMs: 60_000, afterPassMs: 10, firstRetryMs: 20, maxRetryMs: 40 };

interface Calls {
  loads: number;
  connects: SyncSettings[];
  pushes: number;
  migrations: number;
  reads: string[];
}

function fakeModule(
  calls: Calls,
  connect: (s: SyncSettings) => Promise<void> = async () => undefined,
  others: RemoteSession[] = [],
): () => Promise<SyncModule> {
  const db: SharedDb = {
    migrate: async () => void calls.migrations++,
    push: async () => {
      calls.pushes++;
      return { pending: 0 };
    },
    branchTotals: async (repo, branch, me) => {
      calls.reads.push(`branch ${repo} ${branch} ${me}`);
      return CI_TOTALS;
    },
    prTotals: async (repo, n) => {
      calls.reads.push(`pr ${repo} ${n}`);
      return CI_TOTALS;
    },
    otherSessions: async () => {
      calls.reads.push('others');
      return others;
    },
    dailyByMachine: async (since) => {
      calls.reads.push(`daily ${since}`);
      return [];
    },
    close: async () => undefined,
  };
  return async () => {
    calls.loads++;
    return {
      connect: async (s) => {
        calls.connects.push(s);
        await connect(s);
        return db;
      },
      errorMessage: (err) => `explained: ${(err as Error).message}`,
      repoKey: async (gitDir) => (gitDir === '/no-remote/.git' ? null : 'acme/widgets'),
    };
  };
}

function harness(role: 'writer' | 'reader', load: () => Promise<SyncModule>) {
  const events: { states: [SyncState, boolean][]; changed: string[]; queued: number; logs: string[] } = {
    states: [],
    changed: [],
    queued: 0,
    logs: [],
  };
  const link = new SyncLink(
    {
      store: () => ({}) as Store,
      isWriter: () => role === 'writer',
      exclusive: (work) => {
        events.queued++;
        return work();
      },
      pushed: () => undefined,
      changed: (r) => events.changed.push(r),
      stateChanged: (s, p) => events.states.push([s, p]),
      log: {
        info: () => undefined,
        warn: (m) => events.logs.push(`warn ${m}`),
        error: (m) => events.logs.push(`error ${m}`),
      },
    },
    load,
    { machine_id: 'me', machine_name: 'laptop' },
    TIMINGS,
  );
  return { link, events };
}

const LOCAL = { ...ZERO, tokens_input: 1000, cost_usd: 0.005, requests: 1, sessions: 1 };

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
}

describe('SyncLink', () => {
  test('off: the sync module is never loaded and every answer is the local one', async () => {
    const calls: Calls = { loads: 0, connects: [], pushes: 0, migrations: 0, reads: [] };
    const { link } = harness('writer', fakeModule(calls));
    await link.configure({ ...SETTINGS, enabled: false });
    assert.equal(await link.across('branch', '/r/.git', { branch: 'a' }, LOCAL), undefined);
    assert.deepEqual(link.otherSessions(), []);
    assert.equal(link.state().state, 'off');
    await link.stop();
    assert.equal(calls.loads, 0);
  });

  test('the writer migrates and pushes through the queue, reads the others, and adds them to a branch once read', async () => {
    const calls: Calls = { loads: 0, connects: [], pushes: 0, migrations: 0, reads: [] };
    const { link, events } = harness('writer', fakeModule(calls));
    await link.configure(SETTINGS);
    await until(() => link.state().state === 'ok' && calls.reads.includes('others'));
    assert.equal(calls.connects[0].machineId, 'me', "the worker's machine id fills the settings'");
    assert.equal(calls.migrations, 1);
    assert.equal(calls.pushes, 1);
    assert.equal(events.queued, 1);
    // The first ask starts the read and answers locally; the read announces itself; the next ask has it.
    assert.equal(await link.across('branch', '/r/.git', { branch: 'feature/a' }, LOCAL), undefined);
    await until(() => events.changed.includes('other machines read'));
    assert.deepEqual(
      calls.reads.filter((r) => r.startsWith('branch')),
      ['branch acme/widgets feature/a me'],
    );
    const t = await link.across('branch', '/r/.git', { branch: 'feature/a' }, LOCAL);
    assert.equal(t?.tokens_input, 3000);
    assert.deepEqual(
      t?.machines.map((m) => m.machine_name),
      ['ci-runner', 'laptop'],
    );
    // A repository with no remote has no shared name: nothing is read for it.
    assert.equal(await link.across('branch', '/no-remote/.git', { branch: 'x' }, LOCAL), undefined);
    // Sync Now reads every branch asked about again.
    await link.syncNow();
    assert.equal(calls.reads.filter((r) => r.startsWith('branch')).length, 2);
    assert.equal(calls.pushes, 2);
    await link.stop();
  });

  test('a reader (another window writes the index) reads but never migrates or pushes', async () => {
    const calls: Calls = { loads: 0, connects: [], pushes: 0, migrations: 0, reads: [] };
    const { link } = harness('reader', fakeModule(calls));
    await link.configure(SETTINGS);
    await until(() => calls.reads.includes('others'));
    assert.equal(calls.pushes, 0);
    assert.equal(calls.migrations, 0);
    await link.stop();
  });

  test('an unreachable server is one line with a retry time, logged once, and retried with backoff until it answers', async () => {
    const calls: Calls = { loads: 0, connects: [], pushes: 0, migrations: 0, reads: [] };
    let down = 3;
    const refuse = async () => {
      if (down-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    const { link, events } = harness('writer', fakeModule(calls, refuse));
    await link.configure(SETTINGS);
    await until(() => link.state().state === 'error');
    const failed = link.state();
    assert.equal(failed.message, 'explained: connect ECONNREFUSED');
    assert.ok(failed.retry_at !== null && failed.retry_at > Date.now() - 1000);
    await until(() => link.state().state === 'ok');
    assert.equal(calls.connects.length, 4);
    assert.equal(events.logs.filter((l) => l.startsWith('error')).length, 1);
    assert.ok(events.states.every(([, p]) => !p));
    await link.stop();
  });

  test('a server that wants a password is asked for one once, not retried; the password given, it connects', async () => {
    const calls: Calls = { loads: 0, connects: [], pushes: 0, migrations: 0, reads: [] };
    const wantsPassword = async (s: SyncSettings) => {
      if (!s.password) throw new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string');
    };
    const { link, events } = harness('writer', fakeModule(calls, wantsPassword));
    await link.configure(SETTINGS);
    await until(() => events.states.some(([, p]) => p));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(calls.connects.length, 1, 'no retry loop while no password is given');
    await link.configure({ ...SETTINGS, password: 'secret' });
    await until(() => link.state().state === 'ok');
    assert.equal(calls.connects.at(-1)?.password, 'secret');
    await link.stop();
  });

  test('a password in the connection URL is warned about once, without printing it', async () => {
    const calls: Calls = { loads: 0, connects: [], pushes: 0, migrations: 0, reads: [] };
    const { link, events } = harness('reader', fakeModule(calls));
    await link.configure({ ...SETTINGS, postgres: 'postgresql://test:hunter2@127.0.0.1:1/db' });
    const warnings = events.logs.filter((l) => l.startsWith('warn'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /holds a password/);
    assert.doesNotMatch(warnings[0], /hunter2/);
    await link.stop();
  });
});
