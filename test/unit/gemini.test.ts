/**
 * The Gemini CLI adapter (src/core/sources/gemini.ts): the real chat written by Gemini CLI 0.61.0
 * (test/fixtures/gemini/real/, a prompt then two `--resume latest` runs) checked against the CLI's
 * own stats (cli-output/), and one hand-made case per replay rule. Every chat is indexed by the
 * real Indexer, with only this adapter, into a sql.js store on disk. Numbers are worked out in
 * comments next to them.
 */
import assert from 'node:assert/strict';
import { readFileSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { Indexer, documentPathOf, type IndexStats } from '../../src/core/ingest/indexer';
import { geminiAdapter, geminiTokens, promptText, replayLines } from '../../src/core/sources/gemini';
import { sourceEnvFrom } from '../../src/core/sources/registry';
import { all } from '../../src/core/store/sqlite';
import { diagnostics, grandTotal, type SessionView } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { FIXTURES, assertUsd, jsonl, mustGet, sessionsById, silentLogger, tempDir } from './helpers';

const REAL = path.join(FIXTURES, 'gemini', 'real');
const REAL_ID = '19a7605b-200f-4f5e-ba22-b5ac130c4b76';
const REAL_CWD = '/home/dev/agent/work/repo-gemini';

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
  const store = await Store.open(path.join(await tempDir('ah-gemini-store-'), 'store.sqlite'));
  const indexer = new Indexer(store, [geminiAdapter], sourceEnvFrom(env, home, extraRoots), silentLogger);
  const stats = await indexer.scanAll();
  return { store, indexer, stats, sessions: sessionsById(store) };
}

async function newHome(): Promise<string> {
  return path.join(await tempDir('ah-gemini-'), 'home');
}

async function copyTree(src: string, dst: string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    if (e.isDirectory()) await copyTree(path.join(src, e.name), path.join(dst, e.name));
    else await fsp.copyFile(path.join(src, e.name), path.join(dst, e.name));
  }
}

function turnState(store: Store, id: string): string | null {
  return (
    all<{ turn_state: string | null }>(store.db, 'SELECT turn_state FROM sessions WHERE session_id = ?', [id])[0]
      ?.turn_state ?? null
  );
}

// ---- hand-made records, shaped like the real ones (chatRecordingTypes.ts) --------------------------

const PROJECT = 'rules-project';
const PROJECT_ROOT = '/nonexistent/gemini-rules';
const t = (hms: string) => `2026-11-20T${hms}Z`;

function meta(sessionId: string, ts: string, kind = 'main'): object {
  return { sessionId, projectHash: 'f'.repeat(64), startTime: ts, lastUpdated: ts, kind };
}
function user(id: string, ts: string, text: string, extra: object = {}): object {
  return { id, timestamp: ts, type: 'user', content: [{ text }], ...extra };
}
function toolResult(id: string, ts: string, callId: string): object {
  return {
    id,
    timestamp: ts,
    type: 'user',
    content: [{ functionResponse: { id: callId, name: 'run_shell_command', response: { output: 'ok' } } }],
  };
}
interface Tok {
  input: number;
  output: number;
  cached?: number;
  thoughts?: number;
  tool?: number;
}
function tokens(k: Tok): object {
  const total = k.input + k.output + (k.thoughts ?? 0) + (k.tool ?? 0);
  return {
    input: k.input,
    output: k.output,
    cached: k.cached ?? 0,
    thoughts: k.thoughts ?? 0,
    tool: k.tool ?? 0,
    total,
  };
}
function gemini(id: string, ts: string, tok: Tok | null, extra: object = {}, model = 'gemini-2.5-flash'): object {
  return {
    id,
    timestamp: ts,
    type: 'gemini',
    content: 'ok',
    thoughts: [],
    tokens: tok ? tokens(tok) : null,
    model,
    ...extra,
  };
}
function call(id: string, status: string, name = 'run_shell_command'): object {
  return { id, name, args: { command: 'echo hi' }, status, timestamp: t('10:00:09.000'), displayName: 'Shell' };
}
const setTs = (ts: string) => ({ $set: { lastUpdated: ts } });

