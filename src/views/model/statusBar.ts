import { totalTokens } from '../../core/model/session';
import { costLabel } from '../../core/report';
import type { BranchResult } from '../../core/ingest/protocol';
import { hasOtherMachines } from '../../core/sync/acrossMachines';
import { syncStateLine } from '../../core/sync/stateLine';
import type { SyncState } from '../../core/sync/types';
import type { Totals } from '../../core/store/totals';
import { escapeMd, formatTokens, formatUsd } from '../../core/text';
import { branchTooltip, machinesTable } from './tooltips';

/**
 * What the status bar item shows, as a pure function of what the index answered, the workspace's
 * branch and the settings; statusBar.ts only asks the queries and copies this onto the item.
 */

/** Shown from activation until the worker has loaded the index. */
export const INDEXING_STATUS = {
  text: '$(sync~spin) Agent Handler: indexing…',
  tooltip: 'Agent Handler is reading agent transcripts',
} as const;

/** What the status bar is about: the workspace's branch, or every session when there is no repository. */
export type StatusBarFacts =
  | {
      kind: 'noRepository';
      /** The index's grand total. */
      total: Totals;
    }
  | {
      kind: 'branch';
      /** The workspace's current branch (as the workspace's repository reads it). */
      branch: string;
      /** owner/name of the GitHub remote, else the repository's folder. */
      repoLabel: string;
      /** With `shared` (and the PR's) when sync has read the other machines. */
      summary: BranchResult;
      /** `agentHandler.budget.branchUsd` as the settings hold it (anything a person may have typed). */
      budgetUsd: unknown;
    };

export interface StatusBarShared {
  /** The worker is still reading what changed: the text spins. */
  indexing: boolean;
  /** Sessions waiting for the person anywhere (Needs you). */
  waiting: number;
  /** Sync's state once it was turned on in this window (its problems go in the tooltip, one line). */
  sync?: SyncState | null;
}

export interface StatusBarModel {
  text: string;
  /** Markdown (shown untrusted, without HTML). */
  tooltip: string;
  /** The warning background: a session waits, or the branch is over its budget. */
  warning: boolean;
  /** For screen readers; undefined leaves the item's as it was. */
  accessibilityLabel?: string;
}

export const NO_REPOSITORY_TOOLTIP =
  '**Agent Handler**\n\nThis workspace is not in a git repository: the total of every indexed session is shown.';

export function statusBarModel(facts: StatusBarFacts, shared: StatusBarShared): StatusBarModel {
  const spinner = shared.indexing ? '$(sync~spin) ' : '';
  const waitingText = shared.waiting ? ` · $(bell-dot) ${shared.waiting} waiting` : '';
  if (facts.kind === 'noRepository') {
    const t = facts.total;
    return {
      text: `${spinner}$(hubot) all sessions · ${formatTokens(totalTokens(t))} tok · ${costLabel(t)}${waitingText}`,
      tooltip: NO_REPOSITORY_TOOLTIP,
      warning: shared.waiting > 0,
    };
  }
  const b = facts.summary;
  // With a PR, the PR's totals (its head branch plus sessions that worked on it from elsewhere);
  // with sync, every machine's requests for the same repository and branch or PR.
  const local = b.pr_summary ?? b;
  const across = local.shared;
  const acrossMachines = hasOtherMachines(across);
  const shown = acrossMachines ? across : local;
  const tokens = totalTokens(shown);
  const live = b.live ? ` · $(pulse) ${b.live}` : '';
  const head = b.pr ? `$(git-pull-request) #${b.pr.number}` : `$(hubot) ${facts.branch}`;
  const budget = facts.budgetUsd;
  // Only a budget the person set, once crossed, or a session waiting for the person colours the item.
  const over = typeof budget === 'number' && budget > 0 && shown.cost_usd > budget;
  const prPart = b.pr ? `, pull request #${b.pr.number}` : '';
  const machinesPart = acrossMachines ? `, ${across.machines.length} machines` : '';
  const machinesTooltip = acrossMachines
    ? `**Across ${across.machines.length} machines** (${b.pr ? `pull request #${b.pr.number}` : `branch ${escapeMd(b.branch)}`}): ` +
      `${formatTokens(tokens)} tokens, ${escapeMd(costLabel(shown))} in ${shown.requests} request(s)\n\n${machinesTable(across.machines)}`
    : '';
  // A sync problem is one line here and in the log; the local figures stay what they are.
  const sync = shared.sync;
  const syncProblem = sync?.state === 'error' ? `\n\nSync with other machines: ${escapeMd(syncStateLine(sync))}` : '';
  const overText = over ? `, over the budget of ${formatUsd(budget)}` : '';
  const overTooltip = over ? `\n\n**Over the budget** of ${formatUsd(budget)} (agentHandler.budget.branchUsd).` : '';
  return {
    text: `${spinner}${head} · ${formatTokens(tokens)} tok · ${costLabel(shown)}${live}${waitingText}`,
    tooltip: branchTooltip(b, facts.repoLabel, machinesTooltip) + overTooltip + syncProblem,
    warning: over || shared.waiting > 0,
    accessibilityLabel: `Agent Handler: branch ${facts.branch}${prPart}, ${tokens} tokens, ${costLabel(shown)}, ${shown.sessions} sessions${machinesPart}${overText}`,
  };
}
