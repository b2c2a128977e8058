/**
 * What the indexer reports and takes besides its options: its logger, a pass's counts, and what a
 * full pass tells whoever watches it (the scan manifest's recorder, the progress line). Apart from
 * indexer.ts, so the CLI's progress and the service's messages need none of the indexer.
 */

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug?(msg: string): void;
}

export interface IndexStats {
  files_seen: number;
  files_read: number;
  files_reset: number;
  files_deleted: number;
  lines_read: number;
  bytes_read: number;
  lines_skipped: number;
  sessions_changed: number;
  /** Files that grew by an incomplete line only (read when the line is complete). */
  files_partial: number;
  /** Files that could not be read this time (tried again later). */
  files_failed: number;
  /** Of the files read, those a parse worker read (parsePool.ts); the rest were read on the indexer's thread. */
  files_read_by_workers: number;
}

/** What a full pass tells whoever watches it (see scanAll). */
export interface ScanObserver {
  dir?(dir: string): void;
  /** After each file a full pass read (cheap: a few counters; the CLI's progress line). */
  progress?(p: ScanProgress): void;
}

/**
 * How far a full pass is. The walk and the reads overlap, so the files and bytes to read are those
 * found so far (final once `walking` is false).
 */
export interface ScanProgress {
  walking: boolean;
  files_to_read: number;
  files_done: number;
  bytes_to_read: number;
  bytes_done: number;
}

export function emptyStats(): IndexStats {
  return {
    files_seen: 0,
    files_read: 0,
    files_reset: 0,
    files_deleted: 0,
    lines_read: 0,
    bytes_read: 0,
    lines_skipped: 0,
    sessions_changed: 0,
    files_partial: 0,
    files_failed: 0,
    files_read_by_workers: 0,
  };
}
