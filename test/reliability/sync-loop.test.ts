/**
 * Sync's failure handling (docs/sync.md, "Failures"): one actionable line per kind of failure and
 * never the password, the backoff schedule, the password from PGPASSWORD and ~/.pgpass, and the
 * SyncLoop's states against a real PostgreSQL (ok, then an unreachable server: error with a retry
 * time, never a throw), and a backlog pushed in many small batches.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Store } from '../../src/core/store/store';
import { SyncClient } from '../../src/core/sync/client';
import { SchemaTooNewError, connect, syncErrorMessage } from '../../src/core/sync/connection';
import { BACKOFF_CAP_MS, SyncLoop, backoffDelay } from '../../src/core/sync/loop';
import type { SyncState } from '../../src/core/sync/types';
import { makeIndexer, tempDir } from '../unit/helpers';
import { postgresForFile } from './postgres';
import { EXPECTED, machine } from './syncFixtures';

const cluster = postgresForFile();

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('one line a person can act on, for every kind of failure', () => {
  test('per error code', () => {
    const cases: [unknown, RegExp][] = [
      [pgError('ECONNREFUSED'), /refused the connection/],
      [pgError('ENOTFOUND'), /cannot be found/],
      [pgError('ETIMEDOUT'), /cannot be reached/],
      [new Error('Connection terminated due to connection timeout'), /did not answer in time/],
      [new Error('Client has encountered a connection error and is not queryable'), /was cut: will retry/],
      [pgError('28P01', 'password authentication failed for user "ah"'), /rejected the password/],
      [pgError('28000', 'no pg_hba.conf entry'), /refused this user/],
      [pgError('3D000', 'database "x" does not exist'), /does not exist/],
      [pgError('53100', 'could not extend file: No space left on device'), /disk is full/],
      [pgError('42501', 'permission denied for table requests'), /may not write/],
      [new SchemaTooNewError(3, 1), /newer than this Agent Handler/],
      [new Error('The server does not support SSL connections'), /TLS .* failed/],
      [pgError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), /TLS .* failed/],
    ];
    for (const [err, re] of cases) {
      const line = syncErrorMessage(err, 'ah@db.example:5432/agents');
      assert.match(line, re, line);
      assert.ok(!line.includes('\n'), line);
    }
  });

  test('backoff: doubling from 5 s with jitter, never above 5 minutes', () => {
    assert.equal(
      backoffDelay(1, () => 0.5),
      5_000,
    );
    assert.equal(
      backoffDelay(2, () => 0.5),
      10_000,
    );
    assert.equal(
      backoffDelay(4, () => 0.5),
      40_000,
    );
    assert.equal(
      backoffDelay(20, () => 0.5),
      BACKOFF_CAP_MS,
    );
    assert.equal(
      backoffDelay(20, () => 0.999),
      BACKOFF_CAP_MS,
    );
    assert.equal(
      backoffDelay(1, () => 0),
      2_500,
    );
  });
});

describe('the password from where libpq would take it', () => {
  test('PGPASSWORD, then ~/.pgpass (PGPASSFILE)', async () => {
    const pg = cluster();
    const bare = `postgresql://test@127.0.0.1:${pg.port}/postgres`;
    const saved = { pw: process.env.PGPASSWORD, file: process.env.PGPASSFILE };
    try {
      delete process.env.PGPASSWORD;
      const dir = await tempDir('ah-pgpass-');
      process.env.PGPASSFILE = path.join(dir, 'none');
      await assert.rejects(connect({ postgres: bare }), (err) => /password/i.test(syncErrorMessage(err)));
      process.env.PGPASSWORD = pg.password;
      await (await connect({ postgres: bare })).end();
      delete process.env.PGPASSWORD;
      const file = path.join(dir, 'pgpass');
      await fsp.writeFile(file, `127.0.0.1:${pg.port}:postgres:test:${pg.password}\n`, { mode: 0o600 });
      process.env.PGPASSFILE = file;
      await (await connect({ postgres: bare })).end();
      // The stored password (SecretStorage) wins over a wrong one in the string.
      await (
        await connect({ postgres: `postgresql://test:wrong@127.0.0.1:${pg.port}/postgres`, password: pg.password })
      ).end();
    } finally {
      if (saved.pw === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved.pw;
      if (saved.file === undefined) delete process.env.PGPASSFILE;
      else process.env.PGPASSFILE = saved.file;
    }
  });
});

describe('SyncLoop', () => {
  test('ok with nothing pending after a push; an unreachable server is an error state with a retry time, never a throw', async () => {
    const url = await cluster().createDatabase();
    const m = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
    const store = await Store.open(m.store, { machineId: 'loop-a' });
    await makeIndexer(store, m.home).scanAll();
    const states: SyncState[] = [];
    const settings = { enabled: true, postgres: url, include: [], machineId: 'loop-a', machineName: 'loop' };
    let persisted = 0;
    const loop = new SyncLoop({
      settings,
      store,
      onState: (s) => states.push(s),
      afterPush: async () => {
        persisted++;
        await store.persist();
      },
    });
    const ok = await loop.pushNow();
    assert.equal(ok.state, 'ok', ok.message ?? '');
    assert.equal(ok.pending_sessions, 0);
    assert.ok(ok.last_push_at);
    assert.equal(persisted, 1);
    const totals = await loop.read((c) => c.branchTotals('fake-owner/fake-repo', 'feature/fake-model'));
    assert.equal(totals.requests, EXPECTED['2.1.332'].requests);
    await loop.stop();
    assert.equal(loop.state.state, 'off');

    const down = new SyncLoop({
      settings: { ...settings, postgres: `postgresql://test:secret@127.0.0.1:${cluster().port + 1}/x` },
      store,
      onState: (s) => states.push(s),
    });
    store.exec('UPDATE sessions SET message_count = message_count + 1');
    const failed = await down.pushNow();
    assert.equal(failed.state, 'error');
    assert.match(failed.message ?? '', /refused the connection/);
    assert.ok(!(failed.message ?? '').includes('secret'));
    assert.ok(failed.pending_sessions > 0);
    assert.ok(failed.retry_at !== null && failed.retry_at > Date.now());
    await assert.rejects(
      down.read((c) => c.machines()),
      /refused the connection/,
    );
    await down.stop();
    store.close();
  });

  test('a backlog (every session changed while offline) is pushed in many batches, each row once', async () => {
    const url = await cluster().createDatabase();
    const m = await machine(['2.1.332', '2.1.197'], 'git@github.com:fake-owner/fake-repo.git');
    const store = await Store.open(m.store, { machineId: 'backlog' });
    await makeIndexer(store, m.home).scanAll();
    const settings = { enabled: true, postgres: url, include: [], machineId: 'backlog', machineName: 'b' };
    const client = await SyncClient.connect(settings);
    try {
      const batches: number[] = [];
      const r = await client.push(store, { batchSize: 2, onBatch: (_n, pending) => batches.push(pending) });
      assert.ok(r.batches >= 3, `${r.batches} batches`);
      assert.deepEqual(
        batches,
        [...batches].sort((a, b) => b - a),
      );
      assert.equal(r.requests, EXPECTED['2.1.332'].requests + EXPECTED['2.1.197'].requests);
      const t = await client.branchTotals('fake-owner/fake-repo', 'feature/fake-model');
      assert.equal(t.requests, r.requests);
      assert.equal(await client.pushedSessionCount(), store.sessionCount());
    } finally {
      await client.close();
      store.close();
    }
  });
});
