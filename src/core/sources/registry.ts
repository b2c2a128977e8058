import { claudeAdapter } from './claude';
import type { SourceAdapter, SourceEnv } from './types';

/** Every agent Agent Handler reads. Adding an agent: its adapter file, its fixtures, one line here. */
export const ADAPTERS: SourceAdapter[] = [claudeAdapter];

export function adapterFor(framework: string): SourceAdapter | undefined {
  return ADAPTERS.find((a) => a.id === framework);
}

/** The environment adapters read their default locations from. */
export function sourceEnvFrom(env: Record<string, string | undefined>, home: string, extraRoots?: Record<string, string[]>): SourceEnv {
  return { env, home: env.HOME || home, extraRoots };
}
