/**
 * The Claude Code adapter (src/core/sources/claude.ts): where it looks for transcripts, what it
 * makes of each record kind (prompts, compactions, titles, pull requests, tool calls, tokens, turn
 * state, process runs, fork marks), and the real transcripts (fake model, real record formats:
 * test/fixtures/claude/<version>/) indexed into a store on disk, checked against numbers worked out
 * by hand from the lines and against Claude Code's own totals (cli-output/, what the CLI printed at
 * the end of each run). The accounting rules these records feed are tested in accounting.test.ts,
 * fork ownership in forks.test.ts.
 */
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { Indexer } from '../../src/core/ingest/indexer';
import type { AgentEvent } from '../../src/core/model/events';
import { type FileState, foldEvents, newFileState, sessionFacts } from '../../src/core/model/reducer';
import { claudeAdapter, claudeTokens } from '../../src/core/sources/claude';
import type { DiscoveredFile } from '../../src/core/sources/types';
import { branchSummary, diagnostics, grandTotal, listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import {
  CLAUDE_FIXTURES,
  type Indexed,
  assertUsd,
  assistant,
  fixtureHome,
  indexHome,
  jsonl,
  mustGet,
  silentLogger,
  system,
  tempDir,
  toolResult,
  userPrompt,
  writeTranscript,
} from './helpers';

describe('Claude Code roots', () => {
  test('defaults, $CLAUDE_CONFIG_DIR (a comma-separated list), $XDG_CONFIG_HOME and extra roots', () => {
    const roots = claudeAdapter.roots({
      home: '/h',
      env: { CLAUDE_CONFIG_DIR: '/a, /b', XDG_CONFIG_HOME: '/x' },
      extraRoots: { claude_code: ['/extra'] },
    });
    assert.deepEqual(roots, ['/a', '/b', '/h/.claude', '/x/claude', '/extra']);
    assert.deepEqual(claudeAdapter.roots({ home: '/h', env: {} }), ['/h/.claude', '/h/.config/claude']);
  });

  test('sessions under $CLAUDE_CONFIG_DIR are indexed like those under ~/.claude', async () => {
    const fixture = await fixtureHome('2.1.332');
    const configDir = path.join(await tempDir('ah-ccd-'), 'claude-config');
    await fsp.rename(path.join(fixture, '.claude'), configDir);
    const emptyHome = await tempDir('ah-home-');
    const store = await Store.open(null);
    await new Indexer(
      store,
      [claudeAdapter],
      { home: emptyHome, env: { CLAUDE_CONFIG_DIR: configDir } },
      silentLogger,
    ).scanAll();
    const ids = listSessions(store)
      .map((s) => s.session_id)
      .sort();
    assert.deepEqual(ids, [
      '3f810603-0856-4734-bc5d-451c3608d6f2',
      'agent-aefae07661fe0f622',
      'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68',
    ]);
  });
});

interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  costUSD: number;
}

interface CliResult {
  session_id: string;
  total_cost_usd: number;
  modelUsage: Record<string, ModelUsage>;
}

function cliJson(version: string, name: string): CliResult {
  return JSON.parse(readFileSync(path.join(CLAUDE_FIXTURES, version, 'cli-output', name), 'utf8')) as CliResult;
}

/** The `result` record that ends a stream-json output. */
function cliStreamResult(version: string, name: string): CliResult {
  const lines = readFileSync(path.join(CLAUDE_FIXTURES, version, 'cli-output', name), 'utf8')
    .trim()
    .split('\n');
  return JSON.parse(lines[lines.length - 1]) as CliResult;
}

function onlyModel(r: CliResult): ModelUsage {
  const models = Object.values(r.modelUsage);
  assert.equal(models.length, 1);
  return models[0];
}

