// End-to-end: branch and pull-request economics in the packaged extension (issue 6).
//
// Fixture: a workspace repository with branches main, feature/a (checked out) and feature/b, and a
// hand-made Claude Code transcript of one session that worked on main, then feature/a (where it
// recorded a `pr-link` for #7), then feature/b; plus a review session on main that printed #7's URL.
// Every wait is a condition poll; branch switches must show within 5 s. The budget setting is $0.03
// (crossed by #7 only); the last test switches the tree to the "Pull requests" grouping.
//
// claude-opus-5-5 costs $4/M input and $20/M output (genai-prices):
//   main:      S 1000 in + 100 out = 1100 tok, $0.006;  review 500 in + 50 out = 550 tok, $0.003
//   feature/a: S 2000 + 200 and 3000 + 300 = 5500 tok, $0.012 + $0.018 = $0.030
//   feature/b: S 4000 + 400 = 4400 tok, $0.024
//   PR #7 = feature/a + the review's requests on main = 6050 tok, $0.033

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  makeGitRepo,
  openViewContainer,
  runCommand,
  screenshot,
  sh,
  startVSCode,
  statusBarItem,
  tempDir,
  treeRows,
  waitFor,
  withFailureShot,
} from './harness.mjs';

const VSIX = path.join(REPO_ROOT, 'agent-handler.vsix');
const STATUS_ITEM_ID = 'agent-handler.agent-handler.agentHandler.branch';
const S = '5e000000-0000-4000-8000-000000000001';
const REVIEW = '5e000000-0000-4000-8000-000000000002';
const PR_URL = 'https://github.com/acme/widgets/pull/7';

const EXPECT = {
  // The budget is $0.03 (agentHandler.budget.branchUsd): only #7's $0.033 is above it.
  'feature/a': {
    text: '#7 · 6K tok · $0.03',
    aria: 'Agent Handler: branch feature/a, pull request #7, 6050 tokens, $0.03, 2 sessions, over the budget of $0.03',
  },
  'feature/b': {
    text: 'feature/b · 4.4K tok · $0.02',
    aria: 'Agent Handler: branch feature/b, 4400 tokens, $0.02, 1 sessions',
  },
  main: { text: 'main · 1.6K tok · $0.0090', aria: 'Agent Handler: branch main, 1650 tokens, $0.0090, 2 sessions' },
};

function record(session, cwd, branch, ts, rest) {
  return {
    parentUuid: null,
    isSidechain: false,
    userType: 'external',
    cwd,
    sessionId: session,
    version: '2.1.332',
    gitBranch: branch,
    uuid: `${session}-${ts}`,
    timestamp: ts,
    ...rest,
  };
}
const prompt = (session, cwd, branch, ts, text) =>
  record(session, cwd, branch, ts, { type: 'user', message: { role: 'user', content: text } });
const answer = (session, cwd, branch, ts, id, input, output) =>
  record(session, cwd, branch, ts, {
    type: 'assistant',
    requestId: `req_${id}`,
    message: {
      model: 'claude-opus-5-5',
      id: `msg_${id}`,
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    },
  });

