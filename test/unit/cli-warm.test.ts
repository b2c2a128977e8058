/**
 * The warm CLI (src/cli/manifest.ts): `sessions --json` answered from the scan manifest when nothing
 * changed since the last scan, byte for byte what the scan would answer, and the scan again after
 * each kind of change. The built CLI (`npm run build`) runs as a child process on a temp HOME with
 * a real store on disk; AGENT_HANDLER_DEBUG=1 makes it say which path answered.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { after, describe, test } from 'node:test';
import { answerNow, manifestFile, readManifest } from '../../src/cli/manifest';
import { jsonArray } from '../../src/cli/output';
import { sessionJson } from '../../src/core/export';
import { processStartTimeMs } from '../../src/core/live/process';
import { listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { REPO_ROOT, assistant, fixtureHome, tempDir, userPrompt, writeTranscript } from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const SAY_HI = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';
const FAST = 'answered from the scan manifest';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  fast: boolean;
}

function sessions(home: string, store: string): Run {
  const env: Record<string, string | undefined> = { ...process.env, HOME: home, AGENT_HANDLER_DEBUG: '1' };
  delete env.CLAUDE_CONFIG_DIR;
  delete env.XDG_CONFIG_HOME;
  delete env.XDG_CACHE_HOME;
  const r = spawnSync(process.execPath, [CLI, 'sessions', '--json', '--store', store], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, fast: r.stderr.includes(FAST) };
}

/** A fixture home and its store, scanned once (the manifest written), then answered from the manifest. */
async function warmed(): Promise<{ home: string; store: string; answer: string; transcript: string }> {
  const home = await fixtureHome('2.1.332');
  const store = path.join(await tempDir('ah-warm-'), 'store.sqlite');
  const first = sessions(home, store);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.fast, false);
  const second = sessions(home, store);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(second.fast, `the second run scanned: ${second.stderr}`);
  assert.equal(second.stdout, first.stdout);
  const [project] = await fsp.readdir(path.join(home, '.claude', 'projects'));
  const transcript = path.join(home, '.claude', 'projects', project, `${SAY_HI}.jsonl`);
  return { home, store, answer: first.stdout, transcript };
}

/** After a change: the run scans (says why), and its answer is the scan's. */
function assertScans(home: string, store: string, before: string, changes = true): Run {
  const r = sessions(home, store);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.fast, false, `answered from the manifest after a change: ${r.stderr}`);
  assert.match(r.stderr, /scanning \(/);
  if (changes) assert.notEqual(r.stdout, before);
  // And the next run, with nothing changed since, is fast again with the same answer.
  const again = sessions(home, store);
  assert.ok(again.fast, again.stderr);
  assert.equal(again.stdout, r.stdout);
  return r;
}

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill()));

