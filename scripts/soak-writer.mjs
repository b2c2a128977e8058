#!/usr/bin/env node
// One agent of `npm run soak` (scripts/soak.mjs starts W of them): appends realistic transcript
// lines to its own files under HOME at a fixed rate, as a streaming agent does, and counts what it
// wrote BY THE ACCOUNTING RULES (docs/accounting.md), so the soak can compare the index with it.
//
//   forked with '<json>': {index, home, kind: "claude"|"codex", rate, seconds, seed, logFile};
//   it says {type: 'ready'}, starts writing at the {startAt} it is sent, and ends with {type: 'done', …}
//
// Claude Code (~/.claude/projects/<slug>/<uuid>.jsonl): prompts; streamed responses of 1–3 lines
// sharing message.id + requestId (thinking, text, tool_use); tool results; turn_duration lines;
// now and then a subagent, written to <uuid>/subagents/agent-<id>.jsonl (isSidechain) while the
// parent waits for it. Two shapes of usage on the streamed lines, as Claude Code wrote them: 2.1.x
// repeats the final usage on every line; 2.0.x writes a partial output count on the first lines
// and the final one on the last. A request counts once, with its largest line (§1).
// Codex (~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl): session_meta, turn_context,
// prompts, reasoning, function calls and outputs, and per response a token_usage_record + a
// cumulative token_count (written together, as Codex does); it counts by its own totals.
// About one line in 25 is written in two parts: the first part, a pause, then the rest.
//
// Each request's deciding line (the first with its final usage; for a response cut off by the end
// of the run, its last partial line) is logged with its write time, to `logFile` as JSON lines {s: session id, k: request key, at: ms, t: tokens, cum: the session's
// counted tokens once it is in}: the index shows the request exactly when the session's total
// reaches `cum` (every line before it leaves the total below).

import fs from 'node:fs';
import path from 'node:path';
import { Rng, bigText, fillerText, makeFiller } from './corpus.mjs';

const o = JSON.parse(process.argv[2]);
const rng = new Rng(0x50a4 + o.seed * 7919 + o.index * 104729);
const filler = makeFiller(rng, 1 << 20);
const interval = 1000 / o.rate;
const iso = (ms) => new Date(ms).toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// ---- what was written, by the accounting rules ------------------------------------------------

const stats = { lines: 0, requests: 0, tokens: 0, half_lines: 0, bytes: 0, sessions: {} };
const log = fs.openSync(o.logFile, 'a');
let logBuf = [];
/** The largest line of each request so far (what counts for it), and the requests not logged yet. */
const counts = new Map();
const open = new Map();
const logged = new Set();

/**
 * A usage line is in the file: its request counts with its largest line so far (a partial line
 * too, until a larger one replaces it). The first line with the request's final usage is the one
 * the index must show: logged with its write time and the session's total once it is in.
 */
function usageLine(u, at) {
  const before = counts.get(u.key);
  if (before === undefined) stats.requests++;
  if (before === undefined || u.tokens > before) {
    const delta = u.tokens - (before ?? 0);
    counts.set(u.key, u.tokens);
    stats.sessions[u.sid] = (stats.sessions[u.sid] ?? 0) + delta;
    stats.tokens += delta;
  }
  if (u.final) {
    open.delete(u.key);
    logRequest(u, at);
  } else if (!logged.has(u.key)) open.set(u.key, { ...u, at });
}

function logRequest(u, at) {
  logged.add(u.key);
  logBuf.push(JSON.stringify({ s: u.sid, k: u.key, at, t: counts.get(u.key), cum: stats.sessions[u.sid] }));
  if (logBuf.length >= 64) flushLog();
}

function flushLog() {
  if (logBuf.length) fs.writeSync(log, `${logBuf.join('\n')}\n`);
  logBuf = [];
}

// ---- Claude Code ------------------------------------------------------------------------------

const CLAUDE_MODELS = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001'];

/** The four kinds the store counts: input + output + cache read + cache write (the larger field). */
const claudeTotal = (u) => u.input + u.output + u.read + u.write5m + u.write1h;

function claudeUsage(u, output) {
  return `{"input_tokens":${u.input},"cache_creation_input_tokens":${u.write5m + u.write1h},"cache_read_input_tokens":${u.read},"output_tokens":${output},"service_tier":"standard","cache_creation":{"ephemeral_5m_input_tokens":${u.write5m},"ephemeral_1h_input_tokens":${u.write1h}}}`;
}

