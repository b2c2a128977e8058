// The seeded synthetic corpus of `npm run bench` (Claude Code, Codex and Gemini CLI transcripts in
// their real formats, with subagents, forks and multi-MB tool results), shared by the bench and the
// tests that compare stores built from it (the same seed writes the same bytes).
import fs from 'node:fs';
import path from 'node:path';
// ---- seeded randomness -----------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  constructor(seed) {
    this.r = mulberry32(seed);
  }
  next() {
    return this.r();
  }
  int(lo, hi) {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick(a) {
    return a[Math.floor(this.r() * a.length)];
  }
  hex(n) {
    let s = '';
    while (s.length < n)
      s += Math.floor(this.r() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  }
  uuid() {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  /** Log-uniform between lo and hi: many small, a few large. */
  logUniform(lo, hi) {
    return Math.round(Math.exp(Math.log(lo) + this.r() * (Math.log(hi) - Math.log(lo))));
  }
}

// ---- filler text -----------------------------------------------------------------------------

/**
 * A few MB of JSON-string-safe text (already escaped: `\n`, `\"`, `\\`, some non-ASCII as \u escapes
 * and raw UTF-8) that tool results and messages are sliced from, so generating a GB is a matter of
 * copying buffers, not of building strings character by character.
 */
export function makeFiller(rng, bytes) {
  const words = [
    'const',
    'function',
    'return',
    'import',
    'export',
    'await',
    'the',
    'file',
    'src/core/ingest/indexer.ts',
    'error',
    'test',
    'passed',
    'failed',
    '\\"value\\"',
    '{',
    '}',
    '=>',
    'npm',
    'run',
    'build',
    'línea',
    'données',
    '数据',
    '\\u00e9t\\u00e9',
    'C:\\\\Users\\\\dev',
    'https://example.com/docs',
    '\\t',
    'ok',
    'SELECT',
    'FROM',
    'WHERE',
    '42',
    '3.14',
    'null',
    'true',
  ];
  const parts = [];
  let len = 0;
  while (len < bytes) {
    let line = '';
    const n = rng.int(4, 18);
    for (let i = 0; i < n; i++) line += `${rng.pick(words)} `;
    line += '\\n';
    parts.push(line);
    len += Buffer.byteLength(line);
  }
  return Buffer.from(parts.join(''));
}

/** `n` bytes of filler (cut on an ASCII boundary so no escape or UTF-8 sequence is split). */
export function fillerText(rng, filler, n) {
  n = Math.max(1, Math.min(n, filler.length - 64));
  let start = rng.int(0, filler.length - n - 32);
  while (start > 0 && filler[start - 1] !== 0x20) start--; // word start
  let end = start + n;
  while (end < filler.length && filler[end - 1] !== 0x20) end++; // word end
  return filler.toString('utf8', start, end);
}

/** A long text: filler repeated (for tool results of several MB). */
export function bigText(rng, filler, n) {
  if (n < filler.length / 2) return fillerText(rng, filler, n);
  const parts = [];
  let left = n;
  while (left > 0) {
    const piece = fillerText(rng, filler, Math.min(left, filler.length / 2));
    parts.push(piece);
    left -= piece.length;
  }
  return parts.join('');
}

// ---- writers ---------------------------------------------------------------------------------

class FileSink {
  constructor(file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'w');
    this.parts = [];
    this.pending = 0;
    this.bytes = 0;
  }
  line(s) {
    this.parts.push(s, '\n');
    const n = s.length + 1;
    this.pending += n;
    this.bytes += n;
    if (this.pending > 4 << 20) this.flush();
  }
  flush() {
    if (!this.parts.length) return;
    fs.writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.pending = 0;
  }
  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

const MODELS_CLAUDE = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001'];
const BRANCHES = ['main', 'feature/login', 'fix/crash', 'HEAD', 'perf', 'docs'];

function iso(ms) {
  return new Date(ms).toISOString();
}

/** Lines of a Claude Code transcript, turn by turn, until `budget` bytes. Returns what forks reuse. */
function writeClaude(rng, filler, sink, o) {
  const { sessionId, cwd, branch, budget, sidechain, agentId, prefix } = o;
  let t = o.startMs;
  let parent = null;
  const common = () =>
    `"isSidechain":${sidechain},"userType":"external","cwd":${JSON.stringify(cwd)},"sessionId":"${sessionId}","version":"2.0.${rng.int(10, 40)}","gitBranch":"${branch}"${agentId ? `,"agentId":"${agentId}"` : ''}`;
  const kept = [];
  if (prefix) {
    // A fork: the parent's history copied (same message ids and request ids), under this session id.
    for (const l of prefix) sink.line(l.replaceAll(o.prefixSession, sessionId));
  }
  if (!sidechain && !prefix) {
    sink.line(`{"type":"summary","summary":"Benchmark session ${sessionId.slice(0, 8)}","leafUuid":"${rng.uuid()}"}`);
  }
  while (sink.bytes < budget) {
    // the prompt
    const uuid = rng.uuid();
    t += rng.int(2_000, 120_000);
    const prompt = `{"parentUuid":${parent ? `"${parent}"` : 'null'},${common()},"type":"user","message":{"role":"user","content":"${fillerText(rng, filler, rng.int(40, 600))}"},"uuid":"${uuid}","timestamp":"${iso(t)}"}`;
    sink.line(prompt);
    if (kept.length < 40) kept.push(prompt);
    parent = uuid;
    const steps = rng.int(1, 6);
    for (let s = 0; s < steps && sink.bytes < budget; s++) {
      const msgId = `msg_${rng.hex(24)}`;
      const reqId = `req_${rng.hex(24)}`;
      const model = rng.pick(MODELS_CLAUDE);
      const input = rng.int(1, 30);
      const cacheRead = rng.int(10_000, 150_000);
      const cacheWrite = rng.int(0, 8_000);
      const output = rng.int(20, 2_000);
      // A streamed response: one line per content block, all with the message id and request id,
      // the usage repeated (the output count grows to the final one on the last line).
      const blocks = rng.int(1, 3);
      for (let b = 0; b < blocks; b++) {
        const last = b === blocks - 1;
        t += rng.int(200, 5_000);
        const u = rng.uuid();
        const content = last
          ? `{"type":"tool_use","id":"toolu_${rng.hex(24)}","name":"${rng.pick(['Bash', 'Read', 'Edit', 'Grep'])}","input":{"command":"${fillerText(rng, filler, rng.int(20, 300))}"}}`
          : b === 0
            ? `{"type":"thinking","thinking":"${fillerText(rng, filler, rng.int(100, 3_000))}","signature":"${rng.hex(80)}"}`
            : `{"type":"text","text":"${fillerText(rng, filler, rng.int(50, 2_000))}"}`;
        const line = `{"parentUuid":"${parent}",${common()},"message":{"id":"${msgId}","type":"message","role":"assistant","model":"${model}","content":[${content}],"stop_reason":${last ? '"tool_use"' : 'null'},"stop_sequence":null,"usage":{"input_tokens":${input},"cache_creation_input_tokens":${cacheWrite},"cache_read_input_tokens":${cacheRead},"cache_creation":{"ephemeral_5m_input_tokens":${cacheWrite},"ephemeral_1h_input_tokens":0},"output_tokens":${last ? output : Math.min(output, 8)},"service_tier":"standard"}},"requestId":"${reqId}","type":"assistant","uuid":"${u}","timestamp":"${iso(t)}"}`;
        sink.line(line);
        if (kept.length < 40) kept.push(line);
        parent = u;
      }
      // progress lines of a running tool or subagent, with a nested message and its usage (never counted)
      if (rng.next() < 0.3) {
        const n = rng.int(1, 4);
        for (let p = 0; p < n; p++) {
          t += rng.int(100, 2_000);
          sink.line(
            `{"parentUuid":"${parent}",${common()},"type":"progress","data":{"type":"agent_progress","message":{"type":"assistant","message":{"id":"msg_${rng.hex(24)}","model":"${model}","content":[{"type":"text","text":"${fillerText(rng, filler, rng.int(50, 1_500))}"}],"usage":{"input_tokens":${rng.int(1, 20)},"cache_read_input_tokens":${rng.int(1000, 50_000)},"output_tokens":${rng.int(1, 500)}}}}},"toolUseID":"toolu_${rng.hex(24)}","uuid":"${rng.uuid()}","timestamp":"${iso(t)}"}`,
          );
        }
      }
      // the tool result: mostly small, sometimes 50 KB to 5 MB on one line
      const size = rng.next() < 0.06 ? rng.logUniform(50_000, 5_000_000) : rng.logUniform(200, 20_000);
      const room = Math.max(200, budget - sink.bytes);
      t += rng.int(100, 30_000);
      const u = rng.uuid();
      sink.line(
        `{"parentUuid":"${parent}",${common()},"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_${rng.hex(24)}","type":"tool_result","content":"${bigText(rng, filler, Math.min(size, room))}","is_error":false}]},"uuid":"${u}","timestamp":"${iso(t)}","toolUseResult":{"stdout":"","stderr":"","interrupted":false}}`,
      );
      parent = u;
    }
    if (rng.next() < 0.5) {
      t += rng.int(100, 1_000);
      sink.line(
        `{"parentUuid":"${parent}",${common()},"type":"system","subtype":"turn_duration","durationMs":${rng.int(1000, 90_000)},"uuid":"${rng.uuid()}","timestamp":"${iso(t)}"}`,
      );
    }
  }
  return { kept, endMs: t };
}

/** A Codex rollout: session_meta, turns with token_usage_record + cumulative token_count. */
function writeCodex(rng, filler, sink, o) {
  const { threadId, cwd, budget } = o;
  let t = o.startMs;
  const tot = [0, 0, 0, 0, 0, 0];
  sink.line(
    `{"timestamp":"${iso(t)}","type":"session_meta","payload":{"id":"${threadId}","timestamp":"${iso(t)}","cwd":${JSON.stringify(cwd)},"originator":"codex_cli_rs","cli_version":"0.169.0","source":"cli","model_provider":"openai","base_instructions":{"text":"${fillerText(rng, filler, 4_000)}"},"git":{"branch":"${rng.pick(BRANCHES)}"}}}`,
  );
  while (sink.bytes < budget) {
    const turn = rng.uuid();
    t += rng.int(2_000, 60_000);
    sink.line(
      `{"timestamp":"${iso(t)}","type":"turn_context","payload":{"turn_id":"${turn}","cwd":${JSON.stringify(cwd)},"approval_policy":"on-request","model":"gpt-5-codex","effort":"medium","summary":"auto"}}`,
    );
    const text = fillerText(rng, filler, rng.int(40, 600));
    sink.line(
      `{"timestamp":"${iso(t)}","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"${text}"}]}}`,
    );
    sink.line(
      `{"timestamp":"${iso(t)}","type":"event_msg","payload":{"type":"user_message","message":"${text}","images":[]}}`,
    );
    const steps = rng.int(1, 5);
    for (let s = 0; s < steps && sink.bytes < budget; s++) {
      t += rng.int(500, 20_000);
      sink.line(
        `{"timestamp":"${iso(t)}","type":"response_item","payload":{"type":"reasoning","summary":[{"type":"summary_text","text":"${fillerText(rng, filler, rng.int(50, 800))}"}],"content":null,"encrypted_content":"${rng.hex(400)}"}}`,
      );
      const call = `call_${rng.hex(20)}`;
      sink.line(
        `{"timestamp":"${iso(t)}","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\\"cmd\\":\\"ls -la src/${rng.hex(8)}\\"}","call_id":"${call}"}}`,
      );
      const last = [rng.int(5_000, 120_000), 0, 0, rng.int(20, 3_000), 0, 0];
      last[1] = Math.floor(last[0] * rng.next() * 0.9);
      last[4] = Math.floor(last[3] * rng.next() * 0.5);
      last[5] = last[0] + last[3];
      for (let i = 0; i < 6; i++) tot[i] += last[i];
      const u = (a) =>
        `{"input_tokens":${a[0]},"cached_input_tokens":${a[1]},"cache_write_input_tokens":${a[2]},"output_tokens":${a[3]},"reasoning_output_tokens":${a[4]},"total_tokens":${a[5]}}`;
      sink.line(
        `{"timestamp":"${iso(t)}","type":"token_usage_record","payload":{"thread_id":"${threadId}","turn_id":"${turn}","session_id":"${threadId}","response_id":"resp_${rng.hex(24)}","usage":${u(last)}}}`,
      );
      sink.line(
        `{"timestamp":"${iso(t)}","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":${u(tot)},"last_token_usage":${u(last)},"model_context_window":272000},"rate_limits":null}}`,
      );
      const size = rng.next() < 0.05 ? rng.logUniform(50_000, 3_000_000) : rng.logUniform(100, 15_000);
      t += rng.int(100, 30_000);
      sink.line(
        `{"timestamp":"${iso(t)}","type":"response_item","payload":{"type":"function_call_output","call_id":"${call}","output":"${bigText(rng, filler, Math.min(size, Math.max(100, budget - sink.bytes)))}"}}`,
      );
    }
    sink.line(
      `{"timestamp":"${iso(t)}","type":"event_msg","payload":{"type":"task_complete","turn_id":"${turn}","last_agent_message":"${fillerText(rng, filler, 100)}"}}`,
    );
  }
}

/** A Gemini CLI chat log (.jsonl): metadata, messages with tokens, `$set` patches. */
function writeGemini(rng, filler, sink, o) {
  const { sessionId, budget } = o;
  let t = o.startMs;
  sink.line(
    `{"sessionId":"${sessionId}","projectHash":"${rng.hex(64)}","startTime":"${iso(t)}","lastUpdated":"${iso(t)}","kind":"main"}`,
  );
  while (sink.bytes < budget) {
    t += rng.int(2_000, 60_000);
    sink.line(
      `{"id":"${rng.uuid()}","timestamp":"${iso(t)}","type":"user","content":[{"text":"${fillerText(rng, filler, rng.int(40, 600))}"}]}`,
    );
    const steps = rng.int(1, 4);
    for (let s = 0; s < steps; s++) {
      t += rng.int(500, 20_000);
      const input = rng.int(5_000, 100_000);
      const output = rng.int(10, 2_000);
      const cached = Math.floor(input * rng.next() * 0.8);
      sink.line(
        `{"id":"${rng.uuid()}","timestamp":"${iso(t)}","type":"gemini","content":"${fillerText(rng, filler, rng.int(50, 2_000))}","thoughts":[],"tokens":{"input":${input},"output":${output},"cached":${cached},"thoughts":0,"tool":0,"total":${input + output}},"model":"gemini-2.5-pro"}`,
      );
      sink.line(`{"$set":{"lastUpdated":"${iso(t)}"}}`);
      sink.line(
        `{"id":"${rng.uuid()}","timestamp":"${iso(t)}","type":"user","content":[{"functionResponse":{"id":"run_${rng.hex(12)}","name":"run_shell_command","response":{"output":"${fillerText(rng, filler, rng.logUniform(100, 30_000))}"}}}]}`,
      );
    }
  }
}

/**
 * The corpus: `files` transcripts whose sizes follow a heavy tail and add up to `totalBytes`.
 * Mix by bytes, roughly: Claude Code 75% (of its files 15% subagents, 5% forks), Codex 20%,
 * Gemini 5% (Gemini logs are re-read whole on every change, so they are kept under 4 MB each).
 */
export function generateCorpus(home, totalBytes, files, seed) {
  const rng = new Rng(seed);
  const filler = makeFiller(rng, 4 << 20);
  const projects = Array.from({ length: 24 }, (_, i) => path.join(home, 'work', `project-${i}`));
  const weights = Array.from({ length: files }, () => rng.logUniform(1, 4_000));
  const sum = weights.reduce((a, b) => a + b, 0);
  const t0 = Date.parse('2026-06-01T00:00:00Z');
  const claudeSessions = [];
  const appendTargets = [];
  let written = 0;
  for (let i = 0; i < files; i++) {
    const budget = Math.max(2_000, Math.floor((weights[i] / sum) * totalBytes));
    const roll = rng.next();
    const startMs = t0 + rng.int(0, 150) * 86_400_000 + rng.int(0, 86_399_999);
    const cwd = rng.pick(projects);
    let sink;
    if (roll < 0.2) {
      const threadId = rng.uuid();
      const d = new Date(startMs);
      const dir = path.join(
        home,
        '.codex',
        'sessions',
        String(d.getUTCFullYear()),
        String(d.getUTCMonth() + 1).padStart(2, '0'),
        String(d.getUTCDate()).padStart(2, '0'),
      );
      sink = new FileSink(
        path.join(dir, `rollout-${d.toISOString().slice(0, 19).replaceAll(':', '-')}-${threadId}.jsonl`),
      );
      writeCodex(rng, filler, sink, { threadId, cwd, budget, startMs });
    } else if (roll < 0.25) {
      const sessionId = rng.uuid();
      const b = Math.min(budget, 4 << 20);
      sink = new FileSink(
        path.join(
          home,
          '.gemini',
          'tmp',
          path.basename(cwd),
          'chats',
          `session-${new Date(startMs).toISOString().slice(0, 16).replaceAll(':', '-')}-${sessionId.slice(0, 8)}.jsonl`,
        ),
      );
      writeGemini(rng, filler, sink, { sessionId, budget: b, startMs });
    } else {
      const projDir = path.join(home, '.claude', 'projects', cwd.replaceAll('/', '-'));
      const kind = rng.next();
      const branch = rng.pick(BRANCHES);
      if (kind < 0.15 && claudeSessions.length) {
        const parent = rng.pick(claudeSessions);
        const agentId = rng.hex(17);
        sink = new FileSink(path.join(parent.dir, parent.sessionId, 'subagents', `agent-${agentId}.jsonl`));
        writeClaude(rng, filler, sink, {
          sessionId: parent.sessionId,
          cwd,
          branch,
          budget,
          sidechain: true,
          agentId,
          startMs,
        });
      } else if (kind < 0.2 && claudeSessions.length) {
        const parent = rng.pick(claudeSessions);
        const sessionId = rng.uuid();
        sink = new FileSink(path.join(parent.dir, `${sessionId}.jsonl`));
        writeClaude(rng, filler, sink, {
          sessionId,
          cwd,
          branch,
          budget,
          sidechain: false,
          startMs,
          prefix: parent.kept,
          prefixSession: parent.sessionId,
        });
      } else {
        const sessionId = rng.uuid();
        const file = path.join(projDir, `${sessionId}.jsonl`);
        sink = new FileSink(file);
        const { kept } = writeClaude(rng, filler, sink, { sessionId, cwd, branch, budget, sidechain: false, startMs });
        claudeSessions.push({ sessionId, dir: projDir, kept });
        appendTargets.push({ file, sessionId, cwd });
      }
    }
    sink.close();
    written += sink.bytes;
  }
  return { bytes: written, files, appendTarget: appendTargets[Math.floor(appendTargets.length / 2)] };
}

/** One Claude transcript of `totalBytes` made of `lineBytes` tool-result lines (and their requests). */
export function generateBigFile(home, totalBytes, lineBytes, seed) {
  const rng = new Rng(seed + 1);
  const filler = makeFiller(rng, 4 << 20);
  const sessionId = rng.uuid();
  const file = path.join(home, '.claude', 'projects', '-work-big', `${sessionId}.jsonl`);
  const sink = new FileSink(file);
  const big = bigText(rng, filler, lineBytes);
  let t = Date.parse('2026-06-01T00:00:00Z');
  let n = 0;
  const common = `"isSidechain":false,"userType":"external","cwd":"/work/big","sessionId":"${sessionId}","version":"2.0.30","gitBranch":"main"`;
  while (sink.bytes < totalBytes) {
    t += 1000;
    sink.line(
      `{"parentUuid":null,${common},"message":{"id":"msg_${rng.hex(24)}","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_${n}","name":"Read","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"cache_creation_input_tokens":100,"cache_read_input_tokens":20000,"output_tokens":50}},"requestId":"req_${rng.hex(24)}","type":"assistant","uuid":"${rng.uuid()}","timestamp":"${iso(t)}"}`,
    );
    sink.line(
      `{"parentUuid":null,${common},"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_${n}","type":"tool_result","content":"${big}"}]},"uuid":"${rng.uuid()}","timestamp":"${iso(t)}"}`,
    );
    sink.flush(); // never hold more than one big line
    n++;
  }
  sink.close();
  return { bytes: sink.bytes, requests: n };
}
