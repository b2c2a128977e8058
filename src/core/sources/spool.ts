import * as path from 'node:path';
import type { LiveEvent } from '../model/events';
import type { DiscoveredFile, LineSourceAdapter, SourceEnv } from './types';
import { type Rec, isObject } from './records';

/**
 * Our own spool: one line per hook event, written by media/hook-spool.js (agents run it as a hook
 * command) into `<global storage>/spool/<agent>-hooks.jsonl`. Each line is about a session whose
 * transcript another adapter reads, so this adapter only produces `live` events: status, pid,
 * revival. They never create a session row or overwrite what the transcript owns.
 */

export const SPOOL_FRAMEWORK = 'spool';
/** The spool file of one agent's hooks, or the telemetry receiver's. */
export const HOOK_SPOOL_FILE = /^(?:[A-Za-z0-9_.-]+-hooks|otel-logs)\.jsonl$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** What a hook event says about the session's status (Claude Code and Gemini CLI names). */
export function hookStatus(h: Rec): Pick<LiveEvent, 'status' | 'waiting_for'> {
  const name = str(h.hook_event_name) ?? '';
  switch (name) {
    case 'UserPromptSubmit':
    case 'BeforeAgent': // Gemini
    case 'PreToolUse':
    case 'BeforeTool': // Gemini
    case 'PostToolUse': // the tool ran (a permission, if asked, was given): the model goes on
    case 'PostToolUseFailure':
    case 'AfterTool': // Gemini
    case 'PreCompact':
    case 'PreCompress': // Gemini
      return { status: 'busy', waiting_for: null };
    case 'PermissionRequest':
      return { status: 'wait', waiting_for: str(h.tool_name) ? `permission: ${str(h.tool_name)}` : 'permission' };
    case 'Notification': {
      // Claude: notification_type permission_prompt / elicitation_dialog wait for the person; an
      // idle_prompt ("waiting for your input") is the idle it already is. Gemini: ToolPermission.
      const type = str(h.notification_type) ?? '';
      const message = str(h.message) ?? null;
      if (type === 'permission_prompt' || type === 'ToolPermission' || type === 'elicitation_dialog')
        return { status: 'wait', waiting_for: message ?? type };
      if (!type && message && /permission/i.test(message)) return { status: 'wait', waiting_for: message };
      return {};
    }
    case 'Stop':
    case 'AfterAgent': // Gemini
      return { status: 'idle', waiting_for: null };
    case 'SessionEnd':
      return { status: 'done', waiting_for: null };
    case 'SessionStart':
      return { status: 'idle', waiting_for: null };
    default:
      // SubagentStart/SubagentStop and the rest: the main session's status does not change.
      return {};
  }
}

/** A telemetry line (written by the OTLP receiver, src/core/live/otlp.ts): counted for its session, no status (batched, late). */
function parseOtelLine(rec: Rec): LiveEvent[] | null {
  const o = rec.otel;
  if (!isObject(o)) return null;
  const sessionId = str(o.session_id);
  const at = str(o.timestamp) ?? str(rec.received_at);
  const atMs = at ? Date.parse(at) : NaN;
  if (!sessionId || !Number.isFinite(atMs)) return null;
  return [
    { kind: 'live', ts: at!, session_id: sessionId, source: 'otel', event: str(o.event) ?? 'unknown', at_ms: atMs },
  ];
}

/** One spool line → the live event it stands for, or null for a line that is not one. */
export function parseSpoolLine(line: string): LiveEvent[] | null {
  const rec = JSON.parse(line) as unknown;
  if (isObject(rec) && rec.source === 'otel') return parseOtelLine(rec);
  if (!isObject(rec) || !isObject(rec.hook)) return null;
  const h = rec.hook;
  const sessionId = str(h.session_id) ?? str(h.sessionId) ?? str(h['thread-id']);
  const at = str(rec.received_at);
  const atMs = at ? Date.parse(at) : NaN;
  if (!sessionId || !Number.isFinite(atMs)) return null;
  const event = str(h.hook_event_name) ?? str(h.type) ?? 'unknown';
  const ev: LiveEvent = {
    kind: 'live',
    ts: at!,
    session_id: sessionId,
    source: 'hook',
    event,
    at_ms: atMs,
    pid: typeof rec.ppid === 'number' && rec.ppid > 1 ? rec.ppid : null,
    process_started_at_ms: typeof rec.ppid_started_at_ms === 'number' ? rec.ppid_started_at_ms : null,
    ...hookStatus(h),
  };
  // Codex `notify` (agent-turn-complete): the turn ended.
  if (event === 'agent-turn-complete') ev.status = 'idle';
  if (event === 'SessionStart') ev.start_source = str(h.source) ?? 'startup';
  return [ev];
}

export const spoolAdapter: LineSourceAdapter = {
  id: SPOOL_FRAMEWORK,
  displayName: 'Hook spool',
  icon: 'radio-tower',
  format: 'lines',
  // Not an agent: the agents' hook events and telemetry, kept in the extension's storage (SourceEnv.spoolDir); no session is its own.
  traits: {
    sharedProcess: false,
    hooks: 'none',
    costFigure: null,
    modelProvider: null,
    defaultPaths: { linux: [], darwin: [], win32: [] },
  },

  roots(env: SourceEnv): string[] {
    return env.spoolDir ? [env.spoolDir] : [];
  },

  watchDirs(root: string): string[] {
    return [root];
  },

  classify(root: string, filePath: string): DiscoveredFile | null {
    if (path.dirname(filePath) !== root || !HOOK_SPOOL_FILE.test(path.basename(filePath))) return null;
    return { path: filePath, session_id: null, parent_session_id: null, agent_id: null, root };
  },

  parseLine(line: string) {
    return parseSpoolLine(line);
  },
};
