/**
 * OpenCode: the real 1.18.33 store (test/fixtures/opencode/1.18.33, from shared/fixtures/real: one
 * `run` and two `--continue` runs against a fake OpenAI-compatible server), hand-made databases in
 * the same schema, a hand-made legacy JSON tree (test/fixtures/opencode/make-legacy.py), and live
 * WAL transactions written by a real SQLite (python3). Every number is worked out in a comment.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Indexer } from '../../src/core/ingest/indexer';
import { applyWal, readLiveImage } from '../../src/core/sqlite/liveSnapshot';
import { explainSession } from '../../src/core/pricing/report';
import { opencodeAdapter, opencodeTokens, priceProvider } from '../../src/core/sources/opencode';
import { all, loadSqlJs } from '../../src/core/store/sqlite';
import { diagnostics, grandTotal } from '../../src/core/store/queries';
import { requestKeyRef } from '../../src/core/store/requests';
import { Store } from '../../src/core/store/store';
import {
  assertUsd,
  FIXTURES,
  mustGet,
  recordingLogger,
  sessionsById,
  silentLogger,
  tempDir,
  type Indexed,
} from './helpers';
import { NO_PYTHON, py } from './sqlite-python';

const REAL = path.join(FIXTURES, 'opencode', '1.18.33');
const LEGACY = path.join(FIXTURES, 'opencode', 'legacy');
const REAL_SESSION = 'ses_decf3c23cffe3XNQyWTz180QSb';

type Rec = Record<string, unknown>;

/** A temp HOME and its OpenCode data folder (the XDG default). */
async function newHome(): Promise<{ home: string; root: string }> {
  const home = path.join(await tempDir('ah-oc-'), 'home');
  const root = path.join(home, '.local', 'share', 'opencode');
  await fsp.mkdir(root, { recursive: true });
  return { home, root };
}

async function index(home: string, now?: number, log = silentLogger): Promise<Indexed> {
  const file = path.join(await tempDir('ah-store-'), 'store.sqlite');
  const store = await Store.open(file);
  const indexer = new Indexer(store, [opencodeAdapter], { home, env: {} }, log);
  const stats = await indexer.scanAll();
  return { store, indexer, stats, storeFile: file, sessions: sessionsById(store, now) };
}

async function copyTree(src: string, dst: string): Promise<void> {
  await fsp.cp(src, dst, { recursive: true });
}

// ---- hand-made databases in OpenCode 1.18.33's own schema ---------------------------------------------

interface DbSpec {
  sessions: {
    id: string;
    parent_id?: string;
    title?: string;
    directory?: string;
    agent?: string;
    created: number;
    updated: number;
  }[];
  /** Message JSON as OpenCode's API shows it: with id and sessionID (split into columns here). */
  messages: Rec[];
  /** Part JSON with id, sessionID, messageID. */
  parts: Rec[];
}

/** Writes an OpenCode database: the real fixture's schema, emptied, holding `spec`'s rows. */
async function writeDb(file: string, spec: DbSpec): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(readFileSync(path.join(REAL, 'opencode.db')));
  try {
    db.run(
      'DELETE FROM part; DELETE FROM message; DELETE FROM session; DELETE FROM event; DELETE FROM event_sequence;',
    );
    for (const s of spec.sessions) {
      db.run(
        `INSERT INTO session(id, project_id, parent_id, slug, directory, title, version, agent, time_created, time_updated)
         VALUES (?, 'proj', ?, 'slug', ?, ?, '1.18.33', ?, ?, ?)`,
        [
          s.id,
          s.parent_id ?? null,
          s.directory ?? '/nonexistent/oc',
          s.title ?? 'A title',
          s.agent ?? null,
          s.created,
          s.updated,
        ],
      );
    }
    for (const m of spec.messages) {
      const { id, sessionID, ...data } = m;
      const time = data.time as { created: number; completed?: number };
      db.run('INSERT INTO message(id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)', [
        id as string,
        sessionID as string,
        time.created,
        time.completed ?? time.created,
        JSON.stringify(data),
      ]);
    }
    for (const p of spec.parts) {
      const { id, sessionID, messageID, ...data } = p;
      const t = (p.time_created as number | undefined) ?? 0;
      delete data.time_created;
      db.run(
        'INSERT INTO part(id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)',
        [
          id as string,
          messageID as string,
          sessionID as string,
          t,
          t,
          typeof p.raw === 'string' ? p.raw : JSON.stringify(data),
        ],
      );
    }
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, db.export());
  } finally {
    db.close();
  }
}