describe('real fixtures: Claude Code 2.1.332', () => {
  const SAY_HI = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';
  const DELEGATE = '3f810603-0856-4734-bc5d-451c3608d6f2';
  const AGENT = 'agent-aefae07661fe0f622';
  let ix: Indexed;

  before(async () => {
    ix = await indexHome(await fixtureHome('2.1.332'));
  });

  test('finds three sessions in four files (meta.json is not a transcript), skips nothing', () => {
    assert.deepEqual([...ix.sessions.keys()].sort(), [DELEGATE, AGENT, SAY_HI].sort());
    assert.equal(ix.stats.files_seen, 3);
    assert.equal(ix.stats.files_read, 3);
    assert.equal(ix.stats.lines_skipped, 0);
    // 43 + 60 + 23 lines.
    assert.equal(ix.stats.lines_read, 126);
    assert.equal(diagnostics(ix.store).lines_skipped, 0);
  });

  test('session e2dbd8e3 ("say hi", then --resume with Bash, then --continue with Read)', () => {
    const s = mustGet(ix.sessions, SAY_HI);
    // Five responses, each streamed as 2-3 lines sharing message.id + requestId (kept once):
    //   line 20/21 msg_fake2ed5… in 2465 out 67 cr     0 cw 9856
    //   line 35-37 msg_fake1a29… in 2482 out 90 cr  9928 cw    0
    //   line 40/41 msg_faked3c4… in 2507 out 59 cr 10028 cw    0
    //   line 51-53 msg_fake033a… in 2525 out 87 cr 10096 cw    0
    //   line 56/57 msg_fakecc98… in 2554 out 83 cr 10213 cw    0
    // input  2465+2482+2507+2525+2554 = 12533
    // output 67+90+59+87+83 = 386
    // cache read 9928+10028+10096+10213 = 40265; cache write 9856
    assert.equal(s.tokens_input, 12533);
    assert.equal(s.tokens_output, 386);
    assert.equal(s.tokens_cache_read, 40265);
    assert.equal(s.tokens_cache_write, 9856);
    assert.equal(s.api_request_count, 5);
    assert.equal(s.api_error_count, 0);
    // toolu_fake531b… (Bash) and toolu_fake5108… (Read), each in one streamed line.
    assert.equal(s.tool_call_count, 2);
    // Prompts: "say hi", "please run echo hello with bash", "now read the README file".
    assert.equal(s.message_count, 3);
    assert.equal(s.first_user_message, 'say hi');
    assert.equal(s.last_user_message, 'now read the README file');
    // The hooks fixture shows 3 process runs (SessionStart startup, resume, resume), but nothing in
    // the transcript marks a resume (turnPosition.promptIndex is 0 on every turn, also within one
    // process: see 3f810603's second turn). Runs are counted only from evidence: a version change.
    assert.equal(s.revival_count, 0);
    assert.equal(s.first_started_at, '2026-11-25T14:11:12.186Z'); // line 1 (queue-operation)
    assert.equal(s.last_started_at, '2026-11-25T14:11:12.186Z'); // no later run start is known
    assert.equal(s.last_activity, '2026-11-25T14:11:15.863Z'); // line 58 (stop_hook_summary)
    assert.equal(s.title, 'say hi'); // no ai-title / custom-title: the first prompt
    assert.equal(s.model, 'claude-opus-5-5');
    assert.equal(s.git_branch, 'feature/fake-model');
    assert.equal(s.cwd, '/home/dev/agent/work/repo-claude-2.1.332');
    assert.equal(s.compaction_count, 0);
    assert.equal(s.parent_session_id, null);
    assert.deepEqual(s.subagent_ids, []);
    // Context = last main-chain request: 2554 + 10213 + 0.
    assert.equal(s.context, 12767);
    // claude-opus-5-5: $4 in, $20 out, $0.2 cache read, $5 cache write (5m) per Mtok:
    // 12533*4 + 386*20 + 40265*0.2 + 9856*5 = 50132 + 7720 + 8053 + 49280 = 115185 µ$ = 0.115185
    assertUsd(s.cost_usd, 0.115185);
    assert.equal(s.unpriced_requests, 0);
    // The last of three cost-state lines (0.06048, 0.0874072, 0.115185).
    assertUsd(s.agent_cost_usd!, 0.115185, 'agent_cost_usd');
    assert.equal(s.status, 'done');
    assert.equal(s.transcript_available, true);
  });

  test("session e2dbd8e3 equals Claude Code's own cumulative totals (3-continue-read result)", () => {
    const s = mustGet(ix.sessions, SAY_HI);
    const cli = cliStreamResult('2.1.332', '3-continue-read.stream.jsonl');
    assert.equal(cli.session_id, SAY_HI);
    const m = onlyModel(cli);
    assert.deepEqual(
      [s.rollup.tokens_input, s.rollup.tokens_output, s.rollup.tokens_cache_read, s.rollup.tokens_cache_write],
      [m.inputTokens, m.outputTokens, m.cacheReadInputTokens, m.cacheCreationInputTokens],
    );
    assertUsd(s.rollup.cost_usd, cli.total_cost_usd);
  });

  test('session 3f810603 (delegates to a subagent) and its subagent', () => {
    const p = mustGet(ix.sessions, DELEGATE);
    // Own responses:
    //   line 21-23 msg_fakecc90… in 2466 out 120 cr     0 cw 9862
    //   line 29/30 msg_fakef8f6… in 2550 out 159 cr 10200 cw    0
    //   line 39/40 msg_fake847f… in 2657 out  67 cr 10627 cw    0
    // input 2466+2550+2657 = 7673; output 120+159+67 = 346; cache read 10200+10627 = 20827
    assert.equal(p.tokens_input, 7673);
    assert.equal(p.tokens_output, 346);
    assert.equal(p.tokens_cache_read, 20827);
    assert.equal(p.tokens_cache_write, 9862);
    assert.equal(p.api_request_count, 3);
    assert.equal(p.tool_call_count, 1); // the Agent call toolu_fake1697…
    // "please delegate this to a subagent" only: line 35 is isMeta, line 36 a <task-notification>.
    assert.equal(p.message_count, 1);
    assert.equal(p.revival_count, 0);
    assert.equal(p.title, 'please delegate this to a subagent');
    assert.equal(p.model, 'claude-opus-5-5');
    assert.equal(p.git_branch, 'feature/fake-model');
    assert.deepEqual(p.subagent_ids, [AGENT]);
    // 7673*4 + 346*20 + 20827*0.2 + 9862*5 = 30692 + 6920 + 4165.4 + 49310 = 91087.4 µ$
    assertUsd(p.cost_usd, 0.0910874);

    const a = mustGet(ix.sessions, AGENT);
    assert.equal(a.parent_session_id, DELEGATE);
    assert.equal(a.agent_id, 'aefae07661fe0f622');
    //   line 14-16 msg_fake4406… in 1438 out 90 cr    0 cw 5749
    //   line 22/23 msg_fake3b31… in 1548 out 59 cr 6189 cw    0
    assert.equal(a.tokens_input, 2986); // 1438 + 1548
    assert.equal(a.tokens_output, 149); // 90 + 59
    assert.equal(a.tokens_cache_read, 6189);
    assert.equal(a.tokens_cache_write, 5749);
    assert.equal(a.api_request_count, 2);
    assert.equal(a.tool_call_count, 1);
    // In its own file the task given by the parent is the subagent's prompt and title.
    assert.equal(a.message_count, 1);
    assert.equal(a.title, 'Run the shell command `echo hello` with the Bash tool and report its output.');
    assert.equal(a.model, 'claude-opus-5-5');
    assert.equal(a.git_branch, 'feature/fake-model');
    assert.equal(a.agent_cost_usd, null); // subagent files carry no cost-state
    // 2986*4 + 149*20 + 6189*0.2 + 5749*5 = 11944 + 2980 + 1237.8 + 28745 = 44906.8 µ$
    assertUsd(a.cost_usd, 0.0449068);
  });

  test("session 3f810603 rollup equals Claude Code's totals (4-new-session-subagent)", () => {
    const p = mustGet(ix.sessions, DELEGATE);
    // 7673+2986 = 10659; 346+149 = 495; 20827+6189 = 27016; 9862+5749 = 15611
    assert.equal(p.rollup.tokens_input, 10659);
    assert.equal(p.rollup.tokens_output, 495);
    assert.equal(p.rollup.tokens_cache_read, 27016);
    assert.equal(p.rollup.tokens_cache_write, 15611);
    // 0.0910874 + 0.0449068 = 0.1359942
    assertUsd(p.rollup.cost_usd, 0.1359942);
    const cli = cliJson('2.1.332', '4-new-session-subagent.json');
    assert.equal(cli.session_id, DELEGATE);
    const m = onlyModel(cli);
    assert.deepEqual(
      [p.rollup.tokens_input, p.rollup.tokens_output, p.rollup.tokens_cache_read, p.rollup.tokens_cache_write],
      [m.inputTokens, m.outputTokens, m.cacheReadInputTokens, m.cacheCreationInputTokens],
    );
    assertUsd(p.rollup.cost_usd, cli.total_cost_usd);
    // The parent's cost-state includes its subagent: compare it with the rollup, not the own cost.
    assertUsd(p.agent_cost_usd!, cli.total_cost_usd, 'agent_cost_usd');
    // A subagent's rollup is itself only.
    assert.equal(mustGet(ix.sessions, AGENT).rollup.tokens_input, 2986);
  });

  test('grand total counts every request once: 5 + 3 + 2 = 10', () => {
    const t = grandTotal(ix.store);
    assert.equal(t.requests, 10);
    assert.equal(t.tokens_input, 12533 + 10659);
    assertUsd(t.cost_usd, 0.115185 + 0.1359942);
  });

  test('branch totals: no repository on this machine for the recorded cwd, so no branch rows', () => {
    assert.equal(branchSummary(ix.store, '/nowhere/.git', 'feature/fake-model').requests, 0);
  });
});

