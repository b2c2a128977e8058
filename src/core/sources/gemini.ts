import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { AgentEvent, MetaEvent, UsageEvent } from '../model/events';
import type { TokenCounts } from '../model/session';
import type { DiscoveredFile, DocumentSession, DocumentSourceAdapter, SourceEnv } from './types';
import { jsonLines } from './lineBytes';
import { type Rec, collectGithubLinks, isObject, num, str } from './records';
import { agentRoots, envFolder, osPath } from './roots';

/**
 * Gemini CLI: `<home>/.gemini/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<id8>.jsonl` (older
 * versions: one `session-*.json` document, migrated to `<same name>.jsonl` when resumed), subagents
 * in `chats/<parentSessionId>/<subSessionId>.jsonl`. Record shapes: shared/reference/agent-formats.md
 * §3 and gemini-cli's `chatRecordingService.ts` / `chatRecordingTypes.ts`.
 *
 * The .jsonl is a log whose later records rewrite earlier ones (the same message id appended again,
 * `$set` patches, `$set.messages` checkpoints, `$rewindTo`), so it is a `document`: replayed whole
 * on every change. What each fact is taken from:
 *  - **requests, tokens, tool calls, errors**: every message id the log ever carried, its last
 *    version that had them. A request whose message was later rewound, or restated without its
 *    tokens by a checkpoint, was still made and billed: a rewind undoes the conversation, not the bill
 *    (ccusage counts every gemini message with tokens by id, ignoring `$rewindTo`, too). Gemini
 *    CLI 0.61 restates the whole history on every resume as `$set.messages` *without* `tokens`,
 *    `model` or `toolCalls` (see the real fixture): the message list alone would lose every request
 *    made before the last resume.
 *  - **prompts** (count, first, last, title): the user messages the CLI recorded as records of their
 *    own, minus those a `$rewindTo` removed (the person undid them). A checkpoint restates or
 *    compresses the history; it undoes nothing the person did, so it removes no prompt, and the
 *    synthetic user turns it may add (a compression summary) are not prompts.
 *  - **turn state, model, context size**: the message list after every rule, i.e. the conversation
 *    as the CLI would load it, each message seen with everything its own records said.
 */

