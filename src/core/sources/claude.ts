import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { processRuns } from '../live/process';
import type { AgentEvent, MetaEvent } from '../model/events';
import { type TokenCounts, contextTokens } from '../model/session';
import { findGithubLinks } from '../text';
import type { DiscoveredFile, LineContext, LineSourceAdapter, LiveProcess, SourceEnv } from './types';
import { type Rec, isObject, LINK_SCAN_LIMIT, num, str } from './records';
import { agentRoots, osPath } from './roots';

/**
 * Claude Code: `<config root>/projects/<encoded cwd>/<session uuid>.jsonl`, subagents in
 * `<session uuid>/subagents/agent-<id>.jsonl` (older versions: flat `agent-<id>.jsonl` next to the
 * sessions). Record shapes: shared/reference/agent-formats.md §1. The rules for what counts are in
 * docs/accounting.md; this file only says what each record means.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Text a user line can start with that is not something the person typed. */
const NOT_A_PROMPT = [
  '<command-name>',
  '<command-message>',
  '<command-args>',
  '<local-command-stdout>',
  '<local-command-stderr>',
  '<local-command-caveat>',
  '<bash-input>',
  '<bash-stdout>',
  '<bash-stderr>',
  '<system-reminder>',
  '<task-notification>',
  '<user-prompt-submit-hook>',
  'Caveat:',
  '[Request interrupted',
];

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export const claudeAdapter: LineSourceAdapter = {
  id: 'claude_code',
  displayName: 'Claude Code',
  icon: 'sparkle',
  format: 'lines',
  branchPerRequest: true,
  traits: {
    sharedProcess: false,
    hooks: 'installable',
    costFigure: 'cost-state',
    modelProvider: 'anthropic',
    // `~/.claude` on every OS (Windows: the user profile); ccusage also reads `$XDG_CONFIG_HOME/claude`, where some older installs wrote.
    defaultPaths: {
      linux: ['~/.claude', '$XDG_CONFIG_HOME/claude'],
      darwin: ['~/.claude', '$XDG_CONFIG_HOME/claude'],
      win32: ['%USERPROFILE%\\.claude', '$XDG_CONFIG_HOME\\claude'],
    },
  },

  roots(e: SourceEnv): string[] {
    // CLAUDE_CONFIG_DIR moves the whole root; ccusage also accepts a comma-separated list there.
    const overrides = (e.env.CLAUDE_CONFIG_DIR ?? '')
      .split(',')
      .map((dir) => (dir.trim() ? osPath(e).resolve(dir.trim()) : null));
    return agentRoots(e, claudeAdapter, { overrides });
  },

  watchDirs(root: string): string[] {
    return [path.join(root, 'projects')];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    const rel = path.relative(path.join(root, 'projects'), filePath);
    if (rel.startsWith('..') || path.isAbsolute(rel) || !rel.endsWith('.jsonl')) return null;
    const parts = rel.split(path.sep);
    const stem = path.basename(filePath, '.jsonl');
    if (parts.length === 2) {
      if (stem.startsWith('agent-')) {
        // Old flat subagent file: its records' sessionId names the parent.
        return { path: filePath, root, session_id: stem, parent_session_id: null, agent_id: stem.slice(6) };
      }
      return { path: filePath, root, session_id: stem, parent_session_id: null, agent_id: null };
    }
    // <project>/<session>/subagents/[workflows/<wf>/]agent-<id>.jsonl
    if (parts.length >= 4 && parts[2] === 'subagents' && stem.startsWith('agent-')) {
      return { path: filePath, root, session_id: stem, parent_session_id: parts[1], agent_id: stem.slice(6) };
    }
    return null;
  },

  parseLine(line: string, ctx: LineContext): AgentEvent[] | null {
    const rec = JSON.parse(line) as unknown;
    if (!isObject(rec) || typeof rec.type !== 'string') return null;
    return claudeRecordEvents(rec, ctx.file);
  },

  liveDirs(root: string): string[] {
    return [path.join(root, 'sessions')];
  },

  async liveRegistry(root: string): Promise<LiveProcess[]> {
    const dir = path.join(root, 'sessions');
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return [];
    }
    const entries: LiveProcess[] = [];
    for (const name of names) {
      if (!/^\d+\.json$/.test(name)) continue;
      try {
        const rec = JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')) as unknown;
        if (!isObject(rec)) continue;
        const pid = typeof rec.pid === 'number' ? rec.pid : Number(name.slice(0, -5));
        const startedAt = typeof rec.startedAt === 'number' ? rec.startedAt : null;
        entries.push({
          pid,
          session_id: str(rec.sessionId) ?? null,
          status: str(rec.status) ?? null,
          waiting_for: str(rec.waitingFor) ?? null,
          started_at_ms: startedAt,
          updated_at_ms: typeof rec.updatedAt === 'number' ? rec.updatedAt : null,
          alive: await processRuns(pid, startedAt),
        });
      } catch {
        // A registry file being rewritten or left half-written by a crash: the next scan reads it.
      }
    }
    return entries;
  },

  resumeCommand(sessionId: string) {
    return isUuid(sessionId) ? { command: 'claude', args: ['--resume', sessionId] } : null;
  },
};

