#!/usr/bin/env node
/**
 * Checks our figures against Claude Code's own: for every Claude Code session whose transcript has a
 * `cost-state` record, compares per model our token totals and cost (the session with its
 * subagents, from `agent-handler explain --json`) with the last cost-state's `modelUsage`.
 * Differences are expected where Claude Code made requests the transcript does not carry (see
 * docs/accounting.md, "Pricing"). Needs `npm run build`. Reads the same folders as the CLI.
 *
 *   node scripts/check-costs.mjs [--store PATH]
 *
 * Exit code 1 when any session's total differs by more than 1 %.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const extra = process.argv.slice(2);
const run = (...args) =>
  JSON.parse(
    execFileSync(process.execPath, [cli, ...args, ...extra, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }),
  );

function lastCostState(file) {
  let last = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"cost-state"')) continue;
    try {
      const r = JSON.parse(line);
      if (r.type === 'cost-state') last = r;
    } catch {
      // a malformed line: the indexer counts it; here it is simply not a cost-state
    }
  }
  return last;
}

let sessions = 0;
let differing = 0;
for (const s of run('sessions')) {
  if (s.framework !== 'claude_code' || s.parent_session_id || !s.transcript_path || s.agent_cost_usd === null) continue;
  let state;
  try {
    state = lastCostState(s.transcript_path);
  } catch {
    continue;
  }
  if (!state?.modelUsage) continue;
  sessions++;
  const e = run('explain', '--session', s.session_id);
  const ours = new Map(e.models.map((m) => [m.model, m]));
  const rows = [];
  for (const model of new Set([...ours.keys(), ...Object.keys(state.modelUsage)])) {
    const m = ours.get(model) ?? { input: 0, output: 0, cache_read: 0, cache_write: 0, cost_usd: 0 };
    const u = state.modelUsage[model] ?? {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      costUSD: 0,
    };
    const same =
      m.input === u.inputTokens &&
      m.output === u.outputTokens &&
      m.cache_read === u.cacheReadInputTokens &&
      m.cache_write === u.cacheCreationInputTokens;
    rows.push(
      `  ${same ? '=' : '≠'} ${model}: ours ${m.input}/${m.output}/${m.cache_read}/${m.cache_write} $${m.cost_usd.toFixed(6)}; Claude Code ${u.inputTokens}/${u.outputTokens}/${u.cacheReadInputTokens}/${u.cacheCreationInputTokens} $${u.costUSD.toFixed(6)}`,
    );
  }
  const flag = e.agent?.differs;
  if (flag) differing++;
  process.stdout.write(
    `${flag ? '⚠' : '✓'} ${s.session_id} ${(s.title ?? '').slice(0, 50)}: ours $${e.totals.cost_usd.toFixed(6)}${e.totals.unpriced_requests ? ` + ${e.totals.unpriced_requests} unpriced` : ''}, Claude Code $${state.totalCostUSD.toFixed(6)} (${e.agent ? e.agent.difference_pct.toFixed(2) : '?'} %)\n${rows.join('\n')}\n`,
  );
}
process.stdout.write(`${sessions} session(s) with a cost-state, ${differing} differing by more than 1 %\n`);
process.exit(differing ? 1 : 0);
