// The peer comparison of `npm run bench` (scripts/bench.mjs): ccusage, the Rust usage reporter
// shipped through npm, against our CLI (dist/cli.js), on the same corpus in the same run.
//
// Issue 17 states its targets as ratios to ccusage (cold ≤ 1.5×, warm ≤ 0.1×) because this
// machine's walls move by ±30% with the other work on its 2 cores: two tools timed minutes apart in
// the same run share that noise, so their ratio means more than either wall alone.
//
// ccusage is pinned (CCUSAGE_VERSION) and installed on first use into
//   ${AGENT_HANDLER_BENCH_CACHE:-${XDG_CACHE_HOME:-~/.cache}/agent-handler-bench}/ccusage-<version>/
// with the e2e cache's installer (scripts/e2e-prereqs.mjs: npm install --ignore-scripts, verified,
// then an `.installed` marker; ccusage has no install script, its binary comes in the platform
// package @ccusage/ccusage-<os>-<arch>), so later runs use the cache without the network. When it
// cannot be installed, the peer rows say why and the rest of the bench runs.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { installCachedPackage, isMarked, run, withLock } from './e2e-prereqs.mjs';

export const CCUSAGE_VERSION = '20.0.24';

// ---- small helpers (also used by bench.mjs) ----------------------------------------------------

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return 'n/a';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
export const fmtMb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);

/** `ours / theirs` as "11.9×" (two decimals below 1, so 0.05× is not shown as 0.1×). */
export function fmtRatio(ours, theirs) {
  if (typeof ours !== 'number' || typeof theirs !== 'number' || theirs <= 0) return 'n/a';
  const r = ours / theirs;
  return `${r.toFixed(r < 1 ? 2 : 1)}×`;
}

/** A median with the range of the runs: "15.6 s (15.2–16.1 s, 3 runs)". */
function fmtRuns(ms) {
  if (!ms.length) return 'n/a';
  const [low, high] = [fmtMs(Math.min(...ms)), fmtMs(Math.max(...ms))];
  // "2406–4485 ms", or "8406 ms–12.1 s" when the units differ.
  const lowShort = low.split(' ')[1] === high.split(' ')[1] ? low.split(' ')[0] : low;
  const range = ms.length > 1 ? ` (${lowShort}–${high}, ${ms.length} runs)` : '';
  return `${fmtMs(median(ms))}${range}`;
}

// ---- ccusage, installed into the bench's cache -------------------------------------------------

export function benchCacheRoot() {
  if (process.env.AGENT_HANDLER_BENCH_CACHE) return path.resolve(process.env.AGENT_HANDLER_BENCH_CACHE);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'agent-handler-bench');
}

/** ccusage's command (the npm launcher users run), installed on first use: `{ bin }`, or `{ error }`. */
export async function ensureCcusage() {
  const root = benchCacheRoot();
  const dir = path.join(root, `ccusage-${CCUSAGE_VERSION}`);
  const bin = path.join(dir, 'node_modules', '.bin', 'ccusage');
  const verify = async () => {
    const { stdout } = await run(bin, ['--version'], { capture: true });
    if (stdout.trim() !== `ccusage ${CCUSAGE_VERSION}`)
      throw new Error(`ccusage --version printed ${JSON.stringify(stdout.trim())}`);
  };
  try {
    if (isMarked(dir, CCUSAGE_VERSION)) {
      try {
        await verify();
        return { bin };
      } catch {
        // Marked but broken (a file removed since): installed again below.
      }
    }
    await fsp.mkdir(root, { recursive: true });
    await withLock(path.join(root, '.install.lock'), () =>
      installCachedPackage(dir, 'ccusage', CCUSAGE_VERSION, `ccusage ${CCUSAGE_VERSION}`, verify),
    );
    return { bin };
  } catch (err) {
    return { error: String(err.message ?? err).split('\n')[0] };
  }
}

// ---- one command, timed ------------------------------------------------------------------------

/** The commands running now, each the leader of its own process group (GNU time and its child). */
export const liveChildren = new Set();

