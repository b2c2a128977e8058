import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { githubRepoFromRemote } from '../git/repo';
import type { AgentEvent, MetaEvent, TurnEvent } from '../model/events';
import { findGithubLinks } from '../text';
import type { DiscoveredFile, LineContext, LineSourceAdapter, SourceEnv } from './types';
import { type Rec, isObject, LINK_SCAN_LIMIT, str } from './records';
import { agentRoots, envFolder } from './roots';
import {
  type Tuple,
  add,
  codexTokens,
  contextOf,
  sameTuple,
  sameUsage,
  staleSnapshot,
  sub,
  tupleKey,
  tupleOf,
  uuidV7Ms,
  within,
} from './codexTokens';

export { codexTokens, uuidV7Ms };

/**
 * OpenAI Codex CLI (also its IDE extension and Desktop app, same store): one rollout file per
 * thread, `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<thread uuid>.jsonl`, moved to
 * `$CODEX_HOME/archived_sessions/` (flat or the same relative path) when the thread is archived.
 * Record shapes: shared/reference/agent-formats.md §2.
 *
 * Usage. Every model response is recorded by `event_msg/token_count` (cumulative
 * `total_token_usage` + the response's `last_token_usage`), and since ~0.16x also by a top-level
 * `token_usage_record` (`response_id`, `usage`) written just before it. Both records of one
 * response give ONE usage event: a record waits in the parse state for the token_count that follows
 * it with the same usage (or one that came just before it), and the pair is keyed like the
 * token_count alone. The key is the thread that made the request plus the cumulative tuple after it
 * (`codex:<thread>:<input>/<cached>/<cache write>/<output>/<reasoning>/<total>`): the same in an
 * archived copy of the file, in a fork that replays the thread's history, and never shared by two
 * unrelated threads (whose first totals can be identical). A record never followed by a token_count
 * (a version that writes only records) is keyed by its globally unique `response_id`.
 *
 * Fork and subagent files start with their own `session_meta`, then the parent's `session_meta`
 * and the parent's history replayed (re-stamped to the fork time). Replayed records are keyed by the
 * thread they came from and marked as copies (`sidechain`), so the parent's own file keeps them;
 * prompts, tool calls, errors and status of the replay are not the fork's. The replay ends at the
 * fork's own first turn: a line whose `thread_id` is the file's own, or a turn whose UUIDv7 turn id
 * was minted at or after the fork's own (UUIDv7) thread id.
 */

const ROLLOUT_ID = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;

/** Text a user message can start with that Codex injected, not something the person typed. */
const NOT_A_PROMPT = [
  '<environment_context>',
  '<user_instructions>',
  '<permissions instructions>',
  '<collaboration_mode>',
  '<skills_instructions>',
  '<personality_spec>',
  '<user_shell_command>',
  '<turn_aborted>',
  '<subagent_notification>',
  '<INSTRUCTIONS>',
  '# AGENTS.md instructions',
];

/** Prompts remembered per turn to recognize the same prompt written by two record kinds. */
const TURN_PROMPTS_MAX = 32;

/** A usage tuple: input (incl. cached), cached, cache write, output (incl. reasoning), reasoning, total. */

interface Pending {
  /** response_id of a token_usage_record waiting for its token_count. */
  resp: string | null;
  u: Tuple;
  ts: string | null;
  owner: string;
  model: string | null;
}

