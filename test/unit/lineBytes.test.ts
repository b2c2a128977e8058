/**
 * Long strings are cut on the bytes before a line is decoded (src/core/sources/lineBytes.ts): the
 * line still parses to the same record, every string of at most the limit kept exactly, every
 * longer one a prefix of the original of at least limit / 6 characters followed by "…"; and what
 * the index keeps of a session with megabyte tool results is what it keeps without the cut.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cutLongStrings, jsonLines, LONG_STRING_BYTES, LONG_STRING_KEPT_CHARS } from '../../src/core/sources/lineBytes';
import { LINK_SCAN_LIMIT } from '../../src/core/sources/records';
import { assistant, indexHome, mustGet, tempDir, toolResult, userPrompt, writeTranscript } from './helpers';

const cut = (s: string, limit: number) => cutLongStrings(Buffer.from(s), limit).toString('utf8');

/** What a value must become once its long strings are cut: checks and returns nothing. */
function assertCutOf(original: unknown, got: unknown, limit: number, where = '$'): void {
  if (typeof original === 'string') {
    assert.equal(typeof got, 'string', where);
    const g = got as string;
    const bytes = Buffer.byteLength(JSON.stringify(original)) - 2;
    if (bytes <= limit) return assert.equal(g, original, `${where}: a short string is kept exactly`);
    assert.ok(g.endsWith('…'), `${where}: a cut string ends with …`);
    const kept = g.slice(0, -1);
    assert.ok(original.startsWith(kept), `${where}: a cut string is a prefix of the original`);
    assert.ok(kept.length >= Math.floor(limit / 6), `${where}: at least limit/6 characters are kept`);
    return;
  }
  if (Array.isArray(original)) {
    assert.ok(Array.isArray(got), where);
    assert.equal((got as unknown[]).length, original.length, where);
    original.forEach((v, i) => assertCutOf(v, (got as unknown[])[i], limit, `${where}[${i}]`));
    return;
  }
  if (original && typeof original === 'object') {
    const o = original as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    const okeys = Object.keys(o);
    const gkeys = Object.keys(g);
    assert.equal(gkeys.length, okeys.length, where);
    okeys.forEach((k, i) => {
      assertCutOf(k, gkeys[i], limit, `${where}.<key ${i}>`);
      assertCutOf(o[k], g[gkeys[i]], limit, `${where}.${k.slice(0, 20)}`);
    });
    return;
  }
  assert.deepEqual(got, original, where);
}

