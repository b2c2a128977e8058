/**
 * The specified session record (docs/session-model.md): its 40 names on every session of every
 * agent in `sessions --json` and `export`, its helpers, its ends and revivals, its cost, the branch
 * diff, the machine id, and a store of the previous schema rebuilt to the same numbers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { renderSessionDetails } from '../../src/core/detailsText';
import { sessionDetails } from '../../src/core/store/details';
import { MACHINE_ID_ENV, machineId, machineIdFile } from '../../src/core/machine';
import { emptyFacts, foldLive, mergeFacts } from '../../src/core/model/liveFacts';
import type { AgentEvent, LiveEvent } from '../../src/core/model/events';
import { isAmp, usesSharedProcess } from '../../src/core/model/agents';
import { foldEvents, newFileState } from '../../src/core/model/reducer';
import {
  SPECIFIED_FIELDS,
  type Session,
  duration,
  isActive,
  isLive,
  isProcessRunning,
  metricsSource,
  shouldHookUpdateCounts,
  shouldOtelUpdateTokens,
  totalTokens,
} from '../../src/core/model/session';
import { loadSqlJs } from '../../src/core/store/sqlite';
import { Store } from '../../src/core/store/store';
import {
  FIXTURES,
  REPO_ROOT,
  agentHome,
  assertUsd,
  assistant,
  copyDir,
  git,
  indexHome,
  makeRepo,
  mustGet,
  sessionsById,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const AGENTS = ['claude_code', 'codex', 'gemini', 'opencode', 'copilot', 'cursor', 'amp'];

/** The field names of docs/session-model.md's table (`| 1 | \`session_id\` | …`), in order. */
function documentedFields(): string[] {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'session-model.md'), 'utf8');
  return [...doc.matchAll(/^\| (\d+) \| `([a-z_]+)` \|/gm)].map((m) => m[2]);
}