/** The lines of one Claude Code session (and its subagents), one step (one line) at a time. */
function* claudeSession() {
  const sessionId = rng.uuid();
  const cwd = path.join(o.home, 'work', `project-${o.index}`);
  const slug = cwd.replace(/[^a-zA-Z0-9]/g, '-');
  const dir = path.join(o.home, '.claude', 'projects', slug);
  const mainFile = path.join(dir, `${sessionId}.jsonl`);
  // Odd writers stream like 2.0.x (a partial output count first), even ones like 2.1.x.
  const version = o.index % 2 ? '2.0.30' : '2.1.332';
  const partialFirst = version.startsWith('2.0');
  fs.mkdirSync(cwd, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });

  // One chain of lines: the main session, or a subagent's own file.
  const chain = (file, sid, agentId) => ({ file, sid, agentId, parent: null });
  const common = (c) =>
    `"isSidechain":${!!c.agentId},${c.agentId ? `"agentId":"${c.agentId}",` : ''}"userType":"external","entrypoint":"cli","cwd":${JSON.stringify(cwd)},"sessionId":"${sessionId}","version":"${version}","gitBranch":"main"`;
  const step = (c, text, req) => ({ file: c.file, sid: c.sid, text, req });

  function* prompt(c, text) {
    const uuid = rng.uuid();
    yield step(
      c,
      `{"parentUuid":${c.parent ? `"${c.parent}"` : 'null'},${common(c)},"type":"user","message":{"role":"user","content":"${text}"},"uuid":"${uuid}","timestamp":"${iso(Date.now())}","permissionMode":"default"}`,
    );
    c.parent = uuid;
  }

  /** One API request streamed as 1–3 lines; returns the tool_use id when it ends with a tool call. */
  function* request(c, { tool, toolName = null, subagentPrompt = null }) {
    const msgId = `msg_soak${o.index}_${rng.hex(20)}`;
    const reqId = `req_soak${o.index}_${rng.hex(20)}`;
    const model = rng.pick(CLAUDE_MODELS);
    const u = {
      input: rng.int(1, 40),
      output: rng.int(20, 2_000),
      read: rng.int(5_000, 180_000),
      write5m: rng.next() < 0.6 ? rng.int(0, 9_000) : 0,
      write1h: rng.next() < 0.2 ? rng.int(0, 4_000) : 0,
    };
    const total = claudeTotal(u);
    const blocks = rng.int(1, 3);
    const toolId = `toolu_${rng.hex(24)}`;
    let decided = false;
    for (let b = 0; b < blocks; b++) {
      const last = b === blocks - 1;
      const output = partialFirst && !last ? rng.int(1, Math.min(12, u.output - 1)) : u.output;
      const uuid = rng.uuid();
      let content;
      if (last && tool) {
        const input = subagentPrompt
          ? `{"description":"soak subagent","prompt":"${subagentPrompt}","subagent_type":"general-purpose"}`
          : `{"command":"${fillerText(rng, filler, rng.int(20, 300))}"}`;
        content = `{"type":"tool_use","id":"${toolId}","name":"${toolName ?? rng.pick(['Bash', 'Read', 'Edit', 'Grep'])}","input":${input}}`;
      } else if (b === 0 && blocks > 1) {
        content = `{"type":"thinking","thinking":"${fillerText(rng, filler, rng.int(100, 3_000))}","signature":"${rng.hex(80)}"}`;
      } else {
        content = `{"type":"text","text":"${fillerText(rng, filler, rng.int(50, 2_000))}"}`;
      }
      const stop = partialFirst && !last ? 'null' : tool ? '"tool_use"' : '"end_turn"';
      const text = `{"parentUuid":"${c.parent}",${common(c)},"message":{"id":"${msgId}","type":"message","role":"assistant","model":"${model}","content":[${content}],"stop_reason":${stop},"stop_sequence":null,"usage":${claudeUsage(u, output)}},"requestId":"${reqId}","type":"assistant","uuid":"${uuid}","timestamp":"${iso(Date.now())}"}`;
      // The first line carrying the final usage decides the request (a tie goes to a later line,
      // with the same figure); a partial line before it leaves the session's total below `cum`.
      const final = !decided && output === u.output;
      if (final) decided = true;
      yield step(c, text, { sid: c.sid, key: `${msgId}:${reqId}`, tokens: total - u.output + output, final });
      c.parent = uuid;
    }
    return toolId;
  }

  function* toolResult(c, toolId, size) {
    const uuid = rng.uuid();
    yield step(
      c,
      `{"parentUuid":"${c.parent}",${common(c)},"type":"user","message":{"role":"user","content":[{"tool_use_id":"${toolId}","type":"tool_result","content":"${bigText(rng, filler, size)}","is_error":false}]},"uuid":"${uuid}","timestamp":"${iso(Date.now())}","toolUseResult":{"stdout":"","stderr":"","interrupted":false}}`,
    );
    c.parent = uuid;
  }

  function* turnDuration(c) {
    const uuid = rng.uuid();
    yield step(
      c,
      `{"parentUuid":"${c.parent}",${common(c)},"type":"system","subtype":"turn_duration","durationMs":${rng.int(1000, 90_000)},"isMeta":false,"uuid":"${uuid}","timestamp":"${iso(Date.now())}"}`,
    );
    c.parent = uuid;
  }

  const resultSize = () => (rng.next() < 0.02 ? rng.logUniform(50_000, 400_000) : rng.logUniform(200, 20_000));
  const main = chain(mainFile, sessionId, null);
  for (;;) {
    yield* prompt(main, fillerText(rng, filler, rng.int(40, 600)));
    const calls = rng.int(0, 4);
    for (let s = 0; s < calls; s++) {
      if (rng.next() < 0.12) {
        // A subagent: the parent calls the Agent tool, the subagent writes its own file, then the
        // parent gets the tool result. Its requests count in its own session (agent-<id>).
        const agentId = rng.hex(17);
        const task = fillerText(rng, filler, rng.int(40, 300));
        const toolId = yield* request(main, { tool: true, toolName: 'Agent', subagentPrompt: task });
        const subFile = path.join(dir, sessionId, 'subagents', `agent-${agentId}.jsonl`);
        fs.mkdirSync(path.dirname(subFile), { recursive: true });
        fs.writeFileSync(
          subFile.replace(/\.jsonl$/, '.meta.json'),
          JSON.stringify({ agentType: 'general-purpose', description: 'soak subagent', toolUseId: toolId }),
        );
        const sub = chain(subFile, `agent-${agentId}`, agentId);
        yield* prompt(sub, task);
        const subCalls = rng.int(1, 3);
        for (let k = 0; k < subCalls; k++) {
          const id = yield* request(sub, { tool: true });
          yield* toolResult(sub, id, resultSize());
        }
        yield* request(sub, { tool: false });
        yield* toolResult(main, toolId, rng.int(100, 2_000));
      } else {
        const toolId = yield* request(main, { tool: true });
        yield* toolResult(main, toolId, resultSize());
      }
    }
    yield* request(main, { tool: false });
    if (rng.next() < 0.5) yield* turnDuration(main);
  }
}

