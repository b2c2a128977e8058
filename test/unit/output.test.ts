/**
 * The CLI's writer (src/cli/output.ts) on hand-made streams: a reader that goes away is quiet, a
 * failing disk is not, a full queue is waited for; and the streamed JSON array is JSON.stringify's.
 * The built CLI on real pipes is in cli-pipe.test.ts.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { Output, jsonArray } from '../../src/cli/output';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

/** A stream whose every write fails with `code`, as a pipe whose reader left fails with EPIPE. */
function failing(code: string): { stream: Writable; attempts: () => number } {
  let attempts = 0;
  const stream = new Writable({
    highWaterMark: 4,
    write(_chunk: Buffer, _enc, cb) {
      attempts++;
      setImmediate(() => cb(errno(code)));
    },
  });
  return { stream, attempts: () => attempts };
}

describe('CLI output writer', () => {
  test('jsonArray: the bytes of JSON.stringify(items, null, 2) + newline, nested values and newlines in strings included', () => {
    const cases: unknown[][] = [
      [],
      [1],
      ['a\nb', null, true],
      [
        { a: 'line one\nline two', b: [1, { c: null, d: [] }], e: {}, f: 'quote " and \\ backslash' },
        { g: [[1, 2], [3]] },
      ],
      [undefined, { h: undefined, i: 1 }],
    ];
    for (const items of cases)
      assert.equal([...jsonArray(items)].join(''), `${JSON.stringify(items, null, 2)}\n`, JSON.stringify(items));
  });

  test('a reader gone (EPIPE): writing stops, no failure reported, a write waiting for room returns', async () => {
    const { stream, attempts } = failing('EPIPE');
    const failures: NodeJS.ErrnoException[] = [];
    const out = new Output(stream, (err) => failures.push(err));
    await out.write('x'.repeat(100)); // over highWaterMark: waits for 'drain', which the error replaces
    assert.equal(out.closed, true);
    assert.equal(out.error, null);
    await out.write('more');
    await out.writeAll(['and', 'more']);
    assert.equal(attempts(), 1, 'nothing written after the reader left');
    assert.deepEqual(failures, []);
  });

  test('another write failure (ENOSPC): reported once, kept as the error, writing stops', async () => {
    const { stream, attempts } = failing('ENOSPC');
    const failures: string[] = [];
    const out = new Output(stream, (err) => failures.push(err.code ?? '?'));
    await out.write('x'.repeat(100));
    await out.write('y');
    assert.equal(out.closed, true);
    assert.equal(out.error?.code, 'ENOSPC');
    assert.deepEqual(failures, ['ENOSPC']);
    assert.equal(attempts(), 1);
  });

  test('writeAll on a slow stream: every byte in order, and never more than one chunk queued', async () => {
    const received: Buffer[] = [];
    let mostQueued = 0;
    const stream = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        received.push(chunk);
        mostQueued = Math.max(mostQueued, stream.writableLength); // this chunk and all queued behind it
        setTimeout(cb, 1); // a slow reader: the queue fills and must drain
      },
    });
    const out = new Output(stream);
    const pieces = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, '0')}${'.'.repeat(1000)}\n`);
    await out.writeAll(pieces);
    await new Promise<void>((resolve) => stream.end(resolve));
    assert.equal(Buffer.concat(received).toString(), pieces.join(''));
    // 400 KB went through a 16 KB stream; the writer waited for room instead of queueing it all.
    assert.ok(mostQueued <= 2 * 64 * 1024, `queued at most ${mostQueued} bytes`);
    assert.equal(out.closed, false);
  });
});
