/**
 * liveSnapshot: reading another program's live SQLite database (WAL mode) without writing to it.
 * The databases and their -wal files are made by a real SQLite (python3's sqlite3 module) with
 * automatic checkpoints off, and copied while the writing connection is still open, so the
 * transactions under test exist only as WAL frames. Every expectation is also checked against what
 * that real SQLite reads from the same files (on a separate copy, since opening a WAL database
 * checkpoints it on close).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  WAL_MAGIC_BE,
  applyWal,
  liveSignature,
  openLiveSnapshot,
  readLiveImage,
  walChecksum,
  withLiveSnapshot,
} from '../../src/core/sqlite/liveSnapshot';
import { loadSqlJs } from '../../src/core/store/sqlite';
import { tempDir } from './helpers';
import { NO_PYTHON, py } from './sqlite-python';

/**
 * Python prologue: `live(dir)` opens <dir>/src/t.db in WAL mode with automatic checkpoints off;
 * `snap(con, name)` copies t.db and t.db-wal (if any) to <dir>/<name>/ while `con` stays open.
 */
const PROLOGUE = `
import sqlite3, shutil, os, sys
d = sys.argv[1]
def live():
    os.makedirs(os.path.join(d, 'src'), exist_ok=True)
    con = sqlite3.connect(os.path.join(d, 'src', 't.db'), isolation_level=None)
    assert con.execute('PRAGMA journal_mode=WAL').fetchone()[0] == 'wal'
    con.execute('PRAGMA wal_autocheckpoint=0')
    return con
def snap(con, name):
    out = os.path.join(d, name)
    os.makedirs(out, exist_ok=True)
    for s in ['', '-wal']:
        p = os.path.join(d, 'src', 't.db' + s)
        if os.path.exists(p):
            shutil.copyfile(p, os.path.join(out, 't.db' + s))
`;

/** What a real SQLite reads from <dir>/<name>/t.db (+ its -wal), on a throwaway copy. */
function sqliteReads(dir: string, name: string, sql: string): unknown[] {
  const out = py(
    `import sqlite3, shutil, os, sys, json, tempfile
src = os.path.join(sys.argv[1], sys.argv[2])
tmp = tempfile.mkdtemp()
for s in ['', '-wal']:
    if os.path.exists(os.path.join(src, 't.db' + s)):
        shutil.copyfile(os.path.join(src, 't.db' + s), os.path.join(tmp, 't.db' + s))
con = sqlite3.connect(os.path.join(tmp, 't.db'))
print(json.dumps([list(r) for r in con.execute(sys.argv[3])]))
con.close()
shutil.rmtree(tmp)`,
    dir,
    name,
    sql,
  );
  return JSON.parse(out) as unknown[];
}

async function snapshotRows(dbPath: string, sql: string): Promise<unknown[]> {
  return withLiveSnapshot(dbPath, (db) => (db.exec(sql)[0]?.values ?? []).map((r) => [...r]));
}

async function sha(p: string): Promise<string> {
  return createHash('sha256')
    .update(await fsp.readFile(p))
    .digest('hex');
}

const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, false);

/** Frame boundaries of a WAL made with 4096-byte pages: [offset, page number, commit size]. */
function frames(wal: Uint8Array): { off: number; pgno: number; commit: number }[] {
  const pageSize = u32(wal, 8);
  const out = [];
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    out.push({ off, pgno: u32(wal, off), commit: u32(wal, off + 4) });
  }
  return out;
}

