import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { AgentEvent, MetaEvent } from '../model/events';
import { liveSignature, withLiveSnapshot } from '../sqlite/liveSnapshot';
import { findGithubLinks } from '../text';
import type { DiscoveredFile, DocumentSession, DocumentSourceAdapter, SourceEnv } from './types';
import { type Rec, isObject, LINK_SCAN_LIMIT } from './records';
import { agentRoots } from './roots';

/**
 * Cursor's agent CLI (`cursor-agent`): one SQLite store per chat,
 * `~/.cursor/chats/<md5(workspace path)>/<session uuid>/store.db`, next to `meta.json`
 * (`schemaVersion`, `title`, `createdAtMs`, `updatedAtMs`) and `prompt_history.json`.
 * No vendor documentation exists; shapes from shared/reference/agent-formats.md §6 and the public
 * reverse-engineering in skillsynchq/txcript (`docs/formats/cursor.md`, `src/harness/cursor.rs`,
 * `tests/integration/cursor.rs`: observed with cursor-agent 2026.06-2026.09):
 *
 * - `blobs(id, data)`: content-addressed (`id` = sha256 of `data`). JSON blobs are the messages, in
 *   `rowid` order: `{role: "system"|"user"|"assistant"|"tool", content}` with Vercel-AI-SDK-style
 *   parts (`text`, `reasoning`, `tool-call{toolCallId, toolName, args}`,
 *   `tool-result{toolCallId, result, isError}`), `providerOptions.cursor.modelName` on assistant
 *   messages or their parts, sometimes `createdAt` (epoch ms). Every assistant message has
 *   `"id": "1"`. User text is wrapped in `<user_query>…</user_query>`; a user message holding only
 *   `<user_info>…</user_info>` is context the CLI injected. The other blobs are protobuf (the turn
 *   graph and root state, whose messages are the JSON blobs again): not read, and counted.
 * - `meta(key, value)`: key "0" = the agent record `{agentId, name, createdAt, workspacePath,
 *   lastUsedModel, latestRootBlobId, mode}`, hex-encoded JSON (older stores: plain JSON).
 *
 * **No token counts, costs or request ids exist locally** (usage lives on Cursor's servers): no usage
 * rows, so tokens and API requests stay 0 for Cursor sessions. One cursor-agent process can serve
 * several chats (`usesSharedProcess`). The store is written live, in WAL mode: read through
 * liveSnapshot, never opened with SQLite, never written.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Files of a chat folder that make up its document. */
const CHAT_FILES = new Set(['store.db', 'store.db-wal', 'store.db-shm', 'meta.json']);

/** Tags of context the CLI puts in user messages (not typed by the person). */
const CONTEXT_TAGS =
  /^<(user_info|system_reminder|system-reminder|attached_files|additional_data|environment_details)>/;

