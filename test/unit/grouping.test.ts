import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GroupNode, type SessionNode, type TreeNode, groupSessions, nestSubagents } from '../../src/core/grouping';
import { sessionView } from './viewFixtures';

const session = sessionView;

const labels = (nodes: TreeNode[]) => nodes.map((n) => (n.kind === 'group' ? n.label : n.session.session_id));
const group = (nodes: TreeNode[], label: string) =>
  nodes.find((n): n is GroupNode => n.kind === 'group' && n.label === label)!;

describe('grouping of the Sessions tree', () => {
  const ws = { git_dir: '/r/.git', branch: 'feature/x', toplevel: '/r' };
  const sessions = [
    session('cur', {
      local_git_dir: '/r/.git',
      git_branch: 'feature/x',
      cwd: '/r',
      toplevel: '/r',
      subagent_ids: ['sub'],
    }),
    session('sub', { local_git_dir: '/r/.git', git_branch: 'feature/x', cwd: '/r', parent_session_id: 'cur' }),
    // Another worktree of the same repository, on the current branch: still "current branch".
    session('wt', {
      local_git_dir: '/r/.git',
      git_branch: 'feature/x',
      cwd: '/wt',
      toplevel: '/wt',
      last_activity: '2026-11-25T09:00:00.000Z',
    }),
    session('main', { local_git_dir: '/r/.git', git_branch: 'main', cwd: '/r', toplevel: '/r' }),
    session('detached', { local_git_dir: '/r/.git', git_branch: 'HEAD', cwd: '/r', toplevel: '/r' }),
    session('other', { local_git_dir: '/o/.git', git_branch: 'main', cwd: '/o/sub', toplevel: '/o' }),
    session('norepo', { cwd: '/tmp/x' }),
  ];

  it('puts current branch, other branches of the repository and other projects in their groups', () => {
    const tree = groupSessions(sessions, 'branch', ws, Date.parse('2026-11-25T12:00:00Z'));
    assert.deepEqual(labels(tree), ['feature/x', 'This repository', 'Other projects']);
    assert.deepEqual(labels(tree[0].children), ['cur', 'wt']);
    assert.match((tree[0] as GroupNode).description!, /^current branch · 2 sessions/);
    assert.deepEqual(labels(group(tree, 'This repository').children).sort(), ['detached HEAD', 'main']);
    assert.deepEqual(labels(group(tree, 'Other projects').children).sort(), ['o', 'x']);
  });

  it('nests a subagent under its parent, not as a session of its own group', () => {
    const tree = groupSessions(sessions, 'branch', ws, Date.now());
    const cur = tree[0].children[0] as SessionNode;
    assert.deepEqual(
      cur.children.map((c) => c.session.session_id),
      ['sub'],
    );
    assert.equal(nestSubagents(sessions).length, sessions.length - 1);
  });

  it('shows a subagent whose parent is not indexed at the top level', () => {
    const roots = nestSubagents([session('orphan', { parent_session_id: 'missing' })]);
    assert.deepEqual(
      roots.map((r) => r.session.session_id),
      ['orphan'],
    );
  });

  it('without a workspace repository, groups everything by project', () => {
    const tree = groupSessions(sessions, 'branch', null, Date.now());
    assert.deepEqual(labels(tree), ['Other projects']);
    assert.deepEqual(labels(tree[0].children).sort(), ['o', 'r', 'wt', 'x']);
  });

  it('groups by date buckets of last activity', () => {
    const now = new Date(2026, 10, 25, 12, 0, 0).getTime();
    const at = (d: number, h = 10) => new Date(2026, 10, d, h, 0, 0).toISOString();
    const tree = groupSessions(
      [
        session('a', { last_activity: at(25) }),
        session('b', { last_activity: at(24) }),
        session('c', { last_activity: at(20) }),
        session('d', { last_activity: at(1) }),
      ],
      'date',
      null,
      now,
    );
    assert.deepEqual(labels(tree), ['Today', 'Yesterday', 'Last 7 days', 'Last 30 days']);
  });

  it('lists everything flat with groupBy none', () => {
    assert.deepEqual(labels(groupSessions(sessions, 'none', ws, Date.now())).length, 6);
  });

  it("the current branch's group shows its PR and the totals the query gave", () => {
    const tree = groupSessions(sessions, 'branch', ws, Date.now(), {
      current: { tokens: 3_400_000, cost: '$4.18', pr: 42 },
    });
    assert.equal((tree[0] as GroupNode).label, 'feature/x');
    assert.equal((tree[0] as GroupNode).description, '#42 · 3.4M tok · $4.18 · current branch · 2 sessions');
  });

  it('a session that made requests on the current branch and moved on is under the current branch', () => {
    const share = { requests: 1, tokens: 10, cost_usd: 0, unpriced_requests: 0, share: 0.5 };
    const moved = session('moved', {
      local_git_dir: '/r/.git',
      git_branch: 'feature/y',
      cwd: '/r',
      toplevel: '/r',
      branches: [
        { ...share, branch: 'feature/y' },
        { ...share, branch: 'feature/x' },
      ],
    });
    const elsewhere = session('elsewhere', {
      local_git_dir: '/r/.git',
      git_branch: 'feature/y',
      cwd: '/r',
      toplevel: '/r',
      branches: [{ ...share, branch: 'feature/y' }],
    });
    const tree = groupSessions([moved, elsewhere], 'branch', ws, Date.now());
    assert.deepEqual(labels(tree[0].children), ['moved']);
    assert.deepEqual(labels(group(tree, 'This repository').children), ['feature/y']);
  });

  it('two worktrees of one repository on different branches: one repository, two branches', () => {
    const two = [
      session('in-main-checkout', { local_git_dir: '/r/.git', git_branch: 'main', cwd: '/r', toplevel: '/r' }),
      session('in-worktree', { local_git_dir: '/r/.git', git_branch: 'feature/x', cwd: '/wt', toplevel: '/wt' }),
    ];
    const tree = groupSessions(two, 'branch', ws, Date.now());
    // The workspace is the worktree on feature/x: that branch is current, main is the repository's other branch.
    assert.deepEqual(labels(tree), ['feature/x', 'This repository']);
    assert.deepEqual(labels(tree[0].children), ['in-worktree']);
    assert.deepEqual(labels(group(tree, 'This repository').children), ['main']);
  });

  it('groups by pull request with the totals of each PR, then the sessions of none', () => {
    const zero = {
      tokens_input: 0,
      tokens_output: 0,
      tokens_cache_read: 0,
      tokens_cache_write: 0,
      cost_usd: 0,
      unpriced_requests: 0,
    };
    const part = (session_id: string) => ({
      ...zero,
      requests: 1,
      session_id,
      framework: 'claude_code',
      title: null,
      status: 'idle',
      parent_session_id: null,
    });
    const pr = {
      ...zero,
      tokens_input: 6050,
      cost_usd: 0.033,
      requests: 3,
      sessions: 2,
      live: 0,
      waiting: 0,
      git_dir: '/r/.git',
      head_branch: 'feature/x',
      also: [{ session_id: 'main', branch: 'main' }],
      pr: { number: 7, url: 'https://github.com/o/r/pull/7', source: 'agent' as const, repo: 'o/r' },
      // 'sub' stands for its parent 'cur': the parent's node is listed, once.
      by_session: [part('sub'), part('main')],
      by_model: [],
      by_agent: [],
    };
    const tree = groupSessions(sessions, 'pullRequests', ws, Date.now(), { prs: [pr] });
    assert.deepEqual(labels(tree), ['#7', 'No pull request']);
    assert.equal((tree[0] as GroupNode).description, 'feature/x · 6K tok · $0.03 · 2 sessions');
    assert.deepEqual(labels(tree[0].children), ['cur', 'main']);
    assert.deepEqual(labels(tree[1].children).sort(), ['detached', 'norepo', 'other', 'wt']);
    // The same session under two PRs: each copy is scoped to its group, so tree item ids stay unique.
    const pr8 = { ...pr, pr: { ...pr.pr, number: 8 }, by_session: [part('cur')] };
    const two = groupSessions(sessions, 'pullRequests', ws, Date.now(), { prs: [pr, pr8] });
    const cur7 = two[0].children[0] as SessionNode;
    const cur8 = two[1].children[0] as SessionNode;
    assert.equal(cur7.session.session_id, cur8.session.session_id);
    assert.notEqual(cur7.scope, cur8.scope);
    assert.equal(cur7.children[0].scope, cur7.scope);
  });
});

