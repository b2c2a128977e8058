import { ADAPTERS } from '../sources/registry';
import type { SourceAdapter } from '../sources/types';
import type { AgentSettings } from './protocol';

/**
 * The `agentHandler.agents.*.enabled` settings in one place: the indexer reads only the enabled
 * agents, and every answer drops what the store still holds of a disabled one (rows indexed before
 * it was turned off stay in the store, so turning it on again costs no re-read).
 */
export class EnabledAgents {
  constructor(readonly settings: AgentSettings) {}

  /** The adapters the indexer runs. */
  adapters(): SourceAdapter[] {
    return ADAPTERS.filter((a) => !this.isDisabled(a.id));
  }

  /** The rows (sessions, days, search hits, …) of enabled agents only, in their order. */
  only<T extends { framework: string }>(rows: T[]): T[] {
    return rows.filter((r) => !this.isDisabled(r.framework));
  }

  private isDisabled(framework: string): boolean {
    return this.settings.disabled.includes(framework);
  }
}
