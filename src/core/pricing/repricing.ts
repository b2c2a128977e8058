import {
  type RequestStore,
  type StoredPriceInput,
  countedRequestsOf,
  recomputeTotals,
  requestsToPrice,
  setRequestCost,
} from '../store/requests';
import { agentModelCosts, allSessionIds, rootSessions, sessionTree } from '../store/sessions';

/**
 * Pricing the rows already in the store: again, when the price data or the user's overrides change
 * (repriceAll), and filling what could not be priced with the agent's own figure
 * (fillFromAgentFigures). The store hands over its rows and takes the costs back; it never prices.
 */

/** The rule of a request priced with the agent's own per-model figure (see fillFromAgentFigures). */
export const AGENT_FILL_RULE = "the agent's own session figure";

/** Prices one stored row (priceRequest with the current price data and overrides). */
export type PriceStoredRow = (row: StoredPriceInput) => { cost_usd: number | null; priced: boolean; rule: string };

/** What an agent calls its own cost figure, e.g. Claude Code's "cost-state" (said in the fill's rule). */
export type CostFigureName = (framework: string) => string;

/**
 * Prices every stored row again from its stored tokens (the price overrides changed, or refreshed
 * price data arrived): no transcript is read. Returns how many rows changed cost.
 */
export function repriceAll(store: RequestStore, price: PriceStoredRow, costFigureName: CostFigureName): number {
  const rows = requestsToPrice(store);
  let changed = 0;
  store.transaction(() => {
    for (const r of rows) {
      const p = price(r);
      if (!p.priced && r.price_rule?.startsWith(AGENT_FILL_RULE)) continue;
      if (p.cost_usd === r.cost_usd && (p.priced ? 1 : 0) === r.priced && p.rule === r.price_rule) continue;
      setRequestCost(store, r.rid, p.cost_usd, p.priced, p.rule);
      changed++;
    }
    const every = allSessionIds(store);
    if (fillFromAgentFigures(store, every, costFigureName).size) changed++;
    if (changed) recomputeTotals(store, every);
  });
  return changed;
}

/**
 * The agent's own figure fills a gap: for a session whose agent recorded its cost per model
 * (Claude Code cost-state `modelUsage`, covering the session with its subagents), the counted
 * requests of a model we could not price get that model's figure, minus what we did price of it,
 * shared among them by token count, labelled as the agent's. Runs for the given top-level
 * sessions (and their subagents); returns the sessions whose rows changed. docs/accounting.md, "Pricing".
 */
export function fillFromAgentFigures(
  store: RequestStore,
  sessionIds: Iterable<string>,
  costFigureName: CostFigureName,
): Set<string> {
  const changed = new Set<string>();
  for (const root of rootSessions(store, sessionIds)) {
    const agent = agentModelCosts(store, root);
    const costs = agent?.costs ?? {};
    const rows = countedRequestsOf(store, sessionTree(store, root));
    const byModel = new Map<string, typeof rows>();
    for (const r of rows) {
      const m = r.model ?? '';
      byModel.set(m, [...(byModel.get(m) ?? []), r]);
    }
    for (const [model, list] of byModel) {
      const filled = list.filter((r) => r.price_rule?.startsWith(AGENT_FILL_RULE));
      const gaps = list.filter((r) => !r.priced || r.price_rule?.startsWith(AGENT_FILL_RULE));
      if (!gaps.length) continue;
      const pricedSum = list
        .filter((r) => r.priced && !r.price_rule?.startsWith(AGENT_FILL_RULE))
        .reduce((a, r) => a + (r.cost_usd ?? 0), 0);
      const agentCost = costs[model];
      const gap = typeof agentCost === 'number' ? agentCost - pricedSum : 0;
      const tokens = gaps.reduce((a, r) => a + r.tokens, 0);
      // A figure is only ever found on a session row, so `agent` is known whenever there is a gap to fill.
      if (agent && gap > 0 && tokens > 0) {
        const rule = `${AGENT_FILL_RULE}: ${costFigureName(agent.framework)} ${model} $${agentCost} − $${pricedSum.toFixed(6)} priced here, shared by tokens`;
        for (const r of gaps) {
          const share = (gap * r.tokens) / tokens;
          if (r.priced && r.cost_usd === share && r.price_rule === rule) continue;
          setRequestCost(store, r.rid, share, true, rule);
          changed.add(r.session_id);
        }
      } else {
        // The agent's figure no longer covers them (or is gone): unpriced again.
        for (const r of filled) {
          setRequestCost(store, r.rid, null, false, `no price for ${model || 'an unrecorded model'}`);
          changed.add(r.session_id);
        }
      }
    }
  }
  if (changed.size) store.markDirty();
  return changed;
}
