/** The dashboard's numbers: local-day range, splits per branch / PR / project, cache share, costliest sessions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { repoInfo } from '../../src/core/git/repo';
import { dashboardData } from '../../src/core/store/dashboard';
import { RULES_CWD, assertUsd, assistant, indexHome, makeRepo, tempDir, userPrompt, writeTranscript } from './helpers';

const A = 'aaaaaaaa-0000-4000-8000-00000000dba1';
const B = 'bbbbbbbb-0000-4000-8000-00000000dbb2';
const R = 'cccccccc-0000-4000-8000-00000000dbc3';
const NOW = Date.parse('2026-11-21T18:00:00.000Z');

/** claude-opus-5-5 (genai-prices): $4/M input, $20/M output, $0.20/M cache read. */
async function home(repo: string): Promise<string> {
  const h = await tempDir('ah-dash-');
  // A: $0.006 (20 Nov 23:30Z) + $0.008 (21 Nov 03:00Z) = $0.014, outside any repository.
  await writeTranscript(h, `${A}.jsonl`, [
    userPrompt({ session: A, ts: '2026-11-20T23:29:00.000Z', text: 'a' }),
    assistant({
      session: A,
      ts: '2026-11-20T23:30:00.000Z',
      msg: 'msg_da1',
      req: 'req_da1',
      usage: { in: 1000, out: 100 },
    }),
    assistant({ session: A, ts: '2026-11-21T03:00:00.000Z', msg: 'msg_da2', req: 'req_da2', usage: { in: 2000 } }),
  ]);
  // B: 1000 out + 1,000,000 cache read = $0.02 + $0.20 = $0.22 (21 Nov 12:00Z).
  await writeTranscript(h, `${B}.jsonl`, [
    userPrompt({ session: B, ts: '2026-11-21T11:59:00.000Z', text: 'b' }),
    assistant({
      session: B,
      ts: '2026-11-21T12:00:00.000Z',
      msg: 'msg_db1',
      req: 'req_db1',
      usage: { out: 1000, cr: 1_000_000 },
    }),
  ]);
  // R, in the repository: main 1000 in = $0.004; feature/y 1000 out = $0.02; it links PR #7.
  await writeTranscript(
    h,
    `${R}.jsonl`,
    [
      userPrompt({ session: R, ts: '2026-11-21T13:00:00.000Z', text: 'r', cwd: repo }),
      assistant({
        session: R,
        ts: '2026-11-21T13:00:05.000Z',
        msg: 'msg_dr1',
        req: 'req_dr1',
        usage: { in: 1000 },
        cwd: repo,
        branch: 'main',
      }),
      assistant({
        session: R,
        ts: '2026-11-21T13:01:00.000Z',
        msg: 'msg_dr2',
        req: 'req_dr2',
        usage: { out: 1000 },
        cwd: repo,
        branch: 'feature/y',
        content: [{ type: 'text', text: 'Opened https://github.com/o/r/pull/7' }],
      }),
    ],
    repo,
  );
  return h;
}

describe('dashboard data', () => {
  test('7 days in UTC: per day, per branch, per PR, per project, cache share, costliest', async () => {
    const repo = await makeRepo('main');
    const { store } = await indexHome(await home(repo));
    const gitDir = (await repoInfo(repo))!.git_dir;
    const d = dashboardData(store, { days: 7, timeZone: 'UTC', now: NOW, currentGitDir: gitDir });
    assert.deepEqual(d.dates, [
      '2026-11-15',
      '2026-11-16',
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
    ]);
    const perDay = (date: string) => d.daily.filter((r) => r.date === date).reduce((a, r) => a + r.cost_usd, 0);
    assertUsd(perDay('2026-11-20'), 0.006);
    assertUsd(perDay('2026-11-21'), 0.008 + 0.22 + 0.004 + 0.02); // 0.252
    assert.deepEqual(d.sessions_per_day, [
      { date: '2026-11-20', sessions: 1 },
      { date: '2026-11-21', sessions: 3 },
    ]);
    assertUsd(d.totals.cost_usd, 0.258); // 0.006 + 0.252
    // Input-side tokens: 1000 + 2000 + 1000 input + 1,000,000 cache read = 1,004,000; share = 1e6 / 1,004,000.
    assert.equal(d.cache_read_share, 1_000_000 / 1_004_000);
    assert.deepEqual(
      d.by_branch.map((b) => b.key),
      ['feature/y', 'main'],
    );
    assertUsd(d.by_branch[0]!.cost_usd, 0.02);
    assertUsd(d.by_branch[1]!.cost_usd, 0.004);
    assert.deepEqual(
      d.by_pr.map((b) => b.key),
      ['#7'],
    );
    assertUsd(d.by_pr[0]!.cost_usd, 0.024);
    assert.deepEqual(
      d.by_project.map((b) => b.key),
      [RULES_CWD, repo],
    ); // 0.234 (A + B) > 0.024 (R)
    assertUsd(d.by_project[0]!.cost_usd, 0.234);
    assert.deepEqual(
      d.costliest.map((s) => s.session_id),
      [B, R, A],
    ); // 0.22, 0.024, 0.014
    assert.deepEqual(
      d.repos.map((r) => r.git_dir),
      [gitDir],
    );
  });

  test('1 day in New York: only 21 Nov local time; agent and repository filters', async () => {
    const repo = await makeRepo('main');
    const { store } = await indexHome(await home(repo));
    const gitDir = (await repoInfo(repo))!.git_dir;
    // 21 Nov in New York starts at 05:00Z: A's requests (23:30Z and 03:00Z) fall on the 20th.
    const d = dashboardData(store, { days: 1, timeZone: 'America/New_York', now: NOW });
    assert.deepEqual(d.dates, ['2026-11-21']);
    assertUsd(d.totals.cost_usd, 0.22 + 0.024);
    assert.deepEqual(
      d.costliest.map((s) => s.session_id),
      [B, R],
    );
    assert.deepEqual(d.by_branch, []); // no current repository given
    const inRepo = dashboardData(store, { days: 7, timeZone: 'UTC', now: NOW, gitDir });
    assertUsd(inRepo.totals.cost_usd, 0.024);
    assert.deepEqual(
      inRepo.costliest.map((s) => s.session_id),
      [R],
    );
    assert.equal(dashboardData(store, { days: 7, timeZone: 'UTC', now: NOW, framework: 'codex' }).totals.requests, 0);
  });
});