describe('real fixtures: Claude Code 2.1.197 (older format: no cost-state, no turnPosition)', () => {
  const SAY_HI = 'e47fc0b4-81c5-4ad6-9e15-78a0f4a0fe8d';
  const DELEGATE = '5be170c6-ce9c-41d3-8673-83b7bb7393a6';
  const AGENT = 'agent-ab78a3fd965c8f901';
  let ix: Indexed;

  before(async () => {
    ix = await indexHome(await fixtureHome('2.1.197'));
  });

  test('session e47fc0b4 ("say hi", --resume Bash, --continue Read)', () => {
    const s = mustGet(ix.sessions, SAY_HI);
    //   line 6/7    msg_fake64bc… in 3797 out 67 cr     0 cw 15185
    //   line 12-14  msg_fakecaa4… in 3815 out 90 cr     0 cw 15256
    //   line 16/17  msg_faked315… in 3839 out 59 cr 15356 cw     0
    //   line 23-25  msg_fakecde4… in 3857 out 94 cr 15425 cw     0
    //   line 27/28  msg_fake0f47… in 3887 out 89 cr 15548 cw     0
    // input 3797+3815+3839+3857+3887 = 19195; output 67+90+59+94+89 = 399
    // cache read 15356+15425+15548 = 46329; cache write 15185+15256 = 30441
    assert.equal(s.tokens_input, 19195);
    assert.equal(s.tokens_output, 399);
    assert.equal(s.tokens_cache_read, 46329);
    assert.equal(s.tokens_cache_write, 30441);
    assert.equal(s.api_request_count, 5);
    assert.equal(s.tool_call_count, 2);
    assert.equal(s.message_count, 3);
    // 2.1.197 writes no turnPosition and no other mark of a new process run: the two resumes
    // cannot be seen in the transcript (hooks would show them), so 0.
    assert.equal(s.revival_count, 0);
    assert.equal(s.title, 'say hi');
    assert.equal(s.model, 'claude-opus-4-8');
    assert.equal(s.git_branch, 'feature/fake-model');
    assert.equal(s.agent_cost_usd, null); // no cost-state before ~2.1.3xx
    // claude-opus-4-8: $5 in, $25 out, $0.5 cache read, $6.25 cache write per Mtok:
    // 19195*5 + 399*25 + 46329*0.5 + 30441*6.25 = 95975 + 9975 + 23164.5 + 190256.25 = 319370.75 µ$
    assertUsd(s.cost_usd, 0.31937075);
  });

  test("session e47fc0b4 equals the sum of Claude Code's per-run totals (2.1.197 prints per run)", () => {
    const s = mustGet(ix.sessions, SAY_HI);
    const runs = [
      cliJson('2.1.197', '1-say-hi.json'),
      cliJson('2.1.197', '2-resume-bash.json'),
      cliStreamResult('2.1.197', '3-continue-read.stream.jsonl'),
    ];
    for (const r of runs) assert.equal(r.session_id, SAY_HI);
    const sum = (f: (m: ModelUsage) => number) => runs.reduce((acc, r) => acc + f(onlyModel(r)), 0);
    // 3797+7654+7744 = 19195; 67+149+183 = 399; 0+15356+30973 = 46329; 15185+15256+0 = 30441
    assert.equal(
      s.tokens_input,
      sum((m) => m.inputTokens),
    );
    assert.equal(
      s.tokens_output,
      sum((m) => m.outputTokens),
    );
    assert.equal(
      s.tokens_cache_read,
      sum((m) => m.cacheReadInputTokens),
    );
    assert.equal(
      s.tokens_cache_write,
      sum((m) => m.cacheCreationInputTokens),
    );
    // 0.11556625 + 0.145023 + 0.0587815 = 0.31937075
    assertUsd(
      s.cost_usd,
      runs.reduce((acc, r) => acc + r.total_cost_usd, 0),
    );
  });

  test('session 5be170c6, its subagent, and the rollup equal to 4-new-session-subagent', () => {
    const p = mustGet(ix.sessions, DELEGATE);
    //   line 6-8   msg_fake69eb… in 3798 out 120 cr     0 cw 15191
    //   line 10/11 msg_fake710f… in 3843 out 116 cr 15372 cw     0
    assert.equal(p.tokens_input, 7641); // 3798 + 3843
    assert.equal(p.tokens_output, 236); // 120 + 116
    assert.equal(p.tokens_cache_read, 15372);
    assert.equal(p.tokens_cache_write, 15191);
    assert.equal(p.api_request_count, 2);
    assert.equal(p.tool_call_count, 1);
    assert.equal(p.message_count, 1);
    assert.equal(p.title, 'please delegate this to a subagent');
    assert.deepEqual(p.subagent_ids, [AGENT]);
    // 7641*5 + 236*25 + 15372*0.5 + 15191*6.25 = 38205 + 5900 + 7686 + 94943.75 = 146734.75 µ$
    assertUsd(p.cost_usd, 0.14673475);

    const a = mustGet(ix.sessions, AGENT);
    assert.equal(a.parent_session_id, DELEGATE);
    assert.equal(a.agent_id, 'ab78a3fd965c8f901');
    //   line 3/4 msg_fake351a… in 2260 out 46 cr    0 cw 9039
    //   line 6   msg_fakedafc… in 2357 out 15 cr 9425 cw    0
    assert.equal(a.tokens_input, 4617); // 2260 + 2357
    assert.equal(a.tokens_output, 61); // 46 + 15
    assert.equal(a.tokens_cache_read, 9425);
    assert.equal(a.tokens_cache_write, 9039);
    assert.equal(a.api_request_count, 2);
    assert.equal(a.tool_call_count, 1);
    assert.equal(a.model, 'claude-opus-4-8');
    // 4617*5 + 61*25 + 9425*0.5 + 9039*6.25 = 23085 + 1525 + 4712.5 + 56493.75 = 85816.25 µ$
    assertUsd(a.cost_usd, 0.08581625);

    // Rollup: 7641+4617 = 12258; 236+61 = 297; 15372+9425 = 24797; 15191+9039 = 24230
    assert.deepEqual(
      [p.rollup.tokens_input, p.rollup.tokens_output, p.rollup.tokens_cache_read, p.rollup.tokens_cache_write],
      [12258, 297, 24797, 24230],
    );
    // 0.14673475 + 0.08581625 = 0.232551
    assertUsd(p.rollup.cost_usd, 0.232551);
    const cli = cliJson('2.1.197', '4-new-session-subagent.json');
    assert.equal(cli.session_id, DELEGATE);
    const m = onlyModel(cli);
    assert.deepEqual(
      [p.rollup.tokens_input, p.rollup.tokens_output, p.rollup.tokens_cache_read, p.rollup.tokens_cache_write],
      [m.inputTokens, m.outputTokens, m.cacheReadInputTokens, m.cacheCreationInputTokens],
    );
    assertUsd(p.rollup.cost_usd, cli.total_cost_usd);
  });
});

