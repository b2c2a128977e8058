import { totalTokens } from '../../core/model/session';
import { costLabel } from '../../core/report';
import { adapterFor } from '../../core/sources/registry';
import type { SessionView } from '../../core/store/queries';
import { formatTokens } from '../../core/text';

/**
 * Short texts the views put beside sessions and totals. Plain functions of the data (no `vscode`),
 * shared by the tree, the status bar, tooltips and quick picks.
 */

export function agentLabel(framework: string): string {
  return adapterFor(framework)?.displayName ?? framework;
}

/** "2h ago · 12.3k tok · $0.12": a session's line in the tree and in session quick picks. */
export function sessionDescription(s: SessionView, ago: string): string {
  const t = s.rollup;
  // An agent that writes its totals only at exit (Copilot): say so rather than show 0.
  if (s.token_totals_pending && totalTokens(t) === 0) return [ago, 'tokens at exit'].filter(Boolean).join(' · ');
  return [ago, `${formatTokens(totalTokens(t))} tok`, costLabel(t)].filter(Boolean).join(' · ');
}

/** Quick pick labels and details render `$(icon)`: transcript text gets its `$(` broken so it stays text. */
export function withoutIcons(text: string): string {
  return text.replace(/\$\(/g, '$\u200a(');
}