/** Tool call statuses that mean the call has not finished (gemini-cli scheduler `Status`). */
const PENDING_TOOL = new Set(['validating', 'scheduled', 'awaiting_approval', 'executing']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const geminiAdapter: DocumentSourceAdapter = {
  id: 'gemini',
  displayName: 'Gemini CLI',
  icon: 'star-full',
  format: 'document',
  traits: {
    sharedProcess: false,
    hooks: 'installable',
    costFigure: null,
    modelProvider: 'google',
    // `.gemini` in the home folder (`os.homedir()`) on every OS.
    defaultPaths: { linux: ['~/.gemini'], darwin: ['~/.gemini'], win32: ['%USERPROFILE%\\.gemini'] },
  },

  roots(e: SourceEnv): string[] {
    // GEMINI_CLI_HOME replaces the home folder the CLI puts `.gemini` in.
    const cliHome = envFolder(e, 'GEMINI_CLI_HOME');
    return agentRoots(e, geminiAdapter, { overrides: [cliHome && osPath(e).join(cliHome, '.gemini')] });
  },

  watchDirs(root: string): string[] {
    return [path.join(root, 'tmp')];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const rel = path.relative(path.join(root, 'tmp'), filePath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    const parts = rel.split(path.sep);
    const name = parts[parts.length - 1];
    // <project>/chats/session-*.jsonl | session-*.json
    if (
      parts.length === 3 &&
      parts[1] === 'chats' &&
      name.startsWith('session-') &&
      (name.endsWith('.jsonl') || name.endsWith('.json'))
    ) {
      // The name holds only the first 8 characters of the session id: the document says the rest.
      return { path: filePath, root, session_id: null, parent_session_id: null, agent_id: null };
    }
    // <project>/chats/<parentSessionId>/<subSessionId>.jsonl
    if (parts.length === 4 && parts[1] === 'chats' && name.endsWith('.jsonl')) {
      const stem = name.slice(0, -'.jsonl'.length);
      return { path: filePath, root, session_id: stem, parent_session_id: parts[2], agent_id: stem };
    }
    return null;
  },

  async readDocument(file: DiscoveredFile): Promise<DocumentSession[]> {
    let replay: GeminiReplay;
    if (file.path.endsWith('.json')) {
      // Resuming a legacy session appends the whole record to `<name>.jsonl` and goes on there:
      // once that file exists it holds everything this one does, and this one is not read.
      if (await exists(`${file.path}l`)) return [];
      const text = await fsp.readFile(file.path, 'utf8');
      if (!text.trim()) return [];
      // A corrupt or half-written document throws: the indexer counts it and tries again later.
      replay = replayLegacyDocument(JSON.parse(text) as unknown);
    } else {
      const lines = [...jsonLines(await fsp.readFile(file.path))];
      if (!lines.length) return [];
      replay = replayLines(lines);
    }
    const sessionId = replay.sessionId ?? file.session_id;
    if (!sessionId) throw new Error('no sessionId in any record');
    const cwd = await projectRoot(file);
    return [
      {
        session_id: sessionId,
        parent_session_id: file.parent_session_id,
        agent_id: file.agent_id,
        events: geminiEvents(replay, { sessionId, cwd, subagent: file.parent_session_id !== null }),
        // Counted by the replay, reported per file like any adapter's (Diagnostics lists them).
        skipped: replay.skipped,
        skip_reason: replay.skipped ? 'malformed or unknown record(s)' : null,
      },
    ];
  },

  async signature(file: DiscoveredFile): Promise<{ size: number; mtime_ms: number } | null> {
    const own = await statFile(file.path);
    if (!own || !file.path.endsWith('.json')) return own;
    // A legacy document also changes meaning when its migrated .jsonl appears or goes.
    const migrated = await statFile(`${file.path}l`);
    return migrated ? { size: own.size + migrated.size + 1, mtime_ms: Math.max(own.mtime_ms, migrated.mtime_ms) } : own;
  },

  resumeCommand(sessionId: string) {
    return UUID.test(sessionId) ? { command: 'gemini', args: ['--resume', sessionId] } : null;
  },
};

// ---- replay ---------------------------------------------------------------------------------------

/** Everything the log ever said about one message id. */
interface MessageHistory {
  id: string;
  type: string;
  /** Appended as a record of its own at least once (not only restated inside a checkpoint). */
  direct: boolean;
  /** Timestamp of its first own record (a checkpoint restates messages with new timestamps). */
  first_ts: string | null;
  /** Timestamp of its last own record. */
  last_ts: string | null;
  /** Its last own record (or, if it never had one, the version a checkpoint restated). */
  rec: Rec;
  /** Removed from the conversation by a `$rewindTo` (and not appended again since). */
  rewound: boolean;
  /** The first prompt after a metadata line other than the first: the session was resumed. */
  run_start: boolean;
  /** From the last version that carried them (checkpoints restate messages without them). */
  tokens: Rec | null;
  model: string | null;
  /** Tool calls by id, the last version of each. */
  tool_calls: Map<string, { name: string; status: string | null; ts: string | null }>;
}

export interface GeminiReplay {
  sessionId: string | null;
  summary: string | null;
  /** The conversation after every rule: message id → current version, in order. */
  list: Map<string, Rec>;
  /** Every message id the log ever carried, in order of first appearance. */
  history: Map<string, MessageHistory>;
  /** Every record timestamp, in log order. */
  activity: string[];
  /** Metadata lines seen (1 per process run that wrote to the file). */
  runs: number;
  /** Lines that were not JSON objects of a known kind. */
  skipped: number;
  links: { pr?: string; issue?: string };
}

function newReplay(): GeminiReplay {
  return {
    sessionId: null,
    summary: null,
    list: new Map(),
    history: new Map(),
    activity: [],
    runs: 0,
    skipped: 0,
    links: {},
  };
}

/** Replays the lines of a .jsonl chat in order; a line that is not a known record is skipped and counted. */
export function replayLines(lines: Iterable<string>): GeminiReplay {
  const r = newReplay();
  const st = { resumed: false };
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      r.skipped++; // a malformed line, or the last one half-written
      continue;
    }
    if (!applyRecord(r, rec, st)) r.skipped++;
  }
  return r;
}