/** Writes a .jsonl chat under `<home>/.gemini/tmp/<project>/chats/` and the project's `.project_root`. */
async function writeChat(
  home: string,
  rel: string,
  records: (object | string)[],
  project = PROJECT,
  root: string | null = PROJECT_ROOT,
): Promise<string> {
  const dir = path.join(home, '.gemini', 'tmp', project);
  const file = path.join(dir, 'chats', rel);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  if (root) await fsp.writeFile(path.join(dir, '.project_root'), `${root}\n`);
  await fsp.writeFile(file, records.map((r) => (typeof r === 'string' ? `${r}\n` : jsonl([r]))).join(''));
  return file;
}

// gemini-2.5-flash (genai-prices): input $0.30/M, cache read $0.03/M, output $2.50/M.
const flashUsd = (input: number, cacheRead: number, output: number) =>
  (input * 0.3 + cacheRead * 0.03 + output * 2.5) / 1e6;

// ---- the real chat ---------------------------------------------------------------------------------

interface CliTokens {
  prompt: number;
  candidates: number;
  cached: number;
  thoughts: number;
  tool: number;
}
interface CliModel {
  api: { totalRequests: number };
  roles: Record<string, { totalRequests: number; tokens: CliTokens }>;
}
interface CliJson {
  session_id: string;
  stats: { models: Record<string, CliModel>; tools: { totalCalls: number } };
}

function cliJson(name: string): CliJson {
  return JSON.parse(readFileSync(path.join(REAL, 'cli-output', name), 'utf8')) as CliJson;
}

/** The main role's requests and tokens of one --output-format json run (the utility router's calls are not in the chat). */
function mainRole(r: CliJson): { requests: number; tokens: CliTokens } {
  const roles = Object.values(r.stats.models).flatMap((m) => (m.roles.main ? [m.roles.main] : []));
  assert.equal(roles.length, 1);
  return { requests: roles[0].totalRequests, tokens: roles[0].tokens };
}

