/**
 * The built CLI's manners (issue 19): errors a person can act on (one line, exit 2 for bad input,
 * 1 for a runtime failure, a stack trace only with --debug), a --store that is not ours left
 * untouched, and the conventions users bring (--version, help COMMAND, the current directory, id
 * prefixes, --since/--until, weekly/monthly, --json everywhere, no colour off a terminal).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { STORE_APPLICATION_ID } from '../../src/core/store/db';
import { loadSqlJs } from '../../src/core/store/sqlite';
import { REPO_ROOT, assistant, makeRepo, tempDir, writeTranscript } from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], home: string, opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const env: Record<string, string | undefined> = { ...process.env, HOME: home, ...opts.env };
  for (const k of ['CLAUDE_CONFIG_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'AGENT_HANDLER_DEBUG', 'NO_COLOR'])
    if (!opts.env?.[k]) delete env[k];
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env,
    cwd: opts.cwd ?? home,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, nothing on stdout, the exit code asked. */
function assertOneLine(r: Run, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
  assert.match(r.stderr, /^agent-handler: [^\n]+\n$/, `${what}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

const A1 = 'abc11111-0000-4000-8000-000000000001';
const A2 = 'abc22222-0000-4000-8000-000000000002';
const B = 'bcd33333-0000-4000-8000-000000000003';

/** Three sessions on three days (2026-11-20, 2026-11-24, 2026-12-01), two of them sharing the prefix "abc". */
async function corpus(home: string, cwd: string): Promise<void> {
  const req = (session: string, ts: string, n: number) =>
    assistant({
      session,
      ts,
      msg: `msg_${session.slice(0, 4)}_${n}`,
      req: `req_${session.slice(0, 4)}_${n}`,
      cwd,
      usage: { in: 1000 * n, out: 10 * n },
    });
  await writeTranscript(home, `${A1}.jsonl`, [req(A1, '2026-11-20T10:00:00.000Z', 1)], cwd);
  await writeTranscript(home, `${A2}.jsonl`, [req(A2, '2026-11-24T10:00:00.000Z', 2)], cwd);
  await writeTranscript(home, `${B}.jsonl`, [req(B, '2026-12-01T10:00:00.000Z', 3)], cwd);
}

describe('CLI errors (dist/cli.js)', () => {
  let home = '';
  before(async () => {
    home = await tempDir('ah-manners-home-');
  });

  test('a --store that is not ours (text, another SQLite database, empty): refused, exit 2, the file untouched', async () => {
    const dir = await tempDir('ah-manners-store-');
    const notes = path.join(dir, 'notes.txt');
    await fsp.writeFile(notes, 'my notes\n'.repeat(100));
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('mine')");
    const otherDb = path.join(dir, 'other.sqlite');
    await fsp.writeFile(otherDb, db.export());
    db.close();
    const empty = path.join(dir, 'empty');
    await fsp.writeFile(empty, '');
    for (const [file, why] of [
      [notes, /not a SQLite database/],
      [otherDb, /without our tables/],
      [empty, /an empty file/],
    ] as const) {
      const before = readFileSync(file);
      const r = cli(['sessions', '--store', file], home);
      assertOneLine(r, 2, new RegExp(`${file.replace(/[.]/g, '\\.')} is not an Agent Handler store`), file);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /left untouched/);
      assert.deepEqual(readFileSync(file), before, 'the file is as it was');
    }
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['empty', 'notes.txt', 'other.sqlite'], 'nothing moved aside');
  });

  test('a store of ours: stamped with the application_id; an older one without it is ours too; a corrupt one is moved aside', async () => {
    const dir = await tempDir('ah-manners-ours-');
    const store = path.join(dir, 'store.sqlite');
    assert.equal(cli(['sessions', '--json', '--store', store], home).code, 0);
    assert.equal(readFileSync(store).readUInt32BE(68), STORE_APPLICATION_ID);
    // A store made before the mark: no application_id, our meta table.
    const bytes = readFileSync(store);
    bytes.writeUInt32BE(0, 68);
    await fsp.writeFile(store, bytes);
    await fsp.rm(`${store}.manifest`, { force: true });
    const old = cli(['diagnostics', '--json', '--store', store], home);
    assert.equal(old.code, 0, old.stderr);
    assert.equal(readFileSync(store).readUInt32BE(68), STORE_APPLICATION_ID, 'stamped');
    // Ours but broken (its header kept, its pages cut): moved aside and rebuilt, as before.
    await fsp.truncate(store, 200);
    const broken = cli(['diagnostics', '--json', '--store', store], home);
    assert.equal(broken.code, 0, broken.stderr);
    assert.ok(
      (await fsp.readdir(dir)).some((n) => /^store\.sqlite\.corrupt-\d+$/.test(n)),
      'moved aside',
    );
  });

  test('paths: a store that is a folder, HOME a file, a missing --cwd or --spool: exit 2, one line naming it', async () => {
    const dir = await tempDir('ah-manners-paths-');
    const file = path.join(dir, 'a-file');
    await fsp.writeFile(file, 'x');
    assertOneLine(cli(['sessions', '--store', dir], home), 2, /--store .* is a folder: give the path of a file/, 'dir');
    assertOneLine(cli(['sessions'], file, { cwd: dir }), 2, /HOME \(.*a-file\) is not a folder/, 'HOME');
    assertOneLine(cli(['branch', '--cwd', path.join(dir, 'nope')], home), 2, /--cwd .*nope does not exist/, 'cwd');
    assertOneLine(cli(['sessions', '--spool', file], home), 2, /--spool .*a-file is not a folder/, 'spool');
    assertOneLine(cli(['export', '--format', 'csv', '--out', dir], home), 2, /--out .* is a folder/, 'out');
  });

  test('a runtime failure: exit 1 and one line; --debug and AGENT_HANDLER_DEBUG=1 add the stack trace', async () => {
    const dir = await tempDir('ah-manners-runtime-');
    const blocker = path.join(dir, 'not-a-folder');
    await fsp.writeFile(blocker, '');
    const store = path.join(blocker, 'store.sqlite');
    assertOneLine(cli(['sessions', '--store', store], home), 1, /^agent-handler: cannot .*not-a-folder/, 'runtime');
    for (const r of [
      cli(['sessions', '--store', store, '--debug'], home),
      cli(['sessions', '--store', store], home, { env: { AGENT_HANDLER_DEBUG: '1' } }),
    ]) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\n\s+at /, 'the stack trace');
    }
  });

  test('bad values: one line naming the flag, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['sessions', '--since', 'yesterday'], /--since yesterday is not a date: use YYYY-MM-DD/],
      [['daily', '--until', '2026-02-30'], /--until 2026-02-30 is not a date/],
      [['weekly', '--start-of-week', 'funday'], /--start-of-week is a day of the week/],
      [['help', 'frobnicate'], /unknown command frobnicate \(see agent-handler --help\)/],
      [['sessions', '--wat'], /unknown option --wat \(see agent-handler --help\)/],
    ];
    for (const [args, pattern] of cases) assertOneLine(cli(args, home), 2, pattern, args.join(' '));
  });
});

describe('CLI conventions (dist/cli.js)', () => {
  let home = '';
  let repo = '';
  before(async () => {
    home = await tempDir('ah-conv-home-');
    repo = await makeRepo('feature/conv');
    await corpus(home, repo);
  });

  test('--version and -V: the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag], home);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `agent-handler ${version}\n`, '']);
    }
  });

  test('help COMMAND and COMMAND --help: that command in detail; --help lists every command', () => {
    const a = cli(['help', 'blocks'], home);
    const b = cli(['blocks', '--help'], home);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /^usage: agent-handler blocks /);
    const all = cli(['--help'], home).stdout;
    for (const c of ['sessions', 'branch', 'pr', 'daily', 'weekly', 'monthly', 'blocks', 'explain', 'export'])
      assert.match(all, new RegExp(`^  ${c}\\b`, 'm'), c);
    assert.match(all, /exit codes: 0 done, 1 a runtime failure/);
  });

  test('branch and pr default to the current directory', () => {
    const store = path.join(home, 'cwd-store.sqlite');
    const here = cli(['branch', '--json', '--store', store], home, { cwd: repo });
    const given = cli(['branch', '--json', '--store', store, '--cwd', repo], home);
    assert.equal(here.code, 0, here.stderr);
    assert.equal(here.stdout, given.stdout);
    assert.equal((JSON.parse(here.stdout) as { branch: string }).branch, 'feature/conv');
    const pr = cli(['pr', '--json', '--store', store], home, { cwd: repo });
    assert.equal(pr.code, 0, pr.stderr);
    assert.equal((JSON.parse(pr.stdout) as { pr: null }).pr, null);
  });

  test('explain --session takes a unique prefix; an ambiguous one lists the matches, exit 2', () => {
    const store = path.join(home, 'prefix-store.sqlite');
    const r = cli(['explain', '--json', '--session', 'bcd', '--store', store], home);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { target: { sessions: string[] } }).target.sessions, [B]);
    const amb = cli(['explain', '--session', 'abc', '--store', store], home);
    assertOneLine(amb, 2, new RegExp(`session id abc is ambiguous: 2 sessions match \\(${A1}, ${A2}\\)`), 'ambiguous');
  });

  test('--since / --until on sessions, daily and export: local days both included, ISO times, the forms ccusage takes', () => {
    const store = path.join(home, 'period-store.sqlite');
    const ids = (args: string[]) =>
      (JSON.parse(cli(['sessions', '--json', '--store', store, ...args], home).stdout) as { session_id: string }[])
        .map((s) => s.session_id)
        .sort();
    assert.deepEqual(ids([]), [A1, A2, B]);
    assert.deepEqual(ids(['--since', '2026-11-24']), [A2, B]);
    assert.deepEqual(ids(['--since', '20261124', '--until', '20261124']), [A2]);
    assert.deepEqual(ids(['--until', '2026-11-24T09:00:00Z']), [A1]);
    const days = (args: string[]) =>
      (
        JSON.parse(cli(['daily', '--json', '--tz', 'UTC', '--store', store, ...args], home).stdout) as {
          days: { date: string }[];
        }
      ).days.map((d) => d.date);
    assert.deepEqual(days([]), ['2026-11-20', '2026-11-24', '2026-12-01']);
    assert.deepEqual(days(['--since', '2026-11-21', '--until', '2026-11-30']), ['2026-11-24']);
    // A relative bound: every request here is older than a day.
    assert.deepEqual(days(['--since', '1d']), []);
    const csv = cli(
      ['export', '--format', 'json', '--what', 'daily', '--tz', 'UTC', '--since', '2026-12-01', '--store', store],
      home,
    );
    assert.deepEqual(
      (JSON.parse(csv.stdout) as { date: string }[]).map((d) => d.date),
      ['2026-12-01'],
    );
    const sessionsCsv = cli(['export', '--format', 'csv', '--until', '2026-11-20', '--store', store], home);
    assert.equal(sessionsCsv.stdout.trimEnd().split('\n').length, 2, 'a header and one session');
  });

  test('weekly and monthly: the daily totals added up; weeks from Monday, or from --start-of-week', () => {
    const store = path.join(home, 'weeks-store.sqlite');
    type P = { input: number; cost_usd: number };
    const run = (args: string[]) =>
      JSON.parse(cli([...args, '--json', '--tz', 'UTC', '--store', store], home).stdout) as Record<
        string,
        (P & Record<string, string>)[]
      >;
    const days = run(['daily']).days;
    const weeks = run(['weekly']).weeks;
    // 2026-11-20 is a Friday, 2026-11-24 a Tuesday, 2026-12-01 a Tuesday.
    assert.deepEqual(
      weeks.map((w) => w.week),
      ['2026-11-16', '2026-11-23', '2026-11-30'],
    );
    assert.deepEqual(
      run(['weekly', '--start-of-week', 'sunday']).weeks.map((w) => w.week),
      ['2026-11-15', '2026-11-22', '2026-11-29'],
    );
    const months = run(['monthly']).months;
    assert.deepEqual(
      months.map((m) => m.month),
      ['2026-11', '2026-12'],
    );
    const sum = (rows: P[]) => rows.reduce((a, r) => a + r.input, 0);
    assert.equal(sum(weeks), sum(days));
    assert.equal(sum(months), sum(days));
    assert.equal(months[0].input, days[0].input + days[1].input);
  });

  test('--json on every command; no colour when standard output is not a terminal', () => {
    const store = path.join(home, 'json-store.sqlite');
    const commands = [
      ['sessions'],
      ['branch'],
      ['pr'],
      ['diagnostics'],
      ['daily'],
      ['weekly'],
      ['monthly'],
      ['blocks'],
      ['explain', '--session', B],
      ['export', '--format', 'json'],
      ['--version'],
    ];
    for (const c of commands) {
      const r = cli([...c, '--json', '--store', store], home, { cwd: repo });
      assert.equal(r.code, 0, `${c.join(' ')}: ${r.stderr}`);
      assert.doesNotThrow(() => JSON.parse(r.stdout), c.join(' '));
    }
    for (const c of [['sessions'], ['daily'], ['blocks']]) {
      const r = cli([...c, '--store', store], home);
      assert.ok(!r.stdout.includes('\x1b['), c.join(' '));
    }
    assert.ok(existsSync(store));
  });
});
