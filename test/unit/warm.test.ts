/**
 * A warm start (store present, nothing changed) reads the store and writes nothing: no schema
 * script or meta rows rewritten on open, no pass or live-registry refresh that changed nothing
 * marking the store dirty, so no save of the whole file. Saves are spaced by their cost. The
 * session list keeps its order (latest activity first) now that it is sorted in JS. No test here
 * looks at a clock (docs/performance.md).
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import { PERSIST_SPACING, PERSIST_SPACING_MAX_MS, persistSpacing } from '../../src/core/ingest/persistScheduler';
import type { FromWorker } from '../../src/core/ingest/protocol';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import { listSessions } from '../../src/core/store/queries';
import { loadSqlJs, one } from '../../src/core/store/sqlite';
import { machineId } from '../../src/core/machine';
import { replaceLive } from '../../src/core/store/live';
import { Store } from '../../src/core/store/store';
import { readSessionSnapshot, sessionSnapshotFile, writeSessionSnapshot } from '../../src/core/store/sessionSnapshot';
import { serialize } from 'node:v8';
import { assistant, indexHome, makeIndexer, NOW, tempDir, userPrompt, writeTranscript } from './helpers';

const A = 'aaaaaaaa-1111-4000-8000-00000000000a';
const B = 'bbbbbbbb-1111-4000-8000-00000000000b';
const C = 'cccccccc-1111-4000-8000-00000000000c';
const t = (hms: string) => `2026-11-22T${hms}Z`;

async function homeWithSessions(): Promise<string> {
  const home = path.join(await tempDir('ah-warm-'), 'home');
  // Last activity: A at 09:00:01, B at 11:00:01, C at 10:00:01.
  for (const [id, h] of [
    [A, '09'],
    [B, '11'],
    [C, '10'],
  ] as const) {
    await writeTranscript(home, `${id}.jsonl`, [
      userPrompt({ session: id, ts: t(`${h}:00:00.000`), text: `prompt ${id}` }),
      assistant({
        session: id,
        ts: t(`${h}:00:01.000`),
        msg: `msg_${id}`,
        req: `req_${id}`,
        usage: { in: 10, out: 1 },
      }),
    ]);
  }
  return home;
}

/** Rewrites a store file through sql.js directly (what an older build of the extension left). */
async function editStoreFile(file: string, sql: string): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(await fsp.readFile(file));
  db.exec(sql);
  await fsp.writeFile(file, db.export());
  db.close();
}

