import { existsSync } from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue } from 'sql.js';

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
    const rows: T[] = [];
    while (stmt.step()) rows.push(stmt.getAsObject() as T);
    return rows;
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
