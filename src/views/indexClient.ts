import * as vscode from 'vscode';
import type { FromWorker, QueryMap, QueryName, ToWorker, WorkerInit } from '../core/ingest/protocol';
import { WorkerSupervisor } from '../core/ingest/supervisor';
import type { SessionView } from '../core/store/queries';
import type { SyncState } from '../core/sync/types';
import { readSessionSnapshot } from '../core/store/sessionSnapshot';
import { Disposable } from './disposable';
import type { Log } from './log';

/**
 * The extension host's side of the indexing worker: starts it, forwards its log, turns its change
 * notices into an event, and answers queries by message. Nothing heavy runs on this thread. A
 * worker that crashes is started again with backoff (WorkerSupervisor); queries in flight fail with
 * a clear error and the views reload once the new worker is ready.
 */
export class IndexClient extends Disposable {
  private readonly supervisor: WorkerSupervisor;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly changed = this._register(new vscode.EventEmitter<string>());
  private readonly stateChanged = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  /** Fires when `ready`, `indexing` or `role` change. */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly progressed = this._register(new vscode.EventEmitter<string>());
  /** The first index's progress, as one line, while it takes longer than a moment (indexProgress.ts). */
  readonly onDidProgress = this.progressed.event;
  private readonly syncChanged = this._register(
    new vscode.EventEmitter<{ state: SyncState; needsPassword: boolean }>(),
  );
  /** Sync's state as the worker reports it (only once sync was turned on). */
  readonly onDidChangeSync = this.syncChanged.event;
  sync: SyncState | null = null;
  /** The server asked for a password and none was given (the last sync report said so). */
  syncNeedsPassword = false;
  ready = false;
  indexing = true;
  role: string = 'starting';

  /** The session list saved with the index (sessionSnapshot.ts), read while the worker starts. */
  private saved: Promise<SessionView[] | null> | null;

  constructor(
    workerFile: string,
    init: WorkerInit,
    private readonly log: Log,
  ) {
    super();
    this.saved = readSessionSnapshot(init.storeFile).then((s) => s?.sessions ?? null);
    this.supervisor = new WorkerSupervisor(workerFile, {
      onStart: (worker, restarts) => {
        if (restarts) log.info(`index worker started again (restart ${restarts})`);
        worker.postMessage({ type: 'init', init } satisfies ToWorker);
      },
      onMessage: (m) => this.onMessage(m as FromWorker),
      onCrash: ({ code, error, delayMs }) => {
        log.error(
          `index worker crashed (exit code ${code}${error ? `: ${error.stack ?? error.message}` : ''}); starting it again in ${delayMs / 1000} s`,
        );
        for (const p of this.pending.values())
          p.reject(new Error(`index worker exited (${code}); it restarts shortly`));
        this.pending.clear();
        this.ready = false;
        this.stateChanged.fire();
      },
    });
    this.supervisor.start();
  }

  private post(m: ToWorker): void {
    this.supervisor.post(m);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'log':
        this.log[m.level](m.message);
        break;
      case 'ready':
        this.ready = true;
        this.role = m.role;
        this.stateChanged.fire();
        this.changed.fire('store loaded');
        break;
      case 'indexed':
        if (this.indexing) {
          this.indexing = false;
          this.stateChanged.fire();
        }
        break;
      case 'progress':
        if (this.indexing) this.progressed.fire(m.text);
        break;
      case 'role':
        this.role = m.role;
        if (m.role === 'reader') this.indexing = false;
        this.stateChanged.fire();
        break;
      case 'changed':
        this.changed.fire(m.reason);
        break;
      case 'sync':
        this.sync = m.state;
        this.syncNeedsPassword = m.needs_password;
        this.syncChanged.fire({ state: m.state, needsPassword: m.needs_password });
        break;
      case 'result': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.result);
        break;
      }
      case 'stopped':
        break;
    }
  }

  /**
   * The sessions as the index last saved them: for a first paint before `ready`, never after. Given
   * once (the list is not kept on this thread once the tree has it).
   */
  savedSessions(): Promise<SessionView[] | null> {
    const saved = this.saved ?? Promise.resolve(null);
    this.saved = null;
    return saved;
  }

  query<N extends QueryName>(name: N, args: QueryMap[N]['args']): Promise<QueryMap[N]['result']> {
    const id = this.nextId++;
    if (!this.supervisor.current)
      return Promise.reject(new Error('the index worker is restarting; try again in a moment'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ type: 'query', id, name, args });
    });
  }

  /** Lets the worker persist and release the writer lease, then ends it. */
  async stop(): Promise<void> {
    await this.supervisor.stop(async (worker) => {
      let timer: NodeJS.Timeout | undefined;
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (m: FromWorker) => m.type === 'stopped' && resolve());
        worker.on('exit', () => resolve());
        timer = setTimeout(resolve, 3000);
      });
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await stopped;
      clearTimeout(timer);
    });
  }

  override dispose(): void {
    void this.stop();
    super.dispose();
  }
}