const T = Date.parse('2026-11-24T10:00:00.000Z');
const at = (s: number) => T + s * 1000;
const ANT = { modelID: 'claude-sonnet-4-5', providerID: 'anthropic', mode: 'build', agent: 'build' };

function user(id: string, session: string, s: number): Rec {
  return {
    id,
    sessionID: session,
    role: 'user',
    time: { created: at(s) },
    agent: 'build',
    model: { providerID: 'anthropic', modelID: 'claude-sonnet-4-5' },
  };
}
function asst(id: string, session: string, s: number, extra: Rec = {}): Rec {
  return {
    id,
    sessionID: session,
    role: 'assistant',
    parentID: 'x',
    ...ANT,
    cost: 0,
    tokens: tok(0, 0),
    time: { created: at(s), completed: at(s + 1) },
    finish: 'stop',
    ...extra,
  };
}
function tok(input: number, output: number, read = 0, write = 0): Rec {
  return { total: input + output + read + write, input, output, reasoning: 0, cache: { read, write } };
}
function text(id: string, m: string, session: string, textValue: string, extra: Rec = {}): Rec {
  return { id, sessionID: session, messageID: m, type: 'text', text: textValue, ...extra };
}
function step(id: string, m: string, session: string, tokens: Rec, cost = 0): Rec {
  return { id, sessionID: session, messageID: m, type: 'step-finish', reason: 'stop', tokens, cost };
}

