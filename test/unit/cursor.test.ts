/**
 * Cursor agent CLI: a format-faithful chat store made by test/fixtures/cursor/make-fixture.py with a
 * real SQLite (the shapes of skillsynchq/txcript's reverse-engineered format; no public real store
 * exists), its second turn left in the WAL as a live cursor-agent leaves it. Cursor keeps no token
 * counts locally: every test also checks that no usage is invented.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Indexer } from '../../src/core/ingest/indexer';
import { usesSharedProcess } from '../../src/core/model/agents';
import { withLiveSnapshot } from '../../src/core/sqlite/liveSnapshot';
import { cursorAdapter, parseAgentRecord, promptText } from '../../src/core/sources/cursor';
import { all } from '../../src/core/store/sqlite';
import { diagnostics, grandTotal } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { FIXTURES, mustGet, recordingLogger, sessionsById, silentLogger, tempDir, type Indexed } from './helpers';
import { NO_PYTHON, py } from './sqlite-python';

const SRC = path.join(FIXTURES, 'cursor', 'chats');
const WS = '/home/dev/agent/work/repo-cursor';
const WS2 = '/home/dev/agent/work/other-repo';
const S1 = '3b1f6a2e-8c4d-4e5f-9a7b-1c2d3e4f5a6b';
const S2 = '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
/** meta.json: createdAtMs 1795604400000 and updatedAtMs + 240 000. */
const CREATED = '2026-11-25T11:00:00.000Z';
const UPDATED = Date.parse('2026-11-25T11:04:00.000Z');
/** The second chat has no meta.json: its store's mtime is set to this. */
const S2_WRITTEN = Date.parse('2026-11-24T11:30:00.000Z');

async function home(): Promise<{ home: string; chats: string }> {
  const h = path.join(await tempDir('ah-cursor-'), 'home');
  const chats = path.join(h, '.cursor', 'chats');
  await fsp.cp(SRC, chats, { recursive: true });
  const s2 = path.join(chats, md5(WS2), S2, 'store.db');
  for (const p of [s2, `${s2}-wal`]) await fsp.utimes(p, S2_WRITTEN / 1000, S2_WRITTEN / 1000);
  return { home: h, chats };
}

async function index(h: string, now: number, log = silentLogger): Promise<Indexed> {
  const file = path.join(await tempDir('ah-store-'), 'store.sqlite');
  const store = await Store.open(file);
  const indexer = new Indexer(store, [cursorAdapter], { home: h, env: {} }, log);
  const stats = await indexer.scanAll();
  return { store, indexer, stats, storeFile: file, sessions: sessionsById(store, now) };
}

const s1Store = (chats: string) => path.join(chats, md5(WS), S1, 'store.db');

