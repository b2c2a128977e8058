/**
 * The Amp adapter (src/core/sources/amp.ts) on format-faithful legacy threads
 * (test/fixtures/amp/threads/, sources in test/fixtures/amp/README.md) and hand-made cases, each
 * indexed by the real Indexer, with only this adapter, into a sql.js store on disk. Amp's own
 * `credits` are never money: every cost below is tokens × the model's price, worked out in comments.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { Indexer, type IndexStats } from '../../src/core/ingest/indexer';
import { ampAdapter, ampProvider, ampTokens } from '../../src/core/sources/amp';
import { sourceEnvFrom } from '../../src/core/sources/registry';
import { all } from '../../src/core/store/sqlite';
import { diagnostics, grandTotal, type SessionView } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { FIXTURES, assertUsd, keyNames, mustGet, sessionsById, silentLogger, tempDir } from './helpers';

const FIX = path.join(FIXTURES, 'amp', 'threads');
const T1 = 'T-0199aaaa-bbbb-7ccc-8ddd-eeeeffff0001';
const T2 = 'T-0199bbbb-cccc-7ddd-8eee-ffff00000002';

interface Ix {
  store: Store;
  indexer: Indexer;
  stats: IndexStats;
  sessions: Map<string, SessionView>;
}

async function index(
  home: string,
  env: Record<string, string> = {},
  extraRoots?: Record<string, string[]>,
): Promise<Ix> {
  const store = await Store.open(path.join(await tempDir('ah-amp-store-'), 'store.sqlite'));
  const indexer = new Indexer(store, [ampAdapter], sourceEnvFrom(env, home, extraRoots), silentLogger);
  const stats = await indexer.scanAll();
  return { store, indexer, stats, sessions: sessionsById(store) };
}

async function newHome(): Promise<string> {
  return path.join(await tempDir('ah-amp-'), 'home');
}

function threadsDir(home: string): string {
  return path.join(home, '.local', 'share', 'amp', 'threads');
}

async function writeThread(home: string, thread: { id: string } & Record<string, unknown>): Promise<string> {
  const file = path.join(threadsDir(home), `${thread.id}.json`);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, JSON.stringify(thread, null, 2));
  return file;
}

function turnState(store: Store, id: string): string | null {
  return (
    all<{ turn_state: string | null }>(store.db, 'SELECT turn_state FROM sessions WHERE session_id = ?', [id])[0]
      ?.turn_state ?? null
  );
}

const sentAt = (hms: string) => Date.parse(`2026-11-20T${hms}Z`);
const prompt = (messageId: number, hms: string, text: string) => ({
  role: 'user',
  messageId,
  content: [{ type: 'text', text }],
  meta: { sentAt: sentAt(hms) },
});
const answer = (
  messageId: number,
  hms: string,
  usage: Record<string, unknown>,
  state: Record<string, unknown> = { type: 'complete', stopReason: 'end_turn' },
  content: unknown[] = [{ type: 'text', text: 'ok' }],
) => ({
  role: 'assistant',
  messageId,
  content,
  state,
  usage: {
    model: 'claude-opus-4-5-20251101',
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    ...usage,
    timestamp: `2026-11-20T${hms}Z`,
  },
});
const thread = (id: string, messages: unknown[], extra: Record<string, unknown> = {}) => ({
  v: 1,
  id,
  created: sentAt('10:00:00.000'),
  title: 'hand-made',
  messages,
  ...extra,
});

describe('Amp fixtures: legacy local threads', () => {
  let ix: Ix;
  let s1: SessionView;
  let s2: SessionView;

  before(async () => {
    const home = await newHome();
    await fsp.mkdir(threadsDir(home), { recursive: true });
    for (const f of await fsp.readdir(FIX)) await fsp.copyFile(path.join(FIX, f), path.join(threadsDir(home), f));
    ix = await index(home);
    s1 = mustGet(ix.sessions, T1);
    s2 = mustGet(ix.sessions, T2);
  });

  test('two threads, two sessions, nothing skipped', () => {
    assert.deepEqual([...ix.sessions.keys()].sort(), [T1, T2]);
    assert.equal(ix.stats.files_read, 2);
    assert.equal(diagnostics(ix.store).lines_skipped, 0);
    assert.equal(grandTotal(ix.store).requests, 5);
  });

  test('messages[].usage: three requests, Anthropic token kinds, priced at claude-opus-4-5 (credits ignored)', () => {
    // inputTokens 12 + 4 + 6 = 22; output 80 + 60 + 20 = 160; cache read 3400 + 4300 + 4310 = 12010;
    // cache write 900 + 10 + 0 = 910.
    assert.equal(s1.api_request_count, 3);
    assert.equal(s1.tokens_input, 22);
    assert.equal(s1.tokens_output, 160);
    assert.equal(s1.tokens_cache_read, 12010);
    assert.equal(s1.tokens_cache_write, 910);
    // $5/M input, $25/M output, $0.50/M cache read, $6.25/M cache write:
    // 22×5 + 160×25 + 12010×0.5 + 910×6.25 = 110 + 4000 + 6005 + 5687.5 = 15802.5 µ$.
    // (The thread's credits, 1.7 + 0.9 + 0.6 = 3.2, are not dollars and appear nowhere.)
    assertUsd(s1.cost_usd, 0.0158025);
    assert.equal(s1.unpriced_requests, 0);
    assert.equal(s1.agent_cost_usd, null);
  });

  test('usage events name the provider of the model: anthropic for claude models', async () => {
    const file = ampAdapter.classify(path.dirname(FIX), path.join(FIX, `${T1}.json`))!;
    const [doc] = await ampAdapter.readDocument(file);
    const usage = doc.events.flatMap((e) => (e.kind === 'usage' ? [e] : []));
    assert.deepEqual(
      usage.map((u) => [u.dedup_key, u.message_id, u.provider, u.model]),
      [
        [`amp:${T1}:1`, `${T1}:1`, 'anthropic', 'claude-opus-4-5-20251101'],
        [`amp:${T1}:3`, `${T1}:3`, 'anthropic', 'claude-opus-4-5-20251101'],
        [`amp:${T1}:5`, `${T1}:5`, 'anthropic', 'claude-opus-4-5-20251101'],
      ],
    );
    // Never a vendor cost: credits are not dollars.
    assert.ok(usage.every((u) => u.vendor_cost_usd === undefined));
  });

  test('thread fields: cwd from the file:// tree, branch from refs/heads/, title, version, model, context, prompts, tools, links', () => {
    assert.equal(s1.cwd, '/Users/dev/proj x');
    assert.equal(s1.git_branch, 'main');
    assert.equal(s1.title, 'Fix the off-by-one');
    assert.equal(s1.model, 'claude-opus-4-5-20251101');
    // The last request's totalInputTokens (6 + 0 + 4310).
    assert.equal(s1.context, 4316);
    assert.equal(s1.message_count, 1);
    assert.equal(s1.first_user_message, 'fix the loop bound (see https://github.com/acme/proj-x/issues/12)');
    assert.equal(s1.tool_call_count, 3);
    assert.equal(s1.github_repo, 'acme/proj-x');
    assert.equal(s1.github_issue, 12);
    assert.equal(s1.first_started_at, '2026-01-12T00:36:24.664Z'); // created 1768178184664
    assert.equal(s1.last_activity, '2026-01-12T00:38:12.000Z');
    assert.equal(s1.api_error_count, 0);
    assert.equal(s1.compaction_count, 0);
    assert.equal(turnState(ix.store, T1), 'ended');
    assert.equal(s1.framework, 'amp');
    const branches = all<{ git_branch: string | null }>(
      ix.store.db,
      'SELECT DISTINCT git_branch FROM usage WHERE session_id = ?',
      [T1],
    );
    assert.deepEqual(branches, [{ git_branch: 'main' }]);
  });

  test('usageLedger.events: the ledger is the request list, the linked message adds its cache counts', () => {
    // ev-1 (claude-haiku-4-5, → message 1): input 10, output 178, + message 1's cache read 11372 and write 986.
    // ev-2 (gpt-5, → message 3, which has no usage): input 500, output 42.
    assert.equal(s2.api_request_count, 2);
    assert.equal(s2.tokens_input, 510);
    assert.equal(s2.tokens_output, 220);
    assert.equal(s2.tokens_cache_read, 11372);
    assert.equal(s2.tokens_cache_write, 986);
    // haiku-4-5 ($1 in, $5 out, $0.10 cache read, $1.25 cache write): 10 + 890 + 1137.2 + 1232.5 = 3269.7 µ$
    // gpt-5 ($1.25 in, $10 out): 625 + 420 = 1045 µ$; total 4314.7 µ$.
    assertUsd(s2.cost_usd, 0.0043147);
    const rows = all<{ dedup_key: string; model: string; cost_usd: number }>(
      ix.store.db,
      'SELECT hex(dedup_hash) AS dedup_key, model, cost_usd FROM usage WHERE session_id = ? ORDER BY ts',
      [T2],
    );
    const name = keyNames(`amp:${T2}:1`, `amp:${T2}:3`);
    assert.deepEqual(
      rows.map((r) => [name(r.dedup_key), r.model]),
      [
        [`amp:${T2}:1`, 'claude-haiku-4-5-20251001'],
        [`amp:${T2}:3`, 'gpt-5'],
      ],
    );
    assertUsd(rows[0].cost_usd, 0.0032697);
    assertUsd(rows[1].cost_usd, 0.001045);
    assert.equal(s2.model, 'gpt-5');
    assert.equal(s2.context, 12368);
    assert.equal(s2.git_branch, 'docs/changelog');
    assert.equal(s2.cwd, '/home/dev/notes');
    assert.equal(s2.message_count, 2);
    assert.equal(s2.last_user_message, 'now as a haiku, with the oracle');
  });
});

describe('Amp roots and paths', () => {
  test('AMP_DATA_DIR, $XDG_DATA_HOME/amp, ~/.local/share/amp and extra roots', () => {
    const e = sourceEnvFrom({ AMP_DATA_DIR: '/data/amp', XDG_DATA_HOME: '/xdg' }, '/home/u', { amp: ['/backup/amp'] });
    assert.deepEqual(ampAdapter.roots(e), ['/data/amp', '/xdg/amp', '/home/u/.local/share/amp', '/backup/amp']);
    assert.deepEqual(ampAdapter.roots(sourceEnvFrom({}, '/home/u')), ['/home/u/.local/share/amp']);
    assert.deepEqual(ampAdapter.watchDirs('/home/u/.local/share/amp'), ['/home/u/.local/share/amp/threads']);
  });

  test('classify: threads/T-*.json only', () => {
    const root = '/h/.local/share/amp';
    assert.deepEqual(ampAdapter.classify(root, `${root}/threads/T-abc.json`), {
      path: `${root}/threads/T-abc.json`,
      root,
      session_id: 'T-abc',
      parent_session_id: null,
      agent_id: null,
    });
    assert.equal(ampAdapter.classify(root, `${root}/threads/settings.json`), null);
    assert.equal(ampAdapter.classify(root, `${root}/threads/sub/T-abc.json`), null);
    assert.equal(ampAdapter.classify(root, `${root}/device-id.json`), null);
    assert.equal(ampAdapter.classify(root, `${root}/threads/T-abc.log`), null);
  });

  test('a thread under $XDG_DATA_HOME/amp is found', async () => {
    const home = await newHome();
    const xdg = path.join(path.dirname(home), 'xdg');
    const file = path.join(xdg, 'amp', 'threads', 'T-x1.json');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, JSON.stringify(thread('T-x1', [prompt(0, '10:00:01.000', 'hi')])));
    const { sessions } = await index(home, { XDG_DATA_HOME: xdg });
    assert.equal(mustGet(sessions, 'T-x1').message_count, 1);
  });
});

describe('Amp rules', () => {
  test('tokens: inputTokens excludes cache; provider from the model family', () => {
    assert.deepEqual(
      ampTokens({
        inputTokens: 12,
        outputTokens: 80,
        cacheCreationInputTokens: 900,
        cacheReadInputTokens: 3400,
        totalInputTokens: 4312,
      }),
      {
        input: 12,
        output: 80,
        cache_read: 3400,
        cache_write: 900,
        cache_write_1h: 0,
      },
    );
    assert.deepEqual(ampTokens({ inputTokens: -1, outputTokens: 'x' }), {
      input: 0,
      output: 0,
      cache_read: 0,
      cache_write: 0,
      cache_write_1h: 0,
    });
    assert.equal(ampProvider('claude-sonnet-4-5'), 'anthropic');
    assert.equal(ampProvider('gpt-5-codex'), 'openai');
    assert.equal(ampProvider('o3'), 'openai');
    assert.equal(ampProvider('gemini-2.5-pro'), 'google');
    assert.equal(ampProvider('kimi-k2'), null);
    assert.equal(ampProvider(null), null);
  });

  test('status from the last message: prompt, tool results → waiting; tool_use → tool running; streaming → waiting; cancelled → ended', async () => {
    const home = await newHome();
    const use = [{ type: 'tool_use', complete: true, id: 'toolu_9', name: 'Bash', input: { cmd: 'ls' } }];
    const cases: [string, unknown[], string][] = [
      ['T-s1', [prompt(0, '10:00:01.000', 'go')], 'waiting_model'],
      [
        'T-s2',
        [
          prompt(0, '10:00:01.000', 'go'),
          answer(1, '10:00:02.000', { inputTokens: 5 }, { type: 'complete', stopReason: 'tool_use' }, use),
        ],
        'tool_running',
      ],
      [
        'T-s3',
        [
          prompt(0, '10:00:01.000', 'go'),
          answer(1, '10:00:02.000', { inputTokens: 5 }, { type: 'complete', stopReason: 'tool_use' }, use),
          {
            role: 'user',
            messageId: 2,
            content: [{ type: 'tool_result', toolUseID: 'toolu_9', run: { status: 'done', result: { output: '' } } }],
          },
        ],
        'waiting_model',
      ],
      [
        'T-s4',
        [prompt(0, '10:00:01.000', 'go'), answer(1, '10:00:02.000', { inputTokens: 5 }, { type: 'streaming' })],
        'waiting_model',
      ],
      [
        'T-s5',
        [prompt(0, '10:00:01.000', 'go'), answer(1, '10:00:02.000', { inputTokens: 5 }, { type: 'cancelled' })],
        'ended',
      ],
    ];
    for (const [id, messages] of cases) await writeThread(home, thread(id, messages));
    const { store, sessions } = await index(home);
    for (const [id, , state] of cases) assert.equal(turnState(store, id), state, id);
    assert.equal(mustGet(sessions, 'T-s3').tool_call_count, 1);
    // Tool results are not prompts.
    assert.equal(mustGet(sessions, 'T-s3').message_count, 1);
  });

  test('a rewritten thread (Amp bumps `v` and rewrites the file) is read again whole: rows replaced, not added', async () => {
    const home = await newHome();
    const msgs = [
      prompt(0, '10:00:01.000', 'go'),
      answer(1, '10:00:02.000', { inputTokens: 10, outputTokens: 1 }, { type: 'streaming' }),
    ];
    await writeThread(home, thread('T-w', msgs));
    const ix = await index(home);
    assert.equal(mustGet(ix.sessions, 'T-w').tokens_output, 1);
    // The same response, now complete (same messageId), plus a second prompt and answer.
    msgs[1] = answer(1, '10:00:02.000', { inputTokens: 10, outputTokens: 50 });
    msgs.push(prompt(2, '10:00:03.000', 'more'), answer(3, '10:00:04.000', { inputTokens: 20, outputTokens: 5 }));
    await writeThread(home, thread('T-w', msgs, { v: 2 }));
    await ix.indexer.scanAll();
    const s = mustGet(sessionsById(ix.store), 'T-w');
    assert.equal(s.api_request_count, 2);
    assert.equal(s.tokens_input, 30);
    assert.equal(s.tokens_output, 55);
    assert.equal(s.message_count, 2);
  });

  test('an unknown model is unpriced, never priced from credits; a usage with no tokens is no request', async () => {
    const home = await newHome();
    await writeThread(
      home,
      thread('T-u', [
        prompt(0, '10:00:01.000', 'go'),
        answer(1, '10:00:02.000', { model: 'amp-internal-model', inputTokens: 100, outputTokens: 10, credits: 5 }),
        answer(2, '10:00:03.000', { inputTokens: 0, outputTokens: 0 }),
      ]),
    );
    const s = mustGet((await index(home)).sessions, 'T-u');
    assert.equal(s.api_request_count, 1);
    assert.equal(s.unpriced_requests, 1);
    assert.equal(s.cost_usd, null, 'nothing could be priced: null, never $0');
  });

  test('a thread without id falls back to the file name; messages that are not objects are skipped', async () => {
    const home = await newHome();
    const file = path.join(threadsDir(home), 'T-noid.json');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(
      file,
      JSON.stringify({
        v: 1,
        created: sentAt('10:00:00.000'),
        messages: [null, 'junk', 42, prompt(0, '10:00:01.000', 'still read')],
      }),
    );
    const s = mustGet((await index(home)).sessions, 'T-noid');
    assert.equal(s.message_count, 1);
    assert.equal(s.cwd, null);
    assert.equal(s.git_branch, null);
  });

  test('a corrupt or non-thread document is counted as skipped, not fatal; fixed, it is read', async () => {
    const home = await newHome();
    await writeThread(
      home,
      thread('T-ok', [
        prompt(0, '10:00:01.000', 'fine'),
        answer(1, '10:00:02.000', { inputTokens: 7, outputTokens: 3 }),
      ]),
    );
    const bad = path.join(threadsDir(home), 'T-bad.json');
    await fsp.writeFile(bad, '{\n  "v": 3,\n  "id": "T-bad",\n  "messages": [\n    {"role": "us');
    await fsp.writeFile(path.join(threadsDir(home), 'T-notathread.json'), '{"theme": "dark"}');
    const ix = await index(home);
    assert.deepEqual([...ix.sessions.keys()], ['T-ok']);
    assert.equal(ix.stats.lines_skipped, 2);
    assert.equal(mustGet(ix.sessions, 'T-ok').tokens_input, 7);

    await writeThread(home, thread('T-bad', [prompt(0, '10:00:05.000', 'repaired')]));
    await ix.indexer.scanAll();
    assert.equal(mustGet(sessionsById(ix.store), 'T-bad').first_user_message, 'repaired');
  });
});
