#!/usr/bin/env node
// A throwaway PostgreSQL cluster for the tests (unit, reliability and e2e alike), started by the
// tests themselves: Debian's `postgresql` server binaries (/usr/lib/postgresql/<major>/bin, not on
// PATH), installed with apt-get like the e2e prerequisites when missing. The recipe is
// ../shared/reference/postgres.md's (verified on CI's machines):
//   - initdb + pg_ctl as the `postgres` user when running as root (initdb refuses root), directly
//     otherwise (a developer's laptop);
//   - the cluster's folder directly under /tmp (a mktemp folder under a root-owned temp dir is not
//     reachable by `postgres`), mode 700;
//   - a free port, listening on 127.0.0.1 only (and a socket in the cluster's folder);
//   - a fresh database per test file (createDatabase), scram-sha-256 with user `test`;
//   - stopped with `pg_ctl -m immediate` and removed afterwards, also when a test fails
//     (stop() is idempotent; a process exit handler stops a cluster left running).
//
// Usage:  import { startPostgres } from '../../scripts/postgres.mjs'
//         const pg = await startPostgres();           // { port, url(db), createDatabase(), crash(), start(), stop() }
//         const url = await pg.createDatabase('sync_test');
//         node scripts/postgres.mjs                    (starts one, prints its URL, stops on Ctrl-C)

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstall, freePort, log } from './e2e-prereqs.mjs';

const PASSWORD = 'secret';
const USER = 'test';

/** The newest installed server's bin folder, or null. */
export function findServerBin() {
  const root = '/usr/lib/postgresql';
  let majors = [];
  try {
    majors = fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'bin', 'initdb')));
  } catch {
    return null;
  }
  majors.sort((a, b) => Number(a) - Number(b));
  return majors.length ? path.join(root, majors[majors.length - 1], 'bin') : null;
}

/** The server binaries, installed (Debian's `postgresql`) when missing. */
export async function ensureServerBin() {
  let bin = findServerBin();
  if (bin) return bin;
  log('PostgreSQL server not found under /usr/lib/postgresql: installing Debian package postgresql');
  await aptInstall(['postgresql']);
  bin = findServerBin();
  if (!bin) throw new Error('apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/initdb');
  return bin;
}

const asRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as `postgres` when we are root. */
function runBin(bin, name, args, opts = {}) {
  const file = path.join(bin, name);
  const [cmd, argv] = asRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.status !== 0)
    throw new Error(
      `${name} ${args.join(' ')} failed (${r.signal ?? r.status}): ${(r.stderr || r.stdout || '').slice(-2000)}`,
    );
  return r.stdout;
}

const running = new Set();
process.on('exit', () => {
  for (const c of running) c.stopSync();
});

/**
 * Starts a cluster. Resolves to an object:
 *   port, dir, bin, user, password
 *   url(database = 'postgres', { user, password })  a postgres:// URL to 127.0.0.1
 *   createDatabase(name?)  a fresh database (a unique name when none is given); resolves to its URL
 *   sql(database, text)    runs SQL with psql as the superuser (for test setup: roles, grants)
 *   crash()                pg_ctl -m immediate stop (keeps the folder: start() again recovers)
 *   start()                starts it again on the same folder and port
 *   stop()                 crash stop and remove the folder (idempotent)
 */
export async function startPostgres() {
  const bin = await ensureServerBin();
  const dir = fs.mkdtempSync('/tmp/ah-pg-');
  fs.chmodSync(dir, 0o700);
  const pwfile = path.join(dir, 'pw');
  fs.writeFileSync(pwfile, `${PASSWORD}\n`);
  if (asRoot()) execFileSync('chown', ['-R', 'postgres', dir]);
  const data = path.join(dir, 'data');
  runBin(bin, 'initdb', ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '--no-sync'], {
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  const port = await freePort();
  let up = false;
  let removed = false;
  const cluster = {
    port,
    dir,
    bin,
    user: USER,
    password: PASSWORD,
    url(database = 'postgres', who = {}) {
      const u = encodeURIComponent(who.user ?? USER);
      const p = encodeURIComponent(who.password ?? PASSWORD);
      return `postgresql://${u}:${p}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    },
    start() {
      runBin(bin, 'pg_ctl', [
        '-D',
        data,
        '-l',
        path.join(dir, 'log'),
        '-w',
        '-t',
        '60',
        'start',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
      ]);
      up = true;
    },
    crash() {
      if (!up) return;
      runBin(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      up = false;
    },
    stopSync() {
      try {
        cluster.crash();
      } catch {
        // already gone
      }
      if (!removed) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed = true;
      }
      running.delete(cluster);
    },
    async stop() {
      cluster.stopSync();
    },
    sql(database, text) {
      const psql = path.join(bin, 'psql');
      const r = spawnSync(psql, ['-v', 'ON_ERROR_STOP=1', '-X', '-q', '-At', '-d', cluster.url(database), '-c', text], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`psql failed: ${(r.stderr || r.stdout).slice(-2000)}`);
      return r.stdout;
    },
    async createDatabase(name) {
      const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`database name ${db}: letters, digits and _ only`);
      cluster.sql('postgres', `CREATE DATABASE ${db}`);
      return cluster.url(db);
    },
  };
  running.add(cluster);
  try {
    cluster.start();
  } catch (err) {
    cluster.stopSync();
    throw err;
  }
  return cluster;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // No top-level await: the TypeScript tests require() this module (compiled import()).
  startPostgres().then((pg) => {
    process.stdout.write(`${pg.url()}\n`);
    const stop = () => {
      pg.stopSync();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    setInterval(() => undefined, 1 << 30);
  });
}