describe('Cursor agent CLI', () => {
  test('the fixture is faithful: folder = md5(workspace), blob ids = sha256(data), the agent record points at a root blob', async () => {
    assert.equal(md5(WS), '769bfd5b56af814ea6d377f24b0e09e0');
    const db = path.join(SRC, md5(WS), S1, 'store.db');
    const { ids, agent } = await withLiveSnapshot(db, (d) => ({
      ids: (d.exec('SELECT id, data FROM blobs')[0].values as [string, Uint8Array][]).map(([id, data]) => [
        id,
        createHash('sha256').update(data).digest('hex'),
      ]),
      agent: parseAgentRecord(d.exec("SELECT value FROM meta WHERE key = '0'")[0].values[0][0])!,
    }));
    for (const [id, hash] of ids) assert.equal(id, hash);
    assert.equal(agent.agentId, S1);
    assert.equal(agent.workspacePath, WS);
    assert.ok(ids.some(([id]) => id === agent.latestRootBlobId));
  });

  test('chat 3b1f6a2e…: prompts, tool calls, title, cwd, model, PR, a running tool; no tokens (none are stored)', async () => {
    const { home: h } = await home();
    // Two minutes after meta.json's updatedAtMs: the shell call is still running.
    const now = UPDATED + 2 * 60_000;
    const { sessions, store } = await index(h, now);
    assert.equal(sessions.size, 2);
    const s = mustGet(sessions, S1);
    assert.equal(s.framework, 'cursor');
    assert.ok(usesSharedProcess(s));
    assert.equal(s.title, 'Fix the flaky test');
    assert.equal(s.cwd, WS);
    assert.equal(s.model, 'claude-4.5-sonnet');
    assert.equal(s.git_branch, null);
    // The <user_info> context blob is not a prompt; the second query shares its blob with context.
    assert.equal(s.message_count, 2);
    assert.equal(s.first_user_message, 'fix the flaky test in parser.spec.ts');
    assert.equal(s.last_user_message, 'also run the linter');
    // The CLI's own record of the prompts agrees.
    const history = JSON.parse(readFileSync(path.join(SRC, md5(WS), S1, 'prompt_history.json'), 'utf8')) as string[];
    assert.deepEqual([s.first_user_message, s.last_user_message], [history[0], history[history.length - 1]]);
    // Read toolu_01Aread, StrReplace toolu_01Bedit, Shell toolu_01Cshell.
    assert.equal(s.tool_call_count, 3);
    assert.equal(s.github_pr, 7);
    assert.equal(s.github_repo, 'acme/parser');
    assert.equal(s.first_started_at, CREATED);
    assert.equal(s.last_activity, new Date(UPDATED).toISOString());
    // The last message asked for a tool with no result yet, written 2 minutes ago: busy.
    assert.equal(s.status, 'busy');
    // No usage exists locally: nothing counted, nothing priced, nothing "unpriced".
    assert.deepEqual(
      [
        s.api_request_count,
        s.tokens_input,
        s.tokens_output,
        s.tokens_cache_read,
        s.tokens_cache_write,
        s.cost_usd,
        s.unpriced_requests,
        s.context,
      ],
      // cost_usd null: no request, nothing priced (the specified record).
      [0, 0, 0, 0, 0, null, 0, null],
    );
    assert.equal(all(store.db, 'SELECT * FROM usage').length, 0);
    assert.equal(grandTotal(store).requests, 0);
    // 8 protobuf blobs (2 user messages, 2 steps, 2 turns, 2 roots) and 1 torn JSON blob in chat 1,
    // 1 protobuf root in chat 2: counted, the rest read.
    const d = diagnostics(store);
    assert.equal(d.lines_skipped, 10);
    const reasons = new Map(
      d.files_with_skips.map((f) => [String(f.path).split('#session=')[1], String(f.last_skip_reason)]),
    );
    assert.match(reasons.get(S1)!, /^1 blob\(s\) starting with "\{" that are not JSON objects; 8 binary \(protobuf/);
  });

  test('chat 9c8b7a6d…: an older store (plain-JSON agent record, no meta.json): dates from the record and the store', async () => {
    const { home: h } = await home();
    const { sessions } = await index(h, Date.parse('2026-12-02T00:00:00.000Z'));
    const s = mustGet(sessions, S2);
    assert.equal(s.cwd, WS2);
    assert.equal(s.model, 'gpt-5');
    // name "" is no title: the first prompt is.
    assert.equal(s.title, 'what does this repo do?');
    assert.equal(s.message_count, 1);
    assert.equal(s.first_started_at, '2026-11-24T11:00:00.000Z'); // agent createdAt 1795604400000 − 86 400 000
    // Without meta.json, the store's last write is the last activity.
    assert.equal(s.last_activity, new Date(S2_WRITTEN).toISOString());
    assert.equal(s.status, 'done');
  });

  test('the second turn exists only in store.db-wal: without the WAL the chat ends after its first turn', async () => {
    const { home: h, chats } = await home();
    const db = s1Store(chats);
    assert.ok((await fsp.stat(`${db}-wal`)).size > 0);
    const store = await Store.open(path.join(await tempDir('ah-store-'), 'store.sqlite'));
    const indexer = new Indexer(store, [cursorAdapter], { home: h, env: {} }, silentLogger);
    await fsp.rename(`${db}-wal`, `${db}-wal.away`);
    await indexer.scanAll();
    let s = mustGet(sessionsById(store, UPDATED + 60_000), S1);
    assert.deepEqual([s.message_count, s.tool_call_count, s.status], [1, 2, 'idle']);
    // The WAL comes back (as the live CLI writes it): a change of the -wal alone re-reads the chat.
    await fsp.rename(`${db}-wal.away`, `${db}-wal`);
    const stats = await indexer.indexPaths([`${db}-wal`]);
    assert.equal(stats.files_read, 1);
    s = mustGet(sessionsById(store, UPDATED + 60_000), S1);
    assert.deepEqual([s.message_count, s.tool_call_count, s.status], [2, 3, 'busy']);
  });

  test(
    'a live cursor-agent answers: the result and the reply written to the WAL end the turn',
    { skip: NO_PYTHON },
    async () => {
      const { home: h, chats } = await home();
      const db = s1Store(chats);
      const store = await Store.open(path.join(await tempDir('ah-store-'), 'store.sqlite'));
      const indexer = new Indexer(store, [cursorAdapter], { home: h, env: {} }, silentLogger);
      await indexer.scanAll();
      const work = await tempDir('ah-cursor-live-');
      py(
        `import sqlite3, shutil, os, sys, json, hashlib
work, live = sys.argv[1], sys.argv[2]
for s in ['', '-wal']:
    shutil.copyfile(live + s, os.path.join(work, 'store.db' + s))
con = sqlite3.connect(os.path.join(work, 'store.db'), isolation_level=None)
con.execute('PRAGMA wal_autocheckpoint=0')
def put(obj):
    b = json.dumps(obj, separators=(',', ':')).encode()
    con.execute('INSERT OR IGNORE INTO blobs VALUES (?, ?)', (hashlib.sha256(b).hexdigest(), b))
put({'role': 'tool', 'id': 'toolu_01Cshell', 'content': [{'type': 'tool-result', 'toolName': 'Shell', 'toolCallId': 'toolu_01Cshell', 'result': 'lint ok', 'isError': False}]})
put({'id': '1', 'role': 'assistant', 'content': [{'type': 'text', 'text': 'Lint passes.'}], 'providerOptions': {'cursor': {'modelName': 'claude-4.5-sonnet'}}})
for s in ['', '-wal']:
    shutil.copyfile(os.path.join(work, 'store.db' + s), live + s)
con.close()`,
        work,
        db,
      );
      const stats = await indexer.indexPaths([`${db}-wal`]);
      assert.equal(stats.files_read, 1);
      const s = mustGet(sessionsById(store, UPDATED + 60_000), S1);
      assert.equal(s.status, 'idle');
      assert.equal(s.tool_call_count, 3);
      assert.equal(s.api_request_count, 0);
    },
  );

  test('a corrupt store is counted, not fatal; a malformed meta.json is counted and the store still read', async () => {
    const { home: h, chats } = await home();
    await fsp.writeFile(path.join(chats, md5(WS2), S2, 'store.db'), randomBytes(8192));
    await fsp.rm(path.join(chats, md5(WS2), S2, 'store.db-wal'));
    await fsp.writeFile(path.join(chats, md5(WS), S1, 'meta.json'), '{"title": "Fix the fl');
    const log = recordingLogger();
    const { sessions, store } = await index(h, UPDATED, log);
    assert.deepEqual([...sessions.keys()], [S1]);
    const s = mustGet(sessions, S1);
    // Without a readable meta.json: the agent record's name and createdAt.
    assert.equal(s.title, 'Fix the flaky test');
    assert.equal(s.first_started_at, CREATED);
    assert.equal(s.message_count, 2);
    // Chat 1: 9 blobs + meta.json; chat 2: unreadable.
    assert.equal(diagnostics(store).lines_skipped, 11);
    assert.ok(log.warnings.some((w) => w.includes(S2) && w.includes('could not be read')));
  });

  test('classify: the store, its -wal/-shm and meta.json are one document per chat', () => {
    const root = '/h/.cursor';
    const dir = path.join(root, 'chats', md5(WS), S1);
    const doc = { path: path.join(dir, 'store.db'), root, session_id: S1, parent_session_id: null, agent_id: null };
    for (const n of ['store.db', 'store.db-wal', 'store.db-shm', 'meta.json'])
      assert.deepEqual(cursorAdapter.classify(root, path.join(dir, n)), doc);
    for (const p of [
      path.join(dir, 'prompt_history.json'),
      path.join(root, 'chats', md5(WS), 'store.db'),
      path.join(dir, 'x', 'store.db'),
      '/elsewhere/store.db',
    ]) {
      assert.equal(cursorAdapter.classify(root, p), null, p);
    }
    assert.deepEqual(cursorAdapter.roots({ home: '/h', env: {}, extraRoots: { cursor: ['/more'] } }), [
      '/h/.cursor',
      '/h/.config/cursor',
      '/more',
    ]);
    assert.deepEqual(cursorAdapter.resumeCommand!(S1), { command: 'cursor-agent', args: [`--resume=${S1}`] });
    assert.equal(cursorAdapter.resumeCommand!('not a uuid; rm -rf'), null);
  });

  test('promptText and parseAgentRecord', () => {
    assert.equal(promptText('<user_query>\n  hello\n</user_query>'), 'hello');
    assert.equal(
      promptText([
        { type: 'text', text: '<user_info>\nWorkspace Path: /w\n</user_info>\n\n<user_query>\nq\n</user_query>' },
      ]),
      'q',
    );
    assert.equal(promptText('<user_info>\nOS: linux\n</user_info>'), null);
    assert.equal(promptText('plain typed text'), 'plain typed text');
    assert.equal(promptText([{ type: 'image', source: {} }]), null);
    assert.equal(promptText(''), null);
    const rec = { agentId: 'a', lastUsedModel: 'm' };
    assert.deepEqual(parseAgentRecord(Buffer.from(JSON.stringify(rec)).toString('hex')), rec);
    assert.deepEqual(parseAgentRecord(JSON.stringify(rec)), rec);
    assert.deepEqual(parseAgentRecord(new TextEncoder().encode(JSON.stringify(rec))), rec);
    assert.equal(parseAgentRecord('zz'), null);
    assert.equal(parseAgentRecord(42), null);
  });
});