const S = 'cccccccc-0000-4000-8000-00000000000c';
const MAIN_FILE: DiscoveredFile = {
  path: `/x/projects/p/${S}.jsonl`,
  root: '/x',
  session_id: S,
  parent_session_id: null,
  agent_id: null,
};

/** Folds records through the adapter and the reducer, as the indexer does for one file. */
function fold(records: object[], file: DiscoveredFile = MAIN_FILE): FileState {
  const state = newFileState(file);
  const events: AgentEvent[] = [];
  for (const line of jsonl(records).split('\n')) {
    if (!line) continue;
    const evs = claudeAdapter.parseLine(line, { file, state: {} });
    if (evs) events.push(...evs);
  }
  foldEvents(state, events);
  return state;
}

const t = (hms: string) => `2026-11-21T${hms}Z`;
const u = (hms: string, text: string | unknown[], extra?: Record<string, unknown>) =>
  userPrompt({ session: S, ts: t(hms), text, extra });

describe('prompts: what counts as something the person typed', () => {
  const state = fold([
    u('09:00:00.000', 'first real prompt'),
    u('09:00:01.000', 'Base directory for this skill: /x', { isMeta: true }),
    toolResult({ session: S, ts: t('09:00:02.000'), toolUseId: 'toolu_1', content: 'tool output' }),
    u('09:00:03.000', '<command-name>/model</command-name>\n<command-message>model</command-message>'),
    u('09:00:04.000', '<local-command-stdout>Set model to opus</local-command-stdout>'),
    u('09:00:05.000', '<task-notification>\n<task-id>abc</task-id>\n</task-notification>'),
    u('09:00:06.000', 'Caveat: The messages below were generated by the user while running local commands.'),
    u('09:00:07.000', 'This session is being continued from a previous conversation that ran out of context.', {
      isCompactSummary: true,
      isVisibleInTranscriptOnly: true,
    }),
    u('09:00:08.000', '[Request interrupted by user]'),
    u('09:00:08.500', '[Request interrupted by user for tool use]'),
    // A sidechain user line inside a main session's file (a subagent's task): not this person's prompt.
    userPrompt({ session: S, ts: t('09:00:09.000'), text: 'subagent task', sidechain: true }),
    // Array content with text blocks is a prompt too.
    u('09:00:10.000', [{ type: 'text', text: 'second real prompt' }]),
    u('09:00:11.000', '   last real prompt\n  '),
  ]);

  test('only the three typed prompts count as messages', () => {
    assert.equal(state.message_count, 3);
  });

  test('first and last user message (trimmed, one line)', () => {
    assert.equal(state.first_user_message, 'first real prompt');
    assert.equal(state.last_user_message, 'last real prompt');
  });

  test('the title falls back to the first prompt', () => {
    assert.equal(sessionFacts(state).title, 'first real prompt');
  });

  test('a long prompt is cut to one line for the title (80 characters with an ellipsis)', () => {
    const s = fold([u('09:00:00.000', `${'word '.repeat(40)}\n\nmore`)]);
    const title = sessionFacts(s).title!;
    assert.equal(title.length, 80);
    assert.ok(title.endsWith('…'));
    assert.ok(!title.includes('\n'));
  });
});