describe('liveSnapshot: WAL frames applied onto the database image', { skip: NO_PYTHON }, () => {
  test('rows that exist only in the WAL are seen; the files are not modified', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)')
con.execute('PRAGMA wal_checkpoint(TRUNCATE)')  # the table is now in the main file, the WAL empty
for i in range(1, 4):
    con.execute('INSERT INTO t(v) VALUES (?)', ('row %d' % i,))  # three transactions, WAL only
snap(con, 'a')
con.close()`,
      dir,
    );
    const dbPath = path.join(dir, 'a', 't.db');
    const before = [await sha(dbPath), await sha(`${dbPath}-wal`)];

    // The main file alone has the table and no rows.
    const mainOnly = applyWal(await fsp.readFile(dbPath), null);
    const SQL = await loadSqlJs();
    const plain = new SQL.Database(mainOnly.image);
    assert.deepEqual(plain.exec('SELECT count(*) FROM t')[0].values, [[0]]);
    plain.close();

    const rows = await snapshotRows(dbPath, 'SELECT id, v FROM t ORDER BY id');
    assert.deepEqual(rows, [
      [1, 'row 1'],
      [2, 'row 2'],
      [3, 'row 3'],
    ]);
    assert.deepEqual(rows, sqliteReads(dir, 'a', 'SELECT id, v FROM t ORDER BY id'));

    const { info } = await readLiveImage(dbPath);
    // Each one-row insert into a one-page table rewrites page 2 (the table) in one commit frame.
    assert.equal(info.commits, 3);
    assert.equal(info.frames_valid, 3);
    assert.equal(info.frames_applied, 3);
    assert.equal(info.page_size, 4096);
    assert.equal(info.ignored, null);
    // The header of our copy says rollback journal; the file on disk still says WAL.
    const disk = await fsp.readFile(dbPath);
    assert.deepEqual([disk[18], disk[19]], [2, 2]);
    assert.deepEqual([info.db_pages, (await readLiveImage(dbPath)).image[18]], [2, 1]);

    assert.deepEqual([await sha(dbPath), await sha(`${dbPath}-wal`)], before, 'the snapshot wrote to the files');
  });

  test('no -wal file and an empty -wal file: the main file as it is', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(x)')
con.execute("INSERT INTO t VALUES ('checkpointed')")
con.execute('PRAGMA wal_checkpoint(TRUNCATE)')  # leaves a 0-byte -wal
snap(con, 'empty')
con.close()`,
      dir,
    );
    const dbPath = path.join(dir, 'empty', 't.db');
    assert.equal((await fsp.stat(`${dbPath}-wal`)).size, 0);
    assert.deepEqual(await snapshotRows(dbPath, 'SELECT x FROM t'), [['checkpointed']]);
    assert.equal((await readLiveImage(dbPath)).info.wal_bytes, 0);

    await fsp.rm(`${dbPath}-wal`);
    assert.deepEqual(await snapshotRows(dbPath, 'SELECT x FROM t'), [['checkpointed']]);
  });

  test('a torn last frame and a transaction without its commit frame are left out', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)')
