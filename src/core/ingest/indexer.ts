import { DiffStats } from '../git/pr';
import { promises as fsp } from 'node:fs';
import type { AgentEvent, LiveEvent } from '../model/events';
import { processRuns } from '../live/process';
import { type FileState, foldEvents, newFileState } from '../model/reducer';
import { repoInfo } from '../git/repo';
import { ReflogCache, attributedBranch } from '../git/reflog';
import { statSignature, walk } from './fileWalk';
import { type PriceOverrides, priceRequest, priceStoredRequest } from '../pricing';
import { type CostFigureName, fillFromAgentFigures, repriceAll } from '../pricing/repricing';
import {
  sessionBranches,
  setBranchDiff,
  setCwdInfo,
  setPrRowBranch,
  setRowBranch,
  unresolvedBranchRows,
  unresolvedCwds,
  unresolvedPrRows,
} from '../store/attribution';
import { addFileDetails } from '../store/details';
import {
  DOC_SEP,
  type FileHead,
  type FileRow,
  documentPathOf,
  getFile,
  insertFile,
  listDocumentSessionRows,
  listFileHeads,
  markFileDeleted,
  markFilePresent,
  parseStateJson,
  resetFile,
  saveFileProgress,
  saveFileStat,
} from '../store/files';
import { applyLiveEvents, liveFactsToCheck, replaceLive, setLiveAlive } from '../store/live';
import { type PricedUsageRow, recomputeCounted, recomputeTotals, upsertUsage } from '../store/requests';
import { refreshCopiedCounts, refreshTranscriptAvailability, writeSessionFromFile } from '../store/sessions';
import type { Store } from '../store/store';

export { documentPathOf };
import { agentCostFigureName } from '../sources/registry';
import { lineText } from '../sources/lineBytes';
import type { DiscoveredFile, DocumentSession, SourceAdapter, SourceEnv } from '../sources/types';
import { FINGERPRINT_BYTES, detectChange, fingerprint, readCompleteLines } from './tailer';

/**
 * The indexer: finds every transcript of every adapter, reads what each gained since last time,
 * folds it through the adapter and the reducer into the store, then settles what changed
 * (cross-file deduplication, session totals, git facts of new working directories). It never
 * touches VS Code; the worker thread, the CLI and the tests drive it.
 */

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug?(msg: string): void;
}

export interface IndexStats {
  files_seen: number;
  files_read: number;
  files_reset: number;
  files_deleted: number;
  lines_read: number;
  bytes_read: number;
  lines_skipped: number;
  sessions_changed: number;
  /** Files that grew by an incomplete line only (read when the line is complete). */
  files_partial: number;
  /** Files that could not be read this time (tried again later). */
  files_failed: number;
}

/** What a full pass tells whoever watches it (see scanAll). */
export interface ScanObserver {
  dir?(dir: string): void;
}

function emptyStats(): IndexStats {
  return {
    files_seen: 0,
    files_read: 0,
    files_reset: 0,
    files_deleted: 0,
    lines_read: 0,
    bytes_read: 0,
    lines_skipped: 0,
    sessions_changed: 0,
    files_partial: 0,
    files_failed: 0,
  };
}

/** How long an indexing pass may hold its thread before letting queries in. */
const BREATHE_EVERY_MS = 15;

/** What the agent-figure fill calls an agent's own cost figure in its rule text: the adapter's trait. */
const costFigureName: CostFigureName = agentCostFigureName;

export class Indexer {
  private readonly machineId: string | null;
  /** The user's price overrides (`agentHandler.pricing.overrides`); see setPriceOverrides. */
  private overrides: PriceOverrides = {};
  private readonly reflogs = new ReflogCache();
  private readonly diffs = new DiffStats();