describe('real chat: Gemini CLI 0.61.0 (say hi, resume with a shell call, resume with a file read)', () => {
  let ix: Ix;
  let s: SessionView;

  before(async () => {
    const home = await newHome();
    await copyTree(path.join(REAL, 'tmp'), path.join(home, '.gemini', 'tmp'));
    ix = await index(home);
    s = mustGet(ix.sessions, REAL_ID);
  });

  test('one session from one file, nothing skipped', () => {
    assert.deepEqual([...ix.sessions.keys()], [REAL_ID]);
    assert.equal(ix.stats.files_seen, 1);
    assert.equal(ix.stats.files_read, 1);
    assert.equal(diagnostics(ix.store).lines_skipped, 0);
    const text = readFileSync(
      path.join(REAL, 'tmp', 'repo-gemini', 'chats', 'session-2026-11-25T14-12-19a7605b.jsonl'),
      'utf8',
    );
    assert.equal(replayLines(text.split('\n')).skipped, 0);
  });

  test('tokens and requests equal the CLI’s own stats of the three runs (main role)', () => {
    // Per request (input − cached | cached | output + thoughts):
    //   d115b07f  10104 − 0    | 0    | 19 + 12 = 31
    //   2ec2d215  12010 − 0    | 0    | 52 + 12 = 64
    //   1a92961e  12134 − 8493 | 8493 | 31 + 12 = 43
    //   2f4f8b19  12234 − 8563 | 8563 | 52 + 12 = 64
    //   f4f56e14  12358 − 8650 | 8650 | 36 + 12 = 48
    // fresh input 10104 + 12010 + 3641 + 3671 + 3708 = 33134; cache read 25706; output 250.
    assert.equal(s.api_request_count, 5);
    assert.equal(s.tokens_input, 33134);
    assert.equal(s.tokens_cache_read, 25706);
    assert.equal(s.tokens_output, 250);
    assert.equal(s.tokens_cache_write, 0);

    // Runs 1 and 2 printed --output-format json; run 3's stream-json `result` has per-model totals.
    const r1 = mainRole(cliJson('1-say-hi.json'));
    const r2 = mainRole(cliJson('2-resume-shell.json'));
    const lines = readFileSync(path.join(REAL, 'cli-output', '3-resume-read.stream.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const r3 = (
      JSON.parse(lines[lines.length - 1]) as {
        stats: {
          models: Record<string, { input_tokens: number; output_tokens: number; cached: number; total_tokens: number }>;
        };
      }
    ).stats.models['gemini-3.8-flash'];
    assert.equal(r1.requests + r2.requests, 3); // + 2 in run 3 (read_file, then the answer) = 5
    const prompt = r1.tokens.prompt + r2.tokens.prompt + r3.input_tokens; // 10104 + 24144 + 24592 = 58840
    const cached = r1.tokens.cached + r2.tokens.cached + r3.cached; // 0 + 8493 + 17213 = 25706
    assert.equal(s.tokens_input, prompt - cached);
    assert.equal(s.tokens_cache_read, cached);
    // Run 3's output_tokens excludes thoughts: its total 24704 = 24592 + 88 + thoughts, so thoughts = 24.
    const r3Thoughts = r3.total_tokens - r3.input_tokens - r3.output_tokens;
    assert.equal(r3Thoughts, 24);
    const output =
      r1.tokens.candidates +
      r1.tokens.thoughts +
      r2.tokens.candidates +
      r2.tokens.thoughts +
      r3.output_tokens +
      r3Thoughts;
    assert.equal(s.tokens_output, output); // 19 + 12 + 83 + 24 + 88 + 24 = 250
    assert.equal(r1.tokens.tool + r2.tokens.tool, 0);
  });

  test('cost at gemini-3.8-flash prices; tool calls equal the CLI’s counts', () => {
    // $0.75/M input, $0.075/M cache read, $3.75/M output:
    // 33134 × 0.75 + 25706 × 0.075 + 250 × 3.75 = 24850.5 + 1927.95 + 937.5 = 27715.95 µ$
    assertUsd(s.cost_usd, 0.02771595);
    assert.equal(s.unpriced_requests, 0);
    // run_shell_command (run 2) + read_file (run 3); their ids also appear in checkpoint functionCall parts.
    assert.equal(s.tool_call_count, cliJson('2-resume-shell.json').stats.tools.totalCalls + 1);
    assert.equal(s.tool_call_count, 2);
    assert.equal(s.api_error_count, 0);
  });

  test('prompts, runs, model, context, cwd, status', () => {
    // The injected <session_context> and the tool results are not prompts; checkpoints restate the
    // prompts with new timestamps but do not repeat them.
    assert.equal(s.message_count, 3);
    assert.equal(s.first_user_message, 'say hi');
    assert.equal(s.last_user_message, 'now read the README file');
    assert.equal(s.title, 'say hi');
    // Three metadata lines = three process runs, each with a prompt: two resumes.
    assert.equal(s.revival_count, 2);
    assert.equal(s.first_started_at, '2026-11-25T14:12:14.816Z');
    assert.equal(s.last_started_at, '2026-11-25T14:12:24.866Z');
    assert.equal(s.last_activity, '2026-11-25T14:12:25.058Z');
    assert.equal(s.model, 'gemini-3.8-flash');
    // The last answer's tokens.input (12358, cached part included) + tool (0).
    assert.equal(s.context, 12358);
    assert.equal(s.cwd, REAL_CWD);
    // Gemini records no branch; the repository comes from cwd.
    assert.equal(s.git_branch, null);
    assert.equal(s.framework, 'gemini');
    assert.equal(s.parent_session_id, null);
    assert.equal(s.compaction_count, 0);
    assert.equal(turnState(ix.store, REAL_ID), 'ended');
    assert.equal(s.status, 'done');
  });

  test('re-indexing the unchanged file reads nothing and adds nothing', async () => {
    const again = await ix.indexer.scanAll();
    assert.equal(again.files_read, 0);
    assert.equal(grandTotal(ix.store).requests, 5);
  });
});

// ---- roots and paths -------------------------------------------------------------------------------

describe('Gemini roots and paths', () => {
  test('GEMINI_CLI_HOME replaces the home; ~/.gemini and extra roots are read too', async () => {
    const e = sourceEnvFrom({ GEMINI_CLI_HOME: '/opt/gem' }, '/home/u', { gemini: ['/data/gemini-copy'] });
    assert.deepEqual(geminiAdapter.roots(e), ['/opt/gem/.gemini', '/home/u/.gemini', '/data/gemini-copy']);

    const home = await newHome();
    const cliHome = path.join(path.dirname(home), 'cli-home');
    const A = 'a0000000-0000-4000-8000-000000000001';
    await writeChat(path.join(cliHome), 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('u1', t('10:00:01.000'), 'hi'),
    ]);
    const { sessions } = await index(home, { GEMINI_CLI_HOME: cliHome });
    assert.equal(mustGet(sessions, A).message_count, 1);
  });

  test('classify: main chats (.jsonl and legacy .json), subagent chats; nothing else', () => {
    const root = '/h/.gemini';
    const c = (rel: string) => geminiAdapter.classify(root, path.join(root, rel));
    assert.deepEqual(c('tmp/p/chats/session-2026-11-20T10-00-a0000000.jsonl'), {
      path: '/h/.gemini/tmp/p/chats/session-2026-11-20T10-00-a0000000.jsonl',
      root,
      session_id: null,
      parent_session_id: null,
      agent_id: null,
    });
    assert.notEqual(c('tmp/p/chats/session-2026-11-20T10-00-a0000000.json'), null);
    assert.deepEqual(c('tmp/p/chats/parent-id/sub-id.jsonl'), {
      path: '/h/.gemini/tmp/p/chats/parent-id/sub-id.jsonl',
      root,
      session_id: 'sub-id',
      parent_session_id: 'parent-id',
      agent_id: 'sub-id',
    });
    assert.equal(c('tmp/p/logs.json'), null);
    assert.equal(c('tmp/p/chats/notes.jsonl'), null);
    assert.equal(c('tmp/p/checkpoints/session-x.json'), null);
    assert.equal(c('history/p/session-x.jsonl'), null);
  });

  test('cwd from projects.json (reverse lookup of the slug) when the folder has no .project_root', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000002';
    await writeChat(
      home,
      'session-2026-11-20T10-00-a0000000.jsonl',
      [meta(A, t('10:00:00.000')), user('u1', t('10:00:01.000'), 'hi')],
      'my-repo',
      null,
    );
    await fsp.writeFile(
      path.join(home, '.gemini', 'projects.json'),
      JSON.stringify({ projects: { '/work/other': 'other', '/work/my-repo': 'my-repo' } }),
    );
    const { sessions } = await index(home);
    assert.equal(mustGet(sessions, A).cwd, '/work/my-repo');
  });

  test('neither marker nor registry: cwd stays unknown', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000003';
    await writeChat(
      home,
      'session-2026-11-20T10-00-a0000000.jsonl',
      [meta(A, t('10:00:00.000')), user('u1', t('10:00:01.000'), 'hi')],
      'x',
      null,
    );
    const { sessions } = await index(home);
    assert.equal(mustGet(sessions, A).cwd, null);
  });
});

