import { type DiffStat, DiffStats, type FoundPr, defaultBranch, ghPrView } from './pr';

/**
 * Where the answers of `gh pr view` are kept between lookups: the store's PR lookups (the store
 * fits this shape as it is; the service, whose store is replaced on reload, passes a wrapper).
 * BranchLookups never opens the store itself: git/ sits below it.
 */
export interface PrLookupCache {
  getPrLookup(
    gitDir: string,
    branch: string,
    source: string,
  ): { number: number | null; fetched_at_ms: number } | undefined;
  setPrLookup(gitDir: string, branch: string, source: string, pr: FoundPr | null): void;
}

/** How the caller hears of what gh said: the service logs it, the CLI prints it. */
export interface GhReports {
  /** gh could not answer (missing, logged out, offline): told once per reason, not on every lookup. */
  unavailable(reason: string): void | Promise<void>;
  /** gh named the branch's pull request. */
  found?(branch: string, pr: FoundPr): void;
}

/** The PR lookup source under which gh's answers are cached. */
const GH = 'gh';

/**
 * Whether gh may name a branch's PR: no transcript names it, or only a lookup did (gh's own earlier
 * answer, or the VS Code GitHub sign-in's). A PR an agent recorded is never second-guessed.
 */
export function ghMayAnswer(prSource: string | null): boolean {
  return prSource === null || prSource === GH || prSource === 'github';
}

/**
 * What a branch's figures need from git and GitHub that the transcripts do not say: the
 * repository's default branch (it decides which PR sightings name a head branch), the branch's diff
 * against it, and its PR through `gh`. One instance per process, shared by every query: git is
 * asked at most every LOOKUP_EVERY_MS per branch, the default branch every DEFAULT_BRANCH_TTL_MS, gh
 * every PR_LOOKUP_TTL_MS per branch and not at all for a while after it could not answer. Used by
 * the index service (in the background, for the views) and by the CLI (once, awaited).
 */
export class BranchLookups {
  /** Status bar refreshes come with every transcript change: git is asked at most every few seconds. */
  static readonly LOOKUP_EVERY_MS = 3_000;
  /** A PR lookup answer is asked again after this long (a PR opened or merged meanwhile). */
  static readonly PR_LOOKUP_TTL_MS = 10 * 60_000;
  static readonly DEFAULT_BRANCH_TTL_MS = 5 * 60_000;

  /** Default branch per repository (git dir), looked up once in a while. */
  private readonly defaults = new Map<string, { branch: string | null; at: number }>();
  private readonly diffs = new DiffStats();
  private readonly lastDiff = new Map<string, DiffStat | null>();
  private readonly inFlight = new Set<string>();
  private readonly lastLookup = new Map<string, number>();
  /** gh failures are reported once per reason, not on every status bar refresh. */
  private readonly ghReasons = new Set<string>();
  /** After gh could not answer (missing, logged out, offline), it is not asked again for a while. */
  private ghRetryAt = 0;

  constructor(
    private readonly cache: PrLookupCache,
    private readonly reports: GhReports,
  ) {}

  /** The repository's default branch as last found; null before the first lookup, or when it has none. */
  knownDefault(gitDir: string): string | null {
    return this.defaults.get(gitDir)?.branch ?? null;
  }

  /** Every default branch found so far, per git dir. */
  knownDefaults(): Map<string, string | null> {
    return new Map([...this.defaults].map(([gitDir, found]) => [gitDir, found.branch]));
  }

  /** The branch's diff as last found (refreshInBackground keeps it current); null before. */
  knownDiff(gitDir: string, branch: string): DiffStat | null {
    return this.lastDiff.get(branchKey(gitDir, branch)) ?? null;
  }

  /** The default branch, asked of git the first time only (later refreshes run in the background). */
  async defaultBranch(gitDir: string, toplevel: string): Promise<string | null> {
    if (!this.defaults.has(gitDir))
      this.defaults.set(gitDir, { branch: await defaultBranch(toplevel), at: Date.now() });
    return this.knownDefault(gitDir);
  }

