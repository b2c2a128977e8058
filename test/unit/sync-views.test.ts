/**
 * What sync adds to the views, without VS Code or PostgreSQL: totals across machines with this
 * machine's part from the local index, the status bar's text and per-machine tooltip, the tree's
 * "Other machines" group, and the one-line state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectionHasPassword, asksForPassword } from '../../src/core/ingest/syncLink';
import { formatDiagnostics } from '../../src/core/diagnostics';
import { hasOtherMachines, machineSeries, withLocalPart } from '../../src/core/sync/acrossMachines';
import { syncStateLine } from '../../src/core/sync/stateLine';
import type { MachinePart, RemoteSession, SharedTotals, SyncState } from '../../src/core/sync/types';
import type { GroupNode, SessionNode } from '../../src/core/grouping';
import { SessionsTreeModel } from '../../src/views/model/sessionsTree';
import { type StatusBarFacts, statusBarModel } from '../../src/views/model/statusBar';
import { branchSummary, prSummary, sessionView } from './viewFixtures';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const quiet = { indexing: false, waiting: 0 };
const ZERO = {
  tokens_input: 0,
  tokens_output: 0,
  tokens_cache_read: 0,
  tokens_cache_write: 0,
  cost_usd: 0,
  unpriced_requests: 0,
};

function part(id: string, name: string, over: Partial<MachinePart> = {}): MachinePart {
  return {
    ...ZERO,
    machine_id: id,
    machine_name: name,
    last_push_at: '2026-11-25T11:59:00.000Z',
    requests: 0,
    sessions: 0,
    this_machine: false,
    ...over,
  };
}

const LOCAL = { ...ZERO, tokens_input: 1000, tokens_output: 100, cost_usd: 0.006, requests: 1, sessions: 1 };
const CI = part('other', 'ci-runner', {
  tokens_input: 2000,
  tokens_output: 200,
  cost_usd: 0.012,
  requests: 2,
  sessions: 1,
});
const SELF = { machine_id: 'me', machine_name: 'laptop', last_push_at: null };

function sharedOf(...machines: MachinePart[]): SharedTotals {
  const t = { ...ZERO, requests: 0, sessions: 0 };
  for (const m of machines) for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += m[k];
  return { ...t, machines };
}

describe('totals across machines', () => {
  test("once this machine has pushed, the shared database's totals are the answer (each request once, by its rule)", () => {
    // The shared database counted a request both machines hold for ci-runner: this machine's part
    // there is 1 request, though its local index holds 2. Adding the local figures would count it twice.
    const mine = part('me', 'laptop', {
      tokens_input: 1000,
      tokens_output: 100,
      cost_usd: 0.006,
      requests: 1,
      sessions: 1,
    });
    const t = withLocalPart(sharedOf(mine, CI), { ...LOCAL, requests: 2, tokens_input: 3000 }, SELF);
    assert.equal(t.tokens_input, 3000);
    assert.equal(t.tokens_output, 300);
    assert.equal(t.requests, 3);
    assert.equal(t.sessions, 2);
    assert.ok(Math.abs(t.cost_usd - 0.018) < 1e-12);
    assert.deepEqual(
      t.machines.map((m) => [m.machine_name, m.this_machine, m.requests]),
      [
        ['ci-runner', false, 2],
        ['laptop', true, 1],
      ],
    );
    assert.ok(hasOtherMachines(t));
  });

  test('a machine with no rows there (not pushed yet, or view-only) adds its part from the local index', () => {
    const t = withLocalPart(sharedOf(CI), LOCAL, SELF);
    assert.equal(t.tokens_input, 3000);
    assert.equal(t.requests, 3);
    assert.deepEqual(
      t.machines.map((m) => [m.machine_name, m.this_machine, m.requests]),
      [
        ['ci-runner', false, 2],
        ['laptop', true, 1],
      ],
    );
  });

  test('a machine with nothing on the branch is not listed, and only this machine is no "across machines"', () => {
    const t = withLocalPart(sharedOf(part('idle', 'idle-box')), LOCAL, SELF);
    assert.deepEqual(
      t.machines.map((m) => m.machine_name),
      ['laptop'],
    );
    assert.equal(hasOtherMachines(t), false);
    assert.equal(hasOtherMachines(undefined), false);
  });
});

describe('dashboard series per machine', () => {
  const day = (date: string, cost: number, tokens_input: number) => ({
    date,
    framework: 'claude_code',
    model: 'm',
    requests: 1,
    ...ZERO,
    tokens_input,
    cost_usd: cost,
    sessions: 1,
  });

  test("this machine's days from the local index, the others' from the shared sums, aligned with the range", () => {
    const dates = ['2026-11-23', '2026-11-24', '2026-11-25'];
    const series = machineSeries(
      dates,
      [day('2026-11-24', 0.5, 100), day('2026-11-24', 0.25, 50), day('2026-11-20', 9, 9)],
      [
        { date: '2026-11-25', machine_id: 'other', machine_name: 'ci-runner', tokens: 300, cost_usd: 1 },
        { date: '2026-11-25', machine_id: 'idle', machine_name: 'idle-box', tokens: 0, cost_usd: 0 },
      ],
      { machine_id: 'me', machine_name: 'laptop' },
    );
    assert.deepEqual(series, [
      { machine_id: 'other', machine_name: 'ci-runner', this_machine: false, cost_usd: [0, 0, 1], tokens: [0, 0, 300] },
      { machine_id: 'me', machine_name: 'laptop', this_machine: true, cost_usd: [0, 0.75, 0], tokens: [0, 150, 0] },
    ]);
    // Pushed: this machine's days are the shared database's too (each request once across machines).
    const pushed = machineSeries(
      dates,
      [day('2026-11-24', 0.5, 100)],
      [{ date: '2026-11-23', machine_id: 'me', machine_name: 'laptop', tokens: 7, cost_usd: 0.25 }],
      { machine_id: 'me', machine_name: 'laptop' },
    );
    assert.deepEqual(pushed[0].cost_usd, [0.25, 0, 0]);
  });
});

describe('status bar across machines', () => {
  const facts = (summary = branchSummary('feature/a', { ...LOCAL })): StatusBarFacts => ({
    kind: 'branch',
    branch: 'feature/a',
    repoLabel: 'acme/widgets',
    summary,
    budgetUsd: null,
  });

  test('without sync the status bar is exactly what it was', () => {
    const m = statusBarModel(facts(), quiet);
    assert.equal(m.text, '$(hubot) feature/a · 1.1K tok · $0.0060');
    assert.doesNotMatch(m.tooltip, /machine/i);
  });

  test("shows every machine's total for the branch and splits it per machine in the tooltip", () => {
    const summary = { ...branchSummary('feature/a', { ...LOCAL }), shared: withLocalPart(sharedOf(CI), LOCAL, SELF) };
    const m = statusBarModel(facts(summary), quiet);
    assert.equal(m.text, '$(hubot) feature/a · 3.3K tok · $0.02');
    assert.equal(m.accessibilityLabel, 'Agent Handler: branch feature/a, 3300 tokens, $0.02, 2 sessions, 2 machines');
    // Markdown, escaped (the tooltip renders it): `\$0\.02` shows as $0.02.
    assert.match(
      m.tooltip,
      /\*\*Across 2 machines\*\* \(branch feature\/a\): 3\.3K tokens, \\\$0\\\.02 in 3 request\(s\)/,
    );
    assert.match(m.tooltip, /\| ci\\-runner \| 1 \| 2 \| 2\.2K \| \\\$0\\\.01 \|/);
    assert.match(m.tooltip, /\| laptop \\\(this machine\\\) \| 1 \| 1 \| 1\.1K \| \\\$0\\\.0060 \|/);
  });

  test("with a PR, the PR's totals across machines; a machine's name is escaped like transcript text", () => {
    const ci = part('other', '*evil* [x](command:y)', { tokens_input: 5000, cost_usd: 1, requests: 4, sessions: 2 });
    const pr = { ...prSummary(7, { ...LOCAL }), shared: withLocalPart(sharedOf(ci), LOCAL, SELF) };
    const summary = {
      ...branchSummary('feature/a', { ...LOCAL }),
      pr: { number: 7, url: 'https://github.com/acme/widgets/pull/7', source: 'gh' as const, repo: 'acme/widgets' },
      pr_summary: pr,
    };
    const m = statusBarModel(facts(summary), quiet);
    assert.equal(m.text, '$(git-pull-request) #7 · 6.1K tok · $1.01');
    assert.match(m.tooltip, /\*\*Across 2 machines\*\* \(pull request #7\)/);
    assert.doesNotMatch(m.tooltip, /\[x\]\(command:y\)/);
  });

  test('a sync error is one line in the tooltip; the local figures stay', () => {
    const sync: SyncState = {
      state: 'error',
      message: 'the PostgreSQL server (test@127.0.0.1:1/db) refused the connection',
      machine_id: 'me',
      machine_name: 'laptop',
      last_push_at: null,
      last_pull_at: null,
      pending_sessions: 3,
      retry_at: NOW + 20_000,
    };
    const m = statusBarModel(facts(), { ...quiet, sync });
    assert.equal(m.text, '$(hubot) feature/a · 1.1K tok · $0.0060');
    assert.match(
      m.tooltip,
      /\n\nSync with other machines: error\\: the PostgreSQL server .* refused the connection; retrying in \d+ s \\\(local views are not affected\\\)$/,
    );
  });
});

function remote(id: string, machine: string, over: Partial<RemoteSession> = {}): RemoteSession {
  return {
    machine_id: machine,
    machine_name: machine === 'other' ? 'ci-runner' : machine,
    last_push_at: null,
    session_id: id,
    parent_session_id: null,
    framework: 'claude_code',
    title: null,
    first_started_at: '2026-11-25T09:00:00.000Z',
    last_activity: '2026-11-25T10:00:00.000Z',
    last_ended_at: null,
    status: 'done',
    repo: 'acme/widgets',
    git_branch: 'feature/a',
    github_pr: null,
    model: 'claude-opus-5-5',
    ...ZERO,
    tokens_input: 2000,
    tokens_output: 200,
    cost_usd: 0.012,
    ...over,
  };
}

describe('Sessions tree: Other machines', () => {
  const ws = { git_dir: '/r/.git', branch: 'feature/a', toplevel: '/r' };

  test('no group when there are no other machines (sync off): the tree is what it was', () => {
    const m = new SessionsTreeModel();
    m.sessions = [sessionView('local-1', { local_git_dir: '/r/.git', git_branch: 'feature/a' })];
    m.render('branch', ws, {}, NOW);
    assert.ok(!m.children().some((n) => n.kind === 'group' && n.id === 'other-machines'));
  });

  test('groups other machines by name, then by repository; each session marked with its machine, no local commands', () => {
    const m = new SessionsTreeModel();
    m.sessions = [sessionView('same-id', { local_git_dir: '/r/.git', git_branch: 'feature/a' })];
    m.setRemote([
      remote('r1', 'other'),
      remote('r1-sub', 'other', { parent_session_id: 'r1' }),
      remote('same-id', 'box2', { machine_name: 'dev-box', repo: 'acme/gears', status: 'wait' }),
    ]);
    m.render('branch', ws, {}, NOW);
    const others = m.children().at(-1) as GroupNode;
    assert.equal(others.id, 'other-machines');
    assert.equal(m.item(others, NOW).label, 'Other machines');
    assert.equal(m.item(others, NOW).description, '2 machines');
    assert.deepEqual(
      others.children.map((g) => [(g as GroupNode).label, (g as GroupNode).description, m.item(g, NOW).icon.id]),
      [
        ['ci-runner', '1 session', 'vm'],
        ['dev-box', '1 session', 'vm'],
      ],
    );
    const ci = others.children[0] as GroupNode;
    const repo = ci.children[0] as GroupNode;
    assert.equal(repo.label, 'widgets');
    const s = repo.children[0] as SessionNode;
    assert.equal(s.children[0].session.session_id, 'r1-sub');
    const item = m.item(s, NOW);
    assert.equal(item.contextValue, 'agentHandler.remoteSession');
    assert.equal(item.icon.id, 'vm');
    assert.match(item.description ?? '', /^on ci-runner · 2h ago · 2\.2K tok · \$0\.01$/);
    // The same session id locally and on another machine: two tree items, two ids; the local one is nodeFor's.
    const box = ((others.children[1] as GroupNode).children[0] as GroupNode).children[0] as SessionNode;
    assert.notEqual(m.item(box, NOW).id, 'session:same-id');
    assert.equal(m.nodeFor('same-id')?.session.machine_id, null);
    // Another machine's waiting session is not this window's to answer: no Needs you group for it.
    assert.ok(!m.children().some((n) => n.kind === 'group' && n.id === 'needs-you'));
    assert.match(m.tooltip(s) ?? '', /\| Machine \| ci\\-runner \|/);
  });
});

describe('sync state and settings helpers', () => {
  const base: SyncState = {
    state: 'ok',
    message: null,
    machine_id: 'me',
    machine_name: 'laptop',
    last_push_at: '2026-11-25T11:00:00.000Z',
    last_pull_at: null,
    pending_sessions: 0,
    retry_at: null,
  };

  test('one line per state, never more', () => {
    assert.equal(syncStateLine({ ...base, state: 'off' }), 'off');
    assert.equal(syncStateLine(base), 'on as laptop; last push 2026-11-25T11:00:00.000Z; other machines not read yet');
    assert.equal(
      syncStateLine({ ...base, state: 'error', message: 'disk full', retry_at: NOW + 9_600 }, NOW),
      'error: disk full; retrying in 10 s (local views are not affected)',
    );
  });

  test('Diagnostics names the sync state only once sync was turned on', () => {
    const d = {
      files: 0,
      files_deleted: 0,
      sessions: 0,
      requests: 0,
      lines_skipped: 0,
      per_agent: [],
      files_with_skips: [],
      unpriced_models: [],
    };
    assert.doesNotMatch(formatDiagnostics(d), /Sync:/);
    assert.match(formatDiagnostics({ ...d, sync: base }), /\nSync: {12}on as laptop;/);
  });

  test('a password in the connection text is noticed (URL or key/value), without reading it out', () => {
    assert.equal(connectionHasPassword('postgresql://u:secret@h:5432/db'), true);
    assert.equal(connectionHasPassword('postgres://u@h/db'), false);
    assert.equal(connectionHasPassword('host=h user=u password=secret'), true);
    assert.equal(connectionHasPassword('host=h user=u'), false);
  });

  test("the server's request for a password is told from a wrong one", () => {
    assert.equal(
      asksForPassword(new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), false),
      true,
    );
    assert.equal(
      asksForPassword(new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a non-empty string'), false),
      true,
    );
    assert.equal(
      asksForPassword(Object.assign(new Error('password authentication failed'), { code: '28P01' }), false),
      true,
    );
    assert.equal(
      asksForPassword(Object.assign(new Error('password authentication failed'), { code: '28P01' }), true),
      false,
    );
    assert.equal(
      asksForPassword(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), false),
      false,
    );
  });
});
