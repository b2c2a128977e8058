// Benchmark of media/hook-spool.js: the wall time an agent waits for our hook, per event.
// Runs the script the way an agent does (a new `node` process, the payload on stdin) for every
// real hook payload in test/fixtures/claude/*/hooks/hooks.jsonl, N rounds, and prints the median and p95.
// Usage: node scripts/bench-hook-spool.mjs [rounds=10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const script = path.join(root, 'media', 'hook-spool.js');
const fixtures = path.join(root, 'test', 'fixtures', 'claude');
const rounds = Number(process.argv[2] ?? 10);
const payloads = readdirSync(fixtures).flatMap((v) =>
  readFileSync(path.join(fixtures, v, 'hooks', 'hooks.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean),
);
const spool = mkdtempSync(path.join(os.tmpdir(), 'ah-bench-spool-'));

// The part we own, without Node's start-up: the script's work in-process is measured by the
// difference to an empty `node -e ''` run.
function wall(args, input) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { input });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const hook = [];
const bare = [];
for (let i = 0; i < rounds; i++) {
  for (const p of payloads) {
    hook.push(wall([script, spool, 'claude'], p));
    bare.push(wall(['-e', ''], p));
  }
}
const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * f))];
const lines = readFileSync(path.join(spool, 'claude-hooks.jsonl'), 'utf8').split('\n').filter(Boolean).length;
const size = statSync(path.join(spool, 'claude-hooks.jsonl')).size;
rmSync(spool, { recursive: true, force: true });
console.log(`node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, ${os.platform()}`);
console.log(
  `${hook.length} hook runs (${payloads.length} real payloads × ${rounds}); ${lines} spool lines, ${(size / lines).toFixed(0)} bytes per line`,
);
console.log(
  `hook-spool.js wall time per event: median ${q(hook, 0.5).toFixed(1)} ms, p95 ${q(hook, 0.95).toFixed(1)} ms`,
);
console.log(
  `bare node start (node -e ''):      median ${q(bare, 0.5).toFixed(1)} ms, p95 ${q(bare, 0.95).toFixed(1)} ms`,
);
