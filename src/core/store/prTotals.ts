import { type SessionView, listSessions, usageBreakdown } from './queries';
import { type PrRef, type PrSummary, heads, lookups, repoOf, sightings } from './pullRequests';
import { all } from './sqlite';
import type { Store } from './store';

/** What pull requests cost: each PR's counted requests, found through its branches (pullRequests.ts). */

/**
 * A PR's totals: every counted request on its head branch (any session, agent or worktree of the
 * repository) plus the requests that sessions which recorded the PR while on another branch made on
 * that branch. One WHERE clause over the usage rows, so a request matching both counts once.
 */
export function prSummary(
  store: Store,
  gitDir: string,
  number: number,
  defaultBranch: string | null = null,
  sessions?: SessionView[],
): PrSummary | null {
  const seen = sightings(store, gitDir).filter((s) => s.number === number);
  const head = heads(seen, defaultBranch).get(number) ?? null;
  const lookup = lookups(store, gitDir).find((l) => l.number === number) ?? null;
  if (!head && !lookup && !seen.length) return null;
  const headBranch = head?.branch ?? lookup?.branch ?? null;
  const pr: PrRef = head
    ? {
        number,
        url: head.url ?? seen.find((s) => s.url)?.url ?? null,
        source: head.source,
        repo: head.repo ?? head.github_repo,
      }
    : lookup
      ? {
          number,
          url: lookup.url,
          source: lookup.source,
          repo: repoOf(store, gitDir),
          state: lookup.state,
          title: lookup.title,
        }
      : { number, url: seen.find((s) => s.url)?.url ?? null, source: seen[0].source, repo: seen[0].repo };
  const alsoPairs = new Map<string, { session_id: string; branch: string }>();
  for (const s of seen) {
    if (s.branch === null || s.branch === headBranch) continue;
    alsoPairs.set(`${s.session_id}\0${s.branch}`, { session_id: s.session_id, branch: s.branch });
  }
  const also = [...alsoPairs.values()];
  const clauses: string[] = [];
  const params: (string | number)[] = [gitDir];
  if (headBranch) {
    clauses.push('u.branch = ?');
    params.push(headBranch);
  }
  for (const a of also) {
    clauses.push('(u.session_id = ? AND u.branch = ?)');
    params.push(a.session_id, a.branch);
  }
  const where = `c.git_dir = ? AND (${clauses.length ? clauses.join(' OR ') : '0'})`;
  return { git_dir: gitDir, pr, head_branch: headBranch, also, ...usageBreakdown(store, where, params, sessions) };
}

/** Every PR the index knows of in every repository, with its totals (the tree's "Pull requests" grouping). */
export function listPullRequests(
  store: Store,
  defaultBranches: Map<string, string | null> = new Map(),
  sessions?: SessionView[],
): PrSummary[] {
  const keys = all<{ git_dir: string; number: number }>(
    store.db,
    `SELECT DISTINCT c.git_dir AS git_dir, p.number AS number FROM session_prs p JOIN sessions s ON s.session_id = p.session_id
     JOIN cwd_info c ON c.cwd = s.cwd WHERE c.git_dir IS NOT NULL
     UNION SELECT git_dir, number FROM pr_lookup WHERE number IS NOT NULL`,
  );
  const views = sessions ?? listSessions(store);
  const out: PrSummary[] = [];
  for (const k of keys) {
    const p = prSummary(store, k.git_dir, k.number, defaultBranches.get(k.git_dir) ?? null, views);
    if (p) out.push(p);
  }
  return out.sort((a, b) => b.cost_usd - a.cost_usd || b.pr.number - a.pr.number);
}