describe('compactions', () => {
  test('counted from compact_boundary records (not microcompact_boundary); the summary is not a prompt', () => {
    const s = fold([
      u('09:00:00.000', 'start'),
      system({
        session: S,
        ts: t('09:10:00.000'),
        subtype: 'compact_boundary',
        extra: { compactMetadata: { trigger: 'auto', preTokens: 150000 } },
      }),
      u('09:10:00.100', 'This session is being continued…', {
        isCompactSummary: true,
        isVisibleInTranscriptOnly: true,
      }),
      system({ session: S, ts: t('09:20:00.000'), subtype: 'microcompact_boundary' }),
      system({
        session: S,
        ts: t('09:30:00.000'),
        subtype: 'compact_boundary',
        extra: { compactMetadata: { trigger: 'manual' } },
      }),
    ]);
    assert.equal(s.compaction_count, 2);
    assert.equal(s.message_count, 1);
  });
});

describe('titles: custom-title over ai-title, the last of each kind', () => {
  test('a custom title wins whatever the order', () => {
    const s = fold([
      u('09:00:00.000', 'prompt'),
      { type: 'ai-title', aiTitle: 'AI one', sessionId: S },
      { type: 'custom-title', customTitle: 'My name', sessionId: S },
      { type: 'ai-title', aiTitle: 'AI two', sessionId: S },
    ]);
    assert.equal(sessionFacts(s).title, 'My name');
  });

  test('without a custom title, the last ai-title', () => {
    const s = fold([
      u('09:00:00.000', 'prompt'),
      { type: 'ai-title', aiTitle: 'AI one', sessionId: S },
      { type: 'ai-title', aiTitle: 'AI two', sessionId: S },
    ]);
    assert.equal(sessionFacts(s).title, 'AI two');
  });

  test('an old-style summary record is an ai title', () => {
    const s = fold([u('09:00:00.000', 'prompt'), { type: 'summary', summary: 'Old summary', leafUuid: 'x' }]);
    assert.equal(sessionFacts(s).title, 'Old summary');
  });
});

