import type { StoreDb } from './db';
import { all, one } from './sqlite';

/**
 * Full-text search over what people asked (prompts), what sessions are called (titles) and what the
 * assistants answered, through the store's FTS4 index (sql.js has FTS3/4, not FTS5). Results are
 * sessions, each with its best matching excerpt and where the match is in it.
 *
 * Written per file like the request rows (a file read again from the start replaces its own texts),
 * plus one text per session for its title; indexed after the numbers (PendingSearchTexts); read by
 * searchSessions.
 */

/**
 * Text kept for full-text search, per message: the first this many characters. The index finds a
 * session; the transcript holds the rest.
 */
export const SEARCH_TEXT_MAX = 2048;

/** How many pending texts one slice of indexing writes (a few tens of milliseconds of work). */
export const SEARCH_SLICE_TEXTS = 2000;

/**
 * The search index is filled after the numbers are in. A text's search_doc row and its body (in
 * search_pending) are written with the rest of a file's rows, in the same transaction: a text
 * rolled back or forgotten (a file read again) goes with them and is never indexed. The full-text
 * entries (search_fts: tokenizing, deflating) are written later, from search_pending, in slices
 * (indexPendingSearchTexts): by the extension's worker when it is idle after a pass, and by whatever
 * needs complete results (searchSessions unless told otherwise). A cold index thus costs the
 * numbers only, and the CLI's `sessions` never pays for the index at all: its texts stay queued in
 * the store file until a process that searches fills it. Until then search says how far it is
 * (searchProgress) instead of answering from part of the texts without saying so.
 */
export class PendingSearchTexts {
  /** The next search_doc docid (never reused within a store, so an entry cannot land on another row). */
  private nextDocid = 0;

  constructor(private readonly store: StoreDb) {}

  newDocid(): number {
    if (!this.nextDocid) {
      this.nextDocid =
        1 +
        (this.store.first<{ n: number }>(
          'SELECT MAX(COALESCE((SELECT MAX(docid) FROM search_doc), 0), COALESCE((SELECT MAX(docid) FROM search_fts), 0)) AS n',
        )?.n ?? 0);
    }
    return this.nextDocid++;
  }
}

/** The store as search needs it: its database and the docids it hands out. */
export interface SearchStore extends StoreDb {
  readonly searchTexts: PendingSearchTexts;
}

/**
 * A prompt or assistant answer of a file, kept for search (its first SEARCH_TEXT_MAX characters):
 * its row, and its body until it is indexed (see PendingSearchTexts).
 */
export function addSearchText(
  store: SearchStore,
  fileId: number,
  kind: 'prompt' | 'assistant',
  ts: string | null,
  text: string,
): void {
  const docid = store.searchTexts.newDocid();
  store.exec('INSERT INTO search_doc(docid, file_id, session_id, kind, ts) VALUES (?, ?, NULL, ?, ?)', [
    docid,
    fileId,
    kind,
    ts,
  ]);
  store.exec('INSERT INTO search_pending(docid, body) VALUES (?, ?)', [docid, text]);
}

/** Forgets a file's texts (it is read again from its start). */
export function forgetSearchTexts(store: StoreDb, fileId: number): void {
  store.exec('DELETE FROM search_fts WHERE docid IN (SELECT docid FROM search_doc WHERE file_id = ?)', [fileId]);
  store.exec('DELETE FROM search_pending WHERE docid IN (SELECT docid FROM search_doc WHERE file_id = ?)', [fileId]);
  store.exec('DELETE FROM search_doc WHERE file_id = ?', [fileId]);
}

/** The text of a search document, indexed or not yet. */
const BODY_OF = (docid: string) =>
  `COALESCE((SELECT body FROM search_pending p WHERE p.docid = ${docid}), (SELECT body FROM search_fts f WHERE f.docid = ${docid}))`;

/** The session's title as a search document of its own (file_id 0: it belongs to no one file). */
export function indexTitle(store: SearchStore, sessionId: string, title: string | null): void {
  const prev = store.first<{ docid: number; body: string | null }>(
    `SELECT docid, ${BODY_OF('d.docid')} AS body FROM search_doc d WHERE session_id = ? AND kind = 'title'`,
    [sessionId],
  );
  if ((prev?.body ?? null) === title) return;
  if (prev) {
    store.exec('DELETE FROM search_fts WHERE docid = ?', [prev.docid]);
    store.exec('DELETE FROM search_pending WHERE docid = ?', [prev.docid]);
    store.exec('DELETE FROM search_doc WHERE docid = ?', [prev.docid]);
  }
  if (!title) return;
  const docid = store.searchTexts.newDocid();
  store.exec("INSERT INTO search_doc(docid, file_id, session_id, kind, ts) VALUES (?, 0, ?, 'title', NULL)", [
    docid,
    sessionId,
  ]);
  store.exec('INSERT INTO search_pending(docid, body) VALUES (?, ?)', [docid, title]);
}

/**
 * Writes the full-text entries of up to `max` pending texts, oldest first, in one transaction (its
 * own, or the open batch's: never inside a piece's savepoint, where FTS4 would write a segment per
 * savepoint). Returns how many texts are still pending.
 */
