import { calcPrice } from '@pydantic/genai-prices';
import type { TokenCounts } from '../model/session';

/**
 * Prices come from @pydantic/genai-prices' bundled, dated data (no network: its `updatePrices` is
 * never called). Each request is priced on its own, so a long-context tier applies to the whole
 * request whose input crossed the threshold, as providers bill it.
 */

export interface PriceInput {
  framework: string;
  model: string | null;
  /** The provider named by the record itself, if any (wins over the agent's default). */
  provider?: string | null;
  /** The agent's own figure for this request, used when the price data has no price. */
  vendor_cost_usd?: number | null;
  /** How many requests the tokens are the sum of (default 1): priced as that many average requests. */
  request_count?: number;
  tokens: TokenCounts;
  ts: string | null;
}

export interface PriceResult {
  cost_usd: number | null;
  priced: boolean;
  /** How the figure was made, for tooltips and "explain cost". */
  rule: string;
}

/** The provider a framework's bare model ids belong to. */
const PROVIDER_OF_FRAMEWORK: Record<string, string> = {
  claude_code: 'anthropic',
  codex: 'openai',
  gemini: 'google',
};

export function priceRequest(p: PriceInput): PriceResult {
  const t = p.tokens;
  if (t.input + t.output + t.cache_read + t.cache_write === 0) return { cost_usd: 0, priced: true, rule: 'no tokens' };
  const priced = priceFromList(p);
  if (!priced.priced && typeof p.vendor_cost_usd === 'number' && p.vendor_cost_usd > 0) {
    return { cost_usd: p.vendor_cost_usd, priced: true, rule: `the agent's own figure (${priced.rule})` };
  }
  return priced;
}

function priceFromList(p: PriceInput): PriceResult {
  // A row summing n requests is priced as n requests of its average size: per-request tiers (long
  // context) must not see the sum as one huge request.
  const n = Math.max(1, Math.floor(p.request_count ?? 1));
  const t = n === 1 ? p.tokens : {
    input: p.tokens.input / n,
    output: p.tokens.output / n,
    cache_read: p.tokens.cache_read / n,
    cache_write: p.tokens.cache_write / n,
    cache_write_1h: p.tokens.cache_write_1h / n,
  };
  if (!p.model) return { cost_usd: null, priced: false, rule: 'no model recorded' };
  const providerId = p.provider ?? PROVIDER_OF_FRAMEWORK[p.framework];
  const when = p.ts ? new Date(p.ts) : undefined;
  try {
    const result = calcPrice(
      {
        // genai-prices' input_tokens is the whole prompt: fresh input plus cache reads and writes.
        input_tokens: t.input + t.cache_read + t.cache_write,
        cache_read_tokens: t.cache_read,
        cache_write_tokens: t.cache_write,
        cache_write_1h_tokens: t.cache_write_1h,
        output_tokens: t.output,
      },
      p.model,
      { providerId, timestamp: when && !Number.isNaN(when.getTime()) ? when : undefined },
    );
    if (!result) return { cost_usd: null, priced: false, rule: `no price for ${p.model}` };
    return { cost_usd: result.total_price * n, priced: true, rule: `genai-prices ${result.provider.id}/${result.model.id}${n > 1 ? ` (${n} requests)` : ''}` };
  } catch (err) {
    return { cost_usd: null, priced: false, rule: `price error: ${(err as Error).message}` };
  }
}
