import { MACHINE_ID_ENV, machineId } from '../machine';
import { promises as fsp, unwatchFile, watchFile } from 'node:fs';
import * as path from 'node:path';
import { type OtlpReceiver, readEndpointPort, startOtlpReceiver, writeEndpointFile } from '../live/otlp';
import { receiverToken, tokenFileFor } from '../live/receiverGuard';
import { mkdirPrivate } from '../privateFs';
import { DEFAULT_STATUS_SETTINGS, type StatusSettings } from '../model/status';
import { sourceEnvFrom } from '../sources/registry';
import { WriterLease } from '../store/lease';
import { BranchLookups } from '../git/lookups';
import { listPullRequests, prSummary } from '../store/prTotals';
import { branchSummary, diagnostics, grandTotal, listSessions } from '../store/queries';
import {
  SEARCH_SLICE_TEXTS,
  indexPendingSearchTexts,
  reclaimFreePages,
  searchIndexSize,
  searchProgress,
  searchSessions,
} from '../store/search';
import { writeSessionSnapshot } from '../store/sessionSnapshot';
import { dailyUsage } from '../store/daily';
import { sessionDetails } from '../store/details';
import { type DashboardData, type DashboardOptions, dashboardData } from '../store/dashboard';
import { machineSeries } from '../sync/acrossMachines';
import { PARSER_VERSION, SCHEMA_VERSION } from '../store/schema';
import { Store } from '../store/store';
import { priceSource } from '../pricing';
import { refreshPrices } from '../pricing/refresh';
import { explainBranch, explainSession } from '../pricing/report';
import { EnabledAgents } from './enabledAgents';
import { type IndexStats, Indexer, type Logger, type ScanProgress } from './indexer';
import { progressText } from './progressText';
import { PersistScheduler } from './persistScheduler';
import type {
  FromWorker,
  PrSettings,
  PricingSettings,
  QueryMap,
  QueryName,
  ServiceState,
  WorkerInit,
} from './protocol';
import { TranscriptWatcher } from './watcher';
import { SyncLink, type SyncModule, loadBundledSyncModule } from './syncLink';

/**
 * One handler per query, keyed by its name: each takes the arguments and gives the result that
 * protocol.ts's QueryMap declares for that name, so a handler and its query cannot disagree.
 */
type QueryHandlers = {
  [N in QueryName]: (args: QueryMap[N]['args'], now: number) => QueryMap[N]['result'] | Promise<QueryMap[N]['result']>;
};

/**
 * Keeps one store in step with the transcripts: the writer (holder of the lease) indexes, watches
 * and persists; any other process on the same store is a reader that reloads the file when the
 * writer persists it, and takes over when the writer's lease goes stale. Runs in the worker thread
 * in VS Code; nothing here knows about VS Code.
 */
export class IndexService {
  private store!: Store;
  private indexer!: Indexer;
  private readonly lease: WriterLease;
  private watcher: TranscriptWatcher | null = null;
  private role: ServiceState['role'] = 'starting';
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly persistence: PersistScheduler;
  private status: StatusSettings;
  private agents: EnabledAgents;
  private pricing: PricingSettings;
  private lastScanAt: string | null = null;
  private lastScanMs: number | null = null;
  private rootsCache: ServiceState['roots'] = [];
  private stopped = false;
  /** The first full pass reports its progress (progressReporter); later ones are short. */
  private firstScan = true;
  /** Paths of the watcher batch queued but not started yet. */
  private waitingPaths: Set<string> | null = null;
  /** Whether a slice of search indexing waits in the queue (indexSearchSlice). */
  private searchSliceQueued = false;
  private prSettings: PrSettings;
  private readonly lookups: BranchLookups;
  private receiver: OtlpReceiver | null = null;
  private storeSize: number | null = null;
  /** Sync with the other machines (off unless the user turned it on; see syncLink.ts). */
  private sync: SyncLink | null = null;

