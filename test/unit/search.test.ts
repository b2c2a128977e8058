/**
 * Full-text search: the FTS4 index the indexer fills from prompts, titles and assistant text, and
 * the query over it (matching, ranking, bounded text, assistant text on or off). Real store on disk.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import {
  SEARCH_TEXT_MAX,
  indexPendingSearchTexts,
  reclaimFreePages,
  searchIndexSize,
  searchProgress,
  searchSessions,
  searchTerms,
  unmark,
} from '../../src/core/store/search';
import { all } from '../../src/core/store/sqlite';
import { dumpStore } from '../../src/core/store/dump';
import { addFileDetails } from '../../src/core/store/details';
import { insertFile, resetFile } from '../../src/core/store/files';
import { Store } from '../../src/core/store/store';
import {
  RULES_CWD,
  assistant,
  encodeCwd,
  indexHome,
  makeIndexer,
  system,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const A = 'aaaaaaaa-0000-4000-8000-0000000000a1';
const B = 'bbbbbbbb-0000-4000-8000-0000000000b2';
const C = 'cccccccc-0000-4000-8000-0000000000c3';

async function home(): Promise<string> {
  const h = await tempDir('ah-search-');
  // A: "kangaroo" in a prompt twice (two prompts) and in the answer once.
  await writeTranscript(h, `${A}.jsonl`, [
    userPrompt({ session: A, ts: '2026-11-20T10:00:00.000Z', text: 'Teach the kangaroo parser to skip blank lines' }),
    assistant({
      session: A,
      ts: '2026-11-20T10:00:05.000Z',
      msg: 'msg_a1',
      req: 'req_a1',
      usage: { in: 10, out: 5 },
      content: [{ type: 'text', text: 'The kangaroo parser now skips blank lines.' }],
    }),
    userPrompt({ session: A, ts: '2026-11-20T10:01:00.000Z', text: 'and the kangaroo tests too' }),
  ]);
  // B: "kangaroo" only in the assistant's answer; the prompt is about wombats.
  await writeTranscript(h, `${B}.jsonl`, [
    userPrompt({ session: B, ts: '2026-11-21T10:00:00.000Z', text: 'Why is the wombat service slow?' }),
    assistant({
      session: B,
      ts: '2026-11-21T10:00:05.000Z',
      msg: 'msg_b1',
      req: 'req_b1',
      usage: { in: 10, out: 5 },
      content: [{ type: 'text', text: 'It calls the kangaroo API in a loop.' }],
    }),
    system({ session: B, ts: '2026-11-21T10:00:06.000Z', subtype: 'api_error' }),
  ]);
  // C: a very long prompt: only its first SEARCH_TEXT_MAX characters are kept.
  await writeTranscript(h, `${C}.jsonl`, [
    userPrompt({ session: C, ts: '2026-11-22T10:00:00.000Z', text: `${'lorem '.repeat(500)}platypus` }),
    assistant({ session: C, ts: '2026-11-22T10:00:05.000Z', msg: 'msg_c1', req: 'req_c1', usage: { in: 10, out: 5 } }),
  ]);
  return h;
}

describe('search', () => {
  test('the query language: words become prefix terms, FTS syntax never passes through', () => {
    assert.deepEqual(searchTerms('kanga par'), ['kanga*', 'par*']);
    assert.deepEqual(searchTerms('"x" OR -y NEAR(z)'), ['x*', 'or*', 'y*', 'near*', 'z*']);
    assert.deepEqual(searchTerms('  ... '), []);
    assert.deepEqual(searchTerms('café'), ['café*']);
  });

  test('snippet markers become highlight ranges', () => {
    assert.deepEqual(unmark('a \u0001kanga\u0002roo\nb'), { excerpt: 'a kangaroo b', highlights: [[2, 7]] });
  });

  test('prompts, titles and answers are found; ranking by weighted occurrences', async () => {
    const { store } = await indexHome(await home());
    const hits = searchSessions(store, 'kangaroo', { includeAssistantText: true });
    // A: title (= first prompt, 1 occurrence ×3) + 2 prompts (2 × 2) + answer (1 × 1) = 3 + 4 + 1 = 8.
    // B: answer only, 1 × 1 = 1.
    assert.deepEqual(
      hits.map((h) => [h.session_id, h.score]),
      [
        [A, 8],
        [B, 1],
      ],
    );
    const a = hits[0]!;
    assert.equal(a.kind, 'prompt'); // the excerpt comes from a prompt: the label shows the title already
    assert.equal(a.excerpt, 'Teach the kangaroo parser to skip blank lines');
    assert.equal(a.framework, 'claude_code');
    assert.equal(a.git_branch, 'main');
    for (const [s, e] of a.highlights) assert.equal(a.excerpt.slice(s, e).toLowerCase(), 'kangaroo');
    assert.ok(a.highlights.length >= 1);
    // Prefix while typing, case and accents folded.
    assert.deepEqual(
      searchSessions(store, 'KANG', { includeAssistantText: true }).map((h) => h.session_id),
      [A, B],
    );
    // Every word must match, anywhere in the session (B: "wombat" in its prompt, "kangaroo" in its answer).
    assert.deepEqual(
      searchSessions(store, 'kangaroo wombat', { includeAssistantText: true }).map((h) => h.session_id),
      [B],
    );
    assert.deepEqual(searchSessions(store, 'zebra', { includeAssistantText: true }), []);
  });

  test('assistant text can be left out of the search', async () => {
    const { store } = await indexHome(await home());
    assert.deepEqual(
      searchSessions(store, 'kangaroo', { includeAssistantText: false }).map((h) => [h.session_id, h.score]),
      [[A, 7]],
    );
    assert.deepEqual(searchSessions(store, 'loop', { includeAssistantText: false }), []);
    assert.deepEqual(
      searchSessions(store, 'loop', { includeAssistantText: true }).map((h) => h.session_id),
      [B],
    );
  });

  test('stored text is bounded per message', async () => {
    const { store } = await indexHome(await home());
    // "platypus" comes after 3000 characters of the prompt: not kept, not found.
    assert.deepEqual(searchSessions(store, 'platypus', { includeAssistantText: true }), []);
    assert.equal(searchSessions(store, 'lorem', { includeAssistantText: true })[0]?.session_id, C);
    const longest = all<{ n: number }>(store.db, 'SELECT MAX(length(body)) AS n FROM search_fts')[0]!.n;
    assert.equal(longest, SEARCH_TEXT_MAX);
    const size = searchIndexSize(store);
    // Documents: A 2 prompts + 1 answer + title, B 1 prompt + 1 answer + title, C 1 prompt + 1 answer ("ok") + title = 10.
    assert.equal(size.documents, 10);
    assert.ok(size.index_bytes > 0);
    // Stored deflated: the 2048-character prompt of C takes fewer bytes than its characters, and
    // reading the column gives the text back.
    const stored = all<{ bytes: number }>(store.db, 'SELECT MAX(length(c0body)) AS bytes FROM search_fts_content')[0]!
      .bytes;
    assert.ok(stored < SEARCH_TEXT_MAX, `${stored} bytes stored for ${SEARCH_TEXT_MAX} characters`);
    assert.ok(size.text_bytes > 0 && size.text_bytes < 10 * SEARCH_TEXT_MAX);
  });

  test('texts are indexed after the pass, in slices: never those rolled back or forgotten meanwhile', async () => {
    const store = await Store.open(null);
    const prompt = (text: string) => ({
      kind: 'user_prompt' as const,
      ts: '2026-11-22T10:00:00.000Z',
      text,
      run_start: false,
    });
    const matches = (word: string) =>
      all<{ docid: number }>(store.db, 'SELECT docid FROM search_fts WHERE search_fts MATCH ?', [word]).length;
    await store.batch(async () => {
      const a = store.transaction(() =>
        insertFile(store, { path: '/a.jsonl', framework: 'claude_code', root: '/r', session_id: 'sa' }),
      );
      const b = store.transaction(() =>
        insertFile(store, { path: '/b.jsonl', framework: 'claude_code', root: '/r', session_id: 'sb' }),
      );
      store.transaction(() => addFileDetails(store, a.file_id, 'sa', [prompt('alpha kept')]));
      assert.throws(() =>
        store.transaction(() => {
          addFileDetails(store, a.file_id, 'sa', [prompt('beta rolled back')]);
          throw new Error('boom');
        }),
      );
      store.transaction(() => addFileDetails(store, b.file_id, 'sb', [prompt('gamma forgotten')]));
      store.transaction(() => resetFile(store, b.file_id));
      // A query while the pass is still open sees what is gathered so far.
      assert.equal(searchIndexSize(store).documents, 1);
      store.transaction(() => addFileDetails(store, b.file_id, 'sb', [prompt('delta read again')]));
    });
    // The numbers are in; the texts wait for the index (filled later, in slices), and say so.
    assert.deepEqual(['alpha', 'delta'].map(matches), [0, 0]);
    assert.deepEqual(searchProgress(store), { texts: 2, indexed: 0, complete: false });
    assert.equal(indexPendingSearchTexts(store, 1), 1);
    assert.deepEqual(searchProgress(store), { texts: 2, indexed: 1, complete: false });
    assert.equal(indexPendingSearchTexts(store), 0);
    assert.deepEqual(searchProgress(store), { texts: 2, indexed: 2, complete: true });
    assert.deepEqual(['alpha', 'beta', 'gamma', 'delta'].map(matches), [1, 0, 0, 1]);
    // Every indexed text has its row and every row its text.
    const counts = all<{ docs: number; texts: number }>(
      store.db,
      'SELECT (SELECT COUNT(*) FROM search_doc) AS docs, (SELECT COUNT(*) FROM search_fts) AS texts',
    )[0];
    assert.deepEqual(counts, { docs: 2, texts: 2 });
    store.close();
  });

  test('once every text is indexed, the pages the queued texts left free are given back; the content is the same', async () => {
    const h = await tempDir('ah-search-reclaim-');
    const sessions = Array.from({ length: 40 }, (_, i) => `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const [i, id] of sessions.entries()) {
      await writeTranscript(h, `${id}.jsonl`, [
        userPrompt({
          session: id,
          ts: '2026-11-20T10:00:00.000Z',
          text: `numbat ${i} ${'words to fill pages '.repeat(100)}`,
        }),
        assistant({
          session: id,
          ts: '2026-11-20T10:00:05.000Z',
          msg: `msg_${i}`,
          req: `req_${i}`,
          usage: { in: 10, out: 5 },
        }),
      ]);
    }
    const file = path.join(await tempDir('ah-search-reclaim-store-'), 'index.sqlite');
    const store = await Store.open(file);
    await makeIndexer(store, h).scanAll();
    assert.equal(
      reclaimFreePages(store, { minBytes: 0, minShare: 0 }),
      false,
      'texts still pending: nothing to give back yet',
    );
    assert.equal(indexPendingSearchTexts(store), 0);
    const before = dumpStore(store);
    const pages = () => all<{ n: number }>(store.db, 'SELECT page_count AS n FROM pragma_page_count()')[0]!.n;
    const pagesBefore = pages();
    assert.equal(reclaimFreePages(store), false, 'a few KiB free are not worth a rewrite');
    assert.equal(reclaimFreePages(store, { minBytes: 0, minShare: 0 }), true);
    assert.ok(pages() < pagesBefore, `${pages()} pages after, ${pagesBefore} before`);
    assert.equal(dumpStore(store), before);
    assert.equal(searchSessions(store, 'numbat', { includeAssistantText: true }).length, 40);
    await store.persist();
    store.close();
    const reopened = await Store.open(file);
    assert.equal(dumpStore(reopened), before);
    reopened.close();
  });

  test('appended lines are added once; a file read again replaces its text', async () => {
    const h = await home();
    const { store, indexer } = await indexHome(h);
    const file = path.join(h, '.claude', 'projects', encodeCwd(RULES_CWD), `${B}.jsonl`);
    await indexer.scanAll();
    const before = searchIndexSize(store).documents;
    await fsp.appendFile(
      file,
      `${JSON.stringify(userPrompt({ session: B, ts: '2026-11-21T11:00:00.000Z', text: 'one more echidna' }))}\n`,
    );
    await makeIndexer(store, h).scanAll();
    assert.equal(searchIndexSize(store).documents, before + 1);
    assert.deepEqual(
      searchSessions(store, 'echidna', { includeAssistantText: true }).map((x) => x.session_id),
      [B],
    );
    // Replaced by a shorter file: read again from the start, the old text goes.
    await fsp.writeFile(
      file,
      `${JSON.stringify(userPrompt({ session: B, ts: '2026-11-21T12:00:00.000Z', text: 'fresh start' }))}\n`,
    );
    await makeIndexer(store, h).scanAll();
    assert.deepEqual(searchSessions(store, 'echidna', { includeAssistantText: true }), []);
    assert.deepEqual(
      searchSessions(store, 'fresh', { includeAssistantText: true }).map((x) => x.session_id),
      [B],
    );
  });
});

describe('search in the extension worker', () => {
  test('a pass leaves its texts pending; the worker indexes them when idle, and search says how far it is', async () => {
    const h = await home();
    const storeFile = path.join(await tempDir('ah-search-svc-'), 'store.sqlite');
    // A store indexed by a process that never searches (the CLI): every text still pending.
    const { store } = await indexHome(h, storeFile);
    await store.persist();
    assert.deepEqual(searchProgress(store), { texts: 10, indexed: 0, complete: false });
    assert.deepEqual(searchSessions(store, 'kangaroo', { includeAssistantText: true, indexedOnly: true }), []);
    store.close();

    const svc = new IndexService(
      {
        storeFile,
        env: {},
        home: h,
        agents: { extraRoots: {}, disabled: [] },
        pricing: { overrides: {}, refresh: false },
        status: DEFAULT_STATUS_SETTINGS,
        rescanIntervalMs: 3_600_000,
      },
      () => undefined,
      { info: () => undefined, warn: () => undefined, error: () => undefined },
    );
    await svc.start();
    try {
      // The worker's idle slices fill the index after its first pass; search waits for nothing.
      for (let i = 0; i < 500 && !(await svc.query('searchProgress', {})).complete; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(await svc.query('searchProgress', {}), { texts: 10, indexed: 10, complete: true });
      const hits = await svc.query('search', { text: 'kangaroo', includeAssistantText: true });
      assert.deepEqual(
        hits.map((x) => x.session_id),
        [A, B],
      );
    } finally {
      await svc.stop();
    }
  });
});
