import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import { writePrivate } from '../privateFs';

/**
 * One writer per store across processes (VS Code windows, the CLI): a lease file holding the
 * writer's pid, host and a heartbeat. A lease whose heartbeat is older than `staleMs`, or whose pid
 * is gone on this host, may be taken over. Others only read the store file and reload it.
 */

export interface LeaseInfo {
  token: string;
  pid: number;
  host: string;
  heartbeat_ms: number;
}

export class WriterLease {
  private readonly token = randomUUID();
  private held = false;

  constructor(
    readonly file: string,
    readonly staleMs = 15_000,
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  private chain: Promise<unknown> = Promise.resolve();

  /** Lease operations of one holder run one at a time (a heartbeat and a persist may overlap). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Takes the lease if it is free or stale; true when this process is the writer afterwards. */
  tryAcquire(): Promise<boolean> {
    return this.serial(() => this.acquire());
  }

  /** Refreshes the heartbeat; false (and no longer held) when another process took the lease. */
  renew(): Promise<boolean> {
    return this.serial(() => this.doRenew());
  }

  release(): Promise<void> {
    return this.serial(() => this.doRelease());
  }

  private async acquire(): Promise<boolean> {
    if (this.held) return this.doRenew();
    const current = await this.read();
    if (current && !this.isStale(current)) return false;
    if (!current) {
      try {
        await writePrivate(this.file, JSON.stringify(this.info()), 'wx');
      } catch {
        // Someone else created it first (and may be writing it now), or a crash left an unreadable
        // file: the latter is taken over once it has not been written for staleMs.
        const st = await fsp.stat(this.file).catch(() => null);
        if (!st || Date.now() - st.mtimeMs <= this.staleMs) return false;
        await this.write();
      }
    } else {
      await this.write();
    }
    // Two processes may have taken over the same stale lease at once: the last write wins, and
    // both read back to see which one that was.
    await new Promise((r) => setTimeout(r, 50));
    const after = await this.read();
    this.held = after?.token === this.token;
    return this.held;
  }

  private async doRenew(): Promise<boolean> {
    const current = await this.read();
    if (!current || current.token !== this.token) {
      this.held = false;
      return false;
    }
    await this.write();
    return true;
  }

  private async doRelease(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const current = await this.read();
    if (current?.token === this.token) await fsp.unlink(this.file).catch(() => undefined);
  }

  async read(): Promise<LeaseInfo | null> {
    try {
      const parsed = JSON.parse(await fsp.readFile(this.file, 'utf8')) as LeaseInfo;
      return typeof parsed.token === 'string' ? parsed : null;
    } catch {
      return null;
    }
  }

  private isStale(l: LeaseInfo): boolean {
    if (Date.now() - l.heartbeat_ms > this.staleMs) return true;
    if (l.host === os.hostname() && l.pid !== process.pid) {
      try {
        process.kill(l.pid, 0);
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    return false;
  }

  private info(): LeaseInfo {
    return { token: this.token, pid: process.pid, host: os.hostname(), heartbeat_ms: Date.now() };
  }

  private async write(): Promise<void> {
    // A name of its own per write: two overlapping writes must not rename each other's file.
    const tmp = `${this.file}.tmp-${process.pid}-${randomUUID()}`;
    try {
      await writePrivate(tmp, JSON.stringify(this.info()));
      await fsp.rename(tmp, this.file);
    } catch (err) {
      // A full disk: no empty temp file left behind at every heartbeat.
      await fsp.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}
