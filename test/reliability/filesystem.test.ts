/**
 * Fault class: the file system. Files that shrink, are replaced, deleted, moved (Claude's /cd moves
 * a session's file to another project folder; Codex archives to archived_sessions/), renamed while
 * being read, unreadable, directories that vanish and reappear, symlink loops, a watcher that
 * misses every event, 100,000 files in one folder. After each: no crash, no session twice, no
 * request counted twice, a moved file is the same session.
 *
 * Every case compares what the index counts with a fresh index of the same files (the truth), or
 * with the fixture's known counts when the files end up as they were.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
// The module object itself (not an import wrapper), so a patched openSync is what the tailer calls.
import fs = require('node:fs');
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Indexer } from '../../src/core/ingest/indexer';
import { IndexService } from '../../src/core/ingest/service';
import { TranscriptWatcher } from '../../src/core/ingest/watcher';
import { ADAPTERS } from '../../src/core/sources/registry';
import { listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { encodeCwd, jsonl, assistant, silentLogger, tempDir, userPrompt } from '../unit/helpers';
import { FaultSummary, agentHome, copyDir, countSnapshot, sessionIds } from './helpers';

const summary = new FaultSummary('file system');

/**
 * Injects a fault at the edge: `before(path)` runs (and may throw) when the indexer opens a file for
 * reading, through fs.promises.open or fs.openSync (the tailer reads synchronously in the worker).
 * Returns the function that removes it.
 */
function onOpen(before: (p: string) => void): () => void {
  const realOpen = fsp.open;
  const realOpenSync = fs.openSync;
  (fsp as { open: unknown }).open = (p: fs.PathLike, ...rest: unknown[]) => {
    try {
      before(String(p));
    } catch (err) {
      return Promise.reject(err);
    }
    return (realOpen as (...a: unknown[]) => unknown)(p, ...rest);
  };
  (fs as { openSync: unknown }).openSync = (p: fs.PathLike, ...rest: unknown[]) => {
    before(String(p));
    return (realOpenSync as (...a: unknown[]) => unknown)(p, ...rest);
  };
  return () => {
    (fsp as { open: unknown }).open = realOpen;
    (fs as { openSync: unknown }).openSync = realOpenSync;
  };
}

async function fresh(home: string): Promise<{ store: Store; ix: Indexer }> {
  const store = await Store.open(null);
  const ix = new Indexer(store, ADAPTERS, { home, env: {} }, silentLogger);
  await ix.scanAll();
  return { store, ix };
}

/** What a fresh index of `home` counts: the truth after a fault. */
async function truth(home: string) {
  const { store } = await fresh(home);
  const out = { counts: countSnapshot(store), ids: sessionIds(store) };
  store.close();
  return out;
}

/** Asserts the live index equals a fresh one (no lost session, nothing double), and records it. */
async function assertMatchesTruth(store: Store, home: string, what: string): Promise<void> {
  const t = await truth(home);
  summary.compare(t.counts, countSnapshot(store));
  assert.deepEqual(countSnapshot(store), t.counts, `${what}: counts differ from a fresh index`);
  const live = listSessions(store)
    .filter((s) => s.transcript_available)
    .map((s) => s.session_id)
    .sort();
  assert.deepEqual(live, t.ids, `${what}: sessions with a transcript differ from a fresh index`);
}

function projectDir(home: string): string {
  return path.join(home, '.claude', 'projects', '-home-dev-agent-work-repo-claude-2-1-332');
}
const MAIN = '3f810603-0856-4734-bc5d-451c3608d6f2.jsonl';

