/**
 * Codex CLI: the real 0.169.0 rollout (fake model, real record formats: test/fixtures/codex/0.169.0/)
 * checked against numbers worked out by hand and against what `codex exec --json` printed
 * (cli-output/), and hand-made rollouts (test/fixtures/codex/handmade/, described in
 * test/fixtures/codex/README.md) for forks, subagents, older builds, record orders and damage.
 * Every file is copied into a temp CODEX_HOME and indexed by the real Indexer into a sql.js store.
 */
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { Indexer, type IndexStats } from '../../src/core/ingest/indexer';
import type { AgentEvent, UsageEvent } from '../../src/core/model/events';
import { codexAdapter, codexTokens, uuidV7Ms } from '../../src/core/sources/codex';
import { sourceEnvFrom } from '../../src/core/sources/registry';
import type { LineContext } from '../../src/core/sources/types';
import { all, one } from '../../src/core/store/sqlite';
import { diagnostics, grandTotal, type SessionView } from '../../src/core/store/queries';
import { requestKeyRef } from '../../src/core/store/requests';
import { Store } from '../../src/core/store/store';
import { FIXTURES, assertUsd, mustGet, recordingLogger, sessionsById, silentLogger, tempDir } from './helpers';

const CODEX = path.join(FIXTURES, 'codex');
const REAL = path.join(CODEX, '0.169.0');
const HANDMADE = path.join(CODEX, 'handmade');

const SAY_HI = '01a2130c-1e4c-7e21-b5d0-aca23abc62ec';
const SAY_HI_REL = 'sessions/2026/11/25/rollout-2026-11-25T14-11-31-01a2130c-1e4c-7e21-b5d0-aca23abc62ec.jsonl';

// handmade/fork
const P = '01a1f866-0d00-7aaa-8000-000000000001';
const F = '01a1f86a-a0e0-7fff-8000-000000000001';
const P_REL = `sessions/2026/11/20/rollout-2026-11-20T10-00-00-${P}.jsonl`;
const F_REL = `sessions/2026/11/20/rollout-2026-11-20T10-05-00-${F}.jsonl`;
// handmade/subagent
const Q = '01a1fdc3-5780-7bbb-8000-000000000001';
const S = '01a1fdc3-5f50-7ccc-8000-000000000001';
// handmade/older
const O = '0b0b0b0b-1111-4222-8333-444455556666';
// handmade/orders
const A = '01a20320-a200-7ddd-8000-000000000001';
const B = '01a20357-9080-7eee-8000-000000000001';
const C = '01a2038e-7f00-7999-8000-000000000001';
// handmade/malformed
const M = '01a203c5-6d80-7777-8000-000000000001';
const M_REL = `sessions/2026/11/22/rollout-2026-11-22T15-00-00-${M}.jsonl`;

interface Ix {
  store: Store;
  indexer: Indexer;
  stats: IndexStats;
  sessions: Map<string, SessionView>;
  /** The CODEX_HOME the files were copied to. */
  root: string;
}

/** Copies a fixture folder (a CODEX_HOME) into a temp folder; `only` keeps just those relative paths. */
async function codexHome(src: string, only?: string[]): Promise<{ home: string; root: string }> {
  const home = path.join(await tempDir('ah-codex-'), 'home');
  const root = path.join(home, 'codex-home');
  await copyTree(src, root, only ? new Set(only.map((p) => path.join(src, p))) : null);
  return { home, root };
}

async function copyTree(src: string, dst: string, only: Set<string> | null): Promise<void> {
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) await copyTree(s, d, only);
    else if (!only || only.has(s)) {
      await fsp.mkdir(dst, { recursive: true });
      await fsp.copyFile(s, d);
    }
  }
}

function codexIndexer(store: Store, home: string, root: string, log = silentLogger): Indexer {
  return new Indexer(store, [codexAdapter], sourceEnvFrom({ CODEX_HOME: root }, home), log);
}

async function indexCodex(home: string, root: string, store?: Store, log = silentLogger): Promise<Ix> {
  store ??= await Store.open(path.join(await tempDir('ah-store-'), 'store.sqlite'));
  const indexer = codexIndexer(store, home, root, log);
  const stats = await indexer.scanAll();
  return { store, indexer, stats, sessions: sessionsById(store), root };
}

function turnState(store: Store, id: string): string | null {
  return (
    one<{ turn_state: string | null }>(store.db, 'SELECT turn_state FROM sessions WHERE session_id = ?', [id])
      ?.turn_state ?? null
  );
}

