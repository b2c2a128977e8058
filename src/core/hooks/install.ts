import {
  type Node as JsonNode,
  type ParseError,
  findNodeAtLocation,
  getNodeValue,
  parse,
  parseTree,
} from 'jsonc-parser';
import * as path from 'node:path';

/**
 * Installing and removing our hook entries in an agent's own settings file, as text edits that keep
 * the user's formatting, comments and every other hook (jsonc-parser). Pure: the caller reads and
 * writes the files (after showing the change). Install is idempotent; removal takes out exactly
 * what install put in, so install + remove gives the original bytes back.
 */

/** What marks a hook entry as ours: its command runs our spool script. */
export const HOOK_SCRIPT_NAME = 'hook-spool.js';

export type HookAgent = 'claude' | 'codex' | 'gemini' | 'copilot';

export interface HookTarget {
  agent: HookAgent;
  displayName: string;
  /** The settings file edited (created when missing). */
  file: string;
  /** Hook events we register, in the agent's own names. */
  events: string[];
  /**
   * `groups`: `hooks.<Event>: [{matcher?, hooks: [{type, command, timeout}]}]` (Claude, Codex, Gemini);
   * `flat`: `{version: 1, hooks: {<Event>: [{type, bash, timeoutSec}]}}` in a file of our own (Copilot);
   * `toml-notify`: Codex's `notify` in config.toml, chained to the user's own (codexNotify.ts).
   */
  layout: 'groups' | 'flat' | 'toml-notify';
  /** The handler's timeout in the unit the agent reads (`timeout` s for Claude/Codex, ms for Gemini, `timeoutSec` for Copilot). */
  timeout: number;
  /** What the user must do after installing, if anything (Codex asks to trust new hooks). */
  note?: string;
}

/** The settings files for each agent, from the environment (the same overrides the adapters honour). */
export function hookTargets(home: string, env: Record<string, string | undefined>): HookTarget[] {
  const claudeDir = env.CLAUDE_CONFIG_DIR || path.join(home, '.claude');
  const codexDir = env.CODEX_HOME || path.join(home, '.codex');
  const geminiDir = env.GEMINI_CLI_HOME ? path.join(env.GEMINI_CLI_HOME, '.gemini') : path.join(home, '.gemini');
  const copilotDir = env.COPILOT_HOME || path.join(home, '.copilot');
  return [
    {
      agent: 'claude',
      displayName: 'Claude Code',
      file: path.join(claudeDir, 'settings.json'),
      events: [
        'SessionStart',
        'UserPromptSubmit',
        'PreToolUse',
        'PostToolUse',
        'PermissionRequest',
        'Notification',
        'Stop',
        'SubagentStop',
        'PreCompact',
        'SessionEnd',
      ],
      layout: 'groups',
      timeout: 5,
    },
    {
      agent: 'codex',
      displayName: 'Codex',
      file: path.join(codexDir, 'hooks.json'),
      events: ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PermissionRequest', 'PostToolUse', 'Stop'],
      layout: 'groups',
      timeout: 5,
      note: 'Codex runs new hooks only once you trust them: start `codex`, open /hooks and approve the Agent Handler entries (or enable `[features] codex_hooks = true` on older versions).',
    },
    {
      agent: 'codex',
      displayName: 'Codex (notify in config.toml)',
      file: path.join(codexDir, 'config.toml'),
      events: ['agent-turn-complete'],
      layout: 'toml-notify',
      timeout: 0,
      note: 'Codex runs notify after every turn (idle); the lifecycle hooks (hooks.json) give busy and waiting too. Your own notify, if any, still runs.',
    },
    {
      agent: 'gemini',
      displayName: 'Gemini CLI',
      file: path.join(geminiDir, 'settings.json'),
      events: [
        'SessionStart',
        'BeforeAgent',
        'BeforeTool',
        'AfterTool',
        'Notification',
        'AfterAgent',
        'PreCompress',
        'SessionEnd',
      ],
      layout: 'groups',
      timeout: 5000,
    },
    {
      agent: 'copilot',
      displayName: 'Copilot CLI',
      // A file of our own in Copilot's hooks folder: nothing of the user's is edited at all.
      file: path.join(copilotDir, 'hooks', 'agent-handler.json'),
      // PascalCase names: Copilot then sends the Claude-compatible snake_case payload the spool reads.
      events: [
        'SessionStart',
        'UserPromptSubmit',
        'PreToolUse',
        'PostToolUse',
        'PermissionRequest',
        'Notification',
        'Stop',
        'PreCompact',
        'SessionEnd',
      ],
      layout: 'flat',
      timeout: 5,
    },
  ];
}