  static readonly HEARTBEAT_MS = 5_000;
  // Not readonly: tests set them to 0 (a first pass of a few fixture files is shorter than a moment).
  static PROGRESS_AFTER_MS = 2_000;
  static PROGRESS_EVERY_MS = 500;

  constructor(
    private readonly init: WorkerInit,
    private readonly emit: (m: FromWorker) => void,
    private readonly log: Logger,
    private readonly loadSync: () => Promise<SyncModule> = loadBundledSyncModule,
  ) {
    this.lease = new WriterLease(path.join(path.dirname(init.storeFile), 'writer.lock'), 3 * IndexService.HEARTBEAT_MS);
    this.status = init.status ?? DEFAULT_STATUS_SETTINGS;
    this.agents = new EnabledAgents(init.agents);
    this.pricing = init.pricing ?? { overrides: {}, refresh: false };
    this.prSettings = init.pullRequests ?? { gh: false };
    this.persistence = new PersistScheduler(
      {
        isDirty: () => this.store.isDirty,
        maySave: () => this.maySave(),
        save: () => this.store.persist(),
        saveSnapshot: () => this.saveSessionSnapshot(),
        enqueue: (work) => void this.enqueue(work),
      },
      log,
    );
    // The store is replaced on reload and takeover: the lookups' PR cache is whichever is open.
    this.lookups = new BranchLookups(
      {
        getPrLookup: (gitDir, branch, source) => this.store.getPrLookup(gitDir, branch, source),
        setPrLookup: (gitDir, branch, source, pr) => this.store.setPrLookup(gitDir, branch, source, pr),
      },
      {
        unavailable: (reason) => this.log.info(`pull request lookup with gh skipped: ${reason}`),
        found: (branch, pr) => this.log.info(`gh: ${branch} has pull request #${pr.number}`),
      },
    );
  }

  /** Resolves once the store is open and queries can be answered; the first scan goes on after. */
  async start(): Promise<void> {
    mkdirPrivate(path.dirname(this.init.storeFile));
    await this.openStore();
    const writer = await this.lease.tryAcquire();
    this.setRole(writer ? 'writer' : 'reader');
    this.emit({ type: 'ready', sessions: this.store.sessionCount(), outcome: this.store.outcome, role: this.role });
    this.timers.push(
      setInterval(
        () =>
          void this.heartbeat().catch((err: Error) => this.log.error(`writer lease heartbeat failed: ${err.message}`)),
        IndexService.HEARTBEAT_MS,
      ),
    );
    if (writer) await this.becomeWriter();
    else {
      this.watchStoreFile();
      if (this.pricing.refresh) void this.enqueue(() => this.applyPricing('start'));
    }
    if (this.init.sync?.enabled) void this.syncLink().configure(this.init.sync);
  }

  /** Made the first time sync is turned on: a worker that never syncs never builds it. */
  private syncLink(): SyncLink {
    this.sync ??= new SyncLink(
      {
        store: () => this.store,
        isWriter: () => this.role === 'writer' && !this.stopped,
        exclusive: (work) => this.enqueue(work),
        pushed: () => this.persistence.schedule(),
        changed: (reason) => this.emit({ type: 'changed', reason }),
        stateChanged: (state, needsPassword) => this.emit({ type: 'sync', state, needs_password: needsPassword }),
        log: this.log,
      },
      this.loadSync,
      { machine_id: this.machineId(), machine_name: this.init.sync?.machineName ?? '' },
    );
    return this.sync;
  }

  private async openStore(): Promise<void> {
    this.store = await Store.open(this.init.storeFile, { machineId: this.machineId() });
    if (this.store.outcome === 'rebuilt-corrupt' || this.store.outcome === 'rebuilt-version') {
      this.log.warn(
        `store ${this.init.storeFile} could not be used (${this.store.outcome}); moved aside to ${this.store.movedAside}, rebuilding from the transcripts`,
      );
    }
    this.indexer = this.makeIndexer();
    const count = this.store.sessionCount();
    this.log.info(
      `store ${this.store.outcome}: ${count} sessions known before reading any transcript (${this.init.storeFile})`,
    );
  }