/** The per-file parse state (ctx.state): plain JSON, kept with the byte offset between reads. */
interface CodexState {
  /** The file's own thread id (file name uuid, else its first session_meta id). */
  own?: string | null;
  /** When the own thread was created (ms): UUIDv7 time of its id, else its session_meta timestamp. */
  ownSince?: number | null;
  ownMetaSeen?: boolean;
  branch?: string | null;
  /** Foreign session_metas seen (replayed parents and ancestors): id and creation time. */
  metas?: { id: string; ms: number | null }[];
  /** The parent named by the own session_meta (forked_from_id / thread_spawn.parent_thread_id). */
  parent?: string | null;
  /** Inside a replayed history, and whose thread the replayed lines belong to. */
  replay?: boolean;
  owner?: string | null;
  model?: string | null;
  /** The previous cumulative total of this file (re-emits and deltas). */
  prev?: Tuple | null;
  /** After the thread whose lines are read changed: snapshots within this total are that thread's. */
  baseline?: { owner: string; t: Tuple } | null;
  /** A token_usage_record not yet matched with its token_count. */
  pend?: Pending | null;
  /** The last token_count not matched with a record (a version writing the record after it). */
  lastCount?: Tuple | null;
  /** Prompts of the current turn (a digest of each) and the record kind that gave them (e: user_message, i: item_completed). */
  tp?: { t: string; s: 'e' | 'i'; m?: boolean }[];
  /** A `compacted` item was seen; its `context_compacted` event is the same compaction. */
  compacted?: boolean;
}

export const codexAdapter: LineSourceAdapter = {
  id: 'codex',
  displayName: 'Codex',
  icon: 'terminal',
  format: 'lines',
  traits: {
    sharedProcess: false,
    hooks: 'installable',
    costFigure: null,
    modelProvider: 'openai',
    // `~/.codex` on every OS (Windows: the user profile).
    defaultPaths: { linux: ['~/.codex'], darwin: ['~/.codex'], win32: ['%USERPROFILE%\\.codex'] },
  },

  roots(e: SourceEnv): string[] {
    return agentRoots(e, codexAdapter, { overrides: [envFolder(e, 'CODEX_HOME')] });
  },

  watchDirs(root: string): string[] {
    return [path.join(root, 'sessions'), path.join(root, 'archived_sessions')];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const base = path.basename(filePath);
    if (!base.startsWith('rollout-') || !base.endsWith('.jsonl')) return null;
    for (const dir of ['sessions', 'archived_sessions']) {
      const rel = path.relative(path.join(root, dir), filePath);
      if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
      const m = ROLLOUT_ID.exec(base);
      return {
        path: filePath,
        root,
        session_id: m ? m[1].toLowerCase() : null,
        parent_session_id: null,
        agent_id: null,
      };
    }
    return null;
  },

  parseLine(line: string, ctx: LineContext): AgentEvent[] | null {
    const rec = JSON.parse(line) as unknown;
    if (!isObject(rec) || typeof rec.type !== 'string') return null;
    return codexRecordEvents(rec, ctx.file, ctx.state as CodexState);
  },

  /** Thread names (`/rename`, Desktop titles) from `$CODEX_HOME/session_index.jsonl`, newest wins. */
  async fileEvents(file: DiscoveredFile): Promise<AgentEvent[]> {
    if (!file.session_id) return [];
    const titles = await threadNames(file.root);
    const name = titles.get(file.session_id);
    return name ? [{ kind: 'meta', ts: null, custom_title: name }] : [];
  },

  resumeCommand(sessionId: string) {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId)
      ? { command: 'codex', args: ['resume', sessionId] }
      : null;
  },
};

// ---- session_index.jsonl ---------------------------------------------------------------------

const indexCache = new Map<string, { size: number; mtime: number; names: Map<string, string> }>();

async function threadNames(root: string): Promise<Map<string, string>> {
  const file = path.join(root, 'session_index.jsonl');
  let st;
  try {
    st = await fsp.stat(file);
  } catch {
    indexCache.delete(file);
    return new Map();
  }
  const cached = indexCache.get(file);
  if (cached && cached.size === st.size && cached.mtime === st.mtimeMs) return cached.names;
  const best = new Map<string, { name: string; at: string }>();
  for (const line of (await fsp.readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as unknown;
      if (!isObject(r) || typeof r.id !== 'string' || typeof r.thread_name !== 'string') continue;
      const at = str(r.updated_at) ?? '';
      const prev = best.get(r.id.toLowerCase());
      // Append-only: a later line with the same or a newer updated_at is the newer name.
      if (!prev || at >= prev.at) best.set(r.id.toLowerCase(), { name: r.thread_name, at });
    } catch {
      // a line being written, or damaged: the others still give their names
    }
  }
  const names = new Map<string, string>();
  for (const [id, v] of best) if (v.name.trim()) names.set(id, v.name.trim());
  indexCache.set(file, { size: st.size, mtime: st.mtimeMs, names });
  return names;
}

