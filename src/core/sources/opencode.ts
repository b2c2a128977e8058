import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { AgentEvent, MetaEvent } from '../model/events';
import { type TokenCounts, contextTokens, totalTokenCounts } from '../model/session';
import { liveSignature, withLiveSnapshot } from '../sqlite/liveSnapshot';
import { findGithubLinks } from '../text';
import type { DiscoveredFile, DocumentSession, DocumentSourceAdapter, SourceEnv } from './types';
import { type Rec, isObject, LINK_SCAN_LIMIT, str } from './records';
import { opencodeTokens, priceProvider } from './opencodeUsage';
import { agentRoots } from './roots';

/**
 * OpenCode (sst/opencode, now anomalyco/opencode): `$XDG_DATA_HOME/opencode` (default
 * `~/.local/share/opencode`, on macOS too). Shapes: shared/reference/agent-formats.md §4, checked
 * against a real OpenCode 1.18.33 store (test/fixtures/opencode/1.18.33, from shared/fixtures/real).
 *
 * - **Current (≥ 1.2)**: one SQLite database `opencode.db` (channel builds `opencode-<channel>.db`)
 *   in WAL mode, written live by OpenCode: read through liveSnapshot (the main file plus the
 *   committed WAL frames, never opened with SQLite, never written). Tables `session`, `message`
 *   (`data` = the message JSON without id/sessionID), `part` (`data` = the part JSON). The whole
 *   database is one document holding every session.
 * - **Legacy (< 1.2)**: a JSON tree `storage/session/<projectID>/<sessionID>.json`,
 *   `storage/message/<sessionID>/<messageID>.json`, `storage/part/<messageID>/<partID>.json`. One
 *   document per session file; its messages and parts are read from their folders. OpenCode 1.2
 *   migrated these into the database keeping every id, so a session present in both counts once
 *   (same dedup keys).
 *
 * What counts, and why:
 * - **Usage = one row per model call = one `step-finish` part** (its own `tokens` and `cost`), key
 *   `opencode:<messageID>:<partID>`. The assistant message's `tokens` are NOT added: OpenCode's
 *   processor does `assistantMessage.tokens = usage.tokens` at each step (overwritten by the last
 *   step, while `cost` accumulates), and writes a step-finish part with the same numbers. In 1.18.33
 *   every model call is its own assistant message with one step-finish whose tokens equal the
 *   message's (the fixture's five messages; their sum is the session row's tokens_* and `opencode
 *   export`'s totals); in older versions one message could hold several steps, where the message
 *   tokens would keep only the last. Only a message with no step-finish part (versions before step
 *   parts, or one cut short) falls back to its own tokens, key `opencode:<messageID>`.
 *   `tokens.input` excludes cache reads and writes (OpenCode subtracts cached tokens for providers
 *   that include them), `tokens.output` already includes reasoning (OpenCode adds Gemini's separate
 *   thoughts to it; `tokens.reasoning` is a breakdown and is not added again).
 * - OpenCode's title-generation call is not stored anywhere (the fake server saw 6 requests for
 *   5 steps): it cannot be counted.
 * - No git branch is stored: left empty (the working directory's branch is resolved by git).
 */

/** Top-level database names: `opencode.db`, `opencode-<channel>.db`, with their -wal/-shm. */
const DB_NAME = /^(opencode(?:-[A-Za-z0-9._-]+)?\.db)(?:-wal|-shm)?$/;

/** OpenCode's placeholder titles before the title model answers. */
const PLACEHOLDER_TITLE = /^(New session|Child session) - \d{4}-\d\d-\d\dT/;