describe('cutting long strings on the bytes', () => {
  test('any JSON line: parses to the same record, short strings exact, long ones a marked prefix', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', '"', '\\', '\n', '\t', 'é', '数', '😀', '\u0001', '\u2028', '\ud800', 'u', '/'),
      maxLength: 120,
    });
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('a', 'type', 'message', 'content', 'usage'), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, fc.integer({ min: 6, max: 64 }), (v, limit) => {
        const line = JSON.stringify(v);
        const out = cut(line, limit);
        assertCutOf(JSON.parse(line), JSON.parse(out), limit);
      }),
      { numRuns: 2_000 },
    );
  });

  test('a cut never splits an escape or a multi-byte character', () => {
    // The limit lands on every position of each escape and character below in turn.
    for (const piece of ['\\"', '\\\\', '\\n', '\\u00e9', '\\ud83d\\ude00', 'é', '数', '😀']) {
      for (let pad = 0; pad < 12; pad++) {
        const body = `${'x'.repeat(pad)}${piece.repeat(8)}`;
        const line = `{"k":"${body}"}`;
        const original = JSON.parse(line) as { k: string };
        for (let limit = 1; limit < Buffer.byteLength(body); limit++) {
          const parsed = JSON.parse(cut(line, limit)) as { k: string };
          const kept = parsed.k.slice(0, -1);
          assert.ok(parsed.k.endsWith('…') && original.k.startsWith(kept), `${piece} pad ${pad} limit ${limit}`);
        }
      }
    }
  });

  test('text dense in escaped quotes (a JSON document inside a string) is cut the same way', () => {
    const inner = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `"n${i}"` })) });
    const line = JSON.stringify({ type: 'user', content: inner, after: 'kept', n: 7 });
    const out = JSON.parse(cut(line, 1_000)) as { content: string; after: string; n: number };
    assert.equal(out.after, 'kept');
    assert.equal(out.n, 7);
    assert.ok(out.content.endsWith('…') && inner.startsWith(out.content.slice(0, -1)));
  });

  test('lines at or under the limit, unterminated strings and malformed lines are left as they are', () => {
    const short = Buffer.from(`{"a":"${'x'.repeat(100)}"}`);
    assert.equal(cutLongStrings(short, 100), short, 'a string of exactly the limit is kept (same buffer)');
    const half = Buffer.from(`{"a":"${'x'.repeat(500)}`);
    assert.equal(cutLongStrings(half, 100).toString(), half.toString());
    const garbage = Buffer.from('not json at all '.repeat(50));
    assert.equal(cutLongStrings(garbage, 100).toString(), garbage.toString());
  });

  test('documents: blank lines dropped, each line cut and decoded', () => {
    const doc = Buffer.from(`{"a":1}\n\n  \n{"b":"${'y'.repeat(LONG_STRING_BYTES + 10)}"}\n{"c":3}`);
    const lines = [...jsonLines(doc)];
    assert.equal(lines.length, 3);
    assert.equal((JSON.parse(lines[1]) as { b: string }).b.length, LONG_STRING_BYTES + 1);
    assert.deepEqual(JSON.parse(lines[2]), { c: 3 });
  });

  test('links are looked for no further than a cut string keeps', () => {
    assert.ok(LINK_SCAN_LIMIT <= LONG_STRING_KEPT_CHARS);
  });
});

describe('a session with megabyte tool results', () => {
  test('indexes to the same numbers, the same PR link and the same prompts as its records say', async () => {
    const dir = await tempDir('ah-cut-');
    const home = path.join(dir, 'home');
    const S = 'cccccccc-0000-4000-8000-00000000000c';
    const ts = (s: number) => `2026-11-22T10:00:${String(s).padStart(2, '0')}.000Z`;
    // 3 MB of output dense in escaped quotes, a PR link near its start, another far past the cut.
    const noise = JSON.stringify({ rows: Array.from({ length: 40_000 }, (_, i) => ({ i, v: `"${i}"` })) });
    const output = `Created https://github.com/acme/app/pull/41\n${noise}\nhttps://github.com/acme/app/pull/99`;
    await writeTranscript(home, `${S}.jsonl`, [
      userPrompt({ session: S, ts: ts(0), text: 'run the export' }),
      assistant({ session: S, ts: ts(1), msg: 'msg_c1', req: 'req_c1', usage: { in: 10, out: 20, cr: 3_000 } }),
      toolResult({ session: S, ts: ts(2), toolUseId: 'toolu_1', content: output }),
      assistant({ session: S, ts: ts(3), msg: 'msg_c2', req: 'req_c2', usage: { in: 5, out: 7, cr: 4_000 } }),
    ]);
    const { store, sessions } = await indexHome(home);
    const s = mustGet(sessions, S);
    // Two requests: input 10 + 5 = 15, output 20 + 7 = 27, cache reads 3,000 + 4,000 = 7,000.
    assert.equal(s.api_request_count, 2);
    assert.equal(s.tokens_input, 15);
    assert.equal(s.tokens_output, 27);
    assert.equal(s.tokens_cache_read, 7_000);
    assert.equal(s.last_activity, ts(3));
    assert.equal(s.first_user_message, 'run the export');
    // The link in the first characters of the output is seen; the one 3 MB further is past the cut.
    assert.equal(s.pr_url, 'https://github.com/acme/app/pull/41');
    store.close();
  });
});
