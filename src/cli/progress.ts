import type { ScanProgress } from '../core/ingest/indexer';

/**
 * The line a long first index shows on standard error while it reads: files, megabytes, percent and
 * time left, redrawn in place. Only on a terminal, and only once the pass has taken
 * SHOW_AFTER_MS: a warm run, a pipe or a script's log never sees it.
 */

const SHOW_AFTER_MS = 2000;
const REDRAW_EVERY_MS = 120;

/** The text of the line (pure, for the tests). While the walk goes on the totals are those found so far. */
export function progressText(p: ScanProgress, elapsedMs: number): string {
  const mb = (n: number) => (n / 1_048_576).toFixed(n < 10 * 1_048_576 ? 1 : 0);
  const more = p.walking ? '+' : '';
  const fraction = p.bytes_to_read > 0 ? p.bytes_done / p.bytes_to_read : 0;
  let text = `indexing: ${p.files_done.toLocaleString('en-US')}/${p.files_to_read.toLocaleString('en-US')}${more} files, ${mb(p.bytes_done)}/${mb(p.bytes_to_read)}${more} MB, ${Math.floor(fraction * 100)}%`;
  if (fraction > 0.02 && !p.walking) {
    const left = Math.max(0, Math.round((elapsedMs / fraction - elapsedMs) / 1000));
    text += left >= 60 ? `, about ${Math.floor(left / 60)} min ${left % 60} s left` : `, about ${left} s left`;
  }
  return text;
}

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
