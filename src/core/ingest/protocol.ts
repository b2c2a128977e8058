import type { StatusSettings } from '../live/status';
import type { PriceOverrides } from '../pricing';
import type { Explanation } from '../pricing/report';
import type { BranchSummary, Diagnostics, SessionView, Totals } from '../store/queries';

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

export interface WorkerInit {
  storeFile: string;
  env: Record<string, string | undefined>;
  home: string;
  agents: AgentSettings;
  status: StatusSettings;
  rescanIntervalMs: number;
  pricing: PricingSettings;
}

export interface QueryMap {
  sessions: { args: Record<string, never>; result: SessionView[] };
  branch: { args: { gitDir: string; branch: string }; result: BranchSummary };
  total: { args: Record<string, never>; result: Totals & { requests: number } };
  diagnostics: { args: Record<string, never>; result: Diagnostics & ServiceState };
  refresh: { args: Record<string, never>; result: null };
  rebuild: { args: Record<string, never>; result: null };
  settings: { args: { status: StatusSettings; agents: AgentSettings; pricing: PricingSettings }; result: null };
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
  /** Where the prices in use come from (the bundled data's version, or the refreshed data's date). */
  price_data: string;
}

export type ToWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'query'; id: number; name: QueryName; args: unknown }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; sessions: number; outcome: string; role: ServiceState['role'] }
  | { type: 'changed'; reason: string }
  | { type: 'indexed'; files_read: number; bytes_read: number; ms: number; sessions_changed: number; lines_skipped: number }
  | { type: 'role'; role: ServiceState['role'] }
  | { type: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; message: string }
  | { type: 'result'; id: number; result?: unknown; error?: string }
  | { type: 'stopped' };
