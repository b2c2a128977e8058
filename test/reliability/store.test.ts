/**
 * Fault class: the store file. A corrupt store (random bytes, truncated, a valid SQLite database of
 * another schema) is moved aside and rebuilt with a log message; a process killed (SIGKILL) at any
 * moment of a persist leaves the old or the new file, never a broken one; a full disk while
 * persisting keeps the old file, leaves no temp file behind, and the save is retried until it works.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { IndexService } from '../../src/core/ingest/service';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import { loadSqlJs } from '../../src/core/store/sqlite';
import { SCHEMA_VERSION } from '../../src/core/store/schema';
import { Store } from '../../src/core/store/store';
import { assistant, jsonl, recordingLogger, tempDir, userPrompt } from '../unit/helpers';
import { FaultSummary, agentHome, countSnapshot } from './helpers';

const summary = new FaultSummary('store');
const KILL_ROUNDS = Number(process.env.AH_KILL_ROUNDS ?? 12);

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function service(storeFile: string, home: string, log = recordingLogger()) {
  const svc = new IndexService(
    {
      storeFile,
      env: {},
      home,
      agents: { extraRoots: {}, disabled: [] },
      pricing: { overrides: {}, refresh: false },
      status: DEFAULT_STATUS_SETTINGS,
      rescanIntervalMs: 60_000,
    },
    () => undefined,
    log,
  );
  return { svc, log };
}

/** A store file indexed from the Claude fixtures, and what it counts. */
async function indexedStoreFile(): Promise<{ file: string; home: string; counts: ReturnType<typeof countSnapshot> }> {
  const home = await agentHome('claude_code');
  const file = path.join(await tempDir('ah-rel-store-'), 'index.sqlite');
  const { svc } = service(file, home);
  await svc.start();
  await waitFor('the first scan', async () => (await svc.query('sessions', {})).length > 0);
  await svc.stop();
  const store = await Store.open(file);
  const counts = countSnapshot(store);
  store.close();
  return { file, home, counts };
}