describe('warm CLI: sessions --json from the scan manifest (dist/cli.js)', () => {
  test('the answer from the manifest is byte for byte the scan answer, also with the manifest gone', async () => {
    const { home, store, answer } = await warmed();
    await fsp.rm(manifestFile(store));
    const scanned = sessions(home, store);
    assert.equal(scanned.fast, false);
    assert.equal(scanned.stdout, answer);
    assert.equal((await fsp.stat(manifestFile(store))).mode & 0o777, 0o600);
  });

  test('a line appended to a transcript: scanned, the request counted', async () => {
    const { home, store, answer, transcript } = await warmed();
    await fsp.appendFile(
      transcript,
      `${JSON.stringify(assistant({ session: SAY_HI, ts: '2026-11-25T15:00:00.000Z', msg: 'msg_warm_1', req: 'req_warm_1', usage: { in: 10, out: 5 } }))}\n`,
    );
    const r = assertScans(home, store, answer);
    const hi = (JSON.parse(r.stdout) as { session_id: string; api_request_count: number }[]).find(
      (s) => s.session_id === SAY_HI,
    )!;
    assert.equal(hi.api_request_count, 6);
  });

  test('a file added in a known folder, and a new folder: scanned, the new sessions listed', async () => {
    const { home, store, answer, transcript } = await warmed();
    const id1 = '11111111-1111-4111-8111-111111111111';
    await fsp.writeFile(
      path.join(path.dirname(transcript), `${id1}.jsonl`),
      `${JSON.stringify(userPrompt({ session: id1, ts: '2026-11-25T15:00:00.000Z', text: 'hi' }))}\n`,
    );
    const r = assertScans(home, store, answer);
    assert.ok(r.stdout.includes(id1));
    const id2 = '22222222-2222-4222-8222-222222222222';
    await writeTranscript(
      home,
      `${id2}.jsonl`,
      [userPrompt({ session: id2, ts: '2026-11-25T15:00:00.000Z', text: 'hi' })],
      '/nonexistent/warm-new-folder',
    );
    const r2 = assertScans(home, store, r.stdout);
    assert.ok(r2.stdout.includes(id2));
  });

  test('a file deleted, and a file replaced: scanned, the change shown', async () => {
    const { home, store, answer, transcript } = await warmed();
    const text = await fsp.readFile(transcript, 'utf8');
    // Replaced: a new file (new inode) holding only the first lines.
    const lines = text.split('\n').filter(Boolean);
    await fsp.rm(transcript);
    await fsp.writeFile(transcript, `${lines.slice(0, 3).join('\n')}\n`);
    const replaced = assertScans(home, store, answer);
    await fsp.rm(transcript);
    const r = assertScans(home, store, replaced.stdout);
    const hi = (JSON.parse(r.stdout) as { session_id: string; transcript_available: boolean }[]).find(
      (s) => s.session_id === SAY_HI,
    )!;
    assert.equal(hi.transcript_available, false);
  });

  test('the store written by someone else since: scanned', async () => {
    const { home, store, answer } = await warmed();
    // Another writer's save: the same bytes, a new file (temp + rename, like Store.persist).
    await fsp.copyFile(store, `${store}.other`);
    await fsp.rename(`${store}.other`, store);
    const r = assertScans(home, store, answer, false);
    assert.match(r.stderr, /the store was written since/);
    assert.equal(r.stdout, answer);
  });

  test("a live agent's process gone: scanned, the session no longer runs", async () => {
    const { home, store, transcript } = await warmed();
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    children.push(child);
    const started = await processStartTimeMs(child.pid!);
    const registry = path.join(home, '.claude', 'sessions');
    await fsp.mkdir(registry, { recursive: true });
    await fsp.writeFile(
      path.join(registry, `${child.pid}.json`),
      JSON.stringify({ pid: child.pid, sessionId: SAY_HI, status: 'busy', startedAt: started, updatedAt: Date.now() }),
    );
    void transcript;
    const live = sessions(home, store);
    assert.equal(live.fast, false);
    const running = sessions(home, store);
    assert.ok(running.fast, running.stderr);
    const pidOf = (r: Run) =>
      (JSON.parse(r.stdout) as { session_id: string; pid: number | null }[]).find((s) => s.session_id === SAY_HI)!.pid;
    assert.equal(pidOf(running), child.pid);
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    const r = sessions(home, store);
    assert.equal(r.fast, false);
    assert.match(r.stderr, new RegExp(`process ${child.pid} is gone`));
    assert.equal(pidOf(r), null);
  });

  test('a damaged manifest, or one of another version: scanned, no error', async () => {
    const { home, store, answer } = await warmed();
    const file = manifestFile(store);
    const bytes = await fsp.readFile(file);
    const head = deserialize(bytes.subarray(4, 4 + bytes.readUInt32LE(0))) as { format: string };
    const older = serialize({ ...head, format: 'scan-0' });
    const size = Buffer.alloc(4);
    size.writeUInt32LE(older.length);
    await fsp.writeFile(file, Buffer.concat([size, older, bytes.subarray(4 + bytes.readUInt32LE(0))]));
    let r = assertScans(home, store, answer, false);
    assert.equal(r.stdout, answer);
    await fsp.writeFile(file, bytes.subarray(0, bytes.length >> 1));
    r = assertScans(home, store, answer, false);
    assert.equal(r.stdout, answer);
    await fsp.writeFile(file, 'not a manifest');
    r = assertScans(home, store, answer, false);
    assert.equal(r.stdout, answer);
    assert.doesNotMatch(r.stderr, /Error|error/);
  });

  test('the clock moving a session across a status boundary: the same fields as the store query at that time', async () => {
    const home = await fixtureHome('2.1.332');
    const store = path.join(await tempDir('ah-warm-'), 'store.sqlite');
    const id = '33333333-3333-4333-8333-333333333333';
    const recent = new Date(Date.now() - 30_000).toISOString();
    await writeTranscript(home, `${id}.jsonl`, [userPrompt({ session: id, ts: recent, text: 'still at it' })]);
    sessions(home, store);
    assert.ok(sessions(home, store).fast);
    const m = readManifest(store)!;
    const db = await Store.open(store);
    try {
      const statusOf = (text: string) =>
        (JSON.parse(text) as { session_id: string; status: string }[]).find((s) => s.session_id === id)!.status;
      const expected = (now: number) => [...jsonArray(listSessions(db, now).map(sessionJson))].join('');
      const soon = Date.now();
      const later = soon + 3 * 24 * 3600_000;
      const answerSoon = Buffer.concat(answerNow(m, soon)).toString();
      const answerLater = Buffer.concat(answerNow(m, later)).toString();
      assert.equal(answerSoon, expected(soon));
      assert.equal(answerLater, expected(later));
      assert.notEqual(statusOf(answerSoon), statusOf(answerLater));
      assert.equal(statusOf(answerLater), 'done');
    } finally {
      db.close();
    }
  });
});