describe('pull requests', () => {
  test('a pr-link record gives github_pr, pr_url and github_repo, and outranks URLs seen in output', () => {
    const s = fold([
      u('09:00:00.000', 'open a PR'),
      {
        type: 'pr-link',
        prNumber: 42,
        prUrl: 'https://github.com/acme/widgets/pull/42',
        prRepository: 'acme/widgets',
        timestamp: t('09:01:00.000'),
        sessionId: S,
      },
      toolResult({
        session: S,
        ts: t('09:02:00.000'),
        toolUseId: 'toolu_2',
        content: 'see https://github.com/other/repo/pull/7',
      }),
    ]);
    const f = sessionFacts(s);
    assert.equal(f.github_pr, 42);
    assert.equal(f.pr_url, 'https://github.com/acme/widgets/pull/42');
    assert.equal(f.github_repo, 'acme/widgets');
  });

  test('without pr-link, a PR URL in tool output is picked up (string or text blocks; the last one)', () => {
    const s = fold([
      u('09:00:00.000', 'push it'),
      toolResult({
        session: S,
        ts: t('09:01:00.000'),
        toolUseId: 'toolu_1',
        content: 'Created https://github.com/acme/widgets/pull/98',
      }),
      toolResult({
        session: S,
        ts: t('09:02:00.000'),
        toolUseId: 'toolu_2',
        content: [
          {
            type: 'text',
            text: 'Updated https://github.com/acme/widgets/pull/99 and https://github.com/acme/widgets/issues/5',
          },
        ],
      }),
    ]);
    const f = sessionFacts(s);
    assert.equal(f.github_pr, 99);
    assert.equal(f.pr_url, 'https://github.com/acme/widgets/pull/99');
    assert.equal(f.github_repo, 'acme/widgets');
    assert.equal(f.github_issue, 5);
  });

  test('no link anywhere: nulls, not guesses', () => {
    const f = sessionFacts(fold([u('09:00:00.000', 'nothing here')]));
    assert.equal(f.github_pr, null);
    assert.equal(f.pr_url, null);
    assert.equal(f.github_repo, null);
  });
});