/** A legacy `session-*.json`: one document `{sessionId, projectHash, startTime, lastUpdated, messages[], summary?}`. */
export function replayLegacyDocument(doc: unknown): GeminiReplay {
  if (!isObject(doc) || typeof doc.sessionId !== 'string') throw new Error('not a Gemini CLI chat document');
  const r = newReplay();
  const st = { resumed: false };
  const { messages, ...metadata } = doc;
  applyRecord(r, metadata, st);
  if (Array.isArray(messages)) {
    for (const m of messages) if (!applyRecord(r, m, st)) r.skipped++;
  }
  return r;
}

/** One record of the log; false when it is none of the four kinds. */
function applyRecord(r: GeminiReplay, rec: unknown, st: { resumed: boolean }): boolean {
  if (!isObject(rec)) return false;
  if (typeof rec.$rewindTo === 'string') {
    // Removes that message and everything after it; an unknown id clears the list (as the CLI's loader does).
    const ids = [...r.list.keys()];
    const at = ids.indexOf(rec.$rewindTo);
    for (const id of at === -1 ? ids : ids.slice(at)) {
      r.list.delete(id);
      const h = r.history.get(id);
      if (h) h.rewound = true;
    }
    return true;
  }
  if (typeof rec.id === 'string') {
    appendMessage(r, rec, true, st);
    return true;
  }
  if (isObject(rec.$set)) {
    const set = rec.$set;
    if (typeof set.sessionId === 'string') r.sessionId ??= set.sessionId;
    if (typeof set.summary === 'string' && set.summary.trim()) r.summary = set.summary.trim();
    if (typeof set.lastUpdated === 'string') r.activity.push(set.lastUpdated);
    if (Array.isArray(set.messages)) {
      // A checkpoint: the list is rebuilt from it. Messages it restates keep what their own records said.
      r.list.clear();
      for (const m of set.messages) if (isObject(m) && typeof m.id === 'string') appendMessage(r, m, false, st);
    }
    return true;
  }
  if (typeof rec.sessionId === 'string') {
    // The metadata line each process run writes first (a new session, or a resume of this one).
    r.sessionId ??= rec.sessionId;
    if (typeof rec.summary === 'string' && rec.summary.trim()) r.summary = rec.summary.trim();
    if (typeof rec.startTime === 'string') r.activity.push(rec.startTime);
    r.runs++;
    st.resumed = r.runs > 1;
    return true;
  }
  return false;
}

function appendMessage(r: GeminiReplay, rec: Rec, direct: boolean, st: { resumed: boolean }): void {
  const id = rec.id as string;
  const ts = str(rec.timestamp) ?? null;
  // The same id appended again replaces the message in place (last write wins).
  r.list.set(id, rec);
  let h = r.history.get(id);
  if (!h) {
    h = {
      id,
      type: str(rec.type) ?? 'unknown',
      direct: false,
      first_ts: null,
      last_ts: null,
      rec,
      rewound: false,
      run_start: false,
      tokens: null,
      model: null,
      tool_calls: new Map(),
    };
    r.history.set(id, h);
  }
  if (direct) {
    if (ts) r.activity.push(ts);
    if (!h.direct && h.type === 'user' && st.resumed && promptText(rec) !== null) {
      h.run_start = true;
      st.resumed = false;
    }
    // Its first own record's timestamp wins over one restated by an earlier checkpoint.
    h.first_ts = h.direct ? (h.first_ts ?? ts) : (ts ?? h.first_ts);
    h.last_ts = ts ?? h.last_ts;
    h.direct = true;
    h.rewound = false;
    h.rec = rec;
    h.type = str(rec.type) ?? h.type;
  } else {
    h.first_ts ??= ts;
    h.last_ts ??= ts;
    if (!h.direct) h.rec = rec;
  }
  // Any version may carry them; a later version without them (a checkpoint's) keeps the earlier ones.
  if (isObject(rec.tokens)) h.tokens = rec.tokens;
  if (typeof rec.model === 'string' && rec.model) h.model = rec.model;
  if (Array.isArray(rec.toolCalls)) {
    for (const tc of rec.toolCalls) {
      if (!isObject(tc) || typeof tc.id !== 'string') continue;
      h.tool_calls.set(tc.id, {
        name: str(tc.name) ?? 'unknown',
        status: str(tc.status) ?? null,
        ts: str(tc.timestamp) ?? ts,
      });
      collectGithubLinks(r.links, tc.resultDisplay);
      collectGithubLinks(r.links, tc.result);
    }
  }
  if (h.type === 'user' || h.type === 'gemini') collectGithubLinks(r.links, rec.displayContent ?? rec.content);
}

