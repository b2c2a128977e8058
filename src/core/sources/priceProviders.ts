import { findProvider } from '@pydantic/genai-prices';

/**
 * The price list's id of a provider an agent names (aliases too), or null when it does not know it.
 * A module of its own so that an adapter can load it on first use (opencodeUsage.ts): the price list
 * costs ~20 MB in every thread that loads it, and a parse worker (src/core/ingest/parsePool.ts)
 * that meets no such record should not.
 */
export function knownPriceProvider(id: string): string | null {
  try {
    return findProvider({ providerId: id })?.id ?? null;
  } catch {
    return null;
  }
}
