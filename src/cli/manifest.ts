import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { processRuns } from '../core/live/process';
import { machineId } from '../core/machine';
import { DEFAULT_STATUS_SETTINGS } from '../core/model/status';
import { type ClockFields, type ClockInputs, sameClock, sessionClock } from '../core/store/sessionClock';
import { PARSER_VERSION, SCHEMA_VERSION } from '../core/store/versions';
import { sessionJson } from '../core/export';
import type { SessionView } from '../core/store/queries';
import type { SourceAdapter } from '../core/sources/types';
import { jsonArrayElement, jsonArrayOf } from './output';

/**
 * The scan manifest (`<store>.scan`): what the CLI's last full scan saw, written by the CLI when it
 * persisted the store as its writer (manifestWrite.ts), with the `sessions --json` answer of that
 * moment. When nothing it records has changed, a full scan would read nothing and leave the store
 * as it is, so the answer can be given from here (the clock-dependent fields derived again from now,
 * sessionClock.ts) without loading sql.js, the store or the indexer: this module is part of the
 * CLI's thin entry (entry.ts).
 *
 * What "nothing changed" means is the slow path's own test, item by item:
 * - the store file (size, mtime, inode), the CLI's own code and the machine's id are the ones of
 *   the save;
 * - the environment variables the adapters read to find their roots have the same values, and each
 *   root resolves (realpath) to the same folder or is still absent;
 * - every folder the walk listed has the ctime it had just before it was listed (an entry added,
 *   removed or renamed changes its folder's mtime, and so its ctime), and so have the live
 *   registries' folders;
 * - every indexed transcript has the size, mtime and inode the store recorded for it (tailer.ts
 *   detectChange's "unchanged"), every document its signature, every registry file its stamp;
 * - every process whose liveness decided a status is still as alive as it was (process.ts).
 */

/** Bump when the manifest's shape or meaning changes; the store's versions are part of it. */
export const MANIFEST_FORMAT = `scan-1/schema-${SCHEMA_VERSION}/parser-${PARSER_VERSION}`;

export function manifestFile(storeFile: string): string {
  return `${storeFile}.scan`;
}

/** A file as stat() saw it: size, mtime (ms, as Node gives it) and inode (as text, like the store). */
export type Stamp = [size: number, mtime_ms: number, ino: string];

export interface ScanManifest {
  format: string;
  /** The CLI's full bundle when it wrote this: another build may index differently. */
  code: Stamp | null;
  store: Stamp;
  /** The machine's id (machine.ts): the store labels every session with it when it is opened. */
  machine: string;
  /** The environment variables the adapters read (name, value or null when unset), and the home folder. */
  env: [string, string | null][];
  home: string;
  spool: string | null;
  /** Each root as its adapter names it, and where it led (realpath; null: absent). */
  roots: [adapter: string, given: string, real: string | null][];
  /**
   * Folders listed by the walk or holding a live registry, with their ctime just before (null:
   * absent). ctime, not mtime: it moves with the mtime (an entry added, removed or renamed) and
   * also with a chmod, which may make the folder unreadable.
   */
  dirs: [path: string, ctime_ms: number | null][];
  /** Transcripts read line by line and registry files, as the store (or the registry read) saw them. */
  files: [path: string, ...Stamp][];
  /** Documents: their signature; `custom` when their adapter computes it (read by the full CLI only). */
  documents: [framework: string, path: string, size: number, mtime_ms: number, custom: boolean][];
  /** The processes whose liveness decided a status: pid, start (ms) and whether it ran. */
  processes: [pid: number, started_at_ms: number | null, alive: boolean][];
  /**
   * The `sessions --json` answer of the save, or null when the run that wrote this did not list the
   * sessions: each session's clock (inputs and fields then) and where its element lies in `answer`.
   */
  sessions: { clocks: SavedClock[]; bounds: number[]; bytes: number } | null;
}

interface SavedClock {
  inputs: ClockInputs;
  fields: ClockFields;
}

/** A manifest as read: its facts, and the answer's bytes (UTF-8) as they were written. */
export interface ReadManifest extends ScanManifest {
  answer: Buffer;
}