interface UsageDbRow {
  dedup_key: string;
  message_id: string | null;
  session_id: string;
  sidechain: number;
  counted: number;
  model: string | null;
  git_branch: string | null;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

/** Keys and message ids as the store keeps them: refs (requestKeyRef). */
const USAGE_ROWS = 'SELECT *, hex(dedup_hash) AS dedup_key, hex(message_hash) AS message_id FROM usage';

function usageRows(store: Store, sessionId?: string): UsageDbRow[] {
  return sessionId
    ? all<UsageDbRow>(store.db, `${USAGE_ROWS} WHERE session_id = ? ORDER BY ts, dedup_hash`, [sessionId])
    : all<UsageDbRow>(store.db, `${USAGE_ROWS} ORDER BY ts, dedup_hash`);
}

function tokens(s: SessionView): [number, number, number, number, number] {
  return [s.tokens_input, s.tokens_cache_read, s.tokens_cache_write, s.tokens_output, s.api_request_count];
}

interface TurnCompleted {
  type: string;
  usage?: {
    input_tokens: number;
    cached_input_tokens: number;
    cache_write_input_tokens: number;
    output_tokens: number;
    reasoning_output_tokens: number;
  };
}

function cliUsage(name: string): NonNullable<TurnCompleted['usage']> {
  const lines = readFileSync(path.join(REAL, 'cli-output', name), 'utf8')
    .trim()
    .split('\n');
  const done = lines.map((l) => JSON.parse(l) as TurnCompleted).find((r) => r.type === 'turn.completed');
  assert.ok(done?.usage, `${name}: turn.completed`);
  return done.usage;
}

describe('codex: real fixture 0.169.0 (exec "say hi", exec resume with a shell call, resume --last with a read)', () => {
  let ix: Ix;

  before(async () => {
    // The default root: ~/.codex (no CODEX_HOME).
    const home = path.join(await tempDir('ah-codex-'), 'home');
    await copyTree(path.join(REAL, 'sessions'), path.join(home, '.codex', 'sessions'), null);
    const store = await Store.open(path.join(await tempDir('ah-store-'), 'store.sqlite'));
    const indexer = new Indexer(store, [codexAdapter], sourceEnvFrom({}, home), silentLogger);
    const stats = await indexer.scanAll();
    ix = { store, indexer, stats, sessions: sessionsById(store), root: path.join(home, '.codex') };
  });

  test('one session in one file, 58 lines, nothing skipped', () => {
    assert.deepEqual([...ix.sessions.keys()], [SAY_HI]);
    assert.equal(ix.stats.files_read, 1);
    assert.equal(ix.stats.lines_read, 58);
    assert.equal(ix.stats.lines_skipped, 0);
    assert.equal(diagnostics(ix.store).lines_skipped, 0);
  });

  test('five responses, each written twice (token_usage_record + token_count), count once each', () => {
    const s = mustGet(ix.sessions, SAY_HI);
    // last_token_usage of the five token_counts (= usage of the five token_usage_records):
    //   line 14/15 resp_fake0d7d… in 9142 cached    0 out 35 (reasoning 16)
    //   line 27/30 resp_fake9ea8… in 9289 cached 6912 out 50 (16)
    //   line 35/36 resp_fake2af5… in 9505 cached 7104 out 54 (16)
    //   line 48/51 resp_fakea8ff… in 9669 cached 7232 out 51 (16)
    //   line 56/57 resp_fake3c26… in 9908 cached 7424 out 77 (16)
    // input (incl. cached) 9142+9289+9505+9669+9908 = 47513; cached 0+6912+7104+7232+7424 = 28672
    // fresh input 47513 - 28672 = 18841; output 35+50+54+51+77 = 267 (reasoning is part of it)
    assert.deepEqual(tokens(s), [18841, 28672, 0, 267, 5]);
    const rows = usageRows(ix.store, SAY_HI);
    assert.equal(rows.length, 5);
    // Keyed by the thread and the cumulative totals after the response; the record's response id kept.
    assert.equal(rows[0].dedup_key, requestKeyRef(`codex:${SAY_HI}:9142/0/0/35/16/9177`));
    assert.equal(rows[4].dedup_key, requestKeyRef(`codex:${SAY_HI}:47513/28672/0/267/80/47780`));
    assert.deepEqual(
      rows.map((r) => r.message_id),
      [
        'resp_fake0d7d186f4471fbd616ab325b',
        'resp_fake9ea85c0d9640ded5788405bc',
        'resp_fake2af5aaa13c8b5572a621e66e',
        'resp_fakea8ff48615d6745ab1f137134',
        'resp_fake3c260372e03b5b23edf39e80',
      ].map(requestKeyRef),
    );
    assert.ok(
      rows.every(
        (r) => r.counted === 1 && r.sidechain === 0 && r.model === 'gpt-5.5' && r.git_branch === 'feature/fake-model',
      ),
    );
    // The fake model server received exactly these five requests (server-logs/openai.requests.jsonl).
  });

  test("the session's totals equal what codex exec printed (turn.completed.usage is the thread's running total)", () => {
    const s = mustGet(ix.sessions, SAY_HI);
    const r1 = cliUsage('1-say-hi.jsonl');
    const r2 = cliUsage('2-resume-shell.jsonl');
    const r3 = cliUsage('3-resume-last-read.jsonl');
    // exec resume reloads the thread's totals: each run prints the cumulative usage, not its own
    // (9142 → 27936 → 47513 input). Summing the three would count run 1 three times.
    assert.deepEqual([r1.input_tokens, r2.input_tokens, r3.input_tokens], [9142, 27936, 47513]);
    assert.equal(s.tokens_input + s.tokens_cache_read + s.tokens_cache_write, r3.input_tokens);
    assert.equal(s.tokens_cache_read, r3.cached_input_tokens);
    assert.equal(s.tokens_cache_write, r3.cache_write_input_tokens);
    assert.equal(s.tokens_output, r3.output_tokens);
    // Per run (differences): 9142/0/35, 27936-9142 = 18794 / 14016 / 104, 47513-27936 = 19577 / 14656 / 128.
    const rows = usageRows(ix.store, SAY_HI);
    const inputOf = (rs: UsageDbRow[]) => rs.reduce((n, r) => n + r.input + r.cache_read, 0);
    assert.equal(inputOf(rows.slice(0, 1)), r1.input_tokens);
    assert.equal(inputOf(rows.slice(1, 3)), r2.input_tokens - r1.input_tokens);
    assert.equal(inputOf(rows.slice(3, 5)), r3.input_tokens - r2.input_tokens);
  });

  test('session fields', () => {
    const s = mustGet(ix.sessions, SAY_HI);
    assert.equal(s.framework, 'codex');
    assert.equal(s.cwd, '/home/dev/agent/work/repo-codex');
    assert.equal(s.git_branch, 'feature/fake-model'); // session_meta.git.branch
    assert.equal(s.github_repo, null); // the git block has no repository_url (no remote)
    assert.equal(s.model, 'gpt-5.5'); // turn_context.model
    // Prompts are the three item_completed UserMessage items (0.169 writes no event_msg/user_message);
    // the <environment_context> response_item (line 4) is not one.
    assert.equal(s.message_count, 3);
    assert.equal(s.first_user_message, 'say hi');
    assert.equal(s.last_user_message, 'now read the README file');
    assert.equal(s.title, 'say hi'); // no session_index.jsonl: the first prompt
    // call_fakeec094f65604a6d6b (echo hello) and call_fake7428d7fe114b49ec (cat README.md).
    assert.equal(s.tool_call_count, 2);
    assert.equal(s.api_error_count, 0);
    assert.equal(s.compaction_count, 0);
    // Last response (line 57): total_tokens 9985 - reasoning 16 = 9969 tokens in context.
    assert.equal(s.context, 9969);
    // Nothing in the rollout marks the two resumes as new processes (no second session_meta, the
    // thread_settings_applied line is also written on a settings change): runs are not counted.
    assert.equal(s.revival_count, 0);
    assert.equal(s.first_started_at, '2026-11-25T14:11:31.296Z'); // line 1
    assert.equal(s.last_activity, '2026-11-25T14:11:33.837Z'); // line 58 (task_complete)
    assert.equal(turnState(ix.store, SAY_HI), 'ended');
    assert.equal(s.status, 'done');
    assert.equal(s.parent_session_id, null);
    assert.equal(s.transcript_available, true);
    assert.equal(s.transcript_path, path.join(ix.root, SAY_HI_REL));
    // gpt-5.5: $5 input, $0.5 cache read, $30 output per Mtok (below the 272k tier):
    // 18841*5 + 28672*0.5 + 267*30 = 94205 + 14336 + 8010 = 116551 µ$
    assertUsd(s.cost_usd, 0.116551);
    assert.equal(s.unpriced_requests, 0);
  });

  test('agent version from session_meta.cli_version', () => {
    const row = one<{ state_json: string }>(ix.store.db, 'SELECT state_json FROM files');
    assert.equal((JSON.parse(row!.state_json) as { agent_version: string }).agent_version, '0.169.0');
  });

  test('read one line at a time (records in one read, their token_counts in the next): the same rows', async () => {
    const { home, root } = await codexHome(REAL, []);
    const file = path.join(root, SAY_HI_REL);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, '');
    const store = await Store.open(null);
    const indexer = codexIndexer(store, home, root);
    const lines = readFileSync(path.join(REAL, SAY_HI_REL), 'utf8').split('\n').filter(Boolean);
    for (const line of lines) {
      await fsp.appendFile(file, `${line}\n`);
      await indexer.indexPaths([file]);
    }
    const s = mustGet(sessionsById(store), SAY_HI);
    assert.deepEqual(tokens(s), [18841, 28672, 0, 267, 5]);
    assert.deepEqual(
      usageRows(store, SAY_HI).map((r) => r.dedup_key),
      usageRows(ix.store, SAY_HI).map((r) => r.dedup_key),
    );
    assert.equal(s.message_count, 3);
    assert.equal(s.context, 9969);
  });

  test('another "say hi" thread with the same first totals is another request, not a duplicate', async () => {
    const { home, root } = await codexHome(REAL, [SAY_HI_REL]);
    // The first run (lines 1-16) again, under another thread id: identical token numbers.
    const OTHER = '01a2130c-1e4c-7e21-b5d0-0000000000aa';
    const first = readFileSync(path.join(REAL, SAY_HI_REL), 'utf8')
      .split('\n')
      .slice(0, 16)
      .join('\n')
      .split(SAY_HI)
      .join(OTHER);
    await fsp.writeFile(
      path.join(root, `sessions/2026/11/25/rollout-2026-11-25T14-11-31-${OTHER}.jsonl`),
      `${first}\n`,
    );
    const { sessions, store } = await indexCodex(home, root);
    assert.deepEqual(tokens(mustGet(sessions, OTHER)), [9142, 0, 0, 35, 1]);
    assert.deepEqual(tokens(mustGet(sessions, SAY_HI)), [18841, 28672, 0, 267, 5]);
    assert.equal(grandTotal(store).requests, 6);
  });
});

