/**
 * How the store is written may change (batched writes, the search index filled later, files read
 * in parallel); what it holds must not. Every agent's real fixtures and a seeded synthetic corpus
 * are indexed by the real Indexer into a store on disk, and the store's canonical dump (dumpStore)
 * is compared by digest with test/fixtures/store-identity/digests.json, written by the code before
 * the change. Reading the same files in two passes (the first half of every transcript, then the
 * rest appended) must build the same store as one pass, and filling the search index afterwards
 * (search.ts PendingSearchTexts) must not change it either.
 *
 * A change that is meant to change what the store holds regenerates the digests:
 *   npm run build && npx tsc -p tsconfig.test.json && STORE_IDENTITY_UPDATE=1 node --test out/test/unit/store-identity.test.js
 * On a mismatch both dumps are written to a temp folder named in the failure (diff them).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { IndexStats, IndexerOptions } from '../../src/core/ingest/indexer';
import { dumpStore } from '../../src/core/store/dump';
import { indexPendingSearchTexts, searchProgress } from '../../src/core/store/search';
import { Store } from '../../src/core/store/store';
import { FIXTURES, REPO_ROOT, agentHome, copyDir, encodeCwd, makeIndexer, tempDir } from './helpers';

const DIGESTS = path.join(FIXTURES, 'store-identity', 'digests.json');
const UPDATE = process.env.STORE_IDENTITY_UPDATE === '1';
/** The corpora compared: every fixture plus a few MB of seeded transcripts (~80 files) per seed. */
const SEEDS = [3, 11];
const CORPUS_BYTES = 3_000_000;
const CORPUS_FILES = 80;
/** Some agents date activity by a file's modification time (Cursor's store): every file gets this one. */
const MTIME = new Date('2026-11-30T00:00:00.000Z');

interface Corpus {
  generateCorpus(home: string, bytes: number, files: number, seed: number): unknown;
}

/** Every agent's real fixtures (and the hand-made ones: Claude forks, Codex orders and forks) in one HOME. */
async function fixturesInto(home: string): Promise<void> {
  for (const agent of ['claude_code', 'codex', 'gemini', 'opencode', 'copilot', 'cursor', 'amp'])
    await copyDir(await agentHome(agent), home);
  await copyDir(path.join(FIXTURES, 'claude', '2.1.197', 'projects'), path.join(home, '.claude', 'projects'));
  await copyDir(
    path.join(FIXTURES, 'claude', 'forks'),
    path.join(home, '.claude', 'projects', encodeCwd('/nonexistent/agent-handler-forks')),
  );
  for (const set of await fsp.readdir(path.join(FIXTURES, 'codex', 'handmade')))
    await copyDir(path.join(FIXTURES, 'codex', 'handmade', set, 'sessions'), path.join(home, '.codex', 'sessions'));
}

/** A HOME holding every fixture and the seeded corpus. */
async function corpusHome(seed: number): Promise<string> {
  const home = path.join(await tempDir('ah-identity-'), 'home');
  await fixturesInto(home);
  const corpus = (await import(path.join(REPO_ROOT, 'scripts', 'corpus.mjs'))) as Corpus;
  corpus.generateCorpus(home, CORPUS_BYTES, CORPUS_FILES, seed);
  await touchAll(home);
  return home;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out.sort();
}

async function touchAll(dir: string): Promise<void> {
  for (const f of await filesUnder(dir)) await fsp.utimes(f, MTIME, MTIME);
}

/** Indexes `home` into the store file (created or reopened) with one full scan, and saves it. */
async function indexInto(home: string, storeFile: string, options: IndexerOptions = {}): Promise<IndexStats> {
  const store = await Store.open(storeFile, { machineId: 'identity-machine' });
  try {
    const stats = await makeIndexer(store, home, undefined, options).scanAll();
    await store.persist();
    return stats;
  } finally {
    store.close();
  }
}

