import type { ScanProgress } from './indexTypes';

/**
 * A first index's progress as one line (files, megabytes, percent, time left): the CLI's stderr line
 * (src/cli/progress.ts) and the extension's window progress say the same.
 */

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