/** Ends every command still running (an interrupted bench, before its temp folder is removed). */
export function killChildren() {
  for (const child of liveChildren) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * How a child's peak RSS is read: GNU time's %M when it is installed (Debian package `time`), else
 * /proc. GNU time also gives the CPU time (%U + %S, the command and its children), which the load of
 * other processes on the cores changes far less than the wall.
 */
const gnuTime = (() => {
  if (process.env.BENCH_NO_GNU_TIME) return false;
  const probe = path.join(os.tmpdir(), `agent-handler-bench-time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', probe, 'true'], { stdio: 'ignore' });
  let ok = false;
  try {
    ok = r.status === 0 && /^\d+\s*$/.test(fs.readFileSync(probe, 'utf8'));
  } catch {
    ok = false;
  }
  fs.rmSync(probe, { force: true });
  return ok;
})();
export const PEAK_RSS_METHOD = gnuTime
  ? 'GNU time %M, the largest process of the command; CPU time: %U + %S'
  : fs.existsSync('/proc/self/status')
    ? '/proc VmHWM polled every 50 ms, the largest process of the command'
    : 'n/a';

/** The largest VmHWM (bytes) among `pid` and its descendants, or 0 once they are gone. */
function procPeak(pid) {
  let peak = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    try {
      const kb = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (kb) peak = Math.max(peak, Number(kb[1]) * 1024);
      for (const tid of fs.readdirSync(`/proc/${p}/task`)) {
        const kids = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (kids) stack.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // exited meanwhile
    }
  }
  return peak;
}

/**
 * Runs `cmd args` once, its stdout drained through a pipe (kept, and counted). Resolves
 * `{ ms, stdout, peakRss, cpuMs, error }` (cpuMs null without GNU time): `error` says why it failed (exit code and stderr's end).
 */
function timedRun(cmd, args, { env, cwd, scratch }) {
  return new Promise((resolve) => {
    const rssFile = gnuTime ? path.join(scratch, `peak-rss-${Date.now()}`) : null;
    const [file, argv] = gnuTime ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
    const chunks = [];
    let stderr = '';
    let polledPeak = 0;
    const t0 = performance.now();
    // Its own process group, so that killChildren() reaches the command under GNU time too.
    const child = spawn(file, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    liveChildren.add(child);
    const poll =
      !gnuTime && PEAK_RSS_METHOD !== 'n/a'
        ? setInterval(() => (polledPeak = Math.max(polledPeak, procPeak(child.pid))), 50)
        : null;
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    const done = (code, signal, spawnError) => {
      const ms = performance.now() - t0;
      liveChildren.delete(child);
      if (poll) clearInterval(poll);
      let peakRss = poll ? polledPeak || null : null;
      let cpuMs = null;
      if (rssFile) {
        try {
          // GNU time writes "Command exited with non-zero status N" first when it did.
          const [kb, user, sys] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
          peakRss = kb * 1024 || null;
          cpuMs = Number.isFinite(user + sys) ? (user + sys) * 1000 : null;
        } catch {
          peakRss = null;
        }
        fs.rmSync(rssFile, { force: true });
      }
      const error =
        spawnError?.message ??
        (code === 0 ? null : `${signal ?? `exit ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
      resolve({ ms, stdout: Buffer.concat(chunks), peakRss, cpuMs, error });
    };
    child.on('error', (err) => done(null, null, err));
    child.on('close', (code, signal) => done(code, signal, null));
  });
}

/**
 * The environment both tools run in: HOME is the corpus, and every variable that would point
 * either tool at the real transcripts (or at another config) is dropped.
 */
export function corpusEnv(home) {
  const env = { ...process.env, HOME: home };
  for (const k of Object.keys(env)) {
    if (
      /^npm_/i.test(k) ||
      /^(CLAUDE_CONFIG_DIR|CODEX_HOME|GEMINI_CLI_HOME|COPILOT_HOME|CCUSAGE_.*|AGENT_HANDLER_.*)$/.test(k) ||
      /^XDG_(CONFIG|DATA|CACHE|STATE)_HOME$/.test(k)
    )
      delete env[k];
  }
  return env;
}

// ---- the comparison on one corpus --------------------------------------------------------------

/**
 * Measures, on the corpus at `home` (scratch files under `work`):
 *   ccusage  `session --json --offline`: one unmeasured run (page cache warm for both tools), then 3
 *   cold     ours, `sessions --json --store <new>` with no store: 3 runs, interleaved with ccusage's
 *            (so load that comes and goes falls on both), a fresh store each
 *   warm     ours, the same command on the last cold run's store, nothing changed: 5 runs
 *   daily    `daily --json` in UTC, both tools, ours warm: 3 runs each
 * `expectedSessions` (the worker's count, when it ran on this corpus) checks our output; every run
 * of ours must agree with it and with each other.
 */
export async function comparePeer({ home, work, ccusageBin, cli, expectedSessions, say }) {
  const env = corpusEnv(home);
  fs.mkdirSync(work, { recursive: true });
  const opts = { env, cwd: home, scratch: work };
  const ccusage = (args) => timedRun(ccusageBin, args, opts);
  const ours = (args) => timedRun(process.execPath, [cli, ...args], opts);
  const r = {
    ccusage: { ms: [], peakRss: [], cpuMs: [], error: ccusageBin ? null : 'not installed' },
    cold: { ms: [], peakRss: [], cpuMs: [], error: null },
    warm: { ms: [], peakRss: [], cpuMs: [], error: null },
    daily: { ms: [], theirMs: [], error: null },
  };
  let sessions = expectedSessions ?? null;
  const checkOurs = (res, scenario) => {
    if (res.error) throw new Error(res.error);
    const list = JSON.parse(res.stdout.toString('utf8'));
    if (!Array.isArray(list)) throw new Error('the output is not a JSON array');
    if (sessions === null) sessions = list.length;
    if (list.length !== sessions) throw new Error(`${list.length} sessions, expected ${sessions}`);
    scenario.bytes = res.stdout.length;
  };
  const record = async (scenario, run, check) => {
    if (scenario.error) return;
    const res = await run();
    try {
      check(res);
      scenario.ms.push(res.ms);
      scenario.peakRss.push(res.peakRss);
      scenario.cpuMs.push(res.cpuMs);
    } catch (err) {
      scenario.error = err.message;
      say(`FAILED: ${err.message}`);
    }
  };
  const checkTheirs = (res) => {
    if (res.error) throw new Error(res.error);
    r.ccusage.sessions = JSON.parse(res.stdout.toString('utf8')).session.length;
    r.ccusage.bytes = res.stdout.length;
  };
  const sessionArgs = ['session', '--json', '--offline'];

  if (ccusageBin) {
    const warmUp = await ccusage(sessionArgs);
    if (warmUp.error) r.ccusage.error = warmUp.error;
  }
  const storeDir = (i) => path.join(work, `store-${i}`);
  for (let i = 0; i < 3; i++) {
    await record(r.ccusage, () => ccusage(sessionArgs), checkTheirs);
    for (const dir of [storeDir(i - 1), storeDir(i)]) fs.rmSync(dir, { recursive: true, force: true });
    const store = path.join(storeDir(i), 'index.sqlite');
    await record(
      r.cold,
      () => ours(['sessions', '--json', '--store', store]),
      (res) => checkOurs(res, r.cold),
    );
    say(`  ccusage ${fmtMs(r.ccusage.ms.at(-1))}, ours cold ${fmtMs(r.cold.ms.at(-1))}`);
  }
  const store = path.join(storeDir(2), 'index.sqlite');
  if (r.cold.error) r.warm.error = r.daily.error = 'no store (the cold runs failed)';
  for (let i = 0; i < 5; i++)
    await record(
      r.warm,
      () => ours(['sessions', '--json', '--store', store]),
      (res) => checkOurs(res, r.warm),
    );
  say(`  ours warm ${fmtRuns(r.warm.ms)}`);

  for (let i = 0; i < 3 && !r.daily.error; i++) {
    try {
      const mine = await ours(['daily', '--json', '--tz', 'UTC', '--store', store]);
      if (mine.error) throw new Error(mine.error);
      r.daily.days = JSON.parse(mine.stdout.toString('utf8')).days.length;
      r.daily.ms.push(mine.ms);
    } catch (err) {
      r.daily.error = err.message;
      break;
    }
    if (!ccusageBin || r.ccusage.error) continue;
    const theirs = await ccusage(['daily', '--json', '--offline', '--timezone', 'UTC']);
    try {
      if (theirs.error) throw new Error(theirs.error);
      r.daily.theirDays = JSON.parse(theirs.stdout.toString('utf8')).daily.length;
      r.daily.theirMs.push(theirs.ms);
    } catch (err) {
      say(`ccusage daily failed: ${err.message}`);
    }
  }
  r.sessions = sessions;
  return r;
}

// ---- the table ---------------------------------------------------------------------------------

const maxOf = (xs) => (xs.some((x) => typeof x === 'number') ? Math.max(...xs.filter((x) => x !== null)) : null);
const verdict = (ratio, target) =>
  ratio === null ? '' : ratio <= target ? ' (met)' : ` (not met: ${(ratio / target).toFixed(1)}× the target)`;

/**
 * Rows `[measure, ...one cell per corpus, target]` for the results of comparePeer, one per corpus
 * (`{ bytes, files, result }`); `ccusageError` says why ccusage's cells are n/a.
 */
export function peerRows(corpora, ccusageError) {
  const cells = (f) => corpora.map(({ result, bytes, files }) => f(result, bytes, files));
  const failed = (s) => (s.error ? `failed: ${s.error}` : null);
  const theirs = (s) => (s.error ? `n/a (${ccusageError ? 'ccusage not installed' : s.error})` : null);
  const ratioCell = (ours, target) => (r) => {
    const a = median(r[ours].ms);
    const b = median(r.ccusage.ms);
    const known = !r[ours].error && !r.ccusage.error && a !== null && b !== null;
    return known ? `**${fmtRatio(a, b)}**${verdict(a / b, target)}` : 'n/a';
  };
  return [
    ['corpus', ...cells((_, bytes, files) => `${fmtMb(bytes)}, ${files} files`), ''],
    [
      `ccusage ${CCUSAGE_VERSION} \`session --json --offline\`: wall, median after 1 unmeasured run`,
      ...cells((r) => theirs(r.ccusage) ?? fmtRuns(r.ccusage.ms)),
      '',
    ],
    ['… its peak RSS (largest of the runs)', ...cells((r) => theirs(r.ccusage) ?? fmtMb(maxOf(r.ccusage.peakRss))), ''],
    ['ours cold: `sessions --json --store <new>`, no store', ...cells((r) => failed(r.cold) ?? fmtRuns(r.cold.ms)), ''],
    [
      '… its peak RSS (largest of the runs)',
      ...cells((r) => failed(r.cold) ?? fmtMb(maxOf(r.cold.peakRss))),
      '≤ 300 MB at 1 GB',
    ],
    [
      'ours warm: the same command, store kept, nothing changed',
      ...cells((r) => failed(r.warm) ?? fmtRuns(r.warm.ms)),
      '',
    ],
    ['… its peak RSS (largest of the runs)', ...cells((r) => failed(r.warm) ?? fmtMb(maxOf(r.warm.peakRss))), ''],
    ['**cold / ccusage**', ...cells(ratioCell('cold', 1.5)), '≤ 1.5×'],
    ['**warm / ccusage**', ...cells(ratioCell('warm', 0.1)), '≤ 0.1×'],
    [
      'CPU time (user + sys), median: ccusage / ours cold / ours warm (ratios: cold, warm)',
      ...cells((r) => {
        const [theirs, cold, warm] = [r.ccusage, r.cold, r.warm].map((s) => (s.error ? null : median(s.cpuMs)));
        if (cold === null && warm === null) return 'n/a';
        return `${fmtMs(theirs)} / ${fmtMs(cold)} / ${fmtMs(warm)} (${fmtRatio(cold, theirs)}, ${fmtRatio(warm, theirs)})`;
      }),
      '',
    ],
    [
      'sessions listed: ours (all runs agree) / ccusage (subagents folded into their parent)',
      ...cells((r) => `${r.sessions ?? 'n/a'} / ${r.ccusage.sessions ?? 'n/a'}`),
      '',
    ],
    [
      'JSON written: ours / ccusage',
      ...cells((r) => `${fmtMb(r.cold.bytes ?? r.warm.bytes)} / ${fmtMb(r.ccusage.bytes)}`),
      '',
    ],
    [
      '`daily --json`, UTC: ours warm / ccusage (median of 3; days listed)',
      ...cells((r) =>
        r.daily.error
          ? `failed: ${r.daily.error}`
          : `${fmtMs(median(r.daily.ms))} / ${fmtMs(median(r.daily.theirMs))} = ${fmtRatio(median(r.daily.ms), median(r.daily.theirMs))} (${r.daily.days ?? 'n/a'} / ${r.daily.theirDays ?? 'n/a'} days)`,
      ),
      '',
    ],
  ];
}