con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
con.execute("INSERT INTO t(v) VALUES ('one')")
con.execute("INSERT INTO t(v) VALUES ('two')")
# A transaction spanning several pages (an index and a big row): several frames, the last one commits.
con.execute('BEGIN')
con.execute('CREATE INDEX tv ON t(v)')
con.execute("INSERT INTO t(v) VALUES (?)", ('x' * 9000,))
con.execute('COMMIT')
snap(con, 'full')
con.close()`,
      dir,
    );
    const full = path.join(dir, 'full', 't.db');
    const wal = await fsp.readFile(`${full}-wal`);
    const fr = frames(wal);
    const commits = fr.filter((f) => f.commit !== 0);
    assert.equal(commits.length, 3);
    const last = fr[fr.length - 1];
    assert.ok(last.commit !== 0 && fr.length >= 5, `the third transaction has several frames: ${JSON.stringify(fr)}`);
    assert.deepEqual(await snapshotRows(full, 'SELECT id, length(v) FROM t ORDER BY id'), [
      [1, 3],
      [2, 3],
      [3, 9000],
    ]);

    // Torn: the WAL cut in the middle of its last (commit) frame. The big transaction is gone whole,
    // including its earlier, complete frames (they have no commit after them).
    const torn = path.join(dir, 'torn');
    await fsp.mkdir(torn);
    await fsp.copyFile(full, path.join(torn, 't.db'));
    await fsp.writeFile(path.join(torn, 't.db-wal'), wal.subarray(0, last.off + 24 + 100));
    const tornPath = path.join(torn, 't.db');
    assert.deepEqual(await snapshotRows(tornPath, 'SELECT id, v FROM t ORDER BY id'), [
      [1, 'one'],
      [2, 'two'],
    ]);
    assert.deepEqual(sqliteReads(dir, 'torn', 'SELECT id, v FROM t ORDER BY id'), [
      [1, 'one'],
      [2, 'two'],
    ]);
    const tornInfo = (await readLiveImage(tornPath)).info;
    // Frames: 2 single-frame commits + (n - 3) complete frames of the cut transaction are valid.
    assert.equal(tornInfo.frames_valid, fr.length - 1);
    assert.equal(tornInfo.frames_applied, 2);
    assert.equal(tornInfo.commits, 2);
    assert.deepEqual(await snapshotRows(tornPath, "SELECT name FROM sqlite_master WHERE name = 'tv'"), []);
    assert.deepEqual(await snapshotRows(full, "SELECT name FROM sqlite_master WHERE name = 'tv'"), [['tv']]);

    // A page of the second transaction damaged: its checksum fails, and everything after it is out.
    const bad = path.join(dir, 'bad');
    await fsp.mkdir(bad);
    await fsp.copyFile(full, path.join(bad, 't.db'));
    const damaged = Buffer.from(wal);
    damaged[commits[1].off + 24 + 2000] ^= 0xff;
    await fsp.writeFile(path.join(bad, 't.db-wal'), damaged);
    assert.deepEqual(await snapshotRows(path.join(bad, 't.db'), 'SELECT id, v FROM t ORDER BY id'), [[1, 'one']]);
    assert.deepEqual(sqliteReads(dir, 'bad', 'SELECT id, v FROM t ORDER BY id'), [[1, 'one']]);
  });

  test('frames of an older WAL generation (other salts) after a restart are ignored', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)')
for i in range(20):
    con.execute('INSERT INTO t(v) VALUES (?)', ('old %d' % i,))
con.execute('PRAGMA wal_checkpoint(RESTART)')   # everything in the main file; the next write restarts the WAL
con.execute("DELETE FROM t WHERE id > 2")        # written from the WAL's start, with new salts
snap(con, 'restarted')
con.close()`,
      dir,
    );
    const dbPath = path.join(dir, 'restarted', 't.db');
    const wal = await fsp.readFile(`${dbPath}-wal`);
    // The old generation's frames are still in the file, after the new ones.
    assert.ok(frames(wal).length > (await readLiveImage(dbPath)).info.frames_valid);
    const expected = [
      [1, 'old 0'],
      [2, 'old 1'],
    ];
    assert.deepEqual(sqliteReads(dir, 'restarted', 'SELECT id, v FROM t ORDER BY id'), expected);
    assert.deepEqual(await snapshotRows(dbPath, 'SELECT id, v FROM t ORDER BY id'), expected);
  });

  test('a transaction that grows the file past the main file, and one that shrinks it', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)')
con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
con.execute('BEGIN')
for i in range(200):
    con.execute('INSERT INTO t(v) VALUES (?)', ('y' * 500,))
con.execute('COMMIT')
snap(con, 'grown')
con.execute('DELETE FROM t WHERE id > 5')
con.execute('VACUUM')   # through the WAL too: its commit frame records a smaller database
snap(con, 'shrunk')
con.close()`,
      dir,
    );
    const grown = path.join(dir, 'grown', 't.db');
    const g = await readLiveImage(grown);
    assert.ok(g.image.length > (await fsp.stat(grown)).size, 'the image is larger than the main file');
    assert.deepEqual(await snapshotRows(grown, 'SELECT count(*), sum(length(v)) FROM t'), [[200, 100000]]);
    assert.deepEqual(sqliteReads(dir, 'grown', 'SELECT count(*), sum(length(v)) FROM t'), [[200, 100000]]);

    const shrunk = path.join(dir, 'shrunk', 't.db');
    const s = await readLiveImage(shrunk);
    assert.ok(s.info.db_pages < g.info.db_pages, `shrunk to ${s.info.db_pages} pages from ${g.info.db_pages}`);
    assert.equal(s.image.length, s.info.db_pages * 4096);
    assert.deepEqual(await snapshotRows(shrunk, 'SELECT count(*) FROM t'), [[5]]);
    assert.deepEqual(sqliteReads(dir, 'shrunk', 'SELECT count(*) FROM t'), [[5]]);
  });

  test('a big-endian WAL (magic 0x377f0683) is read like a little-endian one', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(x)')
con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
con.execute("INSERT INTO t VALUES ('be 1')")
con.execute("INSERT INTO t VALUES ('be 2')")
snap(con, 'le')
con.close()`,
      dir,
    );
    const le = path.join(dir, 'le', 't.db');
    const wal = new Uint8Array(await fsp.readFile(`${le}-wal`));
    const be = toBigEndianWal(wal);
    assert.equal(u32(be, 0), WAL_MAGIC_BE);
    const out = path.join(dir, 'be');
    await fsp.mkdir(out);
    await fsp.copyFile(le, path.join(out, 't.db'));
    await fsp.writeFile(path.join(out, 't.db-wal'), be);
    assert.deepEqual(
      sqliteReads(dir, 'be', 'SELECT x FROM t'),
      [['be 1'], ['be 2']],
      'a real SQLite accepts the re-encoded WAL',
    );
    assert.deepEqual(await snapshotRows(path.join(out, 't.db'), 'SELECT x FROM t'), [['be 1'], ['be 2']]);
    assert.equal((await readLiveImage(path.join(out, 't.db'))).info.commits, 2);
  });

  test('a WAL with a bad header checksum or magic is ignored, with the reason', async () => {
    const dir = await tempDir('ah-wal-');
    py(
      `${PROLOGUE}
con = live()
con.execute('CREATE TABLE t(x)')
con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
con.execute("INSERT INTO t VALUES ('in wal')")
snap(con, 'a')
con.close()`,
      dir,
    );
    const db = await fsp.readFile(path.join(dir, 'a', 't.db'));
    const wal = await fsp.readFile(path.join(dir, 'a', 't.db-wal'));
    const badHeader = Buffer.from(wal);
    badHeader[12] ^= 1; // checkpoint sequence: covered by the header checksum
    assert.equal(applyWal(db, badHeader).info.ignored, 'WAL header checksum mismatch');
    const badMagic = Buffer.from(wal);
    badMagic[3] = 0x99;
    assert.equal(applyWal(db, badMagic).info.ignored, 'not a WAL (bad magic)');
    assert.equal(applyWal(db, wal.subarray(0, 10)).info.ignored, 'WAL shorter than its header');
    assert.equal(applyWal(db, wal).info.commits, 1);
  });
});