describe('codex: archived threads (moved to archived_sessions/) are the same session', () => {
  for (const [label, dest] of [
    ['flat', `archived_sessions/rollout-2026-11-25T14-11-31-${SAY_HI}.jsonl`],
    ['same relative path', `archived_sessions/2026/11/25/rollout-2026-11-25T14-11-31-${SAY_HI}.jsonl`],
  ] as const) {
    test(`moved (${label}): one session, same totals, the new path`, async () => {
      const { home, root } = await codexHome(REAL, [SAY_HI_REL]);
      const ix = await indexCodex(home, root);
      assert.deepEqual(tokens(mustGet(ix.sessions, SAY_HI)), [18841, 28672, 0, 267, 5]);
      await fsp.mkdir(path.dirname(path.join(root, dest)), { recursive: true });
      await fsp.rename(path.join(root, SAY_HI_REL), path.join(root, dest));
      await ix.indexer.scanAll();
      const sessions = sessionsById(ix.store);
      assert.deepEqual([...sessions.keys()], [SAY_HI]);
      const s = mustGet(sessions, SAY_HI);
      // Both files' rows have the same keys: each response counts once, from the present file.
      assert.deepEqual(tokens(s), [18841, 28672, 0, 267, 5]);
      assert.equal(grandTotal(ix.store).requests, 5);
      assert.equal(s.transcript_available, true);
      assert.equal(s.transcript_path, path.join(root, dest));
      assert.equal(s.message_count, 3);
    });
  }

  test('a copy in both folders at once counts once', async () => {
    const { home, root } = await codexHome(REAL, [SAY_HI_REL]);
    await fsp.mkdir(path.join(root, 'archived_sessions'), { recursive: true });
    await fsp.copyFile(
      path.join(root, SAY_HI_REL),
      path.join(root, `archived_sessions/rollout-2026-11-25T14-11-31-${SAY_HI}.jsonl`),
    );
    const ix = await indexCodex(home, root);
    assert.equal(ix.stats.files_read, 2);
    assert.deepEqual(tokens(mustGet(ix.sessions, SAY_HI)), [18841, 28672, 0, 267, 5]);
    assert.equal(grandTotal(ix.store).requests, 5);
    assert.equal(usageRows(ix.store).length, 10);
  });
});

