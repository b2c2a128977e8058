import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { adapterFor } from '../sources/registry';
import type { DiscoveredFile, DocumentSession, SourceAdapter } from '../sources/types';
import { type LineReadJob, type LinesRead, readNewLines } from './lineRead';

/**
 * Reading and parsing transcripts across cores. The indexer's thread is the store's single writer;
 * parse workers read files (the new lines of a transcript, lineRead.ts, or a whole document) and
 * turn them into events while it writes the previous files' rows. Results are applied in the order the files were found, so the store is
 * exactly the one a serial pass writes (test/unit/store-identity.test.ts compares them).
 *
 * Workers start on the first batch and end with the pool (one full pass); a pool that cannot start
 * workers (no parseWorker.js beside this module) reads on the calling thread, as does any adapter
 * that is not the registry's own (tests' adapters).
 */

/** One file to read: the new lines of a transcript, or a whole document. */
export type ParseItem =
  | { adapterId: string; kind: 'lines'; job: LineReadJob }
  | { adapterId: string; kind: 'document'; file: DiscoveredFile };
/** One message to a worker: several files, so that thousands of small files are not as many wake-ups. */
export interface ParseRequest {
  id: number;
  items: ParseItem[];
}
/**
 * What a read gave: a document's error is a value (counted as a skipped record), as is any other.
 * `workerDied`: the worker ended before answering (out of memory on a huge document, a crash): the
 * file is read again on the calling thread.
 */
export type ParseOutcome = { read: LinesRead } | { sessions: DocumentSession[] } | { error: string; workerDied?: true };
export interface ParseResponse {
  id: number;
  outcomes: ParseOutcome[];
}

/**
 * One parse worker per core but the writer's (at least one), or AGENT_HANDLER_PARSE_WORKERS (0: read
 * on the indexer's own thread). The writer is what bounds a pass: on 2 cores a second worker only
 * took CPU from it (1 GB cold: 14.4 s and 325 MB with two, 10.0 s and 263 MB with one;
 * docs/performance.md).
 */
export function defaultParseWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.AGENT_HANDLER_PARSE_WORKERS;
  if (set !== undefined && /^\d+$/.test(set.trim())) return Math.min(Number(set), 64);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cores - 1);
}

