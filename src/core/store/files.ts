import type { FileState } from '../model/reducer';
import { newFileState } from '../model/reducer';
import type { StoreDb } from './db';
import { forgetFileDetails } from './details';
import { forgetFileLiveFacts } from './live';
import { forgetFileRequests, requestKeysOfFile } from './requests';
import { all } from './sqlite';

/**
 * The files the index has read (`files`): where each read stopped (byte offset, size, mtime, inode,
 * a fingerprint of its first bytes), the parse state to go on from, and whether the file is still
 * there. A document holding several sessions has a row per session besides its own
 * (`<doc>#session=<id>`). A file read again from its start forgets every row it gave.
 */

/** Separates a document's path from the session id in the rows of the sessions it holds. */
export const DOC_SEP = '#session=';

/** The file a row stands for: itself, or the document holding the session of a `<doc>#session=<id>` row. */
export function documentPathOf(rowPath: string): string {
  const i = rowPath.lastIndexOf(DOC_SEP);
  return i === -1 ? rowPath : rowPath.slice(0, i);
}

/**
 * A file's parse state as stored: top-level fields still at their empty value (most of them, most
 * of the time) are left out; parseStateJson puts them back.
 */
export function stateJson(state: FileState): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v === null || v === 0 || (Array.isArray(v) && !v.length)) continue;
    out[k] = v;
  }
  return JSON.stringify(out);
}

export function parseStateJson(json: string, ids: Parameters<typeof newFileState>[0]): FileState {
  return { ...newFileState(ids), ...(JSON.parse(json) as Partial<FileState>) };
}

export interface FileRow {
  file_id: number;
  path: string;
  framework: string;
  root: string;
  session_id: string | null;
  size: number;
  mtime_ms: number;
  ino: string | null;
  offset: number;
  fingerprint: string | null;
  fingerprint_len: number;
  first_record_at: string | null;
  last_activity: string | null;
  state_json: string | null;
  skipped_lines: number;
  last_skip_reason: string | null;
  deleted: number;
}

export type FileHead = Pick<FileRow, 'file_id' | 'path' | 'session_id' | 'deleted'>;

/** Where a read of a file stopped, and what it left to go on from. */
export interface FileProgress {
  size: number;
  mtime_ms: number;
  ino: string;
  offset: number;
  fingerprint: string;
  fingerprint_len: number;
  state: FileState;
  /** Keep the state for the next read to continue from (false for documents: always read whole). */
  resumable: boolean;
  skipped: number;
  skip_reason: string | null;
  session_id: string | null;
}

export function getFile(store: StoreDb, filePath: string): FileRow | undefined {
  return store.first<FileRow>('SELECT * FROM files WHERE path = ?', [filePath]);
}

export function listFiles(store: StoreDb): FileRow[] {
  return all<FileRow>(store.db, 'SELECT * FROM files');
}

/** Every file's identity and presence, without the parse state (cheap on thousands of files). */
export function listFileHeads(store: StoreDb): FileHead[] {
  return all<FileHead>(store.db, 'SELECT file_id, path, session_id, deleted FROM files');
}

/** What tells whether a file changed since it was read (detectChange), and whose it is: no parse state. */
export type FileCursorRow = Pick<
  FileRow,
  | 'file_id'
  | 'path'
  | 'session_id'
  | 'deleted'
  | 'size'
  | 'mtime_ms'
  | 'ino'
  | 'offset'
  | 'fingerprint'
  | 'fingerprint_len'
>;

/**
 * Every file's cursor by path, in one query: a full pass over thousands of unchanged files then
 * asks the store nothing per file (a file's row with its parse state is read only when it changed).
 */
export function listFileCursors(store: StoreDb): Map<string, FileCursorRow> {
  const rows = all<FileCursorRow>(
    store.db,
    'SELECT file_id, path, session_id, deleted, size, mtime_ms, ino, "offset", fingerprint, fingerprint_len FROM files',
  );
  return new Map(rows.map((r) => [r.path, r]));
}