  /** This machine's id: the `agentHandler.machineId` setting when it is a valid id, else machine.ts's. */
  private machineId(): string {
    const env = { ...process.env, ...this.init.env };
    try {
      return machineId({ override: this.init.machineId, env });
    } catch (err) {
      this.log.warn(`agentHandler.machineId ignored: ${(err as Error).message}`);
      return machineId({ env: { ...env, [MACHINE_ID_ENV]: undefined } });
    }
  }

  /** An indexer over the enabled agents only. */
  private makeIndexer(): Indexer {
    const env = sourceEnvFrom(this.init.env, this.init.home, this.agents.settings.extraRoots, this.init.spoolDir);
    const indexer = new Indexer(this.store, this.agents.adapters(), env, this.log);
    indexer.usePriceOverrides(this.pricing.overrides);
    return indexer;
  }

  /**
   * Brings the stored costs in line with the pricing settings: refreshed price data when the user
   * turned refresh on (the only network call, at most daily, cached next to the store), then every
   * stored row re-priced from its stored tokens when the overrides or the price data differ from
   * what the rows were priced with. Writer only.
   */
  private async applyPricing(reason: string): Promise<void> {
    if (this.stopped) return;
    if (this.pricing.refresh) {
      const cache = path.join(path.dirname(this.init.storeFile), 'genai-prices-cache.json');
      // Only the writer may fetch; a reader uses the writer's cache (for Explain Cost's unit prices).
      const r = await refreshPrices(cache, Date.now(), undefined, { network: this.role === 'writer' });
      if (r.outcome === 'failed') this.log.warn(r.message);
      else this.log.info(r.message);
    }
    if (this.role !== 'writer') return;
    const fingerprint = JSON.stringify({ overrides: this.pricing.overrides, data: priceSource.label });
    this.indexer.usePriceOverrides(this.pricing.overrides);
    if (this.store.getMeta('pricing') === fingerprint) return;
    const t0 = Date.now();
    const changed = this.indexer.reprice();
    this.store.setMeta('pricing', fingerprint);
    this.log.info(
      `pricing (${reason}): ${changed} stored request(s) re-priced from their tokens in ${Date.now() - t0} ms (${priceSource.label})`,
    );
    if (changed) this.emit({ type: 'changed', reason: 'prices changed' });
    this.persistence.schedule();
  }

  /** Saves the session list next to the store, for the next start's first paint. Never fails a save. */
  private async saveSessionSnapshot(): Promise<void> {
    try {
      await writeSessionSnapshot(this.init.storeFile, this.sessions(Date.now()));
    } catch (err) {
      this.log.warn(`could not save the session list for the next start (${(err as Error).message})`);
    }
  }

  /** Sessions of the enabled agents, with their status as of now. */
  private sessions(now: number) {
    return this.agents.only(listSessions(this.store, now, this.status));
  }

  private setRole(role: ServiceState['role']): void {
    if (this.role === role) return;
    this.role = role;
    this.log.info(`this window is the index ${role}`);
    this.emit({ type: 'role', role });
  }

  private async becomeWriter(): Promise<void> {
    const stale = await Store.removeStaleTemps(this.init.storeFile);
    if (stale) this.log.info(`removed ${stale} temp file(s) left by an interrupted save of the index`);
    this.watcher = new TranscriptWatcher(
      (paths) => this.queuePaths(paths),
      (reason) => {
        // Rare (a removed folder, the watch limit): worth a line in the log even when the rescan finds nothing.
        this.log.info(`the watcher asks for a rescan: ${reason}`);
        void this.enqueue(() => this.scan('watcher asked for a rescan'));
      },
    );
    // Not awaited: queries are answered from what the store already knows while the scan runs.
    void this.enqueue(() => this.applyPricing('start'));
    void this.enqueue(() => this.scan('start'));
    // The refresh, when on, looks hourly whether its day-old cache needs a fetch (it fetches at most daily).
    this.timers.push(
      setInterval(
        () => this.pricing.refresh && void this.enqueue(() => this.applyPricing('daily price refresh')),
        60 * 60_000,
      ),
    );
    await this.startReceiver().catch((err: Error) => this.log.warn(`telemetry receiver not started: ${err.message}`));
    this.timers.push(
      setInterval(() => void this.enqueue(() => this.scan('periodic rescan')), this.init.rescanIntervalMs),
    );
  }

