import { githubRepoFromRemote, normalizeRemote } from '../git/repo';

/**
 * How the shared database names a repository (docs/sync.md, "Repositories"): the same repository
 * cloned on two machines, in any folder, over ssh or https, is one name. A GitHub repository is its
 * `owner/repo` (lower-cased: GitHub's names are case-insensitive); any other is its origin remote
 * normalised (`host/path`, no credentials, no `.git`). A repository without a remote has no shared
 * name (null): its rows are pushed without a repository and count in no branch or PR total. Never
 * a local path.
 */
export function repoKey(repo: { github_repo?: string | null; remote?: string | null } | null): string | null {
  if (!repo) return null;
  const github = repo.github_repo ?? (repo.remote ? githubFromKey(repo.remote) : null);
  if (github) return github.toLowerCase();
  return repo.remote ?? null;
}

/** The key of a remote URL as git prints it (`git remote get-url origin`): what the extension's workspace uses. */
export function repoKeyOfRemote(url: string): string | null {
  return repoKey({ github_repo: githubRepoFromRemote(url), remote: normalizeRemote(url) });
}

/** A normalised remote on a GitHub host (`github.com/o/r`) names the GitHub repository o/r. */
function githubFromKey(remote: string): string | null {
  const m = /^([^/]*github[^/]*)\/([^/]+)\/([^/]+)$/i.exec(remote);
  return m ? `${m[2]}/${m[3]}` : null;
}
