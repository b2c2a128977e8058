/**
 * src/core/privateFs.ts: what it creates is 0600 / 0700 whatever the umask (even one that strips the
 * owner's own bits), and it tightens only what it is pointed at.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  PRIVATE_DIR,
  claimPrivateDir,
  mkdirPrivate,
  writeNewPrivateOrExisting,
  writePrivate,
} from '../../src/core/privateFs';
import { tempDir } from './helpers';

const mode = async (p: string) => (await fsp.stat(p)).mode & 0o777;

describe('private files', { skip: process.platform === 'win32' && 'POSIX modes only' }, () => {
  it('creates 0600 files and 0700 folders (mkdir -p included) under umask 000 and 277', async () => {
    const root = await tempDir('ah-private-');
    const before = process.umask();
    try {
      for (const umask of [0o000, 0o277]) {
        process.umask(umask);
        const dir = path.join(root, `u${umask.toString(8)}`, 'a', 'b');
        mkdirPrivate(dir);
        for (const d of [dir, path.dirname(dir), path.dirname(path.dirname(dir))])
          assert.equal(await mode(d), 0o700, d);
        await writePrivate(path.join(dir, 'f'), 'x');
        await writePrivate(path.join(dir, 'f'), 'y', 'a');
        assert.equal(await fsp.readFile(path.join(dir, 'f'), 'utf8'), 'xy');
        assert.equal(await mode(path.join(dir, 'f')), 0o600);
        await writePrivate(path.join(dir, 'script'), '#!', 'w', PRIVATE_DIR);
        assert.equal(await mode(path.join(dir, 'script')), 0o700);
      }
    } finally {
      process.umask(before);
    }
  });

  it('claims a folder of ours (tightening what is in it), leaves its parent and an existing export target alone', async () => {
    const parent = await tempDir('ah-private-');
    await fsp.chmod(parent, 0o755);
    const ours = path.join(parent, 'ours');
    await fsp.mkdir(path.join(ours, 'spool'), { recursive: true });
    await fsp.writeFile(path.join(ours, 'spool', 'x.jsonl'), '');
    await fsp.chmod(path.join(ours, 'spool', 'x.jsonl'), 0o664);
    await fsp.chmod(path.join(ours, 'spool'), 0o775);
    await fsp.chmod(ours, 0o755);
    claimPrivateDir(ours);
    assert.equal(await mode(ours), 0o700);
    assert.equal(await mode(path.join(ours, 'spool')), 0o700);
    assert.equal(await mode(path.join(ours, 'spool', 'x.jsonl')), 0o600);
    assert.equal(await mode(parent), 0o755);

    const existing = path.join(parent, 'shared.csv');
    await fsp.writeFile(existing, 'old');
    await fsp.chmod(existing, 0o644);
    await writeNewPrivateOrExisting(existing, 'new');
    assert.equal(await fsp.readFile(existing, 'utf8'), 'new');
    assert.equal(await mode(existing), 0o644);
    await writeNewPrivateOrExisting(path.join(parent, 'fresh.csv'), 'new');
    assert.equal(await mode(path.join(parent, 'fresh.csv')), 0o600);
  });
});