export const cursorAdapter: DocumentSourceAdapter = {
  id: 'cursor',
  displayName: 'Cursor Agent',
  icon: 'target',
  format: 'document',
  traits: {
    sharedProcess: true,
    // Cursor runs hooks of its own (`~/.cursor/hooks.json`); Agent Handler installs none there.
    hooks: 'agent-only',
    costFigure: null,
    modelProvider: null,
    // The agent CLI's `~/.cursor` on every OS, and `$XDG_CONFIG_HOME/cursor` (lowercase, default
    // `~/.config/cursor`), where newer cursor-agent builds keep `chats/` (agentgrep's Cursor CLI
    // notes, 2026-05). The IDE's own state (`state.vscdb` under ~/Library/Application Support/Cursor,
    // %APPDATA%\Cursor or ~/.config/Cursor) is another format and is not read.
    defaultPaths: {
      linux: ['~/.cursor', '$XDG_CONFIG_HOME/cursor'],
      darwin: ['~/.cursor', '$XDG_CONFIG_HOME/cursor'],
      win32: ['%USERPROFILE%\\.cursor', '$XDG_CONFIG_HOME\\cursor'],
    },
  },

  roots(e: SourceEnv): string[] {
    return agentRoots(e, cursorAdapter);
  },

  watchDirs(root: string): string[] {
    return [path.join(root, 'chats')];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const rel = path.relative(path.join(root, 'chats'), filePath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    const parts = rel.split(path.sep);
    // <md5 of the workspace>/<session uuid>/{store.db[-wal|-shm], meta.json}: one document, the store.
    if (parts.length !== 3 || !CHAT_FILES.has(parts[2])) return null;
    const dir = path.dirname(filePath);
    return { path: path.join(dir, 'store.db'), root, session_id: parts[1], parent_session_id: null, agent_id: null };
  },

  async readDocument(file: DiscoveredFile): Promise<DocumentSession[]> {
    const chat = await withLiveSnapshot(file.path, (db) => readStore(db));
    const metaJson = await readMetaJson(path.join(path.dirname(file.path), 'meta.json'));
    const sessionId = file.session_id ?? str(chat.agent.agentId);
    if (!sessionId) throw new Error('no session id (folder name or agentId)');
    // meta.json says when the chat was last updated; without it, the store's last write does.
    const lastWrite = typeof metaJson.record?.updatedAtMs === 'number' ? null : await lastModified(file.path);
    const { events, skipped, skipReasons } = cursorEvents(sessionId, chat, metaJson.record, lastWrite);
    if (metaJson.error) skipReasons.push(metaJson.error);
    return [
      {
        session_id: sessionId,
        parent_session_id: null,
        agent_id: null,
        events,
        skipped: skipped + (metaJson.error ? 1 : 0),
        skip_reason: skipReasons.length ? skipReasons.join('; ') : null,
      },
    ];
  },

  async signature(file: DiscoveredFile): Promise<{ size: number; mtime_ms: number } | null> {
    return liveSignature(file.path, [path.join(path.dirname(file.path), 'meta.json')]);
  },

  resumeCommand(sessionId: string) {
    return UUID.test(sessionId) ? { command: 'cursor-agent', args: [`--resume=${sessionId}`] } : null;
  },
};

/** What a store holds: the agent record and the blobs in write order, JSON ones parsed. */
export interface CursorStore {
  agent: Rec;
  /** Why the agent record could not be read, if it could not. */
  agentError: string | null;
  messages: { id: string; message: Rec }[];
  /** Blobs starting with `{` that are not JSON objects (torn or unknown). */
  malformed: number;
  /** Binary (protobuf) blobs: Cursor's turn graph, not read. */
  binary: number;
}

export function readStore(db: Database): CursorStore {
  const tables = new Set(
    (db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((r) => String(r[0])),
  );
  if (!tables.has('blobs')) throw new Error('not a cursor-agent store (no blobs table)');
  let agent: Rec = {};
  let agentError: string | null = null;
  if (tables.has('meta')) {
    const stmt = db.prepare("SELECT value FROM meta WHERE key = '0'");
    try {
      if (stmt.step()) {
        const parsed = parseAgentRecord(stmt.get()[0]);
        if (parsed) agent = parsed;
        else agentError = 'meta "0" is neither JSON nor hex-encoded JSON';
      }
    } finally {
      stmt.free();
    }
  }
  const out: CursorStore = { agent, agentError, messages: [], malformed: 0, binary: 0 };
  const stmt = db.prepare('SELECT id, data FROM blobs ORDER BY rowid');
  try {
    while (stmt.step()) {
      const [id, data] = stmt.get();
      const text = blobText(data);
      if (text === null) {
        out.binary++;
        continue;
      }
      const obj = parseObject(text);
      if (obj) out.messages.push({ id: String(id), message: obj });
      else out.malformed++;
    }
  } finally {
    stmt.free();
  }
  return out;
}

/** A blob's text when it is JSON-looking (first non-blank byte `{`), else null (binary). */
function blobText(data: unknown): string | null {
  if (typeof data === 'string') return data.trimStart().startsWith('{') ? data : null;
  if (!(data instanceof Uint8Array)) return null;
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09)) i++;
  if (data[i] !== 0x7b) return null;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

/** The meta "0" value: hex-encoded JSON (current) or plain JSON (older stores). */
export function parseAgentRecord(v: unknown): Rec | null {
  const text = v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : typeof v === 'string' ? v : null;
  if (text === null) return null;
  const plain = parseObject(text);
  if (plain) return plain;
  const hex = text.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
  return parseObject(Buffer.from(hex, 'hex').toString('utf8'));
}

async function readMetaJson(p: string): Promise<{ record: Rec | null; error: string | null }> {
  let text: string;
  try {
    text = await fsp.readFile(p, 'utf8');
  } catch {
    return { record: null, error: null };
  }
  const record = parseObject(text);
  return record ? { record, error: null } : { record: null, error: 'meta.json is not a JSON object' };
}

/** The latest write to the store or its WAL (the chat's last activity when meta.json does not say). */
async function lastModified(dbPath: string): Promise<number | null> {
  let latest: number | null = null;
  for (const p of [dbPath, `${dbPath}-wal`]) {
    try {
      const st = await fsp.stat(p);
      latest = Math.max(latest ?? 0, st.mtimeMs);
    } catch {
      // absent
    }
  }
  return latest;
}

function iso(ms: unknown): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}

