/**
 * GitHub Copilot CLI adapter (src/core/sources/copilot.ts): where its files are, what its records
 * mean, and how a session's tokens are counted from `session.shutdown` totals and (when present)
 * per-request `assistant.usage` lines, each request once. Fixtures: test/fixtures/copilot_cli (see
 * its README for the public sources they follow). Every expected number is worked out in a comment.
 * Prices (genai-prices, per million tokens): claude-sonnet-4.5 in 3, cache read 0.30, cache write
 * 3.75, out 15; claude-haiku-4.5 in 1, cache read 0.10, cache write 1.25, out 5; gpt-5-mini in
 * 0.25, out 2; gpt-5 in 1.25, cache read 0.125, out 10. Below, "µ$" = millionths of a dollar.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Indexer, type Logger } from '../../src/core/ingest/indexer';
import type { AgentEvent, UsageEvent } from '../../src/core/model/events';
import { priceRequest } from '../../src/core/pricing';
import { sourceEnvFrom } from '../../src/core/sources/registry';
import {
  copilotAdapter,
  copilotProvider,
  copilotTokens,
  parseFlatYaml,
  workspaceMeta,
} from '../../src/core/sources/copilot';
import { all } from '../../src/core/store/sqlite';
import { diagnostics } from '../../src/core/store/queries';
import { requestKeyRef } from '../../src/core/store/requests';
import { Store } from '../../src/core/store/store';
import {
  assertUsd,
  FIXTURES,
  jsonl,
  keyNames,
  mustGet,
  recordingLogger,
  sessionsById,
  silentLogger,
  tempDir,
} from './helpers';

const FIX = path.join(FIXTURES, 'copilot_cli', 'home', '.copilot');
const A = '3a1c0001-0000-4000-8000-00000000000a'; // closed, shutdown only
const B = '3b2c0002-0000-4000-8000-00000000000b'; // assistant.usage lines + shutdown
const C = '3c3c0003-0000-4000-8000-00000000000c'; // live, no shutdown
const D = '3d4c0004-0000-4000-8000-00000000000d'; // flat legacy file

/** A temp folder holding a copy of the fixture `.copilot` tree; returns the new `.copilot` path. */
async function fixtureCopilotHome(): Promise<string> {
  const dst = path.join(await tempDir('ah-copilot-'), 'home', '.copilot');
  await fsp.cp(FIX, dst, { recursive: true });
  return dst;
}

/** The Copilot adapter alone, over `COPILOT_HOME=<dir>` and a HOME without a `.copilot`. */
async function indexCopilot(copilotHome: string, log: Logger = silentLogger) {
  const store = await Store.open(path.join(await tempDir('ah-copilot-store-'), 'store.sqlite'));
  const home = path.join(await tempDir('ah-copilot-nohome-'), 'home');
  const indexer = new Indexer(store, [copilotAdapter], sourceEnvFrom({ COPILOT_HOME: copilotHome }, home), log);
  const stats = await indexer.scanAll();
  return { store, indexer, stats };
}

interface UsageRowDb {
  dedup_key: string;
  model: string | null;
  git_branch: string | null;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  counted: number;
  sidechain: number;
}

function usageRows(store: Store, sessionId: string): UsageRowDb[] {
  return all<UsageRowDb>(
    store.db,
    // The store keeps keys hashed: each comes back as its ref (requestKeyRef).
    'SELECT hex(dedup_hash) AS dedup_key, model, git_branch, input, output, cache_read, cache_write, counted, sidechain FROM usage WHERE session_id = ? ORDER BY ts, model, input',
    [sessionId],
  );
}

const at = (iso: string, plusMs: number) => Date.parse(iso) + plusMs;

// ---- records for inline sessions ---------------------------------------------------------------

let seq = 0;
function ev(
  type: string,
  ts: string,
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  seq++;
  return {
    type,
    data,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    timestamp: ts,
    parentId: null,
    ...extra,
  };
}

function shutdown(
  ts: string,
  metrics: Record<string, [count: number, input: number, output: number, cacheRead: number, cacheWrite: number]>,
  extra: Record<string, unknown> = {},
) {
  const modelMetrics: Record<string, unknown> = {};
  for (const [m, [count, i, o, r, w]] of Object.entries(metrics)) {
    modelMetrics[m] = {
      requests: { count, cost: count },
      usage: { inputTokens: i, outputTokens: o, cacheReadTokens: r, cacheWriteTokens: w, reasoningTokens: 0 },
    };
  }
  return ev('session.shutdown', ts, {
    shutdownType: 'routine',
    totalPremiumRequests: 1,
    totalApiDurationMs: 1000,
    sessionStartTime: 0,
    codeChanges: { linesAdded: 0, linesRemoved: 0, filesModified: [] },
    modelMetrics,
    ...extra,
  });
}

function usageLine(
  ts: string,
  model: string,
  i: number,
  o: number,
  r: number,
  w: number,
  extra: Record<string, unknown> = {},
) {
  return ev(
    'assistant.usage',
    ts,
    { model, inputTokens: i, outputTokens: o, cacheReadTokens: r, cacheWriteTokens: w, cost: 1, ...extra },
    { ephemeral: true },
  );
}

