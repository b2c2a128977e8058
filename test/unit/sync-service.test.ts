/**
 * The worker's service with sync (a fake sync module, no PostgreSQL): off, the branch answer is
 * exactly what it was and nothing is loaded; on, it gains `shared` (every machine's totals, this
 * machine's part from the local index) once the shared rows were read, and the views are told.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import type { SharedDb, SyncModule } from '../../src/core/ingest/syncLink';
import type { FromWorker, WorkerInit } from '../../src/core/ingest/protocol';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import type { SharedTotals, SyncSettings } from '../../src/core/sync/types';
import { assistant, makeRepo, silentLogger, tempDir, userPrompt, writeTranscript } from './helpers';

const S = '5f000000-0000-4000-8000-00000000000a';
const ZERO = {
  tokens_input: 0,
  tokens_output: 0,
  tokens_cache_read: 0,
  tokens_cache_write: 0,
  cost_usd: 0,
  unpriced_requests: 0,
};
const OTHER: SharedTotals = {
  ...ZERO,
  tokens_input: 2000,
  tokens_output: 200,
  cost_usd: 0.012,
  requests: 1,
  sessions: 1,
  machines: [
    {
      ...ZERO,
      tokens_input: 2000,
      tokens_output: 200,
      cost_usd: 0.012,
      requests: 1,
      sessions: 1,
      machine_id: 'other',
      machine_name: 'ci-runner',
      last_push_at: null,
      this_machine: false,
    },
  ],
};
const SYNC: SyncSettings = {
  enabled: true,
  postgres: 'postgresql://test@127.0.0.1:1/db',
  include: [],
  machineId: '',
  machineName: 'laptop',
};

async function setup(sync?: SyncSettings) {
  const repo = await makeRepo('feature/a', 'https://github.com/acme/widgets.git');
  const home = path.join(await tempDir('ah-sync-svc-'), 'home');
  await writeTranscript(
    home,
    `${S}.jsonl`,
    [
      userPrompt({ session: S, cwd: repo, branch: 'feature/a', ts: '2026-11-24T10:00:00.000Z', text: 'build a' }),
      assistant({
        session: S,
        cwd: repo,
        branch: 'feature/a',
        ts: '2026-11-24T10:01:00.000Z',
        msg: 'm1',
        req: 'r1',
        usage: { in: 1000, out: 100 },
      }),
    ],
    repo,
  );
  const loads: string[] = [];
  const db: SharedDb = {
    migrate: async () => undefined,
    push: async () => ({ pending: 0 }),
    branchTotals: async (r, b) => {
      loads.push(`branch ${r} ${b}`);
      return OTHER;
    },
    prTotals: async () => OTHER,
    otherSessions: async () => [],
    dailyByMachine: async () => [],
    close: async () => undefined,
  };
  const module: SyncModule = {
    connect: async () => db,
    errorMessage: (e) => String(e),
    repoKey: async () => 'acme/widgets',
  };
  const events: FromWorker[] = [];
  const init: WorkerInit = {
    storeFile: path.join(await tempDir('ah-sync-store-'), 'index.sqlite'),
    env: {},
    home,
    agents: { extraRoots: {}, disabled: [] },
    pricing: { overrides: {}, refresh: false },
    status: DEFAULT_STATUS_SETTINGS,
    rescanIntervalMs: 3_600_000,
    machineId: 'laptop-id',
    pullRequests: { gh: false },
    ...(sync ? { sync } : {}),
  };
  let indexed: () => void = () => undefined;
  const done = new Promise<void>((r) => (indexed = r));
  const svc = new IndexService(
    init,
    (m) => {
      events.push(m);
      if (m.type === 'indexed') indexed();
    },
    silentLogger,
    async () => {
      loads.push('module');
      return module;
    },
  );
  await svc.start();
  await done;
  return { svc, events, loads, gitDir: path.join(repo, '.git') };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
}

describe('IndexService with sync', () => {
  test('off: the branch answer has no sync fields, no sync event is sent and the sync module is never loaded', async () => {
    const { svc, events, loads, gitDir } = await setup();
    const b = await svc.query('branch', { gitDir, branch: 'feature/a' });
    assert.equal(b.tokens_input + b.tokens_output, 1100);
    assert.equal('shared' in b, false);
    assert.deepEqual(await svc.query('otherSessions', {}), []);
    const diag = await svc.query('diagnostics', {});
    assert.equal('sync' in diag, false);
    await svc.stop();
    assert.deepEqual(loads, []);
    assert.ok(!events.some((e) => e.type === 'sync'));
  });

  test("on: the branch answer gains both machines' totals once read, this machine's part from the local index", async () => {
    const { svc, events, loads, gitDir } = await setup(SYNC);
    await until(() => events.some((e) => e.type === 'sync' && e.state.state === 'ok'));
    const first = await svc.query('branch', { gitDir, branch: 'feature/a' });
    if (!first.shared)
      await until(() => events.some((e) => e.type === 'changed' && e.reason === 'other machines read'));
    const b = await svc.query('branch', { gitDir, branch: 'feature/a' });
    assert.ok(b.shared);
    assert.equal(b.shared.tokens_input + b.shared.tokens_output, 3300);
    assert.equal(b.shared.requests, 2);
    assert.deepEqual(
      b.shared.machines.map((m) => [m.machine_id, m.machine_name, m.this_machine, m.requests]),
      [
        ['other', 'ci-runner', false, 1],
        ['laptop-id', 'laptop', true, 1],
      ],
    );
    // The local summary itself is untouched.
    assert.equal(b.tokens_input + b.tokens_output, 1100);
    assert.ok(loads.includes('branch acme/widgets feature/a'));
    assert.match((await svc.query('diagnostics', {})).sync?.state ?? '', /^ok$/);
    // Turned off by the settings: back to local answers.
    await svc.query('settings', {
      status: DEFAULT_STATUS_SETTINGS,
      agents: { extraRoots: {}, disabled: [] },
      pricing: { overrides: {}, refresh: false },
      sync: { ...SYNC, enabled: false },
    });
    assert.equal('shared' in (await svc.query('branch', { gitDir, branch: 'feature/a' })), false);
    await svc.stop();
  });
});
