import type { AgentEvent } from '../model/events';
import { lineText } from '../sources/lineBytes';
import type { DiscoveredFile, SourceAdapter } from '../sources/types';
import { FINGERPRINT_BYTES, fingerprint, readCompleteLines } from './tailer';

/**
 * One read of an append-only transcript: the complete lines it gained since `offset`, turned into
 * events by its adapter. Self-contained (a path, an offset, the adapter's parse state in; events and
 * the new state out), so it runs the same on the indexer's thread and in a parse worker
 * (parsePool.ts): the store is never touched here.
 */
export interface LineReadJob {
  file: DiscoveredFile;
  offset: number;
  /** The adapter's parse state at `offset` (LineContext.state); a copy is mutated and returned. */
  adapterState: Record<string, unknown>;
  /** The file's recorded first-bytes hash and its length: reused when the read leaves them as they are. */
  fingerprint: string | null;
  fingerprintLen: number;
}

export interface LinesRead {
  events: AgentEvent[];
  adapterState: Record<string, unknown>;
  /** Just past the last complete line: where the next read starts. */
  offset: number;
  bytes: number;
  lines: number;
  skipped: number;
  skipReason: string | null;
  fingerprint: string;
  fingerprintLen: number;
}

export async function readNewLines(adapter: SourceAdapter, job: LineReadJob): Promise<LinesRead> {
  const ctx = { file: job.file, state: job.adapterState };
  const events: AgentEvent[] = [];
  let skipped = 0;
  let skipReason: string | null = null;
  let lines = 0;
  const { offset, bytes } = await readCompleteLines(job.file.path, job.offset, (buf) => {
    lines++;
    const line = lineText(buf);
    if (!line) return;
    try {
      const evs = adapter.parseLine!(line, ctx);
      if (evs) for (const e of evs) events.push(e);
      else {
        skipped++;
        skipReason = `line ${lines} of a read: not a record`;
      }
    } catch (err) {
      skipped++;
      skipReason = `line ${lines} of a read: ${(err as Error).message.slice(0, 200)}`;
    }
  });
  // The first bytes are hashed again only when the read brought the file's first complete lines.
  let fp = job.fingerprint ?? '';
  let fingerprintLen = job.fingerprintLen;
  if (bytes > 0) {
    fingerprintLen = Math.min(FINGERPRINT_BYTES, Math.max(job.fingerprintLen, offset));
    if (fingerprintLen !== job.fingerprintLen || !job.fingerprint)
      fp = await fingerprint(job.file.path, fingerprintLen);
  }
  return {
    events,
    adapterState: ctx.state,
    offset,
    bytes,
    lines,
    skipped,
    skipReason,
    fingerprint: fp,
    fingerprintLen,
  };
}