/** Quotes one argument for the POSIX shell (or cmd.exe) the agent runs its hook command with. */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `"${arg.replace(/"/g, '""')}"`;
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The hook command line: `<node> <script> <spool dir> <agent>`, each part quoted. */
export function hookCommand(
  node: string,
  script: string,
  spoolDir: string,
  agent: HookAgent,
  platform: NodeJS.Platform = process.platform,
): string {
  return [node, script, spoolDir, agent].map((a) => shellQuote(a, platform)).join(' ');
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOurHandler(h: unknown): boolean {
  if (!isObject(h)) return false;
  const cmd = typeof h.command === 'string' ? h.command : typeof h.bash === 'string' ? h.bash : '';
  return cmd.includes(HOOK_SCRIPT_NAME);
}

function isOurs(entry: unknown, layout: HookTarget['layout']): boolean {
  if (layout === 'flat') return isOurHandler(entry);
  return isObject(entry) && Array.isArray(entry.hooks) && entry.hooks.length > 0 && entry.hooks.every(isOurHandler);
}

function ourEntry(target: HookTarget, command: string): Json {
  if (target.layout === 'flat') return { type: 'command', bash: command, timeoutSec: target.timeout };
  return { hooks: [{ type: 'command', command, timeout: target.timeout }] };
}

/** The file's own indentation unit and line ends, so inserted text looks like the rest. */
export function formattingOf(text: string): { unit: string; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /^([ \t]+)\S/m.exec(text);
  if (indented?.[1]?.startsWith('\t')) return { unit: '\t', eol };
  return { unit: indented ? indented[1]! : '  ', eol };
}

function parseSettings(text: string, file: string): Json {
  const errors: ParseError[] = [];
  const doc = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length)
    throw new Error(
      `${file} is not valid JSON (error at offset ${errors[0]!.offset}); fix it first, nothing was changed`,
    );
  if (doc === undefined) return {};
  if (!isObject(doc)) throw new Error(`${file} does not hold a JSON object; nothing was changed`);
  return doc;
}

function hooksOf(doc: Json): Json | undefined {
  return isObject(doc.hooks) ? doc.hooks : undefined;
}

/** Whether the file already has our hook for every event. */
export function isInstalled(text: string, target: HookTarget): boolean {
  const hooks = hooksOf(parseSettings(text, target.file));
  return target.events.every(
    (e) => Array.isArray(hooks?.[e]) && (hooks![e] as unknown[]).some((x) => isOurs(x, target.layout)),
  );
}

// Our own minimal text edits (jsonc-parser's `modify` re-formats neighbouring values, so removing
// what it inserted would not give the original bytes back). Each insertion goes right after the
// last member of its array or object, and removal deletes exactly that span again.