// ---- records ---------------------------------------------------------------------------------

function codexRecordEvents(rec: Rec, file: DiscoveredFile, st: CodexState): AgentEvent[] {
  const ts = str(rec.timestamp) ?? null;
  const payload = isObject(rec.payload) ? rec.payload : {};
  const out: AgentEvent[] = [];
  st.own ??= file.session_id;
  if (st.ownSince == null && st.own) st.ownSince = uuidV7Ms(st.own);

  const meta: MetaEvent = { kind: 'meta', ts };
  let hasMeta = false;
  const setMeta = <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => {
    if (v === undefined) return;
    meta[k] = v;
    hasMeta = true;
  };

  // Whose line this is: the file's own thread, or a thread whose history is replayed here. Newer
  // builds name it on many lines (item_completed, token_usage_record, thread_settings_applied).
  const threadId = str(payload.thread_id)?.toLowerCase();
  if (rec.type !== 'session_meta' && st.replay && threadId) {
    if (threadId === st.own) endReplay(st);
    else setReplayOwner(st, threadId);
  }

  switch (rec.type) {
    case 'session_meta':
      sessionMeta(payload, ts, st, out, setMeta);
      break;
    case 'turn_context': {
      const turnId = str(payload.turn_id) ?? null;
      turnStart(st, turnId, null, false);
      st.model = str(payload.model) ?? st.model ?? null;
      if (!st.replay) {
        setMeta('cwd', str(payload.cwd) || undefined);
        setMeta('model', str(payload.model) || undefined);
      }
      break;
    }
    case 'event_msg':
      eventMsg(payload, ts, st, out, setMeta);
      break;
    case 'response_item':
      if (!st.replay) responseItem(payload, ts, out, setMeta);
      break;
    case 'compacted':
      if (!st.replay) {
        out.push({ kind: 'compaction', ts });
        st.compacted = true;
      }
      break;
    case 'token_usage_record':
      usageRecord(payload, ts, st, out, setMeta);
      break;
    // world_state, inter_agent_communication and newer kinds: activity only.
    default:
      break;
  }
  if (ts) out.unshift({ kind: 'activity', ts });
  if (hasMeta) out.push(meta);
  return out;
}

type SetMeta = <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void;

function sessionMeta(p: Rec, ts: string | null, st: CodexState, out: AgentEvent[], setMeta: SetMeta): void {
  const id = str(p.id) ?? str(p.session_id);
  if (!id) return;
  const lower = id.toLowerCase();
  st.own ??= lower;
  if (lower !== st.own) {
    // Another thread's session_meta: its history follows, replayed into this file.
    const metas = (st.metas ??= []);
    if (!metas.some((m) => m.id === lower)) metas.push({ id: lower, ms: uuidV7Ms(lower) ?? isoMs(str(p.timestamp)) });
    flushPending(st, out);
    setReplayOwner(st, lower);
    return;
  }
  // The file's own session_meta (written again by some versions: the first one is kept for ids).
  if (!st.ownMetaSeen) {
    st.ownMetaSeen = true;
    st.ownSince = uuidV7Ms(st.own) ?? isoMs(str(p.timestamp) ?? ts ?? undefined);
    setMeta('session_id', lower);
    const spawn = threadSpawn(p.source);
    const forkedFrom = str(p.forked_from_id)?.toLowerCase() || undefined;
    st.parent = spawn?.parent ?? forkedFrom ?? null;
    if (spawn?.parent) {
      // A subagent is its parent's: it rolls up there. A fork is a session of its own.
      setMeta('parent_session_id', spawn.parent);
      setMeta('agent_id', str(p.agent_nickname) ?? spawn.nickname ?? spawn.path ?? str(p.agent_role) ?? undefined);
    } else if (forkedFrom) {
      // Codex names a fork's origin itself: shown as "forked from"; its replayed history is keyed above.
      setMeta('forked_from_session_id', forkedFrom);
    }
    const git = isObject(p.git) ? p.git : null;
    st.branch = git && typeof git.branch === 'string' ? git.branch : null;
    if (st.branch !== null) setMeta('git_branch', st.branch);
    const remote = git ? str(git.repository_url) : undefined;
    const repo = remote ? githubRepoFromRemote(remote) : null;
    if (repo) setMeta('github_repo', repo);
  }
  setMeta('cwd', str(p.cwd) || undefined);
  setMeta('agent_version', str(p.cli_version) || undefined);
}

