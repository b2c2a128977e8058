import type { Writable } from 'node:stream';

/**
 * The CLI's standard output and standard error, written so that a file, a pipe (`| jq .`), a slow
 * reader and a terminal all get the complete output, and `| head -1` ends quietly.
 *
 * On a pipe Node hands the OS what the pipe takes and queues the rest inside the process; a
 * `process.exit()` then throws the queue away (of a 5 MB `sessions --json`, `jq` got 64 KiB).
 * So the CLI never calls process.exit: it sets process.exitCode and lets the event loop end, which
 * it does only after every queued write has reached the OS. Big outputs go out in chunks that wait
 * for 'drain', so the queue (and the memory it holds) stays one chunk deep.
 *
 * A reader that stops reading and closes its end (`head -1`) makes the next write fail with EPIPE.
 * That is the reader's choice, not the command's failure: writing stops, nothing is printed, and
 * the exit code stays the command's (git and ccusage behave the same). Node ignores SIGPIPE, so the
 * failure arrives as an 'error' event, which without a listener would crash with a stack trace.
 */

/** How much text one write hands the stream: big enough to be few writes, small enough to queue. */
const CHUNK_CHARS = 64 * 1024;

/** The reader went away: `head`, a closed pager, a consumer that crashed. Not worth a message. */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

export class Output {
  private gone = false;
  private failure: NodeJS.ErrnoException | null = null;

  /** `onFailure` hears of a write that failed for another reason than a reader gone (a full disk). */
  constructor(
    private readonly stream: Writable,
    private readonly onFailure: (err: NodeJS.ErrnoException) => void = () => undefined,
  ) {
    // A permanent listener: an 'error' nobody listens to is an uncaught exception.
    stream.on('error', (err: NodeJS.ErrnoException) => this.failed(err));
  }

  /** Nothing more will be written: the reader went away, or a write failed. */
  get closed(): boolean {
    return this.gone || this.failure !== null;
  }

  /** A write that failed for another reason than a reader gone; null if none did. */
  get error(): NodeJS.ErrnoException | null {
    return this.failure;
  }

  /** Writes `text`, and waits when the stream's queue is full until the reader has taken some. */
  async write(text: string): Promise<void> {
    if (this.closed || text === '') return;
    let room: boolean;
    try {
      room = this.stream.write(text);
    } catch (err) {
      // A file (a synchronous stream) can fail inside write() itself, e.g. ENOSPC.
      this.failed(err as NodeJS.ErrnoException);
      return;
    }
    if (!room) await this.drained();
  }

  /** Writes the pieces in order, joined into chunks of about CHUNK_CHARS, each waiting for room. */
  async writeAll(pieces: Iterable<string>): Promise<void> {
    let chunk = '';
    for (const piece of pieces) {
      if (this.closed) return; // the reader is gone: the rest need not even be made
      chunk += piece;
      if (chunk.length >= CHUNK_CHARS) {
        await this.write(chunk);
        chunk = '';
      }
    }
    await this.write(chunk);
  }

  /** Writes bytes made already (e.g. a saved answer), in order, each waiting for room. */
  async writeBytes(pieces: readonly Uint8Array[]): Promise<void> {
    for (const piece of pieces) {
      if (this.closed) return;
      if (piece.length === 0) continue;
      let room: boolean;
      try {
        room = this.stream.write(piece);
      } catch (err) {
        this.failed(err as NodeJS.ErrnoException);
        return;
      }
      if (!room) await this.drained();
    }
  }

  private drained(): Promise<void> {
    if (this.closed || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      // 'close' and 'error' too: a stream that breaks while full never drains.
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
      this.stream.on('error', done);
    });
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (this.closed) return; // the first failure is the one; a closed stream repeats itself
    if (err.code !== undefined && READER_GONE.has(err.code)) {
      this.gone = true;
      return;
    }
    this.failure = err;
    this.onFailure(err);
  }
}

/**
 * `JSON.stringify(items, null, 2)` and a newline, the same bytes, one element at a time: a list
 * of thousands of sessions never becomes one string of many megabytes.
 */
export function* jsonArray(items: readonly unknown[]): Generator<string> {
  yield* jsonArrayOf(items.map(jsonArrayElement));
}

/**
 * One element of jsonArray's output as it stands inside the array (indented one level), so it can
 * be kept and written again (the CLI's scan manifest). JSON.stringify escapes the newlines inside
 * strings, so every '\n' in an element's text is a line break to indent.
 */
export function jsonArrayElement(item: unknown): string {
  // An element JSON cannot represent (undefined, a function) is `null` in an array, as in JSON.stringify.
  const text: string = JSON.stringify(item, null, 2) ?? 'null';
  return `  ${text.replace(/\n/g, '\n  ')}`;
}

/** The array of elements made by jsonArrayElement, with its brackets and separators. */
export function* jsonArrayOf(elements: Iterable<string>): Generator<string> {
  let first = true;
  for (const element of elements) {
    yield first ? '[\n' : ',\n';
    yield element;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}
