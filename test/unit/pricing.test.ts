/**
 * The one pricing function (src/core/pricing) against figures worked out by hand from the bundled
 * price data (@pydantic/genai-prices 0.1.8; the per-million prices are quoted in each test), and
 * the per-day and explain reports over a real store.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { TokenCounts } from '../../src/core/model/session';
import {
  PRICE_DATA,
  type PriceInput,
  clearResolvedPrices,
  fastMultiplier,
  priceRequest,
  sanitizeOverrides,
  splitProviderPrefix,
  undatedModelId,
} from '../../src/core/pricing';
import { explanationMarkdown } from '../../src/core/pricing/explainText';
import { compareWithAgent, daily, explainSession } from '../../src/core/pricing/report';
import { dayIn } from '../../src/core/time';
import { codexTokens } from '../../src/core/sources/codex';
import { geminiTokens } from '../../src/core/sources/gemini';
import { listSessions } from '../../src/core/store/queries';
import {
  CLAUDE_FIXTURES,
  REPO_ROOT,
  assertUsd,
  fixtureHome,
  assistant,
  indexHome,
  makeIndexer,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

function tokens(t: Partial<TokenCounts>): TokenCounts {
  return { input: 0, output: 0, cache_read: 0, cache_write: 0, cache_write_1h: 0, ...t };
}

function price(p: Partial<PriceInput> & { tokens: TokenCounts }) {
  return priceRequest({ framework: 'claude_code', model: 'claude-sonnet-4-5', ts: '2026-11-01T00:00:00Z', ...p });
}

describe('pricing: one request at a time', () => {
  test('the bundled price data is the installed library version', () => {
    const pkg = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'node_modules/@pydantic/genai-prices/package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(PRICE_DATA.version, pkg.version);
  });

  test('a 250k-input request on a tiered model: the WHOLE request at the higher rate, not marginal', () => {
    // claude-sonnet-4-5: input $3 → $6, output $15 → $22.5, cache read $0.3 → $0.6 per M above 200k input.
    // 250,000 input + 1,000 output: 250000×6/1e6 + 1000×22.5/1e6 = 1.5 + 0.0225 = 1.5225
    // (marginal would be 200000×3 + 50000×6 = 0.9 + 0.0225: wrong).
    const r = price({ tokens: tokens({ input: 250_000, output: 1_000 }) });
    assertUsd(r.cost_usd!, 1.5225);
    assert.match(r.rule, /long-context tier/);
    assert.equal(r.unit_prices!.input, 6);
    // 200,000 exactly is not above the threshold: 200000×3/1e6 + 1000×15/1e6 = 0.6 + 0.015 = 0.615
    assertUsd(price({ tokens: tokens({ input: 200_000, output: 1_000 }) }).cost_usd!, 0.615);
    // The threshold counts the whole prompt: 10,000 fresh + 240,000 cache read = 250,000 → tier prices for all:
    // 10000×6 + 240000×0.6 + 1000×22.5 = 0.06 + 0.144 + 0.0225 = 0.2265
    assertUsd(price({ tokens: tokens({ input: 10_000, cache_read: 240_000, output: 1_000 }) }).cost_usd!, 0.2265);
    // A row standing for two requests of 125,000 input each stays below the tier: 250000×3/1e6 = 0.75
    assertUsd(price({ tokens: tokens({ input: 250_000 }), request_count: 2 }).cost_usd!, 0.75);
  });

  test('5-minute vs 1-hour cache writes', () => {
    // claude-opus-4-6: input $5, 5m cache write $6.25 (1.25×), 1h cache write $10 (2×) per M.
    const m = 'claude-opus-4-6';
    assertUsd(price({ model: m, tokens: tokens({ cache_write: 1_000_000 }) }).cost_usd!, 6.25);
    assertUsd(price({ model: m, tokens: tokens({ cache_write: 1_000_000, cache_write_1h: 1_000_000 }) }).cost_usd!, 10);
    // 600,000 at 5m + 400,000 at 1h: 0.6×6.25 + 0.4×10 = 3.75 + 4 = 7.75
    const split = price({ model: m, tokens: tokens({ cache_write: 1_000_000, cache_write_1h: 400_000 }) });
    assertUsd(split.cost_usd!, 7.75);
    assert.deepEqual([split.unit_prices!.cache_write, split.unit_prices!.cache_write_1h], [6.25, 10]);
  });

  test('Codex: cached input is split out of input_tokens and priced at the cached rate', () => {
    // token_count input 10,000 of which 8,000 cached, output 500 (reasoning 200 is part of it).
    const t = codexTokens([10_000, 8_000, 0, 500, 200, 10_500]);
    assert.deepEqual(t, tokens({ input: 2_000, cache_read: 8_000, output: 500 }));
    // gpt-5: input $1.25, cached $0.125, output $10 per M: 2000×1.25 + 8000×0.125 + 500×10 = 0.0025 + 0.001 + 0.005 = 0.0085
    assertUsd(
      priceRequest({ framework: 'codex', model: 'gpt-5', ts: '2026-11-01T00:00:00Z', tokens: t }).cost_usd!,
      0.0085,
    );
  });

  test('Gemini: thoughts are billed as output', () => {
    const t = geminiTokens({ input: 1_000, output: 100, thoughts: 400, cached: 0, tool: 0 });
    assert.deepEqual(t, tokens({ input: 1_000, output: 500 }));
    // gemini-2.5-pro (≤200k): input $1.25, output $10 per M: 1000×1.25 + 500×10 = 0.00125 + 0.005 = 0.00625
    assertUsd(
      priceRequest({ framework: 'gemini', model: 'gemini-2.5-pro', ts: '2026-11-01T00:00:00Z', tokens: t }).cost_usd!,
      0.00625,
    );
  });

  test('an unknown model is unpriced (cost null, never $0), unless the agent recorded its own figure', () => {
    const r = price({ model: 'acme-coder-9', tokens: tokens({ input: 1_000, output: 10 }) });
    assert.deepEqual([r.cost_usd, r.priced], [null, false]);
    assert.match(r.rule, /no price for acme-coder-9/);
    const own = price({ model: 'acme-coder-9', vendor_cost_usd: 0.042, tokens: tokens({ input: 1_000 }) });
    assert.deepEqual([own.cost_usd, own.priced], [0.042, true]);
    assert.match(own.rule, /the agent's own figure/);
    // No model at all, and no tokens at all.
    assert.equal(price({ model: null, tokens: tokens({ input: 5 }) }).priced, false);
    assert.deepEqual(price({ model: 'acme-coder-9', tokens: tokens({}) }), {
      cost_usd: 0,
      priced: true,
      rule: 'no tokens',
    });
  });

  test('a dated model id is priced as its model', () => {
    // claude-sonnet-4-5 $3/$15: 1000×3 + 100×15 = 0.003 + 0.0015 = 0.0045, for every way agents write the date.
    for (const id of ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5@20250929', 'claude-sonnet-4-5-2025-09-29']) {
      const r = price({ model: id, tokens: tokens({ input: 1_000, output: 100 }) });
      assertUsd(r.cost_usd!, 0.0045, id);
    }
    assert.equal(undatedModelId('claude-sonnet-4-5@20250929'), 'claude-sonnet-4-5');
    assert.equal(undatedModelId('gpt-4o-2024-08-06'), 'gpt-4o');
    assert.equal(undatedModelId('claude-opus-5-5'), null);
  });

  test('an OpenCode provider/model id: the prefix names the provider', () => {
    assert.deepEqual(splitProviderPrefix('anthropic/claude-sonnet-4-5'), {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
    });
    assert.deepEqual(splitProviderPrefix('openrouter/anthropic/claude-sonnet-4-5'), {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
    });
    // The library alone finds no price for `anthropic/claude-sonnet-4-5`; the wrapper strips the prefix.
    const r = priceRequest({
      framework: 'opencode',
      model: 'anthropic/claude-sonnet-4-5',
      ts: '2026-11-01T00:00:00Z',
      tokens: tokens({ input: 1_000, output: 100 }),
    });
    assertUsd(r.cost_usd!, 0.0045);
    assert.match(r.rule, /anthropic\/claude-sonnet-4-5 \(provider prefix/);
    // google/gemini-2.5-pro: 1000×1.25 + 100×10 = 0.00125 + 0.001 = 0.00225
    assertUsd(
      priceRequest({
        framework: 'opencode',
        model: 'google/gemini-2.5-pro',
        ts: null,
        tokens: tokens({ input: 1_000, output: 100 }),
      }).cost_usd!,
      0.00225,
    );
  });

  test("fast speed: the model's multiplier on every token kind; unknown multiplier → unpriced", () => {
    // claude-opus-4-6 fast = 6× ($30/$150 vs $5/$25): 1000×30 + 100×150 = 0.03 + 0.015 = 0.045
    const r = price({ model: 'claude-opus-4-6', speed: 'fast', tokens: tokens({ input: 1_000, output: 100 }) });
    assertUsd(r.cost_usd!, 0.045);
    assert.match(r.rule, /fast ×6/);
    // claude-opus-4-8 fast = 2×: (1000×5 + 100×25)×2 = (0.005 + 0.0025)×2 = 0.015
    assertUsd(
      price({ model: 'claude-opus-4-8-20260528', speed: 'fast', tokens: tokens({ input: 1_000, output: 100 }) })
        .cost_usd!,
      0.015,
    );
    // standard speed is the plain price: 0.0075
    assertUsd(
      price({ model: 'claude-opus-4-8', speed: 'standard', tokens: tokens({ input: 1_000, output: 100 }) }).cost_usd!,
      0.0075,
    );
    // Codex priority tier on gpt-5.4 = 2×: (1000×2.5 + 100×15)×2 = (0.0025 + 0.0015)×2 = 0.008
    assertUsd(
      priceRequest({
        framework: 'codex',
        model: 'gpt-5.4',
        speed: 'priority',
        ts: null,
        tokens: tokens({ input: 1_000, output: 100 }),
      }).cost_usd!,
      0.008,
    );
    const unknown = price({ model: 'claude-sonnet-4-5', speed: 'fast', tokens: tokens({ input: 1_000 }) });
    assert.deepEqual([unknown.cost_usd, unknown.priced], [null, false]);
    assert.equal(fastMultiplier('anthropic', 'claude-opus-4.6'), 6);
    assert.equal(fastMultiplier('anthropic', 'claude-opus-5-5'), null);
  });

  test('price overrides win over the price data, and name unknown models', () => {
    const overrides = {
      'acme-coder-9': { input: 2, output: 8, cache_read: 0.2, cache_write: 2.5 },
      'claude-sonnet-4-5': { input: 1, output: 1 },
    };
    // 1000×2 + 100×8 + 10000×0.2 + 4000×2.5 = 0.002 + 0.0008 + 0.002 + 0.01 = 0.0148
    const r = price({
      model: 'acme-coder-9',
      overrides,
      tokens: tokens({ input: 1_000, output: 100, cache_read: 10_000, cache_write: 4_000 }),
    });
    assertUsd(r.cost_usd!, 0.0148);
    assert.match(r.rule, /your price override for acme-coder-9/);
    // A dated id of an overridden model: 1000×1 + 100×1 = 0.0011 (cache prices default to input)
    assertUsd(
      price({ model: 'claude-sonnet-4-5-20250929', overrides, tokens: tokens({ input: 1_000, output: 100 }) })
        .cost_usd!,
      0.0011,
    );
  });

  test('override settings: bad entries are skipped with a clear message, good ones kept', () => {
    const { overrides, problems } = sanitizeOverrides({
      good: { input: 1, output: 2, cache_read: 0.1 },
      noOutput: { input: 1 },
      negative: { input: -1, output: 2 },
      badCache: { input: 1, output: 2, cache_write: 'cheap' },
      notAnObject: 3,
    });
    assert.deepEqual(overrides, { good: { input: 1, output: 2, cache_read: 0.1 }, badCache: { input: 1, output: 2 } });
    assert.deepEqual(problems, [
      'price override for noOutput ignored: it needs numeric "input" and "output" prices per million tokens',
      'price override for negative ignored: it needs numeric "input" and "output" prices per million tokens',
      'price override for badCache: "cache_write" is not a non-negative number; ignored',
      'price override for notAnObject ignored: it needs numeric "input" and "output" prices per million tokens',
    ]);
    assert.deepEqual(sanitizeOverrides([1, 2]).problems, [
      'agentHandler.pricing.overrides must be an object keyed by model id',
    ]);
    assert.deepEqual(sanitizeOverrides(undefined), { overrides: {}, problems: [] });
  });

  test("the agent's figure beside ours: a difference over 1 % is flagged", () => {
    assert.equal(compareWithAgent(1.0, null), null);
    assert.equal(compareWithAgent(1.0, 1.0)!.differs, false);
    assert.equal(compareWithAgent(1.009, 1.0)!.differs, false);
    const c = compareWithAgent(1.02, 1.0)!;
    assert.equal(c.differs, true);
    assert.ok(Math.abs(c.difference_pct - 2) < 1e-9);
  });
});

describe('pricing: resolved prices reused for the day', () => {
  test('a request priced from the kept prices costs what the library says, tiers and dates included', () => {
    const models: [string, string | null][] = [
      ['claude-sonnet-4-5-20250929', null],
      ['claude-opus-4-1-20250805', null],
      ['claude-haiku-4-5', null],
      ['gpt-5', 'openai'],
      ['gpt-5-codex', 'openai'],
      ['gemini-2.5-pro', 'google'],
      ['anthropic/claude-sonnet-4-5', null],
      ['claude-sonnet-4-5@20250929', null],
      ['deepseek-chat', 'deepseek'],
    ];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (const [model, provider] of models) {
      for (let i = 0; i < 40; i++) {
        // Some requests past the 200k long-context threshold; timestamps over two years (dated prices).
        const tokens = {
          input: rnd(300_000),
          output: rnd(20_000),
          cache_read: rnd(200_000),
          cache_write: rnd(50_000),
          cache_write_1h: 0,
        };
        tokens.cache_write_1h = rnd(tokens.cache_write + 1);
        const ts = new Date(Date.UTC(2025, 0, 1) + rnd(700) * 86_400_000 + rnd(86_400_000)).toISOString();
        const input = { framework: 'claude_code', model, provider, tokens, ts, request_count: 1 + rnd(3) };
        clearResolvedPrices();
        const fresh = priceRequest(input); // the library's own figure (and the prices kept)
        const reused = priceRequest(input); // from the kept prices
        assert.equal(reused.rule, fresh.rule, `${model} ${ts}`);
        assert.equal(reused.priced, fresh.priced);
        if (fresh.cost_usd === null) assert.equal(reused.cost_usd, null);
        else
          assert.ok(
            Math.abs(reused.cost_usd! - fresh.cost_usd) <= 1e-12 * Math.max(1, fresh.cost_usd),
            `${model}: ${reused.cost_usd} vs ${fresh.cost_usd}`,
          );
      }
    }
  });
});

describe('pricing: days and explanations over a store', () => {
  test('a day boundary in a non-UTC zone', () => {
    // 2026-03-01T04:30Z is 2026-02-28 23:30 in New York (EST, UTC−5, before the March 8 switch); 05:30Z is March 1, 00:30.
    assert.equal(dayIn('2026-03-01T04:30:00Z', 'America/New_York'), '2026-02-28');
    assert.equal(dayIn('2026-03-01T05:30:00Z', 'America/New_York'), '2026-03-01');
    assert.equal(dayIn('2026-03-01T04:30:00Z', 'UTC'), '2026-03-01');
    // Tokyo is UTC+9: 2026-03-01T15:30Z is March 2, 00:30.
    assert.equal(dayIn('2026-03-01T15:30:00Z', 'Asia/Tokyo'), '2026-03-02');
  });

  test('daily: requests bucketed by the day in the zone asked for, with tokens, cost, per agent and per model', async () => {
    const home = await tempDir();
    const S = '11111111-2222-4333-8444-000000000d01';
    await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: '2026-03-01T04:00:00.000Z', text: 'late evening in New York' }),
      // claude-sonnet-4-5 $3/$15: 1000×3 + 100×15 = 0.0045
      assistant({
        session: S,
        ts: '2026-03-01T04:30:00.000Z',
        msg: 'msg_d1',
        req: 'req_d1',
        usage: { in: 1_000, out: 100 },
        model: 'claude-sonnet-4-5',
      }),
      // claude-haiku-4-5 $1/$5: 2000×1 + 200×5 = 0.002 + 0.001 = 0.003
      assistant({
        session: S,
        ts: '2026-03-01T05:30:00.000Z',
        msg: 'msg_d2',
        req: 'req_d2',
        usage: { in: 2_000, out: 200 },
        model: 'claude-haiku-4-5',
      }),
      // unknown model: unpriced, its tokens count
      assistant({
        session: S,
        ts: '2026-03-01T06:00:00.000Z',
        msg: 'msg_d3',
        req: 'req_d3',
        usage: { in: 7, out: 3 },
        model: 'acme-coder-9',
      }),
    ]);
    const { store } = await indexHome(home);
    const ny = daily(store, 'America/New_York');
    assert.equal(ny.time_zone, 'America/New_York');
    assert.deepEqual(
      ny.days.map((d) => d.date),
      ['2026-02-28', '2026-03-01'],
    );
    const [feb28, mar1] = ny.days;
    assert.deepEqual([feb28.input, feb28.output, feb28.requests, feb28.unpriced_requests], [1_000, 100, 1, 0]);
    assertUsd(feb28.cost_usd, 0.0045);
    assert.deepEqual([mar1.input, mar1.output, mar1.requests, mar1.unpriced_requests], [2_007, 203, 2, 1]);
    assertUsd(mar1.cost_usd, 0.003);
    assert.deepEqual(
      mar1.by_agent.map((a) => [a.agent, a.requests]),
      [['claude_code', 2]],
    );
    assert.deepEqual(mar1.by_model.map((m) => m.model).sort(), ['acme-coder-9', 'claude-haiku-4-5']);
    // In UTC all three are on March 1: 0.0045 + 0.003 = 0.0075
    const utc = daily(store, 'UTC');
    assert.deepEqual(
      utc.days.map((d) => [d.date, d.requests]),
      [['2026-03-01', 3]],
    );
    assertUsd(utc.days[0].cost_usd, 0.0075);
    assert.throws(() => daily(store, 'Mars/Olympus'), /unknown time zone Mars\/Olympus/);
  });

  test('explain: per model, tokens × price = cost; unpriced requests listed; changing overrides re-prices stored rows', async () => {
    const home = await tempDir();
    const S = '11111111-2222-4333-8444-000000000e01';
    await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: '2026-03-01T10:00:00.000Z', text: 'explain me' }),
      // claude-opus-4-6 ($5 in, $25 out, $0.5 read, $6.25 5m, $10 1h): 100×5 + 200×25 + 10000×0.5 + 3000×6.25 + 1000×10
      //  = 0.0005 + 0.005 + 0.005 + 0.01875 + 0.01 = 0.03925
      assistant({
        session: S,
        ts: '2026-03-01T10:00:01.000Z',
        msg: 'msg_e1',
        req: 'req_e1',
        model: 'claude-opus-4-6',
        usage: { in: 100, out: 200, cr: 10_000, cw: 4_000, split: { m5: 3_000, h1: 1_000 } },
      }),
      assistant({
        session: S,
        ts: '2026-03-01T10:00:02.000Z',
        msg: 'msg_e2',
        req: 'req_e2',
        model: 'acme-coder-9',
        usage: { in: 50, out: 5 },
      }),
    ]);
    const { store } = await indexHome(home);
    const e = explainSession(store, S)!;
    assert.equal(e.models.length, 2);
    const opus = e.models.find((m) => m.model === 'claude-opus-4-6')!;
    assertUsd(opus.cost_usd, 0.03925);
    const line = opus.lines[0];
    assert.deepEqual(line.parts_usd, {
      input: 0.0005,
      output: 0.005,
      cache_read: 0.005,
      cache_write_5m: 0.01875,
      cache_write_1h: 0.01,
    });
    const sum = Object.values(line.parts_usd!).reduce((a, b) => a + b, 0);
    assertUsd(sum, line.cost_usd, 'parts add up to the cost');
    assert.deepEqual(e.unpriced, [{ model: 'acme-coder-9', requests: 1, reason: 'no price for acme-coder-9' }]);
    assert.equal(e.totals.unpriced_requests, 1);
    const md = explanationMarkdown(e);
    assert.match(md, /genai-prices 0\.1\.8/);
    assert.match(md, /acme-coder-9: 1 request\(s\)/);

    // An override for the unknown model: the stored rows are priced again from their tokens (no transcript read).
    // 50×2 + 5×8 = 0.0001 + 0.00004 = 0.00014
    const indexer = makeIndexer(store, home);
    const changed = indexer.setPriceOverrides({ 'acme-coder-9': { input: 2, output: 8 } });
    assert.equal(changed, 1);
    const s = listSessions(store).find((x) => x.session_id === S)!;
    assert.equal(s.unpriced_requests, 0);
    assertUsd(s.cost_usd, 0.03925 + 0.00014);
    assert.equal(
      indexer.setPriceOverrides({ 'acme-coder-9': { input: 2, output: 8 } }),
      0,
      'the same overrides change nothing',
    );
    indexer.setPriceOverrides({});
    assert.equal(listSessions(store).find((x) => x.session_id === S)!.unpriced_requests, 1);
  });
});

/** The last `cost-state` record of a transcript: Claude Code's own per-model totals. */
function lastCostState(file: string): {
  totalCostUSD: number;
  modelUsage: Record<
    string,
    {
      inputTokens: number;
      outputTokens: number;
      cacheReadInputTokens: number;
      cacheCreationInputTokens: number;
      costUSD: number;
    }
  >;
} {
  const states = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"cost-state"'))
    .map((l) => JSON.parse(l));
  return states[states.length - 1];
}

