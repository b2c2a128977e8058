import * as os from 'node:os';
import type { AgentSettings, PricingSettings, QueryMap, WorkerInit } from '../core/ingest/protocol';
import type { SyncInclude, SyncSettings } from '../core/sync/types';
import { sanitizeOverrides } from '../core/pricing/settings';
import { ADAPTERS } from '../core/sources/registry';
import { getConfiguration, onDidChangeConfiguration } from './apis/workspace.apis';
import type { IDisposable } from './disposable';

/**
 * The `agentHandler.*` settings the indexing worker works by: read when it starts, and sent again
 * (the `settings` query) whenever one of those it can apply live changes. The views read their own
 * settings (grouping, status bar, budget) where they use them.
 */

export type WorkerSettings = QueryMap['settings']['args'];

interface Warn {
  warn(message: string): void;
}

function pricingSettings(log: Warn): PricingSettings {
  const c = getConfiguration('agentHandler.pricing');
  const { overrides, problems } = sanitizeOverrides(c.get<unknown>('overrides', {}));
  for (const p of problems) log.warn(p);
  return { overrides, refresh: c.get<boolean>('refresh', false) };
}

const SYNC_INCLUDE: readonly SyncInclude[] = ['titles', 'prompts'];

/**
 * `agentHandler.sync.*`, with the password kept in SecretStorage when there is one (memory only: it
 * travels to the worker in a message, never to a file). The machine id is the worker's to fill in.
 */
export function syncSettings(password?: string): SyncSettings {
  const c = getConfiguration('agentHandler.sync');
  const include = c.get<unknown>('include', []);
  return {
    enabled: c.get<boolean>('enabled', false),
    postgres: c.get<string>('postgres', ''),
    ...(password ? { password } : {}),
    include: Array.isArray(include) ? SYNC_INCLUDE.filter((i) => include.includes(i)) : [],
    machineId: '',
    machineName: c.get<string>('machineName', '').trim() || os.hostname(),
  };
}

export function workerSettings(log: Warn): WorkerSettings {
  const c = getConfiguration('agentHandler');
  const agents: AgentSettings = { extraRoots: {}, disabled: [] };
  for (const a of ADAPTERS) {
    const key = a.settingsKey ?? a.id;
    if (!c.get<boolean>(`agents.${key}.enabled`, true)) agents.disabled.push(a.id);
    agents.extraRoots[a.id] = c.get<string[]>(`agents.${key}.extraRoots`, []);
  }
  return {
    status: {
      busyWindowMs: 5 * 60_000,
      idleWindowMs: Math.max(1, c.get<number>('idleAfterMinutes', 30)) * 60_000,
    },
    agents,
    pricing: pricingSettings(log),
    // On by default: it does something only when gh is installed and logged in, and never prompts.
    pullRequests: { gh: c.get<boolean>('pullRequests.useGhCli', true) },
  };
}

/** Where the extension keeps its files (all under its global storage). */
export interface StoragePaths {
  storeFile: string;
  /** Our hook script and telemetry receiver append here; the worker reads it like a transcript folder. */
  spoolDir: string;
  /** The telemetry receiver's port, for Show Telemetry Setup. */
  endpointFile: string;
}

/** Everything the worker starts with: the paths, this process's environment, and the settings. */
export function workerInit(paths: StoragePaths, log: Warn): WorkerInit {
  const s = workerSettings(log);
  const c = getConfiguration('agentHandler');
  return {
    storeFile: paths.storeFile,
    env: { ...process.env },
    home: os.homedir(),
    agents: s.agents,
    status: s.status,
    pricing: s.pricing,
    pullRequests: s.pullRequests,
    spoolDir: paths.spoolDir,
    telemetry: {
      enabled: c.get<boolean>('telemetry.receiver', false),
      endpointFile: paths.endpointFile,
    },
    rescanIntervalMs: Math.max(5, c.get<number>('rescanIntervalSeconds', 60)) * 1000,
    machineId: c.get<string>('machineId', ''),
    // Without the stored password: SyncController sends it once SecretStorage has answered.
    ...(c.get<boolean>('sync.enabled', false) ? { sync: syncSettings() } : {}),
  };
}

/** Sends the worker its settings again when one it applies live changes (the others need a reload). */
export function forwardSettingsChanges(send: (settings: WorkerSettings) => void, log: Warn): IDisposable {
  return onDidChangeConfiguration((e) => {
    if (
      e.affectsConfiguration('agentHandler.idleAfterMinutes') ||
      e.affectsConfiguration('agentHandler.agents') ||
      e.affectsConfiguration('agentHandler.pricing') ||
      e.affectsConfiguration('agentHandler.pullRequests')
    ) {
      send(workerSettings(log));
    }
  });
}
