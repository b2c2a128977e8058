/** The status bar's text, tooltip, background and screen-reader label, without VS Code (src/views/model/statusBar.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NO_REPOSITORY_TOOLTIP, type StatusBarFacts, statusBarModel } from '../../src/views/model/statusBar';
import { branchSummary, prSummary } from './viewFixtures';

// The numbers of the e2e fixture (test/e2e/extension.e2e.test.mjs): 116,821 tokens, $0.2511792, 2 sessions.
const FIXTURE = {
  tokens_input: 23192,
  tokens_output: 881,
  tokens_cache_read: 67281,
  tokens_cache_write: 25467,
  cost_usd: 0.2511792,
  unpriced_requests: 0,
  requests: 12,
};
const quiet = { indexing: false, waiting: 0 };

function onBranch(
  over: Partial<Extract<StatusBarFacts, { kind: 'branch' }>> = {},
  summary = branchSummary('feature/fake-model', { ...FIXTURE, sessions: 2 }),
): StatusBarFacts {
  return { kind: 'branch', branch: 'feature/fake-model', repoLabel: 'owner/repo', summary, budgetUsd: null, ...over };
}

describe('status bar', () => {
  test('shows the branch, its tokens and cost, and says the same to screen readers', () => {
    const m = statusBarModel(onBranch(), quiet);
    assert.equal(m.text, '$(hubot) feature/fake-model · 117K tok · $0.25');
    assert.equal(m.accessibilityLabel, 'Agent Handler: branch feature/fake-model, 116821 tokens, $0.25, 2 sessions');
    assert.equal(m.warning, false);
    assert.match(m.tooltip, /^\*\*Agent Handler\*\* · owner/);
  });

  test('spins while the index is read, counts live sessions, and names those waiting with the warning background', () => {
    const summary = branchSummary('feature/fake-model', { ...FIXTURE, sessions: 2, live: 1 });
    const m = statusBarModel(onBranch({}, summary), { indexing: true, waiting: 3 });
    assert.equal(
      m.text,
      '$(sync~spin) $(hubot) feature/fake-model · 117K tok · $0.25 · $(pulse) 1 · $(bell-dot) 3 waiting',
    );
    assert.equal(m.warning, true);
  });

  test("with a pull request, shows the PR's number and totals", () => {
    const summary = branchSummary('feature/fake-model', {
      ...FIXTURE,
      sessions: 2,
      pr: { number: 42, url: 'https://github.com/owner/repo/pull/42', source: 'gh', repo: 'owner/repo' },
      pr_summary: prSummary(42, { ...FIXTURE, tokens_input: FIXTURE.tokens_input + 1000, cost_usd: 1.5, sessions: 3 }),
    });
    const m = statusBarModel(onBranch({}, summary), quiet);
    assert.equal(m.text, '$(git-pull-request) #42 · 118K tok · $1.50');
    assert.equal(
      m.accessibilityLabel,
      'Agent Handler: branch feature/fake-model, pull request #42, 117821 tokens, $1.50, 3 sessions',
    );
    assert.match(m.tooltip, /Pull request \[#42\]\(https:\/\/github\.com\/owner\/repo\/pull\/42\)/);
  });

  test('only a budget the person set, once crossed, colours the item and is named in tooltip and label', () => {
    const over = statusBarModel(onBranch({ budgetUsd: 0.2 }), quiet);
    assert.equal(over.warning, true);
    assert.match(over.tooltip, /\n\n\*\*Over the budget\*\* of \$0\.20 \(agentHandler\.budget\.branchUsd\)\.$/);
    assert.match(over.accessibilityLabel ?? '', /, over the budget of \$0\.20$/);
    for (const budgetUsd of [null, 0, -1, 0.3, '0.2', {}]) {
      const m = statusBarModel(onBranch({ budgetUsd }), quiet);
      assert.equal(m.warning, false, `budget ${JSON.stringify(budgetUsd)}`);
      assert.doesNotMatch(m.tooltip, /Over the budget/);
    }
  });

  test('outside a git repository, the total of every session, and the screen-reader label left as it was', () => {
    const m = statusBarModel({ kind: 'noRepository', total: FIXTURE }, { indexing: false, waiting: 1 });
    assert.equal(m.text, '$(hubot) all sessions · 117K tok · $0.25 · $(bell-dot) 1 waiting');
    assert.equal(m.tooltip, NO_REPOSITORY_TOOLTIP);
    assert.equal(m.warning, true);
    assert.equal(m.accessibilityLabel, undefined);
  });

  test('escapes branch names and PR titles in the tooltip, and links only a PR URL that is safe', () => {
    const summary = branchSummary('x](command:evil)', {
      pr: {
        number: 7,
        url: 'javascript:alert(1)',
        source: 'agent',
        repo: null,
        title: '[click](command:workbench.action.terminal.new)',
      },
    });
    const m = statusBarModel(onBranch({ branch: 'x](command:evil)' }, summary), quiet);
    assert.doesNotMatch(m.tooltip, /\]\(command:/);
    assert.doesNotMatch(m.tooltip, /javascript:/);
    assert.match(m.tooltip, /Pull request #7 /);
  });

  test('an unpriced request is said, never shown as $0', () => {
    const m = statusBarModel(
      onBranch({}, branchSummary('feature/fake-model', { ...FIXTURE, cost_usd: 0, unpriced_requests: 2, sessions: 1 })),
      quiet,
    );
    assert.equal(m.text, '$(hubot) feature/fake-model · 117K tok · unpriced');
  });
});