function claudeRecordEvents(rec: Rec, file: DiscoveredFile): AgentEvent[] {
  const ts = str(rec.timestamp) ?? null;
  const out: AgentEvent[] = [];
  const isSubagentFile = file.agent_id !== null;
  // In a subagent's own file every line is a sidechain: there it is the file's main conversation.
  const main = rec.isSidechain !== true || isSubagentFile;

  const meta: MetaEvent = { kind: 'meta', ts };
  let hasMeta = false;
  const setMeta = <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => {
    if (v === undefined) return;
    meta[k] = v;
    hasMeta = true;
  };

  const sessionId = str(rec.sessionId) ?? str(rec.session_id);
  if (sessionId) {
    if (isSubagentFile) setMeta('parent_session_id', sessionId);
    else setMeta('session_id', sessionId);
  }
  // In a subagent's file `sessionId` names the parent: there it marks nothing.
  const copiedFrom = isSubagentFile ? undefined : copiedOrigin(rec, sessionId, file.session_id);
  if (copiedFrom && (rec.type === 'user' || rec.type === 'assistant' || rec.type === 'system'))
    setMeta('forked_from_session_id', copiedFrom);
  if (isSubagentFile && str(rec.agentId)) setMeta('agent_id', str(rec.agentId));
  setMeta('cwd', str(rec.cwd) || undefined);
  // A copy was written by the origin's process: its version says nothing about this session's runs.
  if (main && !copiedFrom) setMeta('agent_version', str(rec.version));
  // "" (outside a repository) and "HEAD" (detached) are kept as they are: their own buckets.
  if (typeof rec.gitBranch === 'string' && main) setMeta('git_branch', rec.gitBranch);

  switch (rec.type) {
    case 'assistant':
      assistantEvents(rec, ts, main, file, copiedFrom, out, setMeta);
      break;
    case 'user':
      userEvents(rec, ts, main, isSubagentFile, copiedFrom, out, setMeta);
      break;
    case 'system': {
      const subtype = str(rec.subtype);
      if (subtype === 'compact_boundary') out.push({ kind: 'compaction', ts });
      else if (subtype === 'api_error') out.push({ kind: 'api_error', ts, ...copied(copiedFrom) });
      else if ((subtype === 'turn_duration' || subtype === 'stop_hook_summary') && main)
        out.push({ kind: 'turn', ts, state: 'ended' });
      break;
    }
    case 'summary':
      setMeta('ai_title', str(rec.summary));
      break;
    case 'ai-title':
      setMeta('ai_title', str(rec.aiTitle));
      break;
    case 'custom-title':
      setMeta('custom_title', str(rec.customTitle));
      break;
    case 'pr-link': {
      const n = typeof rec.prNumber === 'number' ? rec.prNumber : undefined;
      setMeta('github_pr', n);
      setMeta('pr_url', str(rec.prUrl));
      setMeta('github_repo', str(rec.prRepository));
      break;
    }
    case 'worktree-state': {
      const wt = isObject(rec.worktreeSession) ? rec.worktreeSession : undefined;
      setMeta('git_worktree_path', wt ? str(wt.worktreePath) : undefined);
      break;
    }
    case 'cost-state':
      // Session-cumulative snapshots, written again and again: the last one is the agent's own total.
      if (typeof rec.totalCostUSD === 'number') setMeta('agent_cost_usd', rec.totalCostUSD);
      if (isObject(rec.modelUsage)) {
        const costs: Record<string, number> = {};
        for (const [model, u] of Object.entries(rec.modelUsage)) {
          if (isObject(u) && typeof u.costUSD === 'number' && Number.isFinite(u.costUSD) && u.costUSD >= 0)
            costs[model] = u.costUSD;
        }
        setMeta('agent_model_costs', costs);
      }
      if (typeof rec.totalLinesAdded === 'number') setMeta('agent_lines_added', rec.totalLinesAdded);
      if (typeof rec.totalLinesRemoved === 'number') setMeta('agent_lines_removed', rec.totalLinesRemoved);
      break;
    // `progress` lines embed a subagent's streamed messages with their usage: never counted.
    default:
      break;
  }
  if (ts) out.unshift({ kind: 'activity', ts });
  if (hasMeta) out.push(meta);
  return out;
}

