import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

/** After a quiet spell: long enough to take the other events of the same write (a file's add and change). */
const QUIET_DELAY_MS = 5;

/**
 * Watches transcript folders and reports changed paths in debounced batches. Events are hints: the
 * periodic rescan (driven by the service) is the safety net for what a watcher misses (network file
 * systems, folders created after start, overflowed inotify queues).
 */
export class TranscriptWatcher {
  private watcher: FSWatcher | null = null;
  private readonly watched = new Set<string>();
  private readonly ignoredDirs = new Set<string>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** When the last batch was reported (performance.now()). */
  private lastReport = -Infinity;

  constructor(
    private readonly onPaths: (paths: string[]) => void,
    private readonly onRescanNeeded: () => void,
    private readonly debounceMs = 100,
  ) {}

  /** Starts watching the folders among `dirs` that exist; call again later to pick up new ones. */
  update(dirs: string[], ignored: string[] = []): void {
    // A scan that was running when the service stopped ends by calling update(): it must not start
    // a new (persistent) chokidar watcher that nothing will ever close.
    if (this.closed) return;
    for (const i of ignored) this.ignoredDirs.add(i);
    const fresh = dirs.filter((d) => !this.watched.has(d) && existsSync(d));
    if (fresh.length === 0) return;
    for (const d of fresh) this.watched.add(d);
    if (!this.watcher) {
      this.watcher = watch(fresh, {
        ignoreInitial: true,
        persistent: true,
        followSymlinks: false,
        depth: 8,
        // Which files matter is the adapters' call (classify); big sibling folders never do.
        ignored: (p) => /[\\/](tool-results|file-history|node_modules|\.git)([\\/]|$)/.test(p) || this.isIgnoredDir(p),
      });
      this.watcher.on('add', (p) => this.queue(p));
      this.watcher.on('change', (p) => this.queue(p));
      this.watcher.on('unlink', (p) => this.queue(p));
      this.watcher.on('unlinkDir', () => this.onRescanNeeded());
      this.watcher.on('error', () => this.onRescanNeeded());
    } else {
      this.watcher.add(fresh);
    }
  }

  private isIgnoredDir(p: string): boolean {
    for (const i of this.ignoredDirs) if (p === i || p.startsWith(i + path.sep)) return true;
    return false;
  }

  /**
   * The first change after a quiet spell is reported almost at once (an appended line reaches the
   * views in well under 100 ms; docs/performance.md); while an agent keeps writing, changes are
   * reported at most once per debounce interval, each batch holding every path changed meanwhile.
   */
  private queue(p: string): void {
    this.pending.add(p);
    if (this.timer) return;
    const sinceLast = performance.now() - this.lastReport;
    const delay = sinceLast >= this.debounceMs ? QUIET_DELAY_MS : this.debounceMs - sinceLast;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastReport = performance.now();
      const paths = [...this.pending];
      this.pending = new Set();
      this.onPaths(paths);
    }, delay);
  }

  /** How many folders are watched (for Diagnostics). */
  get watchedCount(): number {
    return this.watched.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.watcher?.close();
    this.watcher = null;
    this.watched.clear();
  }
}