/** The adapter object; `ignoreDirs` keeps the walk and the watcher out of its big snapshot folders. */
export const opencodeAdapter: DocumentSourceAdapter & { ignoreDirs(root: string): string[] } = {
  id: 'opencode',
  displayName: 'OpenCode',
  icon: 'code',
  format: 'document',
  traits: {
    sharedProcess: false,
    // Plugins subscribe to its events; Agent Handler installs none.
    hooks: 'agent-only',
    costFigure: null,
    modelProvider: null,
    // The XDG data folder on every OS (xdg-basedir: not ~/Library on macOS, not %APPDATA% on Windows),
    // and its default even when $XDG_DATA_HOME points elsewhere.
    defaultPaths: {
      linux: ['$XDG_DATA_HOME/opencode', '~/.local/share/opencode'],
      darwin: ['$XDG_DATA_HOME/opencode', '~/.local/share/opencode'],
      win32: ['$XDG_DATA_HOME\\opencode', '%USERPROFILE%\\.local\\share\\opencode'],
    },
  },

  roots(e: SourceEnv): string[] {
    return agentRoots(e, opencodeAdapter);
  },

  // The database sits at the top of the data folder, so the whole folder is watched.
  watchDirs(root: string): string[] {
    return [root];
  },

  /**
   * Folders below the root not to walk or watch: big ones that never hold sessions (git snapshots,
   * logs, the binary cache), and the legacy message and part trees, which a legacy session's
   * signature() reads itself (so a change there is seen at the next scan, and the tree, one file per
   * part, is not walked every time).
   */
  ignoreDirs(root: string): string[] {
    return [
      'snapshot',
      'log',
      'bin',
      'tool-output',
      'worktree',
      path.join('storage', 'message'),
      path.join('storage', 'part'),
      path.join('storage', 'session', 'message'),
      path.join('storage', 'session', 'part'),
    ].map((d) => path.join(root, d));
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const rel = path.relative(root, filePath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    const parts = rel.split(path.sep);
    if (parts.length === 1) {
      const m = DB_NAME.exec(parts[0]);
      // The -wal and -shm belong to their database's document (signature() covers the WAL).
      return m
        ? { path: path.join(root, m[1]), root, session_id: null, parent_session_id: null, agent_id: null }
        : null;
    }
    // storage/session/<projectID>/<sessionID>.json
    if (parts.length === 4 && parts[0] === 'storage' && parts[1] === 'session' && /^ses_[\w-]+\.json$/.test(parts[3])) {
      return { path: filePath, root, session_id: parts[3].slice(0, -5), parent_session_id: null, agent_id: null };
    }
    return null;
  },

  async readDocument(file: DiscoveredFile): Promise<DocumentSession[]> {
    if (isLegacySessionFile(file)) return [await readLegacySession(file)];
    return withLiveSnapshot(file.path, (db) => readDatabase(db));
  },

  async signature(file: DiscoveredFile): Promise<{ size: number; mtime_ms: number } | null> {
    if (isLegacySessionFile(file)) return legacySignature(file);
    return liveSignature(file.path);
  },

  resumeCommand(sessionId: string) {
    return /^ses_[A-Za-z0-9]+$/.test(sessionId) ? { command: 'opencode', args: ['--session', sessionId] } : null;
  },
};

function isLegacySessionFile(file: DiscoveredFile): boolean {
  return file.session_id !== null;
}

// ---- normalized rows (from the database or the legacy tree) ---------------------------------------

interface OcSession {
  id: string;
  parent_id: string | null;
  title: string | null;
  directory: string | null;
  version: string | null;
  agent: string | null;
  time_created: number | null;
  time_updated: number | null;
  additions: number | null;
  deletions: number | null;
}

interface OcMessage {
  id: string;
  session_id: string;
  /** The row's time_created (database), else the message's time.created. */
  time_created: number | null;
  data: Rec;
}

interface OcPart {
  id: string;
  message_id: string;
  time_created: number | null;
  /** The part JSON, reduced to what is read (see slimPart). */
  data: Rec;
}

// ---- the SQLite store ------------------------------------------------------------------------------

function* rows(db: Database, sql: string): Generator<Rec> {
  const stmt = db.prepare(sql);
  try {
    while (stmt.step()) yield stmt.getAsObject() as Rec;
  } finally {
    stmt.free();
  }
}

function tableColumns(db: Database, table: string): Set<string> {
  return new Set([...rows(db, `PRAGMA table_info(${table})`)].map((r) => String(r.name)));
}

/** Every session of an OpenCode database, with its events. */
export function readDatabase(db: Database): DocumentSession[] {
  const cols = tableColumns(db, 'session');
  if (!cols.has('id')) throw new Error('not an OpenCode database (no session table)');
  const col = (c: string) => (cols.has(c) ? c : `NULL AS ${c}`);
  const sessions: OcSession[] = [];
  for (const r of rows(
    db,
    `SELECT id, ${col('parent_id')}, ${col('title')}, ${col('directory')}, ${col('version')}, ${col('agent')},
       ${col('time_created')}, ${col('time_updated')}, ${col('summary_additions')}, ${col('summary_deletions')}
     FROM session ORDER BY time_created, id`,
  )) {
    sessions.push({
      id: String(r.id),
      parent_id: strOrNull(r.parent_id),
      title: strOrNull(r.title),
      directory: strOrNull(r.directory),
      version: strOrNull(r.version),
      agent: strOrNull(r.agent),
      time_created: numOrNull(r.time_created),
      time_updated: numOrNull(r.time_updated),
      additions: numOrNull(r.summary_additions),
      deletions: numOrNull(r.summary_deletions),
    });
  }

  const skipped = new Map<string, { n: number; reason: string }>();
  const skip = (sessionId: string, reason: string) =>
    skipped.set(sessionId, { n: (skipped.get(sessionId)?.n ?? 0) + 1, reason });
  const messages = new Map<string, OcMessage[]>();
  for (const r of rows(
    db,
    'SELECT id, session_id, time_created, data FROM message ORDER BY session_id, time_created, id',
  )) {
    const sessionId = String(r.session_id);
    const data = parseObject(r.data);
    if (!data) {
      skip(sessionId, `message ${String(r.id)}: data is not a JSON object`);
      continue;
    }
    push(messages, sessionId, {
      id: String(r.id),
      session_id: sessionId,
      time_created: numOrNull(r.time_created),
      data,
    });
  }
  const parts = new Map<string, OcPart[]>();
  for (const r of rows(db, 'SELECT id, message_id, session_id, time_created, data FROM part ORDER BY message_id, id')) {
    const data = parseObject(r.data);
    if (!data) {
      skip(String(r.session_id), `part ${String(r.id)}: data is not a JSON object`);
      continue;
    }
    push(parts, String(r.message_id), {
      id: String(r.id),
      message_id: String(r.message_id),
      time_created: numOrNull(r.time_created),
      data: slimPart(data),
    });
  }

  return sessions.map((s) => ({
    ...sessionDocument(s, messages.get(s.id) ?? [], parts),
    skipped: skipped.get(s.id)?.n ?? 0,
    skip_reason: skipped.get(s.id)?.reason ?? null,
  }));
}

/**
 * Keeps what the adapter reads of a part: tool outputs and texts only as far as links are searched,
 * so a store full of big tool outputs and attachments does not stay in memory.
 */
function slimPart(p: Rec): Rec {
  const type = str(p.type);
  switch (type) {
    case 'text':
      return { type, text: clip(str(p.text)), synthetic: p.synthetic, ignored: p.ignored };
    case 'tool': {
      const st = isObject(p.state) ? p.state : {};
      return {
        type,
        callID: p.callID,
        tool: p.tool,
        state: { status: st.status, output: clip(str(st.output)), time: st.time },
      };
    }
    case 'step-finish':
      return { type, tokens: p.tokens, cost: p.cost, reason: p.reason };
    case 'retry':
      return { type, attempt: p.attempt, time: p.time };
    case 'compaction':
      return { type, auto: p.auto };
    default:
      return { type };
  }
}

// ---- the legacy JSON tree --------------------------------------------------------------------------

/** `<root>/storage`, from a session file's path `<root>/storage/session/<projectID>/<id>.json`. */
function storageDir(file: DiscoveredFile): string {
  return path.dirname(path.dirname(path.dirname(file.path)));
}

/** Message folders of a session: current legacy layout, and the older `storage/session/message/`. */
function messageDirs(storage: string, sessionId: string): string[] {
  return [path.join(storage, 'message', sessionId), path.join(storage, 'session', 'message', sessionId)];
}

function partDirs(storage: string, sessionId: string, messageId: string): string[] {
  return [path.join(storage, 'part', messageId), path.join(storage, 'session', 'part', sessionId, messageId)];
}

async function jsonFiles(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir))
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

