/**
 * The CLI's pieces that need no process: tables measured by display width (CJK and emoji take two
 * columns), periods (--since/--until), weeks, 5-hour blocks and the progress line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import stringWidth from 'string-width';
import { type ScanProgress } from '../../src/core/ingest/indexer';
import { parseBound, periodFilter } from '../../src/core/period';
import { identifyBlocks } from '../../src/core/pricing/blocks';
import { weekStart } from '../../src/core/pricing/periods';
import { type Column, fitText, renderTable, tableWidth, tokenCell, usdColumn } from '../../src/cli/table';
import { ProgressLine } from '../../src/cli/progress';
import { progressText } from '../../src/core/ingest/progressText';

const COLUMNS: Column[] = [
  { head: 'STATUS' },
  { head: 'TITLE', shrink: 2, min: 12 },
  { head: 'TOKENS', right: true },
  { head: 'COST', right: true },
  { head: 'ID', shrink: 1, min: 8, cut: 'prefix' },
];

const TITLES = [
  'plain ASCII title that goes on for quite a while, longer than any terminal is wide',
  '日本語のタイトルでパーサーを直す作業をしている長いセッション',
  '🚀 ship the release 🎉 with emoji all over 🧪🧪🧪 and more text after them',
  '修复 parser 的 bug：混合 CJK 与 ASCII 的标题',
];

function rows(): string[][] {
  const usd = usdColumn([1.5, 0.25, 12.125, 0.5]);
  return TITLES.map((t, i) => [
    'done',
    t,
    tokenCell([73_100, 1_234, 999, 3_400_000][i], false),
    usd([1.5, 0.25, 12.125, 0.5][i]),
    `${i}f810603-0856-4734-bc5d-451c3608d6f2`,
  ]);
}

describe('tables', () => {
  for (const width of [60, 80, 100]) {
    test(`CJK and emoji titles at ${width} columns: every line fits, columns line up by display width`, () => {
      const lines = renderTable(COLUMNS, rows(), { width, color: false }, ['Total', '', '3.5M', '$14.38', '']).map(
        (l) => l.replace(/\n$/, ''),
      );
      for (const l of lines) assert.ok(stringWidth(l) <= width, `${stringWidth(l)} > ${width}: ${l}`);
      // The TOKENS column ends at the same display column on every line (right-aligned).
      const header = lines[0];
      const tokensEnd = stringWidth(header.slice(0, header.indexOf('TOKENS') + 'TOKENS'.length));
      const tokens = ['73K', '1.2K', '999', '3.4M', '3.5M'];
      lines.slice(1).forEach((l, i) => {
        const at = l.lastIndexOf(` ${tokens[i]}  `) + 1 + tokens[i].length;
        assert.equal(stringWidth(l.slice(0, at)), tokensEnd, `aligned: ${l}`);
      });
      // Cut titles end in an ellipsis; ids are cut plainly (a prefix).
      assert.ok(lines.slice(1, 5).some((l) => l.includes('…')));
      assert.match(lines[1], / 0f810603/);
      assert.match(lines[5], /^Total/);
    });
  }

  test('fitText: display width, never half a wide character, an ellipsis when cut', () => {
    assert.equal(fitText('日本語のタイトル', 7), '日本語…');
    assert.equal(stringWidth(fitText('日本語のタイトル', 8)), 7);
    assert.equal(fitText('🚀🎉ab', 5), '🚀🎉…');
    assert.equal(fitText('short', 10), 'short');
    assert.equal(fitText('0f810603-0856', 8, 'prefix'), '0f810603');
  });

  test('width: the terminal, 100 off a terminal, none with --wide; tokens compact or exact; one precision per cost column', () => {
    assert.equal(tableWidth(false, { isTTY: true, columns: 72 }), 72);
    assert.equal(tableWidth(false, { isTTY: false }), 100);
    assert.equal(tableWidth(true, { isTTY: true, columns: 72 }), null);
    assert.equal(tokenCell(73_100, false), '73K');
    assert.equal(tokenCell(7_310, false), '7.3K');
    assert.equal(tokenCell(73_100, true), '73,100');
    const cents = usdColumn([1.5, 20]);
    assert.deepEqual([cents(1.5), cents(20)], ['$1.50', '$20.00']);
    const small = usdColumn([0.0012, 20]);
    assert.deepEqual([small(0.0012), small(20)], ['$0.0012', '$20.0000']);
  });

  test('colour: the header and totals in bold only when asked', () => {
    const plain = renderTable(COLUMNS, rows(), { width: null, color: false }).join('');
    assert.ok(!plain.includes('\x1b'));
    const bold = renderTable(COLUMNS, rows(), { width: null, color: true });
    assert.ok(bold[0].startsWith('\x1b[1mSTATUS'));
    assert.ok(!bold[1].includes('\x1b'));
  });
});

describe('periods', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  test('the forms: YYYY-MM-DD, YYYYMMDD, ISO times, 12h / 7d / 2w; anything else is refused', () => {
    assert.deepEqual(parseBound('2026-12-01', now), { day: '2026-12-01' });
    assert.deepEqual(parseBound('20261201', now), { day: '2026-12-01' });
    assert.deepEqual(parseBound('2026-12-01T09:30:00Z', now), { ms: Date.parse('2026-12-01T09:30:00Z') });
    assert.deepEqual(parseBound('12h', now), { ms: now - 12 * 3_600_000 });
    assert.deepEqual(parseBound('7d', now), { ms: now - 7 * 86_400_000 });
    assert.deepEqual(parseBound('2w', now), { ms: now - 14 * 86_400_000 });
    for (const bad of ['yesterday', '2026-02-30', '2026-13-01', '7x', ''])
      assert.throws(() => parseBound(bad, now), /is not a date/, bad);
  });

  test('days are local days in the zone, both ends included', () => {
    const keep = periodFilter({ since: { day: '2026-12-01' }, until: { day: '2026-12-01' } }, 'America/New_York');
    assert.equal(keep('2026-12-01T04:59:00Z'), false); // 23:59 on Nov 30 in New York
    assert.equal(keep('2026-12-01T05:00:00Z'), true);
    assert.equal(keep('2026-12-02T04:59:00Z'), true);
    assert.equal(keep('2026-12-02T05:00:00Z'), false);
    assert.equal(keep(null), false);
    assert.equal(periodFilter({ since: null, until: null }, 'UTC')(null), true);
  });

  test('weeks start on the day asked', () => {
    assert.equal(weekStart('2026-12-07', 1), '2026-12-07'); // a Monday
    assert.equal(weekStart('2026-12-06', 1), '2026-11-30'); // a Sunday, in the week from Monday the 30th
    assert.equal(weekStart('2026-12-06', 0), '2026-12-06');
    assert.equal(weekStart('2026-12-05', 0), '2026-11-29');
  });
});

describe('5-hour blocks (ccusage)', () => {
  const req = (iso: string, tokens = 100, cost = 0.01) => ({
    ms: Date.parse(iso),
    model: 'm',
    input: tokens,
    output: 0,
    cache_read: 0,
    cache_write: 0,
    cost_usd: cost,
    requests: 1,
    unpriced: 0,
  });
  test('start at the hour, 5 hours long, a new block past 5 h from its start or its last request, gaps between', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    const blocks = identifyBlocks(
      [
        req('2026-11-20T12:30:00Z'),
        req('2026-11-20T09:17:00Z'),
        req('2026-11-20T14:10:00Z'),
        req('2026-11-21T08:00:00Z'),
        req('2026-12-07T10:10:00Z', 300, 0.3),
        req('2026-12-07T11:10:00Z', 300, 0.3),
      ],
      now,
    );
    assert.deepEqual(
      blocks.map((b) => [b.id, b.entries, b.isGap, b.isActive]),
      [
        ['2026-11-20T09:00:00.000Z', 2, false, false],
        ['2026-11-20T14:00:00.000Z', 1, false, false],
        ['gap-2026-11-20T19:10:00.000Z', 0, true, false],
        ['2026-11-21T08:00:00.000Z', 1, false, false],
        ['gap-2026-11-21T13:00:00.000Z', 0, true, false],
        ['2026-12-07T10:00:00.000Z', 2, false, true],
      ],
    );
    const active = blocks[5];
    assert.equal(active.burnRate?.tokensPerMinute, 10); // 600 tokens over 60 minutes
    assert.ok(Math.abs((active.burnRate?.costPerHour ?? 0) - 0.6) < 1e-9);
    // 180 minutes left at 10 tokens a minute.
    assert.deepEqual(active.projection, { totalTokens: 2400, totalCost: 2.4, remainingMinutes: 180 });
    assert.equal(blocks[0].burnRate, null, 'only the active block has a burn rate');
  });
});

describe('progress line', () => {
  const p = (over: Partial<ScanProgress>): ScanProgress => ({
    walking: false,
    files_to_read: 200,
    files_done: 50,
    bytes_to_read: 400 * 1_048_576,
    bytes_done: 100 * 1_048_576,
    ...over,
  });
  test('files, MB, percent, time left; "+" while the walk still finds files', () => {
    assert.equal(progressText(p({}), 10_000), 'indexing: 50/200 files, 100/400 MB, 25%, about 30 s left');
    assert.equal(progressText(p({ walking: true }), 10_000), 'indexing: 50/200+ files, 100/400+ MB, 25%');
  });
  test('only on a terminal, only after 2 s, cleared at the end', () => {
    let clock = 0;
    const written: string[] = [];
    const tty = { isTTY: true, write: (t: string) => written.push(t) > 0 };
    const line = new ProgressLine(tty, () => clock);
    line.update(p({}));
    clock = 1999;
    line.update(p({}));
    assert.equal(written.length, 0, 'nothing in the first 2 s');
    clock = 2500;
    line.update(p({}));
    line.end();
    assert.equal(written.length, 2);
    assert.ok(written[0].startsWith('\r\x1b[Kindexing: '));
    assert.equal(written[1], '\r\x1b[K');
    const pipe: string[] = [];
    const quiet = new ProgressLine({ isTTY: false, write: (t: string) => pipe.push(t) > 0 }, () => clock);
    clock = 10_000;
    quiet.update(p({}));
    quiet.end();
    assert.equal(pipe.length, 0, 'nothing on a pipe');
  });
});