describe('OpenCode: the real 1.18.33 store', () => {
  test('session ses_decf3c23…: one run + two --continue runs, numbers as OpenCode itself reports them', async () => {
    const { home, root } = await newHome();
    await fsp.copyFile(path.join(REAL, 'opencode.db'), path.join(root, 'opencode.db'));
    await fsp.copyFile(path.join(REAL, 'opencode.db-wal'), path.join(root, 'opencode.db-wal'));
    const { sessions, store, stats } = await index(home);
    assert.equal(stats.files_seen, 1, 'the database and its -wal are one document');
    assert.equal(sessions.size, 1);
    const s = mustGet(sessions, REAL_SESSION);
    assert.equal(s.framework, 'opencode');
    assert.equal(s.title, 'Fake session title');
    assert.equal(s.cwd, '/home/dev/agent/work/repo-opencode');
    assert.equal(s.model, 'fake-model');
    assert.equal(s.git_branch, null, 'OpenCode stores no branch');
    assert.equal(s.parent_session_id, null);
    // The three prompts, as the fake runner typed them (with their quotes).
    assert.equal(s.message_count, 3);
    assert.equal(s.first_user_message, '"say hi"');
    assert.equal(s.last_user_message, '"now read the README file"');
    // bash call_fake5379… and read call_fakeb793…
    assert.equal(s.tool_call_count, 2);
    // Five step-finish parts, one per model call (the CLI printed five step_finish events).
    assert.equal(s.api_request_count, 5);
    // input 7655 + 1936 + 1949 + 1980 + 1988 = 15508; output 19 + 29 + 11 + 31 + 71 = 161;
    // cache read 0 + 5760 + 5824 + 5824 + 5952 = 23360; no cache writes.
    assert.equal(s.tokens_input, 15508);
    assert.equal(s.tokens_output, 161);
    assert.equal(s.tokens_cache_read, 23360);
    assert.equal(s.tokens_cache_write, 0);
    // The last call: 1988 + 5952 + 0 = 7940.
    assert.equal(s.context, 7940);
    // Provider "fake", model "fake-model": no price, and OpenCode's cost is 0: unpriced, not $0.
    assert.equal(s.unpriced_requests, 5);
    assert.equal(s.compaction_count, 0);
    assert.equal(s.api_error_count, 0);
    assert.equal(s.first_started_at, '2026-11-25T14:11:39.076Z'); // session.time_created 1795615899076
    assert.equal(s.last_activity, '2026-11-25T14:12:03.200Z'); // session.time_updated 1795615923200
    assert.equal(s.status, 'done');
    assert.equal(s.agent_lines_added, 0);

    // The agent's own totals: `opencode export` (session info.tokens) and the CLI's step_finish events.
    const exported = JSON.parse(
      readFileSync(path.join(REAL, 'export-ses_decf3c23cffe3XNQyWTz180QSb.json'), 'utf8'),
    ) as {
      info: { tokens: { input: number; output: number; cache: { read: number; write: number } } };
    };
    assert.deepEqual(
      [s.tokens_input, s.tokens_output, s.tokens_cache_read, s.tokens_cache_write],
      [
        exported.info.tokens.input,
        exported.info.tokens.output,
        exported.info.tokens.cache.read,
        exported.info.tokens.cache.write,
      ],
    );
    const steps = (await fsp.readdir(path.join(REAL, 'cli-output')))
      .filter((n) => n.endsWith('.jsonl'))
      .flatMap((n) =>
        readFileSync(path.join(REAL, 'cli-output', n), 'utf8')
          .split('\n')
          .filter(Boolean),
      )
      .map(
        (l) => JSON.parse(l) as { type: string; part: { id: string; messageID: string; tokens?: { input: number } } },
      )
      .filter((e) => e.type === 'step_finish');
    assert.equal(steps.length, s.api_request_count);
    assert.equal(
      steps.reduce((a, e) => a + e.part.tokens!.input, 0),
      s.tokens_input,
    );
    // One usage row per step-finish part, keyed by message and part id.
    const keys = all<{ k: string }>(
      store.db,
      'SELECT hex(dedup_hash) AS k FROM usage WHERE counted = 1 ORDER BY k',
    ).map((r) => r.k);
    assert.deepEqual(keys, steps.map((e) => requestKeyRef(`opencode:${e.part.messageID}:${e.part.id}`)).sort());
  });

  test('classify: the database, its -wal and -shm are one document; channel builds; legacy session files', () => {
    const root = '/h/.local/share/opencode';
    const db = path.join(root, 'opencode.db');
    for (const p of [db, `${db}-wal`, `${db}-shm`]) assert.equal(opencodeAdapter.classify(root, p)?.path, db);
    assert.equal(
      opencodeAdapter.classify(root, path.join(root, 'opencode-beta.db-wal'))?.path,
      path.join(root, 'opencode-beta.db'),
    );
    const legacy = path.join(root, 'storage', 'session', 'global', 'ses_abc.json');
    assert.deepEqual(opencodeAdapter.classify(root, legacy), {
      path: legacy,
      root,
      session_id: 'ses_abc',
      parent_session_id: null,
      agent_id: null,
    });
    for (const p of [
      path.join(root, 'storage', 'message', 'ses_abc', 'msg_1.json'),
      path.join(root, 'storage', 'part', 'msg_1', 'prt_1.json'),
      path.join(root, 'auth.json'),
      path.join(root, 'snapshot', 'opencode.db'),
      path.join(root, 'opencode.db-journal'),
      '/elsewhere/opencode.db',
    ]) {
      assert.equal(opencodeAdapter.classify(root, p), null, p);
    }
  });

  test('ignoreDirs: the big folders that never hold sessions, and the legacy trees signature() reads itself', () => {
    const root = '/h/.local/share/opencode';
    const ignored = opencodeAdapter.ignoreDirs(root);
    for (const d of ['snapshot', 'log', 'bin', path.join('storage', 'part'), path.join('storage', 'message')])
      assert.ok(ignored.includes(path.join(root, d)), d);
    assert.ok(!ignored.includes(path.join(root, 'storage', 'session')));
  });

  test('roots: $XDG_DATA_HOME/opencode, ~/.local/share/opencode and configured extra roots', () => {
    assert.deepEqual(opencodeAdapter.roots({ home: '/h', env: {} }), ['/h/.local/share/opencode']);
    assert.deepEqual(
      opencodeAdapter.roots({ home: '/h', env: { XDG_DATA_HOME: '/x/data' }, extraRoots: { opencode: ['/y/oc'] } }),
      ['/x/data/opencode', '/h/.local/share/opencode', '/y/oc'],
    );
  });
});

