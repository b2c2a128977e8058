import type { ScanProgress } from '../core/ingest/indexer';
import { progressText } from '../core/ingest/progressText';

/**
 * The line a long first index shows on standard error while it reads: files, megabytes, percent and
 * time left, redrawn in place. Only on a terminal, and only once the pass has taken
 * SHOW_AFTER_MS: a warm run, a pipe or a script's log never sees it.
 */

const SHOW_AFTER_MS = 2000;
const REDRAW_EVERY_MS = 120;

export class ProgressLine {
  private readonly started: number;
  private drawn = 0;
  private shown = false;

  constructor(
    private readonly out: { isTTY?: boolean; write(text: string): boolean },
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  update(p: ScanProgress): void {
    if (!this.out.isTTY) return;
    const t = this.now();
    if (t - this.started < SHOW_AFTER_MS || t - this.drawn < REDRAW_EVERY_MS) return;
    this.drawn = t;
    this.shown = true;
    this.out.write(`\r\x1b[K${progressText(p, t - this.started)}`);
  }

  /** Clears the line (if it was ever drawn), so what follows starts on a clean line. */
  end(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
