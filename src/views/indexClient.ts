import * as vscode from 'vscode';
import { Worker } from 'node:worker_threads';
import type { FromWorker, QueryMap, QueryName, ToWorker, WorkerInit } from '../core/ingest/protocol';
import type { Log } from './log';

/**
 * The extension host's side of the indexing worker: starts it, forwards its log, turns its change
 * notices into an event, and answers queries by message. Nothing heavy runs on this thread.
 */
export class IndexClient implements vscode.Disposable {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly stateChanged = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  /** Fires when `ready`, `indexing` or `role` change. */
  readonly onDidChangeState = this.stateChanged.event;
  ready = false;
  indexing = true;
  role: string = 'starting';

  constructor(workerFile: string, init: WorkerInit, private readonly log: Log) {
    this.worker = new Worker(workerFile);
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => log.error(`index worker crashed: ${err.stack ?? err.message}`));
    this.worker.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`index worker exited (${code})`));
      this.pending.clear();
    });
    this.post({ type: 'init', init });
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
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
      case 'role':
        this.role = m.role;
        if (m.role === 'reader') this.indexing = false;
        this.stateChanged.fire();
        break;
      case 'changed':
        this.changed.fire(m.reason);
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

  query<N extends QueryName>(name: N, args: QueryMap[N]['args']): Promise<QueryMap[N]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ type: 'query', id, name, args });
    });
  }

  /** Lets the worker persist and release the writer lease, then ends it. */
  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      const onMsg = (m: FromWorker) => m.type === 'stopped' && resolve();
      this.worker.on('message', onMsg);
      setTimeout(resolve, 3000);
    });
    this.post({ type: 'stop' });
    await stopped;
    await this.worker.terminate();
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
    this.stateChanged.dispose();
  }
}