async function writeSession(copilotHome: string, id: string, records: object[], yaml?: string): Promise<string> {
  const dir = path.join(copilotHome, 'session-state', id);
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'events.jsonl');
  await fsp.writeFile(file, jsonl(records));
  if (yaml !== undefined) await fsp.writeFile(path.join(dir, 'workspace.yaml'), yaml);
  return file;
}

const T = (hms: string) => `2026-07-01T${hms}Z`;

describe('copilot adapter: where the files are', () => {
  test('roots: $COPILOT_HOME, ~/.copilot, pre-migration XDG folders when set, extra roots; no duplicates', () => {
    const home = '/home/u';
    assert.deepEqual(copilotAdapter.roots({ home, env: {} }), ['/home/u/.copilot']);
    assert.deepEqual(
      copilotAdapter.roots({
        home,
        env: { COPILOT_HOME: '/data/cp', XDG_CONFIG_HOME: '/home/u/.config' },
        extraRoots: { copilot: ['/mnt/old/.copilot', '/data/cp'] },
      }),
      ['/data/cp', '/home/u/.copilot', '/home/u/.config/.copilot', '/mnt/old/.copilot'],
    );
    // Another adapter's extra roots are not this one's.
    assert.deepEqual(copilotAdapter.roots({ home, env: {}, extraRoots: { codex: ['/x'] } }), ['/home/u/.copilot']);
    assert.deepEqual(copilotAdapter.watchDirs('/r'), ['/r/session-state']);
  });

  test('classify: <id>/events.jsonl and the flat <id>.jsonl are transcripts; side files are not', () => {
    const root = '/r';
    const s = (rel: string) => copilotAdapter.classify(root, path.join(root, rel));
    assert.deepEqual(s(`session-state/${A}/events.jsonl`), {
      path: `/r/session-state/${A}/events.jsonl`,
      root,
      session_id: A,
      parent_session_id: null,
      agent_id: null,
    });
    assert.equal(s(`session-state/${D}.jsonl`)?.session_id, D);
    assert.equal(s(`session-state/${A}/workspace.yaml`), null);
    assert.equal(s(`session-state/${A}/files/notes.jsonl`), null);
    assert.equal(s(`session-state/${A}/checkpoints/index.md`), null);
    assert.equal(s(`session-state/${A}/events.jsonl.bak`), null);
    assert.equal(s('logs/process-1-2.log'), null);
    assert.equal(s(`other/${A}/events.jsonl`), null);
    assert.equal(copilotAdapter.classify(root, `/elsewhere/session-state/${A}/events.jsonl`), null);
  });

  test('resume command: copilot --resume <uuid>; nothing for a non-uuid id', () => {
    assert.deepEqual(copilotAdapter.resumeCommand!(A), { command: 'copilot', args: ['--resume', A] });
    assert.equal(copilotAdapter.resumeCommand!('not-a-uuid'), null);
    assert.equal(copilotAdapter.icon, 'copilot');
    assert.equal(copilotAdapter.id, 'copilot');
    assert.equal(copilotAdapter.settingsKey, 'copilot_cli', "users' settings keep their key");
  });
});

describe('copilot adapter: tokens, providers, prices', () => {
  test('inputTokens includes cache reads and writes: fresh input = input − read − write', () => {
    // 52 000 − 38 000 − 9 000 = 5 000
    assert.deepEqual(copilotTokens(52_000, 1_800, 38_000, 9_000), {
      input: 5_000,
      output: 1_800,
      cache_read: 38_000,
      cache_write: 9_000,
      cache_write_1h: 0,
    });
    // Fewer input tokens than cache tokens cannot be cache-inclusive: the input is already fresh.
    assert.deepEqual(copilotTokens(500, 10, 800, 100), {
      input: 500,
      output: 10,
      cache_read: 800,
      cache_write: 100,
      cache_write_1h: 0,
    });
  });

  test('provider from the model name; the dotted ids Copilot writes are priced as they are', () => {
    assert.equal(copilotProvider('claude-sonnet-4.5'), 'anthropic');
    assert.equal(copilotProvider('gpt-5.3-codex'), 'openai');
    assert.equal(copilotProvider('o4-mini'), 'openai');
    assert.equal(copilotProvider('gemini-2.5-pro'), 'google');
    assert.equal(copilotProvider('grok-code-fast-1'), 'x-ai');
    assert.equal(copilotProvider('raptor-mini'), null);
    assert.equal(copilotProvider(null), null);
    const tokens = { input: 1_000, output: 1_000, cache_read: 0, cache_write: 0, cache_write_1h: 0 };
    const price = (model: string) =>
      priceRequest({ framework: 'copilot', model, provider: copilotProvider(model), tokens, ts: T('00:00:00.000') });
    // 1 000 × 3 + 1 000 × 15 = 18 000 µ$
    assert.equal(price('claude-sonnet-4.5').rule, 'genai-prices anthropic/claude-sonnet-4-5');
    assertUsd(price('claude-sonnet-4.5').cost_usd!, 0.018);
    // 1 000 × 1.25 + 1 000 × 10 = 11 250 µ$
    assertUsd(price('gpt-5').cost_usd!, 0.01125);
    // 1 000 × 0.20 + 1 000 × 1.50 = 1 700 µ$
    assertUsd(price('grok-code-fast-1').cost_usd!, 0.0017);
    assert.equal(price('gemini-2.5-pro').priced, true);
    // An unknown model stays unpriced (never $0, never the premium-request "cost").
    assert.deepEqual([price('raptor-mini').priced, price('raptor-mini').cost_usd], [false, null]);
  });
});