describe('pricing: the real Claude Code 2.1.332 fixture against its own cost-state', () => {
  test('per model, our token totals (session with subagents) equal the last cost-state modelUsage, and so does the cost', async () => {
    const { store } = await indexHome(await fixtureHome('2.1.332'));
    const projects = path.join(CLAUDE_FIXTURES, '2.1.332', 'projects', '-home-dev-agent-work-repo-claude-2-1-332');
    // e2dbd8e3 (three runs, 5 requests): 12533 / 386 / 40265 / 9856, $0.115185.
    // 3f810603 with its subagent: 7673+2986 = 10659 / 346+149 = 495 / 20827+6189 = 27016 / 9862+5749 = 15611, $0.1359942.
    for (const id of ['e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68', '3f810603-0856-4734-bc5d-451c3608d6f2']) {
      const state = lastCostState(path.join(projects, `${id}.jsonl`));
      const e = explainSession(store, id)!;
      assert.deepEqual(e.models.map((m) => m.model).sort(), Object.keys(state.modelUsage).sort(), id);
      for (const m of e.models) {
        const u = state.modelUsage[m.model];
        assert.deepEqual(
          [m.input, m.output, m.cache_read, m.cache_write],
          [u.inputTokens, u.outputTokens, u.cacheReadInputTokens, u.cacheCreationInputTokens],
          `${id} ${m.model}`,
        );
        assertUsd(m.cost_usd, u.costUSD, `${id} ${m.model} cost`);
      }
      assert.equal(e.agent!.differs, false);
      assertUsd(e.agent!.agent_usd, state.totalCostUSD);
    }
  });
});

