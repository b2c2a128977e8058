import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentEvent, MetaEvent } from '../model/events';
import { type TokenCounts, contextTokens, totalTokenCounts } from '../model/session';
import type { DiscoveredFile, DocumentSession, DocumentSourceAdapter, SourceEnv } from './types';
import { type Rec, collectGithubLinks, isObject, num, str } from './records';
import { agentRoots, envFolder } from './roots';

/**
 * Amp (Sourcegraph): the legacy local thread store, one pretty-printed JSON document per thread,
 * `<data>/threads/T-<uuid>.json` with `<data>` = `$XDG_DATA_HOME/amp` (default `~/.local/share/amp`).
 * The format is internal and undocumented; what is read here follows shared/reference/
 * agent-formats.md §5, txcript's reverse-engineered description (docs/formats/amp.md and its
 * anonymized real-shaped fixture, tests/amp.rs, in skillsynchq/txcript) and ccusage's Amp parser
 * (rust/crates/ccusage/src/adapter/amp/parser.rs; the `messages[].usage` shape quoted in
 * ccusage/ccusage#1138).
 *
 * Not read: since ~2026-03-31 Amp is server-authoritative and no longer writes `threads/`; threads
 * are cached on demand as `~/.cache/amp/logs/threads/*.log`, whose format no public source
 * describes (0xSero/alleycat#21 only names the folder), so that cache is not supported.
 *
 * Amp reports `credits`, not dollars: credits are never used as a cost. Requests are priced from
 * their tokens by model (Anthropic models via the price list, with `provider: 'anthropic'`).
 */

export const ampAdapter: DocumentSourceAdapter = {
  id: 'amp',
  displayName: 'Amp',
  icon: 'zap',
  format: 'document',
  traits: {
    sharedProcess: false,
    hooks: 'none',
    costFigure: null,
    modelProvider: null,
    // The XDG data folder on every OS (as ccusage reads it), and its default even when $XDG_DATA_HOME points elsewhere.
    defaultPaths: {
      linux: ['$XDG_DATA_HOME/amp', '~/.local/share/amp'],
      darwin: ['$XDG_DATA_HOME/amp', '~/.local/share/amp'],
      win32: ['$XDG_DATA_HOME\\amp', '%USERPROFILE%\\.local\\share\\amp'],
    },
  },

  roots(e: SourceEnv): string[] {
    // ccusage's AMP_DATA_DIR names the data folder that holds `threads/`.
    return agentRoots(e, ampAdapter, { overrides: [envFolder(e, 'AMP_DATA_DIR')] });
  },

  watchDirs(root: string): string[] {
    return [path.join(root, 'threads')];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const rel = path.relative(path.join(root, 'threads'), filePath);
    if (rel.startsWith('..') || path.isAbsolute(rel) || rel.includes(path.sep)) return null;
    if (!/^T-[^/\\]+\.json$/.test(rel)) return null;
    return { path: filePath, root, session_id: rel.slice(0, -'.json'.length), parent_session_id: null, agent_id: null };
  },

  async readDocument(file: DiscoveredFile): Promise<DocumentSession[]> {
    const text = await fsp.readFile(file.path, 'utf8');
    if (!text.trim()) return [];
    // A corrupt or half-written document throws: the indexer counts it and tries again on the next change.
    const doc = JSON.parse(text) as unknown;
    if (!isObject(doc) || !Array.isArray(doc.messages)) throw new Error('not an Amp thread (no messages[])');
    const threadId = (typeof doc.id === 'string' && doc.id) || file.session_id;
    if (!threadId) throw new Error('not an Amp thread (no id)');
    return [{ session_id: threadId, parent_session_id: null, agent_id: null, events: ampEvents(doc, threadId) }];
  },
};

/** Amp's assistant `usage` → token kinds (Anthropic-style: `inputTokens` excludes cache reads and writes). */
export function ampTokens(u: Rec): TokenCounts {
  return {
    input: num(u.inputTokens),
    output: num(u.outputTokens),
    cache_read: num(u.cacheReadInputTokens),
    cache_write: num(u.cacheCreationInputTokens),
    cache_write_1h: 0,
  };
}

