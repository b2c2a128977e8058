/**
 * One test per accounting rule (docs/accounting.md), each on small hand-made transcripts written
 * into a temp HOME and indexed by the real Indexer into a sql.js store on disk. Every expected
 * number is worked out in a comment next to it.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { repoInfo } from '../../src/core/git/repo';
import { priceRequest } from '../../src/core/pricing';
import { all } from '../../src/core/store/sqlite';
import { branchSummary, diagnostics, grandTotal } from '../../src/core/store/queries';
import {
  assertUsd,
  assistant,
  indexHome,
  makeIndexer,
  makeRepo,
  mustGet,
  sessionsById,
  system,
  tempDir,
  userPrompt,
  writeTranscript,
  keyNames,
} from './helpers';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const P = 'ffffffff-0000-4000-8000-00000000000f';
const F = 'aaaaaaaa-0000-4000-8000-0000000000f0';

const t = (hms: string) => `2026-11-20T${hms}Z`;

async function newHome(): Promise<string> {
  return path.join(await tempDir('ah-rules-'), 'home');
}

describe('accounting rules', () => {
  test('streamed lines sharing message.id + requestId count once, with the LARGEST line (not the first, not the last)', async () => {
    const home = await newHome();
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'go' }),
      // The first streamed line is a partial one (stop_reason null, output 1).
      assistant({
        session: A,
        ts: t('10:00:01.000'),
        msg: 'msg_s',
        req: 'req_s',
        usage: { in: 10, out: 1, cr: 100 },
        stop: null,
      }),
      // The complete one: the largest.
      assistant({ session: A, ts: t('10:00:01.100'), msg: 'msg_s', req: 'req_s', usage: { in: 10, out: 50, cr: 100 } }),
      // A later, smaller line of the same response must not replace it.
      assistant({ session: A, ts: t('10:00:01.200'), msg: 'msg_s', req: 'req_s', usage: { in: 10, out: 20, cr: 100 } }),
    ]);
    const { sessions, store } = await indexHome(home);
    const s = mustGet(sessions, A);
    // Kept: in 10, out 50, cache read 100 (first would be out 1, last out 20, a sum out 71).
    assert.equal(s.api_request_count, 1);
    assert.equal(s.tokens_input, 10);
    assert.equal(s.tokens_output, 50);
    assert.equal(s.tokens_cache_read, 100);
    // 10*4 + 50*20 + 100*0.2 = 40 + 1000 + 20 = 1060 µ$ (claude-opus-5-5)
    assertUsd(s.cost_usd, 0.00106);
    assert.equal(grandTotal(store).requests, 1);
  });

  describe('a request copied into a fork counts once, for the session whose first record is older', () => {
    // P started at 10:00:00 and made two requests. F is a fork made at 10:05: it begins with its own
    // record, then carries P's history with the same message.id + requestId, one copy 2 ms EARLIER
    // than P's line and one with an EQUAL timestamp (as Claude Code 2.1.332 forks do), then its own
    // request. F's name sorts before P's, so path order would pick the wrong owner.
    const parent = [
      userPrompt({ session: P, ts: t('10:00:00.000'), text: 'original question' }),
      assistant({ session: P, ts: t('10:00:01.000'), msg: 'msg_1', req: 'req_1', usage: { in: 100, out: 10 } }),
      userPrompt({ session: P, ts: t('10:00:02.000'), text: 'and then?' }),
      assistant({ session: P, ts: t('10:00:03.000'), msg: 'msg_2', req: 'req_2', usage: { in: 200, out: 20 } }),
    ];
    const fork = [
      {
        type: 'queue-operation',
        operation: 'enqueue',
        timestamp: t('10:05:00.000'),
        sessionId: F,
        content: 'branch off here',
      },
      userPrompt({ session: F, ts: t('10:00:00.000'), text: 'original question' }),
      assistant({ session: F, ts: t('10:00:00.998'), msg: 'msg_1', req: 'req_1', usage: { in: 100, out: 10 } }),
      userPrompt({ session: F, ts: t('10:00:02.000'), text: 'and then?' }),
      assistant({ session: F, ts: t('10:00:03.000'), msg: 'msg_2', req: 'req_2', usage: { in: 200, out: 20 } }),
      userPrompt({ session: F, ts: t('10:05:00.100'), text: 'branch off here' }),
      assistant({ session: F, ts: t('10:05:01.000'), msg: 'msg_3', req: 'req_3', usage: { in: 400, out: 40 } }),
    ];

    test('both files indexed in one pass', async () => {
      const home = await newHome();
      await writeTranscript(home, `${P}.jsonl`, parent);
      await writeTranscript(home, `${F}.jsonl`, fork);
      const { sessions, store } = await indexHome(home);
      const p = mustGet(sessions, P);
      const f = mustGet(sessions, F);
      // P: msg_1 + msg_2 = in 100+200 = 300, out 10+20 = 30
      assert.equal(p.api_request_count, 2);
      assert.equal(p.tokens_input, 300);
      assert.equal(p.tokens_output, 30);
      // F: its own msg_3 only
      assert.equal(f.api_request_count, 1);
      assert.equal(f.tokens_input, 400);
      assert.equal(f.tokens_output, 40);
      // Machine total: 3 requests, in 300 + 400 = 700 (not 1000)
      const g = grandTotal(store);
      assert.equal(g.requests, 3);
      assert.equal(g.tokens_input, 700);
    });

    test('the fork indexed first, the parent later; then the parent deleted', async () => {
      const home = await newHome();
      await writeTranscript(home, `${F}.jsonl`, fork);
      const ix = await indexHome(home);
      // Alone, F owns everything it holds: 100 + 200 + 400 = 700 in 3 requests.
      assert.equal(mustGet(ix.sessions, F).api_request_count, 3);
      assert.equal(mustGet(ix.sessions, F).tokens_input, 700);

      const parentFile = await writeTranscript(home, `${P}.jsonl`, parent);
      await ix.indexer.scanAll();
      let sessions = sessionsById(ix.store);
      assert.equal(mustGet(sessions, P).tokens_input, 300);
      assert.equal(mustGet(sessions, F).tokens_input, 400);
      assert.equal(grandTotal(ix.store).tokens_input, 700);

      // The parent's transcript is gone (retention): present files come before deleted ones, so
      // the copies in F count again for F; P keeps its row, with nothing left that only it holds.
      await fsp.unlink(parentFile);
      await ix.indexer.scanAll();
      sessions = sessionsById(ix.store);
      const p = mustGet(sessions, P);
      assert.equal(p.transcript_available, false);
      assert.equal(p.api_request_count, 0);
      assert.equal(mustGet(sessions, F).tokens_input, 700);
      assert.equal(grandTotal(ix.store).tokens_input, 700);
      assert.equal(grandTotal(ix.store).requests, 3);
    });
  });

  test("progress lines carry a subagent's nested usage: never counted", async () => {
    const home = await newHome();
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'delegate' }),
      assistant({ session: A, ts: t('10:00:01.000'), msg: 'msg_own', req: 'req_own', usage: { in: 10, out: 5 } }),
      {
        parentUuid: null,
        isSidechain: false,
        type: 'progress',
        cwd: '/nonexistent',
        sessionId: A,
        gitBranch: 'main',
        timestamp: t('10:00:02.000'),
        toolUseID: 'toolu_agent',
        parentToolUseID: 'toolu_agent',
        data: {
          type: 'agent_progress',
          message: {
            type: 'assistant',
            requestId: 'req_nested',
            message: {
              id: 'msg_nested',
              model: 'claude-opus-5-5',
              role: 'assistant',
              content: [{ type: 'tool_use', id: 'toolu_nested', name: 'Bash', input: {} }],
              usage: {
                input_tokens: 999,
                output_tokens: 99,
                cache_read_input_tokens: 9999,
                cache_creation_input_tokens: 0,
              },
            },
          },
          normalizedMessages: [],
        },
      },
    ]);
    const s = mustGet((await indexHome(home)).sessions, A);
    // Only msg_own: in 10, out 5; the nested 999/99/9999 and its tool_use are not this session's.
    assert.equal(s.api_request_count, 1);
    assert.equal(s.tokens_input, 10);
    assert.equal(s.tokens_output, 5);
    assert.equal(s.tokens_cache_read, 0);
    assert.equal(s.tool_call_count, 0);
  });

  test("a sidechain copy of a main-chain message.id does not count (side questions re-log the parent's messages)", async () => {
    const home = await newHome();
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'main question' }),
      assistant({
        session: A,
        ts: t('10:00:01.000'),
        msg: 'msg_main',
        req: 'req_main',
        usage: { in: 100, out: 10, cr: 1000 },
      }),
      // In the main file too: a sidechain line re-logging msg_main under another requestId.
      assistant({
        session: A,
        ts: t('10:00:05.000'),
        msg: 'msg_main',
        req: 'req_inline',
        sidechain: true,
        usage: { in: 100, out: 10, cr: 1000 },
      }),
    ]);
    const side = { session: A, sidechain: true, agentId: 'aside_question-1' };
    await writeTranscript(home, `${A}/subagents/agent-aside_question-1.jsonl`, [
      userPrompt({ ...side, ts: t('10:00:04.000'), text: 'a side question' }),
      // The parent's message again, with a new requestId and the parent's cache-read usage.
      assistant({
        ...side,
        ts: t('10:00:04.100'),
        msg: 'msg_main',
        req: 'req_side',
        usage: { in: 100, out: 10, cr: 1000 },
      }),
      // The side question's own answer.
      assistant({ ...side, ts: t('10:00:04.200'), msg: 'msg_side_own', req: 'req_side_own', usage: { in: 7, out: 3 } }),
    ]);
    const { sessions, store } = await indexHome(home);
    const a = mustGet(sessions, A);
    const sub = mustGet(sessions, 'agent-aside_question-1');
    // A: msg_main once (in 100, out 10, cr 1000); the inline sidechain copy is dropped.
    assert.equal(a.api_request_count, 1);
    assert.equal(a.tokens_input, 100);
    assert.equal(a.tokens_cache_read, 1000);
    // The side question: only its own msg_side_own (in 7, out 3).
    assert.equal(sub.parent_session_id, A);
    assert.equal(sub.api_request_count, 1);
    assert.equal(sub.tokens_input, 7);
    assert.equal(sub.tokens_cache_read, 0);
    // Rollup: in 100 + 7 = 107, out 10 + 3 = 13, cache read 1000 (not 3000)
    assert.equal(a.rollup.tokens_input, 107);
    assert.equal(a.rollup.tokens_output, 13);
    assert.equal(a.rollup.tokens_cache_read, 1000);
    assert.equal(grandTotal(store).requests, 2);
  });

  test('a key found as a sidechain row in an older file and on a main chain in a newer one counts once, on the main chain', async () => {
    const home = await newHome();
    // P (older) ran a subagent whose response K = (msg_k, req_k) is a sidechain row in its file;
    // B (newer) carries K on its main chain. K must count exactly once: not twice, not zero times.
    await writeTranscript(home, `${P}.jsonl`, [
      userPrompt({ session: P, ts: t('09:00:00.000'), text: 'older' }),
      assistant({ session: P, ts: t('09:00:01.000'), msg: 'msg_p', req: 'req_p', usage: { in: 1 } }),
    ]);
    await writeTranscript(home, `${P}/subagents/agent-k1.jsonl`, [
      userPrompt({ session: P, ts: t('09:01:00.000'), text: 'task', sidechain: true, agentId: 'k1' }),
      assistant({
        session: P,
        ts: t('09:01:01.000'),
        msg: 'msg_k',
        req: 'req_k',
        sidechain: true,
        agentId: 'k1',
        usage: { in: 30 },
      }),
    ]);
    await writeTranscript(home, `${B}.jsonl`, [
      userPrompt({ session: B, ts: t('09:30:00.000'), text: 'newer' }),
      assistant({ session: B, ts: t('09:30:01.000'), msg: 'msg_k', req: 'req_k', usage: { in: 30 } }),
    ]);
    const { sessions, store } = await indexHome(home);
    // 1 (msg_p) + 30 (msg_k once) = 31 in 2 requests
    assert.equal(grandTotal(store).tokens_input, 31);
    assert.equal(grandTotal(store).requests, 2);
    assert.equal(mustGet(sessions, B).tokens_input, 30);
    assert.equal(mustGet(sessions, 'agent-k1').tokens_input, 0);
  });

  test('requestless lines: deduplicated by message.id within one session only', async () => {
    const home = await newHome();
    // A gateway that reuses one message id and writes no requestId.
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'via gateway' }),
      assistant({ session: A, ts: t('10:00:01.000'), msg: 'msg_gw', req: null, usage: { in: 50, out: 1 }, stop: null }),
      assistant({ session: A, ts: t('10:00:01.500'), msg: 'msg_gw', req: null, usage: { in: 50, out: 40 } }),
    ]);
    await writeTranscript(home, `${B}.jsonl`, [
      userPrompt({ session: B, ts: t('11:00:00.000'), text: 'also via gateway' }),
      assistant({ session: B, ts: t('11:00:01.000'), msg: 'msg_gw', req: null, usage: { in: 60, out: 6 } }),
    ]);
    const { sessions, store } = await indexHome(home);
    // A: the two streamed lines are one response, the larger kept: in 50, out 40.
    assert.equal(mustGet(sessions, A).api_request_count, 1);
    assert.equal(mustGet(sessions, A).tokens_output, 40);
    // B: same message id, other session: its own request, counted too.
    assert.equal(mustGet(sessions, B).api_request_count, 1);
    assert.equal(mustGet(sessions, B).tokens_input, 60);
    // 2 requests, in 50 + 60 = 110, out 40 + 6 = 46
    const g = grandTotal(store);
    assert.equal(g.requests, 2);
    assert.equal(g.tokens_input, 110);
    assert.equal(g.tokens_output, 46);
  });

  test('a subagent rolls up into its parent once, and into branch totals once', async () => {
    const repo = await makeRepo('feature/a');
    const info = await repoInfo(repo);
    assert.ok(info);
    const home = await newHome();
    const env = { cwd: repo, branch: 'feature/a' };
    await writeTranscript(
      home,
      `${P}.jsonl`,
      [
        userPrompt({ ...env, session: P, ts: t('10:00:00.000'), text: 'delegate' }),
        assistant({
          ...env,
          session: P,
          ts: t('10:00:01.000'),
          msg: 'msg_p',
          req: 'req_p',
          usage: { in: 100, out: 10 },
        }),
        // The parent's progress line embeds the subagent's response (same ids): not counted here.
        {
          type: 'progress',
          isSidechain: false,
          sessionId: P,
          cwd: repo,
          gitBranch: 'feature/a',
          timestamp: t('10:00:02.500'),
          data: {
            message: {
              type: 'assistant',
              requestId: 'req_sub',
              message: { id: 'msg_sub', model: 'claude-opus-5-5', usage: { input_tokens: 20, output_tokens: 2 } },
            },
          },
        },
      ],
      repo,
    );
    const sub = { ...env, session: P, sidechain: true, agentId: 'x1' };
    await writeTranscript(
      home,
      `${P}/subagents/agent-x1.jsonl`,
      [
        userPrompt({ ...sub, ts: t('10:00:02.000'), text: 'the task' }),
        assistant({ ...sub, ts: t('10:00:02.400'), msg: 'msg_sub', req: 'req_sub', usage: { in: 20, out: 2 } }),
      ],
      repo,
    );
    const { sessions, store } = await indexHome(home);
    const p = mustGet(sessions, P);
    const a = mustGet(sessions, 'agent-x1');
    assert.equal(a.parent_session_id, P);
    assert.deepEqual(p.subagent_ids, ['agent-x1']);
    // Own: P in 100 out 10; agent in 20 out 2. Costs (opus-5-5): P 100*4 + 10*20 = 600 µ$, agent 20*4 + 2*20 = 120 µ$.
    assert.equal(p.tokens_input, 100);
    assert.equal(a.tokens_input, 20);
    assertUsd(p.cost_usd, 0.0006);
    assertUsd(a.cost_usd, 0.00012);
    // Rollup: 100 + 20 = 120, 10 + 2 = 12, 600 + 120 = 720 µ$
    assert.equal(p.rollup.tokens_input, 120);
    assert.equal(p.rollup.tokens_output, 12);
    assertUsd(p.rollup.cost_usd, 0.00072);
    // Branch: every counted request on feature/a in this repository, each once: 2 requests, in 120.
    const b = branchSummary(store, info.git_dir, 'feature/a', [...sessions.values()]);
    assert.equal(b.requests, 2);
    assert.equal(b.tokens_input, 120);
    assert.equal(b.tokens_output, 12);
    assertUsd(b.cost_usd, 0.00072);
    assert.equal(b.sessions, 2);
    assert.deepEqual(
      b.by_session.map((x) => [x.session_id, x.tokens_input, x.parent_session_id]).sort(),
      [
        [P, 100, null],
        ['agent-x1', 20, P],
      ].sort(),
    );
    assert.equal(grandTotal(store).tokens_input, 120);
  });

  test('per-request branch: a session that switched branch counts on each branch only what it asked there; "HEAD" and "" are own buckets', async () => {
    const repo = await makeRepo('main');
    const info = await repoInfo(repo);
    assert.ok(info);
    const home = await newHome();
    const line = (branch: string, n: number, tokens: number) =>
      assistant({
        session: A,
        cwd: repo,
        branch,
        ts: t(`10:00:0${n}.000`),
        msg: `msg_${n}`,
        req: `req_${n}`,
        usage: { in: tokens },
      });
    await writeTranscript(
      home,
      `${A}.jsonl`,
      [
        userPrompt({ session: A, cwd: repo, branch: 'main', ts: t('10:00:00.000'), text: 'work' }),
        line('main', 1, 100),
        line('feature/x', 2, 200),
        line('HEAD', 3, 400), // detached HEAD
        line('', 4, 800), // outside a repository at that moment
        line('feature/x', 5, 1600),
      ],
      repo,
    );
    const { sessions, store } = await indexHome(home);
    const all = [...sessions.values()];
    const on = (branch: string) => branchSummary(store, info.git_dir, branch, all);
    assert.deepEqual([on('main').tokens_input, on('main').requests], [100, 1]);
    // feature/x: 200 + 1600 = 1800 in 2 requests
    assert.deepEqual([on('feature/x').tokens_input, on('feature/x').requests], [1800, 2]);
    assert.deepEqual([on('HEAD').tokens_input, on('HEAD').requests], [400, 1]);
    assert.deepEqual([on('').tokens_input, on('').requests], [800, 1]);
    assert.equal(on('feature/y').requests, 0);
    // The buckets add up to the session: 100 + 1800 + 400 + 800 = 3100
    const s = mustGet(sessions, A);
    assert.equal(s.tokens_input, 3100);
    // The session's branch is the one of its last record.
    assert.equal(s.git_branch, 'feature/x');
  });

  test('<synthetic> API error rows are API errors, not requests or tokens', async () => {
    const home = await newHome();
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'hello' }),
      assistant({ session: A, ts: t('10:00:01.000'), msg: 'msg_ok', req: 'req_ok', usage: { in: 10, out: 1 } }),
      system({
        session: A,
        ts: t('10:00:02.000'),
        subtype: 'api_error',
        extra: { error: { status: 529 }, retryAttempt: 1, maxRetries: 10 },
      }),
      {
        ...assistant({
          session: A,
          ts: t('10:00:03.000'),
          msg: 'msg_err',
          req: 'req_err',
          model: '<synthetic>',
          usage: { in: 0, out: 0 },
          content: [{ type: 'text', text: 'API Error: 429 rate_limit_error' }],
          stop: 'stop_sequence',
        }),
        isApiErrorMessage: true,
        error: 'rate_limit',
        apiErrorStatus: 429,
      },
    ]);
    const s = mustGet((await indexHome(home)).sessions, A);
    // One system/api_error (a retry) + one isApiErrorMessage row = 2 errors.
    assert.equal(s.api_error_count, 2);
    // Requests and tokens: msg_ok only.
    assert.equal(s.api_request_count, 1);
    assert.equal(s.tokens_input, 10);
    assert.equal(s.unpriced_requests, 0);
    // '<synthetic>' is never the session's model.
    assert.equal(s.model, 'claude-opus-5-5');
  });

  test('cache write: the cache_creation split (5m + 1h) or the flat field, whichever is larger; 1h priced apart', async () => {
    const home = await newHome();
    const req = (n: number, u: Parameters<typeof assistant>[0]['usage']) =>
      assistant({ session: A, ts: t(`10:00:0${n}.000`), msg: `msg_${n}`, req: `req_${n}`, usage: u });
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'cache' }),
      req(1, { cw: 0, split: { m5: 100, h1: 50 } }), // flat 0 (the old bug), split 150 → 150, of which 1h 50
      req(2, { cw: 200 }), // no split object → 200
      req(3, { cw: 300, split: { m5: 300, h1: 0 } }), // both agree → 300, not 600
      req(4, { cw: 80, split: { m5: 30, h1: 20 } }), // flat larger than split 50 → 80, of which 1h 20
    ]);
    const { sessions, store } = await indexHome(home);
    const s = mustGet(sessions, A);
    // 150 + 200 + 300 + 80 = 730
    assert.equal(s.tokens_cache_write, 730);
    const rows = all<{ cache_write: number; cache_write_1h: number }>(
      store.db,
      'SELECT cache_write, cache_write_1h FROM usage ORDER BY ts',
    );
    assert.deepEqual(
      rows.map((r) => [r.cache_write, r.cache_write_1h]),
      [
        [150, 50],
        [200, 0],
        [300, 0],
        [80, 20],
      ],
    );
    // claude-opus-5-5: 5m writes $5/Mtok, 1h writes $8/Mtok:
    // 1: 100*5 + 50*8 = 900; 2: 200*5 = 1000; 3: 300*5 = 1500; 4: 60*5 + 20*8 = 460 → 3860 µ$
    assertUsd(s.cost_usd, 0.00386);
  });

  test('an unknown model is unpriced: counted in unpriced_requests, never as $0', async () => {
    const home = await newHome();
    const noModel = assistant({ session: A, ts: t('10:00:03.000'), msg: 'msg_3', req: 'req_3', usage: { in: 1000 } });
    delete (noModel.message as Record<string, unknown>).model;
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'price me' }),
      assistant({
        session: A,
        ts: t('10:00:01.000'),
        msg: 'msg_1',
        req: 'req_1',
        model: 'gpt-fake-9000',
        usage: { in: 1000, out: 100 },
      }),
      assistant({ session: A, ts: t('10:00:02.000'), msg: 'msg_2', req: 'req_2', usage: { in: 1000 } }),
      noModel,
    ]);
    const { sessions, store } = await indexHome(home);
    const s = mustGet(sessions, A);
    assert.equal(s.api_request_count, 3);
    assert.equal(s.tokens_input, 3000); // tokens are counted whatever the price
    // Only msg_2 is priced: 1000 * $4/Mtok = $0.004. The other two are flagged, not $0.
    assertUsd(s.cost_usd, 0.004);
    assert.equal(s.unpriced_requests, 2);
    assert.equal(s.rollup.unpriced_requests, 2);
    const costs = all<{ dedup_key: string; cost_usd: number | null; priced: number }>(
      store.db,
      'SELECT hex(dedup_hash) AS dedup_key, cost_usd, priced FROM usage ORDER BY ts',
    );
    const name = keyNames('msg_1:req_1', 'msg_2:req_2', 'msg_3:req_3');
    assert.deepEqual(
      costs.map((r) => [name(r.dedup_key), r.cost_usd === null ? null : Math.round(r.cost_usd * 1e6), r.priced]),
      [
        ['msg_1:req_1', null, 0],
        ['msg_2:req_2', 4000, 1],
        ['msg_3:req_3', null, 0],
      ],
    );
    assert.deepEqual(
      diagnostics(store).unpriced_models.sort((x, y) => x.model.localeCompare(y.model)),
      [
        { model: 'gpt-fake-9000', requests: 1 },
        { model: 'unknown', requests: 1 },
      ],
    );
    const tokens = { input: 1000, output: 100, cache_read: 0, cache_write: 0, cache_write_1h: 0 };
    assert.deepEqual(
      priceRequest({ framework: 'claude_code', model: 'gpt-fake-9000', tokens, ts: t('10:00:01.000') }),
      {
        cost_usd: null,
        priced: false,
        rule: 'no price for gpt-fake-9000',
      },
    );
    assert.equal(priceRequest({ framework: 'claude_code', model: null, tokens, ts: null }).priced, false);
    // A request with no tokens costs nothing, whatever its model.
    assert.deepEqual(
      priceRequest({
        framework: 'claude_code',
        model: 'gpt-fake-9000',
        tokens: { ...tokens, input: 0, output: 0 },
        ts: null,
      }).cost_usd,
      0,
    );
  });

  test("the agent's own cost-state figure is kept apart, for comparison: the last one wins", async () => {
    const home = await newHome();
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'cost' }),
      assistant({ session: A, ts: t('10:00:01.000'), msg: 'msg_1', req: 'req_1', usage: { in: 1000 } }),
      { type: 'cost-state', sessionId: A, totalCostUSD: 0.5, totalLinesAdded: 3, totalLinesRemoved: 1 },
      { type: 'cost-state', sessionId: A, totalCostUSD: 0.25, totalLinesAdded: 4, totalLinesRemoved: 2 },
    ]);
    const s = mustGet((await indexHome(home)).sessions, A);
    assert.equal(s.agent_cost_usd, 0.25);
    assert.equal(s.agent_lines_added, 4);
    assert.equal(s.agent_lines_removed, 2);
    // Our cost stays ours: 1000 * $4/Mtok.
    assertUsd(s.cost_usd, 0.004);
  });

  test('the same rows from a second scan are not counted again', async () => {
    const home = await newHome();
    await writeTranscript(home, `${A}.jsonl`, [
      userPrompt({ session: A, ts: t('10:00:00.000'), text: 'twice' }),
      assistant({ session: A, ts: t('10:00:01.000'), msg: 'msg_1', req: 'req_1', usage: { in: 5 } }),
    ]);
    const ix = await indexHome(home);
    const again = makeIndexer(ix.store, home);
    await again.scanAll();
    await again.scanAll();
    assert.equal(mustGet(sessionsById(ix.store), A).tokens_input, 5);
    assert.equal(grandTotal(ix.store).requests, 1);
  });
});
