/**
 * The "Copy Cost Summary" markdown and the PR link check (src/core/report.ts), on a summary made
 * by the real queries from hand-made transcripts.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { costSummaryMarkdown, safePrUrl } from '../../src/core/report';
import { prSummary } from '../../src/core/store/prTotals';
import { branchSummary } from '../../src/core/store/queries';
import { assistant, git, indexHome, makeRepo, tempDir, userPrompt, writeTranscript } from './helpers';

describe('cost summary for a PR description', () => {
  test('totals, per agent, per model and per session; titles cannot break the table', async () => {
    const repo = await makeRepo('main', 'git@github.com:acme/widgets.git');
    git(repo, 'checkout', '-q', '-b', 'feature/a');
    const home = path.join(await tempDir('ah-report-'), 'home');
    const W = '71000000-0000-4000-8000-000000000001';
    await writeTranscript(
      home,
      `${W}.jsonl`,
      [
        userPrompt({
          session: W,
          cwd: repo,
          branch: 'feature/a',
          ts: '2026-11-24T10:00:00.000Z',
          text: 'fix | the <b>table</b>',
        }),
        // claude-opus-5-5: 1000 × $4/M + 500 × $20/M = $0.004 + $0.010 = $0.014
        assistant({
          session: W,
          cwd: repo,
          branch: 'feature/a',
          ts: '2026-11-24T10:00:01.000Z',
          msg: 'w1',
          req: 'rw1',
          usage: { in: 1000, out: 500 },
        }),
        {
          type: 'pr-link',
          sessionId: W,
          prNumber: 7,
          prUrl: 'https://github.com/acme/widgets/pull/7',
          prRepository: 'acme/widgets',
          timestamp: '2026-11-24T10:00:02.000Z',
        },
      ],
      repo,
    );
    const { store } = await indexHome(home);
    const gitDir = path.join(repo, '.git');
    const b = branchSummary(store, gitDir, 'feature/a', undefined, 'main');
    const md = costSummaryMarkdown(b, prSummary(store, gitDir, 7, 'main'), (f) =>
      f === 'claude_code' ? 'Claude Code' : f,
    );
    assert.equal(
      md,
      [
        '### Agent cost: #7',
        '',
        'Requests on `feature/a`: **1.5K tokens, $0.01** in 1 request(s) from 1 session(s).',
        '',
        '| Agent | Requests | Tokens | Cost |',
        '|---|---:|---:|---:|',
        '| Claude Code | 1 | 1.5K | $0.01 |',
        '',
        '| Model | Requests | Tokens | Cost |',
        '|---|---:|---:|---:|',
        '| claude-opus-5-5 | 1 | 1.5K | $0.01 |',
        '',
        '| Session | Agent | Requests | Tokens | Cost |',
        '|---|---|---:|---:|---:|',
        '| fix \\| the &lt;b&gt;table&lt;/b&gt; | Claude Code | 1 | 1.5K | $0.01 |',
        '',
        "<sub>Counted per request by Agent Handler from the agents' transcripts (list prices; tokens = input + output + cache read + cache write).</sub>",
        '',
      ].join('\n'),
    );
  });

  test('only plain https pull request pages are links', () => {
    assert.equal(safePrUrl('https://github.com/acme/widgets/pull/7'), 'https://github.com/acme/widgets/pull/7');
    assert.equal(
      safePrUrl('https://github.example.com/team/svc/pull/12'),
      'https://github.example.com/team/svc/pull/12',
    );
    for (const bad of [
      'http://github.com/a/b/pull/1',
      'javascript:alert(1)//github.com/a/b/pull/1',
      'https://github.com/a/b/pull/1)(x',
      'https://u:p@github.com/a/b/pull/1',
      'command:foo',
      null,
    ]) {
      assert.equal(safePrUrl(bad), null, String(bad));
    }
  });
});
