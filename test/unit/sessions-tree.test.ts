/** The Sessions tree's nodes and items as plain data, without VS Code (src/views/model/sessionsTree.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GroupNode, SessionNode } from '../../src/core/grouping';
import {
  SessionsTreeModel,
  currentBranchFacts,
  groupItem,
  isResumable,
  isSessionNode,
  sessionIcon,
  sessionItem,
} from '../../src/views/model/sessionsTree';
import { branchSummary, prSummary, sessionView } from './viewFixtures';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const PARENT = '11111111-1111-4111-8111-111111111111';
const ws = { git_dir: '/r/.git', branch: 'feature/x', toplevel: '/r' };
const tokens = {
  tokens_input: 1000,
  tokens_output: 200,
  tokens_cache_read: 0,
  tokens_cache_write: 0,
  cost_usd: 0.05,
  unpriced_requests: 0,
};

const node = (session = sessionView(PARENT), over: Partial<SessionNode> = {}): SessionNode => ({
  kind: 'session',
  session,
  children: [],
  ...over,
});
const group = (over: Partial<GroupNode> = {}): GroupNode => ({
  kind: 'group',
  id: 'group:x',
  label: 'X',
  icon: 'repo',
  expanded: false,
  children: [],
  ...over,
});

describe('Sessions tree items', () => {
  test('a session: title, "ago · tokens · cost", agent named only when several agents are listed', () => {
    const n = node(sessionView(PARENT, { title: 'say hi', rollup: { ...tokens } }));
    const single = sessionItem(n, false, NOW);
    assert.equal(single.label, 'say hi');
    assert.equal(single.description, '2h ago · 1.2K tok · $0.05');
    assert.equal(single.accessibilityLabel, 'say hi, Claude Code, idle, 2h ago · 1.2K tok · $0.05');
    assert.equal(sessionItem(n, true, NOW).description, 'Claude Code · 2h ago · 1.2K tok · $0.05');
  });

  test('an agent that writes its totals at exit says so rather than show 0 tokens', () => {
    const n = node(sessionView('c', { framework: 'copilot_cli', token_totals_pending: true }));
    assert.equal(sessionItem(n, false, NOW).description, '2h ago · tokens at exit');
  });

  test('ids stay unique per appearance (PR scope, Needs you alias) and stable across refreshes', () => {
    assert.equal(sessionItem(node(), false, NOW).id, `session:${PARENT}`);
    assert.equal(sessionItem(node(undefined, { scope: 'pr:3' }), false, NOW).id, `pr:3:session:${PARENT}`);
    assert.equal(sessionItem(node(undefined, { alias: true }), false, NOW).id, `needs-you:session:${PARENT}`);
  });

  test('context value offers Resume for a top-level session its agent can resume, and Open Transcript while the file exists', () => {
    const top = sessionView(PARENT);
    const sub = sessionView('agent-a1', { parent_session_id: PARENT });
    const gone = sessionView(PARENT, { transcript_available: false });
    assert.equal(sessionItem(node(top), false, NOW).contextValue, 'agentHandler.session.resumable.transcript');
    assert.equal(sessionItem(node(sub), false, NOW).contextValue, 'agentHandler.session.transcript');
    assert.equal(sessionItem(node(gone), false, NOW).contextValue, 'agentHandler.session.resumable');
    assert.equal(isResumable(top), true);
    assert.equal(isResumable(sub), false);
    assert.equal(isResumable(sessionView('not-a-uuid')), false);
  });

  test('icons: working spins, waiting rings, the others show their agent, dimmed when done', () => {
    assert.deepEqual(sessionIcon(sessionView('a', { status: 'busy' })), { id: 'sync~spin', color: 'charts.blue' });
    assert.deepEqual(sessionIcon(sessionView('a', { status: 'wait' })), { id: 'bell-dot', color: 'charts.orange' });
    assert.deepEqual(sessionIcon(sessionView('a', { status: 'idle' })), { id: 'sparkle', color: 'charts.green' });
    assert.deepEqual(sessionIcon(sessionView('a', { status: 'done', framework: 'amp' })), {
      id: 'zap',
      color: 'disabledForeground',
    });
    assert.deepEqual(sessionIcon(sessionView('a', { status: 'done', framework: 'unknown-agent' })), {
      id: 'hubot',
      color: 'disabledForeground',
    });
  });

  test('a session with subagents is collapsed; one without has no twistie', () => {
    assert.equal(
      sessionItem(node(undefined, { children: [node(sessionView('sub'))] }), false, NOW).collapsible,
      'collapsed',
    );
    assert.equal(sessionItem(node(), false, NOW).collapsible, 'none');
  });

  test('a group: its icon, its expansion, and another id while empty (VS Code would keep it collapsed)', () => {
    const full = groupItem(group({ expanded: true, children: [node()], description: '2 sessions', tooltip: 'tip' }));
    assert.deepEqual(full, {
      id: 'group:x',
      label: 'X',
      description: '2 sessions',
      tooltip: 'tip',
      icon: { id: 'repo' },
      contextValue: 'agentHandler.group',
      collapsible: 'expanded',
    });
    assert.equal(groupItem(group({ children: [node()] })).collapsible, 'collapsed');
    const empty = groupItem(group());
    assert.equal(empty.id, 'group:x:empty');
    assert.equal(empty.collapsible, 'none');
    assert.deepEqual(groupItem(group({ icon: 'needs-you' })).icon, { id: 'bell-dot', color: 'charts.orange' });
    assert.deepEqual(groupItem(group({ icon: 'pull-request' })).icon, { id: 'git-pull-request' });
  });

  test("a command's argument is a session node only when it is one", () => {
    assert.equal(isSessionNode(node()), true);
    assert.equal(isSessionNode(group()), false);
    assert.equal(isSessionNode(undefined), false);
    assert.equal(isSessionNode('agentHandler.sessions'), false);
    assert.equal(isSessionNode({ kind: 'session' }), false);
  });
});

describe('Sessions tree model', () => {
  const sessions = [
    sessionView(PARENT, {
      title: 'parent',
      local_git_dir: '/r/.git',
      git_branch: 'feature/x',
      cwd: '/r',
      toplevel: '/r',
      subagent_ids: ['sub'],
    }),
    sessionView('sub', {
      title: 'sub',
      local_git_dir: '/r/.git',
      git_branch: 'feature/x',
      cwd: '/r',
      parent_session_id: PARENT,
    }),
    sessionView('fork', {
      title: 'fork',
      framework: 'codex',
      local_git_dir: '/r/.git',
      git_branch: 'main',
      cwd: '/r',
      toplevel: '/r',
      forked_from_session_id: PARENT,
    }),
    sessionView('waiting', {
      title: 'waiting',
      cwd: '/elsewhere',
      status: 'wait',
      status_updated_at: '2026-11-25T11:00:00.000Z',
    }),
  ];

  function model(): SessionsTreeModel {
    const m = new SessionsTreeModel();
    m.sessions = sessions;
    return m;
  }

  test('groups by branch, nests subagents, and knows each node by session id and its parent', () => {
    const m = model();
    assert.equal(m.render('branch', ws, {}, NOW), 'feature/x');
    const labels = m.children().map((n) => m.item(n, NOW).label);
    assert.deepEqual(labels, ['Needs you', 'feature/x', 'This repository', 'Other projects']);
    const parent = m.nodeFor(PARENT);
    assert.ok(parent);
    assert.deepEqual(
      m.children(parent).map((n) => m.item(n, NOW).label),
      ['sub'],
    );
    const sub = m.nodeFor('sub');
    assert.ok(sub);
    assert.equal(m.parent(sub), parent);
    // The Needs you alias is not the node revealed for the session.
    const waiting = m.nodeFor('waiting');
    assert.ok(waiting && !waiting.alias);
    // Two agents listed: descriptions name them.
    assert.match(m.item(parent, NOW).description ?? '', /^Claude Code · /);
  });

  test('the filter hides sessions from the tree, not from the commands, and is described with the branch', () => {
    const m = model();
    m.filter = { agents: ['codex'] };
    assert.equal(m.render('none', ws, {}, NOW), 'feature/x · filter: Codex (1 of 4)');
    assert.equal(m.sessions.length, 4);
    assert.equal(m.nodeFor(PARENT), undefined);
    assert.ok(m.nodeFor('fork'));
    m.filter = {};
    assert.equal(m.render('none', null, {}, NOW), undefined);
  });

  test("a fork's tooltip names its origin by title; groups have no markdown tooltip", () => {
    const m = model();
    m.render('none', null, {}, NOW);
    const fork = m.nodeFor('fork');
    assert.ok(fork);
    assert.match(m.tooltip(fork) ?? '', /\| Forked from \| "parent" \\\(11111111\\\) \|/);
    assert.equal(m.tooltip(group()), undefined);
  });

  test('transcript text in a tooltip is escaped: no link, no command, no HTML', () => {
    const m = new SessionsTreeModel();
    m.sessions = [
      sessionView('x', {
        title: '[run](command:workbench.action.terminal.new) <img src=x>',
        first_user_message: '**bold** `code`',
      }),
    ];
    m.render('none', null, {}, NOW);
    const tip = m.tooltip(m.children()[0]) ?? '';
    assert.doesNotMatch(tip, /\]\(command:/);
    assert.doesNotMatch(tip, /(?<!\\)<img/);
    assert.match(tip, /First prompt: \\\*\\\*bold\\\*\\\* \\`code\\`/);
  });

  test("the current branch's header shows the PR's totals when the branch has one", () => {
    const plain = branchSummary('feature/x', { ...tokens });
    assert.deepEqual(currentBranchFacts(plain), { tokens: 1200, cost: '$0.05', pr: null });
    const withPr = branchSummary('feature/x', {
      ...tokens,
      pr: { number: 9, url: null, source: 'gh', repo: null },
      pr_summary: prSummary(9, { ...tokens, tokens_output: 800, cost_usd: 1 }),
    });
    assert.deepEqual(currentBranchFacts(withPr), { tokens: 1800, cost: '$1.00', pr: 9 });
  });
});
