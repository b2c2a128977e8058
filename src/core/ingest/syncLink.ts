import type { PrSummary } from '../store/pullRequests';
import type { Store } from '../store/store';
import { type LocalPart, type MachineDayRow, withLocalPart } from '../sync/acrossMachines';
import type { RemoteSession, SharedTotals, SyncSettings, SyncState } from '../sync/types';
import type { Logger } from './indexer';
import type { AcrossMachines, BranchResult } from './protocol';
import { backoffDelay } from '../sync/backoff';

/**
 * The worker's side of sync (docs/sync.md): one connection to the shared PostgreSQL, the writer's
 * pushes, and the other machines' rows read every minute and on demand, kept in memory so a view's
 * query never waits for the network. Nothing here runs unless sync is enabled, and the module that
 * talks to PostgreSQL (pg included) is loaded only then: a local-only worker never loads it.
 */

/** The part of the core sync client (src/core/sync/) the worker uses. */
export interface SharedDb {
  migrate(): Promise<unknown>;
  /** Pushes the rows changed since the last acknowledged push (the cursor lives in the local store). */
  push(store: Store): Promise<{ pending?: number }>;
  branchTotals(repo: string, branch: string, thisMachineId: string): Promise<SharedTotals>;
  prTotals(repo: string, pr: number, headBranch: string | null, thisMachineId: string): Promise<SharedTotals>;
  otherSessions(thisMachineId: string): Promise<RemoteSession[]>;
  dailyByMachine(sinceIso: string, timeZone?: string): Promise<MachineDayRow[]>;
  close(): Promise<unknown>;
}

/** What loading the sync module gives (dist/sync.js in the extension). */
export interface SyncModule {
  connect(settings: SyncSettings): Promise<SharedDb>;
  /** One line a person can act on, never the password. */
  errorMessage(err: unknown): string;
  /** The repository's identity in the shared database from its local git dir (null: no remote). */
  repoKey(gitDir: string): Promise<string | null>;
}

export interface SyncHost {
  store(): Store;
  isWriter(): boolean;
  /** Runs `work` in the service's queue: a push reads and marks the store between passes, never inside one. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** A push acknowledged rows (marks in the store): the owner saves it like any other write. */
  pushed(): void;
  /** The shared rows changed: the views ask again. */
  changed(reason: string): void;
  stateChanged(state: SyncState, needsPassword: boolean): void;
  log: Logger;
}

/**
 * The sync module as the extension ships it: its own bundle beside the worker's (dist/sync.js, pg
 * included), required only when sync is turned on, so a local-only worker never parses pg.
 */
export function loadBundledSyncModule(): Promise<SyncModule> {
  // A path esbuild cannot follow: the bundle stays a file of its own, loaded here at run time.
  const file = `${__dirname}/sync.js`;
  return Promise.resolve(require(file) as SyncModule);
}

export const SYNC_TIMINGS = {
  pushMs: 30_000,
  readMs: 60_000,
  afterPassMs: 3_000,
  firstRetryMs: 5_000,
  maxRetryMs: 5 * 60_000,
};

/** A read the views asked for lately (a branch's or PR's totals, the dashboard's days): read again every minute. */
interface Watched {
  read: () => Promise<unknown>;
  value: unknown;
  askedAt: number;
}

/** How long a branch or PR nobody asks about any more stays on the read list. */
const WATCH_FOR_MS = 10 * 60_000;

/** PostgreSQL's answer when it wants a password and was given none (pg's own message), or 28P01 without one. */
export function asksForPassword(err: unknown, passwordGiven: boolean): boolean {
  const message = String((err as Error)?.message ?? err);
  if (/client password must be a (non-empty )?string|no password (was )?(supplied|provided)/i.test(message))
    return true;
  return !passwordGiven && (err as { code?: string })?.code === '28P01';
}

