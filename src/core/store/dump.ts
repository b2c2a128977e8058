import type { StoreDb } from './db';
import { all } from './sqlite';

/**
 * A canonical text of what a store holds: two stores dump the same text iff they hold the same
 * content, however their rows were written (files read in another order, in one pass or several,
 * in batches or row by row, the search index filled now or later). What proves that a change to
 * how the store is written changed nothing (test/unit/store-identity.test.ts), and what compares
 * two pipelines that should build the same store.
 *
 * Every table is dumped, one section each, its rows as JSON arrays sorted as text. Numbers that
 * only name a row of this store (a file's file_id, a text's docid, a price rule's id, rowids) are
 * replaced by what they name (the file's path, the text, the rule); BLOBs are hex. Left out: facts
 * of the moment rather than of the transcripts (when a file was indexed, its mtime and inode, when
 * a pid was checked and whether it still ran) and meta keys that name the code rather than the
 * content. A table added later is dumped whole, with no change here.
 */

/**
 * Columns that are not content: a wall time, the stat of this copy of a file, the OS's view of a
 * pid. A file's fingerprint (a hash of its first KiB) is left out too: the same bytes give the same
 * one, and bytes naming the folder they were copied to (a recorded cwd) would make it differ.
 */
const VOLATILE: Record<string, readonly string[]> = {
  files: ['file_id', 'indexed_at', 'mtime_ms', 'ino', 'fingerprint'],
  cwd_info: ['resolved_at'],
  pr_lookup: ['fetched_at_ms'],
  live: ['checked_at', 'alive'],
  session_live: ['alive'],
  price_rules: ['rule_id'],
  search_doc: ['docid'],
};

/**
 * meta keys naming the code that wrote the store (its schema, parser and price table versions) or
 * one save of it (memfile.ts's save_check).
 */
const VOLATILE_META = new Set(['schema', 'parser_version', 'pricing', 'save_check']);

/**
 * The full-text index and the texts waiting for it: their texts are dumped with their search_doc
 * rows (whether a text is indexed yet is not content); FTS4's own tables are how it stores them.
 */
const isSearchIndexTable = (name: string) =>
  name === 'search_fts' || name.startsWith('search_fts_') || name === 'search_pending';

/** The dump of a store (see above). */
export function dumpStore(store: StoreDb): string {
  const db = store.db;
  const paths = new Map(
    all<{ file_id: number; path: string }>(db, 'SELECT file_id, path FROM files').map((r) => [r.file_id, r.path]),
  );
  const rules = new Map(
    all<{ rule_id: number; rule: string }>(db, 'SELECT rule_id, rule FROM price_rules').map((r) => [r.rule_id, r.rule]),
  );
  const tables = all<{ name: string }>(
    db,
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  ).map((t) => t.name);
  const out: string[] = [];
  for (const table of tables) {
    if (isSearchIndexTable(table)) continue;
    const skip = new Set(VOLATILE[table] ?? []);
    // A search document's text is its content (its docid only links it to the index).
    const select =
      table === 'search_doc'
        ? `SELECT d.*, COALESCE((SELECT body FROM search_pending p WHERE p.docid = d.docid),
            (SELECT body FROM search_fts f WHERE f.docid = d.docid)) AS body FROM search_doc d`
        : `SELECT * FROM "${table}"`;
    const rows = all<Record<string, unknown>>(db, select);
    const columns = rows.length ? Object.keys(rows[0]).filter((c) => !skip.has(c)) : [];
    const lines: string[] = [];
    for (const row of rows) {
      if (table === 'meta' && VOLATILE_META.has(row.key as string)) continue;
      lines.push(
        JSON.stringify(
          columns.map((c) => {
            const v = row[c];
            if (c === 'file_id' && typeof v === 'number') return v === 0 ? null : `file:${paths.get(v) ?? `?${v}`}`;
            if (c === 'rule_id' && typeof v === 'number') return `rule:${rules.get(v) ?? `?${v}`}`;
            if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString('hex')}'`;
            return v;
          }),
        ),
      );
    }
    lines.sort();
    out.push(`## ${table} (${columns.join(', ')})`, ...lines);
  }
  // Entries of the full-text index that no search document owns (a text rolled back or forgotten
  // must never stay searchable): their number, which is 0 in a sound store.
  const orphans = all<{ n: number }>(
    db,
    `SELECT (SELECT count(*) FROM search_fts WHERE docid NOT IN (SELECT docid FROM search_doc))
      + (SELECT count(*) FROM search_pending WHERE docid NOT IN (SELECT docid FROM search_doc)) AS n`,
  )[0].n;
  out.push(`## search index entries without a document: ${orphans}`);
  return `${out.join('\n')}\n`;
}
