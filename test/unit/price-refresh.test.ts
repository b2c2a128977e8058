/**
 * agentHandler.pricing.refresh: newer price data, fetched at most daily and cached. The network is
 * the edge: a fake fetch stands in for it. (Own test file: activating other price data changes
 * the library's state for the rest of the process.)
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { REMOTE_DATA_JSON_URL } from '@pydantic/genai-prices';
import { priceRequest, priceSource } from '../../src/core/pricing';
import { type FetchLike, REFRESH_EVERY_MS, refreshPrices } from '../../src/core/pricing/refresh';
import { assertUsd, tempDir } from './helpers';

/** Price data with one provider and one model the bundled data does not know. */
const DATA = [
  {
    id: 'anthropic',
    name: 'Anthropic',
    api_pattern: 'https://api\\.anthropic\\.com',
    models: [{ id: 'acme-coder-9', match: { equals: 'acme-coder-9' }, prices: { input_mtok: 2, output_mtok: 8 } }],
  },
];

function fakeFetch(responses: (() => unknown)[]): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const f = (async (url: string) => {
    urls.push(url);
    const next = responses.shift();
    if (!next) throw new Error('no network in this test');
    const body = next();
    return { ok: true, status: 200, json: async () => body };
  }) as unknown as FetchLike & { urls: string[] };
  f.urls = urls;
  return f;
}

const request = () =>
  priceRequest({
    framework: 'claude_code',
    model: 'acme-coder-9',
    ts: null,
    tokens: { input: 1_000, output: 100, cache_read: 0, cache_write: 0, cache_write_1h: 0 },
  });

describe('price refresh (opt-in)', () => {
  test('fetches once, caches for a day, keeps the cached data when a later fetch fails', async () => {
    const cache = path.join(await tempDir(), 'storage', 'genai-prices-cache.json');
    assert.equal(request().priced, false, 'the bundled data has no acme-coder-9');
    const t0 = Date.parse('2026-11-25T12:00:00Z');
    const f = fakeFetch([() => DATA]);
    const first = await refreshPrices(cache, t0, f);
    assert.equal(first.outcome, 'fetched');
    assert.deepEqual(f.urls, [REMOTE_DATA_JSON_URL]);
    // 1000×2 + 100×8 = 0.002 + 0.0008 = 0.0028
    assertUsd(request().cost_usd!, 0.0028);
    assert.match(priceSource.label, /fetched 2026-11-25T12:00:00.000Z/);
    const cached = JSON.parse(await fsp.readFile(cache, 'utf8')) as { fetched_at: string };
    assert.equal(cached.fetched_at, '2026-11-25T12:00:00.000Z');

    // Within a day: no network.
    const again = await refreshPrices(cache, t0 + REFRESH_EVERY_MS - 1, f);
    assert.equal(again.outcome, 'cached');
    assert.equal(f.urls.length, 1);

    // A day later the fetch fails: the cached data stays in use, and the outcome says so.
    const failing = fakeFetch([]);
    const later = await refreshPrices(cache, t0 + REFRESH_EVERY_MS + 1, failing);
    assert.equal(later.outcome, 'failed');
    assert.match(later.message, /no network in this test/);
    assert.equal(failing.urls.length, 1);
    assertUsd(request().cost_usd!, 0.0028);
  });

  test('a window that does not write the index never fetches: it uses the cache or nothing', async () => {
    const cache = path.join(await tempDir(), 'genai-prices-cache.json');
    const f = fakeFetch([() => DATA]);
    const none = await refreshPrices(cache, Date.parse('2026-11-25T12:00:00Z'), f, { network: false });
    assert.equal(none.outcome, 'failed');
    assert.equal(f.urls.length, 0);
    await fsp.writeFile(
      cache,
      JSON.stringify({ fetched_at: '2026-11-20T00:00:00.000Z', url: REMOTE_DATA_JSON_URL, data: DATA }),
    );
    // Five days old, still used without the network.
    const old = await refreshPrices(cache, Date.parse('2026-11-25T12:00:00Z'), f, { network: false });
    assert.equal(old.outcome, 'cached');
    assert.equal(f.urls.length, 0);
  });

  test('data the library rejects is not used and not cached', async () => {
    const cache = path.join(await tempDir(), 'genai-prices-cache.json');
    const r = await refreshPrices(cache, Date.parse('2026-11-25T12:00:00Z'), fakeFetch([() => ({ not: 'a list' })]));
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /not a list of providers/);
    await assert.rejects(fsp.stat(cache));
  });
});
