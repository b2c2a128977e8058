/**
 * The writer lease: one writer per store file across processes; a stale heartbeat or a dead pid
 * lets another take over, and the former holder notices on its next renew.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { WriterLease } from '../../src/core/store/lease';
import { tempDir } from './helpers';

async function leaseFile(): Promise<string> {
  return path.join(await tempDir('ah-lease-'), 'store.sqlite.lock');
}

describe('WriterLease', () => {
  test('two leases on one file: the first wins, the second does not', async () => {
    const file = await leaseFile();
    const a = new WriterLease(file);
    const b = new WriterLease(file);
    assert.equal(await a.tryAcquire(), true);
    assert.equal(await b.tryAcquire(), false);
    assert.equal(a.isHeld, true);
    assert.equal(b.isHeld, false);
    // Renewing keeps it; the other still cannot take it.
    assert.equal(await a.renew(), true);
    assert.equal(await b.tryAcquire(), false);
    // Released: the other may take it now.
    await a.release();
    assert.equal(existsSync(file), false);
    assert.equal(await b.tryAcquire(), true);
    await b.release();
  });

  test('overlapping renewals of one holder (heartbeat and persist at once) both succeed', async () => {
    const file = await leaseFile();
    const a = new WriterLease(file);
    assert.equal(await a.tryAcquire(), true);
    // Before the fix both renewals renamed the same temp file and the second failed with ENOENT.
    assert.deepEqual(await Promise.all([a.renew(), a.renew(), a.renew()]), [true, true, true]);
    assert.deepEqual(
      (await fsp.readdir(path.dirname(file))).filter((n) => n.includes('.tmp-')),
      [],
    );
    await a.release();
  });

  test('both racing for a free lease: exactly one wins', async () => {
    const file = await leaseFile();
    const leases = [new WriterLease(file), new WriterLease(file), new WriterLease(file)];
    const won = await Promise.all(leases.map((l) => l.tryAcquire()));
    assert.equal(won.filter(Boolean).length, 1);
  });

  test('a stale heartbeat is taken over; the former holder loses it on renew', async () => {
    const file = await leaseFile();
    const a = new WriterLease(file, 15_000);
    assert.equal(await a.tryAcquire(), true);
    // a's heartbeat stops: rewrite it as 60 s old (the stale limit is 15 s).
    const info = (await a.read())!;
    await fsp.writeFile(file, JSON.stringify({ ...info, heartbeat_ms: info.heartbeat_ms - 60_000 }));
    const b = new WriterLease(file, 15_000);
    assert.equal(await b.tryAcquire(), true);
    assert.equal((await b.read())!.pid, process.pid);
    assert.equal(await a.renew(), false);
    assert.equal(a.isHeld, false);
    // a's release does not remove b's lease.
    await a.release();
    assert.equal(existsSync(file), true);
    await b.release();
  });

  test('a fresh lease whose process is gone (same host) is taken over', async () => {
    const file = await leaseFile();
    // A pid that existed and has exited.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(child.stdout);
    assert.ok(deadPid > 0);
    await fsp.writeFile(
      file,
      JSON.stringify({ token: 'gone', pid: deadPid, host: os.hostname(), heartbeat_ms: Date.now() }),
    );
    const b = new WriterLease(file);
    assert.equal(await b.tryAcquire(), true);
    await b.release();
  });

  test('a fresh lease of another host is respected (its pid cannot be checked here)', async () => {
    const file = await leaseFile();
    await fsp.writeFile(
      file,
      JSON.stringify({ token: 'other', pid: 1, host: `${os.hostname()}-elsewhere`, heartbeat_ms: Date.now() }),
    );
    assert.equal(await new WriterLease(file).tryAcquire(), false);
  });

  test('an unreadable lease file (a crash between create and write) blocks only until it is stale', async () => {
    const file = await leaseFile();
    await fsp.writeFile(file, '');
    assert.equal(await new WriterLease(file).read(), null);
    // Just written: it may be another process's lease being created right now.
    assert.equal(await new WriterLease(file, 15_000).tryAcquire(), false);
    // Left there for 60 s (the stale limit is 15 s): taken over.
    const old = new Date(Date.now() - 60_000);
    await fsp.utimes(file, old, old);
    const b = new WriterLease(file, 15_000);
    assert.equal(await b.tryAcquire(), true);
    assert.equal((await b.read())!.pid, process.pid);
    await b.release();
  });
});