// ---- tokens ----------------------------------------------------------------------------------------

describe('Gemini tokens', () => {
  test('fresh input = input − cached + tool; output = output + thoughts', () => {
    // tool (toolUsePromptTokenCount) is outside promptTokenCount: total = input + output + thoughts + tool
    // (1000 + 50 + 30 + 200 = 1280), and it is prompt, billed as input.
    assert.deepEqual(geminiTokens({ input: 1000, output: 50, cached: 600, thoughts: 30, tool: 200, total: 1280 }), {
      input: 1000 - 600 + 200,
      output: 80,
      cache_read: 600,
      cache_write: 0,
      cache_write_1h: 0,
    });
    // Missing, negative or non-numeric counts are 0; cached never exceeds input.
    assert.deepEqual(geminiTokens({ input: 10, cached: 99, output: -5, thoughts: 'x' }), {
      input: 0,
      output: 0,
      cache_read: 10,
      cache_write: 0,
      cache_write_1h: 0,
    });
  });

  test('tool tokens are priced as input; context = input + tool of the last answer', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000004';
    await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('u1', t('10:00:01.000'), 'search the web for it'),
      gemini('g1', t('10:00:02.000'), { input: 1000, output: 50, cached: 600, thoughts: 30, tool: 200 }),
    ]);
    const s = mustGet((await index(home)).sessions, A);
    assert.equal(s.tokens_input, 600); // 1000 − 600 + 200
    assert.equal(s.tokens_cache_read, 600);
    assert.equal(s.tokens_output, 80); // 50 + 30
    assertUsd(s.cost_usd, flashUsd(600, 600, 80)); // 180 + 18 + 200 = 398 µ$
    assertUsd(s.cost_usd, 0.000398);
    assert.equal(s.context, 1200);
  });
});

// ---- replay rules ----------------------------------------------------------------------------------