function writeFixture(home, workspace) {
  const dir = path.join(home, '.claude', 'projects', workspace.replace(/[^A-Za-z0-9]/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const ts = (m) => `2026-11-24T10:${String(m).padStart(2, '0')}:00.000Z`;
  const lines = [
    prompt(S, workspace, 'main', ts(0), 'look around'),
    answer(S, workspace, 'main', ts(1), 's1', 1000, 100),
    prompt(S, workspace, 'feature/a', ts(10), 'build a'),
    answer(S, workspace, 'feature/a', ts(11), 's2', 2000, 200),
    answer(S, workspace, 'feature/a', ts(12), 's3', 3000, 300),
    { type: 'pr-link', sessionId: S, prNumber: 7, prUrl: PR_URL, prRepository: 'acme/widgets', timestamp: ts(13) },
    prompt(S, workspace, 'feature/b', ts(20), 'build b'),
    answer(S, workspace, 'feature/b', ts(21), 's4', 4000, 400),
  ];
  fs.writeFileSync(path.join(dir, `${S}.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const review = [
    prompt(REVIEW, workspace, 'main', ts(30), `review ${PR_URL} please`),
    answer(REVIEW, workspace, 'main', ts(31), 'r1', 500, 50),
  ];
  fs.writeFileSync(path.join(dir, `${REVIEW}.jsonl`), review.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

let tmp;
let workspace;
let vs;
const git = (...args) =>
  sh('git', args, { cwd: workspace, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' } });

async function waitForBranch(page, branch, timeout) {
  const want = EXPECT[branch];
  return waitFor(
    async () => {
      const it = await statusBarItem(page, STATUS_ITEM_ID);
      return it?.ariaLabel === want.aria && it;
    },
    { timeout, interval: 100, message: `status bar "${want.aria}"` },
  );
}

describe('branch and pull request totals in VS Code (packaged .vsix)', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    if (!fs.existsSync(VSIX)) sh('npm', ['run', 'package'], { cwd: REPO_ROOT });
    tmp = tempDir('ah-e2e-branches-');
    workspace = path.join(tmp, 'workspace');
    const home = path.join(tmp, 'home');
    makeGitRepo(workspace, 'feature/a', ['main', 'feature/b']);
    // The review's PR link counts for this repository only if it is this repository's (never fetched).
    git('remote', 'add', 'origin', 'https://github.com/acme/widgets.git');
    writeFixture(home, workspace);
    // No network in tests: the gh lookup stays off even where gh is installed.
    vs = await startVSCode({
      vsixPath: VSIX,
      home,
      workspace,
      viewport: { width: 1400, height: 900 },
      settings: { 'agentHandler.pullRequests.useGhCli': false, 'agentHandler.budget.branchUsd': 0.03 },
    });
  });

  after(async () => {
    await vs?.stop();
    if (tmp && !process.env.AGENT_HANDLER_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  test('a pr-link record shows #7 with the PR totals in the status bar and the current branch group', () =>
    withFailureShot(vs, 'branches-1-pr', async (page) => {
      const item = await waitForBranch(page, 'feature/a', 60_000);
      assert.equal(item.text, EXPECT['feature/a'].text);
      await openViewContainer(page, 'Agent Handler');
      const group = await waitFor(
        async () => {
          const rows = await treeRows(page, 'Sessions');
          return (
            rows[0]?.label === 'feature/a' &&
            /^#7 · 6K tok · \$0\.03 · current branch · 1 session/.test(rows[0].description ?? '') &&
            rows[0]
          );
        },
        { timeout: 15_000, message: 'current branch group shows #7 and the totals' },
      );
      assert.ok(group);
      await screenshot(page, 'branches-1-pr');
    }));

  test('switching the workspace branch moves the status bar to that branch and its PR within 5 s', (t) =>
    withFailureShot(vs, 'branches-2-switch', async (page) => {
      const times = [];
      for (const branch of ['feature/b', 'main', 'feature/a']) {
        const t0 = Date.now();
        git('checkout', '-q', branch);
        const item = await waitForBranch(page, branch, 5000);
        times.push(`${branch} ${Date.now() - t0} ms`);
        assert.equal(item.text, EXPECT[branch].text);
      }
      await screenshot(page, 'branches-2-back-on-feature-a');
      t.diagnostic(`branch switches shown in: ${times.join(', ')}`);
    }));

  test('Copy Cost Summary puts a markdown table of the PR on the clipboard', () =>
    withFailureShot(vs, 'branches-3-copy', async (page) => {
      await page.evaluate(() => navigator.clipboard.writeText('before'));
      await runCommand(page, 'Agent Handler: Copy Cost Summary');
      const text = await waitFor(
        async () => {
          const c = await page.evaluate(() => navigator.clipboard.readText());
          return c !== 'before' && c;
        },
        { timeout: 10_000, message: 'clipboard holds the summary' },
      );
      assert.match(text, /^### Agent cost: #7\n/);
      assert.match(
        text,
        /Requests on `feature\/a` plus 1 session\(s\) that worked on this PR from another branch: \*\*6K tokens, \$0\.03\*\* in 3 request\(s\) from 2 session\(s\)\./,
      );
      assert.match(text, /\| Claude Code \| 3 \| 6K \| \$0\.03 \|/);
    }));

  test('the budget ($0.03) colours the item only where the cost is above it', () =>
    withFailureShot(vs, 'branches-4-budget', async (page) => {
      const warning = () => page.$eval(`[id="${STATUS_ITEM_ID}"]`, (el) => el.classList.contains('warning-kind'));
      // On feature/a, #7's $0.033 is above the budget.
      await waitForBranch(page, 'feature/a', 5000);
      await waitFor(warning, { timeout: 5000, message: 'warning background on feature/a' });
      await screenshot(page, 'branches-4-budget-crossed');
      // feature/b's $0.024 is not.
      git('checkout', '-q', 'feature/b');
      await waitForBranch(page, 'feature/b', 5000);
      await waitFor(async () => !(await warning()), { timeout: 5000, message: 'no warning background on feature/b' });
      git('checkout', '-q', 'feature/a');
      await waitForBranch(page, 'feature/a', 5000);
    }));

  test('grouped by pull request: #7 with its totals holds both sessions that count in it', () =>
    withFailureShot(vs, 'branches-5-group-by-pr', async (page) => {
      // A workspace setting (the file is watched by VS Code); untracked, so checkouts keep it.
      fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
      fs.writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        JSON.stringify({ 'agentHandler.groupBy': 'pullRequests' }),
      );
      await openViewContainer(page, 'Agent Handler');
      const rows = await waitFor(
        async () => {
          const r = await treeRows(page, 'Sessions');
          return r[0]?.label === '#7' && r;
        },
        { timeout: 15_000, message: 'the tree lists #7 first' },
      );
      assert.match(rows[0].description, /^feature\/a · 6K tok · \$0\.03 · 2 sessions$/);
      await screenshot(page, 'branches-5-group-by-pr');
      fs.rmSync(path.join(workspace, '.vscode'), { recursive: true, force: true });
    }));
});