/** Whether the store has read any file yet (a store that has not is filled in bulk: Store.beginBulkLoad). */
export function hasFiles(store: StoreDb): boolean {
  return store.first('SELECT 1 AS x FROM files LIMIT 1') !== undefined;
}

/**
 * The rows of the sessions a document holds (`<doc>#session=<id>`): a range on the path index,
 * since every such path starts with `<doc>#session=` and sorts before `<doc>#session>`.
 */
export function listDocumentSessionRows(store: StoreDb, docPath: string): FileRow[] {
  const from = `${docPath}${DOC_SEP}`;
  const to = `${from.slice(0, -1)}${String.fromCharCode(from.charCodeAt(from.length - 1) + 1)}`;
  return all<FileRow>(store.db, 'SELECT * FROM files WHERE path >= ? AND path < ?', [from, to]).filter(
    (f) => documentPathOf(f.path) === docPath,
  );
}

export function insertFile(
  store: StoreDb,
  f: { path: string; framework: string; root: string; session_id: string | null },
): FileRow {
  store.exec('INSERT INTO files(path, framework, root, session_id) VALUES (?, ?, ?, ?)', [
    f.path,
    f.framework,
    f.root,
    f.session_id,
  ]);
  store.markDirty();
  return getFile(store, f.path)!;
}

/** Forgets what was read of a file (it shrank or was replaced): its rows go, it is read again. */
export function resetFile(store: StoreDb, fileId: number): string[] {
  const keys = requestKeysOfFile(store, fileId);
  forgetFileRequests(store, fileId);
  forgetFileLiveFacts(store, fileId);
  forgetFileDetails(store, fileId);
  store.exec(
    `UPDATE files SET offset = 0, fingerprint = NULL, fingerprint_len = 0, first_record_at = NULL,
    last_activity = NULL, state_json = NULL, skipped_lines = 0, last_skip_reason = NULL, deleted = 0 WHERE file_id = ?`,
    [fileId],
  );
  store.markDirty();
  return keys;
}

export function saveFileProgress(store: StoreDb, fileId: number, p: FileProgress): void {
  store.exec(
    `UPDATE files SET size = ?, mtime_ms = ?, ino = ?, offset = ?, fingerprint = ?, fingerprint_len = ?, first_record_at = ?,
      last_activity = ?, state_json = ?, skipped_lines = skipped_lines + ?, last_skip_reason = COALESCE(?, last_skip_reason),
      session_id = COALESCE(?, session_id), deleted = 0, indexed_at = ? WHERE file_id = ?`,
    [
      p.size,
      p.mtime_ms,
      p.ino,
      p.offset,
      p.fingerprint,
      p.fingerprint_len,
      p.state.first_record_at,
      p.state.last_activity,
      p.resumable ? stateJson(p.state) : null,
      p.skipped,
      p.skip_reason,
      p.session_id,
      new Date().toISOString(),
      fileId,
    ],
  );
  store.markDirty();
}

/** Only the stat fields changed (e.g. a touch): no need to re-read. */
export function saveFileStat(store: StoreDb, fileId: number, size: number, mtimeMs: number, ino: string): void {
  store.exec('UPDATE files SET size = ?, mtime_ms = ?, ino = ? WHERE file_id = ?', [size, mtimeMs, ino, fileId]);
  store.markDirty();
}

/**
 * A transcript that is gone (retention, /cd, archive) keeps its rows, marked deleted: its history
 * still counts unless another file holds the same requests, which then win.
 */
export function markFileDeleted(store: StoreDb, fileId: number): string[] {
  store.exec('UPDATE files SET deleted = 1 WHERE file_id = ?', [fileId]);
  store.markDirty();
  return requestKeysOfFile(store, fileId);
}

/** A file marked deleted is there again, unchanged (moved away and back): its rows are present again. */
export function markFilePresent(store: StoreDb, fileId: number): string[] {
  store.exec('UPDATE files SET deleted = 0 WHERE file_id = ?', [fileId]);
  store.markDirty();
  return requestKeysOfFile(store, fileId);
}
