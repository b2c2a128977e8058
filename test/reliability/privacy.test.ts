/**
 * Fault class: other accounts on the machine. The store copies the user's prompts (agents keep their
 * transcripts 0600), so everything Agent Handler writes is 0600 / 0700 whatever the umask: a full
 * first run of the extension's indexing and of the CLI (privateChild.ts) under umask 000 and 022,
 * then every path written is checked; the folders and files that are not ours keep their modes.
 * And our own files an older version left wider are tightened when opened, foreign ones never.
 */
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../src/core/store/store';
import { agentHome, tempDir } from '../unit/helpers';
import { type ChildLayout, layout } from './privateChild';
import { FaultSummary } from './helpers';

const summary = new FaultSummary('private files');
const POSIX = process.platform !== 'win32';

/** Every path under `dir` (itself included), with its permission bits; symbolic links not followed. */
async function modesUnder(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (p: string): Promise<void> => {
    const st = await fsp.lstat(p);
    out.set(p, st.mode & 0o777);
    if (st.isDirectory()) for (const name of await fsp.readdir(p)) await walk(path.join(p, name));
  };
  await walk(dir);
  return out;
}

function runChild(root: string, umask: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'privateChild.js'), [root, umask], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}

/** What the user has before the first run: transcripts, a cache folder, an export folder and file. */
async function userFiles(root: string): Promise<ChildLayout> {
  const l = layout(root);
  await fsp.cp(await agentHome('claude_code'), l.home, { recursive: true });
  for (const dir of [l.cache, l.out]) {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.chmod(dir, 0o755);
  }
  await fsp.writeFile(path.join(l.out, 'existing.json'), 'old\n');
  await fsp.chmod(path.join(l.out, 'existing.json'), 0o644);
  return l;
}

describe('private files', { skip: !POSIX && 'POSIX modes only (Windows: the profile ACLs)' }, () => {
  for (const umask of ['000', '022']) {
    it(`umask ${umask}: a first run of the extension's index and the CLI writes nothing group or others can read`, async () => {
      const root = await tempDir(`ah-rel-private-${umask}-`);
      const l = await userFiles(root);
      const transcriptsBefore = await modesUnder(l.home);
      summary.cases++;
      await summary.run(() => runChild(root, umask));

      // Ours: the extension's storage folder, the CLI's cache folder, the machine id's folder (when
      // it was needed), the new export.
      const ours = new Map<string, number>();
      for (const dir of [l.storage, path.join(l.cache, 'agent-handler'), path.join(l.config, 'agent-handler')]) {
        const modes = await modesUnder(dir).catch(() => new Map<string, number>());
        for (const [p, m] of modes) ours.set(p, m);
      }
      ours.set(path.join(l.out, 'new.csv'), (await fsp.stat(path.join(l.out, 'new.csv'))).mode & 0o777);
      const names = [...ours.keys()].map((p) => path.relative(root, p));
      for (const expected of [
        'globalStorage/agent-handler.agent-handler/index.sqlite',
        'globalStorage/agent-handler.agent-handler/index.sqlite.sessions',
        'globalStorage/agent-handler.agent-handler/otlp-endpoint.json',
        'globalStorage/agent-handler.agent-handler/otlp-token',
        'globalStorage/agent-handler.agent-handler/hook-spool.js',
        'globalStorage/agent-handler.agent-handler/spool/otel-logs.jsonl',
        'globalStorage/agent-handler.agent-handler/spool/claude-hooks.jsonl',
        'cache/agent-handler/cli-store.sqlite',
        'cache/agent-handler/cli-store.sqlite.scan',
        'out/new.csv',
      ])
        assert.ok(names.includes(expected), `${expected} was written (written: ${names.join(', ')})`);
      const open = [...ours].filter(([, mode]) => (mode & 0o077) !== 0);
      assert.deepEqual(
        open.map(([p, m]) => `${path.relative(root, p)} ${m.toString(8)}`),
        [],
        'no group or other bits',
      );
      // Files 0600, folders and the hook script 0700: the owner can still use them.
      for (const [p, mode] of ours) {
        const st = await fsp.lstat(p);
        const wanted = st.isDirectory() || p.endsWith('hook-spool.js') ? 0o700 : 0o600;
        assert.equal(mode, wanted, `${path.relative(root, p)}: ${mode.toString(8)}`);
      }
      // The folder the globalStorage folder is in came from mkdir -p: made by us, so ours too.
      assert.equal((await fsp.stat(path.dirname(l.storage))).mode & 0o777, 0o700);

      // Not ours: left as they were.
      assert.equal((await fsp.stat(l.cache)).mode & 0o777, 0o755, 'XDG_CACHE_HOME itself');
      assert.equal((await fsp.stat(l.out)).mode & 0o777, 0o755, "the user's export folder");
      assert.equal(
        (await fsp.stat(path.join(l.out, 'existing.json'))).mode & 0o777,
        0o644,
        'an export target that existed',
      );
      assert.deepEqual(await modesUnder(l.home), transcriptsBefore, "the agents' transcripts");
      summary.note(`umask ${umask}: ${ours.size} paths written, all private`);
    });
  }

  it('our own store and its files left 0644 by an older version are made 0600 when opened; a foreign file is not', async () => {
    summary.cases++;
    const dir = await tempDir('ah-rel-tighten-');
    const storeFile = path.join(dir, 'index.sqlite');
    const first = await Store.open(storeFile);
    first.markDirty();
    await first.persist();
    first.close();
    const companions = ['index.sqlite.sessions', 'index.sqlite.lock', 'index.sqlite.corrupt-1'];
    for (const name of companions) await fsp.writeFile(path.join(dir, name), 'x');
    const foreign = path.join(dir, 'notes.txt');
    await fsp.writeFile(foreign, 'mine');
    for (const name of ['index.sqlite', ...companions, 'notes.txt']) await fsp.chmod(path.join(dir, name), 0o644);
    await fsp.chmod(dir, 0o755);

    const store = await Store.open(storeFile);
    try {
      assert.equal(store.outcome, 'loaded');
      for (const name of ['index.sqlite', ...companions])
        assert.equal((await fsp.stat(path.join(dir, name))).mode & 0o777, 0o600, name);
      assert.equal((await fsp.stat(foreign)).mode & 0o777, 0o644, 'a file that is not ours');
      // A folder given with --store may be anyone's: not changed by opening a store in it.
      assert.equal((await fsp.stat(dir)).mode & 0o777, 0o755);
    } finally {
      store.close();
    }
    summary.note('0644 store + 3 companions tightened to 0600 on open; foreign file and folder untouched');
  });
});
