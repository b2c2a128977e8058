import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { AgentEvent, MetaEvent, UsageEvent } from '../model/events';
import type { TokenCounts } from '../model/session';
import { findGithubLinks } from '../text';
import type { DiscoveredFile, LineContext, LineSourceAdapter, SourceEnv } from './types';
import { type Rec, isObject, LINK_SCAN_LIMIT, num, str } from './records';
import { githubRepo, parseFlatYaml, titleText, workspaceMeta } from './copilotWorkspace';
import { agentRoots, envFolder, osPath } from './roots';

/**
 * GitHub Copilot CLI: `<root>/session-state/<session id>/events.jsonl` with a `workspace.yaml` beside
 * it (older versions: a flat `<root>/session-state/<session id>.jsonl`), root `$COPILOT_HOME` or
 * `~/.copilot`. Record shapes: shared/reference/agent-formats.md §7 and test/fixtures/copilot_cli/README.md.
 *
 * Tokens. Copilot keeps its per-request `assistant.usage` events ephemeral: normally they never reach
 * the file. The persisted totals are the `session.shutdown` record written when a process exits:
 * `modelMetrics.<model>.usage` and `.requests.count`, per model. So:
 *  - a session still running (or one that crashed, or left with `/new`) has no token totals yet;
 *  - `usage.inputTokens` (like each `assistant.usage.inputTokens` it sums) INCLUDES cache reads and
 *    writes: fresh input = inputTokens − cacheReadTokens − cacheWriteTokens;
 *  - a resumed session appends one shutdown per process. Recent versions carry the running total
 *    over (each shutdown is cumulative), older ones started from zero (each shutdown is one process):
 *    a shutdown whose every counter is ≥ the previous one's is taken as cumulative and only its
 *    increase counts; a shutdown with any counter lower is a fresh process and counts whole;
 *  - when per-request `assistant.usage` lines are in the file, each is a usage row of its own and the
 *    shutdown adds, per model, only what those rows did not already count (clamped at 0): each
 *    request counts once;
 *  - reasoning is inside `outputTokens` except for Gemini models, whose `reasoningTokens` are added.
 * `requests.cost` / `assistant.usage.cost` are premium-request multipliers and `totalNanoAiu` AI
 * credits, never dollars: neither becomes a cost. Models are priced from tokens, with the provider
 * taken from the model name (Copilot serves Anthropic, OpenAI, Google and xAI models).
 */

/** The specified record's name for the agent (settings keep their earlier key, `copilot_cli`). */
export const COPILOT_FRAMEWORK = 'copilot';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Copilot's placeholder before a model is resolved: never a model. */
const AUTO_MODEL = 'auto';