describe('Gemini replay rules', () => {
  test('the same message id appended again: last write wins, counted once (tokens and tool calls added later)', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000005';
    await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('u1', t('10:00:01.000'), 'run it'),
      // Written first without tokens, then with tokens, then with the tool call, then its result.
      gemini('g1', t('10:00:02.000'), null),
      gemini('g1', t('10:00:02.000'), { input: 500, output: 40 }),
      gemini('g1', t('10:00:02.000'), { input: 500, output: 40 }, { toolCalls: [call('c1', 'executing')] }),
      gemini('g1', t('10:00:02.000'), { input: 500, output: 40 }, { toolCalls: [call('c1', 'success')] }),
      toolResult('u2', t('10:00:03.000'), 'c1'),
      gemini('g2', t('10:00:04.000'), { input: 600, output: 10 }),
      // A later version with different numbers replaces the earlier one (last write, not largest).
      gemini('g2', t('10:00:04.000'), { input: 590, output: 10 }),
    ]);
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, A);
    assert.equal(s.api_request_count, 2);
    assert.equal(s.tokens_input, 1090); // 500 + 590
    assert.equal(s.tokens_output, 50); // 40 + 10
    assert.equal(s.tool_call_count, 1);
    assert.equal(s.message_count, 1);
    assert.equal(turnState(store, A), 'ended');
    assert.equal(s.context, 590);
  });

  test('status: a prompt → waiting for the model; a pending tool call → tool running; finished tools → waiting; an error → ended', async () => {
    const home = await newHome();
    const cases: [string, object[], string][] = [
      ['a0000000-0000-4000-8000-0000000000a1', [user('u1', t('10:00:01.000'), 'go')], 'waiting_model'],
      [
        'a0000000-0000-4000-8000-0000000000a2',
        [
          user('u1', t('10:00:01.000'), 'go'),
          gemini('g1', t('10:00:02.000'), { input: 1, output: 1 }, { toolCalls: [call('c1', 'awaiting_approval')] }),
        ],
        'tool_running',
      ],
      [
        'a0000000-0000-4000-8000-0000000000a3',
        [
          user('u1', t('10:00:01.000'), 'go'),
          gemini('g1', t('10:00:02.000'), { input: 1, output: 1 }, { toolCalls: [call('c1', 'validating')] }),
        ],
        'tool_running',
      ],
      [
        'a0000000-0000-4000-8000-0000000000a4',
        [
          user('u1', t('10:00:01.000'), 'go'),
          gemini('g1', t('10:00:02.000'), { input: 1, output: 1 }, { toolCalls: [call('c1', 'success')] }),
        ],
        'waiting_model',
      ],
      [
        'a0000000-0000-4000-8000-0000000000a5',
        [
          user('u1', t('10:00:01.000'), 'go'),
          gemini('g1', t('10:00:02.000'), { input: 1, output: 1 }, { toolCalls: [call('c1', 'cancelled')] }),
        ],
        'ended',
      ],
      // Still streaming (no tokens yet): the prompt before it decides.
      [
        'a0000000-0000-4000-8000-0000000000a6',
        [user('u1', t('10:00:01.000'), 'go'), gemini('g1', t('10:00:02.000'), null)],
        'waiting_model',
      ],
      [
        'a0000000-0000-4000-8000-0000000000a7',
        [
          user('u1', t('10:00:01.000'), 'go'),
          { id: 'e1', timestamp: t('10:00:02.000'), type: 'error', content: 'API Error: 429' },
          { id: 'i1', timestamp: t('10:00:03.000'), type: 'info', content: 'Request cancelled.' },
        ],
        'ended',
      ],
    ];
    for (const [id, recs] of cases)
      await writeChat(home, `session-2026-11-20T10-00-${id.slice(0, 8)}${id.slice(-2)}.jsonl`, [
        meta(id, t('10:00:00.000')),
        ...recs,
      ]);
    const { sessions, store } = await index(home);
    for (const [id, , state] of cases) assert.equal(turnState(store, id), state, id);
    assert.equal(mustGet(sessions, 'a0000000-0000-4000-8000-0000000000a7').api_error_count, 1);
    assert.equal(mustGet(sessions, 'a0000000-0000-4000-8000-0000000000a2').tool_call_count, 1);
  });

  test('$set.messages (a checkpoint) rebuilds the list; it keeps every request and every prompt, and adds no prompt', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000006';
    await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('ctx', t('10:00:00.001'), '<session_context>\nThis is the Gemini CLI.\n</session_context>'),
      user('u1', t('10:00:01.000'), 'first question'),
      gemini('g1', t('10:00:02.000'), { input: 1000, output: 100 }),
      user('u2', t('10:00:03.000'), 'second question'),
      gemini('g2', t('10:00:04.000'), { input: 2000, output: 200 }),
      setTs(t('10:00:04.000')),
      // A compression-like checkpoint: the history becomes a synthetic summary turn and an
      // acknowledgement, restated without tokens; g2 is restated without its tokens as well.
      {
        $set: {
          messages: [
            {
              id: 'sum',
              timestamp: t('10:00:05.000'),
              type: 'user',
              content: [{ text: 'Summary of the conversation so far: ...' }],
            },
            { id: 'ack', timestamp: t('10:00:05.000'), type: 'gemini', content: [{ text: 'Got it.' }] },
            { id: 'g2', timestamp: t('10:00:05.000'), type: 'gemini', content: [{ text: 'ok' }] },
          ],
          lastUpdated: t('10:00:05.000'),
        },
      },
      user('u3', t('10:00:06.000'), 'third question'),
    ]);
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, A);
    // Both requests count (g1 is no longer in the list, g2 lost its tokens in the restatement).
    assert.equal(s.api_request_count, 2);
    assert.equal(s.tokens_input, 3000);
    assert.equal(s.tokens_output, 300);
    // The typed prompts, not the injected context nor the synthetic summary.
    assert.equal(s.message_count, 3);
    assert.equal(s.first_user_message, 'first question');
    assert.equal(s.last_user_message, 'third question');
    // The list ends with u3: waiting for the model. Context = g2 (the last answer in the list with tokens).
    assert.equal(turnState(store, A), 'waiting_model');
    assert.equal(s.context, 2000);
    assert.equal(s.last_activity, t('10:00:06.000'));
  });

  test('$rewindTo removes that message and everything after from the conversation; the rewound requests stay billed', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000007';
    await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('u1', t('10:00:01.000'), 'keep this'),
      gemini('g1', t('10:00:02.000'), { input: 100, output: 10 }),
      user('u2', t('10:00:03.000'), 'undo this'),
      gemini('g2', t('10:00:04.000'), { input: 300, output: 30 }, { toolCalls: [call('c2', 'executing')] }),
      { $rewindTo: 'u2' },
    ]);
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, A);
    // Both requests were made and billed: 100 + 300 input, 10 + 30 output; the tool call ran.
    assert.equal(s.api_request_count, 2);
    assert.equal(s.tokens_input, 400);
    assert.equal(s.tokens_output, 40);
    assert.equal(s.tool_call_count, 1);
    // The conversation is u1, g1: one prompt, the turn ended, context of g1 (not the pending tool of g2).
    assert.equal(s.message_count, 1);
    assert.equal(s.last_user_message, 'keep this');
    assert.equal(turnState(store, A), 'ended');
    assert.equal(s.context, 100);
  });

  test('$rewindTo an id not in the list clears the conversation; prompts after it count', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000008';
    await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('u1', t('10:00:01.000'), 'gone'),
      gemini('g1', t('10:00:02.000'), { input: 100, output: 10 }),
      { $rewindTo: 'no-such-id' },
      user('u2', t('10:00:03.000'), 'fresh start'),
    ]);
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, A);
    assert.equal(s.api_request_count, 1);
    assert.equal(s.message_count, 1);
    assert.equal(s.first_user_message, 'fresh start');
    assert.equal(s.title, 'fresh start');
    assert.equal(turnState(store, A), 'waiting_model');
    // No answer left in the conversation: no context; the model is the last request's.
    assert.equal(s.context, null);
    assert.equal(s.model, 'gemini-2.5-flash');
  });

  test('prompts: <session_context>, slash commands and tool results are not prompts; displayContent is what was typed', () => {
    assert.equal(promptText({ type: 'user', content: [{ text: '<session_context>\nx\n</session_context>' }] }), null);
    assert.equal(promptText({ type: 'user', content: [{ text: '/stats' }] }), null);
    assert.equal(
      promptText({ type: 'user', content: [{ text: '/* not a command */ why?' }] }),
      '/* not a command */ why?',
    );
    assert.equal(
      promptText({ type: 'user', content: [{ functionResponse: { id: 'c', name: 'x', response: {} } }] }),
      null,
    );
    assert.equal(promptText({ type: 'user', content: 'plain string' }), 'plain string');
    assert.equal(
      promptText({
        type: 'user',
        content: [{ text: 'expanded @README.md ...' }],
        displayContent: [{ text: 'explain @README.md' }],
      }),
      'explain @README.md',
    );
    assert.equal(promptText({ type: 'gemini', content: 'hi' }), null);
    assert.equal(promptText({ type: 'user', content: [{ text: '   ' }] }), null);
  });

  test('$set.summary is the title; GitHub links in prompts and tool output give the PR', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-000000000009';
    await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', [
      meta(A, t('10:00:00.000')),
      user('u1', t('10:00:01.000'), 'review https://github.com/acme/widgets/pull/42 please'),
      gemini(
        'g1',
        t('10:00:02.000'),
        { input: 10, output: 1 },
        {
          toolCalls: [{ ...call('c1', 'success'), resultDisplay: 'see https://github.com/acme/widgets/issues/7' }],
        },
      ),
      { $set: { summary: 'Review widgets PR 42' } },
    ]);
    const s = mustGet((await index(home)).sessions, A);
    assert.equal(s.title, 'Review widgets PR 42');
    assert.equal(s.github_pr, 42);
    assert.equal(s.github_repo, 'acme/widgets');
    assert.equal(s.github_issue, 7);
  });
});