describe('copilot adapter: workspace.yaml', () => {
  test('a flat key: value subset: plain, quoted, folded and literal values; nested blocks, comments and nulls skipped', () => {
    const y = parseFlatYaml(
      [
        '# written by the CLI',
        'id: 3a1c0001-0000-4000-8000-00000000000a',
        'cwd: C:\\Users\\dev\\work\\app',
        'summary: "Fix: the \\"login\\" redirect \\u00e9"',
        "name: 'It''s done: yes'",
        'branch: feature/x # trailing comment',
        'folded: >-',
        '  first line',
        '  second line',
        '',
        '  new paragraph',
        'literal: |',
        '  a',
        '  b',
        'long_plain: a summary that',
        '  goes on',
        'long_quoted: "quoted that',
        '  wraps"',
        'nested:',
        '  key: value',
        'list:',
        '  - one',
        'empty:',
        'nothing: ~',
        'nil: null',
        'user_named: true',
        'summary_count: 2',
      ].join('\r\n'),
    );
    assert.deepEqual(y, {
      id: '3a1c0001-0000-4000-8000-00000000000a',
      cwd: 'C:\\Users\\dev\\work\\app',
      summary: 'Fix: the "login" redirect é',
      name: "It's done: yes",
      branch: 'feature/x',
      folded: 'first line second line\nnew paragraph',
      literal: 'a\nb',
      long_plain: 'a summary that goes on',
      long_quoted: 'quoted that wraps',
      user_named: 'true',
      summary_count: '2',
    });
  });

  test('meta: cwd, branch, GitHub repository (not Azure DevOps), title = user-given name, else name/summary', () => {
    assert.deepEqual(
      workspaceMeta({
        cwd: '/w',
        branch: 'main',
        repository: 'o/r',
        host_type: 'github',
        name: 'Mine',
        user_named: 'true',
        summary: 'S',
      }),
      {
        kind: 'meta',
        ts: null,
        cwd: '/w',
        git_branch: 'main',
        github_repo: 'o/r',
        custom_title: 'Mine',
      },
    );
    assert.deepEqual(
      workspaceMeta({ repository: 'org/project/repo', host_type: 'ado', summary: 'Long   summary\ntext' }),
      {
        kind: 'meta',
        ts: null,
        ai_title: 'Long summary text',
      },
    );
    assert.deepEqual(workspaceMeta({ name: 'Generated', summary: 'S' }), {
      kind: 'meta',
      ts: null,
      ai_title: 'Generated',
    });
    assert.equal(workspaceMeta({ id: 'x', summary_count: '0' }), null);
  });
});

