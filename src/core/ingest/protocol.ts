import type { StatusSettings } from '../model/status';
import type { PriceOverrides } from '../pricing';
import type { Explanation } from '../pricing/report';
import type { ReceiverStats } from '../live/otlp';
import type { FoundPr } from '../git/pr';
import type { PrSummary } from '../store/pullRequests';
import type { BranchSummary, Diagnostics, SessionView } from '../store/queries';
import type { Totals } from '../store/totals';
import type { SearchHit, SearchIndexSize, SearchProgress } from '../store/search';
import type { DailyOptions, DailyRow } from '../store/daily';
import type { SessionDetails } from '../store/details';
import type { DashboardData, DashboardOptions } from '../store/dashboard';
import type { RemoteSession, SharedTotals, SyncSettings, SyncState } from '../sync/types';

/** Messages between the extension host (client) and the indexing worker. */

/** Which agents are read, and from which extra folders (per framework id). */
export interface AgentSettings {
  extraRoots: Record<string, string[]>;
  disabled: string[];
}

/** `agentHandler.pricing.*`: the user's prices, and whether newer price data may be fetched (daily). */
export interface PricingSettings {
  overrides: PriceOverrides;
  refresh: boolean;
}

/** Which network sources of pull requests are on (docs: README "Privacy"). */
export interface PrSettings {
  /** `gh pr view` when the gh CLI is installed (and logged in). */
  gh: boolean;
}

export interface WorkerInit {
  storeFile: string;
  env: Record<string, string | undefined>;
  home: string;
  agents: AgentSettings;
  status: StatusSettings;
  rescanIntervalMs: number;
  /** The `agentHandler.machineId` setting (blank: the machine's own id, see src/core/machine.ts). */
  machineId?: string;
  pricing: PricingSettings;
  pullRequests?: PrSettings;
  /** Where the hook script and the telemetry receiver append live events (read like transcripts). */
  spoolDir?: string;
  /**
   * The opt-in OTLP/HTTP receiver: hosted by the store writer only; its port is written to
   * `endpointFile` (and reused on the next start when free) for the "show telemetry setup" command.
   */
  telemetry?: { enabled: boolean; endpointFile: string };
  /** `agentHandler.sync.*` with the password from SecretStorage (memory only); absent or disabled: no connection. */
  sync?: SyncSettings;
}

/**
 * What sync adds to a branch's or a PR's answer: every machine's requests for the same repository and
 * branch or PR, this machine's part taken from the local index. Absent when sync is off or has not
 * read the shared database yet, so a local-only answer is exactly what it was before sync existed.
 */
export interface AcrossMachines {
  shared?: SharedTotals;
}

export type BranchResult = BranchSummary & AcrossMachines & { pr_summary?: (PrSummary & AcrossMachines) | null };

export interface QueryMap {
  sessions: { args: Record<string, never>; result: SessionView[] };
  /** `toplevel`: the workspace's working tree, where `gh` and `git diff` run (lookups start in the background). */
  branch: { args: { gitDir: string; branch: string; toplevel?: string }; result: BranchResult };
  pr: { args: { gitDir: string; number: number }; result: (PrSummary & AcrossMachines) | null };
  pullRequests: { args: Record<string, never>; result: PrSummary[] };
  /** What the extension host found through the VS Code GitHub sign-in (source `github`); null = no PR. */
  setPrLookup: { args: { gitDir: string; branch: string; pr: FoundPr | null }; result: null };
  total: { args: Record<string, never>; result: Totals & { requests: number } };
  diagnostics: {
    args: Record<string, never>;
    result: Diagnostics & ServiceState & { search_index: SearchIndexSize; sync?: SyncState };
  };
  details: { args: { sessionId: string }; result: { session: SessionView; details: SessionDetails } | null };
  dashboard: { args: DashboardOptions; result: DashboardData };
  daily: { args: DailyOptions; result: DailyRow[] };
  /** Searches the texts indexed so far; searchProgress says whether that is all of them. */
  search: { args: { text: string; includeAssistantText: boolean; limit?: number }; result: SearchHit[] };
  /** How far the search index is filled (the worker fills it when idle after a pass). */
  searchProgress: { args: Record<string, never>; result: SearchProgress };
  refresh: { args: Record<string, never>; result: null };
  rebuild: { args: Record<string, never>; result: null };
  settings: {
    args: {
      status: StatusSettings;
      agents: AgentSettings;
      pricing: PricingSettings;
      pullRequests?: PrSettings;
      sync?: SyncSettings;
    };
    result: null;
  };
  /** Other machines' sessions from the shared database (cached; read every minute): [] when sync is off. */
  otherSessions: { args: Record<string, never>; result: RemoteSession[] };
  syncState: { args: Record<string, never>; result: SyncState };
  /** Pushes now (writer) and reads the other machines again. */
  syncNow: { args: Record<string, never>; result: SyncState };
  explain: { args: { session_id: string } | { gitDir: string; branch: string }; result: Explanation | null };
}

export type QueryName = keyof QueryMap;

export interface ServiceState {
  role: 'writer' | 'reader' | 'starting';
  store_file: string;
  store_outcome: string;
  roots: { framework: string; root: string; exists: boolean }[];
  last_scan_at: string | null;
  last_scan_ms: number | null;
  /** How transcript changes are noticed in this process (writer: events + rescan; reader: none). */
  watcher_mode: string;
  store_size_bytes: number | null;
  schema_version: number;
  parser_version: number;
  /** Where the prices in use come from (the bundled data's version, or the refreshed data's date). */
  price_data: string;
  /** The OTLP receiver in this window (the writer, when it is on): what it took and refused. */
  telemetry_receiver: ({ port: number } & ReceiverStats) | null;
}

/**
 * A query and the arguments its name takes. Unparameterised it is any query with any query's
 * arguments: what a message can be on the wire, and what the service's query<N>() accepts when N is
 * every name (its handler table still answers each name with that name's types).
 */
export interface QueryMessage<N extends QueryName = QueryName> {
  type: 'query';
  id: number;
  name: N;
  args: QueryMap[N]['args'];
}

export type ToWorker = { type: 'init'; init: WorkerInit } | QueryMessage | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; sessions: number; outcome: string; role: ServiceState['role'] }
  | { type: 'changed'; reason: string }
  /** The first full pass, while it takes longer than a moment: one line (progressText) for the window's progress. */
  | { type: 'progress'; text: string }
  | {
      type: 'indexed';
      files_read: number;
      bytes_read: number;
      ms: number;
      sessions_changed: number;
      lines_skipped: number;
    }
  | { type: 'role'; role: ServiceState['role'] }
  /** Sync's state changed; `needs_password`: the server asked for a password and none was given. */
  | { type: 'sync'; state: SyncState; needs_password: boolean }
  | { type: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; message: string }
  | { type: 'result'; id: number; result?: unknown; error?: string }
  | { type: 'stopped' };