describe('OpenCode: what counts', () => {
  test('a parent and its task-tool child session: parent_session_id, the child titled by its task, rolled up', async () => {
    const { home, root } = await newHome();
    const P = 'ses_parent01';
    const C = 'ses_child001';
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [
        { id: P, title: 'Refactor the parser', created: at(0), updated: at(60) },
        {
          id: C,
          parent_id: P,
          title: 'Child session - 2026-11-24T10:00:10.000Z',
          agent: 'general',
          created: at(10),
          updated: at(20),
        },
      ],
      messages: [
        user('msg_p1', P, 0),
        asst('msg_p2', P, 1, { finish: 'tool-calls' }),
        asst('msg_p3', P, 30),
        user('msg_c1', C, 10),
        asst('msg_c2', C, 11, { agent: 'general' }),
      ],
      parts: [
        text('prt_p1', 'msg_p1', P, 'refactor the parser, delegate the search'),
        {
          id: 'prt_p2a',
          sessionID: P,
          messageID: 'msg_p2',
          type: 'tool',
          callID: 'call_task',
          tool: 'task',
          state: { status: 'completed', output: 'done' },
        },
        step('prt_p2b', 'msg_p2', P, tok(1000, 100)),
        step('prt_p3a', 'msg_p3', P, tok(200, 50, 1000)),
        text('prt_c1', 'msg_c1', C, 'find every caller of parse()'),
        step('prt_c2a', 'msg_c2', C, tok(300, 30)),
      ],
    });
    const { sessions, store } = await index(home);
    const p = mustGet(sessions, P);
    const c = mustGet(sessions, C);
    assert.equal(c.parent_session_id, P);
    assert.equal(c.agent_id, 'general');
    assert.equal(p.agent_id, null);
    assert.deepEqual(p.subagent_ids, [C]);
    // The placeholder title is not a title: the child is named by its task.
    assert.equal(c.title, 'find every caller of parse()');
    assert.equal(p.title, 'Refactor the parser');
    // Parent: 1000 + 200 = 1200 in, 100 + 50 = 150 out, 1000 cache read; child: 300 / 30.
    assert.deepEqual([p.tokens_input, p.tokens_output, p.tokens_cache_read, p.api_request_count], [1200, 150, 1000, 2]);
    assert.deepEqual([c.tokens_input, c.tokens_output, c.api_request_count], [300, 30, 1]);
    // Rolled up: 1200 + 300 = 1500 in, 150 + 30 = 180 out.
    assert.deepEqual([p.rollup.tokens_input, p.rollup.tokens_output], [1500, 180]);
    // anthropic claude-sonnet-4-5 ($3 in, $15 out, $0.30 cache read per M):
    // parent 1000*3 + 100*15 = 4500 µ$ and 200*3 + 50*15 + 1000*0.3 = 1650 µ$; child 300*3 + 30*15 = 1350 µ$.
    assertUsd(p.cost_usd, 0.0045 + 0.00165);
    assertUsd(c.cost_usd, 0.00135);
    assertUsd(grandTotal(store).cost_usd, 0.0045 + 0.00165 + 0.00135);
  });

  test('several steps in one message count each; a message without steps counts its own tokens; never both', async () => {
    const { home, root } = await newHome();
    const S = 'ses_steps001';
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [{ id: S, created: at(0), updated: at(100) }],
      messages: [
        user('msg_s1', S, 0),
        // The message's own tokens are the LAST step's (OpenCode overwrites them at each step).
        asst('msg_s2', S, 1, { tokens: tok(30, 3, 500), cost: 0.7 }),
        // No step-finish part: its own tokens are the request.
        asst('msg_s3', S, 50, { tokens: tok(7, 1) }),
      ],
      parts: [
        text('prt_s1', 'msg_s1', S, 'go'),
        step('prt_s2a', 'msg_s2', S, tok(100, 10), 0.5),
        step('prt_s2b', 'msg_s2', S, tok(30, 3, 500), 0.2),
      ],
    });
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, S);
    // 2 steps + 1 message = 3 requests; in 100 + 30 + 7 = 137, out 10 + 3 + 1 = 14, cache read 500.
    assert.equal(s.api_request_count, 3);
    assert.deepEqual([s.tokens_input, s.tokens_output, s.tokens_cache_read], [137, 14, 500]);
    const keys = all<{ k: string }>(store.db, 'SELECT hex(dedup_hash) AS k FROM usage ORDER BY k').map((r) => r.k);
    assert.deepEqual(
      keys,
      ['opencode:msg_s2:prt_s2a', 'opencode:msg_s2:prt_s2b', 'opencode:msg_s3'].map(requestKeyRef).sort(),
    );
    // The last request (msg_s3) sets the context: 7 + 0 + 0.
    assert.equal(s.context, 7);
  });

  test('providers: known ones priced by the list, gateways by the model, the agent cost when no price, fake unpriced', async () => {
    const { home, root } = await newHome();
    const S = 'ses_prices01';
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [{ id: S, created: at(0), updated: at(100) }],
      messages: [
        user('msg_q1', S, 0),
        asst('msg_q2', S, 1, { providerID: 'anthropic', modelID: 'claude-sonnet-4-5' }),
        asst('msg_q3', S, 3, { providerID: 'opencode', modelID: 'claude-sonnet-4-5' }),
        asst('msg_q4', S, 5, { providerID: 'opencode', modelID: 'big-pickle-unknown' }),
        asst('msg_q5', S, 7, { providerID: 'fake', modelID: 'fake-model' }),
      ],
      parts: [
        text('prt_q1', 'msg_q1', S, 'price me'),
        step('prt_q2', 'msg_q2', S, tok(1000, 0), 9),
        step('prt_q3', 'msg_q3', S, tok(1000, 0), 9),
        step('prt_q4', 'msg_q4', S, tok(1000, 0), 0.0123),
        step('prt_q5', 'msg_q5', S, tok(1000, 0), 0),
      ],
    });
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, S);
    // q2 and q3: 1000 * $3/M = $0.003 each from the price list (the agent's 9 is not used when a price is known);
    // q4: no price for the model → OpenCode's own $0.0123; q5: no price and cost 0 → unpriced.
    assertUsd(s.cost_usd, 0.003 + 0.003 + 0.0123);
    assert.equal(s.unpriced_requests, 1);
    // Explain Cost sets OpenCode's own per-request figures beside ours, over the 3 requests that carry
    // one: ours 0.003 + 0.003 + 0.0123 = 0.0183, OpenCode's 9 + 9 + 0.0123 = 18.0123: flagged.
    const agent = explainSession(store, S)!.agent!;
    assert.equal(agent.requests, 3);
    assertUsd(agent.ours_usd, 0.0183);
    assertUsd(agent.agent_usd, 18.0123);
    assert.equal(agent.differs, true);
    assert.equal(s.model, 'fake-model');
  });

  test('priceProvider and opencodeTokens', () => {
    assert.deepEqual(priceProvider('anthropic', 'claude-opus-4-5'), {
      provider: 'anthropic',
      model: 'claude-opus-4-5',
    });
    assert.deepEqual(priceProvider('amazon-bedrock', 'anthropic.claude-x'), {
      provider: 'aws',
      model: 'anthropic.claude-x',
    });
    assert.deepEqual(priceProvider('google-vertex-anthropic', 'claude-sonnet-4-5@20250929'), {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5@20250929',
    });
    assert.deepEqual(priceProvider('xai', 'grok-4'), { provider: 'x-ai', model: 'grok-4' });
    assert.deepEqual(priceProvider('openrouter', 'anthropic/claude-sonnet-4.5'), {
      provider: 'openrouter',
      model: 'anthropic/claude-sonnet-4.5',
    });
    assert.deepEqual(priceProvider('my-gateway', 'openai/gpt-5'), { provider: 'openai', model: 'gpt-5' });
    assert.deepEqual(priceProvider('opencode', 'gpt-5'), { provider: null, model: 'gpt-5' });
    assert.deepEqual(priceProvider('ollama', 'llama3.1:8b'), { provider: 'ollama', model: 'llama3.1:8b' });
    assert.deepEqual(priceProvider(null, 'm'), { provider: null, model: 'm' });
    // input excludes cache (as stored); reasoning is a breakdown of output, not added.
    assert.deepEqual(opencodeTokens({ input: 5, output: 9, reasoning: 4, cache: { read: 100, write: 20 } }), {
      input: 5,
      output: 9,
      cache_read: 100,
      cache_write: 20,
      cache_write_1h: 0,
    });
    assert.deepEqual(opencodeTokens('garbage'), {
      input: 0,
      output: 0,
      cache_read: 0,
      cache_write: 0,
      cache_write_1h: 0,
    });
  });

  test('compactions, API errors and retries; synthetic text and an aborted answer are not counted', async () => {
    const { home, root } = await newHome();
    const S = 'ses_events01';
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [{ id: S, created: at(0), updated: at(100) }],
      messages: [
        user('msg_e1', S, 0),
        asst('msg_e2', S, 1, {
          error: { name: 'APIError', data: { message: 'overloaded', statusCode: 529, isRetryable: true } },
        }),
        // A compaction: the request (a user message with a compaction part) and its summary answer: one.
        user('msg_e3', S, 10),
        asst('msg_e4', S, 11, { parentID: 'msg_e3', summary: true, mode: 'compaction' }),
        // An older summary message without a compaction part: one more.
        asst('msg_e5', S, 20, { summary: true }),
        // The automatic "continue" after a compaction is synthetic: not a prompt.
        user('msg_e6', S, 30),
        asst('msg_e7', S, 31, { error: { name: 'MessageAbortedError', data: { message: 'aborted' } } }),
      ],
      parts: [
        text('prt_e1', 'msg_e1', S, 'the only prompt'),
        {
          id: 'prt_e2a',
          sessionID: S,
          messageID: 'msg_e2',
          type: 'retry',
          attempt: 1,
          error: { name: 'APIError' },
          time: { created: at(2) },
        },
        {
          id: 'prt_e2b',
          sessionID: S,
          messageID: 'msg_e2',
          type: 'retry',
          attempt: 2,
          error: { name: 'APIError' },
          time: { created: at(4) },
        },
        { id: 'prt_e3', sessionID: S, messageID: 'msg_e3', type: 'compaction', auto: true },
        text('prt_e6', 'msg_e6', S, 'Continue if you have next steps', { synthetic: true }),
      ],
    });
    const { sessions } = await index(home);
    const s = mustGet(sessions, S);
    assert.equal(s.compaction_count, 2);
    // msg_e2's error + its two retries = 3; the abort is the person, not the API.
    assert.equal(s.api_error_count, 3);
    assert.equal(s.message_count, 1);
    assert.equal(s.last_user_message, 'the only prompt');
  });

  test('status: an unfinished answer waits for the model, a running tool part is tool_running, a finished one is idle', async () => {
    const { home, root } = await newHome();
    const W = 'ses_waiting1';
    const R = 'ses_running1';
    const D = 'ses_finished';
    const open = (id: string, s: string, sec: number): Rec => ({
      ...asst(id, s, sec),
      time: { created: at(sec) },
      finish: undefined,
    });
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [W, R, D].map((id) => ({ id, created: at(0), updated: at(5) })),
      messages: [
        user('msg_w1', W, 0),
        open('msg_w2', W, 1),
        user('msg_r1', R, 0),
        open('msg_r2', R, 1),
        user('msg_d1', D, 0),
        asst('msg_d2', D, 1),
      ],
      parts: [
        text('prt_w1', 'msg_w1', W, 'w'),
        text('prt_r1', 'msg_r1', R, 'r'),
        {
          id: 'prt_r2',
          sessionID: R,
          messageID: 'msg_r2',
          type: 'tool',
          callID: 'call_r',
          tool: 'bash',
          state: { status: 'running', input: {} },
        },
        text('prt_d1', 'msg_d1', D, 'd'),
      ],
    });
    // One minute after the last write: a turn in progress is busy, a finished one idle.
    const { sessions, store } = await index(home, at(65));
    assert.equal(mustGet(sessions, W).status, 'busy');
    assert.equal(mustGet(sessions, R).status, 'busy');
    assert.equal(mustGet(sessions, D).status, 'idle');
    const turns = new Map(
      all<{ session_id: string; turn_state: string }>(store.db, 'SELECT session_id, turn_state FROM sessions').map(
        (r) => [r.session_id, r.turn_state],
      ),
    );
    assert.deepEqual([turns.get(W), turns.get(R), turns.get(D)], ['waiting_model', 'tool_running', 'ended']);
  });

  test('malformed rows are skipped and the rest is read; a corrupt database is counted, not fatal', async () => {
    const { home, root } = await newHome();
    const S = 'ses_badrows1';
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [{ id: S, created: at(0), updated: at(10) }],
      messages: [user('msg_b1', S, 0), asst('msg_b2', S, 1)],
      parts: [
        text('prt_b1', 'msg_b1', S, 'still here'),
        { id: 'prt_b2', sessionID: S, messageID: 'msg_b2', raw: '{"type":"step-fin' },
        step('prt_b3', 'msg_b2', S, tok(40, 4)),
      ],
    });
    await fsp.writeFile(path.join(root, 'opencode-beta.db'), randomBytes(16384));
    const log = recordingLogger();
    const { sessions, store } = await index(home, undefined, log);
    const s = mustGet(sessions, S);
    assert.equal(s.first_user_message, 'still here');
    assert.deepEqual([s.api_request_count, s.tokens_input], [1, 40]);
    const d = diagnostics(store);
    // The damaged part row of ses_badrows1, and the unreadable channel database.
    assert.equal(d.lines_skipped, 2, JSON.stringify(d.files_with_skips));
    const skips = new Map(d.files_with_skips.map((f) => [path.basename(String(f.path)), String(f.last_skip_reason)]));
    assert.match(skips.get('opencode-beta.db')!, /^unreadable: /);
    assert.equal(skips.get(`opencode.db#session=${S}`), 'part prt_b2: data is not a JSON object');
    assert.ok(log.warnings.some((w) => w.includes('opencode-beta.db')));
  });
});