export function indexPendingSearchTexts(store: StoreDb, max = Infinity): number {
  const limit = Number.isFinite(max) ? Math.max(1, Math.floor(max)) : -1;
  const write = () => {
    store.exec('INSERT INTO search_fts(docid, body) SELECT docid, body FROM search_pending ORDER BY docid LIMIT ?', [
      limit,
    ]);
    store.exec('DELETE FROM search_pending WHERE docid IN (SELECT docid FROM search_pending ORDER BY docid LIMIT ?)', [
      limit,
    ]);
  };
  if (!pendingCount(store)) return 0;
  if (store.inTransaction) write();
  else store.transaction(write);
  store.markDirty();
  return pendingCount(store);
}

/** Free pages worth giving back: at least this many bytes, and this share of the file. */
const RECLAIM = { minBytes: 8 * 1024 * 1024, minShare: 0.2 };

/**
 * Gives back the pages the pending texts left free once the full-text index holds them all (a
 * first index queues every text plain, then moves it into the compressed index: at 1 GB that left
 * 19 MB of a 68 MB file free, 47 MB after). VACUUM rewrites the database (about a second at that
 * size), so only when it is worth it and no text is pending. Returns whether it did.
 */
export function reclaimFreePages(store: StoreDb, worth = RECLAIM): boolean {
  if (store.inTransaction || pendingCount(store)) return false;
  const pragma = (name: string) => store.first<{ n: number }>(`SELECT * FROM pragma_${name}() AS n`);
  const free = Number(Object.values(pragma('freelist_count') ?? {})[0] ?? 0);
  const pages = Number(Object.values(pragma('page_count') ?? {})[0] ?? 0);
  const pageSize = Number(Object.values(pragma('page_size') ?? {})[0] ?? 0);
  if (free === 0 || free * pageSize < worth.minBytes || free < pages * worth.minShare) return false;
  store.db.exec('VACUUM');
  store.markDirty();
  return true;
}

function pendingCount(store: StoreDb): number {
  return store.first<{ n: number }>('SELECT count(*) AS n FROM search_pending')?.n ?? 0;
}

/** How far the search index is: texts kept, and how many of them are indexed (searchable) yet. */
export interface SearchProgress {
  texts: number;
  indexed: number;
  /** Whether every text kept is searchable. */
  complete: boolean;
}

export function searchProgress(store: StoreDb): SearchProgress {
  const texts = store.first<{ n: number }>('SELECT count(*) AS n FROM search_doc')?.n ?? 0;
  const indexed = texts - pendingCount(store);
  return { texts, indexed, complete: indexed >= texts };
}

// ---- reading -------------------------------------------------------------------------------------

export type SearchKind = 'title' | 'prompt' | 'assistant';

export interface SearchOptions {
  /** Search the assistants' text too (agentHandler.search.includeAssistantText). */
  includeAssistantText: boolean;
  limit?: number;
  /**
   * Search only the texts indexed so far, leaving the pending ones to the idle indexing (the
   * extension, which says how far it is: searchProgress). Otherwise every pending text is indexed
   * first: complete results, at the cost of indexing them now.
   */
  indexedOnly?: boolean;
}

export interface SearchHit {
  session_id: string;
  framework: string;
  title: string | null;
  git_branch: string | null;
  cwd: string | null;
  last_activity: string | null;
  /** Where the best excerpt comes from. */
  kind: SearchKind;
  /** The excerpt, plain text ('…' where it was cut). */
  excerpt: string;
  /** [start, end) character ranges of the matched words in `excerpt`. */
  highlights: [number, number][];
  /** Matched words over all of the session's texts, weighted by where they are (title 3, prompt 2, answer 1). */
  score: number;
}

const WEIGHT: Record<SearchKind, number> = { title: 3, prompt: 2, assistant: 1 };
const MARK_START = '\u0001';
const MARK_END = '\u0002';

/**
 * The words someone typed as FTS prefix terms (results follow the typing). Only letters and digits
 * survive, so no FTS syntax (quotes, NEAR, OR, -, column filters) comes from input.
 */
export function searchTerms(input: string): string[] {
  return (input.match(/[\p{L}\p{N}_]+/gu)?.slice(0, 12) ?? []).map((w) => `${w.toLowerCase()}*`);
}

/**
 * Sessions matching every word of `input`, each word anywhere in the session (one in a prompt,
 * another in an answer). The FTS query matches any word; offsets() tells which words a text holds.
 */