describe("codex: a fork replays its parent's history (handmade/fork)", () => {
  // P: 4 responses (U1..U3 before the fork at 10:05, U4 after), records and token_counts:
  //   U1 in 1000 cached    0 out 100   U2 in 2000 cached 1000 out 50
  //   U3 in 2500 cached 2000 out  30   U4 in 3000 cached 2500 out 40
  // F (forked_from_id P): P's session_meta and lines 2-17 replayed (re-stamped 10:05:00.0xx), then
  // its own turn: an older P snapshot (U2's totals) written again, and its own response
  //   U5 in 6000 cached 5000 out 60.
  const P_TOKENS = [1000 + 1000 + 500 + 500, 0 + 1000 + 2000 + 2500, 0, 100 + 50 + 30 + 40, 4];
  const F_TOKENS = [6000 - 5000, 5000, 0, 60, 1];

  test("parent and fork together: the replayed requests are the parent's", async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'fork'));
    const ix = await indexCodex(home, root);
    assert.equal(ix.stats.lines_skipped, 0);
    const p = mustGet(ix.sessions, P);
    const f = mustGet(ix.sessions, F);
    assert.deepEqual(tokens(p), P_TOKENS); // [3000, 5500, 0, 220, 4]
    assert.deepEqual(tokens(f), F_TOKENS); // [1000, 5000, 0, 60, 1]
    // F's copies: U1, U2 (twice: replayed and re-emitted after the fork's turn began: one key), U3.
    const copies = usageRows(ix.store, F).filter((r) => r.sidechain === 1);
    assert.deepEqual(
      copies.map((r) => r.counted),
      [0, 0, 0],
    );
    // Each copy carries the key of the parent's own row for that request.
    const parentKeys = new Set(
      usageRows(ix.store, P)
        .filter((r) => r.sidechain === 0)
        .map((r) => r.dedup_key),
    );
    assert.ok(copies.every((r) => parentKeys.has(r.dedup_key)));
    // 8000 + 7000 + 4400 + 4950 µ$ (gpt-5.5: U1 1000*5+100*30; U2 1000*5+1000*0.5+50*30;
    // U3 500*5+2000*0.5+30*30; U4 500*5+2500*0.5+40*30)
    assertUsd(p.cost_usd, 0.02435);
    // U5: 1000*5 + 5000*0.5 + 60*30 = 9300 µ$
    assertUsd(f.cost_usd, 0.0093);
    assert.equal(grandTotal(ix.store).requests, 5);
  });

  test("the fork's own fields: its prompts, tools, branch; no parent link (a fork is not a subagent)", async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'fork'));
    const { sessions, store } = await indexCodex(home, root);
    const f = mustGet(sessions, F);
    assert.equal(f.message_count, 1);
    assert.equal(f.first_user_message, 'fork question');
    assert.equal(f.tool_call_count, 0); // call_p1 is P's, replayed
    assert.equal(f.git_branch, 'feature/fork');
    assert.equal(f.parent_session_id, null);
    assert.equal(f.forked_from_session_id, P); // session_meta forked_from_id
    assert.equal(f.github_pr, null); // the PR link is in P's replayed tool output
    assert.equal(f.title, 'Fork of widgets'); // session_index.jsonl
    assert.equal(f.context, 6060); // U5: 6000 + 60 - 0
    assert.equal(f.first_started_at, '2026-11-20T10:05:00.000Z');
    assert.equal(turnState(store, F), 'ended');
    const p = mustGet(sessions, P);
    assert.equal(p.message_count, 3);
    assert.equal(p.last_user_message, 'third question, after the fork');
    assert.equal(p.tool_call_count, 1);
    assert.equal(p.git_branch, 'main');
    assert.equal(p.github_repo, 'acme/widgets'); // git.repository_url https://github.com/acme/widgets.git
    assert.equal(p.github_pr, 7); // https://github.com/acme/widgets/pull/7 in call_p1's output
    // session_index.jsonl names P twice: the newest updated_at wins; the "not json" line is ignored.
    assert.equal(p.title, 'Widgets refactor');
    assert.equal(p.context, 3040); // U4: 3000 + 40
  });

  test('fork indexed alone first (its replay counts for it), then the parent appears: each key once', async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'fork'), [F_REL]);
    const ix = await indexCodex(home, root);
    // Alone, F's copies are the only rows of P's keys: U1+U2+U3 (3000 fresh... ) + U5.
    // fresh 1000+1000+500+1000 = 3500; cached 0+1000+2000+5000 = 8000; out 100+50+30+60 = 240
    assert.deepEqual(tokens(mustGet(ix.sessions, F)), [3500, 8000, 0, 240, 4]);
    await fsp.copyFile(path.join(HANDMADE, 'fork', P_REL), path.join(root, P_REL));
    await ix.indexer.scanAll();
    const sessions = sessionsById(ix.store);
    assert.deepEqual(tokens(mustGet(sessions, P)), P_TOKENS);
    assert.deepEqual(tokens(mustGet(sessions, F)), F_TOKENS);
    assert.equal(grandTotal(ix.store).requests, 5);
  });
});