describe('tool calls and streamed duplicates inside one file', () => {
  test('tool_use blocks are counted by id, once even when repeated on streamed lines', async () => {
    const call = { type: 'tool_use', id: 'toolu_same', name: 'Bash', input: {} };
    const home = path.join(await tempDir('ah-tools-'), 'home');
    await writeTranscript(home, `${S}.jsonl`, [
      u('09:00:00.000', 'run it'),
      assistant({
        session: S,
        ts: t('09:00:01.000'),
        msg: 'm',
        req: 'r',
        usage: { in: 1 },
        content: [call],
        stop: null,
      }),
      assistant({
        session: S,
        ts: t('09:00:01.100'),
        msg: 'm',
        req: 'r',
        usage: { in: 1, out: 5 },
        content: [call],
        stop: 'tool_use',
      }),
      assistant({
        session: S,
        ts: t('09:00:02.000'),
        msg: 'm2',
        req: 'r2',
        usage: { in: 1 },
        content: [{ type: 'tool_use', id: 'toolu_other', name: 'Read', input: {} }],
      }),
    ]);
    const { store, sessions } = await indexHome(home);
    // toolu_same (twice, on two streamed lines of one response) and toolu_other.
    assert.equal(mustGet(sessions, S).tool_call_count, 2);
    store.close();
  });

  test('foldEvents keeps the largest line per key within a batch', () => {
    const state = newFileState(MAIN_FILE);
    const line = (out: number) =>
      claudeAdapter.parseLine(
        JSON.stringify(assistant({ session: S, ts: t('09:00:01.000'), msg: 'm', req: 'r', usage: { in: 3, out } })),
        { file: MAIN_FILE, state: {} },
      )!;
    const rows = foldEvents(state, [...line(1), ...line(9), ...line(4)]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].tokens.output, 9);
    assert.equal(rows[0].dedup_key, 'm:r');
  });
});

describe('claudeTokens', () => {
  test('input excludes cache; cache write is max(flat, 5m + 1h); the 1h part is kept', () => {
    assert.deepEqual(
      claudeTokens({
        input_tokens: 5,
        output_tokens: 6,
        cache_read_input_tokens: 7,
        cache_creation_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 4 },
      }),
      { input: 5, output: 6, cache_read: 7, cache_write: 14, cache_write_1h: 4 },
    );
    assert.deepEqual(claudeTokens({ input_tokens: 1, cache_creation_input_tokens: 9 }), {
      input: 1,
      output: 0,
      cache_read: 0,
      cache_write: 9,
      cache_write_1h: 0,
    });
    // Garbage (negative, strings) is 0, never NaN.
    assert.deepEqual(claudeTokens({ input_tokens: -3, output_tokens: '7' }), {
      input: 0,
      output: 0,
      cache_read: 0,
      cache_write: 0,
      cache_write_1h: 0,
    });
  });
});

describe('turn state (what status inference reads from the transcript)', () => {
  const call = [{ type: 'tool_use', id: 'toolu_t', name: 'Bash', input: {} }];
  const steps: [string, object, string | null][] = [
    ['a prompt: waiting for the model', u('09:00:00.000', 'go'), 'waiting_model'],
    [
      'a partial streamed line (no stop_reason, no tool_use): unchanged',
      assistant({ session: S, ts: t('09:00:01.000'), msg: 'm', req: 'r', usage: { in: 1 }, stop: null }),
      'waiting_model',
    ],
    [
      'a tool_use: a tool is running',
      assistant({
        session: S,
        ts: t('09:00:02.000'),
        msg: 'm',
        req: 'r',
        usage: { in: 1 },
        content: call,
        stop: 'tool_use',
      }),
      'tool_running',
    ],
    [
      'its tool_result: waiting for the model again',
      toolResult({ session: S, ts: t('09:00:03.000'), toolUseId: 'toolu_t', content: 'ok' }),
      'waiting_model',
    ],
    [
      'end_turn: ended',
      assistant({ session: S, ts: t('09:00:04.000'), msg: 'm2', req: 'r2', usage: { in: 1 } }),
      'ended',
    ],
    ['a sidechain line never drives the main status', u('09:00:05.000', 'side', { isSidechain: true }), 'ended'],
    ['a new prompt', u('09:00:06.000', 'again'), 'waiting_model'],
    ['[Request interrupted: ended', u('09:00:07.000', '[Request interrupted by user]'), 'ended'],
    ['a prompt, then stop_hook_summary / turn_duration: ended', u('09:00:08.000', 'third'), 'waiting_model'],
    ['turn_duration', system({ session: S, ts: t('09:00:09.000'), subtype: 'turn_duration' }), 'ended'],
  ];
  test('each record moves the turn state as documented', () => {
    const records: object[] = [];
    for (const [what, record, expected] of steps) {
      records.push(record);
      const s = fold(records);
      assert.equal(s.turn_state, expected, what);
    }
    assert.equal(fold(records).turn_state_at, t('09:00:09.000'));
  });
});