function replaceRange(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** The whitespace that starts the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function pretty(value: unknown, indent: string, f: { unit: string; eol: string }): string {
  return JSON.stringify(value, null, f.unit)
    .split('\n')
    .join(f.eol + indent);
}

/** Appends `member` (an array element, or `"key": value` for an object) to a container node. */
function appendMember(
  text: string,
  container: JsonNode,
  member: (indent: string) => string,
  f: { unit: string; eol: string },
): string {
  const children = container.children ?? [];
  const last = children[children.length - 1];
  if (last) {
    const multiline = text.slice(container.offset, last.offset).includes('\n');
    const indent = multiline ? lineIndent(text, last.offset) : '';
    const end = last.offset + last.length;
    return replaceRange(text, end, end, multiline ? `,${f.eol}${indent}${member(indent)}` : `, ${member(indent)}`);
  }
  const outer = lineIndent(text, container.offset);
  const inner = outer + f.unit;
  return replaceRange(
    text,
    container.offset,
    container.offset + container.length,
    `${text[container.offset]}${f.eol}${inner}${member(inner)}${f.eol}${outer}${text[container.offset + container.length - 1]}`,
  );
}

/** Removes one member of a container node: the inverse of appendMember. */
function removeMember(text: string, container: JsonNode, index: number): string {
  const children = container.children ?? [];
  const node = children[index]!;
  if (index > 0) {
    const prev = children[index - 1]!;
    return replaceRange(text, prev.offset + prev.length, node.offset + node.length, '');
  }
  if (children.length > 1) return replaceRange(text, node.offset, children[1]!.offset, '');
  return replaceRange(text, container.offset + 1, container.offset + container.length - 1, '');
}

/** The text with our hook added for every event that lacks it (unchanged when all are there). */
export function installHooks(text: string, target: HookTarget, command: string): string {
  let out = text.trim() === '' ? '{}\n' : text;
  parseSettings(out, target.file);
  const f = formattingOf(out);
  if (target.layout === 'flat' && !findNodeAtLocation(parseTree(out)!, ['version'])) {
    out = appendMember(out, parseTree(out)!, (i) => `"version": ${pretty(1, i, f)}`, f);
  }
  for (const event of target.events) {
    const root = parseTree(out, [], { allowTrailingComma: true })!;
    const hooksNode = findNodeAtLocation(root, ['hooks']);
    const entry = ourEntry(target, command);
    if (!hooksNode || hooksNode.type !== 'object') {
      if (hooksNode) throw new Error(`${target.file}: "hooks" is not an object; nothing was changed`);
      out = appendMember(out, root, (i) => `"hooks": ${pretty({ [event]: [entry] }, i, f)}`, f);
      continue;
    }
    const listNode = findNodeAtLocation(hooksNode, [event]);
    if (!listNode) {
      out = appendMember(out, hooksNode, (i) => `${JSON.stringify(event)}: ${pretty([entry], i, f)}`, f);
      continue;
    }
    if (listNode.type !== 'array') throw new Error(`${target.file}: hooks.${event} is not a list; nothing was changed`);
    const list = getNodeValue(listNode) as unknown[];
    if (list.some((x) => isOurs(x, target.layout))) continue;
    out = appendMember(out, listNode, (i) => pretty(entry, i, f), f);
  }
  return out;
}

/**
 * The text without our hooks: only entries running our script go; an event list or `hooks` object
 * left empty by that goes too (install created it).
 */
export function removeHooks(text: string, target: HookTarget): string {
  if (text.trim() === '') return text;
  parseSettings(text, target.file);
  let out = text;
  for (;;) {
    const root = parseTree(out, [], { allowTrailingComma: true })!;
    const hooksProp = root.children?.findIndex((p) => p.children?.[0]?.value === 'hooks') ?? -1;
    const hooksNode = hooksProp >= 0 ? root.children![hooksProp]!.children![1]! : undefined;
    if (!hooksNode || hooksNode.type !== 'object') return out;
    // One removal per pass, re-parsing after each: offsets stay right.
    let changed = false;
    for (let p = (hooksNode.children?.length ?? 0) - 1; p >= 0 && !changed; p--) {
      const listNode = hooksNode.children![p]!.children?.[1];
      if (!listNode || listNode.type !== 'array') continue;
      const items = listNode.children ?? [];
      const ours = items.map((n, i) => (isOurs(getNodeValue(n), target.layout) ? i : -1)).filter((i) => i >= 0);
      if (ours.length === 0) continue;
      out =
        ours.length === items.length
          ? removeMember(out, hooksNode, p)
          : removeMember(out, listNode, ours[ours.length - 1]!);
      changed = true;
    }
    if (!changed) return out;
    // The hooks object emptied by this pass goes too (install created it).
    const again = findNodeAtLocation(parseTree(out, [], { allowTrailingComma: true })!, ['hooks']);
    if (again && again.type === 'object' && (again.children?.length ?? 0) === 0) {
      const r = parseTree(out, [], { allowTrailingComma: true })!;
      return removeMember(
        out,
        r,
        r.children!.findIndex((pp) => pp.children?.[0]?.value === 'hooks'),
      );
    }
  }
}
