/**
 * BranchLookups, the one place that asks gh for a branch's PR (for the views and the CLI alike): who
 * may be asked, what is kept, and how a gh that cannot answer is left alone. A fake `gh` first on
 * PATH answers like gh and counts how often it is run.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BranchLookups, type PrLookupCache } from '../../src/core/git/lookups';
import type { FoundPr } from '../../src/core/git/pr';
import { tempDir } from './helpers';

const PR: FoundPr = { number: 42, url: 'https://github.com/acme/widgets/pull/42', state: 'OPEN', title: 'Widgets' };

/** The store's PR lookups, in memory. */
function memoryCache(): PrLookupCache & { rows: Map<string, { number: number | null; fetched_at_ms: number }> } {
  const rows = new Map<string, { number: number | null; fetched_at_ms: number }>();
  return {
    rows,
    getPrLookup: (gitDir, branch, source) => rows.get(`${gitDir} ${branch} ${source}`),
    setPrLookup: (gitDir, branch, source, pr) =>
      void rows.set(`${gitDir} ${branch} ${source}`, { number: pr?.number ?? null, fetched_at_ms: Date.now() }),
  };
}

describe('branch lookups through gh', () => {
  let dir = '';
  let calls = '';
  const savedPath = process.env.PATH;

  before(async () => {
    dir = await tempDir('ah-lookups-');
    calls = path.join(dir, 'calls');
    // feature/x has PR 42; feature/offline is what gh says when it cannot reach GitHub; others have none.
    await fsp.writeFile(
      path.join(dir, 'gh'),
      [
        '#!/bin/sh',
        `echo "$3" >> '${calls}'`,
        'if [ "$3" = "feature/x" ]; then',
        `  printf '${JSON.stringify(PR)}'`,
        '  exit 0',
        'fi',
        'if [ "$3" = "feature/offline" ]; then',
        '  echo "error connecting to api.github.com" >&2',
        '  exit 1',
        'fi',
        'echo "no pull requests found for branch \\"$3\\"" >&2',
        'exit 1',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ''}`;
  });

  after(() => {
    process.env.PATH = savedPath;
  });

  const asked = async () => (await fsp.readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean);

  test('a found PR is kept under gh and not asked again while fresh; the CLI asks every time', async () => {
    await fsp.rm(calls, { force: true });
    const cache = memoryCache();
    const lookups = new BranchLookups(cache, { unavailable: () => assert.fail('gh answered') });
    assert.equal(await lookups.askGh('/g', dir, 'feature/x', 'main', null), true, 'a new PR is a change');
    assert.equal(cache.rows.get('/g feature/x gh')?.number, 42);
    assert.equal(await lookups.askGh('/g', dir, 'feature/x', 'main', 'gh'), false, 'fresh: not asked');
    assert.equal(
      await lookups.askGh('/g', dir, 'feature/x', 'main', 'gh', false),
      false,
      'asked again, same PR: no change',
    );
    assert.equal(
      await lookups.askGh('/g', dir, 'feature/y', 'main', null),
      false,
      'no PR where none was known: no change',
    );
    assert.equal(cache.rows.get('/g feature/y gh')?.number, null, '"no PR" is an answer, kept like one');
    assert.deepEqual(await asked(), ['feature/x', 'feature/x', 'feature/y']);
  });

  test('never asked for a PR a transcript names, a detached HEAD or the default branch', async () => {
    await fsp.rm(calls, { force: true });
    const lookups = new BranchLookups(memoryCache(), { unavailable: () => assert.fail('gh was asked') });
    assert.equal(await lookups.askGh('/g', dir, 'feature/x', 'main', 'transcript'), false);
    assert.equal(await lookups.askGh('/g', dir, 'HEAD', 'main', null), false);
    assert.equal(await lookups.askGh('/g', dir, 'main', 'main', null), false);
    assert.deepEqual(await asked(), []);
  });

  test('a gh that cannot answer is reported once per reason and left alone for a while', async () => {
    await fsp.rm(calls, { force: true });
    const reasons: string[] = [];
    const cache = memoryCache();
    const lookups = new BranchLookups(cache, { unavailable: (reason) => void reasons.push(reason) });
    assert.equal(await lookups.askGh('/g', dir, 'feature/offline', 'main', null), false);
    assert.equal(await lookups.askGh('/g', dir, 'feature/x', 'main', null), false, 'not asked until the retry time');
    assert.deepEqual(reasons, ['error connecting to api.github.com']);
    assert.deepEqual(await asked(), ['feature/offline']);
    assert.equal(cache.rows.size, 0, 'nothing cached from a gh that did not answer');
  });
});