  /** Index work runs one piece at a time, in order. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch((err: unknown) => this.log.error(`index error: ${(err as Error).stack ?? String(err)}`));
    return next;
  }

  private async scan(reason: string): Promise<void> {
    if (this.stopped || this.role !== 'writer') return;
    const t0 = Date.now();
    const stats = await this.indexer.scanAll(this.firstScan ? { progress: this.progressReporter(t0) } : undefined);
    this.firstScan = false;
    this.lastScanAt = new Date().toISOString();
    this.lastScanMs = Date.now() - t0;
    this.rootsCache = (await this.indexer.roots()).map((r) => ({
      framework: r.adapter.id,
      root: r.root,
      exists: r.exists,
    }));
    // Not awaited: the new folders are being watched while the pass reports what it read.
    void this.watcher?.update(await this.indexer.watchTargets(), await this.indexer.ignoredTargets());
    this.afterIndex(stats, Date.now() - t0, reason);
  }

  /**
   * The first pass's progress for the window (a cold index of a large home takes a while): nothing
   * for a pass shorter than PROGRESS_AFTER_MS, then a line at most every PROGRESS_EVERY_MS.
   */
  private progressReporter(t0: number): (p: ScanProgress) => void {
    let sent = 0;
    return (p) => {
      const now = Date.now();
      if (now - t0 < IndexService.PROGRESS_AFTER_MS || now - sent < IndexService.PROGRESS_EVERY_MS) return;
      sent = now;
      this.emit({ type: 'progress', text: progressText(p, now - t0) });
    };
  }

  /**
   * Changed paths join the batch still waiting in the queue, if any: while a busy database is being
   * re-read, its many change events make one more read, not one per event.
   */
  private queuePaths(paths: string[]): void {
    if (this.waitingPaths) {
      for (const p of paths) this.waitingPaths.add(p);
      return;
    }
    const batch = new Set(paths);
    this.waitingPaths = batch;
    void this.enqueue(() => {
      this.waitingPaths = null;
      return this.indexPaths([...batch]);
    });
  }

  private async indexPaths(paths: string[]): Promise<void> {
    if (this.stopped || this.role !== 'writer') return;
    const t0 = Date.now();
    const stats = await this.indexer.indexPaths(paths);
    this.afterIndex(stats, Date.now() - t0, 'files changed');
  }

  private afterIndex(stats: IndexStats, ms: number, reason: string): void {
    if (stats.files_read || stats.files_deleted || reason === 'start') {
      this.log.info(
        `index (${reason}): ${stats.files_read} of ${stats.files_seen} files read, ${(stats.bytes_read / 1e6).toFixed(2)} MB, ` +
          `${stats.lines_skipped} lines skipped, ${stats.files_deleted} gone, ${stats.sessions_changed} sessions changed, ${ms} ms` +
          (stats.files_read_by_workers ? ` (${stats.files_read_by_workers} files read by parse workers)` : ''),
      );
    } else if (stats.files_partial) {
      this.log.info(
        `index (${reason}): ${stats.files_partial} file(s) end in an incomplete line; read when it is complete`,
      );
    }
    this.emit({
      type: 'indexed',
      files_read: stats.files_read,
      bytes_read: stats.bytes_read,
      ms,
      sessions_changed: stats.sessions_changed,
      lines_skipped: stats.lines_skipped,
    });
    if (stats.sessions_changed || stats.files_deleted || stats.files_read) {
      this.emit({ type: 'changed', reason });
      this.sync?.afterPass();
    }
    this.persistence.schedule();
    this.indexSearchSlice();
  }

