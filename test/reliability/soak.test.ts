/**
 * The soak benchmark (scripts/soak.mjs) as a test: 5 agents streaming Claude Code and Codex lines
 * (streamed duplicates, subagents, half-written lines) for 30 s against the index service as the
 * extension runs it (worker, writer lease, watcher). Nothing written may be lost or counted twice:
 * the store, a fresh CLI index of the same home and the writers' own count must agree exactly, and
 * every request written must have been seen in the store. Nothing here looks at a clock: the
 * latency and event-loop figures are the benchmark's (docs/performance.md, "Soak").
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../unit/helpers';

interface SoakResult {
  lines_written: number;
  half_lines_written: number;
  requests_written: number;
  requests_seen: number;
  requests_indexed: number;
  tokens_written: number;
  tokens_indexed: number;
  tokens_cli: number;
  sessions_written: number;
  sessions_indexed: number;
  sessions_cli: number;
  lines_skipped: number;
  settled: boolean;
}

function runSoak(args: string[]): Promise<SoakResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'soak.mjs'), ...args, '--json'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`soak exited with ${code}:\n${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as SoakResult);
    });
  });
}

test('soak: 5 agents streaming for 30 s lose nothing and count nothing twice', { timeout: 10 * 60_000 }, async () => {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'agent-handler-soak-test-'));
  after(() => fsp.rm(home, { recursive: true, force: true }));
  const r = await runSoak(['--writers', '5', '--seconds', '30', '--rate', '5', '--home', path.join(home, 'home')]);

  // The run wrote what it should have: both agents' shapes, lines cut in two, many requests.
  assert.ok(r.requests_written > 100, `requests written: ${r.requests_written}`);
  assert.ok(r.half_lines_written > 0, 'some lines were written in two parts');
  assert.ok(r.sessions_written > 5, 'the writers made subagent sessions besides their own');

  assert.ok(r.settled, 'the store reached every total written');
  assert.equal(r.tokens_indexed, r.tokens_written, 'tokens in the store = tokens written');
  assert.equal(r.tokens_cli, r.tokens_written, 'a fresh CLI index of the kept home agrees');
  assert.equal(r.requests_indexed, r.requests_written, 'each request counted once');
  assert.equal(r.requests_seen, r.requests_written, 'every request written was seen in the store');
  assert.equal(r.sessions_indexed, r.sessions_written);
  assert.equal(r.sessions_cli, r.sessions_written);
  assert.equal(r.lines_skipped, 0, 'a half-written line is never read as a malformed one');

  // The kept home holds the transcripts, so anyone can recount them.
  const kept = await fsp.readdir(path.join(home, 'home'));
  assert.ok(kept.includes('.claude') && kept.includes('.codex'));
});