// ---- events ---------------------------------------------------------------------------------------

/**
 * Gemini's tokens → token kinds. `input` (promptTokenCount) includes the cached part, so fresh
 * input = input − cached. `tool` (toolUsePromptTokenCount: the prompt of built-in tools such as
 * search grounding) is NOT part of promptTokenCount (total = input + output + thoughts + tool) and is
 * billed as input, so it is added to the fresh input. `thoughts` are billed as output.
 */
export function geminiTokens(t: Rec): TokenCounts {
  const input = num(t.input);
  const cached = Math.min(num(t.cached), input);
  return {
    input: input - cached + num(t.tool),
    output: num(t.output) + num(t.thoughts),
    cache_read: cached,
    cache_write: 0,
    cache_write_1h: 0,
  };
}

export function geminiEvents(
  r: GeminiReplay,
  o: { sessionId: string; cwd: string | null; subagent: boolean },
): AgentEvent[] {
  const out: AgentEvent[] = [];
  const first = r.activity[0] ?? null;
  const head: MetaEvent = { kind: 'meta', ts: first, session_id: o.sessionId };
  if (o.cwd) head.cwd = o.cwd;
  out.push(head);
  for (const ts of r.activity) out.push({ kind: 'activity', ts });

  // What happened: every request, tool call and error the log carried, each once by id.
  for (const h of r.history.values()) {
    if (h.type === 'gemini' && h.tokens) {
      const usage: UsageEvent = {
        kind: 'usage',
        ts: h.first_ts,
        dedup_key: `gemini:${o.sessionId}:${h.id}`,
        message_id: h.id,
        // A subagent's own chat is a sidechain, as Claude's subagent files are.
        sidechain: o.subagent,
        model: h.model,
        git_branch: null,
        tokens: geminiTokens(h.tokens),
        speed: null,
      };
      out.push(usage);
    }
    for (const [id, tc] of h.tool_calls) out.push({ kind: 'tool_call', ts: tc.ts, id, name: tc.name });
    if (h.type === 'error' && h.direct) out.push({ kind: 'api_error', ts: h.first_ts });
  }

  // Prompts: what the person typed and did not rewind, in the order the CLI recorded it.
  for (const h of r.history.values()) {
    if (h.type !== 'user' || !h.direct || h.rewound) continue;
    const text = promptText(h.rec);
    if (text !== null) out.push({ kind: 'user_prompt', ts: h.first_ts, text, run_start: h.run_start });
  }

  // The conversation as it stands: model and context of its last answer, and the turn state.
  let model: string | null = null;
  let context: number | null = null;
  const list = [...r.list.keys()].map((id) => r.history.get(id)!);
  for (const h of list) {
    if (h.type !== 'gemini') continue;
    model = h.model ?? model;
    if (h.tokens) context = num(h.tokens.input) + num(h.tokens.tool);
  }
  // Rewound to before any answer: the model of the last request made is still the session's model.
  if (!model) for (const h of r.history.values()) if (h.type === 'gemini' && h.model) model = h.model;
  for (let i = list.length - 1; i >= 0; i--) {
    const state = turnAfter(list[i], r.list.get(list[i].id)!);
    if (state) {
      out.push({ kind: 'turn', ts: list[i].last_ts, state });
      break;
    }
  }

  const tail: MetaEvent = { kind: 'meta', ts: r.activity[r.activity.length - 1] ?? null };
  if (model) tail.model = model;
  if (context !== null) tail.context = context;
  if (r.summary) tail.ai_title = r.summary;
  if (r.links.pr) tail.seen_pr_url = r.links.pr;
  if (r.links.issue) tail.seen_issue_url = r.links.issue;
  out.push(tail);
  return out;
}

