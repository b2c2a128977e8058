import type { AgentEvent } from '../model/events';

/** The environment an adapter reads its default locations from (process.env plus the home folder). */
export interface SourceEnv {
  home: string;
  env: Record<string, string | undefined>;
  /** The OS whose default folders and path rules apply; process.platform when not given (tests ask for others). */
  platform?: NodeJS.Platform;
  /** Extra roots the user configured, per adapter id. */
  extraRoots?: Record<string, string[]>;
  /** Where our hook script and telemetry receiver append live events (the extension's storage). */
  spoolDir?: string;
}

/** A transcript file an adapter found, with what its path alone tells. */
export interface DiscoveredFile {
  path: string;
  /** Session id known from the path (file stem), if any. */
  session_id: string | null;
  parent_session_id: string | null;
  agent_id: string | null;
  /** The config root it was found under (to find sibling files such as Claude's pid registry). */
  root: string;
}

/** Per-line context an adapter may need: what the file is (e.g. a subagent transcript). */
export interface LineContext {
  file: DiscoveredFile;
  /**
   * The adapter's own parse state for this file (JSON-serializable; mutate it freely). It is kept
   * with the file's byte offset, so incremental reads continue where the last one stopped, and it
   * starts empty whenever the file is read again from the start.
   */
  state: Record<string, unknown>;
}

/** One session found in a document (a file re-read whole on every change; may hold many sessions). */
export interface DocumentSession {
  session_id: string;
  parent_session_id: string | null;
  agent_id: string | null;
  events: AgentEvent[];
  /** Records of this session that could not be understood (skipped and counted, never fatal). */
  skipped?: number;
  skip_reason?: string | null;
}

/**
 * A default folder of an agent, from a base the roots helper (roots.ts) knows: `~` or `%USERPROFILE%`
 * (the home folder), `$XDG_CONFIG_HOME` or `$XDG_DATA_HOME` (their XDG defaults under the home
 * folder when unset). Typed so that a base it does not know cannot be written.
 */
export type DefaultPath = `${'~' | '%USERPROFILE%' | '$XDG_CONFIG_HOME' | '$XDG_DATA_HOME'}${'/' | '\\'}${string}`;

/** Where an agent keeps its files when nothing in the environment moves them, per OS (any other Unix reads `linux`). */
export interface DefaultPaths {
  readonly linux: readonly DefaultPath[];
  readonly darwin: readonly DefaultPath[];
  readonly win32: readonly DefaultPath[];
}

/**
 * What the rest of Agent Handler may know of an agent, declared by its adapter so that nothing
 * outside src/core/sources/ names an agent: the model's helpers (src/core/model/agents.ts),
 * pricing and the views read these through the registry.
 */
export interface AgentTraits {
  /** One process serves many sessions (Cursor's agent): a running pid says nothing about one session. */
  readonly sharedProcess: boolean;
  /**
   * `installable`: Agent Handler can install its hooks in the agent's settings (Install Hooks,
   * src/core/hooks/install.ts) and read live status, pid and revivals from them.
   * `agent-only`: the agent runs hooks or plugins of its own, but Agent Handler installs none there.
   * `none`: the agent has no hooks at all (Amp), so nothing only hooks tell ever exists for it.
   */
  readonly hooks: 'installable' | 'agent-only' | 'none';
  /**
   * The name of the agent's own cumulative cost figure for a session, kept beside ours for
   * comparison and to fill prices we lack (Claude Code's `cost-state`); null when it writes none.
   */
  readonly costFigure: string | null;
  /** The provider of the agent's bare model ids (Claude Code's `claude-…` are Anthropic's), for pricing; null when its models name their provider or vary. */
  readonly modelProvider: string | null;
  /** Its config roots when the environment names none, per OS (before the environment's and the user's own). */
  readonly defaultPaths: DefaultPaths;
}

/**
 * One per agent: where its files live and what its records mean. Adding an agent is one adapter
 * file, its fixtures, and one line in the registry.
 */
export interface SourceAdapter {
  /** The `framework` value of its sessions. */
  readonly id: string;
  readonly displayName: string;
  readonly traits: AgentTraits;
  /** The key of its settings (`agentHandler.agents.<key>.*`) where it differs from `id`: users' settings outlive a renamed id. */
  readonly settingsKey?: string;
  /** A codicon for the agent in the tree and pickers. */
  readonly icon: string;
  /**
   * `lines`: an append-only JSONL transcript, read incrementally line by line (parseLine).
   * `document`: a file read whole on every change (readDocument): JSON documents, SQLite stores,
   * logs whose later records rewrite earlier ones.
   */
  readonly format: 'lines' | 'document';
  /**
   * True when the agent records the git branch with every request (Claude's `gitBranch` on each
   * line): that branch is used as is. Otherwise each request is attributed from the working tree's
   * HEAD reflog at its time, falling back to the recorded (session-start) branch.
   */
  readonly branchPerRequest?: boolean;
  /** Config roots that exist or may appear (defaults + env overrides + user settings). */
  roots(env: SourceEnv): string[];
  /** Folders below a root to watch for transcripts (may not exist yet). */
  watchDirs(root: string): string[];
  /** Folders below a root neither walked nor watched (big folders that never hold transcripts). */
  ignoreDirs?(root: string): string[];
  /** Whether a path under a root is a transcript this adapter reads, and what the path tells. */
  classify(root: string, filePath: string): DiscoveredFile | null;
  /**
   * Turns one complete line into events. Throws (or returns null) for a line that is not a record
   * it understands; the caller counts such lines as skipped and goes on.
   */
  parseLine?(line: string, ctx: LineContext): AgentEvent[] | null;
  /**
   * `lines` adapters: events from side files (e.g. Copilot's workspace.yaml), emitted before the new
   * lines each time the transcript is read.
   */
  fileEvents?(file: DiscoveredFile): Promise<AgentEvent[]>;
  /** `document` adapters: every session the document holds, with its events in order. */
  readDocument?(file: DiscoveredFile): Promise<DocumentSession[]>;
  /**
   * `document` adapters whose data spans several files (SQLite + its -wal): a size and mtime that
   * change whenever any of them does. Default: the document's own stat.
   */
  signature?(file: DiscoveredFile): Promise<{ size: number; mtime_ms: number } | null>;
  /**
   * The agent's own registry of running processes, if it keeps one (Claude: `sessions/<pid>.json`),
   * each checked against the OS (pid and start time).
   */
  liveRegistry?(root: string): Promise<LiveProcess[]>;
  /** Folders below a root whose changes mean the live registry changed. */
  liveDirs?(root: string): string[];
  /** The shell-free command that resumes a session, if the agent has one. */
  resumeCommand?(sessionId: string): { command: string; args: string[] } | null;
}

/** One entry of an agent's live process registry. */
export interface LiveProcess {
  pid: number;
  session_id: string | null;
  status: string | null;
  waiting_for: string | null;
  started_at_ms: number | null;
  updated_at_ms: number | null;
  /** The pid exists and started when the registry says: the process is the agent's. */
  alive: boolean;
}

/** An adapter of append-only JSONL transcripts. */
export type LineSourceAdapter = SourceAdapter & {
  format: 'lines';
  parseLine(line: string, ctx: LineContext): AgentEvent[] | null;
};

/** An adapter of documents read whole. */
export type DocumentSourceAdapter = SourceAdapter & {
  format: 'document';
  readDocument(file: DiscoveredFile): Promise<DocumentSession[]>;
};