describe('process runs (revival_count)', () => {
  test('a prompt at the start of every turn is not a new run: promptIndex restarts per turn', () => {
    const s = fold([
      u('09:00:00.000', 'one', { turnPosition: { promptIndex: 0, turnIndex: 1 }, version: '2.1.332' }),
      u('09:00:05.000', 'two', { turnPosition: { promptIndex: 0, turnIndex: 2 }, version: '2.1.332' }),
    ]);
    assert.equal(sessionFacts(s).revival_count, 0);
    assert.equal(s.last_started_at, t('09:00:00.000'));
  });

  test('a record written by another agent version starts a new run', () => {
    const s = fold([
      u('09:00:00.000', 'before the upgrade', { version: '2.1.331' }),
      u('10:00:00.000', 'after the upgrade', { version: '2.1.332' }),
      u('10:00:05.000', 'same process', { version: '2.1.332' }),
    ]);
    assert.equal(sessionFacts(s).revival_count, 1);
    assert.equal(s.first_started_at, t('09:00:00.000'));
    assert.equal(s.last_started_at, t('10:00:00.000'));
  });
});

describe('forks: what the adapter takes as a copy mark', () => {
  const X = 'dddddddd-0000-4000-8000-00000000000d';
  const ts = '2026-11-25T09:00:00.000Z';
  const events = (rec: object, file = MAIN_FILE): AgentEvent[] =>
    claudeAdapter.parseLine(JSON.stringify(rec), { file, state: {} }) ?? [];
  const copiedFrom = (evs: AgentEvent[]) =>
    evs.flatMap((e) => ('copied_from' in e && e.copied_from ? [`${e.kind}:${e.copied_from}`] : []));
  const forkMeta = (evs: AgentEvent[]) =>
    evs.flatMap((e) => (e.kind === 'meta' && e.forked_from_session_id ? [e.forked_from_session_id] : []));

  test("forkedFrom names the origin of a line's request, tool call, prompt and API error", () => {
    const mark = { forkedFrom: { sessionId: X, messageUuid: 'u-1' } };
    const answer = events(
      assistant({
        session: S,
        ts,
        msg: 'm',
        req: 'r',
        usage: { in: 1 },
        content: [{ type: 'tool_use', id: 'toolu_x', name: 'Bash', input: {} }],
        extra: mark,
      }),
    );
    assert.deepEqual(copiedFrom(answer).sort(), [`tool_call:${X}`, `usage:${X}`]);
    assert.deepEqual(forkMeta(answer), [X]);
    assert.deepEqual(copiedFrom(events(userPrompt({ session: S, ts, text: 'hi', extra: mark }))), [`user_prompt:${X}`]);
    assert.deepEqual(
      copiedFrom(
        events({
          ...assistant({ session: S, ts, msg: 'e', req: 'r2', usage: {}, model: '<synthetic>', extra: mark }),
          isApiErrorMessage: true,
        }),
      ),
      [`api_error:${X}`],
    );
  });

  test("a line whose sessionId is not its file's is a copy of that session (older builds' replays)", () => {
    assert.deepEqual(copiedFrom(events(userPrompt({ session: X, ts, text: 'replayed' }))), [`user_prompt:${X}`]);
    // forkedFrom outranks the line's own id.
    const Y = 'eeeeeeee-0000-4000-8000-00000000000e';
    assert.deepEqual(
      copiedFrom(events(userPrompt({ session: Y, ts, text: 'both', extra: { forkedFrom: { sessionId: X } } }))),
      [`user_prompt:${X}`],
    );
  });

  test("not copies: the file's own lines, a subagent's lines (their sessionId is the parent), a hand-named file, a mark that is no session id", () => {
    assert.deepEqual(copiedFrom(events(userPrompt({ session: S, ts, text: 'own' }))), []);
    const sub: DiscoveredFile = {
      path: `/x/projects/p/${S}/subagents/agent-a1.jsonl`,
      root: '/x',
      session_id: 'agent-a1',
      parent_session_id: S,
      agent_id: 'a1',
    };
    assert.deepEqual(
      copiedFrom(events(userPrompt({ session: S, ts, text: 'task', sidechain: true, agentId: 'a1' }), sub)),
      [],
    );
    const named: DiscoveredFile = { ...MAIN_FILE, path: '/x/projects/p/notes.jsonl', session_id: 'notes' };
    assert.deepEqual(copiedFrom(events(userPrompt({ session: X, ts, text: 'hi' }), named)), []);
    assert.deepEqual(
      copiedFrom(events(userPrompt({ session: S, ts, text: 'hi', extra: { forkedFrom: { sessionId: '__proto__' } } }))),
      [],
    );
  });
});
