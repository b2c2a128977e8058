import { ampAdapter } from './amp';
import { claudeAdapter } from './claude';
import { codexAdapter } from './codex';
import { copilotAdapter } from './copilot';
import { cursorAdapter } from './cursor';
import { geminiAdapter } from './gemini';
import { opencodeAdapter } from './opencode';
import { spoolAdapter } from './spool';
import type { SourceAdapter, SourceEnv } from './types';

/** Every agent Agent Handler reads. Adding an agent: its adapter file, its fixtures, one line here. */
export const ADAPTERS: SourceAdapter[] = [claudeAdapter, codexAdapter, geminiAdapter, opencodeAdapter, copilotAdapter, cursorAdapter, ampAdapter, spoolAdapter];

export function adapterFor(framework: string): SourceAdapter | undefined {
  return ADAPTERS.find((a) => a.id === framework);
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
