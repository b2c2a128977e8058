/**
 * `agent-handler blocks --json` against ccusage 20's `blocks --json` on the same small Claude Code
 * corpus: blocks at the hour, a new block past 5 hours, gap blocks, the active block's burn rate
 * and projection. ccusage is the one `npm run bench` installs into its cache
 * (scripts/bench-peer.mjs); without it the test is skipped and says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, assistant, tempDir, writeTranscript } from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

function cachedCcusage(): string | null {
  const root = process.env.AGENT_HANDLER_BENCH_CACHE
    ? path.resolve(process.env.AGENT_HANDLER_BENCH_CACHE)
    : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'agent-handler-bench');
  if (!existsSync(root)) return null;
  const dir = readdirSync(root).find((d) => /^ccusage-20\./.test(d));
  const bin = dir && path.join(root, dir, 'node_modules', '.bin', 'ccusage');
  return bin && existsSync(bin) ? bin : null;
}

const CCUSAGE = cachedCcusage();

interface JsonBlock {
  id: string;
  startTime: string;
  endTime: string;
  actualEndTime: string | null;
  isActive: boolean;
  isGap: boolean;
  entries: number;
  tokenCounts: Record<string, number>;
  totalTokens: number;
  costUSD: number;
  models: string[];
  burnRate: { tokensPerMinute: number; tokensPerMinuteForIndicator: number; costPerHour: number } | null;
  projection: { totalTokens: number; totalCost: number; remainingMinutes: number } | null;
}

test(
  'blocks --json agrees with ccusage 20 on a Claude Code corpus',
  { skip: CCUSAGE ? false : 'ccusage 20 is not in the bench cache (npm run bench installs it)' },
  async () => {
    const home = await tempDir('ah-blocks-home-');
    const now = Date.now();
    const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();
    let n = 0;
    const req = (session: string, ts: string, k: number) => {
      n++;
      return assistant({
        session,
        ts,
        msg: `msg_${n}`,
        req: `req_${n}`,
        model: 'claude-sonnet-4-5',
        usage: { in: 100 * k, out: 7 * k, cr: 1000 * k, cw: 10 * k },
      });
    };
    const A = 'aaaa1111-0000-4000-8000-000000000001';
    const B = 'bbbb2222-0000-4000-8000-000000000002';
    await writeTranscript(home, `${A}.jsonl`, [
      req(A, '2026-11-20T09:17:00.000Z', 1),
      req(A, '2026-11-20T09:45:10.000Z', 2),
      req(A, '2026-11-20T12:30:00.000Z', 3),
      // More than 5 h after the block's start (09:00), 1 h 40 after the last request: a new block, no gap.
      req(A, '2026-11-20T14:10:00.000Z', 4),
      // More than 5 h after the last request: a gap block, then a new block.
      req(A, '2026-11-21T08:00:00.000Z', 5),
      // The active block, with a burn rate and a projection.
      req(A, minutesAgo(200), 6),
      req(A, minutesAgo(30), 7),
    ]);
    await writeTranscript(home, `${B}.jsonl`, [req(B, '2026-11-20T10:05:00.000Z', 3)]);

    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, TZ: 'UTC' };
    const started = Date.now();
    const theirs = spawnSync(CCUSAGE!, ['blocks', '--json', '--offline'], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(theirs.status, 0, theirs.stderr);
    const ours = spawnSync(process.execPath, [CLI, 'blocks', '--json', '--store', path.join(home, 's.sqlite')], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(ours.status, 0, ours.stderr);
    const apartMinutes = (Date.now() - started) / 60_000;
    const a = (JSON.parse(theirs.stdout) as { blocks: JsonBlock[] }).blocks;
    const b = (JSON.parse(ours.stdout) as { blocks: JsonBlock[] }).blocks;

    const shape = (x: JsonBlock) => ({
      id: x.id,
      startTime: x.startTime,
      endTime: x.endTime,
      actualEndTime: x.actualEndTime,
      isActive: x.isActive,
      isGap: x.isGap,
      entries: x.entries,
      tokenCounts: x.tokenCounts,
      totalTokens: x.totalTokens,
      models: x.models,
      hasBurnRate: x.burnRate !== null,
      hasProjection: x.projection !== null,
    });
    assert.deepEqual(b.map(shape), a.map(shape));
    assert.equal(a.length, 6, 'two blocks on the 20th, a gap, a block on the 21st, a gap, the active block');
    for (let i = 0; i < a.length; i++) {
      assert.ok(Math.abs(a[i].costUSD - b[i].costUSD) < 1e-9, `cost of ${a[i].id}: ${a[i].costUSD} vs ${b[i].costUSD}`);
      const [ra, rb] = [a[i].burnRate, b[i].burnRate];
      if (ra && rb) {
        assert.ok(Math.abs(ra.tokensPerMinute - rb.tokensPerMinute) < 1e-9);
        assert.ok(Math.abs(ra.tokensPerMinuteForIndicator - rb.tokensPerMinuteForIndicator) < 1e-9);
        assert.ok(Math.abs(ra.costPerHour - rb.costPerHour) < 1e-12);
      }
      const [pa, pb] = [a[i].projection, b[i].projection];
      if (pa && pb && ra) {
        // The two ran moments apart, and ccusage's clock for the projection seems to be whole minutes
        // (seen: 13 s and 30 s apart): the projection to the block's end moved by up to that much.
        const slack = ra.tokensPerMinute * (apartMinutes + 1) + 1;
        assert.ok(Math.abs(pa.totalTokens - pb.totalTokens) <= slack, `${pa.totalTokens} vs ${pb.totalTokens}`);
        assert.ok(Math.abs(pa.remainingMinutes - pb.remainingMinutes) <= Math.ceil(apartMinutes) + 1);
        assert.ok(Math.abs(pa.totalCost - pb.totalCost) <= 0.011);
      }
    }
  },
);