/**
 * Where the conversation stands after a message. A prompt or a tool result (a user message with
 * `functionResponse` parts) → waiting for the model. An error → the turn ended. A gemini message: a
 * tool call not finished → tool running; tools finished (their results go back to the model) →
 * waiting for the model, unless every one was cancelled; an answer with tokens and no tools → the
 * turn ended. Anything else (the injected `<session_context>`, info and warning notices, an answer
 * still streaming) says nothing: the message before it decides.
 */
function turnAfter(h: MessageHistory, current: Rec): 'waiting_model' | 'tool_running' | 'ended' | null {
  if (h.type === 'user')
    return hasFunctionResponse(current.content) || promptText(current) !== null ? 'waiting_model' : null;
  if (h.type === 'error') return 'ended';
  if (h.type !== 'gemini') return null;
  const calls = [...h.tool_calls.values()];
  if (calls.some((c) => c.status !== null && PENDING_TOOL.has(c.status))) return 'tool_running';
  if (calls.length) return calls.every((c) => c.status === 'cancelled') ? 'ended' : 'waiting_model';
  return h.tokens ? 'ended' : null;
}

/** What the person typed, or null for injected context, slash commands and tool results. */
export function promptText(rec: Rec): string | null {
  if (rec.type !== 'user' || hasFunctionResponse(rec.content)) return null;
  const text = partsText(rec.displayContent ?? rec.content).trim();
  if (!text) return null;
  if (text.startsWith('<session_context>')) return null;
  // The CLI treats every input starting with "/" (but not "//" or "/*") as a slash command.
  if (text.startsWith('/') && !text.startsWith('//') && !text.startsWith('/*')) return null;
  return text;
}

/** The text of a PartListUnion (a string, a part, or a list of them), thoughts left out. */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  const parts = Array.isArray(content) ? content : [content];
  const texts: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') texts.push(p);
    else if (isObject(p) && typeof p.text === 'string' && p.thought !== true) texts.push(p.text);
  }
  return texts.join('');
}

function hasFunctionResponse(content: unknown): boolean {
  const parts = Array.isArray(content) ? content : [content];
  return parts.some((p) => isObject(p) && p.functionResponse !== undefined);
}

// ---- project root (cwd) ---------------------------------------------------------------------------

/**
 * The project folder a chat belongs to. The chat does not say it: the project's temp folder holds
 * an ownership marker `.project_root`, and `<root>/projects.json` maps `{"projects": {"/abs": "slug"}}`.
 */
async function projectRoot(file: DiscoveredFile): Promise<string | null> {
  const rel = path.relative(path.join(file.root, 'tmp'), file.path);
  const project = rel.split(path.sep)[0];
  if (!project || project === '..') return null;
  try {
    const marker = (await fsp.readFile(path.join(file.root, 'tmp', project, '.project_root'), 'utf8')).trim();
    if (marker) return marker;
  } catch {
    // no marker (older versions)
  }
  try {
    const reg = JSON.parse(await fsp.readFile(path.join(file.root, 'projects.json'), 'utf8')) as unknown;
    const projects = isObject(reg) && isObject(reg.projects) ? reg.projects : {};
    for (const [root, slug] of Object.entries(projects)) if (slug === project) return root;
  } catch {
    // no registry, or unreadable: the cwd stays unknown
  }
  return null;
}

// ---- small helpers --------------------------------------------------------------------------------

async function exists(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function statFile(p: string): Promise<{ size: number; mtime_ms: number } | null> {
  try {
    const st = await fsp.stat(p);
    return st.isFile() ? { size: st.size, mtime_ms: st.mtimeMs } : null;
  } catch {
    return null;
  }
}