describe('copilot adapter: the fixture sessions', () => {
  test('four sessions: three session folders and one flat legacy file', async () => {
    const { store, stats } = await indexCopilot(await fixtureCopilotHome());
    assert.equal(stats.files_read, 4);
    assert.equal(stats.lines_skipped, 0);
    const sessions = sessionsById(store);
    assert.deepEqual([...sessions.keys()].sort(), [A, B, C, D]);
    for (const s of sessions.values()) assert.equal(s.framework, 'copilot');
  });

  test(`${A}: a closed session, tokens from its one shutdown (no per-request usage on disk)`, async () => {
    const { store } = await indexCopilot(await fixtureCopilotHome());
    const s = mustGet(sessionsById(store), A);
    // sonnet: 52 000 − 38 000 − 9 000 = 5 000 fresh, out 1 800, read 38 000, write 9 000
    // haiku:   6 000 −  4 000 −     0 = 2 000 fresh, out   400, read  4 000, write     0
    assert.equal(s.tokens_input, 7_000);
    assert.equal(s.tokens_output, 2_200);
    assert.equal(s.tokens_cache_read, 42_000);
    assert.equal(s.tokens_cache_write, 9_000);
    // One row per model of the shutdown, each carrying its requests.count: 7 requests in all.
    assert.equal(s.api_request_count, 7);
    // sonnet 5 000×3 + 1 800×15 + 38 000×0.3 + 9 000×3.75 = 15 000 + 27 000 + 11 400 + 33 750 = 87 150 µ$
    // haiku  2 000×1 +   400×5  +  4 000×0.1             =  2 000 +  2 000 +    400          =  4 400 µ$
    assertUsd(s.cost_usd, 0.09155);
    assert.equal(s.unpriced_requests, 0);
    // Premium requests (requests.cost, totalPremiumRequests) are not money.
    assert.equal(s.agent_cost_usd, null);

    // Typed prompts only: the sub-agent's task message (agentId) is not one.
    assert.equal(s.message_count, 2);
    assert.equal(s.first_user_message, 'The login redirect drops ?next= after sign-in; fix it');
    assert.equal(s.last_user_message, 'Now add a test for it');
    // toolu_vrtx_01A, 01B, 02A, 03A (task) and the sub-agent's 04A, each once.
    assert.equal(s.tool_call_count, 5);
    assert.equal(s.compaction_count, 1);
    assert.equal(s.api_error_count, 1);
    assert.equal(s.model, 'claude-sonnet-4.5');
    assert.equal(s.cwd, '/home/dev/work/widgets');
    assert.equal(s.git_branch, 'feature/login');
    assert.equal(s.github_repo, 'octo-org/widgets');
    assert.equal(s.github_pr, 42);
    assert.equal(s.pr_url, 'https://github.com/octo-org/widgets/pull/42');
    assert.equal(s.agent_lines_added, 120);
    assert.equal(s.agent_lines_removed, 30);
    // The shutdown's currentTokens (after the compaction's 9 000).
    assert.equal(s.context, 31_000);
    assert.equal(s.title, 'Fix the login redirect: keep ?next= after sign-in');
    assert.equal(s.first_started_at, '2026-06-18T19:13:41.577Z');
    assert.equal(s.last_activity, '2026-06-18T19:20:05.117Z');
    assert.equal(s.revival_count, 0);
    // Ended by the shutdown: idle right after, done later.
    assert.equal(mustGet(sessionsById(store, at(s.last_activity!, 60_000)), A).status, 'idle');
    assert.equal(s.status, 'done');

    const rows = usageRows(store, A);
    assert.deepEqual(
      rows.map((r) => [r.model, r.input, r.output, r.cache_read, r.cache_write, r.git_branch, r.counted]),
      [
        ['claude-haiku-4.5', 2_000, 400, 4_000, 0, 'feature/login', 1],
        ['claude-sonnet-4.5', 5_000, 1_800, 38_000, 9_000, 'feature/login', 1],
      ],
    );
  });

  test(`${B}: per-request assistant.usage rows plus the shutdown: every request counted once`, async () => {
    const { store } = await indexCopilot(await fixtureCopilotHome());
    const s = mustGet(sessionsById(store), B);
    const rows = usageRows(store, B);
    // The shutdown's rows are keyed by its event id (the fixture's session.shutdown record) and model.
    const shutdown = `copilot:${B}:shutdown:9d068494-f292-46ef-bb5b-e9b8c9083c83`;
    const name = keyNames(
      `copilot:${B}:req:chatcmpl-b1`,
      `copilot:${B}:req:chatcmpl-b2`,
      `copilot:${B}:req:chatcmpl-b3`,
      `${shutdown}:claude-sonnet-4.5`,
      `${shutdown}:gpt-5-mini`,
    );
    assert.deepEqual(
      rows.map((r) => [name(r.dedup_key), r.model, r.input, r.output, r.cache_read, r.cache_write]),
      [
        // 12 000 − 0 − 11 000 = 1 000; 13 000 − 11 000 − 1 500 = 500; 14 000 − 12 500 − 1 000 = 500
        [`copilot:${B}:req:chatcmpl-b1`, 'claude-sonnet-4.5', 1_000, 300, 0, 11_000],
        [`copilot:${B}:req:chatcmpl-b2`, 'claude-sonnet-4.5', 500, 500, 11_000, 1_500],
        [`copilot:${B}:req:chatcmpl-b3`, 'claude-sonnet-4.5', 500, 200, 12_500, 1_000],
        // sonnet residual: shutdown (45 000, 1 150, 28 500, 13 500) − lines (39 000, 1 000, 23 500, 13 500)
        //   = (6 000, 150, 5 000, 0) → fresh 6 000 − 5 000 − 0 = 1 000
        [`${shutdown}:claude-sonnet-4.5`, 'claude-sonnet-4.5', 1_000, 150, 5_000, 0],
        // gpt-5-mini: no per-request line, the shutdown's whole figure: 3 000 fresh, out 100
        [`${shutdown}:gpt-5-mini`, 'gpt-5-mini', 3_000, 100, 0, 0],
      ],
    );
    // Totals equal the agent's own shutdown totals (fresh input = 45 000 − 28 500 − 13 500 + 3 000):
    assert.equal(s.tokens_input, 6_000); // 1 000 + 500 + 500 + 1 000 + 3 000
    assert.equal(s.tokens_output, 1_250); // 1 150 + 100
    assert.equal(s.tokens_cache_read, 28_500);
    assert.equal(s.tokens_cache_write, 13_500);
    // 3 request rows + 1 residual (1 request) + gpt-5-mini (1 request) = the shutdown's 4 + 1
    assert.equal(s.api_request_count, 5);
    // sonnet 3 000×3 + 1 150×15 + 28 500×0.3 + 13 500×3.75 = 9 000 + 17 250 + 8 550 + 50 625 = 85 425 µ$
    // gpt-5-mini 3 000×0.25 + 100×2 = 750 + 200 = 950 µ$
    assertUsd(s.cost_usd, 0.086375);
    // The shutdown's currentTokens (14 200) after the last request's prompt (14 000).
    assert.equal(s.context, 14_200);
    assert.equal(s.title, 'Health endpoint returns 500');
    assert.equal(s.git_branch, 'main');
    assert.equal(s.github_repo, 'octo-org/api');
  });

  test(`${B} read in two parts (lines, then the shutdown): the same rows, nothing counted twice`, async () => {
    const copilotHome = await fixtureCopilotHome();
    const file = path.join(copilotHome, 'session-state', B, 'events.jsonl');
    const lines = (await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean);
    const last = lines.pop()!;
    assert.match(last, /"type":"session\.shutdown"/);
    await fsp.writeFile(file, `${lines.join('\n')}\n`);
    const { store, indexer } = await indexCopilot(copilotHome);
    // Before the exit: the three per-request rows only: 1 000 + 500 + 500 fresh.
    assert.equal(mustGet(sessionsById(store), B).tokens_input, 2_000);
    await fsp.appendFile(file, `${last}\n`);
    await indexer.scanAll();
    const s = mustGet(sessionsById(store), B);
    assert.deepEqual(
      [s.tokens_input, s.tokens_output, s.tokens_cache_read, s.tokens_cache_write, s.api_request_count],
      [6_000, 1_250, 28_500, 13_500, 5],
    );
  });

  test(`${C}: a live session has no token totals until it exits; busy while its tool runs`, async () => {
    const copilotHome = await fixtureCopilotHome();
    const { store, indexer } = await indexCopilot(copilotHome);
    const s = mustGet(sessionsById(store), C);
    assert.equal(s.tokens_input + s.tokens_output + s.tokens_cache_read + s.tokens_cache_write, 0);
    assert.equal(s.api_request_count, 0);
    assert.equal(s.cost_usd, null, 'no request yet: nothing priced');
    assert.equal(s.message_count, 1);
    assert.equal(s.tool_call_count, 1);
    assert.equal(s.model, 'gpt-5');
    assert.equal(s.title, 'Dashboard: flaky chart test');
    const live = mustGet(sessionsById(store, at(s.last_activity!, 60_000)), C);
    assert.equal(live.status, 'busy');

    // The tool finishes, the model answers, the user exits: the shutdown brings the totals.
    const file = path.join(copilotHome, 'session-state', C, 'events.jsonl');
    await fsp.appendFile(
      file,
      jsonl([
        ev('tool.execution_complete', '2026-06-18T21:31:02.000Z', {
          toolCallId: 'call_C1xq',
          success: true,
          result: { content: '3 passed' },
        }),
        ev('assistant.turn_end', '2026-06-18T21:31:02.010Z', { turnId: '0' }),
        ev('assistant.turn_start', '2026-06-18T21:31:02.020Z', { turnId: '1' }),
        ev('assistant.message', '2026-06-18T21:31:06.000Z', {
          messageId: 'm-c1',
          model: 'gpt-5',
          content: 'It passed 3 times; the flake is timing-related.',
          toolRequests: [],
        }),
        ev('assistant.turn_end', '2026-06-18T21:31:06.010Z', { turnId: '1' }),
        shutdown('2026-06-18T21:35:00.000Z', { 'gpt-5': [2, 20_000, 900, 12_000, 0] }),
      ]),
    );
    await indexer.scanAll();
    const closed = mustGet(sessionsById(store), C);
    // 20 000 − 12 000 − 0 = 8 000 fresh, out 900, read 12 000
    assert.equal(closed.tokens_input, 8_000);
    assert.equal(closed.tokens_output, 900);
    assert.equal(closed.tokens_cache_read, 12_000);
    assert.equal(closed.api_request_count, 2); // the shutdown row's requests.count
    // 8 000×1.25 + 900×10 + 12 000×0.125 = 10 000 + 9 000 + 1 500 = 20 500 µ$
    assertUsd(closed.cost_usd, 0.0205);
    assert.equal(mustGet(sessionsById(store, at('2026-06-18T21:35:00.000Z', 60_000)), C).status, 'idle');
  });

  test(`${D}: the older flat file: same events, no context, no turn records`, async () => {
    const { store } = await indexCopilot(await fixtureCopilotHome());
    const s = mustGet(sessionsById(store), D);
    assert.equal(s.message_count, 1);
    assert.equal(s.first_user_message, 'List the TODOs in src');
    assert.equal(s.title, 'List the TODOs in src');
    assert.equal(s.tool_call_count, 1);
    assert.equal(s.cwd, null);
    assert.equal(s.model, null);
    assert.equal(s.api_request_count, 0);
    assert.ok(s.transcript_path!.endsWith(path.join('.copilot', 'session-state', `${D}.jsonl`)));
    // Its answer (a message asking for no tool) ended the turn.
    assert.equal(mustGet(sessionsById(store, at(s.last_activity!, 60_000)), D).status, 'idle');
  });
});