export const copilotAdapter: LineSourceAdapter = {
  id: COPILOT_FRAMEWORK,
  displayName: 'GitHub Copilot CLI',
  settingsKey: 'copilot_cli',
  icon: 'copilot',
  format: 'lines',
  traits: {
    sharedProcess: false,
    hooks: 'installable',
    costFigure: null,
    // It serves Anthropic, OpenAI, Google and xAI models: the provider comes from the model name.
    modelProvider: null,
    // `~/.copilot` on every OS (Windows: the user profile).
    defaultPaths: { linux: ['~/.copilot'], darwin: ['~/.copilot'], win32: ['%USERPROFILE%\\.copilot'] },
  },

  roots(e: SourceEnv): string[] {
    // Versions before the move to ~/.copilot honoured XDG_CONFIG_HOME / XDG_STATE_HOME
    // (`$XDG_CONFIG_HOME/.copilot`); newer ones migrate that folder on start. Only when set.
    const legacy = ['XDG_CONFIG_HOME', 'XDG_STATE_HOME'].map((name) => {
      const xdg = envFolder(e, name);
      return xdg && osPath(e).join(xdg, '.copilot');
    });
    return agentRoots(e, copilotAdapter, { overrides: [envFolder(e, 'COPILOT_HOME')], legacy });
  },

  watchDirs(root: string): string[] {
    return [path.join(root, 'session-state')];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const rel = path.relative(path.join(root, 'session-state'), filePath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    const parts = rel.split(path.sep);
    // session-state/<id>/events.jsonl
    if (parts.length === 2 && parts[1] === 'events.jsonl' && isSessionId(parts[0])) {
      return { path: filePath, root, session_id: parts[0], parent_session_id: null, agent_id: null };
    }
    // session-state/<id>.jsonl (older flat layout)
    if (parts.length === 1 && parts[0].endsWith('.jsonl')) {
      const stem = parts[0].slice(0, -'.jsonl'.length);
      if (isSessionId(stem)) return { path: filePath, root, session_id: stem, parent_session_id: null, agent_id: null };
    }
    return null;
  },

  async fileEvents(file: DiscoveredFile): Promise<AgentEvent[]> {
    if (path.basename(file.path) !== 'events.jsonl') return [];
    let text: string;
    try {
      text = await fsp.readFile(path.join(path.dirname(file.path), 'workspace.yaml'), 'utf8');
    } catch {
      return [];
    }
    const meta = workspaceMeta(parseFlatYaml(text));
    return meta ? [meta] : [];
  },

  parseLine(line: string, ctx: LineContext): AgentEvent[] | null {
    const rec = JSON.parse(line) as unknown;
    if (!isObject(rec) || typeof rec.type !== 'string' || !rec.type) return null;
    return copilotRecordEvents(rec, ctx);
  },

  resumeCommand(sessionId: string) {
    return UUID.test(sessionId) ? { command: 'copilot', args: ['--resume', sessionId] } : null;
  },
};

function isSessionId(s: string): boolean {
  return s.length > 0 && !s.startsWith('.') && !/\s/.test(s);
}

// ---- records ------------------------------------------------------------------------------------

/** Raw counters of one model as Copilot writes them (input cache-inclusive, x = reasoning) and a request count. */
interface Snap {
  i: number;
  o: number;
  r: number;
  w: number;
  x: number;
  n: number;
}

/** This adapter's per-file parse state (kept with the file's offset; see LineContext.state). */
interface CopilotState {
  /** Branch of the last working-directory context (per-request branch of usage rows). */
  branch?: string | null;
  /** A `session.resume` was seen: the next prompt starts a new process run. */
  resumed?: boolean;
  /** Main-agent tool calls started and not completed yet. */
  running?: string[];
  /** The last main-agent assistant message asked for tools. */
  asked_tools?: boolean;
  /** The file has `assistant.turn_start` records (versions before had none). */
  turns?: boolean;
  /** The last shutdown's raw per-model counters. */
  last_shutdown?: Record<string, Snap>;
  /** Per-request `assistant.usage` counters since the last shutdown, per model. */
  since_shutdown?: Record<string, Snap>;
}

function copilotRecordEvents(rec: Rec, ctx: LineContext): AgentEvent[] {
  const st = ctx.state as CopilotState;
  const ts = str(rec.timestamp) ?? null;
  const data: Rec = isObject(rec.data) ? rec.data : {};
  const sessionKey = ctx.file.session_id ?? 'unknown';
  // Events of a sub-agent carry `agentId` (older versions: `data.parentToolCallId`): they never
  // drive the session's status, prompts or model.
  const main = rec.agentId === undefined && data.parentToolCallId === undefined;
  const out: AgentEvent[] = [];

  const meta: MetaEvent = { kind: 'meta', ts };
  let hasMeta = false;
  const setMeta = <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => {
    if (v === undefined) return;
    meta[k] = v;
    hasMeta = true;
  };
  const turn = (state: 'waiting_model' | 'tool_running' | 'ended') => out.push({ kind: 'turn', ts, state });
  const links = (text: unknown) => {
    if (typeof text !== 'string' || !text.includes('github.com/')) return;
    const found = findGithubLinks(text.length > LINK_SCAN_LIMIT ? text.slice(0, LINK_SCAN_LIMIT) : text);
    if (found.pr) setMeta('seen_pr_url', found.pr);
    if (found.issue) setMeta('seen_issue_url', found.issue);
  };
  const model = (m: unknown) => {
    if (typeof m === 'string' && m && m !== AUTO_MODEL && main) setMeta('model', m);
  };

  switch (rec.type) {
    case 'session.start':
    case 'session.resume': {
      if (rec.type === 'session.start') {
        setMeta('session_id', str(data.sessionId) || undefined);
        setMeta('agent_version', str(data.copilotVersion) || undefined);
      } else {
        // Another process took the session up: its first prompt starts a new run, and whatever
        // turn the last process left open is over.
        st.resumed = true;
        st.running = [];
        if (main) turn('ended');
      }
      contextMeta(data.context, st, setMeta);
      model(data.selectedModel);
      // A process is running: its tokens are written only when it exits.
      pendingTotals(meta, true);
      hasMeta = true;
      break;
    }
    case 'session.context_changed':
      contextMeta(data, st, setMeta);
      break;
    case 'session.model_change':
      model(data.newModel);
      break;
    case 'session.title_changed':
      setMeta('ai_title', titleText(data.title));
      break;
    case 'user.message': {
      const text = str(data.content)?.trim();
      if (!text || !main) break;
      // A person typed it only when the message has no `source` (skills, other agents, commands
      // set one) and is no autopilot continuation.
      if (data.source === undefined && data.isAutopilotContinuation !== true) {
        out.push({ kind: 'user_prompt', ts, text, run_start: st.resumed === true });
        st.resumed = false;
        links(text);
      }
      // Typed or injected, the message starts the agent's loop.
      st.asked_tools = false;
      turn('waiting_model');
      break;
    }
    case 'assistant.turn_start':
      if (main) {
        st.turns = true;
        st.asked_tools = false;
        turn('waiting_model');
      }
      break;
    case 'assistant.message': {
      const requests = Array.isArray(data.toolRequests) ? data.toolRequests : [];
      let asked = false;
      for (const r of requests) {
        if (!isObject(r) || typeof r.toolCallId !== 'string') continue;
        asked = true;
        out.push({ kind: 'tool_call', ts, id: r.toolCallId, name: str(r.name) ?? 'unknown' });
      }
      links(data.content);
      model(data.model);
      if (main) {
        st.asked_tools = asked;
        if (asked) turn('tool_running');
        // Files without turn records (older versions): a message asking for no tool is the answer.
        else if (!st.turns) turn('ended');
      }
      break;
    }
    case 'tool.execution_start': {
      const id = str(data.toolCallId);
      if (!id) break;
      out.push({ kind: 'tool_call', ts, id, name: str(data.toolName) ?? 'unknown' });
      if (main) {
        st.running = [...new Set([...(st.running ?? []), id])];
        turn('tool_running');
      }
      break;
    }
    case 'tool.execution_complete': {
      const result = isObject(data.result) ? data.result : {};
      links(result.content);
      const id = str(data.toolCallId);
      if (main && id) {
        st.running = (st.running ?? []).filter((x) => x !== id);
        turn(st.running.length ? 'tool_running' : 'waiting_model');
      }
      break;
    }
    case 'assistant.turn_end':
      // A turn is one model call: after tool calls the loop asks the model again; a turn whose
      // message asked for no tool ends the agent's answer.
      if (main) turn(st.asked_tools ? 'waiting_model' : 'ended');
      break;
    case 'abort':
    case 'session.task_complete':
      if (main) {
        st.running = [];
        turn('ended');
      }
      break;
    case 'session.error':
    case 'model.call_failure':
      out.push({ kind: 'api_error', ts });
      break;
    case 'session.compaction_complete':
      if (data.success !== false) out.push({ kind: 'compaction', ts });
      if (main && num(data.postCompactionTokens)) setMeta('context', num(data.postCompactionTokens));
      break;
    case 'session.usage_info':
      if (main && num(data.currentTokens)) setMeta('context', num(data.currentTokens));
      break;
    case 'assistant.usage':
      requestUsage(rec, data, ts, main, sessionKey, st, out, setMeta);
      break;
    case 'session.shutdown':
      if (shutdownUsage(rec, data, ts, sessionKey, st, out)) {
        pendingTotals(meta, false);
        hasMeta = true;
      }
      model(data.currentModel);
      if (num(data.currentTokens)) setMeta('context', num(data.currentTokens));
      if (isObject(data.codeChanges)) {
        // Lines changed over the session (not per process): the last shutdown's figure stands.
        if (typeof data.codeChanges.linesAdded === 'number') setMeta('agent_lines_added', data.codeChanges.linesAdded);
        if (typeof data.codeChanges.linesRemoved === 'number')
          setMeta('agent_lines_removed', data.codeChanges.linesRemoved);
      }
      st.running = [];
      turn('ended');
      break;
    default:
      break;
  }
  if (ts) out.unshift({ kind: 'activity', ts });
  if (hasMeta) out.push(meta);
  return out;
}

/** cwd, branch and GitHub repository of a working-directory context (session.start/resume/context_changed). */
function contextMeta(
  ctx: unknown,
  st: CopilotState,
  setMeta: <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void,
): void {
  if (!isObject(ctx)) return;
  setMeta('cwd', str(ctx.cwd) || undefined);
  const branch = str(ctx.branch);
  if (branch) {
    st.branch = branch;
    setMeta('git_branch', branch);
  }
  setMeta('github_repo', githubRepo(ctx.repository, ctx.hostType));
}

// ---- tokens ------------------------------------------------------------------------------------

/**
 * Copilot's counters → token kinds. `inputTokens` includes cache reads and writes (the CLI sums
 * OpenAI-style `prompt_tokens`), so fresh input is the rest. Should a record ever give fewer input
 * tokens than cache tokens, its input cannot include them and is taken as fresh already.
 */
export function copilotTokens(
  inputTokens: number,
  outputTokens: number,
  cacheRead: number,
  cacheWrite: number,
): TokenCounts {
  const cached = cacheRead + cacheWrite;
  return {
    input: inputTokens >= cached ? inputTokens - cached : inputTokens,
    output: outputTokens,
    cache_read: cacheRead,
    cache_write: cacheWrite,
    cache_write_1h: 0,
  };
}

/** The price-list provider of a model Copilot serves (it serves several vendors' models). */
export function copilotProvider(model: string | null): string | null {
  if (!model) return null;
  const m = model.toLowerCase();
  if (m.startsWith('claude')) return 'anthropic';
  if (m.startsWith('gpt') || /^o\d/.test(m) || m.startsWith('codex')) return 'openai';
  if (m.startsWith('gemini')) return 'google';
  if (m.startsWith('grok')) return 'x-ai';
  return null;
}

function snapOf(usage: Rec, count: number): Snap {
  return {
    i: num(usage.inputTokens),
    o: num(usage.outputTokens),
    r: num(usage.cacheReadTokens),
    w: num(usage.cacheWriteTokens),
    x: num(usage.reasoningTokens),
    n: count,
  };
}

function addSnap(a: Snap | undefined, b: Snap): Snap {
  return a ? { i: a.i + b.i, o: a.o + b.o, r: a.r + b.r, w: a.w + b.w, x: a.x + b.x, n: a.n + b.n } : { ...b };
}

const FIELDS = ['i', 'o', 'r', 'w', 'x', 'n'] as const;

/**
 * Token kinds of a model's counters. Reasoning is part of `outputTokens` for Claude and GPT models;
 * Gemini reports its thoughts apart (ccusage's Copilot adapter, checked on real session-state
 * files), and the store counts reasoning as output, so it is added for gemini models only.
 */
function snapTokens(model: string | null, s: Snap): TokenCounts {
  const reasoning = model?.toLowerCase().startsWith('gemini') ? s.x : 0;
  return copilotTokens(s.i, s.o + reasoning, s.r, s.w);
}

/**
 * A usage row carrying how many requests it stands for. `request_count` is not (yet) a field of
 * UsageEvent: rows keep it for the store to sum once the shared model has it (see the adapter report).
 */
type CountedUsage = UsageEvent & { request_count: number };

/** One `assistant.usage` record (ephemeral in Copilot, present only if some writer persisted it). */
function requestUsage(
  rec: Rec,
  data: Rec,
  ts: string | null,
  main: boolean,
  sessionKey: string,
  st: CopilotState,
  out: AgentEvent[],
  setMeta: <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void,
): void {
  const model = str(data.model) || null;
  const raw = snapOf(data, 1);
  if (raw.i + raw.o + raw.r + raw.w + raw.x === 0) return;
  const callId = str(data.apiCallId) || str(data.providerCallId) || null;
  const key = `copilot:${sessionKey}:req:${callId ?? str(rec.id) ?? ts ?? `${raw.i}-${raw.o}`}`;
  const row: CountedUsage = {
    kind: 'usage',
    ts,
    dedup_key: key,
    message_id: callId,
    sidechain: !main,
    model,
    provider: copilotProvider(model),
    git_branch: st.branch ?? null,
    tokens: snapTokens(model, raw),
    speed: null,
    request_count: 1,
  };
  out.push(row);
  const k = model ?? '';
  st.since_shutdown = { ...(st.since_shutdown ?? {}), [k]: addSnap(st.since_shutdown?.[k], raw) };
  // The whole prompt of the last main request (inputTokens already includes the cache parts).
  if (main) setMeta('context', raw.i);
}

/**
 * Sets `token_totals_pending` on a meta event: true from a process start until its shutdown writes
 * the token totals. Not (yet) a MetaEvent field: the reducer ignores it until the shared model has
 * it (see the adapter report); the views would then say "no token totals until the session exits".
 */
function pendingTotals(meta: MetaEvent, pending: boolean): void {
  (meta as MetaEvent & { token_totals_pending?: boolean }).token_totals_pending = pending;
}

/**
 * A `session.shutdown`: what this process spent per model, less what per-request rows counted.
 * Returns whether it carried token totals.
 */
function shutdownUsage(
  rec: Rec,
  data: Rec,
  ts: string | null,
  sessionKey: string,
  st: CopilotState,
  out: AgentEvent[],
): boolean {
  const metrics = isObject(data.modelMetrics) ? data.modelMetrics : null;
  const snapshot: Record<string, Snap> = {};
  if (metrics) {
    for (const [model, m] of Object.entries(metrics)) {
      if (!isObject(m)) continue;
      const usage = isObject(m.usage) ? m.usage : {};
      const requests = isObject(m.requests) ? m.requests : {};
      snapshot[model] = snapOf(usage, num(requests.count));
    }
  }
  // A shutdown without metrics says nothing about tokens: the next one covers this process too.
  if (!Object.keys(snapshot).length) return false;

  const prev = st.last_shutdown;
  const cumulative =
    prev !== undefined &&
    Object.keys(prev).length > 0 &&
    Object.entries(prev).every(
      ([model, p]) => snapshot[model] !== undefined && FIELDS.every((f) => snapshot[model][f] >= p[f]),
    );
  const counted = st.since_shutdown ?? {};
  const eventId = str(rec.id) ?? ts ?? 'shutdown';
  for (const [model, snap] of Object.entries(snapshot)) {
    const before = cumulative ? prev![model] : undefined;
    const already = counted[model];
    const rest = {} as Snap;
    for (const f of FIELDS) rest[f] = Math.max(0, snap[f] - (before?.[f] ?? 0) - (already?.[f] ?? 0));
    if (rest.i + rest.o + rest.r + rest.w + rest.x === 0) continue;
    const row: CountedUsage = {
      kind: 'usage',
      ts,
      dedup_key: `copilot:${sessionKey}:shutdown:${eventId}:${model}`,
      message_id: null,
      sidechain: false,
      model,
      provider: copilotProvider(model),
      git_branch: st.branch ?? null,
      tokens: snapTokens(model, rest),
      speed: null,
      request_count: rest.n,
    };
    out.push(row);
  }
  st.last_shutdown = snapshot;
  st.since_shutdown = {};
  return true;
}

export { parseFlatYaml, workspaceMeta };
