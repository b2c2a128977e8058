import { promises as fsp } from 'node:fs';
import type { AgentEvent } from '../model/events';
import { processRuns } from '../live/process';
import { type FileState, newFileState } from '../model/reducer';
import { statSignature, walk } from './fileWalk';
import { type PriceOverrides, priceStoredRequest } from '../pricing';
import { repriceAll } from '../pricing/repricing';
import {
  DOC_SEP,
  type FileHead,
  type FileRow,
  documentPathOf,
  getFile,
  insertFile,
  listDocumentSessionRows,
  listFileCursors,
  type FileCursorRow,
  markFileDeleted,
  markFilePresent,
  parseStateJson,
  resetFile,
  saveFileProgress,
  saveFileStat,
} from '../store/files';
import { liveFactsToCheck, replaceLive, setLiveAlive } from '../store/live';
import type { Store } from '../store/store';
import { agentCostFigureName } from '../sources/registry';
import type { DiscoveredFile, SourceAdapter, SourceEnv } from '../sources/types';
import type { LineReadJob, LinesRead } from './lineRead';
import { type ParseItem, type ParseOutcome, ParsePool, ReadPipeline, defaultParseWorkers, readItem } from './parsePool';
import { SettleBatch, Settler } from './settle';
import { detectChange } from './tailer';
import { writeSession } from './writeSession';
import { type IndexStats, type Logger, type ScanObserver, type ScanProgress, emptyStats } from './indexTypes';

export { documentPathOf };
export type { IndexStats, Logger, ScanObserver, ScanProgress };

/**
 * The indexer: finds every transcript of every adapter, reads what each gained since last time,
 * folds it through the adapter and the reducer into the store, then settles what changed
 * (cross-file deduplication, session totals, git facts of new working directories). It never
 * touches VS Code; the worker thread, the CLI and the tests drive it.
 */

export interface IndexerOptions {
  /** Threads that read and parse transcripts during a full pass (0: on the indexer's own thread). Default: one per core but the writer's (parsePool.ts). */
  parseWorkers?: number;
  /**
   * Whether a pass lets its thread's event loop run now and then (the index worker: queries and
   * watcher events wait otherwise). The CLI answers nothing while it indexes: it never pauses.
   */
  answersQueries?: boolean;
}

/** An append-only transcript with something to read: planLines decided it, finishLines writes it. */
interface LinesPlan {
  kind: 'lines';
  adapter: SourceAdapter;
  file: DiscoveredFile;
  item: ParseItem;
  bytesToRead: number;
  row: FileRow;
  change: { size: number; mtime_ms: number; ino: string };
  state: FileState;
  sideEvents: AgentEvent[];
  fileHasRows: boolean;
}

/** A document that changed: planDocument decided it, finishDocument writes what it holds. */
interface DocumentPlan {
  kind: 'document';
  adapter: SourceAdapter;
  file: DiscoveredFile;
  item: ParseItem;
  bytesToRead: number;
  doc: FileRow;
  sig: { size: number; mtime_ms: number };
}

type ReadPlan = LinesPlan | DocumentPlan;

/** How long an indexing pass may hold its thread before letting queries in. */
const BREATHE_EVERY_MS = 15;

export class Indexer {
  private readonly machineId: string | null;
  /** The user's price overrides (`agentHandler.pricing.overrides`); see setPriceOverrides. */
  private overrides: PriceOverrides = {};
  private readonly settler: Settler;
  private readonly parseWorkers: number;
  private readonly answersQueries: boolean;

  constructor(
    private readonly store: Store,
    private readonly adapters: SourceAdapter[],
    private readonly sourceEnv: SourceEnv,
    private readonly log: Logger,
    options: IndexerOptions = {},
  ) {
    this.machineId = store.getMeta('machine_id') ?? null;
    this.settler = new Settler(store, adapters, log);
    this.parseWorkers = options.parseWorkers ?? defaultParseWorkers();
    this.answersQueries = options.answersQueries ?? true;
  }

  /**
   * New price overrides: every stored row is priced again from its stored tokens (no transcript is
   * read). Returns how many rows changed cost.
   */
  setPriceOverrides(overrides: PriceOverrides): number {
    this.overrides = overrides;
    return this.reprice();
  }

  /** The overrides new rows are priced with (stored rows are left as they are). */
  usePriceOverrides(overrides: PriceOverrides): void {
    this.overrides = overrides;
  }

  get priceOverrides(): PriceOverrides {
    return this.overrides;
  }