describe('copilot adapter: resumed sessions', () => {
  const R = 'eeeeeeee-0000-4000-8000-00000000000e';
  const startCtx = { cwd: '/w', branch: 'main', repository: 'o/r', hostType: 'github' };

  test('a later shutdown with every counter ≥ the previous one is cumulative: only the increase counts', async () => {
    const home = path.join(await tempDir('ah-copilot-r-'), '.copilot');
    await writeSession(home, R, [
      ev('session.start', T('10:00:00.000'), {
        sessionId: R,
        copilotVersion: '1.0.70',
        context: startCtx,
        selectedModel: 'claude-sonnet-4.5',
      }),
      ev('user.message', T('10:00:01.000'), { content: 'first run' }),
      shutdown(T('10:10:00.000'), { 'claude-sonnet-4.5': [2, 20_000, 500, 15_000, 2_000] }),
      ev('session.resume', T('11:00:00.000'), {
        resumeTime: T('11:00:00.000'),
        eventCount: 3,
        context: { ...startCtx, branch: 'fix/resume' },
        selectedModel: 'claude-sonnet-4.5',
      }),
      ev('user.message', T('11:00:01.000'), { content: 'second run' }),
      // Cumulative: sonnet (5, 50 000, 1 400, 40 000, 4 000) ≥ (2, 20 000, 500, 15 000, 2 000); gpt-5-mini is new.
      shutdown(T('11:10:00.000'), {
        'claude-sonnet-4.5': [5, 50_000, 1_400, 40_000, 4_000],
        'gpt-5-mini': [1, 1_000, 50, 0, 0],
      }),
    ]);
    const { store } = await indexCopilot(home);
    assert.deepEqual(
      usageRows(store, R).map((r) => [r.model, r.git_branch, r.input, r.output, r.cache_read, r.cache_write]),
      [
        // run 1: 20 000 − 15 000 − 2 000 = 3 000
        ['claude-sonnet-4.5', 'main', 3_000, 500, 15_000, 2_000],
        // run 2: (30 000, 900, 25 000, 2 000) → 30 000 − 25 000 − 2 000 = 3 000, on the resumed branch
        ['claude-sonnet-4.5', 'fix/resume', 3_000, 900, 25_000, 2_000],
        ['gpt-5-mini', 'fix/resume', 1_000, 50, 0, 0],
      ],
    );
    const s = mustGet(sessionsById(store), R);
    // = the last (cumulative) shutdown: 50 000 − 40 000 − 4 000 + 1 000 = 7 000; 1 400 + 50 = 1 450
    assert.equal(s.tokens_input, 7_000);
    assert.equal(s.tokens_output, 1_450);
    assert.equal(s.tokens_cache_read, 40_000);
    assert.equal(s.tokens_cache_write, 4_000);
    // session.resume: the next prompt starts a second run.
    assert.equal(s.revival_count, 1);
    assert.equal(s.last_started_at, T('11:00:01.000'));
    assert.equal(s.git_branch, 'fix/resume');
  });

  test('a later shutdown with any counter lower is a fresh process: it counts whole; a shutdown without metrics adds nothing', async () => {
    const home = path.join(await tempDir('ah-copilot-r-'), '.copilot');
    await writeSession(home, R, [
      ev('session.start', T('10:00:00.000'), { sessionId: R, copilotVersion: '1.0.40', context: startCtx }),
      shutdown(T('10:10:00.000'), { 'claude-sonnet-4.5': [3, 30_000, 800, 20_000, 5_000] }),
      ev('session.resume', T('11:00:00.000'), { resumeTime: T('11:00:00.000'), eventCount: 2 }),
      // Crashed/odd exit with no metrics: nothing to count.
      ev('session.shutdown', T('11:05:00.000'), {
        shutdownType: 'error',
        errorReason: 'boom',
        modelMetrics: {},
        codeChanges: { linesAdded: 0, linesRemoved: 0, filesModified: [] },
      }),
      ev('session.resume', T('11:06:00.000'), { resumeTime: T('11:06:00.000'), eventCount: 3 }),
      // input 18 000 < 30 000: counters restarted, a per-process figure (even though output grew).
      shutdown(T('11:10:00.000'), { 'claude-sonnet-4.5': [2, 18_000, 900, 12_000, 1_000] }),
    ]);
    const { store } = await indexCopilot(home);
    const s = mustGet(sessionsById(store), R);
    // 30 000 − 20 000 − 5 000 = 5 000 and 18 000 − 12 000 − 1 000 = 5 000
    assert.equal(s.tokens_input, 10_000);
    assert.equal(s.tokens_output, 1_700); // 800 + 900
    assert.equal(s.tokens_cache_read, 32_000);
    assert.equal(s.tokens_cache_write, 6_000);
    assert.equal(s.api_request_count, 5); // requests.count of both shutdowns: 3 + 2
  });

  test('per-request rows larger than the shutdown leave no negative residual; the row stands', async () => {
    const home = path.join(await tempDir('ah-copilot-r-'), '.copilot');
    await writeSession(home, R, [
      ev('session.start', T('10:00:00.000'), { sessionId: R, copilotVersion: '1.0.63' }),
      usageLine(T('10:00:05.000'), 'claude-sonnet-4.5', 10_000, 100, 8_000, 1_000, { apiCallId: 'x1' }),
      // The shutdown says 9 000 input: 9 000 − 10 000 < 0 → 0; other counters equal → no residual row.
      shutdown(T('10:10:00.000'), { 'claude-sonnet-4.5': [1, 9_000, 100, 8_000, 1_000] }),
    ]);
    const { store } = await indexCopilot(home);
    const rows = usageRows(store, R);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0].dedup_key, rows[0].input, rows[0].output],
      [requestKeyRef(`copilot:${R}:req:x1`), 1_000, 100],
    );
  });
});