/** A chat's events: its facts, then its messages in write order, then its last activity. */
export function cursorEvents(
  sessionId: string,
  chat: CursorStore,
  metaJson: Rec | null,
  lastWriteMs: number | null,
): { events: AgentEvent[]; skipped: number; skipReasons: string[] } {
  const out: AgentEvent[] = [];
  const agent = chat.agent;
  const created = iso(metaJson?.createdAtMs) ?? iso(agent.createdAt);
  const meta: MetaEvent = { kind: 'meta', ts: created, session_id: sessionId };
  const cwd = str(agent.workspacePath);
  if (cwd) meta.cwd = cwd;
  const title = str(metaJson?.title)?.trim() || str(agent.name)?.trim();
  if (title) meta.ai_title = title;
  if (created) out.push({ kind: 'activity', ts: created });
  out.push(meta);

  for (const { message } of chat.messages) {
    const ts = iso(message.createdAt);
    if (ts) out.push({ kind: 'activity', ts });
    switch (message.role) {
      case 'user': {
        const text = promptText(message.content);
        if (text === null) break;
        out.push({ kind: 'user_prompt', ts, text, run_start: false });
        out.push({ kind: 'turn', ts, state: 'waiting_model' });
        linkMeta(text, ts, out);
        break;
      }
      case 'assistant': {
        let toolCalls = 0;
        let model = modelName(message);
        for (const part of Array.isArray(message.content) ? message.content : []) {
          if (!isObject(part)) continue;
          model ??= modelName(part);
          if (part.type === 'tool-call' && typeof part.toolCallId === 'string') {
            toolCalls++;
            out.push({ kind: 'tool_call', ts, id: part.toolCallId, name: str(part.toolName) ?? 'unknown' });
          } else if (part.type === 'text' && typeof part.text === 'string') {
            linkMeta(part.text, ts, out);
          }
        }
        if (typeof message.content === 'string') linkMeta(message.content, ts, out);
        if (model) out.push({ kind: 'meta', ts, model });
        out.push({ kind: 'turn', ts, state: toolCalls > 0 ? 'tool_running' : 'ended' });
        break;
      }
      case 'tool':
        // Tool results go back to the model.
        for (const part of Array.isArray(message.content) ? message.content : []) {
          if (isObject(part) && part.type === 'tool-result') linkMeta(resultText(part.result), ts, out);
        }
        out.push({ kind: 'turn', ts, state: 'waiting_model' });
        break;
      default:
        // system prompt, unknown roles: no conversational turn
        break;
    }
  }

  // The model the CLI last used wins over the per-message names (it is the chat's current one).
  const lastModel = str(agent.lastUsedModel);
  const updated = iso(metaJson?.updatedAtMs) ?? iso(lastWriteMs);
  if (lastModel) out.push({ kind: 'meta', ts: updated, model: lastModel });
  if (updated) out.push({ kind: 'activity', ts: updated });

  const skipReasons: string[] = [];
  if (chat.malformed) skipReasons.push(`${chat.malformed} blob(s) starting with "{" that are not JSON objects`);
  if (chat.binary)
    skipReasons.push(`${chat.binary} binary (protobuf turn-graph) blob(s) not read; their messages are the JSON blobs`);
  if (chat.agentError) skipReasons.push(chat.agentError);
  return { events: out, skipped: chat.malformed + chat.binary + (chat.agentError ? 1 : 0), skipReasons };
}

/**
 * What the person typed in a user message, or null for injected context: the text inside
 * `<user_query>` tags when present (a message may carry `<user_info>` context and the query
 * together), else the text unless it is a context block.
 */
export function promptText(content: unknown): string | null {
  const texts: string[] = [];
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    for (const p of content) if (isObject(p) && p.type === 'text' && typeof p.text === 'string') texts.push(p.text);
  }
  const joined = texts.join('\n');
  const queries = [...joined.matchAll(/<user_query>([\s\S]*?)<\/user_query>/g)].map((m) => m[1].trim()).filter(Boolean);
  if (queries.length) return queries.join('\n');
  const trimmed = joined.trim();
  if (!trimmed || CONTEXT_TAGS.test(trimmed)) return null;
  return trimmed;
}

function modelName(o: Rec): string | undefined {
  const po = isObject(o.providerOptions) ? o.providerOptions : null;
  const c = po && isObject(po.cursor) ? po.cursor : null;
  return c ? str(c.modelName) : undefined;
}

function resultText(r: unknown): string {
  if (typeof r === 'string') return r;
  if (Array.isArray(r)) return r.map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : '')).join('\n');
  return '';
}

function linkMeta(text: string, ts: string | null, out: AgentEvent[]): void {
  if (!text) return;
  const links = findGithubLinks(text.length > LINK_SCAN_LIMIT ? text.slice(0, LINK_SCAN_LIMIT) : text);
  if (!links.pr && !links.issue) return;
  const meta: MetaEvent = { kind: 'meta', ts };
  if (links.pr) meta.seen_pr_url = links.pr;
  if (links.issue) meta.seen_issue_url = links.issue;
  out.push(meta);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function parseObject(text: string): Rec | null {
  try {
    const o = JSON.parse(text) as unknown;
    return isObject(o) ? o : null;
  } catch {
    return null;
  }
}