export function searchSessions(store: SearchStore, input: string, opts: SearchOptions): SearchHit[] {
  const terms = searchTerms(input);
  if (!terms.length) return [];
  if (!opts.indexedOnly) indexPendingSearchTexts(store);
  const match = terms.join(' OR ');
  // Ranking needs offsets() of every matching text; the excerpt (snippet(), the costlier one) is
  // made afterwards for the texts shown only.
  const rows = all<{ docid: number; session_id: string; kind: SearchKind; offs: string }>(
    store.db,
    `SELECT d.docid AS docid, COALESCE(d.session_id, (SELECT session_id FROM files WHERE file_id = d.file_id)) AS session_id, d.kind AS kind, offsets(search_fts) AS offs
     FROM search_fts JOIN search_doc d ON d.docid = search_fts.docid
     WHERE search_fts MATCH ? ${opts.includeAssistantText ? '' : "AND d.kind != 'assistant'"}
     LIMIT 5000`,
    [match],
  );
  const best = new Map<
    string,
    { score: number; bestRowScore: number; row: (typeof rows)[number]; terms: Set<number> }
  >();
  for (const r of rows) {
    // offsets(): four integers (column, term, byte offset, size) per matched word occurrence.
    const offs = r.offs.split(' ').map(Number);
    const rowTerms = new Set<number>();
    for (let i = 1; i < offs.length; i += 4) rowTerms.add(offs[i]!);
    const rowScore = (offs.length / 4) * WEIGHT[r.kind];
    // The excerpt: the text holding most of the words, a prompt or an answer before the title (the
    // result's label shows the title already), then the higher score.
    const rowRank = rowTerms.size * 1e6 + (r.kind === 'title' ? 0 : 1e5) + rowScore;
    const b = best.get(r.session_id);
    if (!b) best.set(r.session_id, { score: rowScore, bestRowScore: rowRank, row: r, terms: rowTerms });
    else {
      b.score += rowScore;
      for (const t of rowTerms) b.terms.add(t);
      if (rowRank > b.bestRowScore) {
        b.bestRowScore = rowRank;
        b.row = r;
      }
    }
  }
  for (const [id, b] of best) if (b.terms.size < terms.length) best.delete(id);
  if (best.size === 0) return [];
  const ids = [...best.keys()];
  const sessions = new Map(
    all<SessionFields>(
      store.db,
      `SELECT session_id, framework, title, git_branch, cwd, last_activity FROM sessions WHERE session_id IN (${ids.map(() => '?').join(',')})`,
      ids,
    ).map((s) => [s.session_id, s]),
  );
  const ranked: { session: SessionFields; kind: SearchKind; docid: number; score: number }[] = [];
  for (const [id, b] of best) {
    const s = sessions.get(id);
    if (s) ranked.push({ session: s, kind: b.row.kind, docid: b.row.docid, score: b.score });
  }
  ranked.sort(
    (a, b) => b.score - a.score || (b.session.last_activity ?? '').localeCompare(a.session.last_activity ?? ''),
  );
  const shown = ranked.slice(0, opts.limit ?? 50);
  if (!shown.length) return [];
  const snippets = new Map(
    all<{ docid: number; snip: string }>(
      store.db,
      `SELECT docid, snippet(search_fts, char(1), char(2), '…', -1, 12) AS snip FROM search_fts
       WHERE search_fts MATCH ? AND docid IN (${shown.map(() => '?').join(',')})`,
      [match, ...shown.map((r) => r.docid)],
    ).map((r) => [r.docid, r.snip]),
  );
  return shown.map((r) => ({ ...r.session, kind: r.kind, ...unmark(snippets.get(r.docid) ?? ''), score: r.score }));
}

interface SessionFields {
  session_id: string;
  framework: string;
  title: string | null;
  git_branch: string | null;
  cwd: string | null;
  last_activity: string | null;
}

/** snippet()'s marked text → plain one-line text and the ranges that were marked. */
export function unmark(marked: string): { excerpt: string; highlights: [number, number][] } {
  let excerpt = '';
  const highlights: [number, number][] = [];
  let start = -1;
  for (const ch of marked) {
    if (ch === MARK_START) start = excerpt.length;
    else if (ch === MARK_END) {
      if (start >= 0) highlights.push([start, excerpt.length]);
      start = -1;
    } else excerpt += /\s/.test(ch) ? ' ' : ch;
  }
  return { excerpt, highlights };
}

/** How much the search index holds, for Diagnostics. */
export interface SearchIndexSize {
  /** Texts kept, indexed or not yet. */
  documents: number;
  /** Of those, not indexed yet (see PendingSearchTexts). */
  pending: number;
  /** The texts as stored (deflated). */
  text_bytes: number;
  index_bytes: number;
}

export function searchIndexSize(store: SearchStore): SearchIndexSize {
  // The content table's own column: its stored (deflated) bytes, without inflating every text.
  const docs = one<{ n: number; bytes: number }>(
    store.db,
    'SELECT COUNT(*) AS n, COALESCE(SUM(length(c0body)),0) AS bytes FROM search_fts_content',
  )!;
  // Small segments live inline in segdir.root; larger ones in segments.
  const seg = one<{ bytes: number }>(
    store.db,
    `SELECT (SELECT COALESCE(SUM(length(block)),0) FROM search_fts_segments) + (SELECT COALESCE(SUM(length(root)),0) FROM search_fts_segdir) AS bytes`,
  )!;
  const pending = pendingCount(store);
  return { documents: docs.n + pending, pending, text_bytes: docs.bytes, index_bytes: seg.bytes };
}
