import { ampAdapter } from './amp';
import { claudeAdapter } from './claude';
import { codexAdapter } from './codex';
import { copilotAdapter } from './copilot';
import { cursorAdapter } from './cursor';
import { geminiAdapter } from './gemini';
import { opencodeAdapter } from './opencode';
import { spoolAdapter } from './spool';
import type { AgentTraits, SourceAdapter, SourceEnv } from './types';

/** Every agent Agent Handler reads. Adding an agent: its adapter file, its fixtures, one line here. */
export const ADAPTERS: SourceAdapter[] = [
  claudeAdapter,
  codexAdapter,
  geminiAdapter,
  opencodeAdapter,
  copilotAdapter,
  cursorAdapter,
  ampAdapter,
  spoolAdapter,
];

export function adapterFor(framework: string): SourceAdapter | undefined {
  return ADAPTERS.find((a) => a.id === framework);
}

/** What an agent's adapter declares of it (shared process, hooks, cost figure, default folders); undefined for an agent not read here. */
export function agentTraits(framework: string): AgentTraits | undefined {
  return adapterFor(framework)?.traits;
}

/**
 * How the price rule names the agent's own session figure a gap was filled from: "Claude Code
 * cost-state". An agent that declares no such figure (or none known) is named by its id, the figure
 * still called `cost-state`, as the rule always said.
 */
export function agentCostFigureName(framework: string | null): string {
  const adapter = framework === null ? undefined : adapterFor(framework);
  if (adapter?.traits.costFigure) return `${adapter.displayName} ${adapter.traits.costFigure}`;
  return `${framework ?? 'agent'} cost-state`;
}

/** The environment adapters read their default locations from. */
export function sourceEnvFrom(
  env: Record<string, string | undefined>,
  home: string,
  extraRoots?: Record<string, string[]>,
  spoolDir?: string,
): SourceEnv {
  return { env, home: env.HOME || home, extraRoots, spoolDir };
}
