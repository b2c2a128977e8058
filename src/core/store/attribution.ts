import type { StoreDb } from './db';
import { all, one, run } from './sqlite';

/**
 * What git and GitHub say about the sessions' working directories, kept once asked: the repository
 * of each working directory (`cwd_info`), the branch each request and PR sighting counts on
 * (docs/accounting.md §5), a branch's diff against the default branch (`branch_diff`) and the
 * network sources' answers about a branch's PR (`pr_lookup`). The indexer and the service ask git;
 * this only keeps the answers.
 */

export function unresolvedCwds(store: StoreDb): string[] {
  return all<{ cwd: string }>(
    store.db,
    'SELECT DISTINCT s.cwd FROM sessions s LEFT JOIN cwd_info c ON c.cwd = s.cwd WHERE s.cwd IS NOT NULL AND c.cwd IS NULL',
  ).map((r) => r.cwd);
}

export function setCwdInfo(
  store: StoreDb,
  cwd: string,
  info: { git_dir: string | null; toplevel: string | null; github_repo: string | null; remote?: string | null },
): void {
  store.exec(
    'INSERT OR REPLACE INTO cwd_info(cwd, git_dir, toplevel, github_repo, resolved_at, remote) VALUES (?, ?, ?, ?, ?, ?)',
    [cwd, info.git_dir, info.toplevel, info.github_repo, new Date().toISOString(), info.remote ?? null],
  );
  store.markDirty();
}

/** The (repository, branch) pairs the given sessions worked on, with the working tree to ask git in. */
export function sessionBranches(
  store: StoreDb,
  sessionIds: Iterable<string>,
): { git_dir: string; toplevel: string; branch: string; head: string | null }[] {
  const ids = [...new Set(sessionIds)];
  if (!ids.length) return [];
  return all(
    store.db,
    `SELECT DISTINCT c.git_dir AS git_dir, c.toplevel AS toplevel, s.git_branch AS branch, d.head AS head
     FROM sessions s JOIN cwd_info c ON c.cwd = s.cwd LEFT JOIN branch_diff d ON d.git_dir = c.git_dir AND d.branch = s.git_branch
     WHERE s.session_id IN (SELECT value FROM json_each(?)) AND c.git_dir IS NOT NULL AND c.toplevel IS NOT NULL
       AND s.git_branch IS NOT NULL AND s.git_branch <> '' AND s.git_branch <> 'HEAD'`,
    [JSON.stringify(ids)],
  );
}

/** Keeps a branch's diff against the default branch (null: none, e.g. the branch is gone or is the default). */
export function setBranchDiff(
  store: StoreDb,
  gitDir: string,
  branch: string,
  diff: { additions: number; deletions: number; base: string; head: string } | null,
): void {
  if (diff) {
    store.exec(
      'INSERT OR REPLACE INTO branch_diff(git_dir, branch, additions, deletions, base, head) VALUES (?, ?, ?, ?, ?, ?)',
      [gitDir, branch, diff.additions, diff.deletions, diff.base, diff.head],
    );
  } else {
    store.exec('DELETE FROM branch_diff WHERE git_dir = ? AND branch = ?', [gitDir, branch]);
  }
  store.markDirty();
}

/** Usage rows whose branch is not settled yet, with what attribution needs to know. */
export function unresolvedBranchRows(store: StoreDb): {
  rowid: number;
  ts: string | null;
  git_branch: string | null;
  framework: string;
  session_branch: string | null;
  cwd: string | null;
  git_dir: string | null;
  toplevel: string | null;
  cwd_known: number;
}[] {
  return all(
    store.db,
    `SELECT u.rowid AS rowid, u.ts AS ts, u.git_branch AS git_branch, f.framework AS framework, s.git_branch AS session_branch, s.cwd AS cwd,
      c.git_dir AS git_dir, c.toplevel AS toplevel, c.cwd IS NOT NULL AS cwd_known
     FROM usage u JOIN files f ON f.file_id = u.file_id LEFT JOIN sessions s ON s.session_id = u.session_id LEFT JOIN cwd_info c ON c.cwd = s.cwd
     WHERE u.branch_resolved = 0`,
  );
}

export function setRowBranch(store: StoreDb, rowid: number, branch: string | null): void {
  store.exec('UPDATE usage SET branch = ?, branch_resolved = 1 WHERE rowid = ?', [branch, rowid]);
}

/** PR sightings whose branch is not settled yet (written with the session, attributed like requests). */
export function unresolvedPrRows(store: StoreDb): {
  rowid: number;
  ts: string | null;
  recorded_branch: string | null;
  framework: string;
  toplevel: string | null;
  cwd_known: number;
  git_dir: string | null;
}[] {
  return all(
    store.db,
    `SELECT p.rowid AS rowid, p.ts AS ts, p.recorded_branch AS recorded_branch, s.framework AS framework, c.toplevel AS toplevel,
      c.cwd IS NOT NULL AS cwd_known, c.git_dir AS git_dir
     FROM session_prs p JOIN sessions s ON s.session_id = p.session_id LEFT JOIN cwd_info c ON c.cwd = s.cwd WHERE p.branch IS NULL`,
  );
}

export function setPrRowBranch(store: StoreDb, rowid: number, branch: string): void {
  store.exec('UPDATE session_prs SET branch = ? WHERE rowid = ?', [branch, rowid]);
}

/** What a network source said about a branch's PR (number null: it has none), and when. */
export interface PrLookup {
  number: number | null;
  url: string | null;
  state: string | null;
  title: string | null;
  fetched_at_ms: number;
}

/** Keeps what a network source said about a branch's PR (or that it has none). */
export function setPrLookup(
  store: StoreDb,
  gitDir: string,
  branch: string,
  source: string,
  pr: { number: number; url: string; state: string | null; title: string | null } | null,
  atMs = Date.now(),
): void {
  run(
    store.db,
    'INSERT OR REPLACE INTO pr_lookup(git_dir, branch, source, number, url, state, title, fetched_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [gitDir, branch, source, pr?.number ?? null, pr?.url ?? null, pr?.state ?? null, pr?.title ?? null, atMs],
  );
  store.markDirty();
}

export function getPrLookup(store: StoreDb, gitDir: string, branch: string, source: string): PrLookup | undefined {
  return one(
    store.db,
    'SELECT number, url, state, title, fetched_at_ms FROM pr_lookup WHERE git_dir = ? AND branch = ? AND source = ?',
    [gitDir, branch, source],
  );
}