describe('codex: a subagent thread (handmade/subagent)', () => {
  let ix: Ix;
  before(async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'subagent'));
    ix = await indexCodex(home, root);
  });

  test('the subagent is a session of its own under its parent (thread_spawn.parent_thread_id)', () => {
    const s = mustGet(ix.sessions, S);
    assert.equal(s.parent_session_id, Q);
    assert.equal(s.agent_id, 'Dirac');
    // S's own responses (the replayed part of Q carries no token_count):
    //   in 800 cached 0 out 30; in 900 cached 700 out 20 → fresh 800 + 200, cached 700, out 50
    assert.deepEqual(tokens(s), [1000, 700, 0, 50, 2]);
    assert.equal(s.model, 'gpt-5.5-mini');
    assert.equal(s.unpriced_requests, 2); // no price for gpt-5.5-mini: unpriced, not $0
    assert.equal(s.message_count, 1);
    assert.equal(s.first_user_message, 'task: list files'); // Q's replayed prompt is not S's
    assert.equal(s.tool_call_count, 1); // call_s1 (call_spawn is Q's, replayed)
    assert.equal(s.git_branch, 'dev');
    assert.equal(turnState(ix.store, S), 'ended');
  });

  test('the parent: its own requests, a cache write, and its rollup with the subagent', () => {
    const q = mustGet(ix.sessions, Q);
    // in 1200 cached 0 out 80; in 1500 cached 1000 cache write 100 out 40 (reasoning 8):
    // fresh 1200 + (1500 - 1000 - 100) = 1600, cached 1000, cache write 100, out 120
    assert.deepEqual(tokens(q), [1600, 1000, 100, 120, 2]);
    assert.deepEqual(q.subagent_ids, [S]);
    assert.equal(q.rollup.tokens_input, 1600 + 1000);
    assert.equal(q.rollup.tokens_output, 120 + 50);
    assert.equal(q.rollup.tokens_cache_read, 1000 + 700);
    // gpt-5.5 (no cache-write price: written tokens at the input rate):
    // 1200*5 + 80*30 = 8400; (400+100)*5 + 1000*0.5 + 40*30 = 2500 + 500 + 1200 = 4200 → 12600 µ$
    assertUsd(q.cost_usd, 0.0126);
    assert.equal(q.message_count, 1); // the <environment_context> user item is not a prompt
    assert.equal(q.tool_call_count, 1);
    assert.equal(q.context, 1532); // 1500 + 40 - 8
  });
});