describe('OpenCode: the legacy JSON tree (< 1.2)', () => {
  test('a session file with its message and part folders; several steps per message; a damaged part skipped', async () => {
    const { home, root } = await newHome();
    await copyTree(path.join(LEGACY, 'storage'), path.join(root, 'storage'));
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, 'ses_legacy0001');
    assert.equal(s.title, 'Legacy tree session');
    assert.equal(s.cwd, '/nonexistent/oc-legacy');
    assert.equal(s.model, 'claude-sonnet-4-5');
    // The synthetic "Called the Read tool…" part is not typed text.
    assert.equal(s.first_user_message, 'fix the bug in parser.ts');
    assert.equal(s.last_user_message, 'now run the tests');
    assert.equal(s.message_count, 2);
    assert.equal(s.tool_call_count, 2);
    // msg_l002's two steps + msg_l004 (no steps: its own tokens) = 3; msg_l002's own tokens (= its last step) are not added.
    assert.equal(s.api_request_count, 3);
    // in 100 + 30 + 50 = 180; out 20 + 40 + 5 = 65; cache read 0 + 2000 + 100 = 2100; cache write 1500.
    assert.deepEqual(
      [s.tokens_input, s.tokens_output, s.tokens_cache_read, s.tokens_cache_write],
      [180, 65, 2100, 1500],
    );
    // claude-sonnet-4-5: 100*3 + 20*15 + 1500*3.75 = 6225 µ$; 30*3 + 40*15 + 2000*0.3 = 1290 µ$; 50*3 + 5*15 + 100*0.3 = 255 µ$.
    assertUsd(s.cost_usd, 0.006225 + 0.00129 + 0.000255);
    // The read tool's output named a pull request.
    assert.equal(s.github_pr, 42);
    assert.equal(s.github_repo, 'acme/widgets');
    assert.equal(s.context, 150); // msg_l004: 50 + 100 + 0
    // The half-written part file prt_l004b.json.
    const d = diagnostics(store);
    assert.equal(d.lines_skipped, 1);
    assert.equal(d.files_with_skips[0].last_skip_reason, 'prt_l004b.json: not a JSON object');
    const child = mustGet(sessions, 'ses_legacy0002');
    assert.equal(child.parent_session_id, 'ses_legacy0001');
    assert.equal(child.title, 'look for other callers of parse()');
    assert.equal(child.agent_id, 'general');
    assert.deepEqual([child.tokens_input, child.tokens_output], [10, 2]);
  });

  test('a session in both the legacy tree and the database (OpenCode 1.2 migrated it) counts once', async () => {
    const { home, root } = await newHome();
    await copyTree(path.join(LEGACY, 'storage'), path.join(root, 'storage'));
    // The migration's copy: the same ids in the database.
    const storage = path.join(LEGACY, 'storage');
    const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Rec;
    const messages: Rec[] = [];
    const parts: Rec[] = [];
    for (const sid of ['ses_legacy0001', 'ses_legacy0002']) {
      for (const n of (await fsp.readdir(path.join(storage, 'message', sid))).sort()) {
        const m = readJson(path.join(storage, 'message', sid, n));
        messages.push(m);
        for (const pn of (await fsp.readdir(path.join(storage, 'part', m.id as string))).sort()) {
          const raw = readFileSync(path.join(storage, 'part', m.id as string, pn), 'utf8');
          try {
            parts.push(JSON.parse(raw) as Rec);
          } catch {
            // the damaged part was not migrated either
          }
        }
      }
    }
    await writeDb(path.join(root, 'opencode.db'), {
      sessions: [
        {
          id: 'ses_legacy0001',
          title: 'Legacy tree session',
          directory: '/nonexistent/oc-legacy',
          created: 1795400000000,
          updated: 1795400060000,
        },
        {
          id: 'ses_legacy0002',
          parent_id: 'ses_legacy0001',
          directory: '/nonexistent/oc-legacy',
          created: 1795400010000,
          updated: 1795400020000,
        },
      ],
      messages,
      parts,
    });
    const { sessions, store } = await index(home);
    const s = mustGet(sessions, 'ses_legacy0001');
    assert.equal(s.api_request_count, 3);
    assert.deepEqual([s.tokens_input, s.tokens_output], [180, 65]);
    // 3 + 1 (the child) requests on the machine, not 8.
    assert.equal(grandTotal(store).requests, 4);
  });
});

