import { calcPrice } from '@pydantic/genai-prices';
import type { TokenCounts } from '../model/session';
import type { StoredPriceInput } from '../store/requests';
import { agentTraits } from '../sources/registry';

/**
 * The one pricing function. Prices come from @pydantic/genai-prices' bundled, dated data (no
 * network unless the user turns `agentHandler.pricing.refresh` on, see ./refresh.ts). Each request
 * is priced on its own, so a long-context tier applies to the whole request whose input crossed the
 * threshold, as providers bill it (the library does this: a tier's price applies to every token of
 * a request whose total input is above the tier's start).
 *
 * Semantics checked against the library (test/unit/pricing.test.ts):
 * - its `input_tokens` is the whole prompt: fresh input plus cache reads plus cache writes; it
 *   subtracts the cache parts and prices them at their own rates;
 * - `cache_write_1h_tokens` is the 1-hour part of `cache_write_tokens`, priced at
 *   `cache_write_1h_mtok` (Anthropic: 2× base input) and the rest at the 5-minute rate (1.25×);
 * - dated ids (`claude-sonnet-4-5-20250929`) match by prefix in the library; ids it does not match
 *   (`…@20250929` on Vertex, `…-2025-09-29`) are retried without the date here;
 * - a provider prefix (`anthropic/claude-…`, OpenCode's `provider/model`) matches nothing in the
 *   library's Anthropic data: it is split here and the prefix used as the provider;
 * - "fast" speed is not in the library's provider data for the agents' own ids: the multiplier is
 *   applied here (FAST_MULTIPLIERS).
 */

/**
 * The bundled price data: the library's version and its release date on npm (the data is frozen at
 * release). test/unit/pricing.test.ts checks the version against the installed package, so a
 * dependency bump that forgets this line fails the tests.
 */
export const PRICE_DATA = { library: '@pydantic/genai-prices', version: '0.1.8', released: '2026-09-23' } as const;

/** Where the prices in use come from: the bundled data, or a refresh (set by ./refresh.ts). */
export const priceSource: { label: string; fetched_at: string | null } = {
  label: `${PRICE_DATA.library} ${PRICE_DATA.version} (bundled, released ${PRICE_DATA.released})`,
  fetched_at: null,
};

import type { PriceOverride, PriceOverrides } from './settings';

export { type PriceOverride, type PriceOverrides, sanitizeOverrides } from './settings';

export interface PriceInput {
  framework: string;
  model: string | null;
  /** The provider named by the record itself, if any (wins over the agent's default). */
  provider?: string | null;
  /** The agent's own figure for this request, used when the price data has no price. */
  vendor_cost_usd?: number | null;
  /** How many requests the tokens are the sum of (default 1): priced as that many average requests. */
  request_count?: number;
  /** The speed the request was served at (Claude `usage.speed`, Codex service tier): 'fast' costs more. */
  speed?: string | null;
  tokens: TokenCounts;
  ts: string | null;
  /** The user's own prices by model id; they win over the price data. */
  overrides?: PriceOverrides | null;
}

/** Per-million prices as applied to one request (the tier its input fell in, times any speed multiplier). */
export interface UnitPrices {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  cache_write_1h: number;
}

export interface PriceResult {
  cost_usd: number | null;
  priced: boolean;
  /** How the figure was made, for tooltips and "explain cost". */
  rule: string;
  /** The per-million prices applied, when the figure came from prices (not the agent's own figure). */
  unit_prices?: UnitPrices;
}

/** The provider a framework's bare model ids belong to: the adapter's `modelProvider` trait. */
function providerOfFramework(framework: string): string | null {
  return agentTraits(framework)?.modelProvider ?? null;
}

/** Provider names agents write as a model id prefix, mapped to the library's provider ids. */
const PROVIDER_ALIASES: Record<string, string> = {
  anthropic: 'anthropic',
  openai: 'openai',
  google: 'google',
  // A provider prefix in model ids (`gemini/gemini-2.5-pro`), not the Gemini CLI agent.
  // eslint-disable-next-line no-restricted-syntax
  gemini: 'google',
  'google-vertex': 'google',
  vertex: 'google',
  xai: 'x-ai',
  'x-ai': 'x-ai',
  mistral: 'mistral',
  deepseek: 'deepseek',
  groq: 'groq',
  openrouter: 'openrouter',
};

