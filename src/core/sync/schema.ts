import type * as Pg from 'pg';
import { SchemaMissingError, SchemaTooNewError } from './connection';

/**
 * The shared database's tables (docs/sync.md, "Tables"). Migrations are numbered and applied in
 * order, each once, inside one transaction that holds an advisory lock: two machines migrating at
 * the same moment take turns, and the second finds nothing left to do. A database migrated by a
 * newer Agent Handler (a version above the last one here) is left untouched: this version refuses
 * to read or write it rather than guess at columns it does not know.
 *
 * Only a pushing machine migrates; a machine that only reads needs SELECT and nothing else
 * (checkReadable).
 */

/** The advisory lock every migration holds (an arbitrary constant: "agent-handler sync schema"). */
const MIGRATION_LOCK = 0x41480001;

/** Migration n brings the schema from version n-1 to n. Append; never edit one that has shipped. */
const MIGRATIONS: string[] = [
  // 1: machines, sessions, requests, pull requests.
  `CREATE TABLE machines (
     machine_id text PRIMARY KEY,
     machine_name text NOT NULL,
     last_push_at timestamptz,
     agent_handler_version text
   );
   CREATE TABLE sessions (
     machine_id text NOT NULL,
     session_id text NOT NULL,
     parent_session_id text,
     framework text,
     first_started_at timestamptz,
     last_started_at timestamptz,
     first_ended_at timestamptz,
     last_ended_at timestamptz,
     last_activity timestamptz,
     revival_count integer NOT NULL DEFAULT 0,
     status text,
     status_updated_at timestamptz,
     repo text,
     git_branch text,
     github_issue integer,
     github_pr integer,
     git_additions integer,
     git_deletions integer,
     model text,
     compaction_count integer NOT NULL DEFAULT 0,
     message_count integer NOT NULL DEFAULT 0,
     tool_call_count integer NOT NULL DEFAULT 0,
     api_request_count integer NOT NULL DEFAULT 0,
     api_error_count integer NOT NULL DEFAULT 0,
     tokens_input bigint NOT NULL DEFAULT 0,
     tokens_output bigint NOT NULL DEFAULT 0,
     tokens_cache_read bigint NOT NULL DEFAULT 0,
     tokens_cache_write bigint NOT NULL DEFAULT 0,
     cost_usd double precision,
     unpriced_requests integer NOT NULL DEFAULT 0,
     context bigint,
     n_hook_events integer NOT NULL DEFAULT 0,
     n_otel_events integer NOT NULL DEFAULT 0,
     transcript_available boolean NOT NULL DEFAULT true,
     title text,
     first_user_message text,
     last_user_message text,
     updated_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (machine_id, session_id)
   );
   CREATE INDEX sessions_repo_branch ON sessions (repo, git_branch);
   CREATE TABLE requests (
     machine_id text NOT NULL,
     request_key text NOT NULL,
     session_id text NOT NULL,
     framework text,
     ts timestamptz,
     model text,
     repo text,
     branch text,
     pr integer,
     input bigint NOT NULL,
     output bigint NOT NULL,
     cache_read bigint NOT NULL,
     cache_write bigint NOT NULL,
     cost_usd double precision,
     priced boolean NOT NULL,
     price_source text,
     request_count integer NOT NULL DEFAULT 1,
     PRIMARY KEY (machine_id, request_key)
   );
   CREATE INDEX requests_repo_branch ON requests (repo, branch);
   CREATE INDEX requests_repo_pr ON requests (repo, pr) WHERE pr IS NOT NULL;
   CREATE INDEX requests_key ON requests (request_key, machine_id);
   CREATE INDEX requests_session ON requests (machine_id, session_id);
   CREATE INDEX requests_ts ON requests (ts);
   CREATE TABLE pull_requests (
     machine_id text NOT NULL,
     repo text NOT NULL,
     number integer NOT NULL,
     head_branch text,
     url text,
     PRIMARY KEY (machine_id, repo, number)
   );`,
];

/** The schema version this Agent Handler writes and reads. */
export const SYNC_SCHEMA_VERSION = MIGRATIONS.length;

/** The database's schema version: 0 when it has none (never migrated). Reads only. */
export async function schemaVersion(client: Pg.ClientBase): Promise<number> {
  const has = await client.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
  if (!has.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings the database to SYNC_SCHEMA_VERSION; returns the versions it applied. Throws
 * SchemaTooNewError, having written nothing, when the database is newer.
 */
export async function migrate(client: Pg.ClientBase): Promise<number[]> {
  // Asked before anything is written: a newer database is left as it is, not even locked.
  const before = await schemaVersion(client);
  if (before > SYNC_SCHEMA_VERSION) throw new SchemaTooNewError(before, SYNC_SCHEMA_VERSION);
  if (before === SYNC_SCHEMA_VERSION) return [];
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    // Again under the lock: another machine may have migrated while this one waited.
    const current = await schemaVersion(client);
    if (current > SYNC_SCHEMA_VERSION) throw new SchemaTooNewError(current, SYNC_SCHEMA_VERSION);
    for (let v = current + 1; v <= SYNC_SCHEMA_VERSION; v++) {
      await client.query(MIGRATIONS[v - 1]);
      await client.query('INSERT INTO schema_version(version) VALUES ($1)', [v]);
      applied.push(v);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}

/** Throws a clear error unless the database holds this version's tables (a reader never migrates). */
export async function checkReadable(client: Pg.ClientBase): Promise<void> {
  const v = await schemaVersion(client);
  if (v === 0) throw new SchemaMissingError();
  if (v > SYNC_SCHEMA_VERSION) throw new SchemaTooNewError(v, SYNC_SCHEMA_VERSION);
  if (v < SYNC_SCHEMA_VERSION)
    throw new Error(
      `the shared database's schema is version ${v}, older than this Agent Handler's (${SYNC_SCHEMA_VERSION}): push once (agent-handler sync) from a machine whose role may alter tables`,
    );
}
