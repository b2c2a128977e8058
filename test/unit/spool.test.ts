/**
 * The spool adapter (src/core/sources/spool.ts): the lines our hook script (media/hook-spool.js)
 * and the telemetry receiver append to `<global storage>/spool/`, read like a transcript but giving
 * only live facts about sessions other adapters own. The hooks replayed end to end against real
 * Claude Code payloads are in hooks.test.ts, the facts' fold in status terms there too.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { hookStatus, parseSpoolLine, spoolAdapter } from '../../src/core/sources/spool';

const AT = '2026-11-25T10:00:00.000Z';
const hookLine = (hook: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, agent: 'claude', received_at: AT, ppid: 4242, ppid_started_at_ms: 1_000, hook, ...extra });

describe('spool: files and roots', () => {
  test('the one root is the spool folder, when there is one', () => {
    assert.deepEqual(spoolAdapter.roots({ home: '/h', env: {}, spoolDir: '/store/spool' }), ['/store/spool']);
    assert.deepEqual(spoolAdapter.roots({ home: '/h', env: {} }), []);
  });

  test("classify: an agent's `<agent>-hooks.jsonl` and the receiver's `otel-logs.jsonl`, right in the folder; nothing else", () => {
    const root = path.join('/store', 'spool');
    assert.equal(
      spoolAdapter.classify(root, path.join(root, 'claude-hooks.jsonl'))?.path,
      path.join(root, 'claude-hooks.jsonl'),
    );
    assert.equal(spoolAdapter.classify(root, path.join(root, 'otel-logs.jsonl'))?.session_id, null);
    assert.equal(spoolAdapter.classify(root, path.join(root, 'notes.jsonl')), null);
    assert.equal(spoolAdapter.classify(root, path.join(root, 'old', 'codex-hooks.jsonl')), null);
  });
});

describe('spool: lines', () => {
  test('parseSpoolLine skips lines without a session or a time', () => {
    assert.equal(
      parseSpoolLine('{"v":1,"hook":{"hook_event_name":"Stop"},"received_at":"2026-11-25T00:00:00Z"}'),
      null,
    );
    assert.equal(parseSpoolLine('{"v":1,"hook":{"session_id":"a"}}'), null);
    assert.throws(() => parseSpoolLine('{'));
  });

  test("a hook line is one live event: the session, when, the agent's pid and its start, the status it means", () => {
    assert.deepEqual(
      parseSpoolLine(hookLine({ session_id: 's1', hook_event_name: 'PermissionRequest', tool_name: 'Bash' })),
      [
        {
          kind: 'live',
          ts: AT,
          session_id: 's1',
          source: 'hook',
          event: 'PermissionRequest',
          at_ms: Date.parse(AT),
          pid: 4242,
          process_started_at_ms: 1_000,
          status: 'wait',
          waiting_for: 'permission: Bash',
        },
      ],
    );
    const start = parseSpoolLine(hookLine({ session_id: 's1', hook_event_name: 'SessionStart', source: 'resume' }))![0];
    assert.equal(start.start_source, 'resume');
    // Codex's notify (config.toml) names its thread `thread-id` and ends a turn.
    const notify = parseSpoolLine(hookLine({ 'thread-id': 't1', type: 'agent-turn-complete' }))![0];
    assert.deepEqual([notify.session_id, notify.event, notify.status], ['t1', 'agent-turn-complete', 'idle']);
  });

  test('a telemetry line counts for its session and says no status', () => {
    const line = JSON.stringify({
      source: 'otel',
      received_at: AT,
      otel: { session_id: 's2', event: 'api_request', timestamp: '2026-11-25T09:59:59.000Z' },
    });
    assert.deepEqual(parseSpoolLine(line), [
      {
        kind: 'live',
        ts: '2026-11-25T09:59:59.000Z',
        session_id: 's2',
        source: 'otel',
        event: 'api_request',
        at_ms: Date.parse('2026-11-25T09:59:59.000Z'),
      },
    ]);
  });

  test('hookStatus: the Claude Code and Gemini CLI event names', () => {
    const status = (hook: Record<string, unknown>) => hookStatus(hook);
    for (const name of [
      'UserPromptSubmit',
      'BeforeAgent',
      'PreToolUse',
      'BeforeTool',
      'PostToolUse',
      'AfterTool',
      'PreCompact',
      'PreCompress',
    ]) {
      assert.deepEqual(status({ hook_event_name: name }), { status: 'busy', waiting_for: null }, name);
    }
    assert.deepEqual(
      status({
        hook_event_name: 'Notification',
        notification_type: 'permission_prompt',
        message: 'Claude needs your permission',
      }),
      { status: 'wait', waiting_for: 'Claude needs your permission' },
    );
    assert.deepEqual(
      status({ hook_event_name: 'Notification', notification_type: 'idle_prompt', message: 'waiting for your input' }),
      {},
    );
    assert.deepEqual(status({ hook_event_name: 'Stop' }), { status: 'idle', waiting_for: null });
    assert.deepEqual(status({ hook_event_name: 'AfterAgent' }), { status: 'idle', waiting_for: null });
    assert.deepEqual(status({ hook_event_name: 'SessionEnd' }), { status: 'done', waiting_for: null });
    assert.deepEqual(
      status({ hook_event_name: 'SubagentStop' }),
      {},
      'a subagent stopping leaves the main session as it is',
    );
  });
});
