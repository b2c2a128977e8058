import type { FoundPr } from '../core/git/pr';
import { silentAuthenticationSession } from './apis/extensions.apis';
import { getConfiguration } from './apis/workspace.apis';
import type { IndexClient } from './indexClient';
import type { Log } from './log';

/**
 * The last source of a branch's PR: the GitHub REST API with the VS Code GitHub sign-in. Opt-in
 * (`agentHandler.pullRequests.useGitHubSignIn`, default off); it never asks to sign in (silent
 * session only), and runs asynchronously (fetch) so the extension host's thread never waits on it.
 * The answer goes to the index worker, which caches it per (repository, branch) like gh's.
 */
export class GitHubPrLookup {
  private readonly asked = new Map<string, number>();
  private warned = false;
  static readonly RETRY_MS = 10 * 60_000;
  static readonly TIMEOUT_MS = 10_000;

  constructor(
    private readonly client: IndexClient,
    private readonly log: Log,
  ) {}

  lookUp(gitDir: string, githubRepo: string, branch: string): void {
    if (!getConfiguration('agentHandler').get<boolean>('pullRequests.useGitHubSignIn', false)) return;
    if (branch === 'HEAD' || !branch) return;
    const key = `${gitDir}\0${branch}`;
    const last = this.asked.get(key);
    if (last !== undefined && Date.now() - last < GitHubPrLookup.RETRY_MS) return;
    this.asked.set(key, Date.now());
    void this.fetchPr(githubRepo, branch).then(
      (pr) => (pr === undefined ? undefined : this.client.query('setPrLookup', { gitDir, branch, pr })),
      (err: Error) => this.log.warn(`GitHub pull request lookup for ${branch} failed: ${err.message}`),
    );
  }

  /** undefined: could not ask (not signed in); null: GitHub has no PR for the branch. */
  private async fetchPr(githubRepo: string, branch: string): Promise<FoundPr | null | undefined> {
    const session = await silentAuthenticationSession('github', ['repo']);
    if (!session) {
      if (!this.warned)
        this.log.info('GitHub pull request lookup is on, but VS Code is not signed in to GitHub; skipped');
      this.warned = true;
      return undefined;
    }
    const [owner] = githubRepo.split('/');
    const url = `https://api.github.com/repos/${githubRepo}/pulls?state=all&per_page=1&head=${encodeURIComponent(`${owner}:${branch}`)}`;
    const res = await fetch(url, {
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${session.accessToken}`,
        'X-GitHub-Api-Version': '2022-11-28',
      },
      signal: AbortSignal.timeout(GitHubPrLookup.TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const list = (await res.json()) as { number?: unknown; html_url?: unknown; state?: unknown; title?: unknown }[];
    const p = Array.isArray(list) ? list[0] : undefined;
    if (!p || typeof p.number !== 'number' || typeof p.html_url !== 'string') return null;
    return {
      number: p.number,
      url: p.html_url,
      state: typeof p.state === 'string' ? p.state : null,
      title: typeof p.title === 'string' ? p.title : null,
    };
  }
}
