#!/usr/bin/env node
// `npm run soak`: a benchmark, not a test. Many agents streaming at once for minutes, against the
// index service as the extension runs it; proves that nothing written is lost or counted twice,
// and measures how fast appended requests reach the store and what it costs the extension host.
//
//   npm run soak -- [--writers 20] [--seconds 600] [--rate 5] [--home DIR] [--json]
//                   [--seed 1] [--rescan-seconds 60] [--settle-seconds 150]
//
//   --writers  agents writing at once (3 Claude Code to 1 Codex)   --rate  lines/s per writer
//   --home     where the transcripts go (kept; must be empty or new); default a temp folder, removed
//   --json     one JSON object on stdout (the report goes to stderr)
//   --cpu-prof DIR  CPU profiles of the host's main thread and of the worker thread into DIR
//
// 1. The host (scripts/soak-host.mjs, its own process) starts the indexing worker (dist/worker.js)
//    over a new store in a temp folder with HOME = the home: it takes the writer lease, scans,
//    watches, persists; on every `changed` notice the host reads the session list, as the views do.
// 2. W writers (scripts/soak-writer.mjs) append Claude Code and Codex lines to their own files at
//    R lines/s for S seconds, each logging every request's write time and its session's counted
//    total once it is in (the accounting rules: a streamed duplicate once, Codex by its totals).
// 3. Then the soak waits until every session's total in the store is what was written (or
//    --settle-seconds), and reports: lines, requests and tokens written; tokens in the store;
//    append -> store latency p50/p99 (a request is in when the session list first shows its
//    session at or above the total it made); the host's event-loop delay p99 while writing and
//    settling; the host process's RSS (main thread + worker) at start, after warm-up (20% of S) and
//    at the end; the store's size; CPU time of the host and the writers.
// 4. A fresh CLI index of the kept home recounts the tokens (`tokens_cli`): all three must agree.

import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusEnv } from './bench-peer.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const CLI = path.join(REPO, 'dist', 'cli.js');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : process.argv[i + 1];
}
const flag = (name) => process.argv.includes(`--${name}`);
const num = (name, def) => {
  const v = Number(arg(name, def));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};

const opts = {
  writers: Math.round(num('writers', 20)),
  seconds: num('seconds', 600),
  rate: num('rate', 5),
  seed: Math.round(num('seed', 1)),
  rescanSeconds: num('rescan-seconds', 60),
  settleSeconds: num('settle-seconds', 150),
  json: flag('json'),
  cpuProf: arg('cpu-prof', null),
};
const say = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (n) => Math.round(n * 10) / 10;

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---- the home and the store -------------------------------------------------------------------

const keepHome = arg('home', null);
const home = keepHome ? path.resolve(keepHome) : fs.mkdtempSync(path.join(os.tmpdir(), 'agent-handler-soak-home-'));
if (keepHome) {
  fs.mkdirSync(home, { recursive: true });
  if (fs.readdirSync(home).length)
    throw new Error(`--home ${home} is not empty: the soak compares the index with what it writes there`);
}
const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-handler-soak-store-'));
const storeFile = path.join(storeDir, 'index.sqlite');
const logDir = path.join(home, '.soak');
fs.mkdirSync(logDir, { recursive: true });
// The agents are installed before the extension starts, as on a user's machine: their folders
// exist and are watched from the start. (A root created later is found by the periodic rescan.)
for (const root of ['.claude/projects', '.codex/sessions']) fs.mkdirSync(path.join(home, root), { recursive: true });
const env = corpusEnv(home);