describe('pricing: from a transcript line', () => {
  test('Claude Code usage.speed "fast" reaches the pricing function', async () => {
    const home = await tempDir();
    const S = '11111111-2222-4333-8444-000000000c01';
    const fast = assistant({
      session: S,
      ts: '2026-03-01T10:00:01.000Z',
      msg: 'msg_c1',
      req: 'req_c1',
      model: 'claude-opus-4-6',
      usage: { in: 1_000, out: 100 },
    });
    ((fast.message as Record<string, unknown>).usage as Record<string, unknown>).speed = 'fast';
    const standard = assistant({
      session: S,
      ts: '2026-03-01T10:00:02.000Z',
      msg: 'msg_c2',
      req: 'req_c2',
      model: 'claude-opus-4-6',
      usage: { in: 1_000, out: 100 },
    });
    ((standard.message as Record<string, unknown>).usage as Record<string, unknown>).speed = 'standard';
    await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: '2026-03-01T10:00:00.000Z', text: 'fast please' }),
      fast,
      standard,
    ]);
    const { store } = await indexHome(home);
    // fast: 1000×30 + 100×150 = 0.045; standard: 1000×5 + 100×25 = 0.0075
    assertUsd(listSessions(store).find((x) => x.session_id === S)!.cost_usd, 0.045 + 0.0075);
    const rules = explainSession(store, S)!
      .models[0].lines.map((l) => l.rule)
      .sort();
    assert.deepEqual(rules, [
      'genai-prices anthropic/claude-opus-4-6',
      'genai-prices anthropic/claude-opus-4-6, fast ×6',
    ]);
  });
});

