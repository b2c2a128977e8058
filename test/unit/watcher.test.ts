/**
 * The transcript watcher (src/core/ingest/watcher.ts): one fs.watch per folder, reporting the
 * files written, created and removed under the watched roots, watching the folders created under
 * them (a new project, a Codex day, a session's subagents/), and asking for a rescan when a folder
 * goes. Real folders, real events; each wait has a generous deadline, never a timing assertion.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { TranscriptWatcher } from '../../src/core/ingest/watcher';
import { tempDir } from './helpers';

interface Watched {
  watcher: TranscriptWatcher;
  paths: Set<string>;
  rescans: string[];
}

let open: TranscriptWatcher[] = [];
afterEach(async () => {
  await Promise.all(open.map((w) => w.close()));
  open = [];
});

async function watching(dirs: string[], ignored: string[] = []): Promise<Watched> {
  const paths = new Set<string>();
  const rescans: string[] = [];
  const watcher = new TranscriptWatcher(
    (batch) => batch.forEach((p) => paths.add(p)),
    (reason) => rescans.push(reason),
    20,
  );
  open.push(watcher);
  await watcher.update(dirs, ignored);
  return { watcher, paths, rescans };
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets late events arrive before asserting that something was not reported. */
const settle = () => new Promise((r) => setTimeout(r, 200));

describe('TranscriptWatcher', () => {
  test('an append to a file is reported; the files already there at the start are not', async () => {
    const root = await tempDir('ah-watch-');
    const file = path.join(root, 'proj', 'a.jsonl');
    await fsp.mkdir(path.dirname(file));
    await fsp.writeFile(file, '{}\n');
    await fsp.writeFile(path.join(root, 'proj', 'b.jsonl'), '{}\n');
    const w = await watching([root]);
    assert.equal(w.watcher.watchedCount, 2);
    await fsp.appendFile(file, '{}\n');
    await until('the append', () => w.paths.has(file));
    await settle();
    assert.deepEqual([...w.paths], [file]);
    assert.deepEqual(w.rescans, []);
  });

  test('a folder created deep below a root (a Codex YYYY/MM/DD): the file in it, then its appends', async () => {
    const root = await tempDir('ah-watch-');
    const w = await watching([root]);
    const day = path.join(root, '2026', '12', '08');
    const file = path.join(day, 'rollout-1.jsonl');
    await fsp.mkdir(day, { recursive: true });
    await fsp.writeFile(file, '{}\n');
    await until('the new file', () => w.paths.has(file));
    await until('the new folders watched', () => w.watcher.watchedCount === 4);
    w.paths.clear();
    await fsp.appendFile(file, '{}\n');
    await until('the append in the new folder', () => w.paths.has(file));
    assert.deepEqual(w.rescans, []);
  });

  test('a new session folder with its subagents/ and files written before it was watched', async () => {
    const root = await tempDir('ah-watch-');
    const w = await watching([root]);
    // Built aside and moved in: every file predates the folder's watch.
    const aside = await tempDir('ah-watch-aside-');
    const sub = path.join(aside, 'sess', 'subagents');
    await fsp.mkdir(sub, { recursive: true });
    await fsp.writeFile(path.join(sub, 'agent-1.jsonl'), '{}\n');
    await fsp.writeFile(path.join(aside, 'sess', 'notes.txt'), 'x');
    await fsp.rename(path.join(aside, 'sess'), path.join(root, 'sess'));
    const moved = path.join(root, 'sess', 'subagents', 'agent-1.jsonl');
    await until(
      'the files of the new folder',
      () => w.paths.has(moved) && w.paths.has(path.join(root, 'sess', 'notes.txt')),
    );
    const later = path.join(root, 'sess', 'subagents', 'agent-2.jsonl');
    await fsp.writeFile(later, '{}\n');
    await until('a file added to it later', () => w.paths.has(later));
  });

  test('a removed file is reported (the index marks it deleted)', async () => {
    const root = await tempDir('ah-watch-');
    const file = path.join(root, 'a.jsonl');
    await fsp.writeFile(file, '{}\n');
    const w = await watching([root]);
    await fsp.rm(file);
    await until('the removal', () => w.paths.has(file));
    assert.deepEqual(w.rescans, []);
  });

  test('a removed folder asks for a rescan, and is no longer watched', async () => {
    const root = await tempDir('ah-watch-');
    const proj = path.join(root, 'proj');
    await fsp.mkdir(path.join(proj, 'sess', 'subagents'), { recursive: true });
    await fsp.writeFile(path.join(proj, 'a.jsonl'), '{}\n');
    const w = await watching([root]);
    assert.equal(w.watcher.watchedCount, 4);
    await fsp.rm(proj, { recursive: true });
    await until('the rescan', () => w.rescans.length > 0);
    await until('the folders let go', () => w.watcher.watchedCount === 1);
    assert.match(w.rescans[0], /removed/);
  });

  test('a removed root asks for a rescan; when it comes back, update() watches it again', async () => {
    const parent = await tempDir('ah-watch-');
    const root = path.join(parent, 'projects');
    await fsp.mkdir(root);
    const w = await watching([root]);
    await fsp.rm(root, { recursive: true });
    await until('the rescan', () => w.rescans.length > 0);
    await until('the root let go', () => w.watcher.watchedCount === 0);
    await fsp.mkdir(root);
    await w.watcher.update([root]); // what the rescan does
    assert.equal(w.watcher.watchedCount, 1);
    const file = path.join(root, 'a.jsonl');
    await fsp.writeFile(file, '{}\n');
    await until('a file in the root back again', () => w.paths.has(file));
  });

  test('ignored folders (the adapters’ and the big siblings) are neither watched nor reported', async () => {
    const root = await tempDir('ah-watch-');
    const snapshots = path.join(root, 'snapshot');
    const toolResults = path.join(root, 'sess', 'tool-results');
    await fsp.mkdir(snapshots);
    await fsp.mkdir(toolResults, { recursive: true });
    const w = await watching([root], [snapshots]);
    assert.equal(w.watcher.watchedCount, 2); // the root and sess/
    await fsp.writeFile(path.join(snapshots, 'x.jsonl'), '{}\n');
    await fsp.writeFile(path.join(toolResults, 'r.txt'), 'x');
    await fsp.mkdir(path.join(root, 'node_modules'));
    const file = path.join(root, 'sess', 'a.jsonl');
    await fsp.writeFile(file, '{}\n');
    await until('the file that counts', () => w.paths.has(file));
    await settle();
    assert.deepEqual([...w.paths], [file]);
    assert.equal(w.watcher.watchedCount, 2);
  });

  test('folders deeper than 8 levels below a root are not watched', async () => {
    const root = await tempDir('ah-watch-');
    const levels = Array.from({ length: 10 }, (_, i) => `d${i + 1}`);
    await fsp.mkdir(path.join(root, ...levels), { recursive: true });
    const w = await watching([root]);
    assert.equal(w.watcher.watchedCount, 9); // the root and d1..d8
  });

  test('after close(), update() watches nothing (a scan ending after the service stopped)', async () => {
    const root = await tempDir('ah-watch-');
    const w = await watching([]);
    await w.watcher.close();
    await w.watcher.update([root]);
    assert.equal(w.watcher.watchedCount, 0);
  });
});
