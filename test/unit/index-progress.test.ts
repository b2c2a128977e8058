/**
 * The first full pass reports its progress to the window (IndexService.progressReporter → the
 * 'progress' message → IndexProgress's window progress); later passes do not.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import type { FromWorker, WorkerInit } from '../../src/core/ingest/protocol';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import { assistant, makeRepo, silentLogger, tempDir, userPrompt, writeTranscript } from './helpers';

const saved = { after: IndexService.PROGRESS_AFTER_MS, every: IndexService.PROGRESS_EVERY_MS };
after(() => {
  IndexService.PROGRESS_AFTER_MS = saved.after;
  IndexService.PROGRESS_EVERY_MS = saved.every;
});

test('the first pass sends progress lines before it is indexed; a later pass sends none', async () => {
  IndexService.PROGRESS_AFTER_MS = 0;
  IndexService.PROGRESS_EVERY_MS = 0;
  const repo = await makeRepo('main');
  const home = path.join(await tempDir('ah-progress-'), 'home');
  for (const n of [1, 2, 3]) {
    const s = `5f000000-0000-4000-8000-00000000000${n}`;
    await writeTranscript(
      home,
      `${s}.jsonl`,
      [
        userPrompt({ session: s, cwd: repo, branch: 'main', ts: '2026-11-24T10:00:00.000Z', text: `task ${n}` }),
        assistant({
          session: s,
          cwd: repo,
          branch: 'main',
          ts: '2026-11-24T10:01:00.000Z',
          msg: `m${n}`,
          req: `r${n}`,
          usage: { in: 1000, out: 100 },
        }),
      ],
      repo,
    );
  }
  const init: WorkerInit = {
    storeFile: path.join(await tempDir('ah-progress-store-'), 'index.sqlite'),
    env: {},
    home,
    agents: { extraRoots: {}, disabled: [] },
    pricing: { overrides: {}, refresh: false },
    status: DEFAULT_STATUS_SETTINGS,
    rescanIntervalMs: 3_600_000,
    machineId: 'progress-test',
    pullRequests: { gh: false },
  };
  const events: FromWorker[] = [];
  let indexed: () => void = () => undefined;
  const done = new Promise<void>((r) => (indexed = r));
  const svc = new IndexService(
    init,
    (m) => {
      events.push(m);
      if (m.type === 'indexed') indexed();
    },
    silentLogger,
  );
  await svc.start();
  await done;
  const kinds = events.map((e) => e.type);
  const progress = events.filter((e): e is Extract<FromWorker, { type: 'progress' }> => e.type === 'progress');
  assert.ok(progress.length >= 1, `no progress in ${kinds.join(', ')}`);
  assert.ok(kinds.indexOf('progress') < kinds.indexOf('indexed'));
  assert.match(progress[progress.length - 1].text, /^indexing: \d+\/\d+\+? files, [\d.]+\/[\d.]+\+? MB, \d+%/);
  const before = progress.length;
  await svc.query('refresh', {});
  assert.equal(events.filter((e) => e.type === 'progress').length, before);
  await svc.stop();
});