describe('codex: an older build (handmade/older): no records, no turn ids, re-emits, deltas', () => {
  let ix: Ix;
  before(async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'older'));
    ix = await indexCodex(home, root);
  });

  test('info:null skipped, a re-emitted token_count not counted, a total-only token_count counted by its delta', () => {
    const s = mustGet(ix.sessions, O);
    // token_count 1: in 5000 cached    0 out 200 (written twice: the second is a re-emit)
    // token_count 2: in 6000 cached 4000 out 100
    // token_count 3: only total_token_usage (18000/9000/600) - previous (11000/4000/300)
    //                = in 7000 cached 5000 out 300
    // fresh 5000 + 2000 + 2000 = 9000; cached 9000; out 600
    assert.deepEqual(tokens(s), [9000, 9000, 0, 600, 3]);
    assert.equal(s.model, 'gpt-5-codex');
    // gpt-5-codex is priced as gpt-5: $1.25 in, $0.125 cache read, $10 out per Mtok:
    // 9000*1.25 + 9000*0.125 + 600*10 = 11250 + 1125 + 6000 = 18375 µ$
    assertUsd(s.cost_usd, 0.018375);
  });

  test('prompts without scaffolding, compactions once each, errors, web search, aborted turn', () => {
    const s = mustGet(ix.sessions, O);
    // <environment_context> and "# AGENTS.md instructions" user_messages are injected; the prompt is trimmed.
    assert.equal(s.message_count, 2);
    assert.equal(s.first_user_message, 'fix the parser');
    assert.equal(s.last_user_message, 'go on');
    // compacted + its context_compacted = 1; a context_compacted alone = 1.
    assert.equal(s.compaction_count, 2);
    assert.equal(s.api_error_count, 2); // stream_error + error
    assert.equal(s.tool_call_count, 1); // web_search_call
    assert.equal(turnState(ix.store, O), 'ended'); // turn_aborted
    assert.equal(s.git_branch, null); // "git": null
    assert.equal(s.cwd, '/nonexistent/older'); // the turn_context's cwd, after session_meta's
    assert.equal(s.context, 7200); // the delta's total 7300 - reasoning 100
  });
});

