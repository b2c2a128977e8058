/**
 * Sync through a real PostgreSQL (issue 18, docs/sync.md), in process: two machines' indexes push
 * to one database and every total across them is the sum of each machine's own, a request held by
 * both counts once, a push that is repeated changes nothing, a read-only role reads and cannot
 * write, and no value ever becomes SQL. The crash and kill cases, and the CLI, are in
 * sync-faults.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { branchSummary } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { SyncClient } from '../../src/core/sync/client';
import { pendingCount } from '../../src/core/sync/changes';
import { SyncConfigError, parseConnection, syncErrorMessage } from '../../src/core/sync/connection';
import { repoKey, repoKeyOfRemote } from '../../src/core/sync/repoKey';
import { SYNC_SCHEMA_VERSION } from '../../src/core/sync/schema';
import type { SyncSettings } from '../../src/core/sync/types';
import { makeIndexer } from '../unit/helpers';
import { dbOf, postgresForFile } from './postgres';
import { BRANCH, EXPECTED, type Machine, REPO, machine, tokensOf } from './syncFixtures';

const cluster = postgresForFile();

function settings(url: string, machineId: string, machineName = machineId): SyncSettings {
  return { enabled: true, postgres: url, include: [], machineId, machineName };
}

async function indexed(m: Machine, machineId: string): Promise<Store> {
  const store = await Store.open(m.store, { machineId });
  await makeIndexer(store, m.home).scanAll();
  return store;
}

async function pushFrom(url: string, m: Machine, machineId: string, name = machineId) {
  const store = await indexed(m, machineId);
  const client = await SyncClient.connect(settings(url, machineId, name));
  try {
    const result = await client.push(store);
    await store.persist();
    return { store, result };
  } finally {
    await client.close();
  }
}

async function rowCounts(url: string): Promise<{ sessions: number; requests: number }> {
  const c = await SyncClient.connect(settings(url, 'reader'));
  try {
    const r = await c.pg.query<{ s: string; r: string }>(
      'SELECT (SELECT count(*) FROM sessions) AS s, (SELECT count(*) FROM requests) AS r',
    );
    return { sessions: Number(r.rows[0].s), requests: Number(r.rows[0].r) };
  } finally {
    await c.close();
  }
}

describe('repository names: the same repository on two machines is one name, never a path', () => {
  test('ssh, https, credentials, case and .git do not matter; GitHub is owner/repo', () => {
    assert.equal(repoKeyOfRemote('git@github.com:Fake-Owner/fake-repo.git'), 'fake-owner/fake-repo');
    assert.equal(repoKeyOfRemote('https://token:x-oauth@github.com/fake-owner/fake-repo'), 'fake-owner/fake-repo');
    assert.equal(repoKeyOfRemote('git@gitlab.example.com:team/sub/app.git'), 'gitlab.example.com/team/sub/app');
    assert.equal(
      repoKeyOfRemote('https://user:secret@GitLab.example.com:8443/team/sub/app/'),
      'gitlab.example.com/team/sub/app',
    );
    assert.equal(
      repoKeyOfRemote('ssh://git@gitlab.example.com:2222/team/sub/app.git'),
      'gitlab.example.com/team/sub/app',
    );
    assert.equal(repoKeyOfRemote('/srv/git/app.git'), null);
    assert.equal(repoKeyOfRemote('file:///srv/git/app.git'), null);
    assert.equal(repoKeyOfRemote('C:\\repos\\app'), null);
    assert.equal(repoKey({ github_repo: null, remote: null }), null);
  });

  test('connection strings: URL or libpq keywords; a bad one is a SyncConfigError without the password', () => {
    const u = parseConnection('postgresql://ah:p%40ss@db.example:6543/agents?sslmode=require');
    assert.deepEqual([u.host, u.port, u.database, u.user, u.password], ['db.example', 6543, 'agents', 'ah', 'p@ss']);
    const k = parseConnection("host=db.example port=5433 dbname='my db' user=ah password=s3cret sslmode=disable");
    assert.deepEqual([k.host, k.port, k.database, k.user, k.password], ['db.example', 5433, 'my db', 'ah', 's3cret']);
    assert.throws(() => parseConnection('mysql://x'), SyncConfigError);
    let message = '';
    try {
      parseConnection('postgres://ah:hunter2@[bad');
    } catch (err) {
      message = syncErrorMessage(err);
    }
    assert.ok(message && !message.includes('hunter2'), message);
  });
});

describe('two machines push to one database', () => {
  test('branch totals across machines are the sum of each machine’s, split per machine', async () => {
    const url = await cluster().createDatabase();
    const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
    const b = await machine(['2.1.197'], 'https://github.com/Fake-Owner/fake-repo');
    const pa = await pushFrom(url, a, 'machine-a', 'laptop');
    const pb = await pushFrom(url, b, 'machine-b', 'devbox');
    const localA = branchSummary(pa.store, (await gitDirOf(pa.store))!, BRANCH);
    const localB = branchSummary(pb.store, (await gitDirOf(pb.store))!, BRANCH);
    // The fixtures' own numbers, as the local index counts them.
    assert.equal(localA.requests, EXPECTED['2.1.332'].requests);
    assert.equal(tokensOf(localA), EXPECTED['2.1.332'].tokens);
    assert.ok(Math.abs(localA.cost_usd - EXPECTED['2.1.332'].cost_usd) < 1e-9);
    assert.equal(localB.requests, EXPECTED['2.1.197'].requests, JSON.stringify({ ...localB, by_session: undefined }));
    assert.equal(tokensOf(localB), EXPECTED['2.1.197'].tokens);

    const reader = await SyncClient.connect(settings(url, 'machine-a'));
    try {
      const shared = await reader.branchTotals(REPO, BRANCH);
      assert.equal(shared.requests, EXPECTED['2.1.332'].requests + EXPECTED['2.1.197'].requests);
      assert.equal(tokensOf(shared), EXPECTED['2.1.332'].tokens + EXPECTED['2.1.197'].tokens);
      assert.ok(Math.abs(shared.cost_usd - (EXPECTED['2.1.332'].cost_usd + EXPECTED['2.1.197'].cost_usd)) < 1e-9);
      assert.deepEqual(
        shared.machines.map((m) => [m.machine_id, m.machine_name, m.this_machine, m.requests, tokensOf(m)]),
        [
          ['machine-a', 'laptop', true, localA.requests, tokensOf(localA)],
          ['machine-b', 'devbox', false, localB.requests, tokensOf(localB)],
        ],
      );
      assert.deepEqual(
        (await reader.machines()).map((m) => m.machine_name),
        ['devbox', 'laptop'],
      );
      const others = await reader.otherSessions();
      assert.ok(others.length > 0 && others.every((s) => s.machine_id === 'machine-b' && s.machine_name === 'devbox'));
      // Nothing but numbers and names: no titles or prompts unless asked for, never a path.
      assert.ok(others.every((s) => s.title === null));
      const leaked = await reader.pg.query(
        `SELECT count(*)::int AS n FROM sessions WHERE first_user_message IS NOT NULL OR last_user_message IS NOT NULL
           OR title IS NOT NULL OR repo LIKE '/%' OR repo LIKE '%tmp%'`,
      );
      assert.equal(leaked.rows[0].n, 0);
      const days = await reader.dailyByMachine('2026-01-01T00:00:00Z');
      assert.equal(
        days.reduce((s, d) => s + d.tokens, 0),
        (
          await reader.pg.query<{ t: number }>(
            'SELECT SUM(input + output + cache_read + cache_write)::float8 AS t FROM requests',
          )
        ).rows[0].t,
      );
    } finally {
      await reader.close();
    }
    pa.store.close();
    pb.store.close();
  });

  test('a request both machines hold (the same transcript on each) counts once', async () => {
    const url = await cluster().createDatabase();
    const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
    const b = await machine(['2.1.332'], 'https://github.com/fake-owner/fake-repo.git');
    (await pushFrom(url, a, 'machine-a')).store.close();
    (await pushFrom(url, b, 'machine-b')).store.close();
    assert.equal((await rowCounts(url)).requests, 2 * EXPECTED['2.1.332'].requests);
    const reader = await SyncClient.connect(settings(url, 'machine-b'));
    try {
      const shared = await reader.branchTotals(REPO, BRANCH);
      assert.equal(shared.requests, EXPECTED['2.1.332'].requests);
      assert.equal(tokensOf(shared), EXPECTED['2.1.332'].tokens);
      // The copy that counts is the smallest machine id's.
      assert.deepEqual(
        shared.machines.map((m) => [m.machine_id, m.requests]),
        [['machine-a', EXPECTED['2.1.332'].requests]],
      );
    } finally {
      await reader.close();
    }
  });

  test('a push sends only what changed: a second push sends nothing, a new session only itself', async () => {
    const url = await cluster().createDatabase();
    const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
    const first = await pushFrom(url, a, 'machine-a');
    assert.ok(first.result.sessions >= 3 && first.result.requests === EXPECTED['2.1.332'].requests);
    assert.equal(pendingCount(first.store), 0);
    first.store.close();
    const before = await rowCounts(url);
    const again = await pushFrom(url, a, 'machine-a');
    assert.deepEqual([again.result.batches, again.result.sessions, again.result.requests], [0, 0, 0]);
    again.store.close();
    assert.deepEqual(await rowCounts(url), before);
  });
});

describe('roles and hostile values', () => {
  test('a read-only role reads totals and cannot push: a clear message, nothing written', async () => {
    const pg = cluster();
    const url = await pg.createDatabase();
    const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
    (await pushFrom(url, a, 'machine-a')).store.close();
    const db = dbOf(url);
    pg.sql(
      db,
      `CREATE ROLE viewer LOGIN PASSWORD 'view'; GRANT CONNECT ON DATABASE ${db} TO viewer; GRANT USAGE ON SCHEMA public TO viewer;
       GRANT SELECT ON ALL TABLES IN SCHEMA public TO viewer`,
    );
    const viewerUrl = pg.url(db, { user: 'viewer', password: 'view' });
    const viewer = await SyncClient.connect(settings(viewerUrl, 'machine-v'));
    try {
      const t = await viewer.branchTotals(REPO, BRANCH);
      assert.equal(t.requests, EXPECTED['2.1.332'].requests);
    } finally {
      await viewer.close();
    }
    const before = await rowCounts(url);
    const b = await machine(['2.1.197'], 'git@github.com:fake-owner/fake-repo.git');
    const store = await indexed(b, 'machine-v');
    const writer = await SyncClient.connect(settings(viewerUrl, 'machine-v'));
    let message = '';
    try {
      await writer.push(store);
    } catch (err) {
      message = syncErrorMessage(err);
    } finally {
      await writer.close();
    }
    assert.match(message, /may not write/);
    assert.ok(!message.includes('view@') || !message.includes(':view'), message);
    assert.deepEqual(await rowCounts(url), before);
    // Nothing acknowledged: the sessions are still marked for the next push.
    assert.ok(pendingCount(store) > 0);
    store.close();
  });

  test('a viewer of a database nobody migrated is told so', async () => {
    const url = await cluster().createDatabase();
    const c = await SyncClient.connect(settings(url, 'machine-v'));
    try {
      await assert.rejects(c.branchTotals(REPO, BRANCH), /no Agent Handler tables yet/);
      assert.equal(
        (await c.pg.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t")).rows[0].t,
        null,
      );
    } finally {
      await c.close();
    }
  });

  test('a schema newer than this version: a clear error and nothing written', async () => {
    const pg = cluster();
    const url = await pg.createDatabase();
    const c = await SyncClient.connect(settings(url, 'machine-a'));
    try {
      await c.migrate();
      await c.pg.query('INSERT INTO schema_version(version) VALUES ($1)', [SYNC_SCHEMA_VERSION + 1]);
      const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
      const store = await indexed(a, 'machine-a');
      const fresh = await SyncClient.connect(settings(url, 'machine-a'));
      try {
        await assert.rejects(fresh.push(store), (err) => /newer than this Agent Handler/.test(syncErrorMessage(err)));
        await assert.rejects(fresh.branchTotals(REPO, BRANCH), /newer than this Agent Handler/);
      } finally {
        await fresh.close();
        store.close();
      }
      assert.equal((await rowCounts(url)).sessions, 0);
    } finally {
      await c.close();
    }
  });

  test('two machines migrating at once: both succeed, the schema is made once', async () => {
    const url = await cluster().createDatabase();
    const clients = await Promise.all([1, 2, 3].map((i) => SyncClient.connect(settings(url, `m${i}`))));
    try {
      const applied = await Promise.all(clients.map((c) => c.migrate()));
      assert.equal(applied.flat().length, SYNC_SCHEMA_VERSION);
      const v = await clients[0].pg.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_version');
      assert.equal(v.rows[0].n, SYNC_SCHEMA_VERSION);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  test('SQL injection through a branch, a repository or a session id does nothing', async () => {
    const url = await cluster().createDatabase();
    const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git');
    (await pushFrom(url, a, 'machine-a')).store.close();
    const hostile = "x'); DROP TABLE requests; --";
    const before = await rowCounts(url);
    const c = await SyncClient.connect(settings(url, hostile));
    try {
      const t = await c.branchTotals(hostile, hostile);
      assert.equal(t.requests, 0);
      assert.equal((await c.prTotals(hostile, 1, hostile)).requests, 0);
      assert.equal((await c.branchTotals(REPO, `${BRANCH}' OR '1'='1`)).requests, 0);
      assert.equal((await c.otherSessions(`' OR 1=1; DROP TABLE sessions; --`)).length, before.sessions);
    } finally {
      await c.close();
    }
    // A session id, a branch and a repository name that are SQL, pushed as values.
    const evil = await machine(['2.1.197'], `git@github.com:fake-owner/x');DROP TABLE requests;--.git`);
    const store = await indexed(evil, 'machine-evil');
    store.exec('UPDATE usage SET branch = ? WHERE counted = 1', [hostile]);
    store.exec('UPDATE sessions SET git_branch = ?', [hostile]);
    const victim = store.first<{ id: string }>('SELECT session_id AS id FROM usage WHERE counted = 1 LIMIT 1')!.id;
    for (const table of ['sessions', 'usage', 'files'])
      store.exec(`UPDATE ${table} SET session_id = ? WHERE session_id = ?`, [hostile, victim]);
    const pushed = await SyncClient.connect(settings(url, 'machine-evil'));
    try {
      await pushed.push(store);
      const t = await pushed.branchTotals(
        repoKeyOfRemote(`git@github.com:fake-owner/x');DROP TABLE requests;--.git`)!,
        hostile,
      );
      assert.equal(t.requests, EXPECTED['2.1.197'].requests);
    } finally {
      await pushed.close();
      store.close();
    }
    const after = await rowCounts(url);
    assert.equal(after.requests, before.requests + EXPECTED['2.1.197'].requests);
  });
});

async function gitDirOf(store: Store): Promise<string | null> {
  return store.first<{ g: string }>('SELECT git_dir AS g FROM cwd_info WHERE git_dir IS NOT NULL LIMIT 1')?.g ?? null;
}