describe('file system faults', () => {
  it('a file that shrinks (truncated) is read again from the start, no double count; growing back restores it', async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const { store, ix } = await fresh(home);
      const baseline = countSnapshot(store);
      const file = path.join(projectDir(home), MAIN);
      const full = await fsp.readFile(file);
      const lines = full.toString('utf8').split('\n');
      await fsp.writeFile(file, `${lines.slice(0, Math.floor(lines.length / 2)).join('\n')}\n`);
      await ix.scanAll();
      await assertMatchesTruth(store, home, 'after truncation');
      await fsp.writeFile(file, full);
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      store.close();
    });
  });

  it('a file replaced by another one under the same path (new inode), same and other content', async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const { store, ix } = await fresh(home);
      const baseline = countSnapshot(store);
      const file = path.join(projectDir(home), MAIN);
      const full = await fsp.readFile(file);
      // Same bytes, new inode (an editor's or a sync tool's atomic save).
      await fsp.writeFile(`${file}.new`, full);
      await fsp.rename(`${file}.new`, file);
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      // Other content: the first two thirds only, then a new file.
      const lines = full.toString('utf8').split('\n');
      await fsp.writeFile(`${file}.new`, `${lines.slice(0, Math.floor((lines.length * 2) / 3)).join('\n')}\n`);
      await fsp.rename(`${file}.new`, file);
      await ix.scanAll();
      await assertMatchesTruth(store, home, 'after replacement');
      store.close();
    });
  });

  it('a deleted file keeps its session (marked gone), and coming back counts nothing twice', async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const { store, ix } = await fresh(home);
      const baseline = countSnapshot(store);
      const file = path.join(projectDir(home), MAIN);
      const saved = await fsp.readFile(file);
      await fsp.rm(file);
      await ix.scanAll();
      const gone = listSessions(store).find((s) => `${s.session_id}.jsonl` === MAIN);
      assert.ok(gone, 'the session is still listed');
      assert.equal(gone.transcript_available, false);
      await fsp.writeFile(file, saved);
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      assert.equal(new Set(sessionIds(store)).size, sessionIds(store).length);
      store.close();
    });
  });

  it("Claude's /cd moves a session's file to another project folder: the same session, counted once", async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const { store, ix } = await fresh(home);
      const baseline = countSnapshot(store);
      const idsBefore = sessionIds(store);
      const other = path.join(home, '.claude', 'projects', encodeCwd('/home/dev/other-project'));
      await fsp.mkdir(other, { recursive: true });
      await fsp.rename(path.join(projectDir(home), MAIN), path.join(other, MAIN));
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      assert.deepEqual(sessionIds(store), idsBefore);
      const moved = listSessions(store).find((s) => `${s.session_id}.jsonl` === MAIN)!;
      assert.equal(moved.transcript_available, true);
      assert.equal(moved.transcript_path, path.join(await fsp.realpath(other), MAIN));
      store.close();
    });
  });

  it('Codex archiving (sessions/… → archived_sessions/): the same session, counted once', async () => {
    await summary.run(async () => {
      const home = await agentHome('codex');
      const { store, ix } = await fresh(home);
      const baseline = countSnapshot(store);
      const idsBefore = sessionIds(store);
      const day = path.join(home, '.codex', 'sessions', '2026', '11', '25');
      const name = (await fsp.readdir(day))[0];
      await fsp.mkdir(path.join(home, '.codex', 'archived_sessions'), { recursive: true });
      await fsp.rename(path.join(day, name), path.join(home, '.codex', 'archived_sessions', name));
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      assert.deepEqual(sessionIds(store), idsBefore);
      assert.ok(listSessions(store).every((s) => s.transcript_available));
      store.close();
    });
  });

  it('a file renamed between being found and being read: no crash, the scan goes on, read in full once it is back', async () => {
    const home = await agentHome('claude_code');
    const { store, ix } = await fresh(home);
    const baseline = countSnapshot(store);
    const file = path.join(projectDir(home), MAIN);
    await fsp.appendFile(
      file,
      jsonl([userPrompt({ session: MAIN.slice(0, 36), ts: '2026-11-25T20:00:00.000Z', text: 'one more' })]),
    );
    const renamed = path.join(projectDir(home), `renamed-${MAIN}`);
    // The fault, injected at the edge: the first open of the file renames it away first.
    const target = await fsp.realpath(file);
    let fired = false;
    const restore = onOpen((p) => {
      if (!fired && p === target) {
        fired = true;
        fs.renameSync(file, renamed);
      }
    });
    try {
      await summary.run(() => ix.scanAll());
    } finally {
      restore();
    }
    assert.ok(fired, 'the fault was injected');
    await fsp.rename(renamed, file);
    await ix.scanAll();
    await assertMatchesTruth(store, home, 'after a rename mid-read');
    summary.compare(baseline, countSnapshot(store));
    store.close();
  });

  it('unreadable: a FIFO and a folder where a transcript is expected, and a read that fails (EACCES): no crash, no hang, the rest indexed', async () => {
    // Tests run as root, for whom chmod 000 does not block reads: the read failure is injected.
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const dir = projectDir(home);
      execFileSync('mkfifo', [path.join(dir, '11111111-2222-4333-8444-555555555555.jsonl')]);
      await fsp.mkdir(path.join(dir, '22222222-2222-4333-8444-555555555555.jsonl'));
      const baseline = await truth(await agentHome('claude_code'));
      const { store, ix } = await fresh(home);
      summary.compare(baseline.counts, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline.counts);
      // A transcript that cannot be opened for reading.
      const file = path.join(dir, MAIN);
      await fsp.appendFile(
        file,
        jsonl([userPrompt({ session: MAIN.slice(0, 36), ts: '2026-11-25T20:00:00.000Z', text: 'x' })]),
      );
      const target = await fsp.realpath(file);
      const restore = onOpen((p) => {
        if (p === target)
          throw Object.assign(new Error(`EACCES: permission denied, open '${target}'`), { code: 'EACCES' });
      });
      try {
        await ix.scanAll();
      } finally {
        restore();
      }
      // Readable again: read then, nothing lost.
      await ix.scanAll();
      await assertMatchesTruth(store, home, 'after an unreadable moment');
      store.close();
    });
  });

  it('a project folder and a whole root that vanish and reappear: counted once', async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const { store, ix } = await fresh(home);
      const baseline = countSnapshot(store);
      const backup = path.join(await tempDir('ah-rel-bak-'), 'p');
      await copyDir(projectDir(home), backup);
      await fsp.rm(projectDir(home), { recursive: true });
      await ix.scanAll();
      assert.ok(listSessions(store).every((s) => !s.transcript_available));
      await copyDir(backup, projectDir(home));
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      await fsp.rename(path.join(home, '.claude'), path.join(home, '.claude-away'));
      await ix.scanAll();
      await fsp.rename(path.join(home, '.claude-away'), path.join(home, '.claude'));
      await ix.scanAll();
      summary.compare(baseline, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline);
      store.close();
    });
  });

  it('symlink loops inside a root and as a root: the scan ends, nothing counted twice', async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const baseline = await truth(home);
      await fsp.symlink('..', path.join(projectDir(home), 'loop-up'));
      await fsp.symlink(path.join(projectDir(home), 'self'), path.join(projectDir(home), 'self'));
      await fsp.symlink(projectDir(home), path.join(home, '.claude', 'projects', 'alias-of-project'));
      const loopRoot = path.join(home, 'loop-root');
      await fsp.symlink(loopRoot, loopRoot);
      const store = await Store.open(null);
      const ix = new Indexer(
        store,
        ADAPTERS,
        { home, env: { CLAUDE_CONFIG_DIR: loopRoot }, extraRoots: { claude_code: [path.join(home, '.claude')] } },
        silentLogger,
      );
      await ix.scanAll();
      await ix.scanAll();
      summary.compare(baseline.counts, countSnapshot(store));
      assert.deepEqual(countSnapshot(store), baseline.counts);
      assert.deepEqual(sessionIds(store), baseline.ids);
      store.close();
    });
  });

  it('a watcher that misses every event (network file system): the periodic rescan catches up', async () => {
    const home = await agentHome('claude_code');
    const storeFile = path.join(await tempDir('ah-rel-svc-'), 'store.sqlite');
    const realUpdate = TranscriptWatcher.prototype.update;
    TranscriptWatcher.prototype.update = async () => undefined; // the fault: no events at all
    const svc = new IndexService(
      {
        storeFile,
        env: {},
        home,
        agents: { extraRoots: {}, disabled: [] },
        pricing: { overrides: {}, refresh: false },
        status: undefined as never,
        rescanIntervalMs: 300,
      },
      () => undefined,
      silentLogger,
    );
    try {
      await summary.run(() => svc.start());
      const id = '33333333-2222-4333-8444-555555555555';
      await fsp.writeFile(
        path.join(projectDir(home), `${id}.jsonl`),
        jsonl([
          userPrompt({ session: id, ts: '2026-11-25T20:00:00.000Z', text: 'hello' }),
          assistant({
            session: id,
            ts: '2026-11-25T20:00:01.000Z',
            msg: 'msg_missed_1',
            req: 'req_missed_1',
            usage: { in: 10, out: 5 },
          }),
        ]),
      );
      const deadline = Date.now() + 30_000;
      let found = false;
      while (!found && Date.now() < deadline) {
        found = (await svc.query('sessions', {})).some((s) => s.session_id === id);
        if (!found) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(found, 'the rescan found the new session without any watcher event');
      summary.cases++;
    } finally {
      TranscriptWatcher.prototype.update = realUpdate;
      await svc.stop();
    }
  });

  it('100,000 files in one folder: every transcript found once, the others ignored', async () => {
    await summary.run(async () => {
      const home = await agentHome('claude_code');
      const dir = projectDir(home);
      // 100,000 entries: 2,000 one-request transcripts among 98,000 files that are not transcripts
      // (tool output, notes): a folder this size must be walked, classified and indexed in one go.
      const TRANSCRIPTS = 2_000;
      const TOTAL = 100_000;
      const writes: Promise<void>[] = [];
      for (let i = 0; i < TOTAL; i++) {
        if (i < TRANSCRIPTS) {
          const id = `44444444-0000-4000-8000-${String(i).padStart(12, '0')}`;
          writes.push(
            fsp.writeFile(
              path.join(dir, `${id}.jsonl`),
              jsonl([
                assistant({
                  session: id,
                  ts: '2026-11-25T20:00:00.000Z',
                  msg: `msg_many_${i}`,
                  req: `req_many_${i}`,
                  usage: { in: 1, out: 1 },
                }),
              ]),
            ),
          );
        } else {
          writes.push(fsp.writeFile(path.join(dir, `note-${i}.txt`), 'x'));
        }
        if (writes.length >= 500) await Promise.all(writes.splice(0));
      }
      await Promise.all(writes);
      assert.equal((await fsp.readdir(dir)).length >= TOTAL, true);
      const base = await truth(await agentHome('claude_code'));
      const { store, ix } = await fresh(home);
      const counts = countSnapshot(store);
      // Every generated transcript: 1 request, 1 input and 1 output token; the fixture's as before.
      for (let i = 0; i < TRANSCRIPTS; i++) {
        const c = counts[`44444444-0000-4000-8000-${String(i).padStart(12, '0')}`];
        assert.ok(c && c.requests === 1 && c.input === 1 && c.output === 1, `transcript ${i}: ${JSON.stringify(c)}`);
      }
      for (const [id, c] of Object.entries(base.counts)) assert.deepEqual(counts[id], c);
      assert.equal(sessionIds(store).length, base.ids.length + TRANSCRIPTS);
      // A second scan reads nothing again.
      const again = await ix.scanAll();
      assert.equal(again.files_read, 0);
      summary.compare(
        { ...base.counts },
        Object.fromEntries(Object.entries(counts).filter(([id]) => id in base.counts)),
      );
      summary.note(`${TOTAL} files in one folder, ${TRANSCRIPTS} of them transcripts`);
      store.close();
    });
  });
});
