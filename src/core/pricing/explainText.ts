import { oneLine } from '../text';
import type { Explanation } from './report';

/**
 * An explanation as a markdown document, for the CLI and the VS Code "Explain Cost" document.
 * Imports types only, so the extension host bundle does not carry the price data.
 */

const usd = (n: number) => `$${n.toFixed(6)}`;
const num = (n: number) => Math.round(n).toLocaleString('en-US');
/** Transcript text (titles) in a markdown document: one line, markup characters escaped. */
const plain = (s: string) => oneLine(s, 120).replace(/[\\`*_[\]<>|#&]/g, (c) => `\\${c}`);

/** The explanation as a markdown document (opened read-only as text; no links, titles escaped). */
export function explanationMarkdown(e: Explanation): string {
  const out: string[] = [];
  if (e.target.kind === 'session') {
    out.push(
      `# Cost of session ${plain(e.target.title ?? e.target.session_id)}`,
      '',
      `Session ${e.target.session_id} (${e.target.framework})${e.target.sessions.length > 1 ? `, with ${e.target.sessions.length - 1} subagent session(s)` : ''}.`,
    );
  } else {
    out.push(
      `# Cost of branch ${plain(e.target.branch)}`,
      '',
      `Every request made on ${plain(e.target.branch)} in ${plain(e.target.git_dir)}: ${e.target.sessions.length} session(s).`,
    );
  }
  const t = e.totals;
  out.push(
    '',
    `**Total: ${usd(t.cost_usd)}**${t.unpriced_requests ? ` + ${t.unpriced_requests} unpriced request(s)` : ''} for ${t.requests} request(s): input ${num(t.input)}, output ${num(t.output)}, cache read ${num(t.cache_read)}, cache write ${num(t.cache_write)} tokens.`,
  );
  if (e.agent) {
    const scope =
      e.agent.requests !== undefined ? ` for the ${e.agent.requests} request(s) it recorded a cost for` : '';
    out.push(
      '',
      `The agent's own figure${scope}: ${usd(e.agent.agent_usd)} (ours ${usd(e.agent.ours_usd)}, ${e.agent.difference_pct >= 0 ? '+' : ''}${e.agent.difference_pct.toFixed(2)} %)${e.agent.differs ? ' ⚠ differs by more than 1 %' : ''}.`,
    );
  }
  out.push('', `Prices: ${e.price_data}.`, '', '## Per model', '');
  out.push('| Model | Rule | Requests | Kind | Tokens | $/M tokens | Cost |', '|---|---|---:|---|---:|---:|---:|');
  for (const m of e.models) {
    for (const l of m.lines) {
      const u = l.unit_prices;
      const p = l.parts_usd;
      const kinds: [string, number, number | undefined, number | undefined][] = [
        ['input', l.tokens.input, u?.input, p?.input],
        ['output', l.tokens.output, u?.output, p?.output],
        ['cache read', l.tokens.cache_read, u?.cache_read, p?.cache_read],
        ['cache write 5m', l.tokens.cache_write - l.tokens.cache_write_1h, u?.cache_write, p?.cache_write_5m],
        ['cache write 1h', l.tokens.cache_write_1h, u?.cache_write_1h, p?.cache_write_1h],
      ];
      let first = true;
      for (const [kind, tokens, price, part] of kinds) {
        if (!tokens) continue;
        out.push(
          `| ${first ? plain(m.model) : ''} | ${first ? plain(l.rule) : ''} | ${first ? l.requests : ''} | ${kind} | ${num(tokens)} | ${price === undefined ? '' : `$${price}`} | ${part === undefined ? '' : usd(part)} |`,
        );
        first = false;
      }
      out.push(
        `| | | | **= ${l.priced ? 'cost' : 'unpriced'}** | | | **${l.priced ? usd(l.cost_usd) : 'unpriced'}** |`,
      );
    }
  }
  out.push('', '## Unpriced requests', '');
  out.push(
    ...(e.unpriced.length
      ? e.unpriced.map((u) => `- ${plain(u.model)}: ${u.requests} request(s): ${plain(u.reason)}`)
      : ['- none']),
  );
  out.push('', '## Rules applied', '', ...e.rules.map((r) => `- ${r}`), '');
  return out.join('\n');
}
