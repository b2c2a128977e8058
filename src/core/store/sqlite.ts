import { existsSync } from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue, type Statement } from 'sql.js';

/**
 * Loads sql.js once per process. The wasm ships next to the bundle (dist/sql-wasm.wasm, copied by
 * esbuild.mjs); unbundled code (tests) finds it in node_modules. initSqlJs caches its first
 * configuration, so this is the only place that calls it.
 */
let sqlJs: Promise<SqlJsStatic> | null = null;

export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs({ locateFile: (file: string) => locateWasm(file) });
  return sqlJs;
}

function locateWasm(file: string): string {
  const beside = path.join(__dirname, file);
  if (existsSync(beside)) return beside;
  // Not a literal: the bundler must not try to resolve it (the bundle uses the copy beside it).
  const pkg = 'sql.js';
  return path.join(path.dirname(require.resolve(pkg)), file);
}

export type Params = Record<string, SqlValue> | SqlValue[];
export type Row = Record<string, SqlValue>;

/** All rows of a query as objects. Statements are freed at once: sql.js's export() frees them anyway. */
export function all<T = Row>(db: Database, sql: string, params?: Params): T[] {
  const stmt = db.prepare(sql);
  try {
    if (params) stmt.bind(params);
    return readRows<T>(stmt);
  } finally {
    stmt.free();
  }
}

export function one<T = Row>(db: Database, sql: string, params?: Params): T | undefined {
  return all<T>(db, sql, params)[0];
}

export function run(db: Database, sql: string, params?: Params): void {
  db.run(sql, params);
}

/**
 * The remaining rows of a stepped statement as objects. Column names are read once per query:
 * sql.js's getAsObject() reads them again for every row, which made listing thousands of sessions
 * take most of a second.
 */
export function readRows<T = Row>(stmt: Statement, limit = Infinity): T[] {
  const rows: T[] = [];
  let names: string[] | null = null;
  while (rows.length < limit && stmt.step()) {
    names ??= stmt.getColumnNames();
    const values = stmt.get();
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
    rows.push(row as T);
  }
  return rows;
}

/**
 * Like all(), for wide rows: SQLite builds each row as one JSON object, so a row costs one value
 * read and one JSON.parse instead of a wasm call and a string copy per column (listing thousands of
 * sessions of ~50 columns went from a third of a second to a few tens of milliseconds). SQLite's
 * JSON keeps every REAL round-trip exact. The columns named in `aside` come in an object of their
 * own, so a row that becomes a view without them needs no `delete` (which turns an object into a
 * slow dictionary; listing 5,000 sessions spent ~0.1 s on it). Rows come in SQLite's order: sort
 * the parsed rows in JS (an ORDER BY here would have SQLite sort the rows' JSON text, 0.3-0.6 s for
 * 5,000 sessions). Column names must be unique; no BLOB columns (JSON has none).
 */
export function allWideAside<T = Row, A = Row>(
  db: Database,
  select: string,
  aside: readonly string[],
  params?: Params,
): [T, A][] {
  const probe = db.prepare(select);
  let names: string[];
  try {
    names = probe.getColumnNames();
  } finally {
    probe.free();
  }
  const fields = (list: string[]) =>
    list.map((n) => `'${n.replace(/'/g, "''")}', q."${n.replace(/"/g, '""')}"`).join(', ');
  const row = `json_object(${fields(names.filter((n) => !aside.includes(n)))})`;
  const value = `json_array(${row}, json_object(${fields(names.filter((n) => aside.includes(n)))}))`;
  const stmt = db.prepare(`WITH q AS (${select}) SELECT ${value} FROM q`);
  try {
    if (params) stmt.bind(params);
    const rows: [T, A][] = [];
    while (stmt.step()) rows.push(JSON.parse(stmt.get()[0] as string) as [T, A]);
    return rows;
  } finally {
    stmt.free();
  }
}