  /** Lines changed on the branch since its merge base with the default branch (cached per head commit). */
  async diff(gitDir: string, toplevel: string, branch: string): Promise<DiffStat | null> {
    const diff = await this.diffs.get(gitDir, toplevel, branch);
    this.lastDiff.set(branchKey(gitDir, branch), diff);
    return diff;
  }

  /**
   * Asks `gh pr view` for the branch's PR when gh may name it (ghMayAnswer) and the branch is
   * neither detached nor the default branch, and caches the answer. `reuseCached`: an answer cached
   * less than PR_LOOKUP_TTL_MS ago is kept without asking (the CLI, run once, asks every time).
   * Resolves to whether the PR it knows for the branch changed.
   */
  async askGh(
    gitDir: string,
    toplevel: string,
    branch: string,
    def: string | null,
    prSource: string | null,
    reuseCached = true,
  ): Promise<boolean> {
    if (!ghMayAnswer(prSource) || branch === 'HEAD' || branch === def) return false;
    const cached = this.cache.getPrLookup(gitDir, branch, GH);
    const fresh =
      reuseCached && cached !== undefined && Date.now() - cached.fetched_at_ms <= BranchLookups.PR_LOOKUP_TTL_MS;
    if (fresh || Date.now() < this.ghRetryAt) return false;
    const answer = await ghPrView(toplevel, branch);
    if (answer.kind === 'unavailable') {
      const firstTime = !this.ghReasons.has(answer.reason);
      this.ghReasons.add(answer.reason);
      this.ghRetryAt = Date.now() + BranchLookups.PR_LOOKUP_TTL_MS;
      if (firstTime) await this.reports.unavailable(answer.reason);
      return false;
    }
    const pr = answer.kind === 'found' ? answer.pr : null;
    this.cache.setPrLookup(gitDir, branch, GH, pr);
    if (pr) this.reports.found?.(branch, pr);
    return (cached?.number ?? null) !== (pr?.number ?? null);
  }

  /**
   * Lookups that need git or the network, started without waiting (the answer comes with a later
   * query; `onChanged` announces it): the default branch, the diff against it, and `gh pr view`
   * when `gh` is on and no transcript names the branch's PR.
   */
  refreshInBackground(
    lookup: { gitDir: string; toplevel: string; branch: string; prSource: string | null; gh: boolean },
    onChanged: () => void,
    onError: (err: Error) => void,
  ): void {
    const key = branchKey(lookup.gitDir, lookup.branch);
    const last = this.lastLookup.get(key) ?? 0;
    if (this.inFlight.has(key) || Date.now() - last < BranchLookups.LOOKUP_EVERY_MS) return;
    this.lastLookup.set(key, Date.now());
    this.inFlight.add(key);
    void (async () => {
      if (await this.refresh(lookup)) onChanged();
    })()
      .catch(onError)
      .finally(() => this.inFlight.delete(key));
  }

  private async refresh({
    gitDir,
    toplevel,
    branch,
    prSource,
    gh,
  }: {
    gitDir: string;
    toplevel: string;
    branch: string;
    prSource: string | null;
    gh: boolean;
  }): Promise<boolean> {
    let changed = false;
    const def = this.defaults.get(gitDir);
    if (!def || Date.now() - def.at > BranchLookups.DEFAULT_BRANCH_TTL_MS) {
      const found = await defaultBranch(toplevel);
      changed ||= found !== (def?.branch ?? null);
      this.defaults.set(gitDir, { branch: found, at: Date.now() });
    }
    const before = this.knownDiff(gitDir, branch);
    const diff = await this.diff(gitDir, toplevel, branch);
    changed ||= JSON.stringify(diff) !== JSON.stringify(before);
    if (gh && (await this.askGh(gitDir, toplevel, branch, this.knownDefault(gitDir), prSource))) changed = true;
    return changed;
  }
}

function branchKey(gitDir: string, branch: string): string {
  return `${gitDir}\0${branch}`;
}
