/**
 * The store's in-memory file with room to grow (src/core/store/memfile.ts): SQLite ignores the
 * room, a save writes the database straight from the Buffer only while it is still sql.js's file,
 * and falls back to export() once sql.js has moved it. Every save reopens to the same data.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  headerSizeIsValid,
  liveBytes,
  readWithRoom,
  ROOM_LOADED_MIN,
  roomFor,
  withRoom,
} from '../../src/core/store/memfile';
import { listSessions } from '../../src/core/store/queries';
import { loadSqlJs, one } from '../../src/core/store/sqlite';
import { Store } from '../../src/core/store/store';
import { assistant, indexHome, makeIndexer, NOW, tempDir, userPrompt, writeTranscript } from './helpers';

const S = 'dddddddd-2222-4000-8000-00000000000d';
const t = (hms: string) => `2026-11-22T${hms}Z`;

async function smallImage(): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); CREATE TABLE t (x TEXT)');
  const image = db.export();
  db.close();
  return image;
}

function count(db: { exec(sql: string): { values: unknown[][] }[] }): number {
  return Number(db.exec('SELECT count(*) FROM t')[0].values[0][0]);
}

describe('the in-memory file with room', () => {
  test('room: a quarter of a loaded store, at least ROOM_LOADED_MIN', () => {
    assert.equal(roomFor(0), ROOM_LOADED_MIN);
    assert.equal(roomFor(1_000_000_000), 250_000_000);
  });

  test("the header check accepts sql.js's files and refuses a size the header does not give", async () => {
    const image = await smallImage();
    assert.equal(headerSizeIsValid(image, image.length), true);
    assert.equal(headerSizeIsValid(image, image.length + 4096), false, 'a page more than the header says');
    const stale = Buffer.from(image);
    stale.writeUInt32BE(stale.readUInt32BE(24) + 1, 24); // change counter no longer the "valid for" number
    assert.equal(headerSizeIsValid(stale, stale.length), false);
    assert.equal(
      headerSizeIsValid(
        Buffer.from('not a database at all, just text that is long enough to be read as a header........'.repeat(2)),
        160,
      ),
      false,
    );
  });

  test('SQLite ignores the room; writes land in the Buffer until it is used up, then the save must export', async () => {
    const SQL = await loadSqlJs();
    const file = withRoom(await smallImage(), 2 * 2 ** 20);
    const db = new SQL.Database(file);
    db.exec('BEGIN');
    for (let i = 0; i < 500; i++) db.run('INSERT INTO t VALUES (?)', ['x'.repeat(1000)]);
    db.exec('COMMIT');
    const bytes = liveBytes(db, file);
    assert.ok(bytes, 'still the live file after ~0.5 MB of rows');
    const copy = new SQL.Database(Buffer.from(bytes));
    assert.equal(count(copy), 500);
    assert.equal(String(copy.exec('PRAGMA integrity_check')[0].values[0][0]), 'ok');
    copy.close();

    // ~3 MB more: past the 2 MB of room, sql.js moves its file to a larger array.
    db.exec('BEGIN');
    for (let i = 0; i < 3000; i++) db.run('INSERT INTO t VALUES (?)', ['y'.repeat(1000)]);
    db.exec('COMMIT');
    assert.equal(liveBytes(db, file), null, 'the Buffer is no longer the file');
    const exported = new SQL.Database(db.export());
    assert.equal(count(exported), 3500);
    exported.close();
    db.close();
  });

  test('a store file is read with room; one whose header does not give its size is read without', async () => {
    const dir = await tempDir('ah-memfile-');
    const good = path.join(dir, 'good.sqlite');
    await fsp.writeFile(good, await smallImage());
    const size = (await fsp.stat(good)).size;
    assert.equal(readWithRoom(good)?.length, size + ROOM_LOADED_MIN);
    const bad = path.join(dir, 'bad.sqlite');
    await fsp.writeFile(bad, Buffer.concat([Buffer.from(await smallImage()), Buffer.alloc(4096)]));
    assert.equal(readWithRoom(bad)?.length, size + 4096);
    assert.equal(readWithRoom(path.join(dir, 'missing.sqlite')), null);
  });
});

describe('saves from the Buffer reopen to the same store', () => {
  async function homeWithOne(): Promise<{ home: string; file: string }> {
    const home = path.join(await tempDir('ah-memfile-'), 'home');
    const file = await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: t('09:00:00.000'), text: 'saved straight' }),
      assistant({ session: S, ts: t('09:00:01.000'), msg: 'msg_m1', req: 'req_m1', usage: { in: 100, out: 10 } }),
    ]);
    return { home, file };
  }

  test('new store, saved, changed, saved again, reopened: every change is there', async () => {
    const { home, file } = await homeWithOne();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    await fsp.appendFile(
      file,
      `${JSON.stringify(assistant({ session: S, ts: t('09:00:02.000'), msg: 'msg_m2', req: 'req_m2', usage: { in: 250, out: 5 } }))}\n`,
    );
    await makeIndexer(store, home).scanAll();
    await store.persist();
    store.close();

    const reopened = await Store.open(storeFile);
    assert.equal(reopened.outcome, 'loaded');
    const s = listSessions(reopened, NOW)[0];
    // 100 + 250 input, 10 + 5 output, two requests.
    assert.equal(s.tokens_input, 350);
    assert.equal(s.tokens_output, 15);
    assert.equal(s.api_request_count, 2);
    assert.equal(Object.values(one(reopened.db, 'PRAGMA integrity_check') ?? {})[0], 'ok');
    reopened.close();
  });

  test('a store loaded without room (header not trusted) grows, is saved through export, and reopens', async () => {
    const { home, file } = await homeWithOne();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    store.close();
    // Make the header's size "not valid" (change counter != version-valid-for): SQLite then sizes the
    // database from the file, and the store is read with no room.
    const bytes = await fsp.readFile(storeFile);
    bytes.writeUInt32BE(bytes.readUInt32BE(92) + 1, 92);
    await fsp.writeFile(storeFile, bytes);

    const loaded = await Store.open(storeFile);
    assert.equal(loaded.outcome, 'loaded');
    await fsp.appendFile(
      file,
      `${JSON.stringify(assistant({ session: S, ts: t('09:00:03.000'), msg: 'msg_m3', req: 'req_m3', usage: { in: 40, out: 4 } }))}\n`,
    );
    await makeIndexer(loaded, home).scanAll();
    await loaded.persist();
    loaded.close();

    const reopened = await Store.open(storeFile);
    const s = listSessions(reopened, NOW)[0];
    // 100 + 40 input, 10 + 4 output.
    assert.equal(s.tokens_input, 140);
    assert.equal(s.tokens_output, 14);
    assert.equal(Object.values(one(reopened.db, 'PRAGMA integrity_check') ?? {})[0], 'ok');
    reopened.close();
  });
});