function cli(
  args: string[],
  home: string,
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const e: Record<string, string | undefined> = { ...process.env, HOME: home, ...env };
  for (const k of [
    'CLAUDE_CONFIG_DIR',
    'XDG_CONFIG_HOME',
    'XDG_CACHE_HOME',
    'XDG_DATA_HOME',
    'CODEX_HOME',
    'GEMINI_CLI_HOME',
    'COPILOT_HOME',
    MACHINE_ID_ENV,
  ]) {
    if (!(k in env)) delete e[k];
  }
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: e,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One HOME holding every agent's fixtures where that agent keeps them. */
async function everyAgentHome(): Promise<string> {
  const home = path.join(await tempDir('ah-record-home-'), 'home');
  for (const agent of AGENTS) await copyDir(await agentHome(agent), home);
  return home;
}

function record(over: Partial<Session> = {}): Session {
  const r: Record<string, unknown> = {};
  for (const k of SPECIFIED_FIELDS) r[k] = null;
  return {
    ...(r as unknown as Session),
    framework: 'claude_code',
    revival_count: 0,
    status: 'idle',
    compaction_count: 0,
    message_count: 0,
    tool_call_count: 0,
    api_request_count: 0,
    api_error_count: 0,
    tokens_input: 0,
    tokens_output: 0,
    tokens_cache_read: 0,
    tokens_cache_write: 0,
    n_hook_events: 0,
    n_otel_events: 0,
    transcript_available: true,
    ...over,
  };
}

describe('the specified session record', () => {
  test('docs/session-model.md lists the 40 specified fields in their order (the same as the model)', () => {
    const fields = documentedFields();
    assert.equal(fields.length, 40);
    assert.deepEqual(fields, [...SPECIFIED_FIELDS]);
  });

  test('sessions --json and export carry every documented field on every session of every agent (null where unknown, never missing)', async () => {
    const home = await everyAgentHome();
    const store = path.join(await tempDir('ah-record-'), 'store.sqlite');
    const r = cli(['sessions', '--json', '--store', store], home, { [MACHINE_ID_ENV]: 'test-machine' });
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const sessions = JSON.parse(r.stdout) as Record<string, unknown>[];
    const fields = documentedFields();
    assert.deepEqual(
      [...new Set(sessions.map((s) => s.framework))].sort(),
      [...AGENTS].sort(),
      'every agent has sessions here',
    );
    for (const s of sessions) {
      assert.deepEqual(
        Object.keys(s).slice(0, 40),
        fields,
        `${String(s.session_id)}: the specified fields first, in order`,
      );
      for (const f of fields) assert.ok(f in s && s[f] !== undefined, `${String(s.session_id)} has ${f}`);
      assert.equal(s.machine_id, 'test-machine');
      assert.equal(typeof s.last_activity, 'string');
      assert.ok(['idle', 'busy', 'wait', 'done'].includes(String(s.status)));
      assert.ok(s.process_start_time === null || Number.isInteger(s.process_start_time));
      assert.ok(s.cost_usd === null || typeof s.cost_usd === 'number');
      // Old names are gone.
      for (const old of [
        'last_activity_at',
        'ended_at',
        'status_changed_at',
        'process_started_at',
        'git_dir',
        'worktree_path',
        'issue_number',
        'pr_number',
        'additions',
        'deletions',
        'context_tokens',
        'hook_event_count',
        'otel_event_count',
      ]) {
        assert.ok(!(old in s), `${String(s.session_id)} no longer has ${old}`);
      }
    }
    // Cursor keeps no usage locally: nothing priced is null, not $0.
    for (const s of sessions.filter((x) => x.framework === 'cursor')) assert.equal(s.cost_usd, null);

    const json = cli(['export', '--format', 'json', '--store', store], home, { [MACHINE_ID_ENV]: 'test-machine' });
    assert.equal(json.code, 0);
    for (const s of JSON.parse(json.stdout) as Record<string, unknown>[])
      assert.deepEqual(Object.keys(s).slice(0, 40), fields);
    const csv = cli(['export', '--format', 'csv', '--store', store], home, { [MACHINE_ID_ENV]: 'test-machine' });
    assert.equal(csv.code, 0);
    assert.deepEqual(csv.stdout.split('\r\n')[0].split(',').slice(0, 40), fields);
  });

  test('Session Details lists every specified field under its name, first, in order', async () => {
    const { store } = await indexHome(await agentHome('claude_code'));
    const s = [...sessionsById(store).values()][0];
    const text = renderSessionDetails(s, sessionDetails(store, s.session_id));
    const lines = text.split('\n');
    const from = lines.indexOf('Every field') + 2;
    assert.deepEqual(
      lines.slice(from, from + 40).map((l) => l.split(' ')[0]),
      documentedFields(),
    );
    store.close();
  });

  test('helpers: isActive is "no end recorded", isLive is busy or wait; totalTokens, duration', () => {
    assert.equal(isActive(record({ last_ended_at: null, status: 'done' })), true);
    assert.equal(isActive(record({ last_ended_at: '2026-11-25T10:00:00.000Z', status: 'busy' })), false);
    assert.equal(isLive(record({ status: 'busy' })), true);
    assert.equal(isLive(record({ status: 'wait' })), true);
    assert.equal(isLive(record({ status: 'idle' })), false);
    assert.equal(isLive(record({ status: 'done' })), false);
    assert.equal(
      totalTokens(record({ tokens_input: 1, tokens_output: 20, tokens_cache_read: 300, tokens_cache_write: 4000 })),
      4321,
    );
    const start = '2026-11-25T10:00:00.000Z';
    assert.equal(
      duration(record({ first_started_at: start, last_activity: '2026-11-25T10:05:00.000Z' })),
      300_000,
      'running: to the last activity',
    );
    assert.equal(
      duration(
        record({
          first_started_at: start,
          last_ended_at: '2026-11-25T10:02:00.000Z',
          last_activity: '2026-11-25T10:05:00.000Z',
        }),
      ),
      120_000,
      'ended: to the last end',
    );
    assert.equal(duration(record({ first_started_at: null, last_activity: start })), null);
    assert.equal(duration(record({ first_started_at: 'not a time', last_activity: start })), null);
  });

  test('isProcessRunning: a pid whose process exists and started at process_start_time (± 60 s); a reused pid is not the agent', () => {
    const startMs = Date.parse('2026-11-25T10:00:00.000Z');
    const s = record({ pid: 4242, process_start_time: startMs / 1000 });
    assert.equal(isProcessRunning(s, startMs + 500), true);
    assert.equal(isProcessRunning(s, startMs - 30_000), true);
    assert.equal(isProcessRunning(s, startMs + 3_600_000), false, 'another process got the pid an hour later');
    assert.equal(isProcessRunning(s, null), false, 'no such process');
    assert.equal(isProcessRunning(s, -1), true, 'exists, start time unknown on this OS');
    assert.equal(isProcessRunning(record({ pid: null, process_start_time: null }), startMs), false);
    assert.equal(
      isProcessRunning(record({ pid: 4242, process_start_time: null }), startMs),
      true,
      'no recorded start: the pid alone',
    );
  });

  test('metricsSource: transcript > otel > hook; otel and hooks update numbers only without a transcript', () => {
    assert.equal(
      metricsSource(record({ transcript_available: true, n_otel_events: 5, n_hook_events: 9 })),
      'transcript',
    );
    assert.equal(metricsSource(record({ transcript_available: false, n_otel_events: 5, n_hook_events: 9 })), 'otel');
    assert.equal(metricsSource(record({ transcript_available: false, n_otel_events: 0, n_hook_events: 9 })), 'hook');
    assert.equal(shouldOtelUpdateTokens(record({ transcript_available: true })), false);
    assert.equal(shouldOtelUpdateTokens(record({ transcript_available: false })), true);
    assert.equal(shouldHookUpdateCounts(record({ transcript_available: true })), false);
    assert.equal(shouldHookUpdateCounts(record({ transcript_available: false })), true);
  });

  test('usesSharedProcess (Cursor) and isAmp', () => {
    assert.equal(usesSharedProcess(record({ framework: 'cursor' })), true);
    assert.equal(usesSharedProcess(record({ framework: 'claude_code' })), false);
    assert.equal(isAmp(record({ framework: 'amp' })), true);
    assert.equal(isAmp(record({ framework: 'codex' })), false);
  });
});

describe('ends and revivals', () => {
  const ts = (hms: string) => `2026-11-25T${hms}.000Z`;
  const activity = (t: string): AgentEvent => ({ kind: 'activity', ts: ts(t) });
  const hook = (atMs: number, event: string, over: Partial<LiveEvent>): LiveEvent => ({
    kind: 'live',
    ts: new Date(atMs).toISOString(),
    session_id: 's',
    source: 'hook',
    event,
    at_ms: atMs,
    ...over,
  });

  test('a transcript run that starts after a first one keeps the first end for good (first_ended_at), the last start moves', () => {
    const state = newFileState({ session_id: 's', parent_session_id: null, agent_id: null });
    const events: AgentEvent[] = [
      activity('10:00:00'),
      { kind: 'meta', ts: ts('10:00:00'), agent_version: '2.1.300' },
      { kind: 'user_prompt', ts: ts('10:00:00'), text: 'first', run_start: true },
      activity('10:05:00'),
      // A new process (another version) takes the session up again an hour later.
      activity('11:00:00'),
      { kind: 'meta', ts: ts('11:00:00'), agent_version: '2.1.332' },
      activity('11:10:00'),
      // And once more: the first end stays.
      activity('12:00:00'),
      { kind: 'user_prompt', ts: ts('12:00:00'), text: 'third', run_start: true },
    ];
    foldEvents(state, events);
    assert.equal(state.run_count, 3);
    assert.equal(state.first_ended_at, ts('10:05:00'));
    assert.equal(state.last_started_at, ts('12:00:00'));
    assert.equal(state.first_started_at, ts('10:00:00'));
  });

  test('hooks: the first SessionEnd is the first end, whatever came after; facts of several spool files keep the earliest', () => {
    const f = emptyFacts('s');
    foldLive(f, hook(1_000, 'SessionStart', { status: 'busy', start_source: 'startup' }));
    foldLive(f, hook(2_000, 'SessionEnd', { status: 'done' }));
    foldLive(f, hook(3_000, 'SessionStart', { status: 'busy', start_source: 'resume' }));
    foldLive(f, hook(4_000, 'SessionEnd', { status: 'done' }));
    assert.equal(f.first_ended_at_ms, 2_000);
    assert.equal(f.resumes, 1);
    const g = emptyFacts('s');
    foldLive(g, hook(1_500, 'SessionEnd', { status: 'done' }));
    assert.equal(
      mergeFacts([
        { facts: f, alive: null },
        { facts: g, alive: null },
      ])?.first_ended_at_ms,
      1_500,
    );
  });

  test('a revived, running session: last_ended_at null (active), first_ended_at kept; ended again: both set', async () => {
    const home = path.join(await tempDir('ah-revive-'), 'home');
    const id = 'aaaaaaaa-0000-4000-8000-000000000001';
    const rel = `${id}.jsonl`;
    const first = [
      userPrompt({ session: id, ts: '2026-11-25T10:00:00.000Z', extra: { version: '2.1.300' }, text: 'hello' }),
      assistant({
        session: id,
        ts: '2026-11-25T10:00:05.000Z',
        extra: { version: '2.1.300' },
        msg: 'm1',
        req: 'r1',
        usage: { in: 10, out: 5 },
      }),
      userPrompt({ session: id, ts: '2026-11-25T11:00:00.000Z', text: 'again' }),
      assistant({ session: id, ts: '2026-11-25T11:00:05.000Z', msg: 'm2', req: 'r2', usage: { in: 10, out: 5 } }),
    ];
    await writeTranscript(home, rel, first);
    const { store } = await indexHome(home);
    // Just after the last record: running (idle), no end.
    const running = mustGet(sessionsById(store, Date.parse('2026-11-25T11:01:00.000Z')), id);
    assert.equal(running.revival_count, 1);
    assert.equal(running.last_started_at, '2026-11-25T11:00:00.000Z');
    assert.equal(running.first_ended_at, '2026-11-25T10:00:05.000Z');
    assert.equal(running.last_ended_at, null);
    assert.equal(isActive(running), true);
    // A day later: ended at its last record; the first end has not moved.
    const ended = mustGet(sessionsById(store, Date.parse('2026-11-26T11:00:00.000Z')), id);
    assert.equal(ended.status, 'done');
    assert.equal(ended.last_ended_at, '2026-11-25T11:00:05.000Z');
    assert.equal(ended.first_ended_at, '2026-11-25T10:00:05.000Z');
    assert.equal(isActive(ended), false);
    store.close();
  });
});

describe('cost and lines of the record', () => {
  test('cost_usd is null when nothing could be priced and a number when something was; unpriced_requests beside it', async () => {
    const home = path.join(await tempDir('ah-cost-null-'), 'home');
    const priced = 'bbbbbbbb-0000-4000-8000-000000000001';
    const unpriced = 'bbbbbbbb-0000-4000-8000-000000000002';
    const ask = 'bbbbbbbb-0000-4000-8000-000000000003';
    const t = '2026-11-25T10:00:00.000Z';
    await writeTranscript(home, `${priced}.jsonl`, [
      assistant({
        session: priced,
        ts: t,
        msg: 'pm1',
        req: 'pr1',
        model: 'claude-sonnet-4-5-20250929',
        usage: { in: 100_000 },
      }),
    ]);
    await writeTranscript(home, `${unpriced}.jsonl`, [
      assistant({
        session: unpriced,
        ts: t,
        msg: 'qm1',
        req: 'qr1',
        model: 'no-such-model-anywhere',
        usage: { in: 10, out: 5 },
      }),
    ]);
    await writeTranscript(home, `${ask}.jsonl`, [userPrompt({ session: ask, ts: t, text: 'only a question so far' })]);
    const { store } = await indexHome(home);
    const byId = sessionsById(store);
    // Sonnet 4.5: $3 per million input tokens (below the 200k long-context tier): 100,000 × $3/M.
    assertUsd(mustGet(byId, priced).cost_usd, 0.3);
    assert.equal(mustGet(byId, unpriced).cost_usd, null);
    assert.equal(mustGet(byId, unpriced).unpriced_requests, 1);
    assert.equal(mustGet(byId, ask).cost_usd, null);
    assert.equal(mustGet(byId, ask).unpriced_requests, 0);
    store.close();
  });

  test("git_additions / git_deletions: the session's branch against the default branch; the agent's own count kept apart", async () => {
    const repo = await makeRepo('main');
    git(repo, 'checkout', '-q', '-b', 'feature/lines');
    await fsp.writeFile(path.join(repo, 'a.txt'), 'one\ntwo\nthree\n');
    await fsp.writeFile(path.join(repo, 'README.md'), '# changed\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'lines');
    const home = path.join(await tempDir('ah-lines-'), 'home');
    const onBranch = 'cccccccc-0000-4000-8000-000000000001';
    const onMain = 'cccccccc-0000-4000-8000-000000000002';
    const t = '2026-11-25T10:00:00.000Z';
    await writeTranscript(
      home,
      `${onBranch}.jsonl`,
      [userPrompt({ session: onBranch, ts: t, branch: 'feature/lines', cwd: repo, text: 'x' })],
      repo,
    );
    await writeTranscript(
      home,
      `${onMain}.jsonl`,
      [userPrompt({ session: onMain, ts: t, branch: 'main', cwd: repo, text: 'y' })],
      repo,
    );
    const { store } = await indexHome(home);
    const byId = sessionsById(store);
    // a.txt +3; README.md +1 −1.
    assert.deepEqual([mustGet(byId, onBranch).git_additions, mustGet(byId, onBranch).git_deletions], [4, 1]);
    assert.deepEqual(
      [mustGet(byId, onMain).git_additions, mustGet(byId, onMain).git_deletions],
      [null, null],
      'the default branch has no diff against itself',
    );
    assert.equal(mustGet(byId, onBranch).local_git_dir, path.join(repo, '.git'));
    store.close();
  });
});

describe('machine_id', () => {
  test('one id per machine: the same for every store, kept through a rebuild; an override or the environment wins', async () => {
    const dir = await tempDir('ah-machine-');
    const a = await Store.open(path.join(dir, 'a.sqlite'));
    const b = await Store.open(null);
    assert.equal(a.getMeta('machine_id'), machineId());
    assert.equal(b.getMeta('machine_id'), machineId());
    await a.persist();
    a.close();
    b.close();
    // A store that cannot be read is rebuilt: the id stays the machine's.
    await fsp.writeFile(path.join(dir, 'a.sqlite'), 'not a database at all, more than a page of it '.repeat(200));
    const rebuilt = await Store.open(path.join(dir, 'a.sqlite'));
    assert.equal(rebuilt.outcome, 'rebuilt-corrupt');
    assert.equal(rebuilt.getMeta('machine_id'), machineId());
    rebuilt.close();

    assert.equal(machineId({ override: 'laptop-1', env: { [MACHINE_ID_ENV]: 'ci-runner' } }), 'laptop-1');
    assert.equal(machineId({ override: '  ', env: { [MACHINE_ID_ENV]: 'ci-runner' } }), 'ci-runner');
    assert.throws(() => machineId({ override: 'has a space' }), /printable/);
  });

  test('from the OS id, hashed (never the OS id itself), stable; without one, a file created once in the config folder', async () => {
    const osId = '0123456789abcdef0123456789abcdef';
    const one = machineId({ env: {}, readOsId: () => osId });
    assert.match(one, /^[0-9a-f]{32}$/);
    assert.notEqual(one, osId);
    assert.equal(machineId({ env: {}, readOsId: () => osId }), one);
    assert.notEqual(machineId({ env: {}, readOsId: () => 'another machine' }), one);

    const home = await tempDir('ah-machine-home-');
    const opts = { env: {}, home, platform: 'linux' as const, readOsId: () => null };
    const first = machineId(opts);
    assert.equal(machineId(opts), first, 'the same id next time');
    const file = machineIdFile('linux', home, {});
    assert.equal(file, path.join(home, '.config', 'agent-handler', 'machine-id'));
    assert.equal(readFileSync(file, 'utf8').trim(), first);
    assert.equal(statSync(file).mode & 0o077, 0, 'private to the user');
    assert.equal(
      machineIdFile('win32', 'C:\\Users\\u', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }),
      'C:\\Users\\u\\AppData\\Roaming\\agent-handler\\machine-id',
    );
    assert.equal(
      machineIdFile('darwin', '/Users/u', {}),
      '/Users/u/Library/Application Support/agent-handler/machine-id',
    );
  });

  test('changing the id (a setting) re-labels the local sessions at the next open', async () => {
    const home = await agentHome('claude_code');
    const file = path.join(await tempDir('ah-machine-store-'), 'store.sqlite');
    const { store } = await indexHome(home, file);
    await store.persist();
    store.close();
    const again = await Store.open(file, { machineId: 'renamed-box' });
    const ids = new Set([...sessionsById(again).values()].map((s) => s.machine_id));
    assert.deepEqual([...ids], ['renamed-box']);
    again.close();
  });
});

describe('a store of the previous schema', () => {
  test('schema 7 (last_activity_at, ended_at, …) is rebuilt from the transcripts without asking, to the same numbers', async () => {
    const old = path.join(FIXTURES, 'stores', 'schema-7-claude-2.1.332.sqlite');
    const SQL = await loadSqlJs();
    const db = new SQL.Database(readFileSync(old));
    const before = new Map<string, unknown[]>();
    const res = db.exec(
      'SELECT session_id, tokens_input, tokens_output, tokens_cache_read, tokens_cache_write, cost_usd, api_request_count, message_count, tool_call_count FROM sessions',
    );
    for (const row of res[0].values) before.set(String(row[0]), row.slice(1));
    assert.equal(db.exec("SELECT value FROM meta WHERE key = 'parser_version'")[0].values[0][0], '7');
    db.close();
    assert.equal(before.size, 3);

    const home = await agentHome('claude_code');
    const file = path.join(await tempDir('ah-migrate-'), 'store.sqlite');
    await fsp.copyFile(old, file);
    const r = cli(['sessions', '--json', '--store', file], home);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    const after = new Map((JSON.parse(r.stdout) as Record<string, unknown>[]).map((s) => [String(s.session_id), s]));
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [id, [input, output, cacheRead, cacheWrite, cost, requests, messages, tools]] of before) {
      const s = after.get(id)!;
      assert.deepEqual(
        [
          s.tokens_input,
          s.tokens_output,
          s.tokens_cache_read,
          s.tokens_cache_write,
          s.api_request_count,
          s.message_count,
          s.tool_call_count,
        ],
        [input, output, cacheRead, cacheWrite, requests, messages, tools],
        id,
      );
      assert.ok(
        Math.abs(Number(s.cost_usd) - Number(cost)) < 1e-9,
        `${id}: cost ${String(s.cost_usd)} vs ${String(cost)}`,
      );
    }
    // The old file was kept aside for a bug report, the new one is this version's.
    const aside = (await fsp.readdir(path.dirname(file))).filter((f) => f.startsWith('store.sqlite.old-'));
    assert.equal(aside.length, 1);
  });
});