/** The price-list provider of a model id, when its family says it. */
export function ampProvider(model: string | null): string | null {
  if (!model) return null;
  const m = model.toLowerCase();
  if (m.includes('claude')) return 'anthropic';
  if (m.includes('gemini')) return 'google';
  if (/^(openai\/)?(gpt-|o\d|codex)/.test(m)) return 'openai';
  return null;
}

export function ampEvents(doc: Rec, threadId: string): AgentEvent[] {
  const out: AgentEvent[] = [];
  const created = msToIso(doc.created);
  const head: MetaEvent = { kind: 'meta', ts: created, session_id: threadId };
  const env = isObject(doc.env) && isObject(doc.env.initial) ? doc.env.initial : {};
  const tree = Array.isArray(env.trees) && isObject(env.trees[0]) ? env.trees[0] : {};
  const cwd = fileUriPath(tree.uri);
  if (cwd) head.cwd = cwd;
  const repo = isObject(tree.repository) ? tree.repository : {};
  // Only the thread's start is recorded: every request of the thread gets that branch.
  const branch =
    typeof repo.ref === 'string' && repo.ref.startsWith('refs/heads/') ? repo.ref.slice('refs/heads/'.length) : null;
  if (branch) head.git_branch = branch;
  const github = githubRepo(repo.url);
  if (github) head.github_repo = github;
  const platform = isObject(env.platform) ? env.platform : {};
  if (typeof platform.clientVersion === 'string' && platform.clientVersion) head.agent_version = platform.clientVersion;
  if (typeof doc.title === 'string' && doc.title.trim()) head.ai_title = doc.title.trim();
  out.push(head);
  if (created) out.push({ kind: 'activity', ts: created });

  const messages = (doc.messages as unknown[]).filter(isObject);
  // Older threads keep their usage in `usageLedger.events[]` (tokens and credits per request, linked
  // to the assistant message by `toMessageId`); when present it is the request list and the linked
  // message only adds its cache counts (ccusage: the ledger takes precedence over messages[].usage).
  const ledger =
    isObject(doc.usageLedger) && Array.isArray(doc.usageLedger.events) ? doc.usageLedger.events.filter(isObject) : [];
  const links: { pr?: string; issue?: string } = {};
  const scan = (v: unknown) => collectGithubLinks(links, v);

  let lastTs = created;
  let model: string | null = null;
  let context: number | null = null;
  messages.forEach((m, index) => {
    if (m.role === 'user') {
      const ts = msToIso(isObject(m.meta) ? m.meta.sentAt : undefined) ?? null;
      if (ts) {
        out.push({ kind: 'activity', ts });
        lastTs = ts;
      }
      const blocks = Array.isArray(m.content) ? m.content.filter(isObject) : [];
      const results = blocks.filter((b) => b.type === 'tool_result');
      if (results.length) {
        // Tool results go back to the model. They carry no timestamp of their own.
        for (const b of results) scan(isObject(b.run) ? (b.run.result ?? b.run.error) : undefined);
        out.push({ kind: 'turn', ts: ts ?? lastTs, state: 'waiting_model' });
        return;
      }
      const text = (
        typeof m.content === 'string'
          ? m.content
          : blocks
              .filter((b) => b.type === 'text' && typeof b.text === 'string')
              .map((b) => b.text as string)
              .join('\n')
      ).trim();
      if (!text) return;
      scan(text);
      out.push({ kind: 'user_prompt', ts: ts ?? lastTs, text, run_start: false });
      out.push({ kind: 'turn', ts: ts ?? lastTs, state: 'waiting_model' });
      return;
    }
    if (m.role !== 'assistant') return; // unknown roles (shared-thread bookkeeping) carry no turn

    const usage = isObject(m.usage) ? m.usage : null;
    const ts = (usage && typeof usage.timestamp === 'string' ? usage.timestamp : null) ?? lastTs;
    if (usage && typeof usage.timestamp === 'string') {
      out.push({ kind: 'activity', ts: usage.timestamp });
      lastTs = usage.timestamp;
    }
    const blocks = Array.isArray(m.content) ? m.content.filter(isObject) : [];
    for (const b of blocks) {
      if (b.type === 'tool_use' && typeof b.id === 'string')
        out.push({ kind: 'tool_call', ts, id: b.id, name: str(b.name) ?? 'unknown' });
      else if (b.type === 'text') scan(b.text);
    }
    const msgModel = (usage && str(usage.model)) || str(m.model) || null;
    if (msgModel) model = msgModel;
    const key = messageKey(threadId, m.messageId, index);
    if (usage) {
      const tokens = ampTokens(usage);
      context =
        typeof usage.totalInputTokens === 'number' && usage.totalInputTokens > 0
          ? usage.totalInputTokens
          : contextTokens(tokens);
      if (!ledger.length && totalTokenCounts(tokens) > 0) {
        out.push({
          kind: 'usage',
          ts,
          dedup_key: key.dedup,
          message_id: key.message,
          sidechain: false,
          model: msgModel,
          provider: ampProvider(msgModel),
          git_branch: branch,
          tokens,
          speed: null,
        });
      }
    }
    const state = isObject(m.state) ? m.state : null;
    if (state?.type === 'streaming') out.push({ kind: 'turn', ts, state: 'waiting_model' });
    else if (state?.type === 'cancelled') out.push({ kind: 'turn', ts, state: 'ended' });
    else if (state?.type === 'complete')
      out.push({ kind: 'turn', ts, state: state.stopReason === 'tool_use' ? 'tool_running' : 'ended' });
  });

  // The ledger's requests, each with the cache counts of the message it produced.
  const byMessageId = new Map<string, Rec>();
  for (const m of messages)
    if (m.role === 'assistant' && isObject(m.usage) && m.messageId !== undefined)
      byMessageId.set(String(m.messageId), m.usage);
  ledger.forEach((ev, index) => {
    const tokens = isObject(ev.tokens) ? ev.tokens : {};
    const linked = ev.toMessageId !== undefined && ev.toMessageId !== null ? String(ev.toMessageId) : null;
    const cache = linked ? byMessageId.get(linked) : undefined;
    const t: TokenCounts = {
      input: num(tokens.input),
      output: num(tokens.output),
      cache_read: cache ? num(cache.cacheReadInputTokens) : 0,
      cache_write: cache ? num(cache.cacheCreationInputTokens) : 0,
      cache_write_1h: 0,
    };
    if (totalTokenCounts(t) === 0) return;
    const evModel = str(ev.model) || null;
    if (evModel) model = evModel; // the session's model is its last request's
    const key =
      linked !== null
        ? messageKey(threadId, linked, -1)
        : { dedup: `amp:${threadId}:ledger:${str(ev.id) ?? index}`, message: null };
    out.push({
      kind: 'usage',
      ts: str(ev.timestamp) ?? null,
      dedup_key: key.dedup,
      message_id: key.message,
      sidechain: false,
      model: evModel,
      provider: ampProvider(evModel),
      git_branch: branch,
      tokens: t,
      speed: null,
    });
  });

  const tail: MetaEvent = { kind: 'meta', ts: lastTs };
  if (model) tail.model = model;
  if (context !== null) tail.context = context;
  if (links.pr) tail.seen_pr_url = links.pr;
  if (links.issue) tail.seen_issue_url = links.issue;
  out.push(tail);
  return out;
}

/**
 * One request per assistant message: `messageId` is a small integer counted per thread, so both the
 * key and the stored message id carry the thread id (the store matches message ids across all agents).
 */
function messageKey(threadId: string, messageId: unknown, index: number): { dedup: string; message: string } {
  const id = typeof messageId === 'number' || typeof messageId === 'string' ? String(messageId) : `#${index}`;
  return { dedup: `amp:${threadId}:${id}`, message: `${threadId}:${id}` };
}

function fileUriPath(uri: unknown): string | null {
  if (typeof uri !== 'string' || !uri.startsWith('file:')) return null;
  try {
    return fileURLToPath(uri);
  } catch {
    return null;
  }
}

function githubRepo(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const m = /github\.com[/:]([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : null;
}

function msToIso(v: unknown): string | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? new Date(v).toISOString() : null;
}