/**
 * "Fast" speed multipliers on the standard price, by model id prefix, per provider. A fast request
 * of a model not listed here is unpriced (never priced at the standard rate, which would be wrong).
 * Sources:
 * - Anthropic: Opus 4.6 fast mode $30/$150 per MTok vs $5/$25 standard = 6×
 *   (https://code.claude.com/docs/en/fast-mode, Opus 4.7 was priced alike); Opus 4.8 fast
 *   $10/$50 = 2× (Anthropic's Opus 4.8 announcement; genai-prices' own `claude-opus-4.8-fast` entry,
 *   "priced at 2x the standard Opus 4.8 rates"); Opus 5 fast $10/$50 = 2× (genai-prices'
 *   `anthropic/claude-opus-5-fast`, citing platform.claude.com/docs/en/about-claude/pricing#fast-mode-pricing).
 *   The multiplier applies to every token kind across the full context window.
 * - OpenAI Codex fast mode (`service_tier = "priority"`/`"fast"`): GPT-5.5 at 2.5× and GPT-5.4 at
 *   2× the standard rate (https://developers.openai.com/codex/speed).
 */
const FAST_MULTIPLIERS: Record<string, [prefix: string, multiplier: number][]> = {
  anthropic: [
    ['claude-opus-4-6', 6],
    ['claude-opus-4-7', 6],
    ['claude-opus-4-8', 2],
    ['claude-opus-5', 2],
  ],
  openai: [
    ['gpt-5.5', 2.5],
    ['gpt-5.4', 2],
  ],
};

function isFast(speed: string | null | undefined): boolean {
  return speed === 'fast' || speed === 'priority';
}

/** The fast multiplier of a model id (dots read as dashes for Anthropic ids, a date suffix ignored). */
export function fastMultiplier(providerId: string, model: string): number | null {
  let id = model.toLowerCase();
  if (providerId === 'anthropic') id = id.replace(/\./g, '-');
  id = undatedModelId(id) ?? id;
  for (const [prefix, k] of FAST_MULTIPLIERS[providerId] ?? []) if (id === prefix) return k;
  return null;
}

/** `claude-sonnet-4-5@20250929`, `gpt-4o-2024-08-06`, `claude-x-20250929` → the id without the date. */
export function undatedModelId(model: string): string | null {
  const m = /^(.+?)(?:@\d{8}|@\d{4}-\d{2}-\d{2}|-\d{4}-\d{2}-\d{2}|-\d{8})$/.exec(model);
  return m ? m[1] : null;
}

/** `anthropic/claude-sonnet-4-5` → { provider: 'anthropic', model: 'claude-sonnet-4-5' }. */
export function splitProviderPrefix(model: string): { provider: string | null; model: string } | null {
  const i = model.lastIndexOf('/');
  if (i <= 0 || i === model.length - 1) return null;
  const prefixes = model.slice(0, i).toLowerCase().split('/');
  // `openrouter/anthropic/claude-…`: the innermost known name says whose model it is.
  const known = [...prefixes].reverse().find((p) => PROVIDER_ALIASES[p] && p !== 'openrouter');
  return { provider: known ? PROVIDER_ALIASES[known] : null, model: model.slice(i + 1) };
}

/** Prices a stored request again (re-pricing, Explain Cost): the same rule as when it was read. */
export function priceStoredRequest(r: StoredPriceInput, overrides: PriceOverrides | null): PriceResult {
  return priceRequest({
    framework: r.framework,
    model: r.model,
    provider: r.provider,
    vendor_cost_usd: r.vendor_cost_usd,
    request_count: r.request_count,
    speed: r.speed,
    ts: r.ts,
    overrides,
    tokens: {
      input: r.input,
      output: r.output,
      cache_read: r.cache_read,
      cache_write: r.cache_write,
      cache_write_1h: r.cache_write_1h,
    },
  });
}

export function priceRequest(p: PriceInput): PriceResult {
  const t = p.tokens;
  if (t.input + t.output + t.cache_read + t.cache_write === 0) return { cost_usd: 0, priced: true, rule: 'no tokens' };
  const priced = priceFromList(p);
  if (!priced.priced && typeof p.vendor_cost_usd === 'number' && p.vendor_cost_usd > 0) {
    return { cost_usd: p.vendor_cost_usd, priced: true, rule: `the agent's own figure (${priced.rule})` };
  }
  return priced;
}

