/**
 * Fault class: malformed input. Every adapter of the registry gets its real fixture transcripts
 * with faults thrown in: truncated JSON, invalid UTF-8, NUL bytes, random text, valid JSON of the
 * wrong shape in every field a real record has, unknown record types, a future schema version, a
 * 50 MB line. Property tests (fast-check) generate the faults; the assertions: no exception escapes
 * the indexer, every broken line is skipped and counted, and what the valid records count is
 * exactly what it was without the faults.
 */
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Indexer } from '../../src/core/ingest/indexer';
import type { AgentEvent } from '../../src/core/model/events';
import { ADAPTERS } from '../../src/core/sources/registry';
import type { SourceAdapter } from '../../src/core/sources/types';
import { Store } from '../../src/core/store/store';
import { silentLogger } from '../unit/helpers';
import {
  FaultSummary,
  agentHome,
  assertSaneNumbers,
  countSnapshot,
  filesUnder,
  sessionIds,
  skippedTotal,
} from './helpers';

const summary = new FaultSummary('malformed input');
const RUNS = Number(process.env.AH_FUZZ_RUNS ?? 15);

async function indexWith(adapter: SourceAdapter, home: string): Promise<Store> {
  const store = await Store.open(null);
  await new Indexer(store, [adapter], { home, env: {} }, silentLogger).scanAll();
  return store;
}

/** The adapter's transcript files in a home (what its classify accepts). */
async function transcripts(adapter: SourceAdapter, home: string): Promise<string[]> {
  const store = await Store.open(null);
  const ix = new Indexer(store, [adapter], { home, env: {} }, silentLogger);
  const out: string[] = [];
  for (const f of await filesUnder(home)) {
    const found = await ix.classify(await fsp.realpath(f));
    if (found && found.file.path === (await fsp.realpath(f))) out.push(f);
  }
  store.close();
  return out.sort();
}

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let from = 0;
  for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, from)) {
    if (nl > from) lines.push(buf.subarray(from, nl));
    from = nl + 1;
  }
  if (from < buf.length) lines.push(buf.subarray(from));
  return lines;
}

function parses(buf: Buffer): boolean {
  try {
    JSON.parse(buf.toString('utf8').trim());
    return true;
  } catch {
    return false;
  }
}

const KINDS = ['text', 'truncated', 'nul', 'utf8'] as const;
interface Garbage {
  kind: (typeof KINDS)[number];
  file: number;
  at: number;
  line: number;
  cut: number;
  text: string;
  bytes: number[];
}

const garbageArb: fc.Arbitrary<Garbage> = fc.record({
  kind: fc.constantFrom(...KINDS),
  file: fc.nat(),
  at: fc.nat(),
  line: fc.nat(),
  cut: fc.nat(),
  text: fc.string({ unit: 'binary', maxLength: 120 }),
  bytes: fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 6 }),
});

/** A line that is certainly not a record: built from a real line or random text, as `g` says. */
function brokenLine(g: Garbage, real: Buffer): Buffer {
  let out: Buffer;
  const pos = real.length ? g.cut % real.length : 0;
  switch (g.kind) {
    case 'text':
      out = Buffer.from(`not json ${g.text.replace(/[\r\n]/g, ' ')}`);
      break;
    case 'truncated':
      // A strict prefix of a JSON object is never valid JSON (it lacks the closing brace).
      out = real.subarray(0, Math.max(1, pos));
      break;
    case 'nul':
      // A raw NUL is invalid anywhere in JSON (outside strings and, unescaped, inside them).
      out = Buffer.concat([real.subarray(0, pos), Buffer.from([0]), real.subarray(pos)]);
      break;
    case 'utf8':
      out = Buffer.concat([real.subarray(0, pos), Buffer.from(g.bytes), real.subarray(pos)]);
      // Inside a string value the bytes decode to U+FFFD and the line may still parse: then they go
      // in front, where a replacement character is never valid JSON.
      if (parses(out)) out = Buffer.concat([Buffer.from([0xff]), real]);
      break;
  }
  if (out.toString('utf8').trim() === '' || parses(out)) out = Buffer.from('not json');
  return out;
}

/** Every path (keys and indexes) of a JSON value, for replacing one field by a wrong-shaped value. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(child, p, out);
    }
  }
  return out;
}

function setPath(root: unknown, p: (string | number)[], value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

/** The shape every event must have whatever the input: strings, finite non-negative token counts. */
function assertEventShape(e: AgentEvent): void {
  assert.ok(e && typeof e.kind === 'string', 'event without a kind');
  assert.ok(e.ts === null || typeof e.ts === 'string', `ts ${String(e.ts)}`);
  if (e.kind === 'usage') {
    for (const [k, n] of Object.entries(e.tokens))
      assert.ok(typeof n === 'number' && Number.isFinite(n) && n >= 0, `tokens.${k} = ${String(n)}`);
    assert.equal(typeof e.dedup_key, 'string');
    assert.ok(e.model === null || typeof e.model === 'string', `model ${String(e.model)}`);
  }
  if (e.kind === 'user_prompt') assert.equal(typeof e.text, 'string');
}