// ---- Codex ------------------------------------------------------------------------------------

/** A UUIDv7 (Codex's thread and turn ids): the time in its first 48 bits. */
function uuidV7(ms) {
  const h = ms.toString(16).padStart(12, '0') + rng.hex(20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function* codexSession() {
  const start = Date.now();
  const threadId = uuidV7(start);
  const cwd = path.join(o.home, 'work', `project-${o.index}`);
  fs.mkdirSync(cwd, { recursive: true });
  const d = new Date(start);
  const p2 = (n) => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}/${p2(d.getMonth() + 1)}/${p2(d.getDate())}`;
  const stamp = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}-${p2(d.getMinutes())}-${p2(d.getSeconds())}`;
  const file = path.join(o.home, '.codex', 'sessions', day, `rollout-${stamp}-${threadId}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const step = (text, req, lines = 1) => ({ file, sid: threadId, text, req, lines });
  const now = () => iso(Date.now());
  const usage = (a) =>
    `{"input_tokens":${a[0]},"cached_input_tokens":${a[1]},"cache_write_input_tokens":${a[2]},"output_tokens":${a[3]},"reasoning_output_tokens":${a[4]},"total_tokens":${a[5]}}`;
  yield step(
    `{"timestamp":"${now()}","type":"session_meta","payload":{"id":"${threadId}","session_id":"${threadId}","timestamp":"${now()}","cwd":${JSON.stringify(cwd)},"originator":"codex_cli_rs","cli_version":"0.169.0","source":"cli","thread_source":"user","model_provider":"openai","base_instructions":{"text":"${fillerText(rng, filler, 4_000)}"}}}`,
  );
  const tot = [0, 0, 0, 0, 0, 0];
  for (;;) {
    const turn = uuidV7(Date.now());
    yield step(
      `{"timestamp":"${now()}","type":"event_msg","payload":{"type":"task_started","turn_id":"${turn}","model_context_window":272000,"collaboration_mode_kind":"default"}}`,
    );
    yield step(
      `{"timestamp":"${now()}","type":"turn_context","payload":{"turn_id":"${turn}","cwd":${JSON.stringify(cwd)},"approval_policy":"on-request","sandbox_policy":{"type":"workspace-write"},"model":"gpt-5-codex","effort":"medium","summary":"auto"}}`,
    );
    const text = fillerText(rng, filler, rng.int(40, 600));
    yield step(
      `{"timestamp":"${now()}","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"${text}"}]}}`,
    );
    yield step(
      `{"timestamp":"${now()}","type":"event_msg","payload":{"type":"user_message","message":"${text}","images":[]}}`,
    );
    const responses = rng.int(1, 5);
    for (let s = 0; s < responses; s++) {
      yield step(
        `{"timestamp":"${now()}","type":"response_item","payload":{"type":"reasoning","summary":[{"type":"summary_text","text":"${fillerText(rng, filler, rng.int(50, 800))}"}],"content":null,"encrypted_content":"${rng.hex(400)}"}}`,
      );
      const call = `call_${rng.hex(20)}`;
      const withCall = s < responses - 1;
      if (withCall)
        yield step(
          `{"timestamp":"${now()}","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\\"cmd\\":\\"ls -la src/${rng.hex(8)}\\"}","call_id":"${call}"}}`,
        );
      else
        yield step(
          `{"timestamp":"${now()}","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"${fillerText(rng, filler, rng.int(50, 1_500))}"}]}}`,
        );
      const u = [rng.int(5_000, 120_000), 0, 0, rng.int(20, 3_000), 0, 0];
      u[1] = Math.floor(u[0] * rng.next() * 0.9);
      u[4] = Math.floor(u[3] * rng.next() * 0.5);
      u[5] = u[0] + u[3];
      for (let i = 0; i < 6; i++) tot[i] += u[i];
      // Codex counts by its own totals: total_tokens = input (cached part included) + output.
      const ts = now();
      yield step(
        `{"timestamp":"${ts}","type":"token_usage_record","payload":{"thread_id":"${threadId}","turn_id":"${turn}","session_id":"${threadId}","response_id":"resp_${rng.hex(24)}","usage":${usage(u)}}}\n` +
          `{"timestamp":"${ts}","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":${usage(tot)},"last_token_usage":${usage(u)},"model_context_window":272000},"rate_limits":null}}`,
        { sid: threadId, key: `codex:${threadId}:${tot.join('/')}`, tokens: u[5], final: true },
        2,
      );
      if (withCall)
        yield step(
          `{"timestamp":"${now()}","type":"response_item","payload":{"type":"function_call_output","call_id":"${call}","output":"${bigText(rng, filler, rng.next() < 0.02 ? rng.logUniform(50_000, 400_000) : rng.logUniform(100, 15_000))}"}}`,
        );
    }
    yield step(
      `{"timestamp":"${now()}","type":"event_msg","payload":{"type":"task_complete","turn_id":"${turn}","last_agent_message":"${fillerText(rng, filler, 100)}"}}`,
    );
  }
}

// ---- the loop: one line per 1/rate seconds, on a fixed schedule ------------------------------

const fds = new Map();
function append(file, text) {
  let fd = fds.get(file);
  if (fd === undefined) fds.set(file, (fd = fs.openSync(file, 'a')));
  fs.writeSync(fd, text);
  stats.bytes += Buffer.byteLength(text);
}

async function run(startAt) {
  const steps = o.kind === 'codex' ? codexSession() : claudeSession();
  // Writers start together, each at its own phase of the interval.
  let due = startAt + rng.next() * interval;
  const end = startAt + o.seconds * 1000;
  await sleep(due - Date.now());
  while (Date.now() < end) {
    const s = steps.next().value;
    // A session exists from its first line on (a subagent that has only its task so far, too).
    stats.sessions[s.sid] ??= 0;
    const text = `${s.text}\n`;
    if (rng.next() < 0.04 && text.length > 40) {
      // Half a line now, the rest a moment later: the reader must wait for the newline.
      const cut = rng.int(10, text.length - 2);
      append(s.file, text.slice(0, cut));
      stats.half_lines++;
      await sleep(rng.int(50, Math.max(100, 3 * interval)));
      append(s.file, text.slice(cut));
    } else {
      append(s.file, text);
    }
    if (s.req) usageLine(s.req, Date.now());
    const lines = s.lines ?? 1;
    stats.lines += lines;
    due += lines * interval;
    await sleep(due - Date.now());
  }
  // A response cut off by the end of the run counts with its partial line, as in the index.
  for (const u of open.values()) logRequest(u, u.at);
  flushLog();
  fs.closeSync(log);
  for (const fd of fds.values()) fs.closeSync(fd);
  const cpu = process.cpuUsage();
  process.send({ type: 'done', ...stats, files: fds.size, cpu_ms: (cpu.user + cpu.system) / 1000 }, () =>
    process.disconnect(),
  );
}

// Started on a loaded machine, writers take seconds to load: all start when all are ready.
process.once('message', (m) => void run(m.startAt));
process.send({ type: 'ready' });
