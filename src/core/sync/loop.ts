import type { Store } from '../store/store';
import { pendingCount } from './changes';
import { SchemaTooNewError, SyncConfigError, describeTarget, parseConnection, syncErrorMessage } from './connection';
import { SyncClient } from './client';
import type { PushResult } from './push';
import type { SyncSettings, SyncState } from './types';
import { BACKOFF_CAP_MS, BACKOFF_FIRST_MS, backoffDelay } from './backoff';

/**
 * Keeps pushing: every `intervalMs` and on demand (pushNow), one push at a time, with exponential
 * backoff and jitter after a failure (capped at five minutes). Used by the CLI's `sync --watch`
 * and the extension's worker alike. Never throws: every failure becomes a SyncState with one line
 * a person can act on, emitted when the state changes; the local index is never touched by a
 * failure (the marks of an unacknowledged batch stay, and are pushed again).
 */

export interface SyncLoopOptions {
  settings: SyncSettings;
  /** The local store to push from (its owner persists it; see afterPush). */
  store: Store;
  /** Between two pushes when all is well (default 60 s). */
  intervalMs?: number;
  /** Sessions per transaction (push.ts). */
  batchSize?: number;
  version?: string;
  onState?: (state: SyncState) => void;
  /** Before each push (the CLI's --watch indexes the transcripts again); a failure is reported like a push's. */
  prepare?: () => Promise<void>;
  /** After a push that wrote the store (acknowledged marks): the owner may persist it. */
  afterPush?: (result: PushResult) => void | Promise<void>;
  log?: { info(message: string): void; warn(message: string): void };
  /** For tests: the random source of the jitter. */
  random?: () => number;
  /** Whether the timer keeps the process alive (the CLI's --watch); the extension's worker lives anyway. */
  keepAlive?: boolean;
}

export { BACKOFF_CAP_MS, BACKOFF_FIRST_MS, backoffDelay };

/** `user@host:port/db` of the settings, or null when the connection text cannot be parsed. */
function describeSettings(settings: SyncSettings): string | undefined {
  try {
    return describeTarget(parseConnection(settings.postgres));
  } catch {
    return undefined;
  }
}

export class SyncLoop {
  private client: SyncClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failures = 0;
  /** When the next push is due after the one in flight: the interval, or the backoff after a failure. */
  private nextDelay = 0;
  private current: SyncState;
  /** Reads queued behind a push (one connection, one thing at a time). */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SyncLoopOptions) {
    const { settings } = options;
    this.current = {
      state: settings.enabled ? 'connecting' : 'off',
      message: null,
      machine_id: settings.machineId,
      machine_name: settings.machineName,
      last_push_at: null,
      last_pull_at: null,
      pending_sessions: pendingCount(options.store),
      retry_at: null,
    };
  }

  get state(): SyncState {
    return this.current;
  }

  /** Starts pushing (the first push right away). Does nothing when sync is off. */
  start(): void {
    if (!this.options.settings.enabled || this.stopped) {
      this.emit({ state: 'off' });
      return;
    }
    this.schedule(0);
  }

  /** Pushes now (or right after the push in flight); resolves when that push is over. Never rejects. */
  async pushNow(): Promise<SyncState> {
    if (!this.options.settings.enabled || this.stopped) return this.current;
    if (this.running) {
      this.again = true;
      await this.running;
      // The push asked for meanwhile starts as the one in flight ends: wait for it too.
      await this.inFlight();
      return this.current;
    }
    this.clearTimer();
    this.running = this.once().finally(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        void this.pushNow();
      } else {
        this.schedule(this.nextDelay);
      }
    });
    await this.running;
    return this.current;
  }

  private inFlight(): Promise<void> | null {
    return this.running;
  }

  /**
   * Runs a read over the loop's connection (connecting when needed), after any push in flight.
   * Rejects with a one-line message on failure; the push schedule is not affected.
   */
  read<T>(fn: (client: SyncClient) => Promise<T>): Promise<T> {
    const next = this.chain.then(async () => {
      try {
        const out = await fn(await this.connected());
        this.emit({ last_pull_at: new Date().toISOString() });
        return out;
      } catch (err) {
        const target = this.client?.target;
        await this.dropClient();
        throw new Error(syncErrorMessage(err, target), { cause: err });
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.running?.catch(() => undefined);
    await this.chain;
    await this.dropClient();
    this.emit({ state: 'off', retry_at: null });
  }

  private async connected(): Promise<SyncClient> {
    this.client ??= await SyncClient.connect(this.options.settings);
    return this.client;
  }

  private async dropClient(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.close();
  }

  private async once(): Promise<void> {
    const run = this.chain.then(async () => {
      const { store } = this.options;
      try {
        if (!this.client) this.emit({ state: this.current.state === 'ok' ? 'ok' : 'connecting', retry_at: null });
        await this.options.prepare?.();
        const client = await this.connected();
        const result = await client.push(store, {
          batchSize: this.options.batchSize,
          version: this.options.version,
          onBatch: (_n, pending) => this.emit({ pending_sessions: pending }),
        });
        this.failures = 0;
        this.nextDelay = this.options.intervalMs ?? 60_000;
        this.emit({
          state: 'ok',
          message: null,
          last_push_at: new Date().toISOString(),
          pending_sessions: result.pending,
          retry_at: null,
        });
        if (result.batches)
          this.options.log?.info(`sync: pushed ${result.sessions} sessions, ${result.requests} requests`);
        await this.options.afterPush?.(result);
      } catch (err) {
        this.failures++;
        const message = syncErrorMessage(err, this.client?.target ?? describeSettings(this.options.settings));
        await this.dropClient();
        // A setting that cannot work (a bad URL, a newer schema) is not retried on a short clock.
        const permanent = err instanceof SyncConfigError || err instanceof SchemaTooNewError;
        const delay = permanent ? BACKOFF_CAP_MS : backoffDelay(this.failures, this.options.random);
        this.nextDelay = delay;
        this.emit({
          state: 'error',
          message,
          pending_sessions: pendingCount(store),
          retry_at: Date.now() + delay,
        });
        this.options.log?.warn(`sync: ${message}`);
      }
    });
    this.chain = run.catch(() => undefined);
    await run;
  }

  private schedule(delay: number): void {
    this.clearTimer();
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pushNow();
    }, delay);
    if (!this.options.keepAlive) this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private emit(change: Partial<SyncState>): void {
    const next = { ...this.current, ...change };
    if (JSON.stringify(next) === JSON.stringify(this.current)) return;
    this.current = next;
    this.options.onState?.(next);
  }
}
