/**
 * Two machines for the sync tests: each a HOME holding one Claude Code fixture version, moved into
 * its own clone of the same GitHub repository (one cloned over ssh, one over https, with another
 * case), on the branch the fixtures record (feature/fake-model). Not a test file itself.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, encodeCwd, tempDir } from '../unit/helpers';

export const BRANCH = 'feature/fake-model';
/** The shared name of the repository both clones are of (repoKey). */
export const REPO = 'fake-owner/fake-repo';
const FIXTURE_CWD = (version: string) => `/home/dev/agent/work/repo-claude-${version}`;

/**
 * What each fixture's requests on the branch add up to, from the fixtures' own numbers: the
 * assistant lines' usage summed once per (message.id, requestId), largest copy (input + output +
 * cache read + cache write); the cost is the golden branch answer's (test/fixtures/golden/branch.json)
 * for 2.1.332 and the same price table's for 2.1.197 (claude-opus-4-8, 9 requests).
 */
export const EXPECTED = {
  '2.1.332': { requests: 10, tokens: 23192 + 881 + 67281 + 25467, cost_usd: 0.2511792, sessions: 3 },
  '2.1.197': { requests: 9, tokens: 31453 + 696 + 71126 + 54671, cost_usd: 0.55192175, sessions: 3 },
} as const;

export type FixtureVersion = keyof typeof EXPECTED;

/**
 * git with no user config, dated before the fixtures' requests (2026-11-25 14:11): the HEAD reflog
 * then says the branch was checked out when the sessions ran.
 */
function git(cwd: string, ...args: string[]): void {
  const date = '2026-11-24T09:00:00Z';
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The 2.1.332 session that records the PR (a Claude Code pr-link record) when `pr` is given. */
const PR_SESSION = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';

export interface Machine {
  home: string;
  repo: string;
  store: string;
}

/** A repository clone at `<dir>/repo` on BRANCH with the given origin, and a HOME with the fixture's sessions in it. */
export async function machine(
  versions: FixtureVersion[],
  remote: string,
  options: { pr?: number; prefix?: string } = {},
): Promise<Machine> {
  const prefix = options.prefix ?? 'ah-sync-';
  const dir = await fsp.realpath(await tempDir(prefix));
  const repo = path.join(dir, 'repo');
  await fsp.mkdir(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.name', 'Agent Handler Tests');
  git(repo, 'config', 'user.email', 'tests@agent-handler.invalid');
  git(repo, 'remote', 'add', 'origin', remote);
  await fsp.writeFile(path.join(repo, 'README.md'), '# sync\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'initial');
  git(repo, 'checkout', '-q', '-b', BRANCH);
  const home = path.join(dir, 'home');
  for (const version of versions) {
    const src = path.join(FIXTURES, 'claude', version, 'projects', encodeCwd(FIXTURE_CWD(version)));
    const dst = path.join(home, '.claude', 'projects', encodeCwd(repo));
    await rewriteTree(src, dst, (t) => t.split(FIXTURE_CWD(version)).join(repo));
    if (options.pr && version === '2.1.332') {
      const record = {
        type: 'pr-link',
        sessionId: PR_SESSION,
        prNumber: options.pr,
        prUrl: `https://github.com/${REPO}/pull/${options.pr}`,
        prRepository: REPO,
        timestamp: '2026-11-25T14:11:18.000Z',
      };
      await fsp.appendFile(path.join(dst, `${PR_SESSION}.jsonl`), `${JSON.stringify(record)}\n`);
    }
  }
  return { home, repo, store: path.join(dir, 'store.sqlite') };
}

async function rewriteTree(src: string, dst: string, map: (text: string) => string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    if (e.isDirectory()) await rewriteTree(path.join(src, e.name), path.join(dst, e.name), map);
    else await fsp.writeFile(path.join(dst, e.name), map(await fsp.readFile(path.join(src, e.name), 'utf8')));
  }
}

export const tokensOf = (t: {
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
}) => t.tokens_input + t.tokens_output + t.tokens_cache_read + t.tokens_cache_write;