describe('warm start: the store is read, not written', () => {
  test('a loaded store made with this schema is clean after open, and a rescan that finds nothing new leaves it clean', async () => {
    const home = await homeWithSessions();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    store.close();

    const loaded = await Store.open(storeFile);
    assert.equal(loaded.outcome, 'loaded');
    assert.equal(loaded.isDirty, false);
    const stats = await makeIndexer(loaded, home).scanAll();
    assert.equal(stats.files_read, 0);
    assert.equal(loaded.isDirty, false);
    loaded.close();
  });

  test('a pass that changes a row marks the store dirty', async () => {
    const home = await homeWithSessions();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    store.close();

    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('09:00:00.000'), text: `prompt ${A}` }),
      assistant({ session: A, ts: t('09:00:01.000'), msg: `msg_${A}`, req: `req_${A}`, usage: { in: 10, out: 1 } }),
      assistant({ session: A, ts: t('12:00:00.000'), msg: 'msg_more', req: 'req_more', usage: { in: 20, out: 2 } }),
    ]);
    const loaded = await Store.open(storeFile);
    const stats = await makeIndexer(loaded, home).scanAll();
    assert.equal(stats.files_read, 1);
    assert.equal(loaded.isDirty, true);
    loaded.close();
  });

  test('a store from before the schema fingerprint (or with another schema text) has the schema script run once', async () => {
    const home = await homeWithSessions();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    store.close();
    // An older build: no fingerprint, and one index its schema did not have yet.
    await editStoreFile(storeFile, "DROP INDEX sessions_cwd; DELETE FROM meta WHERE key = 'schema'");

    const upgraded = await Store.open(storeFile);
    assert.equal(upgraded.outcome, 'loaded');
    assert.equal(upgraded.isDirty, true, 'the upgraded schema is saved');
    assert.ok(
      one(upgraded.db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sessions_cwd'"),
      'the missing index was created',
    );
    assert.equal(listSessions(upgraded, NOW).length, 3, 'the sessions are kept');
    await upgraded.persist();
    upgraded.close();

    const again = await Store.open(storeFile);
    assert.equal(again.isDirty, false, 'the next open finds the fingerprint and writes nothing');
    again.close();
  });

  test('a store missing a schema object under the same fingerprint (a bulk load cut short) gets it back', async () => {
    const home = await homeWithSessions();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    store.close();
    await editStoreFile(storeFile, 'DROP INDEX sessions_cwd');

    const loaded = await Store.open(storeFile);
    assert.ok(
      one(loaded.db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sessions_cwd'"),
      'the missing index was created',
    );
    assert.equal(loaded.isDirty, true);
    loaded.close();
  });

  test("a store with no machine id gets the machine's (and is saved)", async () => {
    const home = await homeWithSessions();
    const { store, storeFile } = await indexHome(home);
    await store.persist();
    store.close();
    await editStoreFile(storeFile, "DELETE FROM meta WHERE key = 'machine_id'");

    const loaded = await Store.open(storeFile);
    assert.equal(loaded.getMeta('machine_id'), machineId());
    assert.equal(loaded.isDirty, true);
    loaded.close();
  });

  test('the same live processes again write nothing; a changed one is written', async () => {
    const store = await Store.open(null);
    const proc = {
      pid: 4242,
      session_id: A,
      status: 'busy',
      waiting_for: null,
      started_at_ms: 1_700_000_000_000.5,
      updated_at_ms: 1_700_000_001_000,
      alive: true,
    };
    replaceLive(store, '/root', [proc]);
    const generation = store.generation;
    replaceLive(store, '/root', [{ ...proc }]);
    assert.equal(store.generation, generation, 'same entries: no write');
    replaceLive(store, '/root', [{ ...proc, status: 'waiting', waiting_for: 'permission' }]);
    assert.equal(store.generation, generation + 1, 'a changed status is written');
    const row = one<{ status: string; waiting_for: string }>(
      store.db,
      'SELECT status, waiting_for FROM live WHERE pid = 4242',
    );
    assert.deepEqual({ ...row }, { status: 'waiting', waiting_for: 'permission' });
    replaceLive(store, '/root', []);
    assert.equal(store.generation, generation + 2, 'a process gone is written');
    assert.equal(one<{ n: number }>(store.db, 'SELECT count(*) AS n FROM live')?.n, 0);
    const empty = store.generation;
    replaceLive(store, '/root', []);
    assert.equal(store.generation, empty, 'still none: no write');
    store.close();
  });

  test('sessions are listed latest activity first, sessions without activity last', async () => {
    const home = await homeWithSessions();
    const { store } = await indexHome(home);
    assert.deepEqual(
      listSessions(store, NOW).map((s) => s.session_id),
      [B, C, A],
    );
    store.db.run('UPDATE sessions SET last_activity = NULL WHERE session_id = ?', [B]);
    assert.deepEqual(
      listSessions(store, NOW).map((s) => s.session_id),
      [C, A, B],
    );
    store.close();
  });

  test('a service restarted on an unchanged store answers from it and never rewrites the file', async () => {
    const home = await homeWithSessions();
    const storeFile = path.join(await tempDir('ah-warm-svc-'), 'store.sqlite');
    const run = async () => {
      const events: FromWorker[] = [];
      let onIndexed: () => void = () => undefined;
      const indexed = new Promise<void>((resolve) => (onIndexed = resolve));
      const svc = new IndexService(
        {
          storeFile,
          env: {},
          home,
          agents: { extraRoots: {}, disabled: [] },
          pricing: { overrides: {}, refresh: false },
          status: DEFAULT_STATUS_SETTINGS,
          rescanIntervalMs: 3_600_000,
        },
        (m) => {
          events.push(m);
          if (m.type === 'indexed') onIndexed();
        },
        { info: () => undefined, warn: () => undefined, error: () => undefined },
      );
      await svc.start();
      const sessions = await svc.query('sessions', {});
      await indexed;
      await svc.stop();
      return { events, sessions };
    };
    const cold = await run();
    assert.equal(cold.events.find((e) => e.type === 'ready' && e.outcome === 'created') !== undefined, true);
    // The writer saved the session list next to the store for the next start's first paint.
    const list = await readSessionSnapshot(storeFile);
    const snapshotStat = await fsp.stat(sessionSnapshotFile(storeFile));
    const saved = await fsp.stat(storeFile);
    const bytes = await fsp.readFile(storeFile);

    const warm = await run();
    const ready = warm.events.find((e): e is Extract<FromWorker, { type: 'ready' }> => e.type === 'ready');
    assert.equal(ready?.outcome, 'loaded');
    assert.equal(ready?.sessions, 3);
    assert.deepEqual(
      warm.sessions.map((s) => s.session_id),
      [B, C, A],
    );
    assert.deepEqual(
      list?.sessions.map((s) => [s.session_id, s.tokens_input]),
      warm.sessions.map((s) => [s.session_id, s.tokens_input]),
    );
    // Nothing was saved, so the list was not written again either.
    assert.equal((await fsp.stat(sessionSnapshotFile(storeFile))).mtimeMs, snapshotStat.mtimeMs);
    const after = await fsp.stat(storeFile);
    // A save writes a temp file and renames it over the store: a new inode.
    assert.equal(after.ino, saved.ino, 'the store file was not replaced');
    assert.ok(bytes.equals(await fsp.readFile(storeFile)));
  });
});