/** The `sessions --json` answer to save: each element's text (jsonArrayElement) and its clock. */
export interface SavedSessions {
  /** The answer as written: `[`, separators and `]` between the elements' UTF-8 bytes (answerPieces). */
  pieces: Buffer[];
  clocks: SavedClock[];
}

/**
 * The `sessions --json` answer of elements made by jsonArrayElement, as the bytes to write: made
 * once, printed and kept in the manifest as they are. Each element's text lives only until its
 * bytes are made (all of them at once were ~30 MB more at a cold run's end, 5,000 sessions).
 */
export function answerPieces(elements: Iterable<string>): Buffer[] {
  return Array.from(jsonArrayOf(elements), (piece) => Buffer.from(piece));
}

/**
 * The file: the facts (V8-serialized, after their length as 4 bytes) and then the answer as the
 * bytes `sessions --json` prints, so an unchanged answer goes out without being decoded or encoded.
 * Given as the pieces to write one after the other: joined, the answer would be copied twice more
 * (14 MB at 5,000 sessions), which set a cold run's peak memory.
 */
export function encodeManifest(facts: Omit<ScanManifest, 'sessions'>, sessions: SavedSessions | null): Buffer[] {
  const pieces: Buffer[] = [];
  let index: ScanManifest['sessions'] = null;
  if (sessions) {
    const bounds: number[] = [];
    let at = 0;
    for (const bytes of sessions.pieces) {
      pieces.push(bytes);
      // Separators and elements in turn: [sep, el, sep, el, ..., end].
      if (pieces.length % 2 === 0) bounds.push(at, at + bytes.length);
      at += bytes.length;
    }
    index = { clocks: sessions.clocks, bounds, bytes: at };
  }
  const head = serialize({ ...facts, sessions: index } satisfies ScanManifest);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(head.length);
  return [size, head, ...pieces];
}

export type Verdict = { holds: true; manifest: ReadManifest } | { holds: false; reason: string; needsAdapters?: true };

const ENOENT_SAFE = { throwIfNoEntry: false } as const;

export function stampOf(file: string): Stamp | null {
  const st = fs.statSync(file, ENOENT_SAFE);
  return st ? [st.size, st.mtimeMs, String(st.ino)] : null;
}

function sameStamp(a: Stamp | null, b: Stamp | null): boolean {
  return a === b || (a !== null && b !== null && a[0] === b[0] && a[1] === b[1] && a[2] === b[2]);
}

/** The full CLI's bundle, beside this one in dist/ (null when run from elsewhere, e.g. the tests' build). */
export function codeStamp(): Stamp | null {
  return stampOf(path.join(__dirname, 'cli-main.js'));
}

export function readManifest(storeFile: string): ReadManifest | null {
  try {
    const file = fs.readFileSync(manifestFile(storeFile));
    const headEnd = 4 + file.readUInt32LE(0);
    const m = deserialize(file.subarray(4, headEnd)) as Partial<ScanManifest> | null;
    if (!m || m.format !== MANIFEST_FORMAT || !Array.isArray(m.files) || !Array.isArray(m.dirs)) return null;
    const answer = file.subarray(headEnd);
    // A cut file (a copy that stopped, a full disk outside our rename) has an answer too short.
    if (answer.length !== (m.sessions?.bytes ?? 0)) return null;
    return { ...(m as ScanManifest), answer };
  } catch {
    return null;
  }
}

/**
 * Whether a full scan now would change nothing (see the header). A document whose adapter computes
 * its own signature is checked with that adapter, as indexDocument does; one whose adapter is not
 * among `adapters` (the thin entry carries only those without sql.js) cannot be checked here: the
 * verdict then says needsAdapters.
 */
