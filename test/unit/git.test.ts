/**
 * git facts: GitHub repository from a remote URL, repoInfo on real temp repositories (worktrees
 * share one git dir), and branch totals across the worktrees of one repository.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { githubRepoFromRemote, headFileOf, repoInfo } from '../../src/core/git/repo';
import { branchSummary } from '../../src/core/store/queries';
import { assistant, git, indexHome, makeRepo, mustGet, tempDir, userPrompt, writeTranscript } from './helpers';

describe('githubRepoFromRemote', () => {
  const cases: [string, string | null][] = [
    // SSH (scp-like and URL forms)
    ['git@github.com:acme/widgets.git', 'acme/widgets'],
    ['git@github.com:acme/widgets', 'acme/widgets'],
    ['ssh://git@github.com/acme/widgets.git', 'acme/widgets'],
    ['ssh://git@github.com:22/acme/widgets.git', 'acme/widgets'],
    ['org-123@github.com:acme/widgets.git', 'acme/widgets'],
    // HTTPS
    ['https://github.com/acme/widgets', 'acme/widgets'],
    ['https://github.com/acme/widgets.git', 'acme/widgets'],
    ['https://github.com/acme/widgets/', 'acme/widgets'],
    ['https://user:token@github.com/acme/widgets.git', 'acme/widgets'],
    ['https://github.com/acme/widgets.js.git', 'acme/widgets.js'],
    // GitHub Enterprise hosts (a host name containing "github")
    ['git@github.corp.example:team/service.git', 'team/service'],
    ['https://github.example.com/team/service.git', 'team/service'],
    ['ssh://git@ghe-github.internal:7999/team/service.git', 'team/service'],
    // Not GitHub
    ['git@gitlab.com:acme/widgets.git', null],
    ['https://bitbucket.org/acme/widgets.git', null],
    ['ssh://git@ghe.corp/acme/widgets.git', null], // no way to tell a GHE host without "github" in its name
    ['/srv/git/widgets.git', null],
    ['file:///srv/git/widgets.git', null],
    ['https://github.com/acme', null],
  ];
  for (const [url, expected] of cases) {
    test(`${url} → ${expected}`, () => assert.equal(githubRepoFromRemote(url), expected));
  }
});

describe('repoInfo on real repositories', () => {
  test('main checkout and a worktree report the same git dir, their own top level and branch', async () => {
    const repo = await makeRepo('main', 'git@github.com:acme/widgets.git');
    const wt = path.join(path.dirname(repo), 'wt');
    git(repo, 'worktree', 'add', '-q', '-b', 'feature/x', wt);
    const sub = path.join(wt, 'src', 'deep');
    await fsp.mkdir(sub, { recursive: true });

    const a = await repoInfo(repo);
    const b = await repoInfo(wt);
    const c = await repoInfo(sub);
    assert.ok(a && b && c);
    assert.equal(a.git_dir, path.join(repo, '.git'));
    assert.equal(b.git_dir, a.git_dir);
    assert.equal(c.git_dir, a.git_dir);
    assert.equal(a.toplevel, repo);
    assert.equal(b.toplevel, wt);
    assert.equal(c.toplevel, wt);
    assert.equal(a.branch, 'main');
    assert.equal(b.branch, 'feature/x');
    assert.equal(a.github_repo, 'acme/widgets');
    assert.equal(b.github_repo, 'acme/widgets');
    // The file whose change means "the branch changed": per worktree.
    assert.equal(await headFileOf(repo), path.join(repo, '.git', 'HEAD'));
    assert.equal(await headFileOf(wt), path.join(repo, '.git', 'worktrees', 'wt', 'HEAD'));
  });

  test('detached HEAD reports "HEAD"; no remote gives no GitHub repo', async () => {
    const repo = await makeRepo('main');
    git(repo, 'checkout', '-q', '--detach');
    const info = await repoInfo(repo);
    assert.ok(info);
    assert.equal(info.branch, 'HEAD');
    assert.equal(info.github_repo, null);
  });

  test('a repository with no commit yet still has its git dir and branch', async () => {
    const dir = await fsp.realpath(await tempDir('ah-unborn-'));
    git(dir, 'init', '-q', '-b', 'trunk');
    const info = await repoInfo(dir);
    assert.ok(info);
    assert.equal(info.git_dir, path.join(dir, '.git'));
    assert.equal(info.toplevel, dir);
    assert.equal(info.branch, 'trunk');
  });

  test('a folder outside any repository, and a missing folder: null', async () => {
    const dir = await tempDir('ah-norepo-');
    // GIT_CEILING_DIRECTORIES is not set: os.tmpdir() itself must not be inside a repository.
    assert.equal(await repoInfo(dir), null);
    assert.equal(await repoInfo(path.join(dir, 'missing')), null);
  });
});

describe('branch totals across the worktrees of one repository', () => {
  test('requests on a branch count from every worktree of the repository, and only from it', async () => {
    const repo = await makeRepo('main');
    const wt = path.join(path.dirname(repo), 'wt');
    git(repo, 'worktree', 'add', '-q', '-b', 'feature/x', wt);
    const other = await makeRepo('feature/x'); // another repository with a branch of the same name
    const home = path.join(await tempDir('ah-wt-'), 'home');

    const A = 'a0000000-0000-4000-8000-00000000000a'; // in the main checkout
    const B = 'b0000000-0000-4000-8000-00000000000b'; // in the worktree
    const C = 'c0000000-0000-4000-8000-00000000000c'; // in the other repository
    const ts = (s: number) => `2026-11-23T10:00:${String(s).padStart(2, '0')}.000Z`;
    // A worked on main, then checked out feature/x in the main checkout for one request.
    await writeTranscript(
      home,
      `${A}.jsonl`,
      [
        userPrompt({ session: A, cwd: repo, branch: 'main', ts: ts(0), text: 'a' }),
        assistant({ session: A, cwd: repo, branch: 'main', ts: ts(1), msg: 'ma1', req: 'ra1', usage: { in: 10 } }),
        assistant({ session: A, cwd: repo, branch: 'feature/x', ts: ts(2), msg: 'ma2', req: 'ra2', usage: { in: 20 } }),
      ],
      repo,
    );
    await writeTranscript(
      home,
      `${B}.jsonl`,
      [
        userPrompt({ session: B, cwd: wt, branch: 'feature/x', ts: ts(3), text: 'b' }),
        assistant({ session: B, cwd: wt, branch: 'feature/x', ts: ts(4), msg: 'mb1', req: 'rb1', usage: { in: 300 } }),
      ],
      wt,
    );
    await writeTranscript(
      home,
      `${C}.jsonl`,
      [
        userPrompt({ session: C, cwd: other, branch: 'feature/x', ts: ts(5), text: 'c' }),
        assistant({
          session: C,
          cwd: other,
          branch: 'feature/x',
          ts: ts(6),
          msg: 'mc1',
          req: 'rc1',
          usage: { in: 5000 },
        }),
      ],
      other,
    );
    const { store, sessions } = await indexHome(home);
    const gitDir = path.join(repo, '.git');
    assert.equal(mustGet(sessions, A).local_git_dir, gitDir);
    assert.equal(mustGet(sessions, B).local_git_dir, gitDir);
    assert.equal(mustGet(sessions, B).git_worktree_path, wt);

    const fx = branchSummary(store, gitDir, 'feature/x', [...sessions.values()]);
    // A's 20 (main checkout) + B's 300 (worktree) = 320 in 2 requests; C's 5000 is another repository.
    assert.equal(fx.tokens_input, 320);
    assert.equal(fx.requests, 2);
    assert.equal(fx.sessions, 2);
    assert.deepEqual(fx.by_session.map((s) => s.session_id).sort(), [A, B]);
    const main = branchSummary(store, gitDir, 'main', [...sessions.values()]);
    assert.equal(main.tokens_input, 10);
    assert.equal(main.sessions, 1);
    const otherSummary = branchSummary(store, path.join(other, '.git'), 'feature/x', [...sessions.values()]);
    assert.equal(otherSummary.tokens_input, 5000);
  });
});
