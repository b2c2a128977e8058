import { SNAPSHOT_EVERY_MS } from '../store/sessionSnapshot';
import type { Logger } from './indexer';

/**
 * How long from `now` the next save of the store must wait. A save writes the whole file (sql.js
 * holds the database in memory): 0.3-0.4 s at 1 GB of transcripts (a 49 MB store), most of it
 * writing and syncing the file (docs/performance.md), and the worker answers no query meanwhile.
 * Saves are spaced at PERSIST_SPACING times the last one's duration, about a tenth of the worker's
 * time while agents write. Small stores save in milliseconds and are not held back; a 1 GB
 * corpus's store is saved at most every ~3-4 s (also how late other windows, which reload the
 * file, can be).
 */
export function persistSpacing(last: { at: number; ms: number } | null, now: number): number {
  if (!last) return 0;
  return Math.max(0, last.at + Math.min(PERSIST_SPACING * last.ms, PERSIST_SPACING_MAX_MS) - now);
}

/** See persistSpacing. The cap: one slow save (a disk busy at its fsync) never holds saves back long. */
export const PERSIST_SPACING = 10;
export const PERSIST_SPACING_MAX_MS = 30_000;

/** What the scheduler saves, and how; the service owns the store, the lease and the index queue. */
export interface PersistTarget {
  /** Unsaved changes in the store. */
  isDirty(): boolean;
  /** Whether this process may still write the file (the writer, its lease renewed); it hands over itself when not. */
  maySave(): Promise<boolean>;
  /** Writes the store file (temp file + rename); throws when it could not. */
  save(): Promise<void>;
  /** Saves the session list for the next start's first paint (sessionSnapshot.ts); never throws. */
  saveSnapshot(): Promise<void>;
  /** Saves run on the index queue, one piece of index work at a time, never inside a pass. */
  enqueue(work: () => Promise<void>): void;
}

/**
 * When the writer saves the store: debounced after changes, spaced after slow saves
 * (persistSpacing), retried with a growing delay after failures, and with the session list saved
 * at most every SNAPSHOT_EVERY_MS alongside.
 */
export class PersistScheduler {
  /**
   * Persist at most this long after the first unsaved change, and this long after the last one;
   * never sooner than persistSpacing() allows after the previous save.
   */
  static readonly PERSIST_MAX_MS = 5_000;
  static readonly PERSIST_QUIET_MS = 1_000;

  private timer: NodeJS.Timeout | null = null;
  private firstDirtyAt: number | null = null;
  private failures = 0;
  /** When the last save ended and how long it took: the next one waits in proportion (persistSpacing). */
  private lastPersist: { at: number; ms: number } | null = null;
  /** When the session list was last saved for the views' first paint (sessionSnapshot.ts). */
  private lastSnapshotAt = 0;
  /** A save happened since the list was last saved. */
  private snapshotDue = false;
  private stopped = false;

  constructor(
    private readonly target: PersistTarget,
    private readonly log: Logger,
  ) {}

  /** Changes were made: a save is due, sooner or later. */
  schedule(): void {
    // After stop() (a scan that was running when it was called): the final flush() saves once itself.
    if (this.stopped || !this.target.isDirty()) return;
    const now = Date.now();
    this.firstDirtyAt ??= now;
    if (this.timer) clearTimeout(this.timer);
    const debounce = Math.min(
      PersistScheduler.PERSIST_QUIET_MS,
      this.firstDirtyAt + PersistScheduler.PERSIST_MAX_MS - now,
    );
    const wait = Math.max(0, debounce, persistSpacing(this.lastPersist, now));
    this.timer = setTimeout(() => this.target.enqueue(() => this.persist()), wait);
  }

  private async persist(): Promise<void> {
    this.timer = null;
    this.firstDirtyAt = null;
    try {
      if (!(await this.target.maySave())) return;
      const t0 = Date.now();
      await this.target.save();
      this.lastPersist = { at: Date.now(), ms: Date.now() - t0 };
      this.log.debug?.(`store persisted in ${this.lastPersist.ms} ms`);
      this.failures = 0;
      this.snapshotDue = true;
      if (Date.now() - this.lastSnapshotAt >= SNAPSHOT_EVERY_MS) await this.saveSnapshot();
    } catch (err) {
      // The old file is intact (temp file + rename); try again later (e.g. after a full disk), with
      // a growing delay so a disk that stays full is not hammered (and the log not flooded).
      this.failures++;
      const retryMs = Math.min(60_000, PersistScheduler.PERSIST_QUIET_MS * 2 ** (this.failures - 1));
      this.log.error(
        `could not save the index (${(err as Error).message}); the previous file is kept, retrying in ${retryMs / 1000} s`,
      );
      if (this.timer) clearTimeout(this.timer);
      if (!this.stopped) this.timer = setTimeout(() => this.target.enqueue(() => this.persist()), retryMs);
    }
  }

  private async saveSnapshot(): Promise<void> {
    this.lastSnapshotAt = Date.now();
    this.snapshotDue = false;
    await this.target.saveSnapshot();
  }

  /** No more scheduled saves (the service is stopping; flush() makes the last one). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The last save when the writer stops: what is unsaved, and the session list if a save made it stale. */
  async flush(): Promise<void> {
    if (this.target.isDirty()) {
      await this.target.save().then(
        () => (this.snapshotDue = true),
        (err: Error) => this.log.error(`final persist failed: ${err.message}`),
      );
    }
    if (this.snapshotDue) await this.saveSnapshot();
  }
}