describe('Needs you group', () => {
  const ws = { git_dir: '/r/.git', branch: 'feature/x', toplevel: '/r' };
  it('is on top while any session waits, longest waiting first, and the sessions stay in their usual place too', () => {
    const sessions = [
      session('a', {
        local_git_dir: '/r/.git',
        git_branch: 'feature/x',
        status: 'wait',
        status_updated_at: '2026-11-25T10:05:00.000Z',
      }),
      session('b', { local_git_dir: '/r/.git', git_branch: 'feature/x', status: 'busy' }),
      session('c', { cwd: '/tmp/c', status: 'wait', status_updated_at: '2026-11-25T10:01:00.000Z' }),
    ];
    const tree = groupSessions(sessions, 'branch', ws, Date.parse('2026-11-25T12:00:00Z'));
    assert.deepEqual(labels(tree), ['Needs you', 'feature/x', 'Other projects']);
    const needs = tree[0] as GroupNode;
    assert.deepEqual(labels(needs.children), ['c', 'a']);
    assert.equal(needs.description, '2 waiting');
    assert.ok(needs.children.every((n) => n.kind === 'session' && n.alias));
    assert.deepEqual(labels(tree[1]!.children), ['a', 'b']);
    assert.ok(!(tree[1]!.children[0] as SessionNode).alias);
  });

  it('is absent when nobody waits, in every grouping mode', () => {
    for (const mode of ['branch', 'project', 'date', 'none'] as const) {
      const tree = groupSessions([session('x', { status: 'busy' })], mode, ws, Date.parse('2026-11-25T12:00:00Z'));
      assert.ok(!labels(tree).includes('Needs you'), mode);
    }
  });
});
