import type { Totals } from '../store/totals';

/**
 * Multi-machine sync through a shared PostgreSQL (docs/sync.md): the shapes the core sync module,
 * the CLI and the extension share. Plain data only: nothing here opens a connection.
 */

/** What may be pushed beyond numbers, each only when the user opts in (`agentHandler.sync.include`). */
export type SyncInclude = 'titles' | 'prompts';

export interface SyncSettings {
  /** `agentHandler.sync.enabled`; the CLI's `sync` command is an explicit yes. */
  enabled: boolean;
  /** A libpq connection string or URL; its password may instead come from PGPASSWORD, ~/.pgpass or `password`. */
  postgres: string;
  /** Kept in VS Code's SecretStorage (never in settings.json); overrides the URL's password when set. */
  password?: string;
  include: SyncInclude[];
  /** This machine's id (src/core/machine.ts) and its human-readable name (hostname unless overridden). */
  machineId: string;
  machineName: string;
}

/** A machine that has pushed to the shared database. */
export interface MachineRef {
  machine_id: string;
  machine_name: string;
  last_push_at: string | null;
}

/** One machine's share of a total: its counted requests (a request two machines hold counts once, for one). */
export interface MachinePart extends Totals, MachineRef {
  requests: number;
  sessions: number;
  this_machine: boolean;
}

/** A branch's or a PR's totals across every machine, deduplicated by request key, split per machine. */
export interface SharedTotals extends Totals {
  requests: number;
  sessions: number;
  machines: MachinePart[];
}

/** Another machine's session as the shared database holds it (numbers; titles and prompts only when shared). */
export interface RemoteSession extends MachineRef {
  session_id: string;
  parent_session_id: string | null;
  framework: string | null;
  title: string | null;
  first_started_at: string | null;
  last_activity: string | null;
  last_ended_at: string | null;
  status: string | null;
  /** The normalised repository (GitHub `owner/repo`, else the remote URL without credentials). */
  repo: string | null;
  git_branch: string | null;
  github_pr: number | null;
  model: string | null;
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number | null;
  unpriced_requests: number;
}

/** Where sync stands, for the status bar tooltip, the log and Diagnostics. */
export interface SyncState {
  state: 'off' | 'connecting' | 'ok' | 'error';
  /** One line a person can act on when state is 'error' (never the password). */
  message: string | null;
  machine_id: string;
  machine_name: string;
  last_push_at: string | null;
  last_pull_at: string | null;
  /** Sessions changed locally and not yet acknowledged by the server. */
  pending_sessions: number;
  /** When the next attempt is due after an error (backoff), epoch ms. */
  retry_at: number | null;
}