// ---- legacy documents, subagents, garbage ----------------------------------------------------------

describe('Gemini files', () => {
  const L = 'b0000000-0000-4000-8000-00000000000b';
  const legacy = {
    sessionId: L,
    projectHash: 'e'.repeat(64),
    startTime: t('09:00:00.000'),
    lastUpdated: t('09:00:03.000'),
    messages: [
      user('u1', t('09:00:01.000'), 'legacy question'),
      gemini('g1', t('09:00:02.000'), { input: 1000, output: 100, cached: 400 }),
    ],
  };
  const name = 'session-2026-11-20T09-00-b0000000';

  test('a legacy .json document alone is read; with its migrated .jsonl the session is listed once, from the .jsonl', async () => {
    const home = await newHome();
    const dir = path.join(home, '.gemini', 'tmp', PROJECT, 'chats');
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(home, '.gemini', 'tmp', PROJECT, '.project_root'), PROJECT_ROOT);
    await fsp.writeFile(path.join(dir, `${name}.json`), JSON.stringify(legacy, null, 2));

    const ix = await index(home);
    let s = mustGet(ix.sessions, L);
    assert.equal(s.api_request_count, 1);
    assert.equal(s.tokens_input, 600); // 1000 − 400
    assert.equal(s.tokens_cache_read, 400);
    assert.equal(s.message_count, 1);
    assert.equal(s.cwd, PROJECT_ROOT);
    assert.ok(documentPathOf(s.transcript_path!).endsWith(`${name}.json`));

    // Resumed: the CLI writes the whole record to <name>.jsonl (metadata line + every message) and goes on there.
    await fsp.writeFile(
      path.join(dir, `${name}.jsonl`),
      jsonl([
        { sessionId: L, projectHash: legacy.projectHash, startTime: legacy.startTime, lastUpdated: legacy.lastUpdated },
        ...legacy.messages,
        { $set: { sessionId: L } },
        user('u2', t('09:10:00.000'), 'resumed question'),
        gemini('g2', t('09:10:01.000'), { input: 2000, output: 50, cached: 1000 }),
      ]),
    );
    await ix.indexer.scanAll();
    const sessions = sessionsById(ix.store);
    assert.deepEqual([...sessions.keys()], [L]);
    s = mustGet(sessions, L);
    // g1 once (same key gemini:<session>:g1 in both files; the .json reads as empty now) + g2.
    assert.equal(s.api_request_count, 2);
    assert.equal(s.tokens_input, 1600); // 600 + (2000 − 1000)
    assert.equal(s.tokens_cache_read, 1400);
    assert.equal(s.message_count, 2);
    assert.ok(documentPathOf(s.transcript_path!).endsWith(`${name}.jsonl`), String(s.transcript_path));
    assert.equal(grandTotal(ix.store).requests, 2);
  });

  test('both files present from the start: one session, counted once', async () => {
    const home = await newHome();
    await writeChat(home, `${name}.jsonl`, [
      { sessionId: L, projectHash: legacy.projectHash, startTime: legacy.startTime },
      ...legacy.messages,
    ]);
    await fsp.writeFile(path.join(home, '.gemini', 'tmp', PROJECT, 'chats', `${name}.json`), JSON.stringify(legacy));
    const ix = await index(home);
    assert.deepEqual([...ix.sessions.keys()], [L]);
    assert.equal(mustGet(ix.sessions, L).api_request_count, 1);
    assert.equal(grandTotal(ix.store).requests, 1);
    assert.equal(diagnostics(ix.store).lines_skipped, 0);
  });

  test('a subagent chat (chats/<parent>/<sub>.jsonl) is its own session nested under its parent, rolled up once', async () => {
    const home = await newHome();
    const P = 'c0000000-0000-4000-8000-00000000000c';
    const SUB = 'c0000000-0000-4000-8000-0000000000c1';
    await writeChat(home, 'session-2026-11-20T11-00-c0000000.jsonl', [
      meta(P, t('11:00:00.000')),
      user('u1', t('11:00:01.000'), 'investigate the codebase'),
      gemini(
        'g1',
        t('11:00:02.000'),
        { input: 1000, output: 100 },
        {
          toolCalls: [{ ...call('c1', 'success', 'codebase_investigator'), agentId: SUB }],
        },
      ),
      gemini('g2', t('11:00:09.000'), { input: 1500, output: 50 }),
    ]);
    await writeChat(home, `${P}/${SUB}.jsonl`, [
      meta(SUB, t('11:00:03.000'), 'subagent'),
      user('s1', t('11:00:03.100'), 'Find where the parser lives.'),
      gemini('sg1', t('11:00:04.000'), { input: 300, output: 30 }),
    ]);
    const { sessions } = await index(home);
    const parent = mustGet(sessions, P);
    const sub = mustGet(sessions, SUB);
    assert.equal(sub.parent_session_id, P);
    assert.equal(sub.agent_id, SUB);
    assert.equal(sub.cwd, PROJECT_ROOT);
    assert.equal(sub.api_request_count, 1);
    assert.equal(sub.first_user_message, 'Find where the parser lives.');
    assert.deepEqual(parent.subagent_ids, [SUB]);
    assert.equal(parent.api_request_count, 2);
    assert.equal(parent.tokens_input, 2500);
    // Rollup: 1000 + 1500 + 300 input; 100 + 50 + 30 output; three requests.
    assert.equal(parent.rollup.tokens_input, 2800);
    assert.equal(parent.rollup.tokens_output, 180);
  });

  test('garbage lines are skipped and the rest is read; a corrupt .json is counted and read again once fixed', async () => {
    const home = await newHome();
    const A = 'a0000000-0000-4000-8000-00000000000e';
    const lines: (object | string)[] = [
      meta(A, t('10:00:00.000')),
      'not json at all',
      '[1, 2, 3]',
      '{"neither": "a message nor metadata"}',
      user('u1', t('10:00:01.000'), 'still here'),
      gemini('g1', t('10:00:02.000'), { input: 100, output: 10 }),
      '{"id": "g2", "timestamp": "2026-11-20T10:00:03.000Z", "type": "gemi', // half-written last line
    ];
    const file = await writeChat(home, 'session-2026-11-20T10-00-a0000000.jsonl', lines);
    assert.equal(replayLines(readFileSync(file, 'utf8').split('\n')).skipped, 4);

    const chats = path.dirname(file);
    const bad = path.join(chats, 'session-2026-11-20T09-00-b0000000.json');
    await fsp.writeFile(bad, '{"sessionId": "b0000000-0000-4000-8000-00000000000b", "messages": [');
    const ix = await index(home);
    const s = mustGet(ix.sessions, A);
    assert.equal(s.api_request_count, 1);
    assert.equal(s.message_count, 1);
    assert.equal(ix.sessions.size, 1);
    // Skipped and counted, not fatal: the chat's 4 garbage lines (3 malformed + the half-written
    // last one) + the corrupt document (1) = 5.
    assert.equal(ix.stats.lines_skipped, 5);
    assert.equal(diagnostics(ix.store).lines_skipped, 5);

    await fsp.writeFile(bad, JSON.stringify(legacy));
    await ix.indexer.scanAll();
    const sessions = sessionsById(ix.store);
    assert.equal(mustGet(sessions, L).api_request_count, 1);
  });

  test('a chat with no session id anywhere is unreadable (counted); an empty one is nothing yet', async () => {
    const home = await newHome();
    await writeChat(home, 'session-2026-11-20T10-00-deadbeef.jsonl', [user('u1', t('10:00:01.000'), 'orphan')]);
    await writeChat(home, 'session-2026-11-20T10-01-00000000.jsonl', []);
    const ix = await index(home);
    assert.equal(ix.sessions.size, 0);
    assert.equal(ix.stats.lines_skipped, 1);
  });
});
