import { type FSWatcher, existsSync, lstatSync, promises as fsp, statSync, watch } from 'node:fs';
import * as path from 'node:path';

/** After a quiet spell: long enough to take the other events of the same write (a file's add and change). */
const QUIET_DELAY_MS = 5;
/** How many folder levels below a watched root are watched (a Codex root/YYYY/MM/DD folder is 3). */
const MAX_DEPTH = 8;
/** Big sibling folders that never hold transcripts; which files matter is the adapters' call (classify). */
const NEVER_WATCHED = /[\\/](tool-results|file-history|node_modules|\.git)([\\/]|$)/;

/**
 * Watches transcript folders and reports changed paths in debounced batches. Events are hints: the
 * periodic rescan (driven by the service) is the safety net for what a watcher misses (network file
 * systems, overflowed inotify queues, the watch limit).
 *
 * One non-recursive `fs.watch` per folder (`recursive: true` is not reliable on Linux in Node 20).
 * An event names the entry that changed, and that name is all it costs: chokidar 4 re-read the
 * whole folder (readdir + an lstat per entry) on every event in it, an appended line included,
 * which made a project folder of hundreds of sessions the main cost of indexing (docs/performance.md, "Soak").
 */
export class TranscriptWatcher {
  /** The watched roots, as given to update(). */
  private readonly roots = new Set<string>();
  /** Every watched folder (roots and the folders below them) and its depth below its root. */
  private readonly dirs = new Map<string, { watcher: FSWatcher; depth: number }>();
  private readonly ignoredDirs = new Set<string>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  /** Set once the system refused a watch (inotify limit, open files): the periodic rescan covers the rest. */
  private atWatchLimit = false;
  private closed = false;
  /** When the last batch was reported (performance.now()). */
  private lastReport = -Infinity;

  constructor(
    private readonly onPaths: (paths: string[]) => void,
    /** Something may have been missed (a folder removed, a watcher error): the reason is for the log. */
    private readonly onRescanNeeded: (reason: string) => void,
    private readonly debounceMs = 100,
  ) {}

  /**
   * Starts watching the folders among `dirs` that exist, and the folders below them; call again
   * later to pick up new ones. Resolves once they are all watched (callers need not wait).
   */
  async update(dirs: string[], ignored: string[] = []): Promise<void> {
    // A scan that was running when the service stopped ends by calling update(): it must not start
    // (persistent) watchers that nothing will ever close.
    if (this.closed) return;
    for (const i of ignored) this.ignoredDirs.add(i);
    const fresh = dirs.filter((d) => !this.roots.has(d) && isDirectory(d));
    // Kept even when its watch fails (the watch limit): a rescan retrying it would only fail again.
    for (const d of fresh) this.roots.add(d);
    // What is already there was read by the scan that calls update(); only what comes next is reported.
    for (const d of fresh) await this.watchTree(d, 0, false);
  }

  /** Watches `dir` and the folders below it; `reportFiles` for a new folder, whose files may predate its watch. */
  private async watchTree(dir: string, depth: number, reportFiles: boolean): Promise<void> {
    if (this.closed || depth > MAX_DEPTH || this.dirs.has(dir) || this.isIgnored(dir)) return;
    // Watched before it is listed, so that nothing written in between falls in the gap.
    if (!this.watchDir(dir, depth)) return;
    let entries;
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return; // gone already: its own watcher reports that
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await this.watchTree(p, depth + 1, reportFiles);
      else if (reportFiles && !this.isIgnored(p)) this.queue(p);
    }
  }

  private watchDir(dir: string, depth: number): boolean {
    if (this.closed) return false;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: true }, (event, name) => this.onEvent(dir, event, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false; // gone meanwhile: its parent reports that
      this.watchFailed(dir, err as NodeJS.ErrnoException);
      return false;
    }
    watcher.on('error', (err: NodeJS.ErrnoException) => {
      this.unwatchTree(dir);
      this.requestRescan(`the watcher of ${dir} failed (${err.code ?? err.message})`);
    });
    this.dirs.set(dir, { watcher, depth });
    return true;
  }

  private watchFailed(dir: string, err: NodeJS.ErrnoException): void {
    const limit = err.code === 'ENOSPC' || err.code === 'EMFILE';
    if (limit && this.atWatchLimit) return; // said once; more rescans would not watch more
    if (limit) this.atWatchLimit = true;
    const hint = limit
      ? `the system's limit of watched folders is reached (${err.code}; on Linux: fs.inotify.max_user_watches); ` +
        `folders past it are seen by the periodic rescan`
      : `${dir} cannot be watched (${err.code ?? err.message})`;
    this.requestRescan(hint);
  }

  /**
   * `name` is the entry of `dir` that changed. 'change' is a write to it (an appended line: no I/O
   * here at all); 'rename' is an entry that appeared or went, so it is looked at once.
   */
  private onEvent(dir: string, event: string, name: string | Buffer | null): void {
    if (this.closed || !this.dirs.has(dir)) return;
    if (name === null || name === undefined) {
      // Some platforms say only "something changed here": a rescan finds out what.
      this.requestRescan(`an event without a file name in ${dir}`);
      return;
    }
    const p = path.join(dir, name.toString());
    if (this.isIgnored(p)) return;
    if (event === 'change') {
      if (!this.dirs.has(p)) this.queue(p); // a watched folder's own changes are seen through its watcher
      return;
    }
    let stats;
    try {
      stats = lstatSync(p);
    } catch {
      this.onGone(dir, p);
      return;
    }
    const depth = this.dirs.get(dir)?.depth ?? 0;
    // Symbolic links are not followed: a link is reported as a file, as before.
    if (stats.isDirectory()) void this.watchTree(p, depth + 1, true);
    else this.queue(p);
  }

  /** `p`, an entry of `dir`, is gone: a file (reported), a watched folder, or `dir` itself (on Linux, its own watcher says so). */
  private onGone(dir: string, p: string): void {
    const removedDir = this.dirs.has(p) ? p : existsSync(dir) ? null : dir;
    if (!removedDir) {
      this.queue(p);
      return;
    }
    this.unwatchTree(removedDir);
    // Its files are gone with it, and no event names them: the rescan marks them deleted.
    this.requestRescan(`the folder ${removedDir} was removed`);
  }

  /** Stops watching `dir` and the folders below it; a removed root is watched again when it comes back. */
  private unwatchTree(dir: string): void {
    for (const [d, { watcher }] of this.dirs) {
      if (d === dir || d.startsWith(dir + path.sep)) {
        watcher.close();
        this.dirs.delete(d);
      }
    }
    for (const r of this.roots) if (r === dir || r.startsWith(dir + path.sep)) this.roots.delete(r);
  }

  private isIgnored(p: string): boolean {
    if (NEVER_WATCHED.test(p)) return true;
    for (const i of this.ignoredDirs) if (p === i || p.startsWith(i + path.sep)) return true;
    return false;
  }

  /** Several reasons at once (a folder and its subfolders removed) make one rescan. */
  private requestRescan(reason: string): void {
    if (this.closed || this.rescanTimer) return;
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = null;
      if (!this.closed) this.onRescanNeeded(reason);
    }, QUIET_DELAY_MS);
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
    return this.dirs.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.timer, this.rescanTimer]) if (t) clearTimeout(t);
    this.timer = null;
    this.rescanTimer = null;
    for (const { watcher } of this.dirs.values()) watcher.close();
    this.dirs.clear();
    this.roots.clear();
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
