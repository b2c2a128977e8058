/**
 * The pieces made fast for `npm run bench` (docs/performance.md) keep their meaning: reused
 * prepared statements across persists, one transaction per pass with a savepoint per file, the
 * one-JSON-object-per-row listing, the path-range lookup of a document's sessions, and synchronous
 * chunked reads of lines longer than a chunk. No test here looks at a clock.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readCompleteLines } from '../../src/core/ingest/tailer';
import { listSessions } from '../../src/core/store/queries';
import { all, allWideAside } from '../../src/core/store/sqlite';
import { newFileState } from '../../src/core/model/reducer';
import { insertFile, listDocumentSessionRows, listFiles, parseStateJson, stateJson } from '../../src/core/store/files';
import { keyHash, upsertUsage } from '../../src/core/store/requests';
import { Store } from '../../src/core/store/store';
import { createHash } from 'node:crypto';
import {
  assistant,
  fixtureHome,
  indexHome,
  jsonl,
  makeIndexer,
  mustGet,
  NOW,
  sessionsById,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const S = 'eeeeeeee-0000-4000-8000-00000000000e';
const t = (hms: string) => `2026-11-22T${hms}Z`;

describe('performance paths keep their meaning', () => {
  test('writes after a persist (which frees every prepared statement) still land, and survive a reopen', async () => {
    const dir = await tempDir('ah-perf-');
    const home = path.join(dir, 'home');
    const storeFile = path.join(dir, 'store.sqlite');
    const file = await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: t('09:00:00.000'), text: 'persist twice' }),
      assistant({ session: S, ts: t('09:00:01.000'), msg: 'msg_p1', req: 'req_p1', usage: { in: 100, out: 10 } }),
    ]);
    const store = await Store.open(storeFile);
    const indexer = makeIndexer(store, home);
    await indexer.scanAll();
    await store.persist();
    await fsp.appendFile(
      file,
      jsonl([
        assistant({ session: S, ts: t('09:00:02.000'), msg: 'msg_p2', req: 'req_p2', usage: { in: 250, out: 5 } }),
      ]),
    );
    await indexer.scanAll();
    await store.persist();
    store.close();

    const reopened = await Store.open(storeFile);
    const s = mustGet(sessionsById(reopened), S);
    // input: 100 (msg_p1) + 250 (msg_p2) = 350; output: 10 + 5 = 15; two requests.
    assert.equal(s.tokens_input, 350);
    assert.equal(s.tokens_output, 15);
    assert.equal(s.api_request_count, 2);
    reopened.close();
  });

  test('one read from the start with the same request twice keeps the larger line, whichever comes first', async () => {
    const dir = await tempDir('ah-perf-');
    const home = path.join(dir, 'home');
    await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: t('10:00:00.000'), text: 'streamed' }),
      // The final line of a streamed response first (output 300), an earlier smaller one after it.
      assistant({ session: S, ts: t('10:00:02.000'), msg: 'msg_s', req: 'req_s', usage: { in: 40, out: 300 } }),
      assistant({ session: S, ts: t('10:00:01.000'), msg: 'msg_s', req: 'req_s', usage: { in: 40, out: 2 } }),
    ]);
    const { store, sessions } = await indexHome(home);
    const s = mustGet(sessions, S);
    // One request: input 40, output max(300, 2) = 300.
    assert.equal(s.api_request_count, 1);
    assert.equal(s.tokens_input, 40);
    assert.equal(s.tokens_output, 300);
    store.close();
  });

  test('a parse state stored without its empty fields reads back as it was', () => {
    const ids = { session_id: S, parent_session_id: null, agent_id: null };
    const state = {
      ...newFileState(ids),
      cwd: '/w',
      run_count: 2,
      message_count: 0,
      first_user_message: 'hi',
      prs: [],
      adapter_state: { keep: null, n: 0 },
    };
    const json = stateJson(state);
    assert.ok(!json.includes('"message_count"') && !json.includes('"prs"'), json);
    assert.deepEqual(parseStateJson(json, ids), state);
  });

  test('a price rule first written by a piece that rolled back is written again by the next row that needs it', async () => {
    const store = await Store.open(null);
    const row = (key: string) => ({
      dedup_key: key,
      message_id: null,
      sidechain: false,
      ts: t('09:00:00.000'),
      model: 'm',
      git_branch: null,
      speed: null,
      tokens: { input: 1, output: 1, cache_read: 0, cache_write: 0, cache_write_1h: 0 },
      cost_usd: 0.5,
      priced: true,
      price_rule: 'a rule seen first in a failing piece',
    });
    await store.batch(async () => {
      const f = store.transaction(() =>
        insertFile(store, { path: '/f.jsonl', framework: 'claude_code', root: '/r', session_id: 's' }),
      );
      assert.throws(() =>
        store.transaction(() => {
          upsertUsage(store, f.file_id, 's', [row('k1')], false);
          throw new Error('boom');
        }),
      );
      store.transaction(() => upsertUsage(store, f.file_id, 's', [row('k2')], false));
    });
    assert.deepEqual(
      all(store.db, 'SELECT (SELECT rule FROM price_rules WHERE rule_id = u.rule_id) AS rule FROM usage u'),
      [{ rule: 'a rule seen first in a failing piece' }],
    );
    store.close();
  });

  test('the first pass builds the request indexes after filling the store; later passes keep them', async () => {
    const dir = await tempDir('ah-bulk-');
    const home = path.join(dir, 'home');
    const file = await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: t('11:00:00.000'), text: 'bulk' }),
      assistant({ session: S, ts: t('11:00:01.000'), msg: 'msg_b1', req: 'req_b1', usage: { in: 10, out: 1 } }),
    ]);
    const store = await Store.open(null);
    const indexes = () =>
      all<{ name: string }>(
        store.db,
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'usage' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      ).map((r) => r.name);
    const before = indexes();
    assert.ok(before.includes('usage_key') && before.includes('usage_branch'), before.join());
    const indexer = makeIndexer(store, home);
    await indexer.scanAll();
    assert.deepEqual(indexes(), before, 'built again after the first pass');
    assert.equal(store.beginBulkLoad(), false, 'a store that has read files is not bulk-loaded again');
    assert.deepEqual(indexes(), before);
    await fsp.appendFile(
      file,
      jsonl([assistant({ session: S, ts: t('11:00:02.000'), msg: 'msg_b2', req: 'req_b2', usage: { in: 5, out: 1 } })]),
    );
    await indexer.scanAll();
    // input 10 + 5, both requests counted: the indexes were used by the second pass's settling.
    assert.equal(mustGet(sessionsById(store), S).tokens_input, 15);
    store.close();
  });

  test('request keys are stored as the first 12 bytes of their SHA-1', () => {
    for (const key of ['msg_01:req_01', 'codex:resp:resp_b1', 'é 数 😀', '']) {
      assert.deepEqual(keyHash(key), createHash('sha1').update(key).digest().subarray(0, 12));
    }
  });

  test('a piece failing inside a batch rolls back alone; the batch keeps the rest', async () => {
    const store = await Store.open(null);
    await store.batch(async () => {
      store.transaction(() =>
        insertFile(store, { path: '/kept.jsonl', framework: 'claude_code', root: '/r', session_id: 'a' }),
      );
      assert.throws(() =>
        store.transaction(() => {
          insertFile(store, { path: '/rolled-back.jsonl', framework: 'claude_code', root: '/r', session_id: 'b' });
          throw new Error('boom');
        }),
      );
    });
    assert.deepEqual(
      listFiles(store).map((f) => f.path),
      ['/kept.jsonl'],
    );
    store.close();
  });

  test("a document's session rows are found by path range, and only its own", async () => {
    const store = await Store.open(null);
    for (const p of [
      '/d/chat.jsonl',
      '/d/chat.jsonl#session=1',
      '/d/chat.jsonl#session=2',
      '/d/chat.jsonl2#session=3',
      '/d/chat.json#session=4',
      '/d/chat.jsonl#sessionX',
    ]) {
      insertFile(store, { path: p, framework: 'gemini', root: '/r', session_id: null });
    }
    assert.deepEqual(
      listDocumentSessionRows(store, '/d/chat.jsonl')
        .map((f) => f.path)
        .sort(),
      ['/d/chat.jsonl#session=1', '/d/chat.jsonl#session=2'],
    );
    store.close();
  });

  test('allWideAside gives the rows all() gives, REAL values exact, the aside columns apart', async () => {
    const { store } = await indexHome(await fixtureHome('2.1.332'));
    const select = 'SELECT s.*, c.git_dir AS git_dir FROM sessions s LEFT JOIN cwd_info c ON c.cwd = s.cwd';
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.session_id).localeCompare(String(b.session_id));
    const wide = allWideAside<Record<string, unknown>>(store.db, select, ['git_dir', 'root'])
      .map(([row, aside]) => ({ ...row, ...aside }))
      .sort(byId);
    const plain = all(store.db, select).sort(byId);
    assert.ok(plain.length > 1);
    assert.deepEqual(wide, plain);
    // and the view list built from it names every session once
    assert.equal(new Set(listSessions(store, NOW).map((v) => v.session_id)).size, plain.length);
    store.close();
  });

  test('lines longer than a read chunk (1 MB) come back whole, and a last half line waits', async () => {
    const dir = await tempDir('ah-perf-');
    const file = path.join(dir, 'long.jsonl');
    const long = `{"x":"${'é'.repeat(1_500_000)}"}`; // 3 MB of UTF-8 on one line, across 4 chunks
    await fsp.writeFile(file, `{"a":1}\n${long}\n{"b":2}\n{"half":`);
    const lines: string[] = [];
    const { offset, bytes } = await readCompleteLines(file, 0, (buf) => lines.push(buf.toString('utf8')));
    assert.deepEqual(lines, ['{"a":1}', long, '{"b":2}']);
    // offset: 8 ('{"a":1}\n') + 3,000,009 (the long line: 6 + 3,000,000 + 2 bytes + '\n') + 8 = 3,000,025
    assert.equal(offset, 8 + Buffer.byteLength(long) + 1 + 8);
    assert.equal(offset, 3_000_025);
    assert.equal(bytes, offset);
  });
});