function perRequest(p: PriceInput): { n: number; t: TokenCounts } {
  // A row summing n requests is priced as n requests of its average size: per-request tiers (long
  // context) must not see the sum as one huge request.
  const n = Math.max(1, Math.floor(p.request_count ?? 1));
  const t =
    n === 1
      ? p.tokens
      : {
          input: p.tokens.input / n,
          output: p.tokens.output / n,
          cache_read: p.tokens.cache_read / n,
          cache_write: p.tokens.cache_write / n,
          cache_write_1h: p.tokens.cache_write_1h / n,
        };
  return { n, t };
}

function findOverride(overrides: PriceOverrides | null | undefined, model: string): [string, PriceOverride] | null {
  if (!overrides) return null;
  const bare = splitProviderPrefix(model)?.model ?? model;
  for (const id of [model, bare, undatedModelId(bare)]) {
    if (id && overrides[id]) return [id, overrides[id]];
  }
  return null;
}

function costOf(t: TokenCounts, u: UnitPrices): number {
  const write5m = Math.max(0, t.cache_write - t.cache_write_1h);
  return (
    (t.input * u.input +
      t.output * u.output +
      t.cache_read * u.cache_read +
      write5m * u.cache_write +
      t.cache_write_1h * u.cache_write_1h) /
    1e6
  );
}

function scaled(u: UnitPrices, k: number): UnitPrices {
  return {
    input: u.input * k,
    output: u.output * k,
    cache_read: u.cache_read * k,
    cache_write: u.cache_write * k,
    cache_write_1h: u.cache_write_1h * k,
  };
}

function priceFromList(p: PriceInput): PriceResult {
  if (!p.model) return { cost_usd: null, priced: false, rule: 'no model recorded' };
  const { n, t } = perRequest(p);
  const requests = n > 1 ? ` (${n} requests)` : '';
  const fast = isFast(p.speed);

  const override = findOverride(p.overrides, p.model);
  if (override) {
    const [id, o] = override;
    let unit: UnitPrices = {
      input: o.input,
      output: o.output,
      cache_read: o.cache_read ?? o.input,
      cache_write: o.cache_write ?? o.input,
      cache_write_1h: o.cache_write_1h ?? o.cache_write ?? o.input,
    };
    let rule = `your price override for ${id}`;
    if (fast) {
      const k = fastMultiplier(
        p.provider ?? providerOfFramework(p.framework) ?? '',
        splitProviderPrefix(p.model)?.model ?? p.model,
      );
      if (k === null) return { cost_usd: null, priced: false, rule: `fast speed: no known multiplier for ${p.model}` };
      unit = scaled(unit, k);
      rule += `, fast ×${k}`;
    }
    return { cost_usd: costOf(t, unit) * n, priced: true, rule: rule + requests, unit_prices: unit };
  }

  const found = lookUp(p.model, p.provider ?? providerOfFramework(p.framework), t, p.ts);
  if ('error' in found) return { cost_usd: null, priced: false, rule: found.error };
  let { cost, unit } = found;
  let rule = `genai-prices ${found.providerId}/${found.modelId}${found.note}`;
  if (fast) {
    const k = fastMultiplier(found.providerId, found.modelId) ?? fastMultiplier(found.providerId, found.bareModel);
    if (k === null) return { cost_usd: null, priced: false, rule: `fast speed: no known multiplier for ${p.model}` };
    cost *= k;
    unit = scaled(unit, k);
    rule += `, fast ×${k}`;
  }
  if (unit.input > 0 && found.tiered) rule += ', long-context tier';
  return { cost_usd: cost * n, priced: true, rule: rule + requests, unit_prices: unit };
}

interface Found {
  cost: number;
  unit: UnitPrices;
  providerId: string;
  modelId: string;
  bareModel: string;
  note: string;
  tiered: boolean;
}

/**
 * A model's prices as the library resolved them, kept per (model as recorded, provider, UTC day) so
 * the next request of the same model that day is priced without the library's model matching and
 * usage walk (about 25 µs a request, a sixth of a cold index). Only prices made of per-token and
 * per-count rates, whose dated variants change at midnight UTC, are kept, and only after this very
 * shortcut gave the library's own total for the request that resolved them. Cleared when price
 * data changes.
 */
interface Resolved {
  modelPrice: Record<string, unknown>;
  providerId: string;
  modelId: string;
  bareModel: string;
  note: string;
}
const resolvedPrices = new Map<string, Resolved>();

/** Forgets the resolved prices (the price data changed: a refresh). */
export function clearResolvedPrices(): void {
  resolvedPrices.clear();
}

