import { all } from '../store/sqlite';
import { type SessionView, listSessions } from '../store/queries';
import { PRICE_RULE_OF_U, ofSessionFiles } from '../store/schema';
import type { StoredPriceInput } from '../store/requests';
import type { Store } from '../store/store';
import { type PriceOverrides, type UnitPrices, priceSource, priceStoredRequest } from './index';
import { type AgentComparison, compareWithAgent } from './settings';
import { checkTimeZone, dayIn, systemTimeZone } from '../time';

export { type AgentComparison, compareWithAgent };

/**
 * Reports over the priced usage rows: per-day figures in a time zone, and "explain cost" for a
 * session or a branch. Money is never recomputed here: costs are the stored per-request figures
 * (made by priceRequest when the rows were written or re-priced); the unit prices shown beside
 * them are priceRequest's too.
 */

export interface TokenKinds {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

export interface CostRow extends TokenKinds {
  cost_usd: number;
  requests: number;
  unpriced_requests: number;
}

function emptyCost(): CostRow {
  return { input: 0, output: 0, cache_read: 0, cache_write: 0, cost_usd: 0, requests: 0, unpriced_requests: 0 };
}

/** A counted request with its price inputs and the cost it was given. */
interface UsageFacts extends StoredPriceInput {
  session_id: string;
  cost_usd: number | null;
  priced: number;
  price_rule: string | null;
}

const FACTS = `SELECT u.session_id, f.framework, u.model, u.provider, u.vendor_cost_usd, u.speed, u.ts, u.input, u.output, u.cache_read,
  u.cache_write, u.cache_write_1h, u.cost_usd, u.priced, ${PRICE_RULE_OF_U} AS price_rule, u.request_count
  FROM usage u JOIN files f ON f.file_id = u.file_id WHERE u.counted = 1`;

function addTo(c: CostRow, r: UsageFacts): void {
  c.input += r.input;
  c.output += r.output;
  c.cache_read += r.cache_read;
  c.cache_write += r.cache_write;
  c.cost_usd += r.cost_usd ?? 0;
  c.requests += r.request_count;
  if (!r.priced) c.unpriced_requests += r.request_count;
}

// ---- days ------------------------------------------------------------------------------------

export interface DailyRow extends CostRow {
  date: string;
  by_agent: (CostRow & { agent: string })[];
  by_model: (CostRow & { model: string })[];
}

/** Every counted request bucketed by the calendar day of its timestamp in `tz`; days in order. Rows without a time are under "unknown". */
export function daily(
  store: Store,
  tz: string = systemTimeZone(),
  /** Only the requests whose time it keeps (a period: core/period.ts). */
  keep?: (ts: string | null) => boolean,
): { time_zone: string; price_data: string; days: DailyRow[] } {
  const zone = checkTimeZone(tz);
  const fmtCache = new Map<string, Intl.DateTimeFormat>();
  const days = new Map<string, { total: CostRow; agents: Map<string, CostRow>; models: Map<string, CostRow> }>();
  for (const r of all<UsageFacts>(store.db, FACTS)) {
    if (keep && !keep(r.ts)) continue;
    const date = (r.ts && dayIn(r.ts, zone, fmtCache)) || 'unknown';
    let d = days.get(date);
    if (!d) days.set(date, (d = { total: emptyCost(), agents: new Map(), models: new Map() }));
    addTo(d.total, r);
    const agent = d.agents.get(r.framework) ?? emptyCost();
    d.agents.set(r.framework, agent);
    addTo(agent, r);
    const modelId = r.model ?? 'unknown';
    const model = d.models.get(modelId) ?? emptyCost();
    d.models.set(modelId, model);
    addTo(model, r);
  }
  const byCost = <T extends CostRow>(a: T, b: T) => b.cost_usd - a.cost_usd;
  return {
    time_zone: zone,
    price_data: priceSource.label,
    days: [...days.entries()]
      .sort(([a], [b]) => (a === 'unknown' ? 1 : b === 'unknown' ? -1 : a.localeCompare(b)))
      .map(([date, d]) => ({
        date,
        ...d.total,
        by_agent: [...d.agents.entries()].map(([agent, c]) => ({ agent, ...c })).sort(byCost),
        by_model: [...d.models.entries()].map(([model, c]) => ({ model, ...c })).sort(byCost),
      })),
  };
}

// ---- explain cost ------------------------------------------------------------------------------

export interface ExplainLine {
  /** How these requests were priced (priceRequest's rule). */
  rule: string;
  requests: number;
  priced: boolean;
  tokens: TokenKinds & { cache_write_1h: number };
  /** Per million tokens, as applied (null when the figure is the agent's own or there is none). */
  unit_prices: UnitPrices | null;
  /** tokens × unit price per kind, in USD (null without unit prices). */
  parts_usd: {
    input: number;
    output: number;
    cache_read: number;
    cache_write_5m: number;
    cache_write_1h: number;
  } | null;
  cost_usd: number;
}

export interface ExplainModel extends CostRow {
  model: string;
  lines: ExplainLine[];
}

export interface Explanation {
  target:
    | { kind: 'session'; session_id: string; title: string | null; framework: string; sessions: string[] }
    | { kind: 'branch'; git_dir: string; branch: string; sessions: string[] };
  price_data: string;
  totals: CostRow;
  models: ExplainModel[];
  /** The agent's own total beside ours (Claude Code cost-state covers the session with its subagents). */
  agent: AgentComparison | null;
  unpriced: { model: string; requests: number; reason: string }[];
  rules: string[];
}

/** The rules every figure follows (docs/accounting.md §4 and "Pricing"). */
export const PRICING_RULES = [
  'Each API request counts once: streamed lines, forks and sidechain copies are deduplicated by request key before pricing.',
  'Each request is priced on its own at its timestamp: a long-context tier prices the whole request at the higher rate when its input crosses the threshold.',
  'Input as the providers count it = fresh input + cache reads + cache writes; cache reads and writes are priced at their own rates.',
  'Cache writes: the 5-minute part at the cache-write rate (Anthropic 1.25× input), the 1-hour part at the 1-hour rate (2× input).',
  "A fast-speed request costs the model's fast multiplier × the standard price; a fast request of a model without a known multiplier is unpriced.",
  'A model without a price is "unpriced" (its tokens count, its cost is not $0), unless the agent recorded its own cost for the request.',
];

function explainRows(rows: UsageFacts[], overrides: PriceOverrides | null): ExplainModel[] {
  const models = new Map<string, { total: CostRow; lines: Map<string, ExplainLine> }>();
  for (const r of rows) {
    const modelId = r.model ?? 'unknown';
    let m = models.get(modelId);
    if (!m) models.set(modelId, (m = { total: emptyCost(), lines: new Map() }));
    addTo(m.total, r);
    const p = priceStoredRequest(r, overrides);
    const rule = r.price_rule ?? p.rule;
    const unit = r.priced && rule === p.rule ? (p.unit_prices ?? null) : null;
    const key = `${rule}\0${JSON.stringify(unit)}`;
    let line = m.lines.get(key);
    if (!line) {
      line = {
        rule,
        requests: 0,
        priced: !!r.priced,
        tokens: { input: 0, output: 0, cache_read: 0, cache_write: 0, cache_write_1h: 0 },
        unit_prices: unit,
        parts_usd: null,
        cost_usd: 0,
      };
      m.lines.set(key, line);
    }
    line.requests += r.request_count;
    line.tokens.input += r.input;
    line.tokens.output += r.output;
    line.tokens.cache_read += r.cache_read;
    line.tokens.cache_write += r.cache_write;
    line.tokens.cache_write_1h += r.cache_write_1h;
    line.cost_usd += r.cost_usd ?? 0;
  }
  const out: ExplainModel[] = [];
  for (const [model, m] of models) {
    const lines = [...m.lines.values()];
    for (const l of lines) {
      const u = l.unit_prices;
      if (!u) continue;
      const t = l.tokens;
      l.parts_usd = {
        input: (t.input * u.input) / 1e6,
        output: (t.output * u.output) / 1e6,
        cache_read: (t.cache_read * u.cache_read) / 1e6,
        cache_write_5m: ((t.cache_write - t.cache_write_1h) * u.cache_write) / 1e6,
        cache_write_1h: (t.cache_write_1h * u.cache_write_1h) / 1e6,
      };
    }
    out.push({ model, ...m.total, lines: lines.sort((a, b) => b.cost_usd - a.cost_usd) });
  }
  return out.sort((a, b) => b.cost_usd - a.cost_usd);
}

function finish(
  target: Explanation['target'],
  rows: UsageFacts[],
  overrides: PriceOverrides | null,
  agentUsd: number | null,
): Explanation {
  const totals = emptyCost();
  for (const r of rows) addTo(totals, r);
  const models = explainRows(rows, overrides);
  const unpriced = models.flatMap((m) =>
    m.lines.filter((l) => !l.priced).map((l) => ({ model: m.model, requests: l.requests, reason: l.rule })),
  );
  const used = new Set(rows.map((r) => r.price_rule ?? ''));
  const rules = [...PRICING_RULES];
  if ([...used].some((r) => r.includes('your price override')))
    rules.push(
      'Your price overrides (agentHandler.pricing.overrides) win over the price data for the models they name.',
    );
  // Without a session-wide figure, the agent's per-request figures (OpenCode `cost`, OTLP `cost_usd`)
  // are compared with ours over the same requests.
  let agent = compareWithAgent(totals.cost_usd, agentUsd);
  if (!agent) {
    const withOwn = rows.filter((r) => typeof r.vendor_cost_usd === 'number' && r.vendor_cost_usd > 0);
    if (withOwn.length) {
      agent = compareWithAgent(
        withOwn.reduce((a, r) => a + (r.cost_usd ?? 0), 0),
        withOwn.reduce((a, r) => a + (r.vendor_cost_usd ?? 0), 0),
      );
      if (agent) agent.requests = withOwn.reduce((a, r) => a + r.request_count, 0);
    }
  }
  return { target, price_data: priceSource.label, totals, models, agent, unpriced, rules };
}

/** Explains a session's cost with its subagents' (its rollup), or null when there is no such session. */
export function explainSession(
  store: Store,
  sessionId: string,
  overrides: PriceOverrides | null = null,
  sessions?: SessionView[],
): Explanation | null {
  const views = sessions ?? listSessions(store);
  const byId = new Map(views.map((v) => [v.session_id, v]));
  const s = byId.get(sessionId);
  if (!s) return null;
  const ids: string[] = [];
  const visit = (v: SessionView) => {
    if (ids.includes(v.session_id)) return;
    ids.push(v.session_id);
    for (const c of v.subagent_ids) {
      const child = byId.get(c);
      if (child) visit(child);
    }
  };
  visit(s);
  const rows = all<UsageFacts>(store.db, `${FACTS} AND ${ofSessionFiles('u.file_id', ids.length)}`, ids);
  return finish(
    { kind: 'session', session_id: s.session_id, title: s.title, framework: s.framework, sessions: ids },
    rows,
    overrides,
    s.agent_cost_usd,
  );
}

/** Explains a branch's cost: the same requests as branchSummary. */
export function explainBranch(
  store: Store,
  gitDir: string,
  branch: string,
  overrides: PriceOverrides | null = null,
): Explanation {
  const rows = all<UsageFacts>(
    store.db,
    `${FACTS} AND u.branch = ? AND u.session_id IN (SELECT s.session_id FROM sessions s JOIN cwd_info c ON c.cwd = s.cwd WHERE c.git_dir = ?)`,
    [branch, gitDir],
  );
  const sessions = [...new Set(rows.map((r) => r.session_id))];
  return finish({ kind: 'branch', git_dir: gitDir, branch, sessions }, rows, overrides, null);
}
