/** Session Details: the splits, prompt timeline, tool calls by name, errors and compactions; the page text. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderSessionDetails } from '../../src/core/detailsText';
import { sessionDetails } from '../../src/core/store/details';
import { assertUsd, assistant, indexHome, mustGet, system, tempDir, userPrompt, writeTranscript } from './helpers';

const D = 'dddddddd-0000-4000-8000-0000000000d4';

describe('session details', () => {
  test('splits, prompts, tools, errors, compactions of a hand-made session', async () => {
    const h = await tempDir('ah-details-');
    await writeTranscript(h, `${D}.jsonl`, [
      userPrompt({ session: D, ts: '2026-11-20T10:00:00.000Z', text: 'first prompt\nsecond line of it' }),
      // claude-opus-5-5 at $4/M in, $20/M out: 1000 in + 100 out = $0.006 on main.
      assistant({
        session: D,
        ts: '2026-11-20T10:00:05.000Z',
        msg: 'msg_d1',
        req: 'req_d1',
        usage: { in: 1000, out: 100 },
        stop: 'tool_use',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }],
      }),
      // 2000 in = $0.008 on feature/x; two tools in one response.
      assistant({
        session: D,
        ts: '2026-11-20T10:01:00.000Z',
        msg: 'msg_d2',
        req: 'req_d2',
        usage: { in: 2000 },
        branch: 'feature/x',
        stop: 'tool_use',
        content: [
          { type: 'tool_use', id: 'toolu_2', name: 'Bash', input: {} },
          { type: 'tool_use', id: 'toolu_3', name: 'Read', input: {} },
        ],
      }),
      system({ session: D, ts: '2026-11-20T10:02:00.000Z', subtype: 'api_error' }),
      system({ session: D, ts: '2026-11-20T10:03:00.000Z', subtype: 'compact_boundary' }),
      userPrompt({ session: D, ts: '2026-11-20T10:04:00.000Z', text: 'again' }),
    ]);
    const { store, sessions } = await indexHome(h);
    const d = sessionDetails(store, D);
    assert.deepEqual(
      d.by_branch.map((r) => [r.key, r.requests, r.tokens_input + r.tokens_output]),
      [
        ['feature/x', 1, 2000],
        ['main', 1, 1100],
      ],
    );
    assertUsd(d.by_branch[0]!.cost_usd, 0.008);
    assertUsd(d.by_branch[1]!.cost_usd, 0.006);
    assert.deepEqual(
      d.by_model.map((r) => [r.key, r.requests]),
      [['claude-opus-5-5', 2]],
    );
    assertUsd(d.by_model[0]!.cost_usd, 0.014);
    assert.deepEqual(
      d.prompts.map((p) => p.text),
      ['first prompt\nsecond line of it', 'again'],
    );
    assert.deepEqual(d.tools, [
      { name: 'Bash', calls: 2 },
      { name: 'Read', calls: 1 },
    ]);
    assert.deepEqual(d.marks, [
      { kind: 'api_error', ts: '2026-11-20T10:02:00.000Z' },
      { kind: 'compaction', ts: '2026-11-20T10:03:00.000Z' },
    ]);

    const text = renderSessionDetails(mustGet(sessions, D), d);
    assert.match(text, /^first prompt second line of it\n/); // the title
    assert.match(text, /session_id +dddddddd-0000-4000-8000-0000000000d4/);
    assert.match(text, /feature\/x +1 req +2K tok +\$0\.0080\n/);
    assert.match(text, /2026-11-20 10:00:00 +first prompt\n/); // first line only
    assert.match(text, /Tool calls by name \(3\)\n-+\nBash +2\nRead +1\n/);
    assert.match(text, /API errors \(1\)\n-+\n2026-11-20T10:02:00.000Z\n/);
    assert.match(text, /Compactions \(1\)/);
  });
});
