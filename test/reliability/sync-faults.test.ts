/**
 * Sync through the built CLI (`node dist/cli.js sync`, made by `npm run build`) and a real
 * PostgreSQL: two machines (different machine ids and HOMEs) push, and `branch --json` / `pr
 * --json` / `pr --markdown` answer with both; a push killed with SIGKILL, or whose server crashes
 * (`pg_ctl -m immediate stop`), then run again, leaves every row exactly once; a bad connection
 * string exits 2 and an unreachable server exits 1, each with one line on stderr.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { all } from '../../src/core/store/sqlite';
import { Store } from '../../src/core/store/store';
import { SyncClient } from '../../src/core/sync/client';
import { REPO_ROOT, tempDir } from '../unit/helpers';
import { type PgCluster, postgresForFile } from './postgres';
import { EXPECTED, type Machine, machine, tokensOf } from './syncFixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const EXPECTED_REPORT = path.join(REPO_ROOT, 'test', 'fixtures', 'sync', 'pr-42.md');
const UPDATE = process.env.SYNC_REPORT_UPDATE === '1';

const cluster = postgresForFile();

function env(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, TZ: 'UTC' };
  for (const k of [
    'CLAUDE_CONFIG_DIR',
    'XDG_CONFIG_HOME',
    'XDG_CACHE_HOME',
    'XDG_DATA_HOME',
    'CODEX_HOME',
    'GEMINI_CLI_HOME',
    'COPILOT_HOME',
    'AMP_DATA_DIR',
    'AGENT_HANDLER_POSTGRES',
    'AGENT_HANDLER_MACHINE_ID',
    'AGENT_HANDLER_MACHINE_NAME',
    'PGPASSWORD',
  ])
    delete e[k];
  return { ...e, ...extra };
}

function cli(m: { home: string; store: string; cwd?: string }, args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--store', m.store], {
    env: env(m.home, extra),
    cwd: m.cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function serverCounts(url: string): Promise<{ sessions: number; requests: number; tokens: number }> {
  const c = await SyncClient.connect({ enabled: true, postgres: url, include: [], machineId: 'x', machineName: 'x' });
  try {
    const r = await c.pg.query<{ s: number; r: number; t: number }>(
      `SELECT (SELECT count(*)::int FROM sessions) AS s, (SELECT count(*)::int FROM requests) AS r,
              (SELECT COALESCE(SUM(input + output + cache_read + cache_write), 0)::float8 FROM requests) AS t`,
    );
    return { sessions: r.rows[0].s, requests: r.rows[0].r, tokens: r.rows[0].t };
  } finally {
    await c.close();
  }
}

/** What the local store holds that a push must send: its sessions, counted request rows and their tokens. */
async function localCounts(storeFile: string): Promise<{ sessions: number; requests: number; tokens: number }> {
  const store = await Store.open(storeFile, { machineId: 'bulk' });
  try {
    const r = all<{ s: number; r: number; t: number }>(
      store.db,
      `SELECT (SELECT count(*) FROM sessions) AS s, (SELECT count(*) FROM usage WHERE counted = 1) AS r,
              (SELECT COALESCE(SUM(input + output + cache_read + cache_write), 0) FROM usage WHERE counted = 1) AS t`,
    )[0];
    return { sessions: r.s, requests: r.r, tokens: r.t };
  } finally {
    store.close();
  }
}

