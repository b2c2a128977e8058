/**
 * What a user sees does not change when the code is reshaped: the built CLI's answers over every
 * agent's fixtures, a real repository and a seeded synthetic corpus are compared byte for byte with
 * the files in test/fixtures/golden/, written by the code before the change.
 *
 * A change that is meant to change an answer regenerates them (and the diff shows what changed):
 *   npm run build && npx tsc -p tsconfig.test.json && GOLDEN_UPDATE=1 node --test out/test/unit/golden.test.js
 *
 * Everything that reaches the answers is pinned: the corpus's folder is named <golden> in them, the machine id and time zone are given, git's dates are fixed, and every session is
 * months old (its status no longer depends on the clock).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { MACHINE_ID_ENV } from '../../src/core/machine';
import { FIXTURES, REPO_ROOT, agentHome, copyDir, encodeCwd, git } from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const GOLDEN = path.join(FIXTURES, 'golden');
// A folder of this run's own (parallel runs must not share one); the answers name it as <golden>.
const ROOT = mkdtempSync(path.join(os.tmpdir(), 'ah-golden-'));
const HOME = path.join(ROOT, 'home');
const REPO = path.join(ROOT, 'repo');
const FIXTURE_CWD = '/home/dev/agent/work/repo-claude-2.1.332';
const UPDATE = process.env.GOLDEN_UPDATE === '1';

/** The answers compared, by golden file name. */
const ANSWERS: Record<string, string[]> = {
  'sessions.json': ['sessions', '--json'],
  'branch.json': ['branch', '--json', '--cwd', REPO],
  'pr.json': ['pr', '--json', '--cwd', REPO],
  'daily.json': ['daily', '--json', '--tz', 'UTC'],
  'export-sessions.json': ['export', '--format', 'json'],
  'export-sessions.csv': ['export', '--format', 'csv'],
  'export-daily.csv': ['export', '--format', 'csv', '--what', 'daily', '--tz', 'UTC'],
};

/** Every agent's fixtures, the 2.1.332 Claude Code sessions moved into a real repository, and a seeded corpus. */
async function buildCorpus(): Promise<void> {
  await fsp.rm(ROOT, { recursive: true, force: true });
  await fsp.mkdir(REPO, { recursive: true });
  git(REPO, 'init', '-q', '-b', 'main');
  git(REPO, 'config', 'user.name', 'Agent Handler Tests');
  git(REPO, 'config', 'user.email', 'tests@agent-handler.invalid');
  git(REPO, 'remote', 'add', 'origin', 'git@github.com:fake-owner/fake-repo.git');
  await fsp.writeFile(path.join(REPO, 'README.md'), '# golden\n');
  git(REPO, 'add', '.');
  git(REPO, 'commit', '-q', '-m', 'initial');
  git(REPO, 'checkout', '-q', '-b', 'feature/fake-model');
  await fsp.writeFile(path.join(REPO, 'model.txt'), 'a\nb\n');
  git(REPO, 'add', '.');
  git(REPO, 'commit', '-q', '-m', 'model');

  for (const agent of ['codex', 'gemini', 'opencode', 'copilot', 'cursor', 'amp'])
    await copyDir(await agentHome(agent), HOME);
  // Claude Code 2.1.332 in the repository (branch feature/fake-model), 2.1.197 where it was recorded.
  const projects = path.join(HOME, '.claude', 'projects');
  await rewriteTree(
    path.join(FIXTURES, 'claude', '2.1.332', 'projects', encodeCwd(FIXTURE_CWD)),
    path.join(projects, encodeCwd(REPO)),
    (t) => t.split(FIXTURE_CWD).join(REPO),
  );
  await copyDir(path.join(FIXTURES, 'claude', '2.1.197', 'projects'), projects);

  const gen = spawnSync(
    process.execPath,
    [
      path.join(REPO_ROOT, 'scripts', 'bench.mjs'),
      '--gen-only',
      HOME,
      '--size-mb',
      '3',
      '--files',
      '60',
      '--seed',
      '7',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(gen.status, 0, gen.stderr);
  // Some agents date activity by a file's modification time (Cursor's store): fixed, as the rest.
  await touchAll(HOME, new Date('2026-11-30T00:00:00.000Z'));
}

async function touchAll(dir: string, when: Date): Promise<void> {
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await touchAll(p, when);
    else await fsp.utimes(p, when, when);
  }
}

async function rewriteTree(src: string, dst: string, map: (text: string) => string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    if (e.isDirectory()) await rewriteTree(path.join(src, e.name), path.join(dst, e.name), map);
    else await fsp.writeFile(path.join(dst, e.name), map(await fsp.readFile(path.join(src, e.name), 'utf8')));
  }
}

function run(args: string[], store: string): string {
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOME,
    TZ: 'UTC',
    [MACHINE_ID_ENV]: 'golden-machine',
  };
  for (const k of [
    'CLAUDE_CONFIG_DIR',
    'XDG_CONFIG_HOME',
    'XDG_CACHE_HOME',
    'XDG_DATA_HOME',
    'CODEX_HOME',
    'GEMINI_CLI_HOME',
    'COPILOT_HOME',
    'AMP_DATA_DIR',
  ])
    delete env[k];
  const r = spawnSync(process.execPath, [CLI, ...args, '--store', store], {
    env,
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '', args.join(' '));
  // The run's folder as it appears in paths and in Claude Code's encoded project folder names.
  return r.stdout.split(ROOT).join('<golden>').split(encodeCwd(ROOT)).join('<golden-encoded>');
}

describe('golden answers (the CLI before and after a reshaping)', () => {
  test('sessions, branch, pr, daily and export over every fixture and a seeded corpus are byte for byte the checked-in ones', async () => {
    await buildCorpus();
    const store = path.join(ROOT, 'store.sqlite');
    const differing: string[] = [];
    for (const [name, args] of Object.entries(ANSWERS)) {
      const got = run(args, store);
      const file = path.join(GOLDEN, name);
      if (UPDATE) {
        await fsp.mkdir(GOLDEN, { recursive: true });
        await fsp.writeFile(file, got);
        continue;
      }
      const want = await fsp.readFile(file, 'utf8');
      if (got !== want) {
        differing.push(name);
        await fsp.writeFile(path.join(ROOT, `actual-${name}`), got);
      }
    }
    assert.deepEqual(differing, [], `differ from test/fixtures/golden/ (this run's answers are in ${ROOT}/actual-*)`);
    // A second run on the same store reads nothing new and answers the same.
    if (!UPDATE)
      assert.equal(
        run(ANSWERS['sessions.json'], store),
        await fsp.readFile(path.join(GOLDEN, 'sessions.json'), 'utf8'),
      );
  });
});