describe('codex: record orders (handmade/orders)', () => {
  let ix: Ix;
  before(async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'orders'));
    ix = await indexCodex(home, root);
  });

  test('token_count before its token_usage_record: once each; user_message + item_completed: one prompt', () => {
    const a = mustGet(ix.sessions, A);
    // in 100 cached 0 out 10; in 200 cached 100 out 20 → fresh 100 + 100, cached 100, out 30
    assert.deepEqual(tokens(a), [200, 100, 0, 30, 2]);
    assert.equal(a.message_count, 1);
  });

  test('only token_usage_records: each counted by its response id', () => {
    const b = mustGet(ix.sessions, B);
    // in 300 cached 0 out 30; in 400 cached 300 out 40 → fresh 300 + 100, cached 300, out 70
    assert.deepEqual(tokens(b), [400, 300, 0, 70, 2]);
    assert.deepEqual(
      usageRows(ix.store, B).map((r) => r.dedup_key),
      ['codex:resp:resp_b1', 'codex:resp:resp_b2'].map(requestKeyRef),
    );
    assert.equal(b.context, 440);
  });

  test('a tool call without output: tool running (busy while recent)', () => {
    const c = mustGet(ix.sessions, C);
    assert.equal(c.tool_call_count, 2); // custom_tool_call apply_patch + local_shell_call
    assert.equal(c.api_request_count, 0);
    assert.equal(turnState(ix.store, C), 'tool_running');
    const recent = sessionsById(ix.store, Date.parse('2026-11-22T14:01:00Z'));
    assert.equal(mustGet(recent, C).status, 'busy');
  });
});

describe('codex: damaged files (handmade/malformed)', () => {
  test('garbage lines are skipped and counted, the rest is indexed; a cut last line waits', async () => {
    const { home, root } = await codexHome(path.join(HANDMADE, 'malformed'));
    const log = recordingLogger();
    const ix = await indexCodex(home, root, undefined, log);
    // "this is not json", "[1,2,3]", {"no_type":true}, a token_count cut in the middle: 4.
    assert.equal(ix.stats.lines_skipped, 4);
    assert.equal(diagnostics(ix.store).lines_skipped, 4);
    assert.equal(log.warnings.length, 1);
    const m = mustGet(ix.sessions, M);
    assert.deepEqual(tokens(m), [500, 500, 0, 50, 1]); // in 1000 cached 500 out 50
    assert.equal(m.first_user_message, 'still parsed');
    assert.equal(turnState(ix.store, M), 'ended');
    // The last line has no newline yet: not read. Completing it reads it once.
    await fsp.appendFile(path.join(root, M_REL), 'arted","turn_id":"01a203c5-6d80-7777-8000-00000000000f"}}\n');
    const stats = await ix.indexer.scanAll();
    assert.equal(stats.lines_skipped, 0);
    assert.equal(turnState(ix.store, M), 'waiting_model');
    assert.deepEqual(tokens(mustGet(sessionsById(ix.store), M)), [500, 500, 0, 50, 1]);
  });

  test('parseLine: not an object with a type → null; invalid JSON throws; unknown types are activity only', () => {
    const ctx: LineContext = {
      file: { path: '/x', root: '/', session_id: M, parent_session_id: null, agent_id: null },
      state: {},
    };
    assert.equal(codexAdapter.parseLine('[1,2]', ctx), null);
    assert.equal(codexAdapter.parseLine('42', ctx), null);
    assert.equal(codexAdapter.parseLine('{"payload":{}}', ctx), null);
    assert.throws(() => codexAdapter.parseLine('{"type":', ctx));
    assert.deepEqual(codexAdapter.parseLine('{"timestamp":"2026-11-22T00:00:00Z","type":"brand_new"}', ctx), [
      { kind: 'activity', ts: '2026-11-22T00:00:00Z' },
    ]);
    // A token_count whose info is not an object, a usage with strings: nothing counted, no throw.
    const evs = codexAdapter.parseLine(
      '{"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":"x","last_token_usage":{"input_tokens":"9"}}}}',
      ctx,
    );
    assert.deepEqual(evs, []);
  });
});