/** The dump of a saved store, its temp folders named as placeholders (each run has its own), sections sorted again. */
async function dumpOf(storeFile: string, home: string): Promise<string> {
  const store = await Store.open(storeFile, { machineId: 'identity-machine' });
  try {
    const text = dumpStore(store).split(home).join('<home>').split(encodeCwd(home)).join('<home-encoded>');
    // The placeholder sorts differently from the folder it replaces: sort each section's rows again.
    const sections = text.split(/^(?=## )/m).map((s) => {
      const [head, ...rows] = s.trimEnd().split('\n');
      return [head, ...rows.sort()].join('\n');
    });
    return `${sections.join('\n')}\n`;
  } finally {
    store.close();
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function readDigests(): Promise<Record<string, string>> {
  try {
    return JSON.parse(await fsp.readFile(DIGESTS, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Writes both dumps where a person can diff them, and names them in the failure. */
async function keepForDiff(name: string, expected: string | null, actual: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `ah-identity-${name}-`));
  await fsp.writeFile(path.join(dir, 'actual.txt'), actual);
  if (expected !== null) await fsp.writeFile(path.join(dir, 'expected.txt'), expected);
  return dir;
}

describe('store identity (what the store holds, however it is written)', () => {
  for (const seed of SEEDS) {
    test(`every fixture and seeded corpus ${seed}, indexed in one pass, hold the committed content`, async () => {
      const home = await corpusHome(seed);
      const storeFile = path.join(path.dirname(home), 'store.sqlite');
      await indexInto(home, storeFile);
      const dump = await dumpOf(storeFile, home);
      const name = `seed-${seed}`;
      const digests = await readDigests();
      if (UPDATE) {
        digests[name] = sha256(dump);
        await fsp.mkdir(path.dirname(DIGESTS), { recursive: true });
        await fsp.writeFile(DIGESTS, `${JSON.stringify(digests, null, 2)}\n`);
        return;
      }
      if (digests[name] !== sha256(dump)) {
        const dir = await keepForDiff(name, null, dump);
        assert.fail(
          `the store of ${name} differs from the committed digest; its dump is ${dir}/actual.txt ` +
            '(dump the commit before the change the same way and diff, or regenerate with STORE_IDENTITY_UPDATE=1 if the change is meant)',
        );
      }
    });
  }

  test('the first half of every transcript, then the rest appended, build the same store as one pass', async () => {
    const seed = SEEDS[0]!;
    const home = await corpusHome(seed);
    const oneStore = path.join(path.dirname(home), 'one.sqlite');
    await indexInto(home, oneStore);
    const expected = await dumpOf(oneStore, home);

    // Line-based transcripts are cut after the first complete line past their half; documents
    // (read whole on every change) are there whole from the start.
    const rests = new Map<string, Buffer>();
    for (const f of await filesUnder(home)) {
      if (!f.endsWith('.jsonl')) continue;
      const bytes = await fsp.readFile(f);
      const cut = bytes.indexOf(0x0a, Math.floor(bytes.length / 2));
      if (cut === -1 || cut === bytes.length - 1) continue;
      rests.set(f, bytes.subarray(cut + 1));
      await fsp.writeFile(f, bytes.subarray(0, cut + 1));
    }
    assert.ok(rests.size > 20, `only ${rests.size} transcripts were cut`);
    await touchAll(home);
    const twoStore = path.join(path.dirname(home), 'two.sqlite');
    await indexInto(home, twoStore);
    for (const [f, rest] of rests) await fsp.appendFile(f, rest);
    await touchAll(home);
    await indexInto(home, twoStore);
    const actual = await dumpOf(twoStore, home);
    if (actual !== expected) {
      const dir = await keepForDiff('two-passes', expected, actual);
      assert.fail(`two passes built another store than one: diff ${dir}/expected.txt ${dir}/actual.txt`);
    }

    // Filling the search index from the texts a pass left pending changes what is searchable, not
    // what the store holds.
    const store = await Store.open(oneStore, { machineId: 'identity-machine' });
    try {
      assert.ok(searchProgress(store).texts > 0 && !searchProgress(store).complete);
      while (indexPendingSearchTexts(store, 500) > 0);
      assert.ok(searchProgress(store).complete);
      await store.persist();
    } finally {
      store.close();
    }
    const indexed = await dumpOf(oneStore, home);
    if (indexed !== expected) {
      const dir = await keepForDiff('indexed', expected, indexed);
      assert.fail(`indexing the pending texts changed the store: diff ${dir}/expected.txt ${dir}/actual.txt`);
    }
  });

  test("files read by parse workers and on the indexer's own thread build the same store", async () => {
    const home = await corpusHome(SEEDS[1]!);
    const serialStore = path.join(path.dirname(home), 'serial.sqlite');
    const serial = await indexInto(home, serialStore, { parseWorkers: 0 });
    assert.equal(serial.files_read_by_workers, 0);
    const parallelStore = path.join(path.dirname(home), 'parallel.sqlite');
    const parallel = await indexInto(home, parallelStore, { parseWorkers: 3 });
    // Not vacuous: most files went to the workers (the first few small ones are read at once).
    assert.ok(
      parallel.files_read_by_workers > parallel.files_read / 2,
      `${parallel.files_read_by_workers} of ${parallel.files_read} files read by workers`,
    );
    assert.deepEqual({ ...parallel, files_read_by_workers: 0 }, serial);
    const expected = await dumpOf(serialStore, home);
    const actual = await dumpOf(parallelStore, home);
    if (actual !== expected) {
      const dir = await keepForDiff('workers', expected, actual);
      assert.fail(`parse workers built another store than one thread: diff ${dir}/expected.txt ${dir}/actual.txt`);
    }
  });
});
