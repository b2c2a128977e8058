/** The Sessions view filter: agent, status, date, text; parents kept for matching subagents. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeFilter, filterSessions, isEmptyFilter } from '../../src/core/filter';
import type { SessionView } from '../../src/core/store/queries';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');

function s(id: string, over: Partial<SessionView>): SessionView {
  return {
    session_id: id,
    parent_session_id: null,
    framework: 'claude_code',
    status: 'done',
    title: id,
    first_user_message: null,
    last_user_message: null,
    git_branch: 'main',
    cwd: '/w',
    last_activity: '2026-11-25T11:00:00.000Z',
    subagent_ids: [],
    ...over,
  } as SessionView;
}

const sessions = [
  s('p', { title: 'Refactor parser', subagent_ids: ['c'], status: 'busy' }),
  s('c', { parent_session_id: 'p', title: 'Run the tests', last_activity: '2026-11-10T00:00:00.000Z' }),
  s('x', {
    framework: 'codex',
    title: 'Fix login',
    git_branch: 'feature/login',
    last_activity: '2026-11-20T00:00:00.000Z',
  }),
];
const ids = (f: Parameters<typeof filterSessions>[1]) => filterSessions(sessions, f, NOW).map((v) => v.session_id);

describe('filter', () => {
  test('each part, and their combination', () => {
    assert.deepEqual(ids({}), ['p', 'c', 'x']);
    assert.deepEqual(ids({ agents: ['codex'] }), ['x']);
    assert.deepEqual(ids({ statuses: ['busy'] }), ['p', 'c']); // the parent matches: its subagent comes along
    assert.deepEqual(ids({ text: 'TESTS' }), ['p', 'c']); // the subagent matches: its parent is kept
    assert.deepEqual(ids({ text: 'login' }), ['x']);
    // 25 Nov 12:00 − 7 days = 18 Nov 12:00: p (25 Nov) and x (20 Nov) are in; c (10 Nov) only as p's subagent.
    assert.deepEqual(ids({ days: 7 }), ['p', 'c', 'x']);
    assert.deepEqual(ids({ days: 1 }), ['p', 'c']);
    assert.deepEqual(ids({ days: 7, agents: ['claude_code'], text: 'nothing like it' }), []);
  });

  test('empty filter and description', () => {
    assert.equal(isEmptyFilter({ text: '  ' }), true);
    assert.equal(isEmptyFilter({ days: 7 }), false);
    assert.equal(
      describeFilter(
        { agents: ['claude_code'], statuses: ['busy', 'wait'], days: 7, text: 'parser' },
        () => 'Claude Code',
      ),
      'Claude Code, busy+wait, 7 days, “parser”',
    );
  });
});
