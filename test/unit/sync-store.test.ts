/**
 * What sync keeps in the local store (no PostgreSQL here; the pushes are in
 * test/reliability/sync*.test.ts): the marks of changed sessions (src/core/sync/changes.ts) and the
 * cwd_info.remote column added in place to an index of schema 10.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { all } from '../../src/core/store/sqlite';
import { Store } from '../../src/core/store/store';
import { SCHEMA_VERSION } from '../../src/core/store/versions';
import { acknowledge, claimBatch, pendingCount, stopTracking, trackChanges } from '../../src/core/sync/changes';
import { fixtureHome, makeIndexer, tempDir } from './helpers';

async function indexedStore(): Promise<{ store: Store; file: string }> {
  const file = path.join(await tempDir('ah-sync-store-'), 'store.sqlite');
  const store = await Store.open(file, { machineId: 'm1' });
  await makeIndexer(store, await fixtureHome('2.1.332')).scanAll();
  return { store, file };
}

const marks = (store: Store) =>
  all<{ session_id: string; claimed: number }>(store.db, 'SELECT session_id, claimed FROM sync_dirty ORDER BY 1');

describe('the marks of changed sessions', () => {
  test('turning sync on marks every session; nothing exists while it is off', async () => {
    const { store } = await indexedStore();
    assert.equal(pendingCount(store), 0);
    assert.equal(
      all(store.db, "SELECT name FROM sqlite_schema WHERE name LIKE 'sync_%'").length,
      0,
      'no sync table or trigger before sync is on',
    );
    assert.equal(trackChanges(store, 'db-1|m1'), true);
    assert.equal(pendingCount(store), store.sessionCount());
    assert.equal(trackChanges(store, 'db-1|m1'), false, 'idempotent');
    stopTracking(store);
    assert.equal(pendingCount(store), 0);
    store.close();
  });

  test('a push clears only what it claimed: a session changed while its batch was in flight stays marked', async () => {
    const { store } = await indexedStore();
    trackChanges(store, 'db-1|m1');
    const ids = claimBatch(store, 1000);
    assert.equal(ids.length, store.sessionCount());
    // The agent writes to one session while the push waits for the server.
    const [busy] = ids;
    store.exec('UPDATE sessions SET message_count = message_count + 1 WHERE session_id = ?', [busy]);
    acknowledge(store, ids);
    assert.deepEqual(marks(store), [{ session_id: busy, claimed: 0 }]);
    store.close();
  });

  test('a failed push keeps its claims, and the next push takes them first', async () => {
    const { store } = await indexedStore();
    trackChanges(store, 'db-1|m1');
    const first = claimBatch(store, 1);
    const again = claimBatch(store, 1);
    assert.deepEqual(again, first);
    store.close();
  });

  test('changes mark their session: a request row, a working directory, a machine id; another target marks all', async () => {
    const { store } = await indexedStore();
    trackChanges(store, 'db-1|m1');
    acknowledge(store, claimBatch(store, 1000));
    assert.equal(pendingCount(store), 0);
    const row = store.first<{ session_id: string }>('SELECT session_id FROM usage LIMIT 1')!;
    store.exec('UPDATE usage SET branch = ? WHERE session_id = ?', ['elsewhere', row.session_id]);
    assert.deepEqual(
      marks(store).map((m) => m.session_id),
      [row.session_id],
    );
    acknowledge(store, claimBatch(store, 1000));
    const cwd = store.first<{ cwd: string }>('SELECT cwd FROM sessions WHERE cwd IS NOT NULL LIMIT 1')!.cwd;
    store.exec('INSERT OR REPLACE INTO cwd_info(cwd, remote) VALUES (?, ?)', [cwd, 'git.example/team/app']);
    const inCwd = all<{ session_id: string }>(store.db, 'SELECT session_id FROM sessions WHERE cwd = ? ORDER BY 1', [
      cwd,
    ]).map((r) => r.session_id);
    assert.deepEqual(
      marks(store).map((m) => m.session_id),
      inCwd,
    );
    acknowledge(store, claimBatch(store, 1000));
    assert.equal(trackChanges(store, 'db-2|m1'), true);
    assert.equal(pendingCount(store), store.sessionCount());
    store.close();
  });
});

describe('schema 11: cwd_info.remote', () => {
  test('an index of schema 10 gains the column in place (not rebuilt) and keeps its rows', async () => {
    const { store, file } = await indexedStore();
    const sessions = store.sessionCount();
    // Schema 10 as it was: no remote column.
    store.db.exec('ALTER TABLE cwd_info DROP COLUMN remote');
    store.db.exec('PRAGMA user_version = 10');
    store.markDirty();
    await store.persist();
    store.close();
    const reopened = await Store.open(file, { machineId: 'm1' });
    assert.equal(reopened.outcome, 'loaded');
    assert.equal(reopened.sessionCount(), sessions);
    assert.equal(reopened.first<{ user_version: number }>('PRAGMA user_version')?.user_version, SCHEMA_VERSION);
    assert.ok(all(reopened.db, "SELECT name FROM pragma_table_info('cwd_info') WHERE name = 'remote'").length === 1);
    reopened.close();
  });
});
