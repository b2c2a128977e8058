/**
 * Export: CSV escaping (spreadsheet-injection safe), sessions with every field, daily totals per
 * local day (time zones worked by hand), and `agent-handler export` end to end on the fixtures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { csvCell, exportText, sessionRecord, toCsv } from '../../src/core/export';
import { dailyUsage } from '../../src/core/store/daily';
import { listSessions } from '../../src/core/store/queries';
import {
  REPO_ROOT,
  assertUsd,
  assistant,
  fixtureHome,
  indexHome,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const A = 'aaaaaaaa-0000-4000-8000-00000000e0a1';
const B = 'bbbbbbbb-0000-4000-8000-00000000e0b2';

/**
 * Three requests of claude-opus-5-5 ($4/M input, $20/M output):
 *   A1 2026-11-20T23:30Z  1000 in, 100 out  → 0.004 + 0.002 = $0.006
 *   A2 2026-11-21T03:00Z  2000 in,   0 out  → $0.008
 *   B1 2026-11-21T12:00Z     0 in, 1000 out → $0.020
 */
async function home(): Promise<string> {
  const h = await tempDir('ah-export-');
  await writeTranscript(h, `${A}.jsonl`, [
    userPrompt({
      session: A,
      ts: '2026-11-20T23:29:00.000Z',
      text: '=HYPERLINK("http://x", "click"), then "quote"\nnext line',
    }),
    assistant({
      session: A,
      ts: '2026-11-20T23:30:00.000Z',
      msg: 'msg_e1',
      req: 'req_e1',
      usage: { in: 1000, out: 100 },
    }),
    assistant({
      session: A,
      ts: '2026-11-21T03:00:00.000Z',
      msg: 'msg_e2',
      req: 'req_e2',
      usage: { in: 2000, out: 0 },
    }),
  ]);
  await writeTranscript(h, `${B}.jsonl`, [
    userPrompt({ session: B, ts: '2026-11-21T11:59:00.000Z', text: 'plain' }),
    assistant({
      session: B,
      ts: '2026-11-21T12:00:00.000Z',
      msg: 'msg_e3',
      req: 'req_e3',
      usage: { in: 0, out: 1000 },
    }),
  ]);
  return h;
}

const brief = (rows: ReturnType<typeof dailyUsage>) =>
  rows.map((r) => [
    r.date,
    r.requests,
    r.tokens_input,
    r.tokens_output,
    Math.round(r.cost_usd * 1e6) / 1e6,
    r.sessions,
  ]);

describe('export', () => {
  test('CSV cells: commas, quotes, line breaks quoted; formula starts neutralized; numbers as they are', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('=1+2'), "'=1+2");
    assert.equal(csvCell('+cmd'), "'+cmd");
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('=A1,"x"'), `"'=A1,""x"""`);
    assert.equal(csvCell(-1.5), '-1.5');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(true), 'true');
    assert.equal(toCsv([{ a: 1, b: 'x,y' }, { a: 2 }]), 'a,b\r\n1,"x,y"\r\n2,\r\n');
  });

  test('daily totals fall on the local day of the time zone', async () => {
    const { store } = await indexHome(await home());
    // New York (UTC-5 in November): A1 18:30 and A2 22:00 on the 20th; B1 07:00 on the 21st.
    assert.deepEqual(brief(dailyUsage(store, { timeZone: 'America/New_York' })), [
      ['2026-11-20', 2, 3000, 100, 0.014, 1],
      ['2026-11-21', 1, 0, 1000, 0.02, 1],
    ]);
    // Tokyo (UTC+9): all three on the 21st (08:30, 12:00, 21:00); 0.006 + 0.008 + 0.02 = 0.034.
    assert.deepEqual(brief(dailyUsage(store, { timeZone: 'Asia/Tokyo' })), [['2026-11-21', 3, 3000, 1100, 0.034, 2]]);
    // UTC: A1 on the 20th; A2 + B1 on the 21st = 0.028.
    assert.deepEqual(brief(dailyUsage(store, { timeZone: 'UTC' })), [
      ['2026-11-20', 1, 1000, 100, 0.006, 1],
      ['2026-11-21', 2, 2000, 1000, 0.028, 2],
    ]);
    assert.deepEqual(brief(dailyUsage(store, { timeZone: 'UTC', since: '2026-11-21T00:00:00.000Z' })), [
      ['2026-11-21', 2, 2000, 1000, 0.028, 2],
    ]);
    assert.equal(dailyUsage(store, { timeZone: 'UTC' })[0]!.framework, 'claude_code');
    assert.equal(dailyUsage(store, { timeZone: 'UTC' })[0]!.model, 'claude-opus-5-5');
  });

  test('sessions: every field, in CSV and JSON; prompt text is data', async () => {
    const { store } = await indexHome(await home());
    const sessions = listSessions(store);
    const rec = sessionRecord(sessions.find((s) => s.session_id === A)!);
    for (const k of [
      'session_id',
      'framework',
      'title',
      'first_user_message',
      'cost_usd',
      'tokens_input',
      'status',
      'transcript_path',
      'rollup_cost_usd',
      'subagent_ids',
    ]) {
      assert.ok(k in rec, k);
    }
    const json = JSON.parse(exportText('sessions', 'json', { sessions })) as Record<string, unknown>[];
    assert.equal(json.length, 2);
    assertUsd(json.find((r) => r.session_id === A)!.cost_usd as number, 0.014);
    const csv = exportText('sessions', 'csv', { sessions });
    // The prompt (a formula, with a comma, quotes and a line break) is one quoted, neutralized cell.
    // (first_user_message is one line already; line breaks inside cells are covered above.)
    assert.ok(csv.includes(`"'=HYPERLINK(""http://x"", ""click""), then ""quote"" next line"`), csv);
    assert.equal(csv.split('\r\n')[0]!.split(',')[0], 'session_id');
    assert.equal(csv.split('\r\n').filter(Boolean).length, 3); // header + 2 sessions (no raw line break splits a row)
  });

  test('agent-handler export on the 2.1.332 fixtures', async () => {
    const h = await fixtureHome('2.1.332');
    const store = path.join(await tempDir('ah-export-cli-'), 's.sqlite');
    const run = (...args: string[]) => {
      const env: Record<string, string | undefined> = { ...process.env, HOME: h, TZ: 'UTC' };
      delete env.CLAUDE_CONFIG_DIR;
      delete env.XDG_CONFIG_HOME;
      return spawnSync(
        process.execPath,
        [path.join(REPO_ROOT, 'dist', 'cli.js'), 'export', '--store', store, ...args],
        { env, encoding: 'utf8', timeout: 60_000 },
      );
    };
    const daily = run('--format', 'json', '--what', 'daily');
    assert.equal(daily.status, 0, daily.stderr);
    const rows = JSON.parse(daily.stdout) as { cost_usd: number; requests: number }[];
    // Every request of the three sessions: $0.2511792 (test/unit/cli.test.ts, branch total).
    assertUsd(
      rows.reduce((a, r) => a + r.cost_usd, 0),
      0.2511792,
    );
    const out = path.join(await tempDir('ah-export-out-'), 'sessions.csv');
    const csv = run('--format', 'csv', '--out', out);
    assert.equal(csv.status, 0, csv.stderr);
    assert.equal(csv.stdout, '');
    assert.equal(readFileSync(out, 'utf8').split('\r\n').filter(Boolean).length, 4); // header + 3 sessions
    const bad = run('--format', 'xml');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format csv or --format json/);
  });
});
