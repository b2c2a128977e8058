/**
 * The parse pool (src/core/ingest/parsePool.ts): outcomes come back in the order the files were
 * planned, whatever thread read them, and a worker that dies before answering (out of memory on a
 * huge document, a crash) costs nothing but time: its files are read on the calling thread, and
 * after a few deaths the pool stops starting workers.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readNewLines } from '../../src/core/ingest/lineRead';
import { type ParseItem, type ParseOutcome, ParsePool, ReadPipeline } from '../../src/core/ingest/parsePool';
import { adapterFor } from '../../src/core/sources/registry';
import type { SourceAdapter } from '../../src/core/sources/types';
import { FIXTURES, tempDir } from './helpers';

const claude = adapterFor('claude_code')!;
const PROJECT = path.join(FIXTURES, 'claude', '2.1.197', 'projects', '-home-dev-agent-work-repo-claude-2-1-197');

interface Plan {
  adapter: SourceAdapter;
  item: ParseItem;
  bytesToRead: number;
  name: string;
}

/** Every fixture transcript of the project, as many times as asked (past the pipeline's inline start). */
async function plans(copies: number): Promise<Plan[]> {
  const names = (await fsp.readdir(PROJECT)).filter((n) => n.endsWith('.jsonl')).sort();
  const out: Plan[] = [];
  for (let c = 0; c < copies; c++) {
    for (const name of names) {
      const file = {
        path: path.join(PROJECT, name),
        root: FIXTURES,
        session_id: name.slice(0, -6),
        parent_session_id: null,
        agent_id: null,
      };
      const job = { file, offset: 0, adapterState: {}, fingerprint: null, fingerprintLen: 0 };
      out.push({
        adapter: claude,
        item: { adapterId: claude.id, kind: 'lines', job },
        bytesToRead: 1,
        name: `${c}/${name}`,
      });
    }
  }
  return out;
}

/** Runs the plans through a pipeline on `pool`; returns what was finished, in order. */
async function run(pool: ParsePool, all: Plan[]): Promise<{ name: string; outcome: ParseOutcome }[]> {
  const done: { name: string; outcome: ParseOutcome }[] = [];
  const failed: string[] = [];
  const pipeline = new ReadPipeline<Plan>(
    pool,
    (plan, outcome) => done.push({ name: plan.name, outcome }),
    (plan, err) => failed.push(`${plan.name}: ${err.message}`),
  );
  try {
    for (const p of all) await pipeline.add(p);
    await pipeline.drain();
  } finally {
    await pipeline.close();
  }
  assert.deepEqual(failed, []);
  return done;
}

async function expected(all: Plan[]): Promise<{ name: string; outcome: ParseOutcome }[]> {
  const out = [];
  for (const p of all) {
    const job = p.item.kind === 'lines' ? p.item.job : null;
    out.push({ name: p.name, outcome: { read: await readNewLines(claude, { ...job!, adapterState: {} }) } });
  }
  return out;
}

describe('parse pool', () => {
  test('files read by a worker come back as read on one thread, in the order planned', async () => {
    const all = await plans(30);
    const pool = new ParsePool(1);
    assert.ok(pool.canRead(claude), 'the compiled parseWorker.js is beside parsePool.js');
    const done = await run(pool, all);
    assert.ok(pool.jobsSent > all.length / 2, `${pool.jobsSent} of ${all.length} files went to the worker`);
    assert.deepEqual(done, await expected(all));
  });

  test('a worker that dies before answering: its files are read on the calling thread; after three deaths no more workers', async () => {
    const dir = await tempDir('ah-parse-pool-');
    const dying = path.join(dir, 'dying.js');
    await fsp.writeFile(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(7));\n");
    const all = await plans(40);
    assert.deepEqual(await run(new ParsePool(1, dying), all), await expected(all));

    // One batch at a time: each goes to a fresh worker, which dies; the third death ends the workers.
    const pool = new ParsePool(1, dying);
    for (let death = 1; death <= 3; death++) {
      assert.equal(pool.canRead(claude), true, `before death ${death}`);
      const [outcome] = await pool.read([all[0]!.item]);
      assert.ok(outcome && 'workerDied' in outcome && outcome.workerDied);
    }
    assert.equal(pool.canRead(claude), false, 'the pool gave up on workers');
    await pool.close();
  });
});