/** `source: {subagent: {thread_spawn: {parent_thread_id, agent_path, agent_nickname}}}` (older: `sub_agent`). */
function threadSpawn(source: unknown): { parent?: string; path?: string; nickname?: string } | null {
  if (!isObject(source)) return null;
  const sub = isObject(source.subagent) ? source.subagent : isObject(source.sub_agent) ? source.sub_agent : null;
  const spawn = sub && isObject(sub.thread_spawn) ? sub.thread_spawn : null;
  if (!spawn) return null;
  return {
    parent: str(spawn.parent_thread_id)?.toLowerCase() || undefined,
    path: str(spawn.agent_path),
    nickname: str(spawn.agent_nickname),
  };
}

function isoMs(t: string | undefined): number | null {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** The lines read next belong to another thread: snapshots within the total so far are still the previous thread's. */
function switchOwner(st: CodexState, next: string | null): void {
  const prevOwner = st.replay ? st.owner : st.own;
  if (prevOwner && next !== prevOwner && st.prev) st.baseline = { owner: prevOwner, t: st.prev };
}

/** The lines read next are a replay of `owner`'s history. */
function setReplayOwner(st: CodexState, owner: string): void {
  if (st.replay && st.owner === owner) return;
  switchOwner(st, owner);
  st.replay = true;
  st.owner = owner;
}

function endReplay(st: CodexState): void {
  if (!st.replay) return;
  switchOwner(st, st.own ?? null);
  st.replay = false;
  st.owner = null;
}

/**
 * A turn begins (task_started or turn_context). Inside a replay it decides whether the turn is the
 * file's own (minted at or after the own thread) and, if not, which replayed thread it belongs to.
 */
function turnStart(st: CodexState, turnId: string | null, startedAt: number | null, isTaskStart: boolean): void {
  if (!st.replay) return;
  const turnMs = uuidV7Ms(turnId);
  const since = st.ownSince ?? null;
  if (turnMs !== null && since !== null) {
    if (turnMs >= since) return endReplay(st);
    // The replayed turn belongs to the newest replayed thread created before it.
    let owner: string | null = null;
    let ownerMs = -Infinity;
    for (const m of st.metas ?? []) {
      if (m.ms !== null && m.ms <= turnMs && m.ms > ownerMs) {
        owner = m.id;
        ownerMs = m.ms;
      }
    }
    owner ??= st.parent ?? st.owner ?? null;
    if (owner) setReplayOwner(st, owner);
    return;
  }
  // Ids that are not UUIDv7 (older builds): a task_started that started in or after the fork's second.
  if (isTaskStart && since !== null && startedAt !== null && startedAt * 1000 >= Math.floor(since / 1000) * 1000)
    endReplay(st);
}

function eventMsg(p: Rec, ts: string | null, st: CodexState, out: AgentEvent[], setMeta: SetMeta): void {
  const own = !st.replay;
  switch (p.type) {
    case 'task_started':
      turnStart(st, str(p.turn_id) ?? null, typeof p.started_at === 'number' ? p.started_at : null, true);
      if (!st.replay) {
        st.tp = [];
        st.compacted = false;
        out.push(turn(ts, 'waiting_model'));
      }
      break;
    case 'task_complete':
    case 'turn_aborted':
      // A record still waiting for its token_count will not get one in this turn.
      flushPending(st, out);
      st.compacted = false;
      if (own) out.push(turn(ts, 'ended'));
      break;
    case 'user_message':
      if (own && typeof p.message === 'string') prompt(p.message, 'e', ts, st, out, setMeta);
      break;
    case 'item_completed': {
      const item = isObject(p.item) ? p.item : null;
      if (own && item && item.type === 'UserMessage' && Array.isArray(item.content)) {
        const text = item.content
          .filter(
            (c): c is Rec => isObject(c) && typeof c.text === 'string' && (c.type === 'text' || c.type === 'Text'),
          )
          .map((c) => c.text as string)
          .join('\n');
        prompt(text, 'i', ts, st, out, setMeta);
      }
      break;
    }
    case 'agent_message':
      if (own && typeof p.message === 'string') linkMeta(p.message, setMeta);
      break;
    case 'token_count':
      tokenCount(p, ts, st, out, setMeta);
      break;
    case 'error':
    case 'stream_error':
      if (own) out.push({ kind: 'api_error', ts });
      break;
    case 'context_compacted':
      if (own && !st.compacted) out.push({ kind: 'compaction', ts });
      st.compacted = false;
      break;
    default:
      break;
  }
}

function textDigest(text: string): string {
  return `${text.length}:${createHash('sha1').update(text).digest('base64').slice(0, 16)}`;
}

function turn(ts: string | null, state: TurnEvent['state']): TurnEvent {
  return { kind: 'turn', ts, state };
}

function prompt(
  raw: string,
  src: 'e' | 'i',
  ts: string | null,
  st: CodexState,
  out: AgentEvent[],
  setMeta: SetMeta,
): void {
  const text = raw.trim();
  if (!text || NOT_A_PROMPT.some((p) => text.startsWith(p))) return;
  // Builds that write both `user_message` and `item_completed` for one prompt: counted once.
  const tp = (st.tp ??= []);
  // Kept in the file's parse state (stored, rewritten on every read): a digest, not the prompt.
  const digest = textDigest(text);
  const twin = tp.find((x) => x.t === digest && x.s !== src && !x.m);
  if (twin) {
    twin.m = true;
    return;
  }
  tp.push({ t: digest, s: src });
  if (tp.length > TURN_PROMPTS_MAX) tp.shift();
  // No Codex record marks a new process: `codex resume` / `exec resume` append to the same file
  // with nothing but a new task_started, exactly like another turn in the same process.
  out.push({ kind: 'user_prompt', ts, text, run_start: false });
  out.push(turn(ts, 'waiting_model'));
  linkMeta(text, setMeta);
}

function responseItem(p: Rec, ts: string | null, out: AgentEvent[], setMeta: SetMeta): void {
  switch (p.type) {
    case 'function_call':
    case 'custom_tool_call':
    case 'local_shell_call': {
      const id = str(p.call_id) ?? str(p.id);
      const name = str(p.name) ?? (p.type === 'local_shell_call' ? 'local_shell' : 'unknown');
      if (id) out.push({ kind: 'tool_call', ts, id, name });
      out.push(turn(ts, 'tool_running'));
      break;
    }
    case 'web_search_call': {
      // Run by the API during the response: the turn keeps waiting for the model.
      const action = isObject(p.action) ? JSON.stringify(p.action) : '';
      out.push({
        kind: 'tool_call',
        ts,
        id: str(p.call_id) ?? str(p.id) ?? `web_search:${ts ?? ''}:${action}`,
        name: 'web_search',
      });
      break;
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
      scanOutput(p.output, setMeta);
      out.push(turn(ts, 'waiting_model'));
      break;
    case 'message':
      if (p.role === 'assistant' && Array.isArray(p.content)) {
        for (const c of p.content) if (isObject(c) && typeof c.text === 'string') linkMeta(c.text, setMeta);
      }
      break;
    default:
      break;
  }
}

function scanOutput(output: unknown, setMeta: SetMeta): void {
  if (typeof output === 'string') linkMeta(output, setMeta);
  else if (Array.isArray(output)) {
    for (const b of output) if (isObject(b) && typeof b.text === 'string') linkMeta(b.text, setMeta);
  } else if (isObject(output) && typeof output.content === 'string') linkMeta(output.content, setMeta);
}

function linkMeta(text: string, setMeta: SetMeta): void {
  const links = findGithubLinks(text.length > LINK_SCAN_LIMIT ? text.slice(0, LINK_SCAN_LIMIT) : text);
  if (links.pr) setMeta('seen_pr_url', links.pr);
  if (links.issue) setMeta('seen_issue_url', links.issue);
}

// ---- usage -----------------------------------------------------------------------------------

function currentOwner(st: CodexState): string {
  return (st.replay ? st.owner : st.own) ?? st.own ?? 'unknown';
}

function tokenCount(p: Rec, ts: string | null, st: CodexState, out: AgentEvent[], setMeta: SetMeta): void {
  const info = isObject(p.info) ? p.info : null;
  if (!info) return; // rate-limit-only refreshes
  let total = tupleOf(info.total_token_usage);
  let last = tupleOf(info.last_token_usage);
  if (total && st.prev && sameTuple(total, st.prev)) return; // re-emitted with unchanged totals
  // Right after the thread whose lines are read changed (a fork's first own turn): a snapshot
  // within the previous thread's total is that thread's, written again.
  const base = st.baseline ?? null;
  const inherited = !!(total && base && within(total, base.t));
  if (base && total && !inherited) st.baseline = null;
  if (!inherited && total && st.prev && last && !sub(total, st.prev) && staleSnapshot(total, st.prev, last)) return;
  if (!last) {
    if (!total) return;
    last = st.prev ? sub(total, st.prev) : total;
    if (!last) {
      // The cumulative total went down without a per-response figure: nothing to attribute.
      if (!inherited) st.prev = total;
      return;
    }
  }
  total ??= st.prev ? add(st.prev, last) : last;
  if (!inherited) st.prev = total;
  if (last.every((v) => v === 0)) return;

  const owner = inherited && base ? base.owner : currentOwner(st);
  const model = str(info.model) ?? st.model ?? null;
  let resp: string | null = null;
  if (st.pend && sameUsage(st.pend.u, last)) {
    // The token_usage_record of this response came first: one response, one event.
    resp = st.pend.resp;
    st.pend = null;
    st.lastCount = null;
  } else {
    flushPending(st, out);
    st.lastCount = last;
  }
  out.push({
    kind: 'usage',
    ts,
    dedup_key: tupleKey(owner, total),
    message_id: resp,
    sidechain: owner !== st.own,
    model,
    git_branch: st.branch ?? null,
    tokens: codexTokens(last),
    speed: null,
  });
  if (owner === st.own && !st.replay) setMeta('context', contextOf(last));
}

function usageRecord(p: Rec, ts: string | null, st: CodexState, out: AgentEvent[], setMeta: SetMeta): void {
  const u = tupleOf(p.usage);
  if (!u || u.every((v) => v === 0)) return;
  if (st.lastCount && sameUsage(st.lastCount, u)) {
    // Its token_count came first and was counted.
    st.lastCount = null;
    return;
  }
  flushPending(st, out);
  const threadId = str(p.thread_id)?.toLowerCase();
  const owner = threadId ?? currentOwner(st);
  st.pend = { resp: str(p.response_id) ?? null, u, ts, owner, model: str(p.model) ?? st.model ?? null };
  if (owner === st.own && !st.replay) setMeta('context', contextOf(u));
}

/** A token_usage_record that no token_count matched: counted on its own, by its response id. */
function flushPending(st: CodexState, out: AgentEvent[]): void {
  const p = st.pend;
  if (!p) return;
  st.pend = null;
  out.push({
    kind: 'usage',
    ts: p.ts,
    dedup_key: p.resp ? `codex:resp:${p.resp}` : `codex:${p.owner}:record:${p.ts ?? ''}:${p.u.join('/')}`,
    message_id: p.resp,
    sidechain: p.owner !== st.own,
    model: p.model,
    git_branch: st.branch ?? null,
    tokens: codexTokens(p.u),
    speed: null,
  });
}