describe('store faults', () => {
  const corruptions: [string, (file: string) => Promise<void>, string][] = [
    ['random bytes', (f) => fsp.writeFile(f, randomBytes(64 * 1024)), 'rebuilt-corrupt'],
    [
      'a truncated store (first half)',
      async (f) => fsp.truncate(f, Math.floor((await fsp.stat(f)).size / 2)),
      'rebuilt-corrupt',
    ],
    ['an empty file', (f) => fsp.writeFile(f, ''), 'rebuilt-corrupt'],
    [
      'a valid SQLite database of another schema',
      async (f) => {
        const SQL = await loadSqlJs();
        const db = new SQL.Database();
        db.exec(
          "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('not ours'); PRAGMA user_version = 7;",
        );
        await fsp.writeFile(f, db.export());
        db.close();
      },
      // Not a store of ours at all (no meta table): reported as unreadable, like random bytes.
      'rebuilt-corrupt',
    ],
    [
      'a database claiming our schema version without our tables',
      async (f) => {
        const SQL = await loadSqlJs();
        const db = new SQL.Database();
        db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); PRAGMA user_version = ${SCHEMA_VERSION};`);
        db.exec("INSERT INTO meta VALUES ('parser_version', (SELECT '0'))");
        await fsp.writeFile(f, db.export());
        db.close();
      },
      'rebuilt-version',
    ],
  ];
  for (const [what, corrupt, outcome] of corruptions) {
    it(`${what}: moved aside with a log message, rebuilt from the transcripts`, async () => {
      const { file, home, counts } = await indexedStoreFile();
      await corrupt(file);
      const { svc, log } = service(file, home);
      await summary.run(() => svc.start());
      assert.equal(svc.state().store_outcome, outcome);
      assert.ok(
        log.warnings.some((w) => w.includes('moved aside') && w.includes(outcome)),
        `a log message says so: ${log.warnings.join(' | ')}`,
      );
      const aside = (await fsp.readdir(path.dirname(file))).filter(
        (n) => n.startsWith(`${path.basename(file)}.`) && /\.(corrupt|old)-\d+$/.test(n),
      );
      assert.equal(aside.length, 1, 'the unreadable file is kept next to it for a bug report');
      await waitFor('the rebuild', async () => (await svc.query('sessions', {})).length > 0);
      await svc.stop();
      const store = await Store.open(file);
      assert.equal(store.outcome, 'loaded');
      summary.compare(counts, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), counts);
      store.close();
    });
  }

  it(`kill -9 at random moments of a persist (${KILL_ROUNDS} rounds): always the old or the new file, and it opens`, async () => {
    const file = path.join(await tempDir('ah-rel-kill-'), 'index.sqlite');
    const child = path.join(__dirname, 'persistChild.js');
    let acknowledged = 0;
    let killedMidWrite = 0;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const proc: ChildProcess = fork(child, [file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      let last = 0;
      let start = 0;
      proc.on('message', (m: { type: string; gen: number }) => {
        if (m.type === 'ready') start = m.gen;
        else last = m.gen;
      });
      await waitFor('the child to persist once', () => last > 0);
      // A random moment within the next few persists (each takes a few ms to tens of ms).
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const temps = (await fsp.readdir(path.dirname(file))).filter((n) => n.includes('.tmp-'));
      if (temps.length) killedMidWrite++;
      const store = await summary.run(() => Store.open(file));
      assert.equal(store.outcome, 'loaded', `round ${round}: the file opens as a store`);
      const gen = Number(store.getMeta('test_generation'));
      // The file holds the last generation the child confirmed, or the one it was writing.
      assert.ok(
        gen === last || gen === last + 1,
        `round ${round}: generation ${gen}, last confirmed ${last} (started at ${start})`,
      );
      acknowledged = Math.max(acknowledged, gen);
      store.close();
      summary.cases++;
    }
    // The next writer removes what the killed persists left behind.
    await Store.removeStaleTemps(file);
    assert.deepEqual(
      (await fsp.readdir(path.dirname(file))).filter((n) => n.includes('.tmp-')),
      [],
    );
    summary.note(
      `${KILL_ROUNDS} kill -9 rounds, ${killedMidWrite} of them left a half-written temp file, generation ${acknowledged} reached`,
    );
  });

  it('disk full while persisting: the old file is kept, no temp file left, the save is retried and succeeds once there is room', async () => {
    const mountDir = await tempDir('ah-rel-full-');
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountDir], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // Not root (or no mount permission): the full disk is injected below instead.
    }
    const realOpen = fsp.open;
    try {
      const home = await agentHome('claude_code');
      const file = path.join(mountDir, 'index.sqlite');
      const log = recordingLogger();
      const { svc } = service(file, home, log);
      await svc.start();
      await waitFor('the first save', async () => (await fsp.stat(file).catch(() => null))?.size);
      const before = await fsp.readFile(file);
      const filler = path.join(mountDir, 'filler');
      if (mounted) {
        // Fill the disk: write until ENOSPC.
        const fh = await fsp.open(filler, 'w');
        try {
          for (;;) await fh.write(Buffer.alloc(64 * 1024));
        } catch (err) {
          assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
        } finally {
          await fh.close();
        }
      } else {
        (fsp as { open: typeof fsp.open }).open = (async (p: Parameters<typeof fsp.open>[0], ...rest: unknown[]) => {
          if (String(p).includes('.tmp-'))
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return (realOpen as (...a: unknown[]) => ReturnType<typeof fsp.open>)(p, ...rest);
        }) as typeof fsp.open;
      }
      // A new session arrives while the disk is full.
      const id = '55555555-2222-4333-8444-555555555555';
      const project = path.join(home, '.claude', 'projects', '-home-dev-agent-work-repo-claude-2-1-332');
      await fsp.writeFile(
        path.join(project, `${id}.jsonl`),
        jsonl([
          userPrompt({ session: id, ts: '2026-11-25T20:00:00.000Z', text: 'while the disk is full' }),
          assistant({
            session: id,
            ts: '2026-11-25T20:00:01.000Z',
            msg: 'msg_full_1',
            req: 'req_full_1',
            usage: { in: 7, out: 3 },
          }),
        ]),
      );
      await svc.query('refresh', {});
      await waitFor('a failed save', () => log.warnings.some((w) => w.includes('could not save the index')));
      assert.deepEqual(await fsp.readFile(file), before, 'the old file is untouched');
      assert.deepEqual(
        (await fsp.readdir(mountDir)).filter((n) => n.includes('.tmp-')),
        [],
        'no temp file left on the full disk',
      );
      const old = await Store.open(file);
      assert.equal(old.outcome, 'loaded');
      old.close();
      // Room again: the retry saves the new session.
      if (mounted) await fsp.rm(filler);
      else (fsp as { open: typeof fsp.open }).open = realOpen;
      await waitFor(
        'the retried save',
        async () => {
          const s = await Store.open(file);
          const has = countSnapshot(s)[id]?.requests === 1;
          s.close();
          return has;
        },
        90_000,
      );
      summary.cases++;
      summary.note(mounted ? 'disk full on a 2 MB tmpfs' : 'disk full injected (ENOSPC), tmpfs not mountable');
      await svc.stop();
    } finally {
      (fsp as { open: typeof fsp.open }).open = realOpen;
      if (mounted) execFileSync('umount', [mountDir], { stdio: 'ignore' });
    }
  });
});