/** Whether the connection string carries a password itself (URL `user:pw@` or key/value `password=`). */
export function connectionHasPassword(conn: string): boolean {
  const s = conn.trim();
  if (/^postgres(ql)?:\/\//i.test(s)) {
    try {
      return new URL(s).password !== '';
    } catch {
      return /:\/\/[^/@]*:[^/@]+@/.test(s);
    }
  }
  return /(^|\s)password\s*=/i.test(s);
}

export class SyncLink {
  private settings: SyncSettings | undefined;
  private module: SyncModule | null = null;
  private db: SharedDb | null = null;
  private connecting: Promise<SharedDb> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private passTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private needsPassword = false;
  private others: RemoteSession[] = [];
  private readonly watched = new Map<string, Watched>();
  private readonly repos = new Map<string, Promise<string | null>>();
  private current: SyncState;
  private stopped = false;
  private lastEmitted = '';

  constructor(
    private readonly host: SyncHost,
    private readonly load: () => Promise<SyncModule>,
    private readonly machine: { machine_id: string; machine_name: string },
    private readonly timings = SYNC_TIMINGS,
  ) {
    this.current = this.initialState();
  }

  private initialState(): SyncState {
    return {
      state: 'off',
      message: null,
      machine_id: this.machine.machine_id,
      machine_name: this.settings?.machineName || this.machine.machine_name,
      last_push_at: null,
      last_pull_at: null,
      pending_sessions: 0,
      retry_at: null,
    };
  }

  get enabled(): boolean {
    return !!this.settings?.enabled && !!this.settings.postgres.trim();
  }

  state(): SyncState {
    return { ...this.current };
  }

  /** Applies new settings: a changed connection (or password) starts over; disabled closes everything. */
  async configure(given: SyncSettings | undefined): Promise<void> {
    // The worker knows this machine's id (the host does not compute it); the host sends the hostname.
    const settings = given && {
      ...given,
      machineId: given.machineId || this.machine.machine_id,
      machineName: given.machineName || this.machine.machine_name,
    };
    const before = JSON.stringify(this.settings ?? null);
    this.settings = settings;
    if (before === JSON.stringify(settings ?? null)) return;
    this.clearTimers();
    await this.closeDb();
    this.others = [];
    this.watched.clear();
    this.failures = 0;
    this.needsPassword = false;
    this.current = this.initialState();
    if (!this.enabled) {
      this.emitState();
      this.host.changed('sync turned off');
      return;
    }
    if (/\S/.test(settings!.postgres) && connectionHasPassword(settings!.postgres))
      this.host.log.warn(
        'agentHandler.sync.postgres holds a password: settings.json is plain text (and may be synced). Remove it from the URL; Agent Handler then asks once and keeps it in VS Code\u2019s secret storage.',
      );
    this.timers.push(setInterval(() => void this.pushNow(), this.timings.pushMs));
    this.timers.push(setInterval(() => void this.readNow(), this.timings.readMs));
    for (const t of this.timers) t.unref();
    void this.syncNow();
  }

  /** Pushes (writer only) and reads everything again: the first round, each retry, and the Sync Now command. */
  async syncNow(): Promise<SyncState> {
    if (!this.enabled || this.stopped) return this.state();
    // A push reads everything again after it; a reader (or a push that failed) reads here.
    if (!(await this.pushNow())) await this.readNow();
    return this.state();
  }

  /** After a writer's pass that changed sessions: one push a few seconds later (passes come in bursts). */
  afterPass(): void {
    if (this.passTimer || !this.host.isWriter() || !this.ready()) return;
    this.passTimer = setTimeout(() => {
      this.passTimer = null;
      void this.pushNow();
    }, this.timings.afterPassMs);
    this.passTimer.unref();
  }