describe('codex: roots, files, ids', () => {
  test('roots: CODEX_HOME, ~/.codex and configured extra roots', () => {
    const roots = codexAdapter.roots({
      home: '/h',
      env: { CODEX_HOME: '/data/codex' },
      extraRoots: { codex: ['/mnt/other'] },
    });
    assert.deepEqual(roots, ['/data/codex', '/h/.codex', '/mnt/other']);
    assert.deepEqual(codexAdapter.roots({ home: '/h', env: {} }), ['/h/.codex']);
    assert.deepEqual(codexAdapter.watchDirs('/h/.codex'), ['/h/.codex/sessions', '/h/.codex/archived_sessions']);
  });

  test('classify: rollouts under sessions/ and archived_sessions/ only, the thread id from the name', () => {
    const root = '/h/.codex';
    assert.deepEqual(codexAdapter.classify(root, path.join(root, SAY_HI_REL)), {
      path: path.join(root, SAY_HI_REL),
      root,
      session_id: SAY_HI,
      parent_session_id: null,
      agent_id: null,
    });
    assert.equal(
      codexAdapter.classify(root, `${root}/archived_sessions/rollout-2026-11-25T14-11-31-${SAY_HI}.jsonl`)?.session_id,
      SAY_HI,
    );
    assert.equal(codexAdapter.classify(root, `${root}/history.jsonl`), null);
    assert.equal(codexAdapter.classify(root, `${root}/session_index.jsonl`), null);
    assert.equal(codexAdapter.classify(root, `${root}/sessions/2026/11/25/notes.jsonl`), null);
    assert.equal(codexAdapter.classify(root, `/elsewhere/sessions/rollout-2026-11-25T14-11-31-${SAY_HI}.jsonl`), null);
    // A rollout name without a uuid: the id comes from its session_meta.
    assert.equal(codexAdapter.classify(root, `${root}/sessions/rollout-old.jsonl`)?.session_id, null);
  });

  test('resume command, UUIDv7 times, token kinds', () => {
    assert.deepEqual(codexAdapter.resumeCommand!(SAY_HI), { command: 'codex', args: ['resume', SAY_HI] });
    assert.equal(codexAdapter.resumeCommand!('../etc'), null);
    // 0x01a2130c1e4c ms = 2026-11-25T14:11:31.020Z (the rollout's first line is 14:11:31.296Z).
    assert.equal(new Date(uuidV7Ms(SAY_HI)!).toISOString(), '2026-11-25T14:11:31.020Z');
    assert.equal(uuidV7Ms(O), null); // a v4 id
    // input 1500 (cached 1000 and cache write 100 inside it), output 40 (reasoning 8 inside it).
    assert.deepEqual(codexTokens([1500, 1000, 100, 40, 8, 1540]), {
      input: 400,
      output: 40,
      cache_read: 1000,
      cache_write: 100,
      cache_write_1h: 0,
    });
    // Damaged numbers never go negative: cached > input.
    assert.deepEqual(codexTokens([10, 50, 0, 1, 0, 11]), {
      input: 0,
      output: 1,
      cache_read: 10,
      cache_write: 0,
      cache_write_1h: 0,
    });
  });

  test('a usage event carries the branch of the session_meta and the latest turn_context model', () => {
    const ctx: LineContext = {
      file: { path: '/x', root: '/', session_id: SAY_HI, parent_session_id: null, agent_id: null },
      state: {},
    };
    const lines = readFileSync(path.join(REAL, SAY_HI_REL), 'utf8').split('\n').filter(Boolean);
    const events: AgentEvent[] = lines.flatMap((l) => codexAdapter.parseLine(l, ctx) ?? []);
    const usage = events.filter((e): e is UsageEvent => e.kind === 'usage');
    assert.equal(usage.length, 5);
    assert.ok(usage.every((u) => u.git_branch === 'feature/fake-model' && u.model === 'gpt-5.5' && !u.sidechain));
    assert.deepEqual(
      events.filter((e) => e.kind === 'user_prompt').map((e) => (e as { run_start: boolean }).run_start),
      [false, false, false],
    );
  });
});
