/**
 * The throwaway PostgreSQL of scripts/postgres.mjs, typed for the TypeScript tests: one cluster per
 * test file (started in `before`, crash-stopped and removed in `after`, also when a test failed).
 * Not a test file itself.
 */
import * as path from 'node:path';
import { after, before } from 'node:test';

export interface PgCluster {
  port: number;
  dir: string;
  bin: string;
  user: string;
  password: string;
  url(database?: string, who?: { user?: string; password?: string }): string;
  createDatabase(name?: string): Promise<string>;
  sql(database: string, text: string): string;
  crash(): void;
  start(): void;
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '../../..');

export async function startPostgres(): Promise<PgCluster> {
  const mod = (await import(path.join(REPO_ROOT, 'scripts', 'postgres.mjs'))) as {
    startPostgres(): Promise<PgCluster>;
  };
  return mod.startPostgres();
}

/** A cluster for this test file: `cluster()` inside tests; stopped after the file's tests. */
export function postgresForFile(): () => PgCluster {
  let pg: PgCluster | null = null;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  return () => {
    if (!pg) throw new Error('PostgreSQL did not start');
    return pg;
  };
}

/** The database name of a cluster URL (for psql). */
export function dbOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}
