import { Worker } from 'node:worker_threads';

/**
 * Keeps a worker thread running: when it ends without being asked to (an uncaught error, an
 * out-of-memory abort, process.exit in a dependency), it is started again after a delay that
 * doubles with each crash in a row (1 s, 2 s, 4 s … at most 60 s), so a worker that crashes at
 * once on every start cannot spin. A worker that ran for `stableMs` resets the delay. Nothing here
 * knows about VS Code: the extension's IndexClient and the reliability tests drive it.
 */

export interface SupervisorOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A worker that ran this long without crashing counts as healthy again (the delay resets). */
  stableMs?: number;
}

export interface SupervisorHooks {
  /** Called for every worker started (the first and each restart): send it its init message here. */
  onStart(worker: Worker, restarts: number): void;
  onMessage(message: unknown): void;
  /** The worker ended unexpectedly; it is started again after `delayMs`. */
  onCrash(info: { code: number; error: Error | null; restarts: number; delayMs: number }): void;
}

/** The delay before restart number `attempt` (1-based) with exponential backoff. */
export function backoffDelay(attempt: number, initialDelayMs = 1000, maxDelayMs = 60_000): number {
  return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

export class WorkerSupervisor {
  private worker: Worker | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private crashesInARow = 0;
  private startedAt = 0;
  private lastError: Error | null = null;
  /** How many times the worker was started again after a crash. */
  restarts = 0;

  constructor(
    private readonly workerFile: string,
    private readonly hooks: SupervisorHooks,
    private readonly opts: SupervisorOptions = {},
  ) {}

  start(): void {
    this.stopping = false;
    this.spawn();
  }

  get current(): Worker | null {
    return this.worker;
  }

  post(message: unknown): void {
    this.worker?.postMessage(message);
  }

  private spawn(): void {
    this.restartTimer = null;
    if (this.stopping) return;
    const worker = new Worker(this.workerFile);
    this.worker = worker;
    this.startedAt = Date.now();
    this.lastError = null;
    worker.on('message', (m) => this.hooks.onMessage(m));
    worker.on('error', (err) => {
      this.lastError = err;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.stopping) return;
      if (Date.now() - this.startedAt >= (this.opts.stableMs ?? 60_000)) this.crashesInARow = 0;
      this.crashesInARow++;
      this.restarts++;
      const delayMs = backoffDelay(
        this.crashesInARow,
        this.opts.initialDelayMs ?? 1000,
        this.opts.maxDelayMs ?? 60_000,
      );
      this.hooks.onCrash({ code, error: this.lastError, restarts: this.restarts, delayMs });
      this.restartTimer = setTimeout(() => this.spawn(), delayMs);
    });
    this.hooks.onStart(worker, this.restarts);
  }

  /** Ends the worker for good (no restart). `graceful` runs first, while the worker still lives. */
  async stop(graceful?: (worker: Worker) => Promise<void>): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    if (!worker) return;
    if (graceful) await graceful(worker).catch(() => undefined);
    this.worker = null;
    await worker.terminate();
  }
}