const children = new Set();
function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(storeDir, { recursive: true, force: true });
  if (!keepHome) fs.rmSync(home, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

// ---- the host ---------------------------------------------------------------------------------

function startHost() {
  const host = fork(
    path.join(HERE, 'soak-host.mjs'),
    [JSON.stringify({ home, storeFile, env, rescanIntervalMs: opts.rescanSeconds * 1000 })],
    {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(opts.cpuProf)] : [],
    },
  );
  children.add(host);
  host.on('exit', () => children.delete(host));
  const waiters = [];
  const seen = []; // {t, totals}
  host.on('message', (m) => {
    if (m.type === 'seen') seen.push(m);
    for (const w of [...waiters])
      if (w.type === m.type) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  const ask = (type, reply = type) =>
    new Promise((resolve) => {
      waiters.push({ type: reply, resolve });
      if (type) host.send({ type });
    });
  return { host, seen, ask, tell: (type) => host.send({ type }) };
}

// ---- the writers ------------------------------------------------------------------------------

/** A writer process, ready to write: `start(at)` starts it and resolves with its summary. */
function startWriter(index) {
  const kind = index % 4 === 3 ? 'codex' : 'claude';
  const o = {
    index,
    kind,
    home,
    rate: opts.rate,
    seconds: opts.seconds,
    seed: opts.seed,
    logFile: path.join(logDir, `writer-${index}.jsonl`),
  };
  const p = fork(path.join(HERE, 'soak-writer.mjs'), [JSON.stringify(o)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(p);
  let summary = null;
  const done = new Promise((resolve, reject) => {
    p.on('message', (m) => m.type === 'done' && (summary = { kind, ...m }));
    p.on('exit', (code, signal) => {
      children.delete(p);
      if (summary) resolve(summary);
      else reject(new Error(`writer ${index} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
  const ready = new Promise((resolve) => p.once('message', resolve));
  return { ready, start: (at) => (p.send({ startAt: at }), done) };
}

/** Every request the writers logged: {s, k, at, t, cum}. */
function readRequestLogs() {
  const out = [];
  for (const f of fs.readdirSync(logDir))
    for (const line of fs.readFileSync(path.join(logDir, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
  return out;
}

/**
 * When each request was first visible: the first session list showing its session at or above
 * the total it brought the session to. Returns the latencies (ms, sorted), the same per tenth of
 * the writing time (whether they grow as the data does), and the requests never seen.
 */
function latencies(requests, seen, startAt) {
  const bySession = new Map();
  for (const { t, totals } of seen)
    for (const [sid, total] of Object.entries(totals)) {
      if (!bySession.has(sid)) bySession.set(sid, []);
      bySession.get(sid).push({ t, total });
    }
  const ms = [];
  const tenths = Array.from({ length: 10 }, () => []);
  let unseen = 0;
  const perSession = new Map();
  for (const r of requests) {
    if (!perSession.has(r.s)) perSession.set(r.s, []);
    perSession.get(r.s).push(r);
  }
  for (const [sid, reqs] of perSession) {
    reqs.sort((a, b) => a.cum - b.cum);
    const obs = bySession.get(sid) ?? [];
    let i = 0;
    for (const r of reqs) {
      while (i < obs.length && obs[i].total < r.cum) i++;
      if (i === obs.length) unseen++;
      else {
        const latency = obs[i].t - r.at;
        ms.push(latency);
        tenths[Math.min(9, Math.max(0, Math.floor((r.at - startAt) / (opts.seconds * 100))))].push(latency);
      }
    }
  }
  const byTenth = tenths.map((l, i) => {
    l.sort((a, b) => a - b);
    return { from_s: Math.round(i * opts.seconds) / 10, p50: percentile(l, 50), p99: percentile(l, 99) };
  });
  return { ms: ms.sort((a, b) => a - b), byTenth, unseen };
}

// ---- the recount by the CLI -------------------------------------------------------------------

function cliRecount() {
  const store = path.join(storeDir, 'cli-recount.sqlite');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, 'sessions', '--json', '--store', store], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the CLI recount ended with exit code ${code}`));
      const sessions = JSON.parse(out);
      let tokens = 0;
      for (const s of sessions) tokens += s.tokens_input + s.tokens_output + s.tokens_cache_read + s.tokens_cache_write;
      resolve({ tokens, sessions: sessions.length });
    });
  });
}

// ---- the run ----------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  say(
    `soak: ${opts.writers} writers × ${opts.rate} lines/s for ${opts.seconds} s; home ${home}; store ${storeFile}; ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const h = startHost();
  await h.ask(null, 'ready'); // the first pass over the (empty) home is indexed

  const started = Array.from({ length: opts.writers }, (_, i) => startWriter(i));
  await Promise.all(started.map((w) => w.ready));
  const start = await h.ask('sample');
  h.tell('loop-start');
  const startAt = Date.now() + 100;
  const writers = Promise.all(started.map((w) => w.start(startAt)));
  const warmAt = startAt + opts.seconds * 200;
  const warm = sleep(warmAt - Date.now()).then(() => h.ask('sample'));
  const progress = setInterval(() => {
    const left = Math.max(0, Math.round((startAt + opts.seconds * 1000 - Date.now()) / 1000));
    say(`soak: writing, ${left} s left; ${h.seen.length} session lists read`);
  }, 60_000);
  const written = await writers;
  clearInterval(progress);
  const writtenAt = Date.now();
  const warmSample = await warm;

  // Settle: every session at the total its writer reached, or the time is up.
  const expected = new Map();
  for (const w of written) for (const [sid, total] of Object.entries(w.sessions)) expected.set(sid, total);
  const current = new Map();
  let applied = 0;
  const settled = () => {
    for (; applied < h.seen.length; applied++)
      for (const [sid, total] of Object.entries(h.seen[applied].totals)) current.set(sid, total);
    for (const [sid, total] of expected) if (current.get(sid) !== total) return false;
    return true;
  };
  const settleDeadline = writtenAt + opts.settleSeconds * 1000;
  while (!settled() && Date.now() < settleDeadline) {
    h.tell('poll');
    await sleep(250);
  }
  const settleMs = Date.now() - writtenAt;
  const final = await h.ask('final');
  await h.ask('stop', 'stopped');
  const storeBytes = fs.statSync(storeFile).size;

  const requests = readRequestLogs();
  const lat = latencies(requests, h.seen, startAt);
  const sum = (k) => written.reduce((a, w) => a + w[k], 0);
  const cli = await cliRecount();
  const result = {
    writers: opts.writers,
    seconds: opts.seconds,
    rate: opts.rate,
    lines_written: sum('lines'),
    half_lines_written: sum('half_lines'),
    bytes_written: sum('bytes'),
    files_written: sum('files'),
    sessions_written: expected.size,
    requests_written: sum('requests'),
    requests_seen: requests.length - lat.unseen,
    requests_indexed: final.requests_indexed,
    tokens_written: sum('tokens'),
    tokens_indexed: final.tokens_indexed,
    tokens_cli: cli.tokens,
    sessions_indexed: final.sessions_indexed,
    sessions_cli: cli.sessions,
    lines_skipped: final.lines_skipped,
    settled: settled(),
    settle_ms: settleMs,
    latency_ms: { p50: percentile(lat.ms, 50), p99: percentile(lat.ms, 99), max: lat.ms.at(-1) ?? null },
    latency_by_tenth: lat.byTenth,
    loop_p99_ms: mb(final.loop_p99_ms),
    loop_p50_ms: mb(final.loop_p50_ms),
    loop_max_ms: mb(final.loop_max_ms),
    rss_mb: { start: mb(start.rss_mb), warm: mb(warmSample.rss_mb), end: mb(final.rss_mb), peak: mb(final.max_rss_mb) },
    rss_growth_pct: mb(((final.rss_mb - warmSample.rss_mb) / warmSample.rss_mb) * 100),
    store_bytes: storeBytes,
    cpu_s: {
      host: mb((final.cpu_ms - start.cpu_ms) / 1000),
      writers: mb(sum('cpu_ms') / 1000),
    },
    load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
    cpus: os.cpus().length,
    node: process.version,
    date: new Date(t0).toISOString(),
    home: keepHome ? home : null,
  };
  report(result);
  return result;
}

function report(r) {
  const lines = [
    `lines written          ${r.lines_written} (${r.half_lines_written} written in two parts), ${mb(r.bytes_written / 2 ** 20)} MB in ${r.files_written} files`,
    `requests written      ${r.requests_written} in ${r.sessions_written} sessions; seen in the store: ${r.requests_seen}`,
    `tokens written        ${r.tokens_written}`,
    `tokens in the store   ${r.tokens_indexed} (${r.requests_indexed} requests, ${r.sessions_indexed} sessions)`,
    `tokens, fresh CLI     ${r.tokens_cli} (${r.sessions_cli} sessions)`,
    `exact                 ${r.tokens_indexed === r.tokens_written && r.tokens_cli === r.tokens_written ? 'yes' : 'NO'}; settled ${r.settled ? 'yes' : 'NO'} ${r.settle_ms} ms after the writers stopped`,
    `append -> store       p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, max ${r.latency_ms.max} ms`,
    `  per tenth of the run p50/p99: ${r.latency_by_tenth.map((b) => `${b.p50}/${b.p99}`).join(', ')} ms`,
    `host event loop       p99 ${r.loop_p99_ms} ms (p50 ${r.loop_p50_ms}, max ${r.loop_max_ms})`,
    `RSS host + worker     start ${r.rss_mb.start} MB, warm ${r.rss_mb.warm} MB, end ${r.rss_mb.end} MB (${r.rss_growth_pct >= 0 ? '+' : ''}${r.rss_growth_pct}% from warm), peak ${r.rss_mb.peak} MB`,
    `store                 ${mb(r.store_bytes / 2 ** 20)} MB`,
    `CPU time              host ${r.cpu_s.host} s, writers ${r.cpu_s.writers} s; load average ${r.load_average.join(' ')} on ${r.cpus} CPUs`,
  ];
  if (r.home) lines.push(`recount it yourself:  HOME=${r.home} node dist/cli.js sessions --json`);
  say(lines.join('\n'));
  if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
}

try {
  await main();
} finally {
  cleanup();
}