/**
 * The session a copied line came from, when Claude Code marked it (docs/accounting.md §2):
 * `forkedFrom.sessionId` (SDK and `/branch` forks of some builds), else the line's own `sessionId`
 * when it is not the file's (older builds replayed history into a new file keeping it). Only
 * session ids (UUIDs) are taken as marks, and a line's `sessionId` only in a file named by one:
 * a hand-named file's lines say nothing about copies.
 */
function copiedOrigin(rec: Rec, lineSession: string | undefined, fileSession: string | null): string | undefined {
  const marked = isObject(rec.forkedFrom) ? str(rec.forkedFrom.sessionId) : undefined;
  const origin = marked ?? (fileSession && isUuid(fileSession) ? lineSession : undefined);
  return origin && isUuid(origin) && origin !== fileSession ? origin : undefined;
}

/** The `copied_from` of an event of a copied line (nothing for the file's own lines). */
function copied(origin: string | undefined): { copied_from?: string } {
  return origin ? { copied_from: origin } : {};
}

function assistantEvents(
  rec: Rec,
  ts: string | null,
  main: boolean,
  file: DiscoveredFile,
  copiedFrom: string | undefined,
  out: AgentEvent[],
  setMeta: <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void,
): void {
  const message = isObject(rec.message) ? rec.message : {};
  const model = str(message.model);
  const synthetic = model === '<synthetic>';
  if (rec.isApiErrorMessage === true) out.push({ kind: 'api_error', ts, ...copied(copiedFrom) });

  const content = Array.isArray(message.content) ? message.content : [];
  let hasToolUse = false;
  for (const block of content) {
    if (!isObject(block)) continue;
    if ((block.type === 'tool_use' || block.type === 'server_tool_use') && typeof block.id === 'string') {
      hasToolUse ||= block.type === 'tool_use';
      out.push({ kind: 'tool_call', ts, id: block.id, name: str(block.name) ?? 'unknown', ...copied(copiedFrom) });
    } else if (block.type === 'text' && typeof block.text === 'string') {
      linkMeta(block.text, setMeta);
      if (main && !synthetic && block.text.trim()) out.push({ kind: 'assistant_text', ts, text: block.text });
    }
  }

  const usage = isObject(message.usage) ? message.usage : null;
  if (usage && !synthetic) {
    const messageId = str(message.id) ?? null;
    const requestId = str(rec.requestId);
    // One response = one (message.id, requestId). Without a requestId (gateways, old versions)
    // the message id alone is trusted only inside the session that made it: a marked copy's key
    // is its origin's, so it meets the original.
    const dedupKey =
      messageId && requestId
        ? `${messageId}:${requestId}`
        : `local:${copiedFrom ?? file.session_id}:${messageId ?? str(rec.uuid) ?? ts}`;
    const tokens = claudeTokens(usage);
    out.push({
      kind: 'usage',
      ts,
      dedup_key: dedupKey,
      message_id: messageId,
      sidechain: rec.isSidechain === true,
      model: model ?? null,
      git_branch: typeof rec.gitBranch === 'string' ? rec.gitBranch : null,
      tokens,
      speed: str(usage.speed) ?? null,
      ...copied(copiedFrom),
    });
    if (main) setMeta('context', contextTokens(tokens));
  }
  if (model && !synthetic && main) setMeta('model', model);

  if (main && !synthetic) {
    const stop = str(message.stop_reason);
    if (stop === 'tool_use' || hasToolUse) out.push({ kind: 'turn', ts, state: 'tool_running' });
    else if (stop) out.push({ kind: 'turn', ts, state: 'ended' });
  }
  if (main && synthetic) out.push({ kind: 'turn', ts, state: 'ended' });
}