async function readJsonObject(p: string): Promise<Rec | null> {
  try {
    return parseObject(await fsp.readFile(p, 'utf8'));
  } catch {
    return null;
  }
}

async function readLegacySession(file: DiscoveredFile): Promise<DocumentSession> {
  // The session file itself must parse: a corrupt one throws, and the indexer counts it.
  const info = parseObject(await fsp.readFile(file.path, 'utf8'));
  if (!info) throw new Error('session file is not a JSON object');
  const id = str(info.id) ?? file.session_id!;
  const time = isObject(info.time) ? info.time : {};
  const summary = isObject(info.summary) ? info.summary : {};
  const session: OcSession = {
    id,
    parent_id: str(info.parentID) ?? null,
    title: str(info.title) ?? null,
    directory: str(info.directory) ?? null,
    version: str(info.version) ?? null,
    agent: null,
    time_created: numOrNull(time.created),
    time_updated: numOrNull(time.updated),
    additions: numOrNull(summary.additions),
    deletions: numOrNull(summary.deletions),
  };
  const storage = storageDir(file);
  let skipped = 0;
  let skipReason: string | null = null;
  const messages: OcMessage[] = [];
  const parts = new Map<string, OcPart[]>();
  for (const dir of messageDirs(storage, id)) {
    for (const mp of await jsonFiles(dir)) {
      const data = await readJsonObject(mp);
      if (!data) {
        skipped++;
        skipReason = `${path.basename(mp)}: not a JSON object`;
        continue;
      }
      const mid = str(data.id) ?? path.basename(mp, '.json');
      const mtime = isObject(data.time) ? numOrNull(data.time.created) : null;
      messages.push({ id: mid, session_id: id, time_created: mtime, data });
      for (const pdir of partDirs(storage, id, mid)) {
        for (const pp of await jsonFiles(pdir)) {
          const pd = await readJsonObject(pp);
          if (!pd) {
            skipped++;
            skipReason = `${path.basename(pp)}: not a JSON object`;
            continue;
          }
          push(parts, mid, {
            id: str(pd.id) ?? path.basename(pp, '.json'),
            message_id: mid,
            time_created: null,
            data: slimPart(pd),
          });
        }
      }
    }
  }
  messages.sort((a, b) => (a.time_created ?? 0) - (b.time_created ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const list of parts.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ...sessionDocument(session, messages, parts), skipped, skip_reason: skipReason };
}

/**
 * The session file, its message folder and files, and its part folders: a part rewritten in place
 * is followed by a rewrite of its message (OpenCode writes the message at each step's end).
 */
async function legacySignature(file: DiscoveredFile): Promise<{ size: number; mtime_ms: number } | null> {
  let own;
  try {
    own = await fsp.stat(file.path);
  } catch {
    return null;
  }
  let size = own.size;
  let mtime = own.mtimeMs;
  const add = async (p: string) => {
    try {
      const s = await fsp.stat(p);
      size += s.isFile() ? s.size : 1;
      mtime = Math.max(mtime, s.mtimeMs);
    } catch {
      // absent
    }
  };
  const storage = storageDir(file);
  const id = file.session_id!;
  for (const dir of messageDirs(storage, id)) {
    await add(dir);
    for (const mp of await jsonFiles(dir)) {
      await add(mp);
      for (const pdir of partDirs(storage, id, path.basename(mp, '.json'))) await add(pdir);
    }
  }
  return { size, mtime_ms: mtime };
}

// ---- events ----------------------------------------------------------------------------------------

function iso(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}

/** One session's events, in order: its facts, then each message with its parts. */
function sessionDocument(s: OcSession, messages: OcMessage[], partsByMessage: Map<string, OcPart[]>): DocumentSession {
  const out: AgentEvent[] = [];
  const created = iso(s.time_created);
  const meta: MetaEvent = { kind: 'meta', ts: created, session_id: s.id };
  if (s.parent_id) meta.parent_session_id = s.parent_id;
  if (s.directory) meta.cwd = s.directory;
  if (s.version) meta.agent_version = s.version;
  if (s.title && !PLACEHOLDER_TITLE.test(s.title)) meta.ai_title = s.title;
  if (s.additions !== null) meta.agent_lines_added = s.additions;
  if (s.deletions !== null) meta.agent_lines_removed = s.deletions;
  if (created) out.push({ kind: 'activity', ts: created });
  out.push(meta);

  const hasCompactionPart = (messageId: string | undefined) =>
    !!messageId && (partsByMessage.get(messageId) ?? []).some((p) => p.data.type === 'compaction');
  let agentName: string | null = s.agent;

  for (const m of messages) {
    const d = m.data;
    const time = isObject(d.time) ? d.time : {};
    const ts = iso(numOrNull(time.created) ?? m.time_created);
    const parts = partsByMessage.get(m.id) ?? [];
    if (ts) out.push({ kind: 'activity', ts });
    if (d.role === 'user') {
      userEvents(parts, ts, out);
    } else if (d.role === 'assistant') {
      agentName ??= str(d.agent) ?? str(d.mode) ?? null;
      assistantEvents(m, parts, ts, iso(numOrNull(time.completed)), out);
      // A summary message answers a compaction request (counted by its compaction part), or, in
      // versions before compaction parts, is the compaction itself.
      if (d.summary === true && !hasCompactionPart(str(d.parentID))) out.push({ kind: 'compaction', ts });
    }
  }
  const updated = iso(s.time_updated);
  if (updated) out.push({ kind: 'activity', ts: updated });
  return {
    session_id: s.id,
    parent_session_id: s.parent_id,
    // A child (task tool) session is a subagent: the agent that ran it names it.
    agent_id: s.parent_id ? agentName : null,
    events: out,
  };
}

function userEvents(parts: OcPart[], ts: string | null, out: AgentEvent[]): void {
  const texts: string[] = [];
  for (const p of parts) {
    const d = p.data;
    if (d.type === 'compaction') {
      out.push({ kind: 'compaction', ts });
    } else if (d.type === 'text' && d.synthetic !== true && d.ignored !== true) {
      const t = str(d.text)?.trim();
      if (t) texts.push(t);
    }
  }
  if (texts.length) {
    const text = texts.join('\n');
    out.push({ kind: 'user_prompt', ts, text, run_start: false });
    linkMeta(text, ts, out);
  }
  // A prompt, a compaction request or an automatic continuation: the model is asked next.
  out.push({ kind: 'turn', ts, state: 'waiting_model' });
}

function assistantEvents(
  m: OcMessage,
  parts: OcPart[],
  ts: string | null,
  completedTs: string | null,
  out: AgentEvent[],
): void {
  const d = m.data;
  const modelId = str(d.modelID) ?? null;
  const { provider, model: priceModel } = priceProvider(str(d.providerID) ?? null, modelId);
  let toolRunning = false;
  let lastTokens: TokenCounts | null = null;
  let steps = 0;
  for (const p of parts) {
    const pd = p.data;
    const pts = iso(p.time_created) ?? completedTs ?? ts;
    switch (pd.type) {
      case 'tool': {
        const st = isObject(pd.state) ? pd.state : {};
        const id = str(pd.callID) ?? p.id;
        out.push({ kind: 'tool_call', ts: pts, id, name: str(pd.tool) ?? 'unknown' });
        if (st.status === 'pending' || st.status === 'running') toolRunning = true;
        const output = str(st.output);
        if (output) linkMeta(output, pts, out);
        break;
      }
      case 'text': {
        const t = str(pd.text);
        if (t) linkMeta(t, pts, out);
        break;
      }
      case 'retry':
        // A failed API attempt OpenCode retried.
        out.push({ kind: 'api_error', ts: pts });
        break;
      case 'step-finish': {
        const tokens = opencodeTokens(pd.tokens);
        steps++;
        lastTokens = tokens;
        out.push({
          kind: 'usage',
          ts: pts,
          dedup_key: `opencode:${m.id}:${p.id}`,
          message_id: m.id,
          sidechain: false,
          model: priceModel,
          provider,
          git_branch: null,
          tokens,
          speed: null,
          vendor_cost_usd: positive(pd.cost),
        });
        break;
      }
      default:
        break;
    }
  }
  if (steps === 0 && isObject(d.tokens)) {
    const tokens = opencodeTokens(d.tokens);
    if (totalTokenCounts(tokens) > 0) {
      lastTokens = tokens;
      out.push({
        kind: 'usage',
        ts: completedTs ?? ts,
        dedup_key: `opencode:${m.id}`,
        message_id: m.id,
        sidechain: false,
        model: priceModel,
        provider,
        git_branch: null,
        tokens,
        speed: null,
        vendor_cost_usd: positive(d.cost),
      });
    }
  }
  const meta: MetaEvent = { kind: 'meta', ts: completedTs ?? ts };
  if (modelId) meta.model = modelId;
  if (lastTokens) meta.context = contextTokens(lastTokens);
  const cwd = isObject(d.path) ? str(d.path.cwd) : undefined;
  if (cwd) meta.cwd = cwd;
  if (meta.model !== undefined || meta.context !== undefined || meta.cwd !== undefined) out.push(meta);

  const err = isObject(d.error) ? d.error : null;
  // An abort is the person pressing Escape, not an API error.
  if (err && err.name !== 'MessageAbortedError') out.push({ kind: 'api_error', ts: completedTs ?? ts });

  if (completedTs) out.push({ kind: 'activity', ts: completedTs });
  // Where the conversation stands after this message.
  if (!completedTs && !err) {
    out.push({ kind: 'turn', ts, state: toolRunning ? 'tool_running' : 'waiting_model' });
  } else if (!err && d.finish === 'tool-calls') {
    // The step asked for tools that ran; OpenCode's loop calls the model again with their results.
    out.push({ kind: 'turn', ts: completedTs, state: 'waiting_model' });
  } else {
    out.push({ kind: 'turn', ts: completedTs ?? ts, state: 'ended' });
  }
}

function linkMeta(text: string, ts: string | null, out: AgentEvent[]): void {
  const links = findGithubLinks(text.length > LINK_SCAN_LIMIT ? text.slice(0, LINK_SCAN_LIMIT) : text);
  if (!links.pr && !links.issue) return;
  const meta: MetaEvent = { kind: 'meta', ts };
  if (links.pr) meta.seen_pr_url = links.pr;
  if (links.issue) meta.seen_issue_url = links.issue;
  out.push(meta);
}

// ---- small helpers ---------------------------------------------------------------------------------

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function positive(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

function clip(s: string | undefined): string | undefined {
  return s !== undefined && s.length > LINK_SCAN_LIMIT ? s.slice(0, LINK_SCAN_LIMIT) : s;
}

function parseObject(v: unknown): Rec | null {
  if (typeof v !== 'string') return null;
  try {
    const o = JSON.parse(v) as unknown;
    return isObject(o) ? o : null;
  } catch {
    return null;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export { opencodeTokens, priceProvider };