  /**
   * Fills the search index from the texts the passes left pending (search.ts PendingSearchTexts),
   * one slice per piece of queued work: a scan, a price change or a query never waits behind all
   * of it. Only the writer writes; a reader sees the writer's progress when it reloads.
   */
  private indexSearchSlice(): void {
    if (this.searchSliceQueued || this.stopped || this.role !== 'writer') return;
    this.searchSliceQueued = true;
    void this.enqueue(async () => {
      this.searchSliceQueued = false;
      // A slice queued before stop() still runs (stop waits for the queue, then saves): a store
      // left with a few pending texts would have the next start write for them.
      if (this.role !== 'writer') return;
      const left = indexPendingSearchTexts(this.store, SEARCH_SLICE_TEXTS);
      if (left) setImmediate(() => this.indexSearchSlice());
      else if (reclaimFreePages(this.store))
        this.log.info('search index complete; the free pages its texts left were given back');
      this.persistence.schedule();
    });
  }

  /**
   * Whether this window may save the store now: the writer, whose lease is still its own. A writer
   * that lost its lease must not overwrite the new writer's file: it becomes a reader. (Renewing
   * writes the lease file, so on a full disk this fails too: a failed save, retried like one.)
   */
  private async maySave(): Promise<boolean> {
    if (this.role !== 'writer') return false;
    if (await this.lease.renew()) return true;
    this.log.warn('lost the index writer lease before persisting; another window writes now');
    await this.becomeReader();
    return false;
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    if (this.role === 'writer') {
      if (!(await this.lease.renew())) {
        this.log.warn('the index writer lease was taken by another window');
        await this.becomeReader();
      }
      return;
    }
    if (await this.lease.tryAcquire()) {
      this.log.info('the previous index writer is gone; this window takes over');
      this.stopWatchingStoreFile();
      await this.openStore();
      this.setRole('writer');
      await this.becomeWriter();
    }
  }

  /** The OTLP receiver, when the user turned it on: one per machine, in the writer. */
  private async startReceiver(): Promise<void> {
    const t = this.init.telemetry;
    if (!t?.enabled || !this.init.spoolDir || this.receiver) return;
    // The port of the last start when it is still free (agents set up with it keep working), else
    // (first start: 0) a random free one.
    const preferredPort = await readEndpointPort(t.endpointFile);
    const token = await receiverToken(tokenFileFor(t.endpointFile));
    this.receiver = await startOtlpReceiver({ spoolDir: this.init.spoolDir, preferredPort, token }, this.log);
    await writeEndpointFile(t.endpointFile, this.receiver.port);
    this.log.info(`telemetry receiver listening on http://127.0.0.1:${this.receiver.port} (OTLP/HTTP JSON)`);
  }

  private async stopReceiver(): Promise<void> {
    await this.receiver?.close();
    this.receiver = null;
  }

  private async becomeReader(): Promise<void> {
    await this.stopReceiver();
    await this.watcher?.close();
    this.watcher = null;
    this.setRole('reader');
    this.watchStoreFile();
  }