  /** Pushes (writer only); returns whether it also read everything again after a push that went through. */
  private async pushNow(): Promise<boolean> {
    if (!this.host.isWriter() || !this.ready()) return false;
    await this.attempt(async (db) => {
      const result = await this.host.exclusive(() => db.push(this.host.store()));
      this.host.pushed();
      this.current.last_push_at = new Date().toISOString();
      this.current.pending_sessions = result.pending ?? 0;
    });
    // This machine's part of every total is what it pushed: read them again now, not in a minute.
    if (this.current.state !== 'ok') return false;
    await this.readNow();
    return true;
  }

  private async readNow(): Promise<void> {
    if (!this.ready()) return;
    await this.attempt(async (db) => {
      const others = await db.otherSessions(this.machine.machine_id);
      let changed = JSON.stringify(others) !== JSON.stringify(this.others);
      this.others = others;
      const now = Date.now();
      for (const [key, w] of this.watched) {
        if (now - w.askedAt > WATCH_FOR_MS) {
          this.watched.delete(key);
          continue;
        }
        const value = await w.read();
        if (JSON.stringify(value) !== JSON.stringify(w.value)) changed = true;
        w.value = value;
      }
      this.current.last_pull_at = new Date().toISOString();
      if (changed) this.host.changed('other machines changed');
    });
  }

  /** Whether a round may run now: enabled, not waiting for a password or for a retry's time. */
  private ready(): boolean {
    return this.enabled && !this.stopped && !this.needsPassword && !this.retryTimer;
  }

