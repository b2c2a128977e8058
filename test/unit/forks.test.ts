/**
 * Fork lineage from the agents' own marks (docs/accounting.md §2): who owns a request, a prompt, a
 * tool call and an API error that a fork copied from another session. The transcripts are in
 * test/fixtures/claude/forks (its README says what each holds); every expected number is worked out
 * next to it from the fixture's lines.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { sessionDetails } from '../../src/core/store/details';
import { grandTotal } from '../../src/core/store/queries';
import { all } from '../../src/core/store/sqlite';
import { renderSessionDetails } from '../../src/core/detailsText';
import { forkedFromText } from '../../src/core/text';
import {
  CLAUDE_FIXTURES,
  assertUsd,
  assistant,
  encodeCwd,
  fixtureHome,
  indexHome,
  mustGet,
  sessionsById,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const FORKS = path.join(CLAUDE_FIXTURES, 'forks');
const CWD = '/nonexistent/agent-handler-forks';

/** The origin, and its forks (every fork's id sorts before P's: a tie on the first record goes to the fork). */
const P = '9f000000-0000-4000-8000-00000000000f';
const F = '1f000000-0000-4000-8000-0000000000f1';
const O = '2f000000-0000-4000-8000-0000000000f2';
const G = '0f000000-0000-4000-8000-0000000000f3';
const N = '3f000000-0000-4000-8000-0000000000f4';

/** A temp HOME whose Claude project folder holds the named fixture sessions; returns the folder too. */
async function forksHome(...sessions: string[]): Promise<{ home: string; project: string }> {
  const home = path.join(await tempDir('ah-forks-'), 'home');
  const project = path.join(home, '.claude', 'projects', encodeCwd(CWD));
  await fsp.mkdir(project, { recursive: true });
  for (const s of sessions) await addSession(project, s);
  return { home, project };
}

async function addSession(project: string, session: string): Promise<string> {
  const file = path.join(project, `${session}.jsonl`);
  await fsp.copyFile(path.join(FORKS, `${session}.jsonl`), file);
  return file;
}

interface Expected {
  requests: number;
  input: number;
  output: number;
  prompts: number;
  tools: number;
  errors: number;
}

function assertSession(sessions: ReturnType<typeof sessionsById>, id: string, e: Expected, what: string): void {
  const s = mustGet(sessions, id);
  assert.deepEqual(
    {
      requests: s.api_request_count,
      input: s.tokens_input,
      output: s.tokens_output,
      prompts: s.message_count,
      tools: s.tool_call_count,
      errors: s.api_error_count,
    },
    e,
    what,
  );
}

// P alone: req_p1..p4 (in 100+200+300+400 = 1000, out 10+20+30+40 = 100); prompts "plan the
// parser", "now the lexer", "and tests"; tool call toolu_p1; one rate-limit error.
const P_ALL: Expected = { requests: 4, input: 1000, output: 100, prompts: 3, tools: 1, errors: 1 };
// What F copied of P (up to req_p3): 3 requests (in 600, out 60), 2 prompts, toolu_p1, the error.
// F's own turn: req_f1 + req_f2 (in 500+600 = 1100, out 110), "try another way", toolu_f1.
const F_OWN: Expected = { requests: 2, input: 1100, output: 110, prompts: 1, tools: 1, errors: 0 };
const F_WITH_COPIES: Expected = { requests: 5, input: 1700, output: 170, prompts: 3, tools: 2, errors: 1 };

