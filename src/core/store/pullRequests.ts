import { all } from './sqlite';
import type { Store } from './store';
import type { UsageBreakdown } from './totals';

/**
 * Pull requests of branches, from what the index knows (docs/accounting.md §5b). Sources, in order:
 *  1. `agent`: the agent's own record (Claude `pr-link`) made while on the branch;
 *  2. `transcript`: a PR URL of this repository seen in a session's text while on the branch;
 *  3. `gh`: `gh pr view <branch>` (cached answer, see src/core/git/pr.ts);
 *  4. `github`: the GitHub REST API through VS Code's GitHub sign-in (cached answer).
 * A PR's head branch is the branch of its earliest sighting (agent records before URLs) that is not
 * the default branch, detached HEAD or no branch: a review session on main that prints the URL
 * does not make the PR main's.
 */

export type PrSource = 'agent' | 'transcript' | 'gh' | 'github';

export const PR_SOURCE_LABEL: Record<PrSource, string> = {
  agent: "the agent's own record",
  transcript: 'a link in a transcript',
  gh: 'GitHub CLI (gh pr view)',
  github: 'GitHub (VS Code sign-in)',
};

export interface PrRef {
  number: number;
  url: string | null;
  source: PrSource;
  /** owner/name when known. */
  repo: string | null;
  state?: string | null;
  title?: string | null;
}

export interface Sighting {
  session_id: string;
  number: number;
  url: string | null;
  repo: string | null;
  source: 'agent' | 'transcript';
  branch: string | null;
  ts: string | null;
  github_repo: string | null;
}

const sameRepo = (a: string | null, b: string | null) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/**
 * Sightings in sessions of the repository that are about this repository: a URL must name the
 * repository's GitHub remote; an agent record may also come from a repository whose remote is not
 * known (the agent linked it to this session).
 */
export function sightings(store: Store, gitDir: string): Sighting[] {
  const rows = all<Sighting>(
    store.db,
    `SELECT p.session_id, p.number, p.url, p.repo, p.source, p.branch, p.ts, c.github_repo
     FROM session_prs p JOIN sessions s ON s.session_id = p.session_id JOIN cwd_info c ON c.cwd = s.cwd WHERE c.git_dir = ?`,
    [gitDir],
  );
  return rows.filter((r) => sameRepo(r.repo, r.github_repo) || (r.source === 'agent' && (!r.repo || !r.github_repo)));
}

const notAHead = (branch: string | null, defaultBranch: string | null) =>
  !branch || branch === 'HEAD' || branch === defaultBranch;

function earlier(a: Sighting, b: Sighting): boolean {
  if (a.source !== b.source) return a.source === 'agent';
  return (a.ts ?? '') < (b.ts ?? '');
}

/** Per PR number, the sighting that names its head branch. */
export function heads(all: Sighting[], defaultBranch: string | null): Map<number, Sighting> {
  const out = new Map<number, Sighting>();
  for (const s of all) {
    if (notAHead(s.branch, defaultBranch)) continue;
    const prev = out.get(s.number);
    if (!prev || earlier(s, prev)) out.set(s.number, s);
  }
  return out;
}

export function lookups(
  store: Store,
  gitDir: string,
): {
  branch: string;
  source: 'gh' | 'github';
  number: number;
  url: string | null;
  state: string | null;
  title: string | null;
}[] {
  return all(
    store.db,
    "SELECT branch, source, number, url, state, title FROM pr_lookup WHERE git_dir = ? AND number IS NOT NULL AND source IN ('gh', 'github')",
    [gitDir],
  );
}

export function repoOf(store: Store, gitDir: string): string | null {
  return (
    all<{ github_repo: string }>(
      store.db,
      'SELECT github_repo FROM cwd_info WHERE git_dir = ? AND github_repo IS NOT NULL LIMIT 1',
      [gitDir],
    )[0]?.github_repo ?? null
  );
}

/** The PR of a branch from the index's sources, in order (agent, transcript, gh, github); null when none says. */
export function prForBranch(
  store: Store,
  gitDir: string,
  branch: string,
  defaultBranch: string | null = null,
): PrRef | null {
  if (notAHead(branch, defaultBranch)) return null;
  const headsByNumber = heads(sightings(store, gitDir), defaultBranch);
  for (const source of ['agent', 'transcript'] as const) {
    // The latest PR whose head is this branch (a branch may get a new PR after one was closed).
    const mine = [...headsByNumber.values()]
      .filter((h) => h.branch === branch && h.source === source)
      .sort((a, b) => (b.ts ?? '').localeCompare(a.ts ?? ''));
    if (mine[0]) return { number: mine[0].number, url: mine[0].url, source, repo: mine[0].repo ?? mine[0].github_repo };
  }
  const found = lookups(store, gitDir).filter((l) => l.branch === branch);
  for (const source of ['gh', 'github'] as const) {
    const l = found.find((x) => x.source === source);
    if (l) return { number: l.number, url: l.url, source, repo: repoOf(store, gitDir), state: l.state, title: l.title };
  }
  return null;
}

/** A PR's totals (prTotals.ts makes them; declared here, beside PrRef, because a BranchSummary carries one). */
export interface PrSummary extends UsageBreakdown {
  git_dir: string;
  pr: PrRef;
  /** The PR's head branch, when known. */
  head_branch: string | null;
  /** Sessions counted for having recorded the PR while on another branch (e.g. a review on main), with that branch. */
  also: { session_id: string; branch: string }[];
}
