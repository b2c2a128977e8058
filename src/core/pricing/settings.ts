/**
 * The small, dependency-free part of pricing that the VS Code side needs too (settings validation,
 * comparing two figures): kept apart from ./index.ts so the extension host bundle does not carry
 * the price data, which lives in the worker.
 */

/** A user's own prices for a model id, per million tokens (`agentHandler.pricing.overrides`). */
export interface PriceOverride {
  input: number;
  output: number;
  cache_read?: number;
  cache_write?: number;
  /** 1-hour cache writes; defaults to cache_write. */
  cache_write_1h?: number;
}

export type PriceOverrides = Record<string, PriceOverride>;

/**
 * The usable part of a user's `agentHandler.pricing.overrides`: entries with numeric, non-negative
 * `input` and `output` (the cache prices are optional). Everything else is named in `problems`.
 */
export function sanitizeOverrides(raw: unknown): { overrides: PriceOverrides; problems: string[] } {
  const overrides: PriceOverrides = {};
  const problems: string[] = [];
  if (raw === null || raw === undefined) return { overrides, problems };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { overrides, problems: ['agentHandler.pricing.overrides must be an object keyed by model id'] };
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  for (const [model, value] of Object.entries(raw as Record<string, unknown>)) {
    const v = value as Record<string, unknown> | null;
    if (!v || typeof v !== 'object' || !ok(v.input) || !ok(v.output)) {
      problems.push(
        `price override for ${model} ignored: it needs numeric "input" and "output" prices per million tokens`,
      );
      continue;
    }
    const o: PriceOverride = { input: v.input as number, output: v.output as number };
    for (const k of ['cache_read', 'cache_write', 'cache_write_1h'] as const) {
      if (v[k] === undefined) continue;
      if (ok(v[k])) o[k] = v[k] as number;
      else problems.push(`price override for ${model}: "${k}" is not a non-negative number; ignored`);
    }
    overrides[model] = o;
  }
  return { overrides, problems };
}

export interface AgentComparison {
  ours_usd: number;
  agent_usd: number;
  /** (ours − agent) / agent, in percent. */
  difference_pct: number;
  /** The two differ by more than 1 %. */
  differs: boolean;
  /** When the agent's figure is per request: how many requests carry one (the comparison covers those only). */
  requests?: number;
}

/** Our figure beside the agent's own total; a difference over 1 % is flagged. */
export function compareWithAgent(ours: number, agent: number | null): AgentComparison | null {
  if (agent === null || agent === undefined || !Number.isFinite(agent)) return null;
  const diff = agent === 0 ? (ours === 0 ? 0 : 100) : ((ours - agent) / agent) * 100;
  return { ours_usd: ours, agent_usd: agent, difference_pct: diff, differs: Math.abs(diff) > 1 };
}