describe("pricing: the agent's own figure fills a gap", () => {
  test("Claude Code cost-state modelUsage prices the requests of a model the price data lacks, labelled as the agent's", async () => {
    const home = await tempDir();
    const P = '11111111-2222-4333-8444-000000000f01';
    const cost = (acme: number) => ({
      type: 'cost-state',
      sessionId: P,
      totalCostUSD: acme + 0.0045,
      modelUsage: {
        'acme-coder-9': {
          inputTokens: 4_000,
          outputTokens: 0,
          cacheReadInputTokens: 0,
          cacheCreationInputTokens: 0,
          costUSD: acme,
        },
        'claude-sonnet-4-5': {
          inputTokens: 1_000,
          outputTokens: 100,
          cacheReadInputTokens: 0,
          cacheCreationInputTokens: 0,
          costUSD: 0.0045,
        },
      },
    });
    const parent = [
      userPrompt({ session: P, ts: '2026-03-01T10:00:00.000Z', text: 'go' }),
      assistant({
        session: P,
        ts: '2026-03-01T10:00:01.000Z',
        msg: 'msg_f1',
        req: 'req_f1',
        model: 'acme-coder-9',
        usage: { in: 1_000 },
      }),
      // claude-sonnet-4-5: 1000×3 + 100×15 = 0.0045 (priced by us)
      assistant({
        session: P,
        ts: '2026-03-01T10:00:02.000Z',
        msg: 'msg_f2',
        req: 'req_f2',
        model: 'claude-sonnet-4-5',
        usage: { in: 1_000, out: 100 },
      }),
      // an unknown model the agent's figure does not name: stays unpriced
      assistant({
        session: P,
        ts: '2026-03-01T10:00:03.000Z',
        msg: 'msg_f3',
        req: 'req_f3',
        model: 'other-model-1',
        usage: { in: 10 },
      }),
      cost(0.5),
    ];
    await writeTranscript(home, `${P}.jsonl`, parent);
    await writeTranscript(home, `${P}/subagents/agent-f1.jsonl`, [
      userPrompt({ session: P, ts: '2026-03-01T10:00:01.500Z', text: 'task', sidechain: true, agentId: 'f1' }),
      assistant({
        session: P,
        ts: '2026-03-01T10:00:01.600Z',
        msg: 'msg_f4',
        req: 'req_f4',
        sidechain: true,
        agentId: 'f1',
        model: 'acme-coder-9',
        usage: { in: 3_000 },
      }),
    ]);
    const { store } = await indexHome(home);
    const byId = new Map(listSessions(store).map((s) => [s.session_id, s]));
    const p = byId.get(P)!;
    const sub = byId.get('agent-f1')!;
    // acme-coder-9: $0.5 for 1,000 + 3,000 tokens → parent 0.5×1000/4000 = 0.125, subagent 0.5×3000/4000 = 0.375
    assertUsd(p.cost_usd, 0.125 + 0.0045);
    assertUsd(sub.cost_usd, 0.375);
    assert.equal(p.unpriced_requests, 1, 'other-model-1 is still unpriced');
    assertUsd(p.rollup.cost_usd, 0.5 + 0.0045);
    const e = explainSession(store, P)!;
    const acme = e.models.find((m) => m.model === 'acme-coder-9')!;
    assert.equal(acme.unpriced_requests, 0);
    assert.match(acme.lines[0].rule, /^the agent's own session figure: Claude Code cost-state acme-coder-9 \$0\.5/);
    assert.deepEqual(
      e.unpriced.map((u) => u.model),
      ['other-model-1'],
    );
    // The agent's total and ours now agree: 0.5045 both.
    assert.equal(e.agent!.differs, false);

    // The session goes on and the agent's figure grows to $0.9: the shares follow (0.225 + 0.675).
    await writeTranscript(home, `${P}.jsonl`, [...parent, cost(0.9)]);
    const indexer = makeIndexer(store, home);
    await indexer.scanAll();
    const after = new Map(listSessions(store).map((s) => [s.session_id, s]));
    assertUsd(after.get(P)!.cost_usd, 0.225 + 0.0045);
    assertUsd(after.get('agent-f1')!.cost_usd, 0.675);
    // Re-pricing (an override for another model) keeps the agent's figure in place.
    indexer.setPriceOverrides({ 'other-model-1': { input: 1, output: 1 } });
    const repriced = new Map(listSessions(store).map((s) => [s.session_id, s]));
    // other-model-1: 10×1/1e6 = 0.00001
    assertUsd(repriced.get(P)!.rollup.cost_usd, 0.9 + 0.0045 + 0.00001);
    assert.equal(repriced.get(P)!.rollup.unpriced_requests, 0);
  });
});