/** Reads one file with its adapter, on the calling thread (a worker's, or the indexer's). */
export async function readItem(adapter: SourceAdapter, item: ParseItem): Promise<ParseOutcome> {
  try {
    if (item.kind === 'document') return { sessions: await adapter.readDocument!(item.file) };
    return { read: await readNewLines(adapter, item.job) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** A worker's batch: each file with the registry's adapter of its id. */
export async function readItems(items: ParseItem[]): Promise<ParseOutcome[]> {
  const outcomes: ParseOutcome[] = [];
  for (const item of items) {
    const adapter = adapterFor(item.adapterId);
    outcomes.push(adapter ? await readItem(adapter, item) : { error: `no adapter ${item.adapterId}` });
  }
  return outcomes;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export class ParsePool {
  private slots: Slot[] | null = null;
  private readonly pending = new Map<number, { slot: Slot; resolve: (o: ParseOutcome[]) => void; size: number }>();
  private nextId = 1;
  private disabled: boolean;
  /** Workers that ended before answering: after a few, the pool stops starting new ones. */
  private deaths = 0;
  /** Files handed to a worker so far. */
  jobsSent = 0;

  constructor(
    readonly size: number,
    private readonly workerFile = path.join(__dirname, 'parseWorker.js'),
  ) {
    this.disabled = size < 1 || !existsSync(workerFile);
  }

  /** Whether this adapter's files can go to a worker (the registry's adapters, workers available). */
  canRead(adapter: SourceAdapter): boolean {
    return !this.disabled && adapterFor(adapter.id) === adapter;
  }

  /** Reads a batch in the least busy worker. Never rejects: a worker that dies fails its files. */
  read(items: ParseItem[]): Promise<ParseOutcome[]> {
    // Workers kept dying: what was batched for them is read on the calling thread.
    if (this.disabled)
      return Promise.resolve(items.map(() => ({ error: 'no parse worker', workerDied: true as const })));
    const slot = this.leastBusy();
    const id = this.nextId++;
    this.jobsSent += items.length;
    return new Promise<ParseOutcome[]>((resolve) => {
      this.pending.set(id, { slot, resolve, size: items.length });
      slot.busy++;
      slot.worker.postMessage({ id, items } satisfies ParseRequest);
    });
  }

  /** Ends the workers (batches still running fail). */
  async close(): Promise<void> {
    const slots = this.slots ?? [];
    this.slots = null;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private leastBusy(): Slot {
    this.slots ??= Array.from({ length: this.size }, () => this.startWorker());
    return this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private startWorker(): Slot {
    // Not unref()'d: while the indexer awaits a batch, the worker is what keeps the event loop
    // alive (unref'd, a CLI run could end with the batch unanswered). close() ends it with the pass.
    const worker = new Worker(this.workerFile);
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (res: ParseResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      slot.busy--;
      p.resolve(res.outcomes);
    });
    worker.on('error', (err) => this.failSlot(slot, err));
    worker.on('exit', (code) => this.failSlot(slot, new Error(`parse worker exited (${code})`)));
    return slot;
  }

  /**
   * A worker that died hands its files back (read on the calling thread instead) and is replaced,
   * up to MAX_WORKER_DEATHS times a pool: past that, every read runs on the calling thread.
   */
  private failSlot(slot: Slot, err: Error): void {
    if (!this.slots?.includes(slot)) return; // closed, or already replaced
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.resolve(Array.from({ length: p.size }, () => ({ error: err.message, workerDied: true as const })));
    }
    this.slots.splice(this.slots.indexOf(slot), 1);
    if (++this.deaths >= MAX_WORKER_DEATHS) this.disabled = true;
    else this.slots.push(this.startWorker());
    if (this.slots.length === 0) this.slots = null;
  }
}

/** Workers a pool replaces before it reads on the calling thread for good. */
const MAX_WORKER_DEATHS = 3;

/** A batch sent once it holds this many bytes to read or this many files. */
const BATCH_BYTES = 2 * 1024 * 1024;
const BATCH_FILES = 64;
/** Batches in flight at most, per worker, and bytes read ahead at most (held in memory until written). */
const AHEAD_BATCHES_PER_WORKER = 2;
const AHEAD_BYTES = 64 * 1024 * 1024;
/** A pass starts workers only once it has this much to read: a few small appends are read at once. */
const INLINE_BYTES = 4 * 1024 * 1024;
const INLINE_FILES = 16;

interface ReadPlan {
  adapter: SourceAdapter;
  item: ParseItem;
  bytesToRead: number;
}

type Finish<P> = (plan: P, outcome: ParseOutcome) => void;
type Failed<P> = (plan: P, err: Error) => void;

interface Batch<P> {
  plans: P[];
  bytes: number;
  outcomes: Promise<ParseOutcome[]> | null;
}

/**
 * Reads ahead through a pool, files grouped in batches, and hands each outcome to `finish` in the
 * order the plans were added, so the writes happen exactly as a serial pass makes them while the
 * workers read the next files.
 */
export class ReadPipeline<P extends ReadPlan> {
  /** Batches sent or still filling (the last one), oldest first. */
  private readonly batches: Batch<P>[] = [];
  private aheadBytes = 0;
  private planned = 0;
  private plannedBytes = 0;

  constructor(
    private readonly pool: ParsePool,
    private readonly finish: Finish<P>,
    private readonly failed: Failed<P>,
  ) {}

  /** Files the pool's workers read (the rest ran on the calling thread). */
  get readByWorkers(): number {
    return this.pool.jobsSent;
  }

  /** Adds a read; writes the oldest outcomes first while too much is read ahead. */
  async add(plan: P): Promise<void> {
    this.planned++;
    this.plannedBytes += plan.bytesToRead;
    const useWorkers =
      this.pool.canRead(plan.adapter) && (this.planned > INLINE_FILES || this.plannedBytes > INLINE_BYTES);
    if (!useWorkers) {
      // In order: whatever is read ahead is written first.
      await this.drain();
      return this.settle(plan, await readItem(plan.adapter, plan.item));
    }
    let open = this.batches.at(-1);
    if (!open || open.outcomes) this.batches.push((open = { plans: [], bytes: 0, outcomes: null }));
    open.plans.push(plan);
    open.bytes += plan.bytesToRead;
    this.aheadBytes += plan.bytesToRead;
    if (open.bytes >= BATCH_BYTES || open.plans.length >= BATCH_FILES) this.send(open);
    const maxBatches = AHEAD_BATCHES_PER_WORKER * this.pool.size;
    while (this.batches.length > maxBatches || (this.batches.length > 1 && this.aheadBytes > AHEAD_BYTES))
      await this.finishOldest();
  }

  /** Writes every read still in flight, in order. */
  async drain(): Promise<void> {
    while (this.batches.length) await this.finishOldest();
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private send(batch: Batch<P>): void {
    batch.outcomes = this.pool.read(batch.plans.map((p) => p.item));
  }

  private async finishOldest(): Promise<void> {
    const batch = this.batches[0]!;
    if (!batch.outcomes) this.send(batch);
    const outcomes = await batch.outcomes!;
    this.batches.shift();
    this.aheadBytes -= batch.bytes;
    for (let i = 0; i < batch.plans.length; i++) {
      const plan = batch.plans[i]!;
      const outcome = outcomes[i];
      const again = !outcome || ('workerDied' in outcome && outcome.workerDied);
      this.settle(plan, again ? await readItem(plan.adapter, plan.item) : outcome);
    }
  }

  private settle(plan: P, outcome: ParseOutcome): void {
    try {
      this.finish(plan, outcome);
    } catch (err) {
      this.failed(plan, err as Error);
    }
  }
}