const wrongShape = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 20 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.constant(-1),
  fc.constant(1e308),
  fc.constant('NaN'),
);

// The hook spool is Agent Handler's own file (written by its hook script, no agent fixture of its
// own); its malformed lines are covered by its unit tests.
for (const adapter of ADAPTERS.filter((a) => a.id !== 'spool')) {
  describe(`malformed input: ${adapter.displayName} (${adapter.format})`, () => {
    let home: string;
    let files: Buffer[][];
    let names: string[];
    let baseline: ReturnType<typeof countSnapshot>;
    let baselineIds: string[];
    let baselineSkipped: number;

    it('has real fixture transcripts and indexes them', async () => {
      home = await agentHome(adapter.id);
      names = await transcripts(adapter, home);
      assert.ok(names.length > 0, 'no fixture transcripts');
      files = await Promise.all(names.map(async (n) => splitLines(await fsp.readFile(n))));
      const store = await indexWith(adapter, home);
      baseline = countSnapshot(store);
      baselineIds = sessionIds(store);
      baselineSkipped = skippedTotal(store);
      // Cursor's transcripts carry no token counts: its fixtures give sessions only.
      assert.ok(Object.keys(baseline).length > 0 || baselineIds.length > 0, 'the fixtures hold nothing');
      store.close();
    });

    /** A fresh home with each fixture transcript rewritten by `edit`. */
    async function mutatedHome(edit: (lines: Buffer[], fileIndex: number) => Buffer[]): Promise<string> {
      const h = await agentHome(adapter.id);
      const mine = await transcripts(adapter, h);
      for (let i = 0; i < mine.length; i++) {
        const lines = edit([...files[i]], i);
        await fsp.writeFile(mine[i], Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
      }
      return h;
    }

    // JSONL transcripts, whether read incrementally (lines) or whole (Gemini's document of lines).
    // SQLite stores (OpenCode, Cursor) are not text: they get whole-file corruption only.
    const sqlite = adapter.id === 'opencode' || adapter.id === 'cursor';
    const jsonl = adapter.id !== 'amp' && !sqlite;
    if (jsonl) {
      it('property: broken lines (truncated, NUL, invalid UTF-8, random text) anywhere are skipped and counted, the valid ones count the same', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(garbageArb, { minLength: 1, maxLength: 10 }), async (garbage) => {
            const h = await mutatedHome((lines, fi) => {
              for (const g of garbage.filter((x) => x.file % files.length === fi)) {
                const real = lines[g.line % lines.length] ?? Buffer.from('{}');
                lines.splice(g.at % (lines.length + 1), 0, brokenLine(g, real));
              }
              return lines;
            });
            const store = await summary.run(() => indexWith(adapter, h));
            summary.compare(baseline, countSnapshot(store));
            assert.deepEqual(countSnapshot(store), baseline);
            assert.deepEqual(sessionIds(store), baselineIds);
            assert.equal(
              skippedTotal(store),
              baselineSkipped + garbage.length,
              'every broken line is counted as skipped',
            );
            store.close();
          }),
          { numRuns: RUNS },
        );
      });
    }
    if (adapter.format === 'lines') {
      it('property: parseLine never returns a malformed event, whatever the shape of any field', async () => {
        const all = files.flat().map((b) => b.toString('utf8'));
        const discovered = { path: names[0], session_id: null, parent_session_id: null, agent_id: null, root: home };
        await fc.assert(
          fc.property(fc.nat(), fc.nat(), wrongShape, (li, pi, value) => {
            summary.cases++;
            const rec = JSON.parse(all[li % all.length]) as unknown;
            const ps = paths(rec);
            if (ps.length) setPath(rec, ps[pi % ps.length], value);
            let events: AgentEvent[] | null = null;
            try {
              events = adapter.parseLine!(JSON.stringify(rec), { file: discovered, state: {} });
            } catch (err) {
              // Throwing is how a line is refused (the indexer counts it); it must be an Error.
              assert.ok(err instanceof Error, `threw ${String(err)}`);
            }
            for (const e of events ?? []) assertEventShape(e);
          }),
          { numRuns: RUNS * 40 },
        );
      });
    }

    if (!sqlite)
      it('property: a field of the wrong shape in any record never crashes the indexer or stores a non-number', async () => {
        await fc.assert(
          fc.asyncProperty(fc.nat(), fc.nat(), fc.nat(), wrongShape, async (fi, li, pi, value) => {
            const h = await mutatedHome((lines, i) => {
              if (i !== fi % files.length) return lines;
              const k = li % lines.length;
              try {
                const rec = JSON.parse(lines[k].toString('utf8')) as unknown;
                const ps = paths(rec);
                if (ps.length) setPath(rec, ps[pi % ps.length], value);
                lines[k] = Buffer.from(JSON.stringify(rec));
              } catch {
                // a document adapter's non-JSON line: left as it is
              }
              return lines;
            });
            const store = await summary.run(() => indexWith(adapter, h));
            summary.cases++;
            assertSaneNumbers(store);
            store.close();
          }),
          { numRuns: RUNS },
        );
      });

    if (jsonl)
      it('unknown record types and a future schema version: no crash, the known records count the same', async () => {
        const h = await mutatedHome((lines) => {
          const extra = [
            {
              type: 'x-record-from-the-future',
              timestamp: '2026-11-25T00:00:00.000Z',
              payload: { type: 'x-unknown', value: 1 },
            },
            { type: 'event_msg', payload: { type: 'x-unknown-event' }, timestamp: '2026-11-25T00:00:00.000Z' },
            { version: 999, schema_version: 999, type: 'summary', summary: 'future' },
            [1, 2, 3],
            42,
            'a string',
            null,
          ];
          return [...lines, ...extra.map((r) => Buffer.from(JSON.stringify(r)))];
        });
        const store = await summary.run(() => indexWith(adapter, h));
        summary.compare(baseline, countSnapshot(store));
        assert.deepEqual(countSnapshot(store), baseline);
        store.close();
      });

    if (jsonl)
      it('a 50 MB line (garbage) is skipped and counted; the lines around it are indexed', async () => {
        const huge = Buffer.alloc(50 * 1024 * 1024, 0x78); // 'xxxx…'
        const h = await mutatedHome((lines) => [...lines.slice(0, 1), huge, ...lines.slice(1)]);
        const store = await summary.run(() => indexWith(adapter, h));
        summary.compare(baseline, countSnapshot(store));
        assert.deepEqual(countSnapshot(store), baseline);
        assert.ok(skippedTotal(store) >= baselineSkipped + 1, 'the 50 MB line is counted as skipped');
        store.close();
      });
    if (sqlite) {
      it('property: a database replaced by random bytes is counted as skipped and keeps what was indexed from it', async () => {
        await fc.assert(
          fc.asyncProperty(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8192 }), async (fi, bytes) => {
            const h = await agentHome(adapter.id);
            const store = await Store.open(null);
            const ix = new Indexer(store, [adapter], { home: h, env: {} }, silentLogger);
            await ix.scanAll();
            const mine = await transcripts(adapter, h);
            await fsp.writeFile(mine[fi % mine.length], bytes);
            await summary.run(() => ix.scanAll());
            summary.compare(baseline, countSnapshot(store));
            assert.deepEqual(
              countSnapshot(store),
              baseline,
              'what the database counted before stays until it can be read again',
            );
            store.close();
          }),
          { numRuns: RUNS },
        );
      });
    }
    if (!jsonl && !sqlite) {
      it('a JSON document with unknown message types, a future format version and a 50 MB message: no crash, the known messages count the same', async () => {
        const h = await agentHome(adapter.id);
        for (const f of await transcripts(adapter, h)) {
          const doc = JSON.parse(await fsp.readFile(f, 'utf8')) as { v?: unknown; messages: unknown[] };
          doc.v = 999;
          doc.messages.push({ role: 'x-future-role', messageId: 9999, content: [{ type: 'x-unknown' }] });
          doc.messages.splice(1, 0, {
            role: 'info',
            messageId: 9998,
            content: [{ type: 'text', text: 'y'.repeat(50 * 1024 * 1024) }],
          });
          await fsp.writeFile(f, JSON.stringify(doc));
        }
        const store = await summary.run(() => indexWith(adapter, h));
        summary.compare(baseline, countSnapshot(store));
        assert.deepEqual(countSnapshot(store), baseline);
        store.close();
      });

      it('property: a broken document (truncated, NUL, invalid UTF-8) is counted as skipped and keeps what was indexed from it', async () => {
        await fc.assert(
          fc.asyncProperty(garbageArb, async (g) => {
            const h = await agentHome(adapter.id);
            const store = await Store.open(null);
            const ix = new Indexer(store, [adapter], { home: h, env: {} }, silentLogger);
            await ix.scanAll();
            const mine = await transcripts(adapter, h);
            const victim = mine[g.file % mine.length];
            await fsp.writeFile(victim, brokenLine(g, await fsp.readFile(victim)));
            await summary.run(() => ix.scanAll());
            summary.compare(baseline, countSnapshot(store));
            assert.deepEqual(
              countSnapshot(store),
              baseline,
              'what the document counted before stays until it can be read again',
            );
            assert.ok(skippedTotal(store) >= 1);
            store.close();
          }),
          { numRuns: RUNS },
        );
      });
    }
  });
}

// Note: document adapters (one JSON document per thread, e.g. Amp) cannot mix good and broken
// records in one file: a broken document is covered in filesystem.test.ts ("a half-written
// document keeps what was indexed").
void path;