export async function manifestHolds(
  storeFile: string,
  spool: string | null,
  adapters: readonly SourceAdapter[],
): Promise<Verdict> {
  const m = readManifest(storeFile);
  if (!m) return { holds: false, reason: 'no scan manifest of this version' };
  const no = (reason: string): Verdict => ({ holds: false, reason });
  if (!sameStamp(m.code, codeStamp())) return no('the CLI changed');
  if (!sameStamp(m.store, stampOf(storeFile))) return no('the store was written since');
  if (m.spool !== spool) return no('another --spool');
  if (m.machine !== machineId()) return no("the machine's id changed");
  if (m.home !== os.homedir()) return no('another home folder');
  for (const [name, value] of m.env) if ((process.env[name] ?? null) !== value) return no(`${name} changed`);
  for (const [, given, real] of m.roots) {
    let now: string | null = null;
    try {
      now = fs.realpathSync(given);
    } catch {
      // absent
    }
    if (now !== real) return no(`root ${given} changed`);
  }
  for (const [dir, ctime] of m.dirs) {
    const st = fs.statSync(dir, ENOENT_SAFE);
    if ((st?.ctimeMs ?? null) !== ctime) return no(`folder ${dir} changed`);
  }
  for (const [file, size, mtime, ino] of m.files) {
    const st = fs.statSync(file, ENOENT_SAFE);
    if (!st || !st.isFile() || st.size !== size || st.mtimeMs !== mtime || String(st.ino) !== ino)
      return no(`${file} changed`);
  }
  for (const [framework, file, size, mtime, custom] of m.documents) {
    if (custom) {
      const adapter = adapters.find((a) => a.id === framework);
      if (!adapter?.signature) return { holds: false, reason: `${file} needs its adapter`, needsAdapters: true };
      if (!(await sameSignature(adapter, m.roots, file, size, mtime))) return no(`${file} changed`);
      continue;
    }
    const st = fs.statSync(file, ENOENT_SAFE);
    if (!st || !st.isFile() || st.size !== size || st.mtimeMs !== mtime) return no(`${file} changed`);
  }
  for (const [pid, startedAt, alive] of m.processes)
    if ((await processRuns(pid, startedAt)) !== alive) return no(`process ${pid} is ${alive ? 'gone' : 'back'}`);
  return { holds: true, manifest: m };
}

/** Whether the document's signature (its adapter's, under one of the adapter's roots) is the recorded one. */
async function sameSignature(
  adapter: SourceAdapter,
  roots: ScanManifest['roots'],
  file: string,
  size: number,
  mtimeMs: number,
): Promise<boolean> {
  for (const [id, , real] of roots) {
    const found = id === adapter.id && real ? adapter.classify(real, file) : null;
    if (!found) continue;
    const sig = await adapter.signature!(found).catch(() => null);
    return sig !== null && sig.size === size && sig.mtime_ms === mtimeMs;
  }
  return false;
}

/**
 * The saved `sessions --json` answer as it reads now, as pieces of bytes to write in order: the
 * saved bytes, except the elements of sessions whose clock-dependent fields derive differently at
 * `now`, which get those fields replaced in place and are written again.
 */
export function answerNow(m: ReadManifest, now = Date.now()): Buffer[] {
  if (!m.sessions) throw new Error('the manifest holds no answer');
  const { clocks, bounds } = m.sessions;
  const pieces: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < clocks.length; i++) {
    const fields = sessionClock(clocks[i].inputs, now, DEFAULT_STATUS_SETTINGS);
    if (sameClock(fields, clocks[i].fields)) continue;
    const [start, end] = [bounds[2 * i], bounds[2 * i + 1]];
    // JSON.parse keeps the keys' order and spreading keeps each key in its place: the same bytes
    // as the view made with these fields.
    const element = { ...(JSON.parse(m.answer.toString('utf8', start, end)) as Record<string, unknown>), ...fields };
    pieces.push(
      m.answer.subarray(from, start),
      Buffer.from(jsonArrayElement(sessionJson(element as unknown as SessionView))),
    );
    from = end;
  }
  pieces.push(m.answer.subarray(from));
  return pieces;
}

/** AGENT_HANDLER_DEBUG=1: which path answered, on standard error. */
export function debugPath(message: string): void {
  if (process.env.AGENT_HANDLER_DEBUG) process.stderr.write(`agent-handler: ${message}\n`);
}