describe('copilot adapter: records', () => {
  const file = {
    path: '/r/session-state/s1/events.jsonl',
    root: '/r',
    session_id: 's1',
    parent_session_id: null,
    agent_id: null,
  };
  const parseAll = (records: object[]) => {
    const ctx = { file, state: {} as Record<string, unknown> };
    const out: AgentEvent[] = [];
    for (const r of records) out.push(...(copilotAdapter.parseLine!(JSON.stringify(r), ctx) ?? []));
    return { out, state: ctx.state };
  };

  test('shutdown rows carry their request count and the provider; premium-request cost never becomes money', () => {
    const { out } = parseAll([
      shutdown(T('10:00:00.000'), { 'claude-opus-4.7': [7, 70_000, 700, 60_000, 0] }, { totalPremiumRequests: 52.5 }),
    ]);
    const u = out.find((e): e is UsageEvent & { request_count: number } => e.kind === 'usage')!;
    assert.equal(u.request_count, 7);
    assert.equal(u.provider, 'anthropic');
    assert.equal(u.vendor_cost_usd, undefined);
    assert.deepEqual(u.tokens, { input: 10_000, output: 700, cache_read: 60_000, cache_write: 0, cache_write_1h: 0 });
    assert.equal(
      out.some((e) => e.kind === 'meta' && e.agent_cost_usd !== undefined),
      false,
    );
  });

  test('token_totals_pending: set when a process starts or resumes, cleared by a shutdown that carries totals', () => {
    const pending = (records: object[]) =>
      parseAll(records)
        .out.filter((e) => e.kind === 'meta' && 'token_totals_pending' in e)
        .map((e) => (e as { token_totals_pending?: boolean }).token_totals_pending);
    assert.deepEqual(
      pending([
        ev('session.start', T('10:00:00.000'), { sessionId: 's1', copilotVersion: '1.0.63' }),
        ev('session.shutdown', T('10:01:00.000'), { shutdownType: 'routine', modelMetrics: {} }),
        shutdown(T('10:02:00.000'), { 'gpt-5': [1, 10, 1, 0, 0] }),
        ev('session.resume', T('11:00:00.000'), { resumeTime: T('11:00:00.000'), eventCount: 3 }),
      ]),
      [true, false, true],
    );
  });

  test('reasoning tokens: inside outputTokens for Claude/GPT; added to output for Gemini, which reports them apart', () => {
    const { out } = parseAll([
      ev('session.shutdown', T('10:00:00.000'), {
        shutdownType: 'routine',
        modelMetrics: {
          'gpt-5': {
            requests: { count: 1, cost: 1 },
            usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 30 },
          },
          'gemini-2.5-pro': {
            requests: { count: 1, cost: 1 },
            usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 30 },
          },
        },
      }),
    ]);
    const outputs = out.filter((e): e is UsageEvent => e.kind === 'usage').map((u) => [u.model, u.tokens.output]);
    // gpt-5: 50 (30 of them reasoning); gemini: 50 + 30 = 80
    assert.deepEqual(outputs, [
      ['gpt-5', 50],
      ['gemini-2.5-pro', 80],
    ]);
  });

  test('turn states: prompt → waiting; tools asked/running → tool_running; all tools done → waiting; tool-less turn end → ended', () => {
    const { out } = parseAll([
      ev('user.message', T('10:00:00.000'), { content: 'go' }),
      ev('assistant.turn_start', T('10:00:00.100'), { turnId: '0' }),
      ev('assistant.message', T('10:00:01.000'), {
        messageId: 'm0',
        content: '',
        toolRequests: [
          { toolCallId: 't1', name: 'bash' },
          { toolCallId: 't2', name: 'view' },
        ],
      }),
      ev('tool.execution_start', T('10:00:01.100'), { toolCallId: 't1', toolName: 'bash' }),
      ev('tool.execution_start', T('10:00:01.200'), { toolCallId: 't2', toolName: 'view' }),
      ev('tool.execution_complete', T('10:00:02.000'), { toolCallId: 't1', success: true }),
      ev('tool.execution_complete', T('10:00:03.000'), {
        toolCallId: 't2',
        success: false,
        error: { message: 'nope' },
      }),
      ev('assistant.turn_end', T('10:00:03.100'), { turnId: '0' }),
      ev('assistant.turn_start', T('10:00:03.200'), { turnId: '1' }),
      // A sub-agent's events never move the main status.
      ev('assistant.turn_start', T('10:00:03.300'), { turnId: '0' }, { agentId: 'sub' }),
      ev('assistant.message', T('10:00:04.000'), { messageId: 'm1', content: 'done', toolRequests: [] }),
      ev('assistant.turn_end', T('10:00:04.100'), { turnId: '1' }),
    ]);
    const turns = out.filter((e) => e.kind === 'turn').map((e) => (e.kind === 'turn' ? e.state : ''));
    assert.deepEqual(turns, [
      'waiting_model', // prompt
      'waiting_model', // turn_start
      'tool_running', // message asking for tools
      'tool_running', // t1 start
      'tool_running', // t2 start
      'tool_running', // t1 done, t2 still running
      'waiting_model', // t2 done
      'waiting_model', // turn end after tools: the loop asks the model again
      'waiting_model', // turn_start 1
      'ended', // turn end after a tool-less message
    ]);
  });

  test('prompts: only what a person typed (no source, no autopilot continuation, no sub-agent); resume marks a run start', () => {
    const { out } = parseAll([
      ev('user.message', T('10:00:00.000'), { content: 'typed' }),
      ev('user.message', T('10:00:01.000'), { content: 'skill text', source: 'skill-pdf' }),
      ev('user.message', T('10:00:02.000'), { content: 'continue', isAutopilotContinuation: true }),
      ev('user.message', T('10:00:03.000'), { content: 'sub task' }, { agentId: 'a1' }),
      ev('user.message', T('10:00:04.000'), { content: '   ' }),
      ev('session.resume', T('11:00:00.000'), { resumeTime: T('11:00:00.000'), eventCount: 5 }),
      ev('user.message', T('11:00:01.000'), { content: 'again' }),
      ev('user.message', T('11:00:02.000'), { content: 'and again' }),
    ]);
    const prompts = out
      .filter((e) => e.kind === 'user_prompt')
      .map((e) => (e.kind === 'user_prompt' ? [e.text, e.run_start] : []));
    assert.deepEqual(prompts, [
      ['typed', false],
      ['again', true],
      ['and again', false],
    ]);
  });

  test('meta: version, model (never "auto"), context branch/repo, title change, errors, compactions', () => {
    const { out, state } = parseAll([
      ev('session.start', T('10:00:00.000'), {
        sessionId: 's1',
        copilotVersion: '1.0.63',
        selectedModel: 'auto',
        context: { cwd: '/w', branch: 'b1', repository: 'org/proj/repo', hostType: 'ado' },
      }),
      ev('session.model_change', T('10:00:01.000'), { previousModel: 'auto', newModel: 'gpt-5.2' }),
      ev('session.context_changed', T('10:00:02.000'), {
        cwd: '/w2',
        branch: 'b2',
        repository: 'o/r',
        hostType: 'github',
      }),
      ev('session.title_changed', T('10:00:03.000'), { title: 'A title' }, { ephemeral: true }),
      ev('session.error', T('10:00:04.000'), { errorType: 'quota', message: 'out of quota' }),
      ev('model.call_failure', T('10:00:05.000'), { statusCode: 429, errorMessage: 'rate limit' }, { ephemeral: true }),
      ev('session.compaction_complete', T('10:00:06.000'), { success: false, error: 'x' }),
      ev('session.compaction_complete', T('10:00:07.000'), { success: true, postCompactionTokens: 5_000 }),
    ]);
    const metas = out.filter((e) => e.kind === 'meta');
    const merged = Object.assign({}, ...metas);
    assert.equal(merged.agent_version, '1.0.63');
    assert.equal(merged.model, 'gpt-5.2');
    assert.equal(merged.cwd, '/w2');
    assert.equal(merged.git_branch, 'b2');
    // The Azure DevOps repository of the start context was not taken as a GitHub one.
    assert.equal(metas.filter((m) => m.kind === 'meta' && m.github_repo !== undefined).length, 1);
    assert.equal(merged.github_repo, 'o/r');
    assert.equal(merged.ai_title, 'A title');
    assert.equal(merged.context, 5_000);
    assert.equal(out.filter((e) => e.kind === 'api_error').length, 2);
    assert.equal(out.filter((e) => e.kind === 'compaction').length, 1);
    assert.equal(state.branch, 'b2');
  });

  test('malformed lines are skipped and counted; the rest is indexed; a half last line waits', async () => {
    const home = path.join(await tempDir('ah-copilot-bad-'), '.copilot');
    const S = 'ffffffff-0000-4000-8000-00000000000f';
    const file = await writeSession(home, S, []);
    const good = (r: object) => JSON.stringify(r);
    await fsp.writeFile(
      file,
      [
        good(ev('session.start', T('10:00:00.000'), { sessionId: S, copilotVersion: '1.0.63' })),
        'not json at all',
        '[1,2,3]',
        '"a string"',
        '{"no":"type"}',
        '{"type":""}',
        '{"type":"user.message","data":"not an object","timestamp":"2026-07-01T10:00:00.500Z"}',
        good(ev('user.message', T('10:00:01.000'), { content: 'still indexed' })),
        good(shutdown(T('10:05:00.000'), { 'gpt-5': [1, 1_000, 10, 0, 0] })),
        '{"type":"session.shutdown","data":{"modelMetr',
      ].join('\n'),
    );
    const log = recordingLogger();
    const { store, stats } = await indexCopilot(home, log);
    // not json, array, string, no type, empty type = 5; the half line is not read yet.
    assert.equal(stats.lines_skipped, 5);
    assert.equal(diagnostics(store).lines_skipped, 5);
    assert.equal(log.warnings.length, 1);
    const s = mustGet(sessionsById(store), S);
    assert.equal(s.message_count, 1);
    assert.equal(s.tokens_input, 1_000);
    assert.equal(s.tokens_output, 10);
  });

  test('workspace.yaml is read with its events.jsonl; a missing or unreadable one is no error', async () => {
    const events = path.join(await tempDir('ah-copilot-ws-'), 'session-state', 'abc', 'events.jsonl');
    const f = { path: events, root: '/r', session_id: 'abc', parent_session_id: null, agent_id: null };
    assert.deepEqual(await copilotAdapter.fileEvents!(f), []);
    await fsp.mkdir(path.dirname(events), { recursive: true });
    await fsp.writeFile(
      path.join(path.dirname(events), 'workspace.yaml'),
      'id: abc\ncwd: /w\nbranch: dev\nsummary: Title here\n',
    );
    assert.deepEqual(await copilotAdapter.fileEvents!(f), [
      { kind: 'meta', ts: null, cwd: '/w', git_branch: 'dev', ai_title: 'Title here' },
    ]);
    // A flat legacy file has no workspace.yaml of its own.
    assert.deepEqual(
      await copilotAdapter.fileEvents!({ ...f, path: path.join(path.dirname(events), '..', 'abc.jsonl') }),
      [],
    );
  });
});