/** Claude's usage → token kinds. `input_tokens` excludes cache reads and writes. */
export function claudeTokens(usage: Rec): TokenCounts {
  const flatWrite = num(usage.cache_creation_input_tokens);
  const split = isObject(usage.cache_creation) ? usage.cache_creation : null;
  const write5m = split ? num(split.ephemeral_5m_input_tokens) : 0;
  const write1h = split ? num(split.ephemeral_1h_input_tokens) : 0;
  // Some versions wrote 0 in the flat field while the split had the real numbers, and the reverse.
  const cacheWrite = Math.max(flatWrite, write5m + write1h);
  return {
    input: num(usage.input_tokens),
    output: num(usage.output_tokens),
    cache_read: num(usage.cache_read_input_tokens),
    cache_write: cacheWrite,
    cache_write_1h: Math.min(write1h, cacheWrite),
  };
}

function userEvents(
  rec: Rec,
  ts: string | null,
  main: boolean,
  isSubagentFile: boolean,
  copiedFrom: string | undefined,
  out: AgentEvent[],
  setMeta: <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void,
): void {
  const message = isObject(rec.message) ? rec.message : {};
  const content = message.content;
  let text: string | null = null;
  let hasToolResult = false;
  if (typeof content === 'string') {
    text = content;
  } else if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const block of content) {
      if (!isObject(block)) continue;
      if (block.type === 'tool_result') {
        hasToolResult = true;
        scanToolResult(block.content, setMeta);
      } else if (block.type === 'text' && typeof block.text === 'string') {
        texts.push(block.text);
      }
    }
    if (!hasToolResult && texts.length) text = texts.join('\n');
  }

  if (hasToolResult) {
    if (main) out.push({ kind: 'turn', ts, state: 'waiting_model' });
    return;
  }
  if (text === null) return;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[Request interrupted')) {
    if (main) out.push({ kind: 'turn', ts, state: 'ended' });
    return;
  }
  const injected =
    rec.isMeta === true ||
    rec.isCompactSummary === true ||
    rec.isVisibleInTranscriptOnly === true ||
    rec.origin !== undefined ||
    NOT_A_PROMPT.some((p) => trimmed.startsWith(p));
  if (injected || !trimmed) return;
  // A subagent's first prompt is the task its parent gave it: its title, not a person's prompt
  // in the parent session. In its own file it is the session's prompt.
  if (rec.isSidechain === true && !isSubagentFile) return;
  // No Claude Code record marks a resume (turnPosition.promptIndex restarts at 0 on every turn,
  // not on every process), so runs are counted from version changes in the reducer instead.
  out.push({ kind: 'user_prompt', ts, text: trimmed, run_start: false, ...copied(copiedFrom) });
  if (main) out.push({ kind: 'turn', ts, state: 'waiting_model' });
  linkMeta(trimmed, setMeta);
}

function scanToolResult(
  content: unknown,
  setMeta: <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void,
): void {
  if (typeof content === 'string') linkMeta(content, setMeta);
  else if (Array.isArray(content)) {
    for (const b of content) if (isObject(b) && typeof b.text === 'string') linkMeta(b.text, setMeta);
  }
}

function linkMeta(text: string, setMeta: <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => void): void {
  const links = findGithubLinks(text.length > LINK_SCAN_LIMIT ? text.slice(0, LINK_SCAN_LIMIT) : text);
  if (links.pr) setMeta('seen_pr_url', links.pr);
  if (links.issue) setMeta('seen_issue_url', links.issue);
}
