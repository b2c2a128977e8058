/**
 * Incremental indexing: the Indexer over a temp HOME, with the store on disk. Only complete lines
 * are read; a half line waits; a truncated or replaced file is read again from the start; a
 * deleted file's session stays; a restart with nothing changed reads nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { diagnostics, grandTotal } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import {
  assistant,
  encodeCwd,
  jsonl,
  makeIndexer,
  mustGet,
  RULES_CWD,
  recordingLogger,
  sessionsById,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const S = 'dddddddd-0000-4000-8000-00000000000d';
const t = (hms: string) => `2026-11-22T${hms}Z`;
const prompt = userPrompt({ session: S, ts: t('08:00:00.000'), text: 'incremental' });
const req = (n: number, input: number, out = 0) =>
  assistant({ session: S, ts: t(`08:00:0${n}.000`), msg: `msg_${n}`, req: `req_${n}`, usage: { in: input, out } });
const line = (r: object) => jsonl([r]);

async function setup() {
  const dir = await tempDir('ah-incr-');
  const home = path.join(dir, 'home');
  const storeFile = path.join(dir, 'store', 'index.sqlite');
  await fsp.mkdir(path.dirname(storeFile), { recursive: true });
  const file = await writeTranscript(home, `${S}.jsonl`, [prompt, req(1, 100)]);
  const store = await Store.open(storeFile);
  const indexer = makeIndexer(store, home);
  return { dir, home, storeFile, file, store, indexer };
}

const input = (store: Store) => mustGet(sessionsById(store), S).tokens_input;

describe('incremental indexing', () => {
  test('appended complete lines grow the totals; a half line waits; completing it counts it once', async () => {
    const { file, store, indexer } = await setup();
    const first = await indexer.scanAll();
    assert.equal(first.files_read, 1);
    assert.equal(first.bytes_read, (await fsp.stat(file)).size);
    assert.equal(input(store), 100);

    // Append request 2 (in 200): 100 + 200 = 300, and only the new bytes are read.
    const l2 = line(req(2, 200));
    await fsp.appendFile(file, l2);
    const second = await indexer.scanAll();
    assert.equal(second.bytes_read, Buffer.byteLength(l2));
    assert.equal(input(store), 300);

    // Half of request 3 (in 400), no newline yet: nothing changes.
    const l3 = line(req(3, 400));
    const cut = Math.floor(l3.length / 2);
    await fsp.appendFile(file, l3.slice(0, cut));
    const half = await indexer.scanAll();
    assert.equal(half.bytes_read, 0);
    assert.equal(half.lines_skipped, 0);
    assert.equal(input(store), 300);
    assert.equal(mustGet(sessionsById(store), S).api_request_count, 2);

    // The rest of the line arrives: 300 + 400 = 700, the whole line read once.
    await fsp.appendFile(file, l3.slice(cut));
    const done = await indexer.scanAll();
    assert.equal(done.bytes_read, Buffer.byteLength(l3));
    assert.equal(done.lines_skipped, 0);
    assert.equal(input(store), 700);
    assert.equal(mustGet(sessionsById(store), S).api_request_count, 3);
  });

  test('a streamed response split across reads keeps its largest line', async () => {
    const { file, store, indexer } = await setup();
    const partial = (out: number) =>
      line(
        assistant({
          session: S,
          ts: t('08:00:05.000'),
          msg: 'msg_5',
          req: 'req_5',
          usage: { in: 10, out },
          stop: out > 1 ? 'end_turn' : null,
        }),
      );
    await indexer.scanAll();
    await fsp.appendFile(file, partial(1));
    await indexer.scanAll();
    // 100 + 10 in; out 1 so far
    assert.equal(mustGet(sessionsById(store), S).tokens_output, 1);
    await fsp.appendFile(file, partial(30));
    await indexer.scanAll();
    assert.equal(mustGet(sessionsById(store), S).tokens_output, 30);
    // A smaller copy read later does not shrink it.
    await fsp.appendFile(file, partial(2));
    await indexer.scanAll();
    const s = mustGet(sessionsById(store), S);
    assert.equal(s.tokens_output, 30);
    assert.equal(s.tokens_input, 110);
    assert.equal(s.api_request_count, 2);
  });

  test("indexPaths (the watcher's way in): an appended file is read, a vanished one marked deleted, an unknown path ignored", async () => {
    const { file, store, indexer, home } = await setup();
    await indexer.scanAll();
    await fsp.appendFile(file, line(req(2, 200)));
    const appended = await indexer.indexPaths([file, file]);
    assert.equal(appended.files_read, 1);
    assert.equal(input(store), 300);
    const ignored = await indexer.indexPaths([path.join(home, 'elsewhere.jsonl')]);
    assert.equal(ignored.files_seen, 0);
    await fsp.unlink(file);
    const gone = await indexer.indexPaths([file]);
    assert.equal(gone.files_deleted, 1);
    const s = mustGet(sessionsById(store), S);
    assert.equal(s.transcript_available, false);
    assert.equal(s.tokens_input, 300);
  });

  test('a truncated file is read again from the start, without double counting', async () => {
    const { file, store, indexer } = await setup();
    const r2 = jsonl([req(2, 200)]);
    const keep = (await fsp.stat(file)).size + Buffer.byteLength(r2);
    await fsp.appendFile(file, r2 + jsonl([req(3, 400)]));
    await indexer.scanAll();
    assert.equal(input(store), 700);
    // Same inode, fewer bytes: prompt + requests 1 and 2 remain → 100 + 200 = 300 (not 700 + 300).
    await fsp.truncate(file, keep);
    const stats = await indexer.scanAll();
    assert.equal(stats.files_reset, 1);
    assert.equal(stats.bytes_read, keep);
    assert.equal(input(store), 300);
    assert.equal(grandTotal(store).requests, 2);
  });

  test('a file replaced under the same path (new inode) is read again from the start', async () => {
    const { file, store, indexer } = await setup();
    await fsp.appendFile(file, line(req(2, 200)));
    await indexer.scanAll();
    assert.equal(input(store), 300);
    const inodeBefore = (await fsp.stat(file)).ino;
    // Written beside and renamed over: a new inode, longer than before, other first bytes.
    const replacement = jsonl([
      userPrompt({ session: S, ts: t('09:00:00.000'), text: 'replaced' }),
      req(7, 5000),
      req(8, 6000),
      req(9, 7000),
    ]);
    await fsp.writeFile(`${file}.new`, replacement);
    await fsp.rename(`${file}.new`, file);
    assert.notEqual((await fsp.stat(file)).ino, inodeBefore);
    const stats = await indexer.scanAll();
    assert.equal(stats.files_reset, 1);
    // Only the new content: 5000 + 6000 + 7000 = 18000; the old 300 is gone.
    assert.equal(input(store), 18000);
    assert.equal(mustGet(sessionsById(store), S).first_user_message, 'replaced');
    assert.equal(grandTotal(store).requests, 3);
  });

  test('a file rewritten in place with other first bytes (same inode, longer) is read again', async () => {
    const { file, store, indexer } = await setup();
    await indexer.scanAll();
    assert.equal(input(store), 100);
    await fsp.writeFile(
      file,
      jsonl([
        userPrompt({ session: S, ts: t('09:00:00.000'), text: 'rewritten, longer than before' }),
        req(4, 40),
        req(5, 50),
      ]),
    );
    const stats = await indexer.scanAll();
    assert.equal(stats.files_reset, 1);
    assert.equal(input(store), 90); // 40 + 50
  });

  test('a deleted file keeps its session (transcript_available false) and its numbers', async () => {
    const { file, store, indexer, storeFile, home } = await setup();
    await fsp.appendFile(file, line(req(2, 200)));
    await indexer.scanAll();
    await fsp.unlink(file);
    const stats = await indexer.scanAll();
    assert.equal(stats.files_deleted, 1);
    let s = mustGet(sessionsById(store), S);
    assert.equal(s.transcript_available, false);
    assert.equal(s.tokens_input, 300);
    assert.equal(s.api_request_count, 2);
    assert.equal(s.message_count, 1);
    assert.equal(diagnostics(store).files_deleted, 1);
    // It survives a restart too.
    await store.persist();
    store.close();
    const reopened = await Store.open(storeFile);
    await makeIndexer(reopened, home).scanAll();
    s = mustGet(sessionsById(reopened), S);
    assert.equal(s.transcript_available, false);
    assert.equal(s.tokens_input, 300);
    reopened.close();
  });

  test('a file moved away and back (same inode, size and mtime) is available again', async () => {
    const { file, store, indexer, dir } = await setup();
    await indexer.scanAll();
    const aside = path.join(dir, 'aside.jsonl');
    await fsp.rename(file, aside);
    await indexer.scanAll();
    assert.equal(mustGet(sessionsById(store), S).transcript_available, false);
    await fsp.rename(aside, file);
    await indexer.scanAll();
    const s = mustGet(sessionsById(store), S);
    assert.equal(s.transcript_available, true);
    assert.equal(s.transcript_path, file);
    assert.equal(s.tokens_input, 100);
    assert.equal(diagnostics(store).files_deleted, 0);
  });

  test('a restart with nothing changed reads 0 bytes', async () => {
    const { store, storeFile, home, file } = await setup();
    await fsp.mkdir(path.join(path.dirname(file), S, 'subagents'), { recursive: true });
    await writeTranscript(home, `${S}/subagents/agent-s1.jsonl`, [
      userPrompt({ session: S, ts: t('08:00:01.500'), text: 'task', sidechain: true, agentId: 's1' }),
      assistant({
        session: S,
        ts: t('08:00:01.600'),
        msg: 'msg_s1',
        req: 'req_s1',
        usage: { in: 11 },
        sidechain: true,
        agentId: 's1',
      }),
    ]);
    const first = await makeIndexer(store, home).scanAll();
    assert.equal(first.files_read, 2);
    await store.persist();
    store.close();

    const reopened = await Store.open(storeFile);
    assert.equal(reopened.outcome, 'loaded');
    const stats = await makeIndexer(reopened, home).scanAll();
    assert.equal(stats.files_seen, 2);
    assert.equal(stats.files_read, 0);
    assert.equal(stats.bytes_read, 0);
    const s = mustGet(sessionsById(reopened), S);
    assert.equal(s.tokens_input, 100);
    assert.equal(s.rollup.tokens_input, 111);
    reopened.close();
  });

  test('malformed lines (truncated JSON, [1,2], a number) are skipped and counted; the rest is indexed', async () => {
    const dir = await tempDir('ah-bad-');
    const home = path.join(dir, 'home');
    const file = path.join(home, '.claude', 'projects', encodeCwd(RULES_CWD), `${S}.jsonl`);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(
      file,
      [
        JSON.stringify(prompt),
        '{"type":"assistant","message":{"id":"msg_cut","usage":{"input_tok',
        '[1,2]',
        '42',
        '',
        JSON.stringify(req(1, 100)),
        JSON.stringify(req(2, 200)),
        '',
      ].join('\n'),
    );
    const log = recordingLogger();
    const store = await Store.open(path.join(dir, 'store.sqlite'));
    const stats = await makeIndexer(store, home, log).scanAll();
    assert.equal(stats.lines_skipped, 3);
    const d = diagnostics(store);
    assert.equal(d.lines_skipped, 3);
    assert.equal(d.files_with_skips.length, 1);
    assert.equal(d.files_with_skips[0].skipped_lines, 3);
    assert.equal(log.warnings.length, 1);
    // 100 + 200 from the two good assistant lines.
    assert.equal(input(store), 300);
    assert.equal(mustGet(sessionsById(store), S).message_count, 1);
  });

  test('a store file of random bytes is moved aside and rebuilt', async () => {
    const dir = await tempDir('ah-corrupt-');
    const home = path.join(dir, 'home');
    await writeTranscript(home, `${S}.jsonl`, [prompt, req(1, 100)]);
    const storeFile = path.join(dir, 'index.sqlite');
    const garbage = randomBytes(8192);
    await fsp.writeFile(storeFile, garbage);

    const store = await Store.open(storeFile);
    assert.equal(store.outcome, 'rebuilt-corrupt');
    assert.ok(store.movedAside);
    assert.ok(existsSync(store.movedAside));
    assert.deepEqual(await fsp.readFile(store.movedAside), garbage);
    await makeIndexer(store, home).scanAll();
    assert.equal(input(store), 100);
    await store.persist();
    store.close();

    const again = await Store.open(storeFile);
    assert.equal(again.outcome, 'loaded');
    assert.equal(input(again), 100);
    again.close();
  });

  test('a store of another parser version is moved aside and rebuilt', async () => {
    const dir = await tempDir('ah-version-');
    const storeFile = path.join(dir, 'index.sqlite');
    const store = await Store.open(storeFile);
    assert.equal(store.outcome, 'created');
    store.setMeta('parser_version', '0');
    await store.persist();
    store.close();
    const again = await Store.open(storeFile);
    assert.equal(again.outcome, 'rebuilt-version');
    assert.ok(again.movedAside && existsSync(again.movedAside));
    again.close();
  });
});