  private watchStoreFile(): void {
    watchFile(this.init.storeFile, { interval: 1000 }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs && this.role === 'reader') void this.enqueue(() => this.reload());
    });
  }

  private stopWatchingStoreFile(): void {
    unwatchFile(this.init.storeFile);
  }

  private async reload(): Promise<void> {
    const previous = this.store;
    await this.openStore();
    previous.close();
    this.emit({ type: 'changed', reason: 'another window updated the index' });
  }

  /** Answers a view's query (the worker's entry point): routed to its handler by name. */
  async query<N extends QueryName>(name: N, args: QueryMap[N]['args']): Promise<QueryMap[N]['result']> {
    if (!Object.hasOwn(this.handlers, name)) throw new Error(`unknown query ${String(name)}`);
    const handle: QueryHandlers[N] = this.handlers[name];
    return handle(args, Date.now());
  }

  private readonly handlers: QueryHandlers = {
    sessions: (_, now) => this.sessions(now),
    branch: async (a, now) => {
      // The default branch decides which PR sightings name a head branch: known before the first answer.
      const def = a.toplevel
        ? await this.lookups.defaultBranch(a.gitDir, a.toplevel)
        : this.lookups.knownDefault(a.gitDir);
      const sessions = this.sessions(now);
      const summary = branchSummary(this.store, a.gitDir, a.branch, sessions, def);
      summary.diff = this.lookups.knownDiff(a.gitDir, a.branch);
      summary.pr_summary = summary.pr ? prSummary(this.store, a.gitDir, summary.pr.number, def, sessions) : null;
      if (this.sync?.enabled) await this.sync.addAcrossMachines(a.gitDir, summary);
      if (a.toplevel && !this.stopped) {
        this.lookups.refreshInBackground(
          {
            gitDir: a.gitDir,
            toplevel: a.toplevel,
            branch: a.branch,
            prSource: summary.pr?.source ?? null,
            gh: this.prSettings.gh,
          },
          () => this.emit({ type: 'changed', reason: 'branch details found' }),
          (err) => this.log.warn(`branch lookup failed: ${err.message}`),
        );
      }
      return summary;
    },
    pr: async (a, now) => {
      const pr = prSummary(this.store, a.gitDir, a.number, this.lookups.knownDefault(a.gitDir), this.sessions(now));
      if (pr && this.sync?.enabled) await this.sync.addAcrossMachines(a.gitDir, pr);
      return pr;
    },
    pullRequests: (_, now) => listPullRequests(this.store, this.lookups.knownDefaults(), this.sessions(now)),
    setPrLookup: (a) => {
      const before = JSON.stringify(this.store.getPrLookup(a.gitDir, a.branch, 'github')?.number ?? null);
      this.store.setPrLookup(a.gitDir, a.branch, 'github', a.pr);
      if (JSON.stringify(a.pr?.number ?? null) !== before) this.emit({ type: 'changed', reason: 'pull request found' });
      return null;
    },
    total: () => grandTotal(this.store),
    diagnostics: async () => {
      this.storeSize = (await fsp.stat(this.init.storeFile).catch(() => null))?.size ?? null;
      const sync = this.sync?.state();
      return {
        ...diagnostics(this.store),
        search_index: searchIndexSize(this.store),
        ...this.state(),
        ...(sync && { sync }),
      };
    },
    explain: (a, now) => {
      const overrides = this.pricing.overrides;
      return 'session_id' in a
        ? explainSession(this.store, a.session_id, overrides, this.sessions(now))
        : explainBranch(this.store, a.gitDir, a.branch, overrides);
    },
    details: (a, now) => {
      const session = this.sessions(now).find((s) => s.session_id === a.sessionId);
      return session ? { session, details: sessionDetails(this.store, a.sessionId) } : null;
    },
    dashboard: (a, now) => {
      const data = dashboardData(this.store, a, this.sessions(now));
      const out = { ...data, daily: this.agents.only(data.daily), costliest: this.agents.only(data.costliest) };
      const machines = this.sync?.enabled ? this.machineSeries(out, a) : undefined;
      return machines ? { ...out, machines } : out;
    },
    daily: (a) => this.agents.only(dailyUsage(this.store, a)),
    // What is indexed so far: the rest is filled when idle (indexSearchSlice), and the search box
    // shows how far it is (searchProgress) rather than wait for all of it.
    search: (a) =>
      this.agents.only(
        searchSessions(this.store, a.text, {
          includeAssistantText: a.includeAssistantText,
          limit: a.limit,
          indexedOnly: true,
        }),
      ),
    searchProgress: () => searchProgress(this.store),
    refresh: async () => {
      if (this.role === 'writer') await this.enqueue(() => this.scan('refresh'));
      else await this.enqueue(() => this.reload());
      return null;
    },
    rebuild: async () => {
      if (this.role !== 'writer')
        throw new Error('another VS Code window writes the index; rebuild it from that window, or close it first');
      await this.enqueue(() => this.rebuild());
      return null;
    },
    otherSessions: () => this.sync?.otherSessions() ?? [],
    syncState: () => (this.sync ?? this.syncLink()).state(),
    syncNow: () => (this.sync?.enabled ? this.sync.syncNow() : this.syncLink().state()),
    settings: async (a) => {
      // Only the sync controller sends `sync` (with the stored password); other senders leave it as it is.
      if (a.sync && (a.sync.enabled || this.sync)) await this.syncLink().configure(a.sync);
      this.status = a.status;
      if (a.pullRequests) this.prSettings = a.pullRequests;
      const agentsChanged = JSON.stringify(a.agents) !== JSON.stringify(this.agents.settings);
      this.agents = new EnabledAgents(a.agents);
      if (a.pricing && JSON.stringify(a.pricing) !== JSON.stringify(this.pricing)) {
        this.pricing = a.pricing;
        await this.enqueue(() => this.applyPricing('settings changed'));
      }
      if (agentsChanged) {
        this.indexer = this.makeIndexer();
        await this.enqueue(() => this.scan('settings changed'));
      }
      this.emit({ type: 'changed', reason: 'settings changed' });
      return null;
    },
  };

  /**
   * The dashboard's per-machine series (sync): every agent and repository of this machine from the
   * local index, the others' from the shared database once read (undefined until then).
   */
  private machineSeries(data: DashboardData, a: DashboardOptions) {
    const first = data.dates[0];
    if (!first || !this.sync) return undefined;
    // A day before the range's first local date, so the key stays the same all day (cached reads).
    const since = new Date(Date.parse(`${first}T00:00:00Z`) - 86_400_000).toISOString();
    const shared = this.sync.daily(since, data.time_zone);
    if (!shared) return undefined;
    const local =
      a.framework || a.gitDir
        ? this.agents.only(dailyUsage(this.store, { timeZone: data.time_zone, since }))
        : data.daily;
    const self = this.sync.state();
    return machineSeries(data.dates, local, shared, { machine_id: self.machine_id, machine_name: self.machine_name });
  }

  private async rebuild(): Promise<void> {
    this.log.info('rebuilding the index from the transcripts');
    this.store.close();
    await fsp.rm(this.init.storeFile, { force: true });
    await this.openStore();
    this.emit({ type: 'changed', reason: 'rebuild started' });
    await this.scan('rebuild');
  }

  state(): ServiceState {
    const rescan = `full rescan every ${Math.round(this.init.rescanIntervalMs / 1000)} s`;
    return {
      watcher_mode:
        this.role === 'writer'
          ? `file events (fs.watch per folder, ${this.watcher?.watchedCount ?? 0} folders) + ${rescan}`
          : 'none in this window (reader): the index file is polled every 1 s and reloaded when the writer saves it',
      store_size_bytes: this.storeSize,
      schema_version: SCHEMA_VERSION,
      parser_version: PARSER_VERSION,
      role: this.role,
      store_file: this.init.storeFile,
      store_outcome: this.store?.outcome ?? 'not open',
      roots: this.rootsCache,
      last_scan_at: this.lastScanAt,
      last_scan_ms: this.lastScanMs,
      price_data: priceSource.label,
      telemetry_receiver: this.receiver ? { port: this.receiver.port, ...this.receiver.stats } : null,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.persistence.stop();
    this.stopWatchingStoreFile();
    await this.stopReceiver();
    await this.sync?.stop();
    await this.watcher?.close();
    this.watcher = null;
    await this.queue.catch(() => undefined);
    if (this.role === 'writer') {
      this.role = 'reader'; // no more writes after this one
      if (await this.lease.renew()) await this.persistence.flush();
    }
    await this.lease.release();
    this.store?.close();
  }
}