describe('OpenCode: a live database in WAL mode', { skip: NO_PYTHON }, () => {
  test('rows only in the -wal are indexed, and a change of the -wal alone is picked up', async () => {
    const { home, root } = await newHome();
    const dbPath = path.join(root, 'opencode.db');
    await fsp.copyFile(path.join(REAL, 'opencode.db'), dbPath);
    const log = recordingLogger();
    const store = await Store.open(path.join(await tempDir('ah-store-'), 'store.sqlite'));
    const indexer = new Indexer(store, [opencodeAdapter], { home, env: {} }, log);
    await indexer.scanAll();
    assert.equal(mustGet(sessionsById(store), REAL_SESSION).api_request_count, 5);

    // OpenCode answers a fourth prompt: a real SQLite writes it into the WAL (checkpoints off) of a
    // copy, and the copy's files are put in place while that connection is still open.
    const work = await tempDir('ah-oc-wal-');
    py(
      `import sqlite3, shutil, os, sys, json
work, live = sys.argv[1], sys.argv[2]
shutil.copyfile(os.path.join(live, 'opencode.db'), os.path.join(work, 'opencode.db'))
con = sqlite3.connect(os.path.join(work, 'opencode.db'), isolation_level=None)
assert con.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
con.execute('PRAGMA wal_autocheckpoint=0')
S = '${REAL_SESSION}'
T = 1795615930000
con.execute('BEGIN')
con.execute('INSERT INTO message VALUES (?,?,?,?,?)', ('msg_wal01', S, T, T, json.dumps({'role': 'user', 'time': {'created': T}})))
con.execute('INSERT INTO part VALUES (?,?,?,?,?,?)', ('prt_wal01', 'msg_wal01', S, T, T, json.dumps({'type': 'text', 'text': 'one more thing'})))
con.execute('COMMIT')
con.execute('BEGIN')
con.execute('INSERT INTO message VALUES (?,?,?,?,?)', ('msg_wal02', S, T + 1000, T + 2000, json.dumps({'role': 'assistant', 'modelID': 'fake-model', 'providerID': 'fake', 'cost': 0,
    'tokens': {'input': 2000, 'output': 12, 'reasoning': 0, 'cache': {'read': 6000, 'write': 0}}, 'time': {'created': T + 1000, 'completed': T + 2000}, 'finish': 'stop'})))
con.execute('INSERT INTO part VALUES (?,?,?,?,?,?)', ('prt_wal02', 'msg_wal02', S, T + 2000, T + 2000, json.dumps({'type': 'step-finish', 'reason': 'stop', 'cost': 0,
    'tokens': {'input': 2000, 'output': 12, 'reasoning': 0, 'cache': {'read': 6000, 'write': 0}}})))
con.execute("UPDATE session SET time_updated = ? WHERE id = ?", (T + 2000, S))
con.execute('COMMIT')
for s in ['', '-wal']:
    shutil.copyfile(os.path.join(work, 'opencode.db' + s), os.path.join(live, 'opencode.db' + s))
con.close()`,
      work,
      root,
    );
    // The new rows are in the WAL only: the main file alone does not have them.
    const SQL = await loadSqlJs();
    const mainOnly = new SQL.Database(applyWal(await fsp.readFile(dbPath), null).image);
    assert.deepEqual(mainOnly.exec("SELECT count(*) FROM message WHERE id LIKE 'msg_wal%'")[0].values, [[0]]);
    mainOnly.close();
    assert.equal((await readLiveImage(dbPath)).info.commits, 2);

    // A watcher event on the -wal alone re-reads the database.
    const stats = await indexer.indexPaths([`${dbPath}-wal`]);
    assert.equal(stats.files_read, 1);
    const s = mustGet(sessionsById(store), REAL_SESSION);
    // 5 + 1 requests; input 15508 + 2000 = 17508; output 161 + 12 = 173; cache read 23360 + 6000 = 29360.
    assert.equal(s.api_request_count, 6);
    assert.deepEqual([s.tokens_input, s.tokens_output, s.tokens_cache_read], [17508, 173, 29360]);
    assert.equal(s.message_count, 4);
    assert.equal(s.last_user_message, 'one more thing');
    assert.equal(s.context, 8000); // 2000 + 6000
    assert.equal(s.last_activity, new Date(1795615932000).toISOString());
    // Nothing changed: not read again.
    assert.equal((await indexer.scanAll()).files_read, 0);
    assert.equal(log.warnings.length, 0, log.warnings.join('\n'));
  });
});
