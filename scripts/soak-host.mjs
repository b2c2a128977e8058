#!/usr/bin/env node
// The extension host of `npm run soak` (scripts/soak.mjs forks it): starts the indexing worker
// (dist/worker.js) as src/views/indexClient.ts and src/views/settings.ts do, so the worker takes the
// writer lease, scans, watches and persists as in VS Code, and does here what the views do: on
// every `changed` notice it asks for the session list. Its own event loop stands for the extension
// host's (monitorEventLoopDelay); its RSS is the host's and the worker thread's together.
//
// To the soak (IPC): {type: 'ready'} once the first pass is indexed; {type: 'seen', t, totals}
// whenever a session list shows new totals (t: when the answer arrived, ms since the epoch;
// totals: session id -> input + output + cache read + cache write, only the sessions that moved).
// From the soak: {type: 'sample'} -> {type: 'sample', rss_mb, cpu_ms}; {type: 'loop-start'};
// {type: 'poll'}; {type: 'final'} -> {type: 'final', ...}; {type: 'stop'} -> persisted, exits.

import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const o = JSON.parse(process.argv[2]);
const send = (m) => process.send(m);

const worker = new Worker(path.join(REPO, 'dist', 'worker.js'));
const pending = new Map();
let nextId = 1;
let ready = false;

function query(name, args = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ type: 'query', id, name, args });
  });
}

// ---- what the views do on a change notice: read the session list -----------------------------

const lastTotals = new Map();
let inFlight = false;
let again = false;
let stopped = false;

async function readSessions() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    do {
      again = false;
      const sessions = await query('sessions');
      const t = Date.now();
      const totals = {};
      let moved = false;
      for (const s of sessions) {
        const total = s.tokens_input + s.tokens_output + s.tokens_cache_read + s.tokens_cache_write;
        if (lastTotals.get(s.session_id) !== total) {
          lastTotals.set(s.session_id, total);
          totals[s.session_id] = total;
          moved = true;
        }
      }
      if (moved) send({ type: 'seen', t, totals });
    } while (again && !stopped);
  } finally {
    inFlight = false;
  }
}

worker.on('message', (m) => {
  switch (m.type) {
    case 'result': {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
      break;
    }
    case 'log':
      if (m.level === 'error' || m.level === 'warn' || process.env.SOAK_VERBOSE)
        process.stderr.write(`[worker ${m.level}] ${m.message}\n`);
      break;
    case 'indexed':
      if (!ready) {
        ready = true;
        send({ type: 'ready' });
      }
      break;
    case 'changed':
      if (!stopped) void readSessions().catch((err) => process.stderr.write(`sessions query failed: ${err.message}\n`));
      break;
    case 'stopped':
      stopWaiter?.();
      break;
  }
});
worker.on('error', (err) => process.stderr.write(`index worker error: ${err.stack ?? err.message}\n`));

// The init src/views/settings.ts#workerInit builds, with the defaults of package.json's settings;
// pull request lookups (gh) off: no network in a benchmark.
worker.postMessage({
  type: 'init',
  init: {
    storeFile: o.storeFile,
    env: o.env,
    home: o.home,
    agents: { extraRoots: {}, disabled: [] },
    status: { busyWindowMs: 5 * 60_000, idleWindowMs: 30 * 60_000 },
    pricing: { overrides: {}, refresh: false },
    pullRequests: { gh: false },
    spoolDir: path.join(path.dirname(o.storeFile), 'spool'),
    telemetry: { enabled: false, endpointFile: path.join(path.dirname(o.storeFile), 'otlp-endpoint.json') },
    rescanIntervalMs: o.rescanIntervalMs,
    machineId: 'soak',
  },
});

// ---- the soak's requests ----------------------------------------------------------------------

const loop = monitorEventLoopDelay({ resolution: 10 });
let stopWaiter = null;

function sample() {
  const cpu = process.cpuUsage();
  return { rss_mb: process.memoryUsage.rss() / 2 ** 20, cpu_ms: (cpu.user + cpu.system) / 1000 };
}

process.on('message', async (m) => {
  switch (m.type) {
    case 'sample':
      send({ type: 'sample', ...sample() });
      break;
    case 'loop-start':
      loop.enable();
      break;
    case 'poll':
      void readSessions();
      break;
    case 'final': {
      loop.disable();
      await readSessions();
      const total = await query('total');
      const diag = await query('diagnostics');
      send({
        type: 'final',
        ...sample(),
        max_rss_mb: process.resourceUsage().maxRSS / 1024,
        loop_p50_ms: loop.percentile(50) / 1e6,
        loop_p99_ms: loop.percentile(99) / 1e6,
        loop_max_ms: loop.max / 1e6,
        tokens_indexed: total.tokens_input + total.tokens_output + total.tokens_cache_read + total.tokens_cache_write,
        requests_indexed: total.requests,
        sessions_indexed: diag.sessions,
        lines_skipped: diag.lines_skipped ?? null,
        role: diag.role,
        watcher_mode: diag.watcher_mode,
      });
      break;
    }
    case 'stop': {
      stopped = true;
      const done = new Promise((resolve) => (stopWaiter = resolve));
      worker.postMessage({ type: 'stop' });
      await done; // the worker persisted the store and released the lease
      await worker.terminate();
      send({ type: 'stopped' });
      process.disconnect();
      break;
    }
  }
});
