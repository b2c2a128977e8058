/**
 * The shapes of what the dashboard shows: computed by the store (store/daily.ts, store/dashboard.ts),
 * sent by the worker, drawn by the webview (webview/dashboard.ts), which imports them from here. No
 * import of its own, so the webview's browser build can take it.
 */

/** One (local day, agent, model) of counted requests (store/daily.ts). */
export interface DailyRow {
  /** YYYY-MM-DD in the time zone. */
  date: string;
  framework: string;
  model: string;
  requests: number;
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number;
  unpriced_requests: number;
  /** Sessions with at least one request that day, of this agent and model. */
  sessions: number;
}

export interface CostBar {
  key: string;
  cost_usd: number;
  tokens: number;
  requests: number;
}

export interface DashboardData {
  /** Every local day of the range, oldest first (days without requests too). */
  dates: string[];
  daily: DailyRow[];
  sessions_per_day: { date: string; sessions: number }[];
  by_branch: CostBar[];
  by_pr: CostBar[];
  by_project: CostBar[];
  totals: {
    cost_usd: number;
    requests: number;
    tokens_input: number;
    tokens_output: number;
    tokens_cache_read: number;
    tokens_cache_write: number;
    unpriced_requests: number;
  };
  /** Cache reads among all input-side tokens (input + cache read + cache write); null without any. */
  cache_read_share: number | null;
  costliest: {
    session_id: string;
    title: string | null;
    framework: string;
    git_branch: string | null;
    cost_usd: number;
    tokens: number;
    last_activity: string | null;
  }[];
  agents: string[];
  repos: { git_dir: string; label: string }[];
  time_zone: string;
  /**
   * Sync: each machine's cost and tokens per day of `dates` (this machine's from the local index),
   * every agent and repository. Absent when sync is off or has not read the shared database yet.
   */
  machines?: MachineSeries[];
}

export interface MachineSeries {
  machine_id: string;
  machine_name: string;
  this_machine: boolean;
  /** Aligned with DashboardData.dates. */
  cost_usd: number[];
  tokens: number[];
}
