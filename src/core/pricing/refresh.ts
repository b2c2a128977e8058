import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { REMOTE_DATA_JSON_URL, updatePrices, waitForUpdate } from '@pydantic/genai-prices';
import { mkdirPrivate, writePrivate } from '../privateFs';
import { PRICE_DATA, clearResolvedPrices, priceSource } from './index';

/**
 * `agentHandler.pricing.refresh` (off by default): newer price data from the library's own source
 * (REMOTE_DATA_JSON_URL, raw.githubusercontent.com), fetched at most once a day and cached in the
 * extension's global storage. This is the only network call of the extension. It runs in the
 * indexing worker, and only when the setting is on; the caller re-prices the stored rows after.
 */

export const REFRESH_EVERY_MS = 24 * 60 * 60 * 1000;

interface CachedPrices {
  fetched_at: string;
  url: string;
  data: unknown[];
}

export type FetchLike = (
  url: string,
  init: { signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface RefreshOutcome {
  /** 'fetched' (network), 'cached' (a fresh enough cache file), 'failed' (kept what was active). */
  outcome: 'fetched' | 'cached' | 'failed';
  fetched_at: string | null;
  message: string;
}

async function readCache(file: string): Promise<CachedPrices | null> {
  try {
    const c = JSON.parse(await fsp.readFile(file, 'utf8')) as CachedPrices;
    return typeof c.fetched_at === 'string' && Array.isArray(c.data) ? c : null;
  } catch {
    return null;
  }
}

/** Makes `data` the library's active price data; throws when the library rejects it. */
async function activate(data: unknown[]): Promise<void> {
  let error: unknown = null;
  updatePrices(({ setProviderData }) => {
    try {
      setProviderData(data as never);
    } catch (err) {
      error = err;
    }
  });
  if (error) throw error;
  await waitForUpdate();
}

/**
 * Brings the price data up to date: the cache file when it is younger than a day, else a fetch
 * (whose result is cached). On any failure the data in use stays (the bundled one, or an older
 * cache), and the outcome says why.
 */
export async function refreshPrices(
  cacheFile: string,
  now = Date.now(),
  fetchFn: FetchLike = fetch as unknown as FetchLike,
  opts: { network?: boolean } = {},
): Promise<RefreshOutcome> {
  const cached = await readCache(cacheFile);
  const use = async (c: CachedPrices, outcome: RefreshOutcome['outcome'], message: string): Promise<RefreshOutcome> => {
    await activate(c.data);
    clearResolvedPrices();
    priceSource.label = `${PRICE_DATA.library} data fetched ${c.fetched_at} (refresh on; bundled ${PRICE_DATA.version})`;
    priceSource.fetched_at = c.fetched_at;
    return { outcome, fetched_at: c.fetched_at, message };
  };
  if (cached && now - Date.parse(cached.fetched_at) < REFRESH_EVERY_MS) {
    try {
      return await use(cached, 'cached', `price data from ${cached.fetched_at} (cached)`);
    } catch {
      // a cache the library rejects: fetch again
    }
  }
  if (opts.network === false) {
    // A window that does not write the index uses what the writing window fetched, never the network.
    if (!cached)
      return {
        outcome: 'failed',
        fetched_at: null,
        message: 'no refreshed price data yet (the window that writes the index fetches it)',
      };
    try {
      return await use(cached, 'cached', `price data from ${cached.fetched_at} (cached by the writing window)`);
    } catch (err) {
      return { outcome: 'failed', fetched_at: null, message: `cached price data unusable: ${(err as Error).message}` };
    }
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  try {
    const res = await fetchFn(REMOTE_DATA_JSON_URL, { signal: controller.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    if (!Array.isArray(data)) throw new Error('not a list of providers');
    const fresh: CachedPrices = { fetched_at: new Date(now).toISOString(), url: REMOTE_DATA_JSON_URL, data };
    const outcome = await use(fresh, 'fetched', `price data fetched from ${REMOTE_DATA_JSON_URL}`);
    mkdirPrivate(path.dirname(cacheFile));
    const tmp = `${cacheFile}.tmp-${process.pid}`;
    await writePrivate(tmp, JSON.stringify(fresh));
    await fsp.rename(tmp, cacheFile);
    return outcome;
  } catch (err) {
    const why = (err as Error).name === 'AbortError' ? 'timed out' : (err as Error).message;
    if (cached) {
      try {
        return {
          ...(await use(cached, 'cached', '')),
          outcome: 'failed',
          message: `price refresh failed (${why}); using the cached data from ${cached.fetched_at}`,
        };
      } catch {
        // fall through: the bundled data stays
      }
    }
    return {
      outcome: 'failed',
      fetched_at: priceSource.fetched_at,
      message: `price refresh failed (${why}); using ${priceSource.label}`,
    };
  } finally {
    clearTimeout(timer);
  }
}