describe('the session list saved with the index', () => {
  test('reads back as written; a list of another format or a damaged file is not used', async () => {
    const home = await homeWithSessions();
    const { store } = await indexHome(home);
    const sessions = listSessions(store, NOW, DEFAULT_STATUS_SETTINGS);
    store.close();
    const storeFile = path.join(await tempDir('ah-snap-'), 'store.sqlite');
    assert.equal(await readSessionSnapshot(storeFile), null, 'none yet');
    await writeSessionSnapshot(storeFile, sessions, new Date(NOW));
    const back = await readSessionSnapshot(storeFile);
    assert.deepEqual(back, { saved_at: new Date(NOW).toISOString(), sessions });
    await fsp.writeFile(
      sessionSnapshotFile(storeFile),
      serialize({ format: 'sessions-0/schema-1/parser-1', saved_at: 'x', sessions }),
    );
    assert.equal(await readSessionSnapshot(storeFile), null, 'another format');
    await fsp.writeFile(sessionSnapshotFile(storeFile), Buffer.from('not a snapshot'));
    assert.equal(await readSessionSnapshot(storeFile), null, 'damaged');
  });
});

describe('saves are spaced by their cost', () => {
  test('no save yet: no wait', () => {
    assert.equal(persistSpacing(null, 1_000), 0);
  });

  test('the next save waits PERSIST_SPACING times the last one, from its end', () => {
    // A 1,100 ms save ended at t=10,000: the next one no sooner than 10,000 + 10 × 1,100 = 21,000.
    assert.equal(PERSIST_SPACING, 10);
    assert.equal(persistSpacing({ at: 10_000, ms: 1_100 }, 10_000), 11_000);
    assert.equal(persistSpacing({ at: 10_000, ms: 1_100 }, 15_000), 6_000);
    assert.equal(persistSpacing({ at: 10_000, ms: 1_100 }, 21_000), 0);
    assert.equal(persistSpacing({ at: 10_000, ms: 1_100 }, 30_000), 0);
  });

  test('a save of a few milliseconds holds nothing back; a very slow one at most PERSIST_SPACING_MAX_MS', () => {
    // 3 ms × 10 = 30 ms.
    assert.equal(persistSpacing({ at: 5_000, ms: 3 }, 5_000), 30);
    // 20 s × 10 = 200 s, capped at 30 s.
    assert.equal(PERSIST_SPACING_MAX_MS, 30_000);
    assert.equal(persistSpacing({ at: 5_000, ms: 20_000 }, 5_000), 30_000);
  });
});