  /** Prices every stored row again with the current price data and overrides. */
  reprice(): number {
    const overrides = this.overrides;
    return repriceAll(this.store, (r) => priceStoredRequest(r, overrides), agentCostFigureName);
  }

  /** Every (adapter, root) pair, roots resolved through symlinks and without duplicates. */
  async roots(): Promise<{ adapter: SourceAdapter; root: string; exists: boolean }[]> {
    const out: { adapter: SourceAdapter; root: string; exists: boolean }[] = [];
    const seen = new Set<string>();
    for (const adapter of this.adapters) {
      for (const root of adapter.roots(this.sourceEnv)) {
        let real = root;
        let exists = false;
        try {
          real = await fsp.realpath(root);
          exists = true;
        } catch {
          // not there (yet)
        }
        const key = `${adapter.id}\0${real}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ adapter, root: real, exists });
      }
    }
    return out;
  }

  /** Folders the watcher should watch (transcript folders and live registries). */
  async watchTargets(): Promise<string[]> {
    const dirs: string[] = [];
    for (const { adapter, root } of await this.roots()) {
      dirs.push(...adapter.watchDirs(root), ...(adapter.liveDirs?.(root) ?? []));
    }
    return dirs;
  }

  /** Folders the watcher must leave alone (see SourceAdapter.ignoreDirs). */
  async ignoredTargets(): Promise<string[]> {
    return (await this.roots()).flatMap(({ adapter, root }) => adapter.ignoreDirs?.(root) ?? []);
  }

  private lastBreath = 0;

  /**
   * Lets the thread's event loop run (queries, watcher events) when the pass has held it for a
   * while: reads are synchronous, and awaiting settled promises never lets a message in.
   */
  private async breathe(): Promise<void> {
    if (!this.answersQueries) return;
    const now = performance.now();
    if (now - this.lastBreath < BREATHE_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastBreath = performance.now();
  }

  /**
   * Finds the adapter and root a path belongs to. `roots`: the roots already resolved for a batch of
   * paths (each resolution is a realpath per root: ~5% of the worker's time under a stream of watcher
   * events when it was done per path; docs/performance.md "Soak").
   */
  async classify(
    filePath: string,
    roots?: Awaited<ReturnType<Indexer['roots']>>,
  ): Promise<{ adapter: SourceAdapter; file: DiscoveredFile } | null> {
    for (const { adapter, root } of roots ?? (await this.roots())) {
      const file = adapter.classify(root, filePath);
      if (file) return { adapter, file };
    }
    return null;
  }

  /**
   * A full pass: every root walked, every changed file read, vanished files marked, live registries
   * read. `observer.dir` hears of every folder the walk lists, before it lists it (the CLI's scan
   * manifest, cli/manifestWrite.ts).
   */
  scanAll(observer?: ScanObserver): Promise<IndexStats> {
    return this.store.batch(() => this.scanAllFiles(observer));
  }

  private async scanAllFiles(observer?: ScanObserver): Promise<IndexStats> {
    const stats = emptyStats();
    const batch = new SettleBatch();
    const seen = new Set<string>();
    const known = listFileCursors(this.store);
    const bulk = this.store.beginBulkLoad();
    const progress: ScanProgress = { walking: true, files_to_read: 0, files_done: 0, bytes_to_read: 0, bytes_done: 0 };
    const done = (plan: ReadPlan) => {
      progress.files_done++;
      progress.bytes_done += plan.bytesToRead;
      observer?.progress?.(progress);
    };
    const reads = new ReadPipeline<ReadPlan>(
      new ParsePool(this.parseWorkers),
      (plan, outcome) => {
        this.finishRead(plan, outcome, stats, batch);
        done(plan);
      },
      (plan, err) => {
        this.failed(plan.file, err, stats);
        done(plan);
      },
    );
    try {
      for (const { adapter, root, exists } of await this.roots()) {
        if (!exists) continue;
        const ignore = new Set(adapter.ignoreDirs?.(root) ?? []);
        for (const dir of adapter.watchDirs(root)) {
          for (const filePath of walk(dir, ignore, observer?.dir)) {
            const file = adapter.classify(root, filePath);
            // A document spread over several files (a database and its -wal) is read once.
            if (!file || seen.has(file.path)) continue;
            seen.add(file.path);
            stats.files_seen++;
            await this.breathe();
            const plan = await this.planFile(adapter, file, stats, batch, known.get(file.path) ?? null);
            if (!plan) continue;
            progress.files_to_read++;
            progress.bytes_to_read += plan.bytesToRead;
            await reads.add(plan);
          }
        }
      }
      progress.walking = false;
      await reads.drain();
      stats.files_read_by_workers = reads.readByWorkers;
    } finally {
      await reads.close();
      if (bulk) this.store.endBulkLoad();
    }
    // Files first found in this pass are not among them, and were seen.
    for (const f of known.values()) {
      if (!f.deleted && !seen.has(documentPathOf(f.path))) this.markDeleted(f, stats, batch);
    }
    const liveChanges = await this.refreshLive();
    await this.settler.settle(batch, stats);
    stats.sessions_changed += liveChanges;
    return stats;
  }

  /** Reads the given paths (from watcher events): changed, new or gone. */
  indexPaths(paths: Iterable<string>): Promise<IndexStats> {
    return this.store.batch(() => this.indexPathList(paths));
  }

  private async indexPathList(paths: Iterable<string>): Promise<IndexStats> {
    const stats = emptyStats();
    const batch = new SettleBatch();
    const done = new Set<string>();
    let liveChanged = false;
    const roots = await this.roots();
    for (const p of new Set(paths)) {
      const found = await this.classify(p, roots);
      if (found) {
        if (done.has(found.file.path)) continue;
        done.add(found.file.path);
        stats.files_seen++;
        await this.indexFile(found.adapter, found.file, stats, batch);
      } else if (p.endsWith('.json')) {
        liveChanged = true;
      } else {
        const row = getFile(this.store, p);
        if (row && !row.deleted) this.markDeleted(row, stats, batch);
      }
    }
    const liveChanges = liveChanged || batch.liveSessions.size ? await this.refreshLive() : 0;
    await this.settler.settle(batch, stats);
    stats.sessions_changed += liveChanges;
    return stats;
  }

  private markDeleted(f: FileHead, stats: IndexStats, batch: SettleBatch): void {
    for (const k of markFileDeleted(this.store, f.file_id)) batch.keys.add(k);
    if (f.session_id) batch.availability.add(f.session_id);
    stats.files_deleted++;
  }

  /** One file at once, start to end (watcher events: a few files, read on this thread). */
  private async indexFile(adapter: SourceAdapter, file: DiscoveredFile, stats: IndexStats, batch: SettleBatch) {
    const plan = await this.planFile(adapter, file, stats, batch);
    if (!plan) return;
    const outcome = await readItem(adapter, plan.item);
    await this.attempt(file, stats, async () => this.finishRead(plan, outcome, stats, batch));
  }

  /** What a file needs read, if anything (its cursor, its row); null when nothing changed. */
  private async planFile(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    stats: IndexStats,
    batch: SettleBatch,
    known?: FileCursorRow | null,
  ): Promise<ReadPlan | null | undefined> {
    return this.attempt<ReadPlan | null>(file, stats, () =>
      adapter.format === 'document'
        ? this.planDocument(adapter, file, stats, batch)
        : this.planLines(adapter, file, stats, batch, known),
    );
  }

  /** Writes what a read found (lines or a document); a transcript that could not be read is tried again later. */
  private finishRead(plan: ReadPlan, outcome: ParseOutcome, stats: IndexStats, batch: SettleBatch): void {
    if (plan.kind === 'document') return this.finishDocument(plan, outcome, stats, batch);
    if ('read' in outcome) return this.finishLines(plan, outcome.read, stats, batch);
    this.failed(plan.file, new Error('error' in outcome ? outcome.error : 'not lines'), stats);
  }

  /**
   * Runs one file's step. One file that cannot be read right now (renamed or deleted between stat
   * and open, EACCES, EIO on a network mount) must not end the scan of all the others. Its cursor did
   * not move: the next change or rescan reads it from where it stopped (or finds it gone or moved).
   */
  private async attempt<T>(file: DiscoveredFile, stats: IndexStats, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      this.failed(file, err as Error, stats);
      return undefined;
    }
  }

  private failed(file: DiscoveredFile, err: Error, stats: IndexStats): void {
    stats.files_failed++;
    this.log.warn(`${file.path}: could not be read now (${err.message}); will try again on the next change or rescan`);
  }

  /**
   * An append-only transcript, first step, on the store's thread: what changed since the last read
   * (null: nothing to read) and where the read starts. The read itself (lineRead.ts) may run in a
   * parse worker; finishLines writes what it found.
   */
  private async planLines(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    stats: IndexStats,
    batch: SettleBatch,
    known?: FileCursorRow | null,
  ): Promise<LinesPlan | null> {
    // The pass's cursors when it has them (no query per unchanged file), else the file's row.
    const row = known !== undefined ? known : (getFile(this.store, file.path) ?? null);
    const change = await detectChange(file.path, row);
    if (row?.deleted && (change.kind === 'unchanged' || change.kind === 'stat-only')) {
      // Marked deleted, now back as it was (moved away and back): present again, nothing to read.
      for (const k of markFilePresent(this.store, row.file_id)) batch.keys.add(k);
      if (row.session_id) batch.availability.add(row.session_id);
    }
    if (change.kind === 'unchanged') return null;
    if (change.kind === 'gone') {
      if (row && !row.deleted) this.markDeleted(row, stats, batch);
      return null;
    }
    if (change.kind === 'stat-only' && row) {
      saveFileStat(this.store, row.file_id, change.size, change.mtime_ms, change.ino);
      return null;
    }
    // Something to read: the whole row, with the parse state the read goes on from.
    let full =
      (row && getFile(this.store, file.path)) ||
      insertFile(this.store, {
        path: file.path,
        framework: adapter.id,
        root: file.root,
        session_id: file.session_id,
      });
    if (change.kind === 'reset') {
      this.log.info(`${file.path}: ${change.reason}; reading it again from the start`);
      for (const k of resetFile(this.store, full.file_id)) batch.keys.add(k);
      // Its totals must be recomputed even if nothing complete is read back yet.
      if (full.session_id) batch.sessions.add(full.session_id);
      full = getFile(this.store, file.path)!;
      stats.files_reset++;
    }

    // Read from its start (new, reset, or only ever half a line): the file has no usage rows yet.
    const fileHasRows = full.offset > 0;
    const state: FileState = full.state_json ? parseStateJson(full.state_json, file) : newFileState(file);
    state.adapter_state ??= {};
    // Side files (Copilot's workspace.yaml) come before the new lines' events, as they always did.
    const sideEvents: AgentEvent[] = adapter.fileEvents ? await adapter.fileEvents(file).catch(() => []) : [];
    const job: LineReadJob = {
      file,
      offset: full.offset,
      adapterState: state.adapter_state,
      fingerprint: full.fingerprint,
      fingerprintLen: full.fingerprint_len,
    };
    return {
      kind: 'lines',
      adapter,
      file,
      item: { adapterId: adapter.id, kind: 'lines', job },
      bytesToRead: change.size - full.offset,
      row: full,
      change,
      state,
      sideEvents,
      fileHasRows,
    };
  }

  /** An append-only transcript, last step: what the read found, folded and written (in one transaction). */
  private finishLines(plan: LinesPlan, read: LinesRead, stats: IndexStats, batch: SettleBatch): void {
    const { adapter, file, row, change, state, sideEvents, fileHasRows } = plan;
    const { events: lineEvents, adapterState, offset, bytes, lines, skipped, skipReason } = read;
    if (bytes === 0) {
      // Only a half-written line so far: nothing to fold until it is complete.
      saveFileStat(this.store, row.file_id, change.size, change.mtime_ms, change.ino);
      stats.files_partial++;
      return;
    }
    state.adapter_state = adapterState;
    const events = sideEvents.length ? [...sideEvents, ...lineEvents] : lineEvents;
    writeSession(
      this.store,
      { overrides: this.overrides, machineId: this.machineId },
      adapter,
      file,
      row.file_id,
      state,
      events,
      batch,
      {
        size: change.size,
        mtime_ms: change.mtime_ms,
        ino: change.ino,
        offset,
        fingerprint: read.fingerprint,
        fingerprint_len: read.fingerprintLen,
        skipped,
        skip_reason: skipReason,
      },
      fileHasRows,
    );
    if (skipped)
      this.log.warn(`${file.path}: skipped ${skipped} malformed line(s); the rest is indexed (${skipReason})`);
    stats.files_read++;
    stats.lines_read += lines;
    stats.bytes_read += bytes;
    stats.lines_skipped += skipped;
  }

  /**
   * A document (JSON thread, SQLite store, a log whose records rewrite earlier ones): read whole on
   * every change. Each session it holds gets a row of its own (`<document>#session=<id>`) carrying
   * its requests, so a session that disappears from the document is marked gone like a file.
   */
  private async planDocument(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    stats: IndexStats,
    batch: SettleBatch,
  ): Promise<DocumentPlan | null> {
    let doc = getFile(this.store, file.path);
    const sig = adapter.signature ? await adapter.signature(file).catch(() => null) : await statSignature(file.path);
    if (!sig) {
      if (doc && !doc.deleted) {
        this.markDeleted(doc, stats, batch);
        for (const v of listDocumentSessionRows(this.store, file.path))
          if (!v.deleted) this.markDeleted(v, stats, batch);
      }
      return null;
    }
    if (doc && !doc.deleted && doc.size === sig.size && doc.mtime_ms === sig.mtime_ms) return null;
    doc ??= insertFile(this.store, { path: file.path, framework: adapter.id, root: file.root, session_id: null });
    return {
      kind: 'document',
      adapter,
      file,
      doc,
      sig,
      item: { adapterId: adapter.id, kind: 'document', file },
      bytesToRead: sig.size,
    };
  }

  /** A document, last step: the sessions it holds written, those it no longer holds marked gone. */
  private finishDocument(plan: DocumentPlan, outcome: ParseOutcome, stats: IndexStats, batch: SettleBatch): void {
    const { adapter, file, doc, sig } = plan;

    if (!('sessions' in outcome)) {
      // Unreadable now (being written, locked, malformed): counted, and tried again on the next change.
      const error = 'error' in outcome ? outcome.error : 'not a document';
      saveFileProgress(this.store, doc.file_id, {
        ...noProgress(doc),
        skipped: 1,
        skip_reason: `unreadable: ${error.slice(0, 200)}`,
        state: newFileState(file),
        resumable: false,
        session_id: null,
      });
      this.log.warn(`${file.path}: could not be read (${error}); will retry on the next change`);
      stats.lines_skipped++;
      return;
    }
    const sessions = outcome.sessions;
    const present = new Set<string>();
    for (const ds of sessions) {
      const vpath = `${file.path}${DOC_SEP}${ds.session_id}`;
      present.add(vpath);
      let vrow =
        getFile(this.store, vpath) ??
        insertFile(this.store, { path: vpath, framework: adapter.id, root: file.root, session_id: ds.session_id });
      for (const k of resetFile(this.store, vrow.file_id)) batch.keys.add(k);
      vrow = getFile(this.store, vpath)!;
      const state = newFileState({
        session_id: ds.session_id,
        parent_session_id: ds.parent_session_id,
        agent_id: ds.agent_id,
      });
      writeSession(
        this.store,
        { overrides: this.overrides, machineId: this.machineId },
        adapter,
        file,
        vrow.file_id,
        state,
        ds.events,
        batch,
        {
          size: sig.size,
          mtime_ms: sig.mtime_ms,
          ino: '',
          offset: sig.size,
          fingerprint: '',
          fingerprint_len: 0,
          skipped: ds.skipped ?? 0,
          skip_reason: ds.skip_reason ?? null,
        },
        false,
      );
      if (ds.skipped) {
        stats.lines_skipped += ds.skipped;
        this.log.warn(
          `${file.path}: skipped ${ds.skipped} malformed record(s) of session ${ds.session_id}; the rest is indexed (${ds.skip_reason ?? ''})`,
        );
      }
    }
    for (const v of listDocumentSessionRows(this.store, file.path))
      if (!present.has(v.path) && !v.deleted) this.markDeleted(v, stats, batch);
    // Read whole: what an earlier read skipped (e.g. an unreadable moment) no longer counts.
    resetFile(this.store, doc.file_id);
    saveFileProgress(this.store, doc.file_id, {
      size: sig.size,
      mtime_ms: sig.mtime_ms,
      ino: '',
      offset: sig.size,
      fingerprint: '',
      fingerprint_len: 0,
      state: newFileState(file),
      resumable: false,
      skipped: 0,
      skip_reason: null,
      session_id: null,
    });
    stats.files_read++;
    stats.bytes_read += sig.size;
  }

  /**
   * Reads every adapter's live process registry (pids, status), checking each pid against the OS,
   * and checks the processes our hooks recorded. Returns how many hook-recorded processes changed
   * between running and gone (a registry change is reported by the file change that caused it).
   */
  async refreshLive(): Promise<number> {
    let changes = 0;
    for (const { adapter, root, exists } of await this.roots()) {
      if (!adapter.liveRegistry || !exists) continue;
      const entries = await adapter.liveRegistry(root);
      replaceLive(this.store, root, entries);
    }
    // The processes our hooks recorded: one that is gone without a SessionEnd ended the session.
    for (const f of liveFactsToCheck(this.store)) {
      const alive = await processRuns(f.pid, f.process_started_at_ms);
      if (f.alive === null || (f.alive === 1) !== alive) {
        setLiveAlive(this.store, f.session_id, f.file_id, alive);
        changes++;
      }
    }
    return changes;
  }
}

function noProgress(f: FileRow) {
  return {
    size: f.size,
    mtime_ms: f.mtime_ms,
    ino: f.ino ?? '',
    offset: f.offset,
    fingerprint: f.fingerprint ?? '',
    fingerprint_len: f.fingerprint_len,
  };
}