describe('the CLI: two machines, one database', () => {
  test('sync on each machine, then branch --json, pr --json and pr --markdown answer with both', async () => {
    const url = await cluster().createDatabase('two_machines');
    const a = await machine(['2.1.332'], 'git@github.com:fake-owner/fake-repo.git', { pr: 42 });
    const b = await machine(['2.1.197'], 'https://github.com/Fake-Owner/fake-repo.git');
    const who = (id: string, name: string) => ['--machine-id', id, '--machine-name', name, '--postgres', url];
    const sa = cli(a, ['sync', ...who('machine-a', 'laptop')]);
    assert.equal(sa.code, 0, sa.stderr);
    assert.match(sa.stdout, /^pushed \d+ sessions \(10 requests\) to test@127\.0\.0\.1:\d+\/two_machines\n$/);
    assert.ok(!sa.stdout.includes('secret'));
    // The second machine's connection string comes from the environment.
    const sb = cli(b, ['sync', '--machine-id', 'machine-b'], {
      AGENT_HANDLER_POSTGRES: url,
      AGENT_HANDLER_MACHINE_NAME: 'ci-runner',
    });
    assert.equal(sb.code, 0, sb.stderr);

    const branch = cli({ ...a, cwd: a.repo }, ['branch', '--json', '--cwd', a.repo, ...who('machine-a', 'laptop')]);
    assert.equal(branch.code, 0, branch.stderr);
    const out = JSON.parse(branch.stdout) as {
      requests: number;
      machines: { machine_name: string; requests: number; this_machine: boolean }[];
      all_machines: { requests: number; cost_usd: number } & Parameters<typeof tokensOf>[0];
    };
    assert.equal(out.requests, EXPECTED['2.1.332'].requests);
    assert.equal(out.all_machines.requests, EXPECTED['2.1.332'].requests + EXPECTED['2.1.197'].requests);
    assert.equal(tokensOf(out.all_machines), EXPECTED['2.1.332'].tokens + EXPECTED['2.1.197'].tokens);
    assert.ok(
      Math.abs(out.all_machines.cost_usd - (EXPECTED['2.1.332'].cost_usd + EXPECTED['2.1.197'].cost_usd)) < 1e-9,
    );
    assert.deepEqual(
      out.machines.map((m) => [m.machine_name, m.requests, m.this_machine]),
      [
        ['laptop', 10, true],
        ['ci-runner', 9, false],
      ],
    );

    // Machine B never saw PR #42: its requests count through the head branch machine A knows.
    const pr = cli({ ...b, cwd: b.repo }, [
      'pr',
      '--json',
      '--cwd',
      a.repo,
      '--number',
      '42',
      ...who('machine-b', 'ci-runner'),
    ]);
    assert.equal(pr.code, 0, pr.stderr);
    const prOut = JSON.parse(pr.stdout) as { all_machines: { requests: number } };
    assert.equal(prOut.all_machines.requests, 19);

    const md = cli({ ...b, cwd: b.repo }, ['pr', '--number', '42', '--markdown', ...who('machine-b', 'ci-runner')]);
    assert.equal(md.code, 0, md.stderr);
    if (UPDATE) {
      await fsp.mkdir(path.dirname(EXPECTED_REPORT), { recursive: true });
      await fsp.writeFile(EXPECTED_REPORT, md.stdout);
    }
    assert.equal(md.stdout, await fsp.readFile(EXPECTED_REPORT, 'utf8'));
  });

  test('a bad connection string exits 2, an unreachable server exits 1: one line each, no stack', async () => {
    const home = path.join(await tempDir('ah-sync-cli-'), 'home');
    await fsp.mkdir(home, { recursive: true });
    const m = { home, store: path.join(home, 'store.sqlite') };
    const bad = cli(m, ['sync', '--postgres', 'mysql://root:hunter2@db/x']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.ok(!bad.stderr.includes('hunter2'));
    const port = cluster().port;
    const gone = cli(m, ['sync', '--postgres', `postgresql://test:hunter2@127.0.0.1:${port + 1}/x`]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim().split('\n').length, 1, gone.stderr);
    assert.match(gone.stderr, /refused the connection/);
    assert.ok(!gone.stderr.includes('hunter2') && !gone.stderr.includes('    at '));
    const wrong = cli(m, ['sync', '--postgres', cluster().url('postgres', { password: 'wrong' })]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /rejected the password/);
    const missing = cli(m, ['sync', '--postgres', cluster().url('no_such_db')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist/);
  });
});

/** A HOME with many small sessions (the seeded corpus), so a push of one session per batch takes a while. */
async function bulkMachine(): Promise<Machine> {
  const dir = await tempDir('ah-sync-bulk-');
  const home = path.join(dir, 'home');
  const corpus = (await import(path.join(REPO_ROOT, 'scripts', 'corpus.mjs'))) as {
    generateCorpus(home: string, bytes: number, files: number, seed: number): unknown;
  };
  corpus.generateCorpus(home, 2_000_000, 240, 5);
  return { home, repo: dir, store: path.join(dir, 'store.sqlite') };
}

/** Starts `sync --batch-size 1` and resolves once the server holds some but not all of its sessions. */
async function pushUntilPartial(m: Machine, url: string, total: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'sync', '--postgres', url, '--machine-id', 'bulk', '--batch-size', '1', '--store', m.store],
    { env: env(m.home), stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    if (done) throw new Error('the push finished before it could be interrupted');
    const n = await serverCounts(url).then(
      (c) => c.sessions,
      () => 0,
    );
    if (n > 5 && n < total) return child;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a push interrupted at any point: the next one leaves every row exactly once', () => {
  async function setup(pg: PgCluster, name: string) {
    const url = await pg.createDatabase(name);
    const m = await bulkMachine();
    // Index first (no push): what the store holds is what the server must end up holding.
    const index = cli(m, ['diagnostics']);
    assert.equal(index.code, 0, index.stderr);
    const expected = await localCounts(m.store);
    assert.ok(expected.sessions > 100, `only ${expected.sessions} sessions`);
    return { url, m, expected };
  }

  test('kill -9 of the pushing process, then a rerun', async () => {
    const { url, m, expected } = await setup(cluster(), 'killed_push');
    const child = await pushUntilPartial(m, url, expected.sessions);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = await serverCounts(url);
    assert.ok(partial.sessions < expected.sessions, 'killed mid-push');
    const rerun = cli(m, ['sync', '--postgres', url, '--machine-id', 'bulk']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(await serverCounts(url), expected);
    // And once more: nothing left to send, nothing doubled.
    const again = cli(m, ['sync', '--postgres', url, '--machine-id', 'bulk']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^pushed 0 sessions/);
    assert.deepEqual(await serverCounts(url), expected);
  });

  test('the server crashes mid-push (pg_ctl -m immediate stop) and comes back', async () => {
    const pg = cluster();
    const { url, m, expected } = await setup(pg, 'crashed_server');
    const child = await pushUntilPartial(m, url, expected.sessions);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    pg.crash();
    assert.equal(await exit, 1);
    pg.start();
    const partial = await serverCounts(url);
    assert.ok(partial.sessions < expected.sessions, 'crashed mid-push');
    const rerun = cli(m, ['sync', '--postgres', url, '--machine-id', 'bulk']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(await serverCounts(url), expected);
  });
});
