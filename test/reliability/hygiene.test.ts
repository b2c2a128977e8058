/**
 * Fault class: resource hygiene. Starting and stopping the index service 50 times in one process
 * (as activate/deactivate does with its worker) leaves no handle behind (watchers, timers, file
 * watchers, open files); a crashed worker is started again with a growing delay.
 */
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import { WorkerSupervisor, backoffDelay } from '../../src/core/ingest/supervisor';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import { silentLogger, tempDir } from '../unit/helpers';
import { FaultSummary, agentHome } from './helpers';

const summary = new FaultSummary('resource hygiene');

function handleCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('resource hygiene', () => {
  it('start/stop the index service 50 times (writer, reader, and stopped mid-scan): no growth in active handles', async () => {
    const home = await agentHome('claude_code');
    const storeFile = path.join(await tempDir('ah-rel-hyg-'), 'index.sqlite');
    const mk = () =>
      new IndexService(
        {
          storeFile,
          env: {},
          home,
          agents: { extraRoots: {}, disabled: [] },
          pricing: { overrides: {}, refresh: false },
          status: DEFAULT_STATUS_SETTINGS,
          rescanIntervalMs: 60_000,
        },
        () => undefined,
        silentLogger,
      );
    // One round first: sql.js and the module caches load once per process.
    const warm = mk();
    await warm.start();
    await warm.query('refresh', {});
    await warm.stop();
    await settle();
    const before = handleCounts();
    for (let i = 0; i < 50; i++) {
      const writer = mk();
      await writer.start();
      await writer.query('refresh', {}); // the watcher is up after the first scan
      const reader = mk(); // a second "window" on the same store: a reader polling the file
      await reader.start();
      await reader.stop();
      await writer.stop();
      // Stopped while its first scan runs (a window closed right after opening): the scan's end
      // must not start a watcher that nothing closes (it did, before the fix in watcher.ts).
      const quick = mk();
      await quick.start();
      await quick.stop();
      summary.cases++;
    }
    await settle();
    const after = handleCounts();
    assert.deepEqual(after, before, `handles before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    summary.note(`50 start/stop rounds, active handles ${JSON.stringify(after)}`);
  });

  it('backoff: 1 s, 2 s, 4 s … at most 60 s', () => {
    summary.cases++;
    assert.deepEqual(
      [1, 2, 3, 4, 7, 8, 20].map((n) => backoffDelay(n)),
      [1000, 2000, 4000, 8000, 60_000, 60_000, 60_000],
    );
  });

  it('a worker that crashes is started again, with a growing delay, and stops for good on stop()', async () => {
    const dir = await tempDir('ah-rel-sup-');
    const file = path.join(dir, 'crashy.js');
    // Crashes on its first two starts, then stays up (the count is kept in a file).
    const counter = path.join(dir, 'starts');
    await fsp.writeFile(
      file,
      `const fs = require('fs'); const { parentPort } = require('worker_threads');
       const n = (fs.existsSync(${JSON.stringify(counter)}) ? Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) : 0) + 1;
       fs.writeFileSync(${JSON.stringify(counter)}, String(n));
       parentPort.on('message', (m) => { if (m === 'ping') parentPort.postMessage('pong ' + n); });
       if (n <= 2) setTimeout(() => { throw new Error('boom ' + n); }, 10);`,
    );
    const crashes: number[] = [];
    const pongs: string[] = [];
    const sup = new WorkerSupervisor(
      file,
      {
        onStart: (w) => w.postMessage('ping'),
        onMessage: (m) => pongs.push(String(m)),
        onCrash: ({ delayMs }) => crashes.push(delayMs),
      },
      { initialDelayMs: 50, maxDelayMs: 1000 },
    );
    sup.start();
    const deadline = Date.now() + 30_000;
    while (!pongs.includes('pong 3') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(pongs.includes('pong 3'), `started a third time: ${pongs.join(', ')}`);
    assert.deepEqual(crashes, [50, 100], 'two crashes, the second waited twice as long');
    assert.equal(sup.restarts, 2);
    await sup.stop();
    assert.equal(sup.current, null);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(Number(await fsp.readFile(counter, 'utf8')), 3, 'not started again after stop()');
    summary.cases++;
  });
});