describe('liveSnapshot: a database being written and checkpointed while it is read', { skip: NO_PYTHON }, () => {
  test('every snapshot is a committed state: rows contiguous, the invariant holds, never going back', async () => {
    const dir = await tempDir('ah-wal-live-');
    const dbPath = path.join(dir, 'live.db');
    // A writer that commits one row per transaction for ~2.5 s, with passive, restart and truncate
    // checkpoints among them (so the main file and the WAL both change under the reader).
    const writer = spawn(
      'python3',
      [
        '-c',
        `import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute('PRAGMA journal_mode=WAL')
con.execute('PRAGMA wal_autocheckpoint=0')
con.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)')
print('ready', flush=True)
end = time.time() + 2.5
i = 0
while time.time() < end:
    i += 1
    con.execute('BEGIN')
    con.execute('INSERT INTO t VALUES (?, ?, ?)', (i, 2 * i, 'p' * (i % 3000)))
    con.execute('COMMIT')
    if i % 50 == 0: con.execute('PRAGMA wal_checkpoint(PASSIVE)')
    if i % 170 == 0: con.execute('PRAGMA wal_checkpoint(RESTART)')
    if i % 410 == 0: con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
print(i, flush=True)`,
        dbPath,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const exited = new Promise<number>((resolve) => writer.on('exit', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve) =>
      writer.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('ready')) resolve();
      }),
    );
    let running = true;
    void exited.then(() => (running = false));
    let last = 0;
    let snapshots = 0;
    let failed = 0;
    while (running) {
      let row: number[];
      try {
        row = (await withLiveSnapshot(
          dbPath,
          (db) => db.exec('SELECT count(*), coalesce(max(id), 0), coalesce(sum(v - 2 * id), 0) FROM t')[0].values[0],
          { quickCheck: 'always' },
        )) as number[];
      } catch {
        // This writer restarts its WAL every ~50 commits, thousands a second: a read can lose the
        // race every time it tries. It then says so; what it must never do is answer wrongly.
        failed++;
        continue;
      }
      const [n, maxId, bad] = row;
      assert.equal(n, maxId, 'rows 1..n, none missing');
      assert.equal(bad, 0);
      assert.ok(n >= last, `went back from ${last} to ${n}`);
      last = n;
      snapshots++;
    }
    assert.equal(await exited, 0);
    const written = Number(out.trim().split('\n').pop());
    // After the writer closed (its last checkpoint), the snapshot has every row.
    assert.deepEqual(await snapshotRows(dbPath, 'SELECT count(*) FROM t'), [[written]]);
    // Reads that lost the race said so (counted above); how often depends on how fast this machine
    // runs the writer against the reader, so only enough correct snapshots are required.
    assert.ok(snapshots >= 5, `${snapshots} snapshots, ${failed} refused`);
  });
});