/** Unit prices for a request of `total` prompt tokens, and whether a long-context tier applies. */
function unitPrices(mp: Record<string, unknown>, total: number): { unit: UnitPrices; tiered: boolean } {
  const rate = (key: string, fallback: number): number => tierPrice(mp[key], total) ?? fallback;
  const input = rate('input_mtok', 0);
  const cacheWrite = rate('cache_write_mtok', input);
  const unit: UnitPrices = {
    input,
    output: rate('output_mtok', 0),
    cache_read: rate('cache_read_mtok', input),
    cache_write: cacheWrite,
    cache_write_1h: rate('cache_write_1h_mtok', cacheWrite),
  };
  const tiered = Object.values(mp).some(
    (v) =>
      typeof v === 'object' && v !== null && (v as { tiers: { start: number }[] }).tiers.some((x) => total > x.start),
  );
  return { unit, tiered };
}

/** Whether a resolved model's prices can be reused for the rest of a UTC day (see Resolved). */
function reusable(mp: Record<string, unknown>, prices: unknown): boolean {
  // Per-token rates (`_mtok`) and per-count ones (`_kcount`: web searches, which agents' usage never
  // carries here); a price per request or of another kind is left to the library every time.
  if (!Object.keys(mp).every((k) => k.endsWith('_mtok') || k.endsWith('_kcount'))) return false;
  if (!Array.isArray(prices)) return true;
  return prices.every(
    (p: { constraint?: { type?: string; start_date?: string } }) =>
      p.constraint === undefined ||
      (p.constraint.type === 'start_date' && /^\d{4}-\d{2}-\d{2}$/.test(p.constraint.start_date ?? '')),
  );
}

/** The library's price for one request, trying the id as written, then without a provider prefix, then without a date. */
function lookUp(model: string, provider: string | null, t: TokenCounts, ts: string | null): Found | { error: string } {
  const when = ts ? new Date(ts) : undefined;
  const timestamp = when && !Number.isNaN(when.getTime()) ? when : undefined;
  const total = t.input + t.cache_read + t.cache_write;
  const key = `${model}\u0000${provider ?? ''}\u0000${(timestamp ?? new Date()).toISOString().slice(0, 10)}`;
  const known = resolvedPrices.get(key);
  if (known) {
    const { unit, tiered } = unitPrices(known.modelPrice, total);
    return {
      cost: costOf(t, unit),
      unit,
      providerId: known.providerId,
      modelId: known.modelId,
      bareModel: known.bareModel,
      note: known.note,
      tiered,
    };
  }
  const split = splitProviderPrefix(model);
  const candidates: { id: string; provider: string | null; note: string }[] = [{ id: model, provider, note: '' }];
  if (split)
    candidates.push({ id: split.model, provider: split.provider ?? provider, note: ` (provider prefix of ${model})` });
  const bare = split?.model ?? model;
  const undated = undatedModelId(bare);
  if (undated)
    candidates.push({ id: undated, provider: split?.provider ?? provider, note: ` (date suffix of ${model} ignored)` });
  for (const c of candidates) {
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
        c.id,
        { providerId: c.provider ?? undefined, timestamp },
      );
      if (!result) continue;
      const mp = result.model_price as Record<string, unknown>;
      const { unit, tiered } = unitPrices(mp, total);
      const found = {
        cost: result.total_price,
        unit,
        providerId: result.provider.id,
        modelId: result.model.id,
        bareModel: c.id,
        note: c.note,
        tiered,
      };
      if (
        reusable(mp, result.model.prices) &&
        Math.abs(costOf(t, unit) - result.total_price) <= 1e-12 * Math.max(1, result.total_price)
      ) {
        resolvedPrices.set(key, {
          modelPrice: mp,
          providerId: found.providerId,
          modelId: found.modelId,
          bareModel: found.bareModel,
          note: found.note,
        });
      }
      return found;
    } catch (err) {
      return { error: `price error: ${(err as Error).message}` };
    }
  }
  return { error: `no price for ${model}` };
}

/** The per-million price a request of `totalInput` tokens pays: the highest tier its input is above, else the base. */
function tierPrice(v: unknown, totalInput: number): number | null {
  if (typeof v === 'number') return v;
  if (!v || typeof v !== 'object') return null;
  const tiered = v as { base: number; tiers: { start: number; price: number }[] };
  let price = tiered.base;
  for (const tier of [...tiered.tiers].sort((a, b) => a.start - b.start))
    if (totalInput > tier.start) price = tier.price;
  return price;
}
