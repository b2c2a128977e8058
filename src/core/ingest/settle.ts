import { DiffStats } from '../git/pr';
import { repoInfo } from '../git/repo';
import { ReflogCache, attributedBranch } from '../git/reflog';
import { fillFromAgentFigures } from '../pricing/repricing';
import { agentCostFigureName } from '../sources/registry';
import type { SourceAdapter } from '../sources/types';
import {
  sessionBranches,
  setBranchDiff,
  setCwdInfo,
  setPrRowBranch,
  setRowBranch,
  unresolvedBranchRows,
  unresolvedCwds,
  unresolvedPrRows,
} from '../store/attribution';
import { recomputeCounted, recomputeTotals } from '../store/requests';
import { refreshCopiedCounts, refreshTranscriptAvailability } from '../store/sessions';
import type { Store } from '../store/store';
import type { Logger } from './indexer';

/** What a pass changed, for the settling that follows it (indexer.ts fills it). */
export class SettleBatch {
  /** Request keys whose rows appeared, changed or went: their counted copy is decided again. */
  keys = new Set<string>();
  sessions = new Set<string>();
  /** Sessions whose transcript appeared or went. */
  availability = new Set<string>();
  /** Sessions whose live facts (hooks, telemetry) changed. */
  liveSessions = new Set<string>();
}

/**
 * What follows the reading of a pass (indexer.ts): which copy of each request counts, session
 * totals, and the git facts the new rows need (repository of each new working directory, the branch
 * of each request from the reflog, each branch's diff against the default branch).
 */
export class Settler {
  private readonly reflogs = new ReflogCache();
  private readonly diffs = new DiffStats();

  constructor(
    private readonly store: Store,
    private readonly adapters: SourceAdapter[],
    private readonly log: Logger,
  ) {}

  /** Settles a batch: ownership of changed requests, session totals, git facts of new folders. */
  async settle(batch: SettleBatch, stats: { sessions_changed: number }): Promise<void> {
    const touched = new Set(batch.sessions);
    if (batch.keys.size) {
      this.store.transaction(() => {
        for (const s of recomputeCounted(this.store, batch.keys)) touched.add(s);
        for (const s of fillFromAgentFigures(this.store, touched, agentCostFigureName)) touched.add(s);
        recomputeTotals(this.store, touched);
      });
    } else if (touched.size) {
      this.store.transaction(() => {
        for (const s of fillFromAgentFigures(this.store, touched, agentCostFigureName)) touched.add(s);
        recomputeTotals(this.store, touched);
      });
    }
    for (const s of batch.availability) refreshTranscriptAvailability(this.store, s);
    // A marked copy's prompts, tool calls and errors count for its origin while the origin's transcript
    // is there: the forks of sessions that appeared or went count theirs again.
    for (const s of refreshCopiedCounts(this.store, [...batch.sessions, ...batch.availability])) touched.add(s);
    await this.resolveCwds();
    await this.attributeBranches();
    await this.updateBranchDiffs(touched);
    stats.sessions_changed = touched.size + batch.availability.size + batch.liveSessions.size;
  }

  /** Settles the branch of every new request and PR sighting (per request, docs/accounting.md §5). */
  async attributeBranches(): Promise<void> {
    const perRequest = new Set(this.adapters.filter((a) => a.branchPerRequest).map((a) => a.id));
    const rows = unresolvedBranchRows(this.store);
    const prs = unresolvedPrRows(this.store);
    if (!rows.length && !prs.length) return;
    // One look at each worktree's reflog per pass, however many requests it has.
    const histories = new Map<string, ReturnType<ReflogCache['history']>>();
    const reflogs = {
      history: (toplevel: string) =>
        histories.get(toplevel) ?? histories.set(toplevel, this.reflogs.history(toplevel)).get(toplevel)!,
    };
    const rowBranches: [number, string | null][] = [];
    for (const r of rows) {
      rowBranches.push([
        r.rowid,
        await attributedBranch(reflogs, perRequest.has(r.framework), {
          ts: r.ts,
          recorded: r.git_branch ?? r.session_branch,
          toplevel: r.toplevel,
          cwd_known: r.cwd_known,
        }),
      ]);
    }
    const prBranches: [number, string | null][] = [];
    for (const p of prs) {
      prBranches.push([
        p.rowid,
        await attributedBranch(reflogs, perRequest.has(p.framework), {
          ts: p.ts,
          recorded: p.recorded_branch,
          toplevel: p.toplevel,
          cwd_known: p.cwd_known,
        }),
      ]);
    }
    this.store.transaction(() => {
      for (const [rowid, b] of rowBranches) setRowBranch(this.store, rowid, b);
      // A sighting with no branch at all is kept as "" (no branch): it never names a head branch.
      for (const [rowid, b] of prBranches) setPrRowBranch(this.store, rowid, b ?? '');
    });
  }

  /**
   * The lines changed on the branches the given sessions worked on, against the default branch
   * (git_additions / git_deletions). DiffStats asks git once per branch head: a branch with no new
   * commit costs one `rev-parse`.
   */
  async updateBranchDiffs(sessionIds: Iterable<string>): Promise<void> {
    const found: [string, string, Awaited<ReturnType<DiffStats['get']>>][] = [];
    for (const b of sessionBranches(this.store, sessionIds)) {
      try {
        found.push([b.git_dir, b.branch, await this.diffs.get(b.git_dir, b.toplevel, b.branch)]);
      } catch (err) {
        this.log.warn(`git diff of ${b.branch} in ${b.toplevel} failed: ${(err as Error).message}`);
      }
    }
    if (found.length)
      this.store.transaction(() =>
        found.forEach(([gitDir, branch, diff]) => setBranchDiff(this.store, gitDir, branch, diff)),
      );
  }

  /** git facts (repository, GitHub remote) for working directories not seen before. */
  async resolveCwds(): Promise<void> {
    for (const cwd of unresolvedCwds(this.store)) {
      const info = await repoInfo(cwd);
      setCwdInfo(this.store, cwd, {
        git_dir: info?.git_dir ?? null,
        toplevel: info?.toplevel ?? null,
        github_repo: info?.github_repo ?? null,
        remote: info?.remote ?? null,
      });
    }
  }
}