describe('liveSnapshot: failures and retries', () => {
  test('a read that throws once is retried on a new snapshot; a corrupt database fails after the retry', async () => {
    const dir = await tempDir('ah-wal-');
    const SQL = await loadSqlJs();
    const made = new SQL.Database();
    made.run("CREATE TABLE t(x); INSERT INTO t VALUES ('ok')");
    const good = path.join(dir, 'good.db');
    await fsp.writeFile(good, made.export());
    made.close();

    let calls = 0;
    const v = await withLiveSnapshot(good, (db) => {
      calls++;
      if (calls === 1) throw new Error('changed under us');
      return db.exec('SELECT x FROM t')[0].values[0][0];
    });
    assert.equal(v, 'ok');
    assert.equal(calls, 2);

    const corrupt = path.join(dir, 'corrupt.db');
    await fsp.writeFile(corrupt, Buffer.alloc(8192, 0x5a));
    let reads = 0;
    await assert.rejects(
      withLiveSnapshot(corrupt, () => reads++),
      /not a database|malformed|quick_check/,
    );
    assert.equal(reads, 0, 'the caller never sees a database that fails the check');

    await assert.rejects(
      withLiveSnapshot(path.join(dir, 'missing.db'), () => 1),
      { code: 'ENOENT' },
    );
  });

  test('openLiveSnapshot: a snapshot is query-only', async () => {
    const dir = await tempDir('ah-wal-');
    const SQL = await loadSqlJs();
    const made = new SQL.Database();
    made.run('CREATE TABLE t(x)');
    const p = path.join(dir, 'q.db');
    await fsp.writeFile(p, made.export());
    made.close();
    const snap = await openLiveSnapshot(p);
    try {
      assert.throws(() => snap.db.run('INSERT INTO t VALUES (1)'), /readonly|query_only/i);
    } finally {
      snap.close();
    }
  });

  test('liveSignature changes when only the WAL changes, and is null without the database', async () => {
    const dir = await tempDir('ah-wal-');
    const p = path.join(dir, 's.db');
    assert.equal(await liveSignature(p), null);
    await fsp.writeFile(p, Buffer.alloc(4096));
    const a = await liveSignature(p);
    await fsp.writeFile(`${p}-wal`, Buffer.alloc(100));
    const b = await liveSignature(p);
    assert.notDeepEqual(a, b);
    assert.equal(b!.size, 4096 + 100);
  });

  test('walChecksum follows the format: s0 += x0 + s1, s1 += x1 + s0', () => {
    const b = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
    // LE words 1, 2, 3, 4: s0 = 0+1+0 = 1, s1 = 0+2+1 = 3; s0 = 1+3+3 = 7, s1 = 3+4+7 = 14
    assert.deepEqual(walChecksum(b, 0, 16, false, 0, 0), [7, 14]);
    // BE words 0x01000000, 0x02000000, ...: the same sums scaled by 2^24 (mod 2^32)
    assert.deepEqual(walChecksum(b, 0, 16, true, 0, 0), [(7 * 2 ** 24) >>> 0, (14 * 2 ** 24) >>> 0]);
  });
});

/** Re-encodes a little-endian WAL as a big-endian one: new magic, every checksum recomputed. */
function toBigEndianWal(le: Uint8Array): Uint8Array {
  const out = new Uint8Array(le);
  const view = new DataView(out.buffer);
  view.setUint32(0, WAL_MAGIC_BE, false);
  let [s0, s1] = walChecksum(out, 0, 24, true, 0, 0);
  view.setUint32(24, s0, false);
  view.setUint32(28, s1, false);
  const pageSize = view.getUint32(8, false);
  for (let off = 32; off + 24 + pageSize <= out.length; off += 24 + pageSize) {
    [s0, s1] = walChecksum(out, off, 8, true, s0, s1);
    [s0, s1] = walChecksum(out, off + 24, pageSize, true, s0, s1);
    view.setUint32(off + 16, s0, false);
    view.setUint32(off + 20, s1, false);
  }
  return out;
}