describe("forks: the agent's own copy marks decide who owns copied history", () => {
  test("new-style forkedFrom marks: the copies are the origin's, though the fork's first record ties with the origin's and its id sorts first", async () => {
    const { home } = await forksHome(P, F);
    const { sessions, store } = await indexHome(home);
    assertSession(sessions, P, P_ALL, 'P keeps everything it made');
    assertSession(sessions, F, F_OWN, 'F counts only its own turn');
    // Money follows the requests (claude-opus-5-5: $4 in, $20 out, $0.20 cache read per M):
    // P 1000×4 + 100×20 + (1000+1100+1200+1300)×0.2 = 4000 + 2000 + 920 µ$;
    // F 1100×4 + 110×20 + (1400+1500)×0.2 = 4400 + 2200 + 580 µ$.
    assertUsd(mustGet(sessions, P).cost_usd, 0.00692, 'P cost');
    assertUsd(mustGet(sessions, F).cost_usd, 0.00718, 'F cost');
    assert.equal(mustGet(sessions, F).forked_from_session_id, P);
    assert.equal(mustGet(sessions, P).forked_from_session_id, null);
    // A fork is not a subagent: nothing rolls up into P.
    assert.equal(mustGet(sessions, F).parent_session_id, null);
    assert.equal(mustGet(sessions, P).rollup.tokens_input, 1000);
    // The copies' version (2.1.332) followed by F's own (2.1.340) is not a second run of F.
    assert.equal(mustGet(sessions, F).revival_count, 0);
    // The copied history is still F's text: its first prompt (and title) is the conversation's.
    assert.equal(mustGet(sessions, F).first_user_message, 'plan the parser');
    const g = grandTotal(store);
    assert.equal(g.requests, 6);
    assert.equal(g.tokens_input, 2100);
  });

  test("old-style replay (copied lines keep the origin's sessionId): the copies are the origin's", async () => {
    const { home } = await forksHome(P, O);
    const { sessions, store } = await indexHome(home);
    assertSession(sessions, P, P_ALL, 'P keeps everything it made');
    // O: req_o1 only (in 700, out 70), its prompt "summarize what we did"; no tool call or error of its own.
    assertSession(
      sessions,
      O,
      { requests: 1, input: 700, output: 70, prompts: 1, tools: 0, errors: 0 },
      'O counts only its own turn',
    );
    assert.equal(mustGet(sessions, O).forked_from_session_id, P);
    assert.equal(grandTotal(store).tokens_input, 1700);
  });

  test('no marks (2.1.332 --fork-session): the session that started first keeps the copies, as before', async () => {
    const { home } = await forksHome(P, N);
    const { sessions, store } = await indexHome(home);
    assertSession(sessions, P, P_ALL, "P started first (10:00 vs N's queued prompt at 10:06)");
    // N: req_n1 (in 900, out 90). Prompts, tool calls and errors are per file without marks: its
    // own "fork without a mark" plus the 2 copied prompts, toolu_p1 and the copied error.
    assertSession(
      sessions,
      N,
      { requests: 1, input: 900, output: 90, prompts: 3, tools: 1, errors: 1 },
      "N: today's rule",
    );
    assert.equal(mustGet(sessions, N).forked_from_session_id, null);
    // No row is a marked copy.
    assert.equal(
      all<{ n: number }>(store.db, 'SELECT count(*) AS n FROM usage WHERE origin_session_id IS NOT NULL')[0].n,
      0,
    );
    assert.equal(grandTotal(store).tokens_input, 1900);
  });

  test("the fork indexed before its origin: it counts everything it holds, then the origin's arrival takes the copies", async () => {
    const { home, project } = await forksHome(F);
    const ix = await indexHome(home);
    // Alone, F holds the only copy of req_p1..p3: they count where they are.
    assertSession(ix.sessions, F, F_WITH_COPIES, 'F alone');
    assert.equal(mustGet(ix.sessions, F).forked_from_session_id, P);

    await addSession(project, P);
    await ix.indexer.scanAll();
    const sessions = sessionsById(ix.store);
    assertSession(sessions, P, P_ALL, 'P arrived');
    assertSession(sessions, F, F_OWN, 'F after P arrived');
    assert.equal(grandTotal(ix.store).tokens_input, 2100);
  });

  test("the origin deleted: the copies count in the fork again (each request still once); back again: the origin's", async () => {
    const { home, project } = await forksHome(P, F);
    const ix = await indexHome(home);
    const pFile = path.join(project, `${P}.jsonl`);
    const kept = await fsp.readFile(pFile);

    await fsp.unlink(pFile);
    await ix.indexer.scanAll();
    let sessions = sessionsById(ix.store);
    // P's transcript is gone: F's copies count for F; req_p4 (only P made it, and only P's file
    // held it) still counts for P. P's own prompt, tool and error counts stay what its transcript
    // said (a gone transcript is not read again).
    assertSession(sessions, F, F_WITH_COPIES, 'F without P');
    const p = mustGet(sessions, P);
    assert.equal(p.transcript_available, false);
    assert.equal(p.api_request_count, 1);
    assert.equal(p.tokens_input, 400);
    // 400 + 1700: no billed request disappeared, none counts twice.
    assert.equal(grandTotal(ix.store).tokens_input, 2100);
    assert.equal(grandTotal(ix.store).requests, 6);

    await fsp.writeFile(pFile, kept);
    await ix.indexer.scanAll();
    sessions = sessionsById(ix.store);
    assertSession(sessions, P, P_ALL, 'P back');
    assertSession(sessions, F, F_OWN, 'F with P back');
  });

  test('a fork of a fork: the chain of marks is followed to the session that made each request', async () => {
    const { home, project } = await forksHome(P, F, G);
    const ix = await indexHome(home);
    // G's copies all name F; F's copies of P's lines name P: req_p1..p3 are P's, req_f1/f2 are F's.
    assertSession(ix.sessions, P, P_ALL, 'P');
    assertSession(ix.sessions, F, F_OWN, 'F');
    // G: req_g1 (in 800, out 80) and its prompt "a third way".
    const G_OWN: Expected = { requests: 1, input: 800, output: 80, prompts: 1, tools: 0, errors: 0 };
    assertSession(ix.sessions, G, G_OWN, 'G');
    assert.equal(mustGet(ix.sessions, G).forked_from_session_id, F);
    assert.equal(grandTotal(ix.store).tokens_input, 2900);

    // P gone: its copies in F count for F (the nearest present holder), not for G.
    await fsp.unlink(path.join(project, `${P}.jsonl`));
    await ix.indexer.scanAll();
    let sessions = sessionsById(ix.store);
    assertSession(sessions, F, F_WITH_COPIES, 'F without P');
    assertSession(sessions, G, G_OWN, 'G without P');

    // F gone too: G holds the only present copies of req_p1..p3 and req_f1/f2, and counts them
    // (in 800 + 600 + 1100 = 2500) with the copied prompts (1 + 2 + 1), tool calls and error.
    await fsp.unlink(path.join(project, `${F}.jsonl`));
    await ix.indexer.scanAll();
    sessions = sessionsById(ix.store);
    assertSession(sessions, G, { requests: 6, input: 2500, output: 250, prompts: 4, tools: 2, errors: 1 }, 'G alone');
    // P keeps req_p4 (400); total 2500 + 400 = 2900, unchanged.
    assert.equal(grandTotal(ix.store).tokens_input, 2900);
    assert.equal(grandTotal(ix.store).requests, 7);
  });

  test('a fork of a fork whose middle session is deleted: requests copied from the first origin still go back to it', async () => {
    const { home, project } = await forksHome(P, F, G);
    const ix = await indexHome(home);
    await fsp.unlink(path.join(project, `${F}.jsonl`));
    await ix.indexer.scanAll();
    const sessions = sessionsById(ix.store);
    // The walk goes through F's kept rows: G's copy of req_p1..p3 names F, F's names P, and P is
    // present. req_f1/f2 now count for G (F's file is gone); G: 800 + 500 + 600 = 1900.
    assert.equal(mustGet(sessions, P).tokens_input, 1000);
    assert.equal(mustGet(sessions, G).api_request_count, 3);
    assert.equal(mustGet(sessions, G).tokens_input, 1900);
    assert.equal(mustGet(sessions, F).api_request_count, 0);
    assert.equal(grandTotal(ix.store).tokens_input, 2900);
  });

  test("a marked copy of a requestless line (gateways) meets its original: keyed by the origin's session", async () => {
    const home = path.join(await tempDir('ah-forks-'), 'home');
    const origin = 'aaaaaaaa-0000-4000-8000-0000000000a0';
    const fork = '0aaaaaaa-0000-4000-8000-0000000000a1';
    await writeTranscript(home, `${origin}.jsonl`, [
      userPrompt({ session: origin, ts: '2026-11-25T09:00:00.000Z', text: 'through a gateway' }),
      assistant({
        session: origin,
        ts: '2026-11-25T09:00:01.000Z',
        msg: 'msg_gw',
        req: null,
        usage: { in: 10, out: 1 },
      }),
    ]);
    await writeTranscript(home, `${fork}.jsonl`, [
      userPrompt({
        session: fork,
        ts: '2026-11-25T09:00:00.000Z',
        text: 'through a gateway',
        extra: { forkedFrom: { sessionId: origin, messageUuid: 'x' } },
      }),
      assistant({
        session: fork,
        ts: '2026-11-25T09:00:01.000Z',
        msg: 'msg_gw',
        req: null,
        usage: { in: 10, out: 1 },
        extra: { forkedFrom: { sessionId: origin, messageUuid: 'y' } },
      }),
      userPrompt({ session: fork, ts: '2026-11-25T09:05:00.000Z', text: "the fork's own" }),
      assistant({ session: fork, ts: '2026-11-25T09:05:01.000Z', msg: 'msg_gw', req: null, usage: { in: 20, out: 2 } }),
    ]);
    const { sessions, store } = await indexHome(home);
    // The copy is `local:<origin>:msg_gw`, the origin's own key: once, for the origin. The fork's own
    // line reuses the id (a gateway) under `local:<fork>:msg_gw`: its own request.
    assert.equal(mustGet(sessions, origin).api_request_count, 1);
    assert.equal(mustGet(sessions, origin).tokens_input, 10);
    assert.equal(mustGet(sessions, fork).api_request_count, 1);
    assert.equal(mustGet(sessions, fork).tokens_input, 20);
    assert.equal(mustGet(sessions, fork).message_count, 1);
    assert.equal(grandTotal(store).tokens_input, 30);
  });

  test("the fork's details say where it was forked from and what counts there", async () => {
    const { home } = await forksHome(P, F);
    const { sessions, store } = await indexHome(home);
    const f = mustGet(sessions, F);
    const d = sessionDetails(store, F);
    // F's marked copies that count for P: req_p1..p3, 2 prompts, toolu_p1, the rate-limit error.
    assert.deepEqual(d.forked_from, {
      session_id: P,
      title: 'plan the parser',
      origin_present: true,
      counted_elsewhere: { requests: 3, prompts: 2, tool_calls: 1, api_errors: 1 },
    });
    const text = renderSessionDetails(f, d);
    assert.match(text, /^Forked from "plan the parser" \(9f000000\)$/m);
    assert.match(text, /^Copied history counted there: 3 requests, 2 prompts, 1 tool call, 1 API error$/m);
    assert.match(text, /^forked_from_session_id +9f000000-0000-4000-8000-00000000000f$/m);
    assert.equal(forkedFromText(P, null), 'forked from 9f000000');
    assert.equal(sessionDetails(store, P).forked_from, null);
  });
});

describe('forks: the real transcripts carry no marks', () => {
  for (const version of ['2.1.332', '2.1.197'] as const) {
    test(`Claude Code ${version}: no session is a fork, no request a marked copy`, async () => {
      const { sessions, store } = await indexHome(await fixtureHome(version));
      for (const s of sessions.values()) assert.equal(s.forked_from_session_id, null, s.session_id);
      assert.equal(
        all<{ n: number }>(store.db, 'SELECT count(*) AS n FROM usage WHERE origin_session_id IS NOT NULL')[0].n,
        0,
      );
      assert.equal(all<{ n: number }>(store.db, 'SELECT count(*) AS n FROM file_copies')[0].n, 0);
    });
  }
});
