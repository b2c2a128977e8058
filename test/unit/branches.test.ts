/**
 * Per-request branch attribution and pull-request economics (issue 6, docs/accounting.md §5):
 * a hand-made Claude Code session that works on main, then feature/a, then feature/b in a real
 * repository; a review session on main; a hand-made Codex rollout whose later turns are attributed
 * from the repository's HEAD reflog; the PR sources in order; a fake `gh` on the edge.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { branchAt, parseHeadReflog } from '../../src/core/git/reflog';
import { DiffStats, defaultBranch, ghPrView, parseShortstat } from '../../src/core/git/pr';
import { prForBranch } from '../../src/core/store/pullRequests';
import { listPullRequests, prSummary } from '../../src/core/store/prTotals';
import { explainBranch } from '../../src/core/pricing/report';
import { branchSummary, listSessions } from '../../src/core/store/queries';
import { all } from '../../src/core/store/sqlite';
import { assertUsd, assistant, indexHome, mustGet, tempDir, userPrompt, writeTranscript } from './helpers';

/** git with a fixed identity, no user config, and the given date for the commit and the reflog entry. */
function gitAt(cwd: string, date: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/**
 * A real repository: main committed at 09:00 on 2026-11-24, feature/a checked out at 10:30,
 * feature/b at 11:30 (each a reflog entry at that time).
 */
async function threeBranchRepo(remote = 'git@github.com:acme/widgets.git'): Promise<string> {
  const repo = path.join(await fsp.realpath(await tempDir('ah-branches-')), 'repo');
  await fsp.mkdir(repo);
  gitAt(repo, '2026-11-24T09:00:00Z', 'init', '-q', '-b', 'main');
  gitAt(repo, '2026-11-24T09:00:00Z', 'config', 'user.name', 'Agent Handler Tests');
  gitAt(repo, '2026-11-24T09:00:00Z', 'config', 'user.email', 'tests@agent-handler.invalid');
  await fsp.writeFile(path.join(repo, 'README.md'), '# test\n');
  gitAt(repo, '2026-11-24T09:00:00Z', 'add', 'README.md');
  gitAt(repo, '2026-11-24T09:00:00Z', 'commit', '-q', '-m', 'initial');
  gitAt(repo, '2026-11-24T09:00:00Z', 'remote', 'add', 'origin', remote);
  gitAt(repo, '2026-11-24T10:30:00Z', 'checkout', '-q', '-b', 'feature/a');
  await fsp.writeFile(path.join(repo, 'a.txt'), 'one\ntwo\nthree\n');
  gitAt(repo, '2026-11-24T10:40:00Z', 'add', 'a.txt');
  gitAt(repo, '2026-11-24T10:40:00Z', 'commit', '-q', '-m', 'a');
  gitAt(repo, '2026-11-24T11:30:00Z', 'checkout', '-q', '-b', 'feature/b');
  return repo;
}

const tokensOf = (t: {
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
}) => t.tokens_input + t.tokens_output + t.tokens_cache_read + t.tokens_cache_write;

describe('the HEAD reflog tells which branch was checked out when', () => {
  // `git log -g --date=unix --format=%gd%x09%gs HEAD`, newest first.
  const out = [
    'HEAD@{1795000400}\tcheckout: moving from 1a2b3c4d to feature/b',
    'HEAD@{1795000300}\tcheckout: moving from feature/a to 1a2b3c4d',
    'HEAD@{1795000200}\tcommit: a',
    'HEAD@{1795000100}\tcheckout: moving from main to feature/a',
    'HEAD@{1795000000}\tcommit (initial): initial',
  ].join('\n');
  const h = parseHeadReflog(out, 'feature/b');

  test('between changes: the branch checked out by the last change; a commit id is a detached HEAD', () => {
    assert.equal(branchAt(h, 1795000000_000), 'main'); // before the first checkout: what it moved away from
    assert.equal(branchAt(h, 1795000150_000), 'feature/a');
    assert.equal(branchAt(h, 1795000350_000), 'HEAD');
    assert.equal(branchAt(h, 1795000500_000), 'feature/b');
  });

  test('before the oldest entry, or with no reflog, it cannot tell', () => {
    assert.equal(branchAt(h, 1794999999_000), null);
    assert.equal(branchAt(parseHeadReflog('', 'main'), 1795000000_000), null);
  });

  test('no checkout at all: the branch checked out now, from the oldest entry on', () => {
    const only = parseHeadReflog('HEAD@{1795000000}\tcommit (initial): initial', 'trunk');
    assert.equal(branchAt(only, 1795000001_000), 'trunk');
  });

  test('a rebase is detached until it returns to its branch; a rename moves to the new name', () => {
    const r = parseHeadReflog(
      [
        'HEAD@{40}\tBranch: renamed refs/heads/topic to refs/heads/topic2',
        'HEAD@{30}\trebase (finish): returning to refs/heads/topic',
        'HEAD@{20}\trebase (start): checkout main',
        'HEAD@{10}\tcheckout: moving from main to topic',
      ].join('\n'),
      'topic2',
    );
    assert.equal(branchAt(r, 15_000), 'topic');
    assert.equal(branchAt(r, 25_000), 'HEAD');
    assert.equal(branchAt(r, 35_000), 'topic');
    assert.equal(branchAt(r, 45_000), 'topic2');
  });
});

describe('one Claude Code session on main, then feature/a, then feature/b', () => {
  const S1 = '51000000-0000-4000-8000-000000000001'; // the working session
  const S2 = '52000000-0000-4000-8000-000000000002'; // a review of PR #7 on main
  const S3 = '53000000-0000-4000-8000-000000000003'; // opens PR #9 on feature/b (URL in its text)

  async function setup() {
    const repo = await threeBranchRepo();
    const home = path.join(await tempDir('ah-pr-home-'), 'home');
    const ts = (h: number, m: number) =>
      `2026-11-24T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00.000Z`;
    const on = (branch: string) => ({ session: S1, cwd: repo, branch });
    // claude-opus-5-5: $4/M input, $20/M output. Cost = in × 4e-6 + out × 20e-6.
    await writeTranscript(
      home,
      `${S1}.jsonl`,
      [
        userPrompt({ ...on('main'), ts: ts(9, 10), text: 'look around' }),
        assistant({ ...on('main'), ts: ts(9, 11), msg: 'm1', req: 'r1', usage: { in: 1000, out: 100 } }), // 1100 tok, $0.006
        userPrompt({ ...on('feature/a'), ts: ts(10, 35), text: 'build a' }),
        assistant({ ...on('feature/a'), ts: ts(10, 36), msg: 'm2', req: 'r2', usage: { in: 2000, out: 200 } }), // 2200 tok, $0.012
        assistant({ ...on('feature/a'), ts: ts(10, 37), msg: 'm3', req: 'r3', usage: { in: 3000, out: 300 } }), // 3300 tok, $0.018
        {
          type: 'pr-link',
          sessionId: S1,
          prNumber: 7,
          prUrl: 'https://github.com/acme/widgets/pull/7',
          prRepository: 'acme/widgets',
          timestamp: ts(10, 38),
        },
        userPrompt({ ...on('feature/b'), ts: ts(11, 35), text: 'build b' }),
        assistant({ ...on('feature/b'), ts: ts(11, 36), msg: 'm4', req: 'r4', usage: { in: 4000, out: 400 } }), // 4400 tok, $0.024
      ],
      repo,
    );
    await writeTranscript(
      home,
      `${S2}.jsonl`,
      [
        userPrompt({
          session: S2,
          cwd: repo,
          branch: 'main',
          ts: ts(12, 0),
          text: 'review https://github.com/acme/widgets/pull/7 please',
        }),
        assistant({
          session: S2,
          cwd: repo,
          branch: 'main',
          ts: ts(12, 1),
          msg: 'm5',
          req: 'r5',
          usage: { in: 500, out: 50 },
        }), // 550 tok, $0.003
      ],
      repo,
    );
    await writeTranscript(
      home,
      `${S3}.jsonl`,
      [
        userPrompt({
          session: S3,
          cwd: repo,
          branch: 'feature/b',
          ts: ts(12, 10),
          text: 'like https://github.com/other/repo/pull/5',
        }),
        assistant({
          session: S3,
          cwd: repo,
          branch: 'feature/b',
          ts: ts(12, 11),
          msg: 'm6',
          req: 'r6',
          usage: { in: 100, out: 10 }, // 110 tok, $0.0006
          content: [{ type: 'text', text: 'Opened https://github.com/acme/widgets/pull/9' }],
        }),
      ],
      repo,
    );
    const ix = await indexHome(home);
    return { ...ix, repo, gitDir: path.join(repo, '.git') };
  }

  test("each branch's totals are the sum of its requests; the session's total is the sum of the three", async () => {
    const { store, sessions, gitDir } = await setup();
    const views = [...sessions.values()];
    const main = branchSummary(store, gitDir, 'main', views, 'main');
    const a = branchSummary(store, gitDir, 'feature/a', views, 'main');
    const b = branchSummary(store, gitDir, 'feature/b', views, 'main');
    // main: S1 1100 + S2 550 = 1650 tok, $0.006 + $0.003 = $0.009 in 2 requests
    assert.equal(tokensOf(main), 1650);
    assert.equal(main.requests, 2);
    assertUsd(main.cost_usd, 0.009);
    // feature/a: S1 2200 + 3300 = 5500 tok, $0.012 + $0.018 = $0.030
    assert.equal(tokensOf(a), 5500);
    assert.equal(a.requests, 2);
    assertUsd(a.cost_usd, 0.03);
    // feature/b: S1 4400 + S3 110 = 4510 tok, $0.024 + $0.0006 = $0.0246
    assert.equal(tokensOf(b), 4510);
    assertUsd(b.cost_usd, 0.0246);
    assert.deepEqual(
      b.by_agent.map((x) => [x.framework, x.requests]),
      [['claude_code', 2]],
    );

    // S1 alone: 1100 + 5500 + 4400 = 11000 tok, $0.006 + $0.030 + $0.024 = $0.060
    const s1 = mustGet(sessions, S1);
    assert.equal(tokensOf(s1), 11000);
    assertUsd(s1.cost_usd, 0.06);
    const share = new Map(s1.branches.map((x) => [x.branch, x]));
    assert.equal(
      share.get('main')!.tokens + share.get('feature/a')!.tokens + share.get('feature/b')!.tokens,
      tokensOf(s1),
    );
    assertUsd(
      share.get('main')!.cost_usd + share.get('feature/a')!.cost_usd + share.get('feature/b')!.cost_usd,
      s1.cost_usd ?? NaN,
    );
    assert.deepEqual(
      s1.branches.map((x) => x.branch),
      ['feature/a', 'feature/b', 'main'],
    ); // most expensive first
  });

  test('PR of a branch: the agent record, else a URL of this repository; never the default branch', async () => {
    const { store, gitDir } = await setup();
    assert.deepEqual(prForBranch(store, gitDir, 'feature/a', 'main'), {
      number: 7,
      url: 'https://github.com/acme/widgets/pull/7',
      source: 'agent',
      repo: 'acme/widgets',
    });
    // #9 from a URL in S3's text on feature/b; the other repository's #5 is not this repository's.
    assert.deepEqual(prForBranch(store, gitDir, 'feature/b', 'main'), {
      number: 9,
      url: 'https://github.com/acme/widgets/pull/9',
      source: 'transcript',
      repo: 'acme/widgets',
    });
    // The review on main saw #7: main is not #7's head.
    assert.equal(prForBranch(store, gitDir, 'main', 'main'), null);
    assert.equal(branchSummary(store, gitDir, 'main', undefined, 'main').pr, null);

    // Cached answers of the network sources come after the transcripts, gh before the GitHub API.
    store.setPrLookup(gitDir, 'feature/a', 'gh', {
      number: 99,
      url: 'https://github.com/acme/widgets/pull/99',
      state: 'OPEN',
      title: 'x',
    });
    assert.equal(prForBranch(store, gitDir, 'feature/a', 'main')?.number, 7);
    store.setPrLookup(gitDir, 'feature/c', 'github', {
      number: 13,
      url: 'https://github.com/acme/widgets/pull/13',
      state: 'open',
      title: 'c',
    });
    assert.equal(prForBranch(store, gitDir, 'feature/c', 'main')?.source, 'github');
    store.setPrLookup(gitDir, 'feature/c', 'gh', {
      number: 12,
      url: 'https://github.com/acme/widgets/pull/12',
      state: 'OPEN',
      title: 'c',
    });
    assert.deepEqual(prForBranch(store, gitDir, 'feature/c', 'main'), {
      number: 12,
      url: 'https://github.com/acme/widgets/pull/12',
      source: 'gh',
      repo: 'acme/widgets',
      state: 'OPEN',
      title: 'c',
    });
    // A cached "no PR" answer names nothing.
    store.setPrLookup(gitDir, 'feature/d', 'gh', null);
    assert.equal(prForBranch(store, gitDir, 'feature/d', 'main'), null);
  });

  test("PR totals: the head branch's requests plus the review session's requests on main, each once", async () => {
    const { store, gitDir } = await setup();
    const p7 = prSummary(store, gitDir, 7, 'main')!;
    assert.equal(p7.head_branch, 'feature/a');
    assert.deepEqual(p7.also, [{ session_id: S2, branch: 'main' }]);
    // feature/a 5500 tok ($0.030) + S2 on main 550 tok ($0.003) = 6050 tok, $0.033, 3 requests
    assert.equal(tokensOf(p7), 6050);
    assert.equal(p7.requests, 3);
    assertUsd(p7.cost_usd, 0.033);
    assert.deepEqual(p7.by_session.map((s) => s.session_id).sort(), [S1, S2]);
    const p9 = prSummary(store, gitDir, 9, 'main')!;
    assert.equal(p9.head_branch, 'feature/b');
    assert.equal(tokensOf(p9), 4510);
    assert.equal(prSummary(store, gitDir, 5, 'main'), null, "another repository's PR");
    assert.deepEqual(
      listPullRequests(store, new Map([[gitDir, 'main']])).map((p) => [p.pr.number, tokensOf(p)]),
      [
        [7, 6050],
        [9, 4510],
      ],
    );
  });

  test('git additions and deletions against the merge base with the default branch, per head commit', async () => {
    const { repo, gitDir } = await setup();
    assert.equal(await defaultBranch(repo), 'main');
    const diffs = new DiffStats();
    // feature/a added a.txt (3 lines) on top of main.
    assert.deepEqual(await diffs.get(gitDir, repo, 'feature/a'), {
      additions: 3,
      deletions: 0,
      base: 'main',
      head: gitAt(repo, '2026-11-24T12:00:00Z', 'rev-parse', 'feature/a'),
    });
    assert.equal(await diffs.get(gitDir, repo, 'main'), null, 'the default branch has nothing to compare with');
    assert.deepEqual(parseShortstat(' 2 files changed, 10 insertions(+), 1 deletion(-)'), {
      additions: 10,
      deletions: 1,
    });
    assert.deepEqual(parseShortstat(' 1 file changed, 4 deletions(-)'), { additions: 0, deletions: 4 });
  });
});

describe('agents without a branch per request: the HEAD reflog at the request time', () => {
  const X = '01a2aaaa-0000-7000-8000-000000000001';
  const Y = '01a2bbbb-0000-7000-8000-000000000002';

  /** A minimal Codex rollout: session_meta (branch recorded once), then one token_count per turn. */
  function rollout(id: string, cwd: string, branch: string, turns: { ts: string; in: number; out: number }[]): string {
    const lines: object[] = [
      {
        timestamp: turns[0].ts,
        type: 'session_meta',
        payload: {
          id,
          timestamp: turns[0].ts,
          cwd,
          originator: 'codex_cli_rs',
          cli_version: '0.169.0',
          source: 'cli',
          model_provider: 'openai',
          git: { branch },
        },
      },
      { timestamp: turns[0].ts, type: 'turn_context', payload: { cwd, model: 'gpt-5.5' } },
    ];
    const total = {
      input_tokens: 0,
      cached_input_tokens: 0,
      output_tokens: 0,
      reasoning_output_tokens: 0,
      total_tokens: 0,
    };
    for (const t of turns) {
      const last = {
        input_tokens: t.in,
        cached_input_tokens: 0,
        output_tokens: t.out,
        reasoning_output_tokens: 0,
        total_tokens: t.in + t.out,
      };
      total.input_tokens += t.in;
      total.output_tokens += t.out;
      total.total_tokens += t.in + t.out;
      lines.push({ timestamp: t.ts, type: 'event_msg', payload: { type: 'user_message', message: 'go', images: [] } });
      lines.push({
        timestamp: t.ts,
        type: 'event_msg',
        payload: {
          type: 'token_count',
          info: { total_token_usage: { ...total }, last_token_usage: last, model_context_window: 258400 },
        },
      });
    }
    return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
  }

  test('a Codex session recorded on main: its later turns count on feature/a and feature/b', async () => {
    const repo = await threeBranchRepo();
    const home = path.join(await tempDir('ah-codex-reflog-'), 'home');
    const dir = path.join(home, '.codex', 'sessions', '2026', '11', '24');
    await fsp.mkdir(dir, { recursive: true });
    // Turns at 10:00 (main), 11:00 (feature/a since 10:30), 12:00 (feature/b since 11:30).
    await fsp.writeFile(
      path.join(dir, `rollout-2026-11-24T10-00-00-${X}.jsonl`),
      rollout(X, repo, 'main', [
        { ts: '2026-11-24T10:00:00.000Z', in: 100, out: 10 },
        { ts: '2026-11-24T11:00:00.000Z', in: 200, out: 20 },
        { ts: '2026-11-24T12:00:00.000Z', in: 400, out: 40 },
      ]),
    );
    // A session from before the reflog's oldest entry (09:00): the recorded branch is all there is.
    await fsp.writeFile(
      path.join(dir, `rollout-2026-11-24T08-00-00-${Y}.jsonl`),
      rollout(Y, repo, 'old-start', [{ ts: '2026-11-24T08:00:00.000Z', in: 1000, out: 0 }]),
    );
    const { store, sessions } = await indexHome(home);
    const gitDir = path.join(repo, '.git');
    const rows = all<{ session_id: string; ts: string; git_branch: string; branch: string; input: number }>(
      store.db,
      'SELECT session_id, ts, git_branch, branch, input FROM usage ORDER BY ts',
    );
    assert.deepEqual(
      rows.map((r) => [r.session_id, r.git_branch, r.branch, r.input]),
      [
        [Y, 'old-start', 'old-start', 1000],
        [X, 'main', 'main', 100],
        [X, 'main', 'feature/a', 200],
        [X, 'main', 'feature/b', 400],
      ],
    );
    const views = listSessions(store);
    assert.equal(tokensOf(branchSummary(store, gitDir, 'main', views)), 110);
    assert.equal(tokensOf(branchSummary(store, gitDir, 'feature/a', views)), 220);
    assert.equal(tokensOf(branchSummary(store, gitDir, 'feature/b', views)), 440);
    // Explain Cost of a branch explains the same requests (attributed per request).
    assert.equal(explainBranch(store, gitDir, 'feature/a').totals.input, 200);
    // The session's own total is still every request once: 110 + 220 + 440 = 770.
    assert.equal(tokensOf(mustGet(sessions, X)), 770);
  });
});

describe('gh pr view (a fake gh on the edge: a script that answers like gh)', () => {
  test('found, not found, and not installed', async () => {
    const dir = await tempDir('ah-gh-');
    const gh = path.join(dir, 'gh');
    // Prints its environment's prompt switch as the title, so the test sees gh is never allowed to prompt.
    await fsp.writeFile(
      gh,
      [
        '#!/bin/sh',
        'if [ "$1 $2 $3" = "pr view feature/x" ]; then',
        '  printf \'{"number":42,"url":"https://github.com/acme/widgets/pull/42","state":"OPEN","title":"%s"}\' "prompt-disabled=$GH_PROMPT_DISABLED"',
        '  exit 0',
        'fi',
        'echo "no pull requests found for branch \\"$3\\"" >&2',
        'exit 1',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    assert.deepEqual(await ghPrView(dir, 'feature/x', 10_000, gh), {
      kind: 'found',
      pr: { number: 42, url: 'https://github.com/acme/widgets/pull/42', state: 'OPEN', title: 'prompt-disabled=1' },
    });
    assert.deepEqual(await ghPrView(dir, 'feature/y', 10_000, gh), { kind: 'none' });
    assert.equal((await ghPrView(dir, 'feature/x', 10_000, path.join(dir, 'missing-gh'))).kind, 'unavailable');
  });
});