  constructor(
    private readonly store: Store,
    private readonly adapters: SourceAdapter[],
    private readonly sourceEnv: SourceEnv,
    private readonly log: Logger,
  ) {
    this.machineId = store.getMeta('machine_id') ?? null;
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
    return repriceAll(this.store, (r) => priceStoredRequest(r, overrides), costFigureName);
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
    const now = performance.now();
    if (now - this.lastBreath < BREATHE_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastBreath = performance.now();
  }

  /** Finds the adapter and root a path belongs to. */
  async classify(filePath: string): Promise<{ adapter: SourceAdapter; file: DiscoveredFile } | null> {
    for (const { adapter, root } of await this.roots()) {
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
    const batch = new Batch();
    const seen = new Set<string>();
    const bulk = this.store.beginBulkLoad();
    try {
      for (const { adapter, root, exists } of await this.roots()) {
        if (!exists) continue;
        const ignore = new Set(adapter.ignoreDirs?.(root) ?? []);
        for (const dir of adapter.watchDirs(root)) {
          for await (const filePath of walk(dir, ignore, observer?.dir)) {
            const file = adapter.classify(root, filePath);
            // A document spread over several files (a database and its -wal) is read once.
            if (!file || seen.has(file.path)) continue;
            seen.add(file.path);
            stats.files_seen++;
            await this.breathe();
            await this.indexFile(adapter, file, stats, batch);
          }
        }
      }
    } finally {
      if (bulk) this.store.endBulkLoad();
    }
    for (const f of listFileHeads(this.store)) {
      if (!f.deleted && !seen.has(documentPathOf(f.path))) this.markDeleted(f, stats, batch);
    }
    const liveChanges = await this.refreshLive();
    await this.settle(batch, stats);
    stats.sessions_changed += liveChanges;
    return stats;
  }

  /** Reads the given paths (from watcher events): changed, new or gone. */
  indexPaths(paths: Iterable<string>): Promise<IndexStats> {
    return this.store.batch(() => this.indexPathList(paths));
  }

  private async indexPathList(paths: Iterable<string>): Promise<IndexStats> {
    const stats = emptyStats();
    const batch = new Batch();
    const done = new Set<string>();
    let liveChanged = false;
    for (const p of new Set(paths)) {
      const found = await this.classify(p);
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
    await this.settle(batch, stats);
    stats.sessions_changed += liveChanges;
    return stats;
  }

  private markDeleted(f: FileHead, stats: IndexStats, batch: Batch): void {
    for (const k of markFileDeleted(this.store, f.file_id)) batch.keys.add(k);
    if (f.session_id) batch.availability.add(f.session_id);
    stats.files_deleted++;
  }

  private async indexFile(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    stats: IndexStats,
    batch: Batch,
  ): Promise<void> {
    try {
      await (adapter.format === 'document'
        ? this.indexDocument(adapter, file, stats, batch)
        : this.indexLines(adapter, file, stats, batch));
    } catch (err) {
      // One file that cannot be read right now (renamed or deleted between stat and open, EACCES,
      // EIO on a network mount) must not end the scan of all the others. Its cursor did not move:
      // the next change or rescan reads it from where it stopped (or finds it gone or moved).
      stats.files_failed++;
      this.log.warn(
        `${file.path}: could not be read now (${(err as Error).message}); will try again on the next change or rescan`,
      );
    }
  }

  /** An append-only transcript: only the complete lines added since the last read. */
  private async indexLines(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    stats: IndexStats,
    batch: Batch,
  ): Promise<void> {
    let row = getFile(this.store, file.path);
    const change = await detectChange(file.path, row ?? null);
    if (row?.deleted && (change.kind === 'unchanged' || change.kind === 'stat-only')) {
      // Marked deleted, now back as it was (moved away and back): present again, nothing to read.
      for (const k of markFilePresent(this.store, row.file_id)) batch.keys.add(k);
      if (row.session_id) batch.availability.add(row.session_id);
    }
    if (change.kind === 'unchanged') return;
    if (change.kind === 'gone') {
      if (row && !row.deleted) this.markDeleted(row, stats, batch);
      return;
    }
    if (change.kind === 'stat-only' && row) {
      saveFileStat(this.store, row.file_id, change.size, change.mtime_ms, change.ino);
      return;
    }
    row ??= insertFile(this.store, {
      path: file.path,
      framework: adapter.id,
      root: file.root,
      session_id: file.session_id,
    });
    if (change.kind === 'reset') {
      this.log.info(`${file.path}: ${change.reason}; reading it again from the start`);
      for (const k of resetFile(this.store, row.file_id)) batch.keys.add(k);
      // Its totals must be recomputed even if nothing complete is read back yet.
      if (row.session_id) batch.sessions.add(row.session_id);
      row = getFile(this.store, file.path)!;
      stats.files_reset++;
    }

    // Read from its start (new, reset, or only ever half a line): the file has no usage rows yet.
    const fileHasRows = row.offset > 0;
    const state: FileState = row.state_json ? parseStateJson(row.state_json, file) : newFileState(file);
    state.adapter_state ??= {};
    const events: AgentEvent[] = adapter.fileEvents ? await adapter.fileEvents(file).catch(() => []) : [];
    const ctx = { file, state: state.adapter_state };
    let skipped = 0;
    let skipReason: string | null = null;
    let lines = 0;
    const { offset, bytes } = await readCompleteLines(file.path, row.offset, (buf) => {
      lines++;
      const line = lineText(buf);
      if (!line) return;
      try {
        const evs = adapter.parseLine!(line, ctx);
        if (evs) for (const e of evs) events.push(e);
        else {
          skipped++;
          skipReason = `line ${lines} of a read: not a record`;
        }
      } catch (err) {
        skipped++;
        skipReason = `line ${lines} of a read: ${(err as Error).message.slice(0, 200)}`;
      }
    });
    if (bytes === 0) {
      // Only a half-written line so far: nothing to fold until it is complete.
      saveFileStat(this.store, row.file_id, change.size, change.mtime_ms, change.ino);
      stats.files_partial++;
      return;
    }
    const fpLen = Math.min(FINGERPRINT_BYTES, Math.max(row.fingerprint_len, offset));
    const fp = fpLen === row.fingerprint_len && row.fingerprint ? row.fingerprint : await fingerprint(file.path, fpLen);
    this.writeSession(
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
        fingerprint: fp,
        fingerprint_len: fpLen,
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
  private async indexDocument(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    stats: IndexStats,
    batch: Batch,
  ): Promise<void> {
    let doc = getFile(this.store, file.path);
    const sig = adapter.signature ? await adapter.signature(file).catch(() => null) : await statSignature(file.path);
    const docRows = () => listDocumentSessionRows(this.store, file.path);
    if (!sig) {
      if (doc && !doc.deleted) {
        this.markDeleted(doc, stats, batch);
        for (const v of docRows()) if (!v.deleted) this.markDeleted(v, stats, batch);
      }
      return;
    }
    if (doc && !doc.deleted && doc.size === sig.size && doc.mtime_ms === sig.mtime_ms) return;
    doc ??= insertFile(this.store, { path: file.path, framework: adapter.id, root: file.root, session_id: null });

    let sessions: DocumentSession[];
    try {
      sessions = await adapter.readDocument!(file);
    } catch (err) {
      // Unreadable now (being written, locked, malformed): counted, and tried again on the next change.
      saveFileProgress(this.store, doc.file_id, {
        ...noProgress(doc),
        skipped: 1,
        skip_reason: `unreadable: ${(err as Error).message.slice(0, 200)}`,
        state: newFileState(file),
        resumable: false,
        session_id: null,
      });
      this.log.warn(`${file.path}: could not be read (${(err as Error).message}); will retry on the next change`);
      stats.lines_skipped++;
      return;
    }
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
      this.writeSession(
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
    for (const v of docRows()) if (!present.has(v.path) && !v.deleted) this.markDeleted(v, stats, batch);
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

  /** Folds a session's new events and writes its rows, priced, in one transaction. */
  private writeSession(
    adapter: SourceAdapter,
    file: DiscoveredFile,
    fileId: number,
    state: FileState,
    events: AgentEvent[],
    batch: Batch,
    progress: {
      size: number;
      mtime_ms: number;
      ino: string;
      offset: number;
      fingerprint: string;
      fingerprint_len: number;
      skipped: number;
      skip_reason: string | null;
    },
    fileHasRows: boolean,
  ): void {
    // Live facts (hook spool, telemetry) are about sessions other files own: kept apart, never folded in.
    const live = events.filter((e): e is LiveEvent => e.kind === 'live');
    const usage = foldEvents(state, live.length ? events.filter((e) => e.kind !== 'live') : events);
    const sessionId = state.session_id ?? file.session_id;
    state.session_id = sessionId;
    this.store.transaction(() => {
      if (live.length) for (const s of applyLiveEvents(this.store, fileId, live)) batch.liveSessions.add(s);
      if (sessionId && usage.length) {
        const priced: PricedUsageRow[] = usage.map((u) => {
          const p = priceRequest({
            framework: adapter.id,
            model: u.model,
            provider: u.provider,
            vendor_cost_usd: u.vendor_cost_usd,
            request_count: u.request_count,
            speed: u.speed,
            tokens: u.tokens,
            ts: u.ts,
            overrides: this.overrides,
          });
          return { ...u, cost_usd: p.cost_usd, priced: p.priced, price_rule: p.rule };
        });
        for (const k of upsertUsage(this.store, fileId, sessionId, priced, fileHasRows)) batch.keys.add(k);
      }
      if (sessionId) addFileDetails(this.store, fileId, sessionId, events);
      saveFileProgress(this.store, fileId, {
        ...progress,
        state,
        resumable: adapter.format === 'lines',
        session_id: sessionId,
      });
      writeSessionFromFile(this.store, fileId, adapter.id, file.root, file.path, state, this.machineId);
    });
    if (sessionId) batch.sessions.add(sessionId);
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

  /** Settles a batch: ownership of changed requests, session totals, git facts of new folders. */
  private async settle(batch: Batch, stats: IndexStats): Promise<void> {
    const touched = new Set(batch.sessions);
    if (batch.keys.size) {
      this.store.transaction(() => {
        for (const s of recomputeCounted(this.store, batch.keys)) touched.add(s);
        for (const s of fillFromAgentFigures(this.store, touched, costFigureName)) touched.add(s);
        recomputeTotals(this.store, touched);
      });
    } else if (touched.size) {
      this.store.transaction(() => {
        for (const s of fillFromAgentFigures(this.store, touched, costFigureName)) touched.add(s);
        recomputeTotals(this.store, touched);
      });
    }
    for (const s of batch.availability) refreshTranscriptAvailability(this.store, s);
    // A marked copy's prompts, tool calls and errors count for its origin while the origin's transcript
    // is there: the forks of sessions that appeared or went count theirs again.
    for (const s of refreshCopiedCounts(this.store, [...batch.sessions, ...batch.availability])) touched.add(s);
    await this.resolveCwds();
    await this.attributeBranches();
    await this.updateBranchDiffs(touched);
    stats.sessions_changed = touched.size + batch.availability.size + batch.liveSessions.size;
  }

  /** Settles the branch of every new request and PR sighting (per request, docs/accounting.md §5). */
  async attributeBranches(): Promise<void> {
    const perRequest = new Set(this.adapters.filter((a) => a.branchPerRequest).map((a) => a.id));
    const rows = unresolvedBranchRows(this.store);
    const prs = unresolvedPrRows(this.store);
    if (!rows.length && !prs.length) return;
    // One look at each worktree's reflog per pass, however many requests it has.
    const histories = new Map<string, ReturnType<ReflogCache['history']>>();
    const reflogs = {
      history: (toplevel: string) =>
        histories.get(toplevel) ?? histories.set(toplevel, this.reflogs.history(toplevel)).get(toplevel)!,
    };
    const rowBranches: [number, string | null][] = [];
    for (const r of rows) {
      rowBranches.push([
        r.rowid,
        await attributedBranch(reflogs, perRequest.has(r.framework), {
          ts: r.ts,
          recorded: r.git_branch ?? r.session_branch,
          toplevel: r.toplevel,
          cwd_known: r.cwd_known,
        }),
      ]);
    }
    const prBranches: [number, string | null][] = [];
    for (const p of prs) {
      prBranches.push([
        p.rowid,
        await attributedBranch(reflogs, perRequest.has(p.framework), {
          ts: p.ts,
          recorded: p.recorded_branch,
          toplevel: p.toplevel,
          cwd_known: p.cwd_known,
        }),
      ]);
    }
    this.store.transaction(() => {
      for (const [rowid, b] of rowBranches) setRowBranch(this.store, rowid, b);
      // A sighting with no branch at all is kept as "" (no branch): it never names a head branch.
      for (const [rowid, b] of prBranches) setPrRowBranch(this.store, rowid, b ?? '');
    });
  }

  /**
   * The lines changed on the branches the given sessions worked on, against the default branch
   * (git_additions / git_deletions). DiffStats asks git once per branch head: a branch with no new
   * commit costs one `rev-parse`.
   */
  async updateBranchDiffs(sessionIds: Iterable<string>): Promise<void> {
    const found: [string, string, Awaited<ReturnType<DiffStats['get']>>][] = [];
    for (const b of sessionBranches(this.store, sessionIds)) {
      try {
        found.push([b.git_dir, b.branch, await this.diffs.get(b.git_dir, b.toplevel, b.branch)]);
      } catch (err) {
        this.log.warn(`git diff of ${b.branch} in ${b.toplevel} failed: ${(err as Error).message}`);
      }
    }
    if (found.length)
      this.store.transaction(() =>
        found.forEach(([gitDir, branch, diff]) => setBranchDiff(this.store, gitDir, branch, diff)),
      );
  }

  /** git facts (repository, GitHub remote) for working directories not seen before. */
  async resolveCwds(): Promise<void> {
    for (const cwd of unresolvedCwds(this.store)) {
      const info = await repoInfo(cwd);
      setCwdInfo(this.store, cwd, {
        git_dir: info?.git_dir ?? null,
        toplevel: info?.toplevel ?? null,
        github_repo: info?.github_repo ?? null,
      });
    }
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

class Batch {
  keys = new Set<string>();
  sessions = new Set<string>();
  availability = new Set<string>();
  /** Sessions whose live facts (hooks, telemetry) changed. */
  liveSessions = new Set<string>();
}