  /** One round against the database: connects when needed; an error becomes the state, with backoff. */
  private async attempt(round: (db: SharedDb) => Promise<void>): Promise<void> {
    const settings = this.settings!;
    try {
      const db = await this.connection();
      await round(db);
      if (this.settings !== settings) return;
      this.failures = 0;
      this.setState({ state: 'ok', message: null, retry_at: null });
    } catch (err) {
      if (this.settings !== settings || this.stopped) return;
      await this.closeDb();
      const passwordGiven = !!settings.password || connectionHasPassword(settings.postgres) || !!process.env.PGPASSWORD;
      if (asksForPassword(err, passwordGiven)) {
        this.needsPassword = true;
        this.setState({ state: 'error', message: 'the server asks for a password and none was given', retry_at: null });
        return;
      }
      const message = this.module ? this.module.errorMessage(err) : `sync: ${(err as Error).message}`;
      this.failures++;
      const delay = backoffDelay(this.failures, Math.random, this.timings.firstRetryMs, this.timings.maxRetryMs);
      const retryAt = Date.now() + delay;
      // The same error again is logged once: a server down for an hour is not 20 lines a minute.
      if (message !== this.current.message)
        this.host.log.error(`sync: ${message} (retrying with backoff; local views are not affected)`);
      this.setState({ state: 'error', message, retry_at: retryAt });
      if (this.retryTimer) return; // a round that failed alongside already set the retry
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.syncNow();
      }, delay);
    }
  }

  private async connection(): Promise<SharedDb> {
    if (this.db) return this.db;
    if (!this.connecting) {
      const settings = this.settings!;
      this.setState({ state: this.current.state === 'ok' ? 'ok' : 'connecting' });
      this.connecting = (async () => {
        this.module ??= await this.load();
        const db = await this.module.connect(settings);
        try {
          // The writer creates and migrates the tables; a viewing machine may hold a read-only role.
          if (this.host.isWriter()) await db.migrate();
        } catch (err) {
          await db.close().catch(() => undefined);
          throw err;
        }
        if (this.settings !== settings) {
          await db.close().catch(() => undefined);
          throw new Error('sync settings changed');
        }
        this.host.log.info(`sync: connected to the shared database as ${settings.machineName}`);
        return db;
      })();
    }
    try {
      this.db = await this.connecting;
      return this.db;
    } finally {
      this.connecting = null;
    }
  }

  private async closeDb(): Promise<void> {
    const db = this.db;
    this.db = null;
    await db?.close().catch(() => undefined);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.passTimer) clearTimeout(this.passTimer);
    this.passTimer = null;
  }

  private setState(patch: Partial<SyncState>): void {
    this.current = { ...this.current, ...patch };
    // Against what was last told, not the state before the patch: pushes and reads set their times directly.
    if (JSON.stringify(this.current) !== this.lastEmitted) this.emitState();
  }

  private emitState(): void {
    this.lastEmitted = JSON.stringify(this.current);
    this.host.stateChanged(this.state(), this.needsPassword);
  }

  /** Other machines' sessions as last read ([] when off). */
  otherSessions(): RemoteSession[] {
    return this.enabled ? this.others : [];
  }

  /**
   * A branch's (or PR's) totals across machines with this machine's part from `local`; undefined
   * when sync is off, the repository has no shared identity, or the shared rows were not read yet
   * (they are read now, in the background, and the views are told when they come).
   */
  async across(
    kind: 'branch' | 'pr',
    gitDir: string,
    key: { branch: string } | { number: number; headBranch: string | null },
    local: LocalPart,
  ): Promise<SharedTotals | undefined> {
    if (!this.enabled) return undefined;
    const repo = await this.repoOf(gitDir);
    if (!repo) return undefined;
    const me = this.machine.machine_id;
    const totals = this.cached<SharedTotals>(`${kind}\0${repo}\0${'branch' in key ? key.branch : key.number}`, (db) =>
      'branch' in key ? db.branchTotals(repo, key.branch, me) : db.prTotals(repo, key.number, key.headBranch, me),
    );
    if (!totals) return undefined;
    return withLocalPart(totals, local, {
      machine_id: me,
      machine_name: this.current.machine_name,
      last_push_at: this.current.last_push_at,
    });
  }

  /**
   * Adds every machine's requests for the same repository and branch (or PR) to a local answer, when
   * they were read: the local answer itself is left as it is (AcrossMachines).
   */
  async addAcrossMachines(gitDir: string, summary: BranchResult | (PrSummary & AcrossMachines)): Promise<void> {
    const shared =
      'branch' in summary
        ? await this.across('branch', gitDir, { branch: summary.branch }, summary)
        : await this.across('pr', gitDir, { number: summary.pr.number, headBranch: summary.head_branch }, summary);
    if (shared) summary.shared = shared;
    const pr = 'branch' in summary ? summary.pr_summary : null;
    if (pr) await this.addAcrossMachines(gitDir, pr);
  }

  /** Every machine's tokens and cost per day since `sinceIso` (the dashboard), as last read; undefined as `across`. */
  daily(sinceIso: string, timeZone: string): MachineDayRow[] | undefined {
    if (!this.enabled) return undefined;
    return this.cached<MachineDayRow[]>(`daily\0${sinceIso}\0${timeZone}`, (db) =>
      db.dailyByMachine(sinceIso, timeZone),
    );
  }

  /** What `read` last gave, or undefined the first time (it is read now and the views told when it comes). */
  private cached<T>(key: string, read: (db: SharedDb) => Promise<T>): T | undefined {
    let w = this.watched.get(key);
    if (!w) {
      w = { read: () => this.connection().then(read), value: undefined, askedAt: Date.now() };
      this.watched.set(key, w);
      if (this.ready()) void this.readOne(w);
    }
    w.askedAt = Date.now();
    return w.value as T | undefined;
  }

  private async readOne(w: Watched): Promise<void> {
    await this.attempt(async () => {
      w.value = await w.read();
      this.host.changed('other machines read');
    });
  }

  private repoOf(gitDir: string): Promise<string | null> {
    let r = this.repos.get(gitDir);
    if (!r) {
      r = (async () => {
        this.module ??= await this.load();
        return this.module.repoKey(gitDir);
      })().catch((err: Error) => {
        this.repos.delete(gitDir);
        this.host.log.warn(`sync: the repository of ${gitDir} is not known: ${err.message}`);
        return null;
      });
      this.repos.set(gitDir, r);
    }
    return r;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.closeDb();
  }
}
