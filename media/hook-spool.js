#!/usr/bin/env node
'use strict';
/*
 * Agent Handler hook spool. An agent runs this as a hook command:
 *
 *   node <extension>/media/hook-spool.js <spool-dir> <agent>
 *
 * It reads the hook's JSON from stdin and appends ONE line to <spool-dir>/<agent>-hooks.jsonl:
 *   {"v":1,"agent":"claude","received_at":"<ISO>","ppid":<agent pid>,"ppid_started_at_ms":<ms>,"hook":{...}}
 * The file is opened with O_APPEND and the line written with a single write(), so hooks of agents
 * running at the same time never interleave. Bulky or private fields (tool input/output, prompts,
 * answers) are dropped: the spool carries status facts, the transcripts carry the content.
 *
 * Plain Node, no dependencies, synchronous, and it never fails the agent: any error is swallowed
 * and the exit code is always 0 with nothing on stdout (which some agents would read as a reply).
 */
const fs = require('fs');
const path = require('path');

/** Payload fields never spooled: content, not status (and possibly large or secret). */
const DROP = new Set([
  'tool_input',
  'tool_response',
  'prompt',
  'last_assistant_message',
  'background_tasks',
  'session_crons',
  'message_text',
]);
/** Longer strings are cut: a spool line stays small. */
const MAX_STRING = 500;
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'busybox', 'fish', 'cmd.exe', 'powershell', 'pwsh']);

function readStdin() {
  try {
    return fs.readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

function trimPayload(obj) {
  const out = {};
  for (const key of Object.keys(obj)) {
    if (DROP.has(key)) continue;
    const v = obj[key];
    if (typeof v === 'string') out[key] = v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v;
    else if (v === null || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else {
      const json = JSON.stringify(v);
      if (json !== undefined && json.length <= MAX_STRING) out[key] = v;
    }
  }
  return out;
}

let bootMs = null;
/** Linux: a process's command name, parent pid and start time (ms since epoch) from /proc. */
function linuxProc(pid) {
  const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  const rest = stat.slice(close + 2).split(' ');
  if (bootMs === null) {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    bootMs = m ? Number(m[1]) * 1000 : 0;
  }
  // rest[0] is field 3 (state): the parent pid is field 4, the start time (clock ticks after boot) field 22.
  return { comm, ppid: Number(rest[1]), startedMs: bootMs + (Number(rest[19]) / 100) * 1000 };
}

/** The agent's process: the hook's parent, or its grandparent when a shell ran the hook command. */
function agentProcess() {
  let pid = process.ppid;
  try {
    if (process.platform === 'linux') {
      let p = linuxProc(pid);
      if (SHELLS.has(p.comm) && p.ppid > 1) {
        pid = p.ppid;
        p = linuxProc(pid);
      }
      return { pid, startedMs: Math.round(p.startedMs) };
    }
    if (process.platform === 'darwin') {
      const cp = require('child_process');
      const ps = (args) =>
        cp.execFileSync('ps', args, { encoding: 'utf8', timeout: 1000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const comm = path.basename(ps(['-o', 'comm=', '-p', String(pid)]));
      if (SHELLS.has(comm.replace(/^-/, ''))) {
        const parent = Number(ps(['-o', 'ppid=', '-p', String(pid)]));
        if (parent > 1) pid = parent;
      }
      const t = Date.parse(ps(['-o', 'lstart=', '-p', String(pid)]));
      return { pid, startedMs: Number.isFinite(t) ? t : null };
    }
  } catch {
    // the start time is a check against pid reuse; without it the pid alone is recorded
  }
  return { pid, startedMs: null };
}

/**
 * Codex `notify` installed over the user's own: `--chain <base64 of the user's notify = [...]>`.
 * The user's program runs too, detached, with the same event JSON as its last argument.
 */
function runChained(b64, payload) {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const args = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|#[^\n]*/g;
  const array = text.slice(text.indexOf('['));
  for (let m = re.exec(array); m; m = re.exec(array)) {
    if (m[1] !== undefined) args.push(JSON.parse('"' + m[1] + '"'));
    else if (m[2] !== undefined) args.push(m[2]);
  }
  if (!args.length) return;
  const cp = require('child_process');
  cp.spawn(args[0], args.slice(1).concat([payload]), { detached: true, stdio: 'ignore' }).unref();
}

function main() {
  const dir = process.argv[2];
  const agent = (process.argv[3] || 'claude').replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!dir) return;
  let rest = process.argv.slice(4);
  if (rest[0] === '--chain') {
    const b64 = rest[1];
    rest = rest.slice(2);
    try {
      if (b64 && rest.length) runChained(b64, rest[rest.length - 1]);
    } catch {
      // the user's own notify failing is not ours to report
    }
  }
  // Codex's `notify` passes its JSON as the last argument instead of stdin.
  const text = rest.length ? rest[rest.length - 1] : readStdin();
  let hook;
  try {
    const parsed = JSON.parse(text);
    hook =
      parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? trimPayload(parsed)
        : { unparsed: String(text).slice(0, MAX_STRING) };
  } catch {
    hook = { unparsed: String(text).slice(0, MAX_STRING) };
  }
  const proc = agentProcess();
  const line =
    JSON.stringify({
      v: 1,
      agent,
      received_at: new Date().toISOString(),
      ppid: proc.pid,
      ppid_started_at_ms: proc.startedMs,
      hook,
    }) + '\n';
  try {
    // Private like the spool files (0600 below): the extension made it 0700 already, normally.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    // exists, or cannot be made: the open below says which
  }
  const fd = fs.openSync(
    path.join(dir, agent + '-hooks.jsonl'),
    fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT,
    0o600,
  );
  try {
    fs.writeSync(fd, Buffer.from(line, 'utf8'));
  } finally {
    fs.closeSync(fd);
  }
}

try {
  main();
} catch {
  // never fail, never block the agent
}
process.exitCode = 0;
