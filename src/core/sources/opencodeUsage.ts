import type { TokenCounts } from '../model/session';
import type * as PriceProviders from './priceProviders';
import { isObject, num } from './records';

/**
 * OpenCode's usage as the store counts and prices it (opencode.ts reads the records): its token
 * kinds, and which price-list provider a (providerID, modelID) is priced as.
 */

/** Providers that run on the user's machine: never priced by model name. */
const LOCAL_PROVIDERS = new Set(['ollama', 'lmstudio', 'llama.cpp', 'llamacpp', 'local']);

/** OpenCode `tokens{input, output, reasoning, cache{read, write}}` → the store's token kinds. */
export function opencodeTokens(t: unknown): TokenCounts {
  const o = isObject(t) ? t : {};
  const cache = isObject(o.cache) ? o.cache : {};
  const write = num(cache.write);
  return {
    // Fresh input: OpenCode already subtracts cached tokens.
    input: num(o.input),
    // Reasoning is part of output (see the file comment).
    output: num(o.output),
    cache_read: num(cache.read),
    cache_write: write,
    // Some builds split the write by TTL; the 1-hour part is priced higher.
    cache_write_1h: Math.min(num(cache.write1h), write),
  };
}

/**
 * The price-list provider and model of an OpenCode (providerID, modelID): the genai-prices id of a
 * provider it knows (aliases too: `amazon-bedrock` → aws, `google-vertex-anthropic` → anthropic,
 * `xai` → x-ai); for a gateway it does not know (OpenCode Zen `opencode`, custom ones) no provider,
 * so the model name alone decides, after a `vendor/` prefix naming a known provider is split off;
 * local runtimes (ollama, lmstudio) keep their id, so they are never priced as a cloud model.
 */
export function priceProvider(
  providerId: string | null,
  modelId: string | null,
): { provider: string | null; model: string | null } {
  if (!providerId) return { provider: null, model: modelId };
  if (LOCAL_PROVIDERS.has(providerId)) return { provider: providerId, model: modelId };
  const known = knownProvider(providerId);
  if (known) return { provider: known, model: modelId };
  const slash = modelId ? modelId.indexOf('/') : -1;
  if (modelId && slash > 0) {
    const inner = knownProvider(modelId.slice(0, slash));
    if (inner) return { provider: inner, model: modelId.slice(slash + 1) };
  }
  return { provider: null, model: modelId };
}

/** Loaded on first use (see priceProviders.ts). */
let priceProviders: typeof PriceProviders | undefined;

function knownProvider(id: string): string | null {
  priceProviders ??= require('./priceProviders') as typeof PriceProviders;
  return priceProviders.knownPriceProvider(id);
}
