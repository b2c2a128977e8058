/**
 * The built CLI (`node dist/cli.js`) with its standard output into a pipe: a slow reader gets every
 * byte a file gets, `| head -1` ends quietly with exit code 0, and a failing command keeps its exit
 * code. (The process used to exit while a pipe still had output queued: of a 5 MB `sessions --json`
 * a slow reader got the first 64 to 250 KiB.) Every verdict is on bytes and exit codes, none on time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import { REPO_ROOT, assistant, git, makeRepo, tempDir, userPrompt, writeTranscript } from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** A CLI run that has not exited by then is a failure: something keeps its event loop alive. */
const RUN_TIMEOUT_MS = 90_000;

function cliEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.CLAUDE_CONFIG_DIR;
  delete env.XDG_CONFIG_HOME;
  delete env.XDG_CACHE_HOME;
  return env;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Spawns the CLI with `stdout` as given, collects stderr, and waits for the exit (or fails the run).
 * `onStdout` gets the pipe, if it is one, and a promise of the process's exit.
 */
function run(
  args: string[],
  home: string,
  stdout: 'pipe' | number,
  onStdout?: (s: Readable, exited: Promise<void>) => void,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(home), stdio: ['ignore', stdout, 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent-handler ${args.join(' ')} did not exit within ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (child.stdout && onStdout) onStdout(child.stdout, exited);
    child.on('error', reject);
    // 'close': the process has exited and its stderr has been read to the end.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** The command with its standard output redirected into a file, as `> file` does. */
async function toFile(args: string[], home: string): Promise<Exit & { bytes: Buffer }> {
  const file = path.join(await tempDir('ah-pipe-out-'), 'stdout');
  const fh = await fsp.open(file, 'w');
  let exit: Exit;
  try {
    exit = await run(args, home, fh.fd);
  } finally {
    await fh.close();
  }
  return { ...exit, bytes: await fsp.readFile(file) };
}

/**
 * A reader slower than the CLI. Once the first bytes are there it takes nothing more until the CLI
 * has exited or 100 ms have passed: the pipe is full, the rest of the output is queued inside the
 * CLI, and a CLI that exits then (as it did) loses it. After that it takes 16 KiB at a time with a
 * timer tick between reads, so the pipe keeps filling up. The verdict is on the bytes: a correct
 * CLI waits for this reader however slow it is.
 */
function readSlowly(stream: Readable, exited: Promise<void>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let busy = false;
    let started: Promise<void> | null = null;
    const pump = async () => {
      if (busy) return;
      busy = true;
      started ??= Promise.race([exited, new Promise<void>((r) => setTimeout(r, 100))]);
      await started;
      let chunk: Buffer | null;
      // read(n) returns null until n bytes are there, or the rest once the stream has ended.
      while ((chunk = stream.read(16 * 1024) as Buffer | null) !== null) {
        parts.push(chunk);
        await new Promise((r) => setTimeout(r, 1));
      }
      busy = false;
    };
    stream.on('readable', () => void pump().catch(reject));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
}

/** The command with its standard output into a pipe read slowly. */
async function toSlowPipe(args: string[], home: string): Promise<Exit & { bytes: Buffer }> {
  let received: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
  const exit = await run(args, home, 'pipe', (s, exited) => {
    received = readSlowly(s, exited);
  });
  return { ...exit, bytes: await received };
}

/**
 * `| head -1`: reads up to the first newline, then closes its end of the pipe while the CLI still
 * has output to write. Returns the first line and how many bytes had arrived by then.
 */
async function toHead(args: string[], home: string): Promise<Exit & { line: string; received: number }> {
  let line = '';
  let received = 0;
  const exit = await run(args, home, 'pipe', (s) => {
    let seen = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      received += d.length;
      seen = Buffer.concat([seen, d]);
      const nl = seen.indexOf(0x0a);
      if (nl >= 0 && !s.destroyed) {
        line = seen.subarray(0, nl).toString('utf8');
        s.destroy();
      }
    });
  });
  return { ...exit, line, received };
}

/** Runs a bash script (the CLI as $CLI, node as $NODE); its stdout, stderr and exit code. */
function bash(script: string, home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env: { ...cliEnv(home), CLI, NODE: process.execPath } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pipe got exactly the file's bytes (lengths first: a failed equality of megabytes says nothing). */
function assertSameBytes(pipe: Buffer, file: Buffer, what: string): void {
  assert.equal(pipe.length, file.length, `${what}: bytes through the pipe vs into a file`);
  assert.ok(pipe.equals(file), `${what}: the same length but different bytes`);
}

function sessionId(n: number): string {
  return `7${String(n).padStart(7, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** A prompt of more than the 300 characters a session keeps of its first and last prompts. */
function longPrompt(n: number, what: string): string {
  return `${what} of session ${n}: ${'please refactor the parser module, keep its public interface, and explain every step '.repeat(4)}`;
}

/**
 * Claude Code sessions in the real transcript format (the helpers' records follow the 2.1.332
 * fixtures line for line). Session n runs in `cwd`, one prompt and one request per branch from
 * `branches(n)`: every branch is an entry of the session's `branches` list, which with long names
 * makes `sessions --json` large at few requests. Session n is on day n after 2025-01-01: in the past
 * on any machine that runs this, so every status is settled and two runs print the same.
 */
async function writeSessions(
  home: string,
  count: number,
  cwd: string,
  branches: (n: number) => string[],
  extra: (n: number) => object[] = () => [],
): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const session = sessionId(n);
    const names = branches(n);
    const records: object[] = [];
    names.forEach((branch, b) => {
      const ts = (s: number) => new Date(Date.UTC(2025, 0, 1 + n, 9, b, s)).toISOString();
      const last = b === names.length - 1;
      const text = b === 0 ? longPrompt(n, 'first prompt') : last ? longPrompt(n, 'last prompt') : `go on with ${b}`;
      records.push(
        userPrompt({ session, cwd, branch, ts: ts(0), text }),
        assistant({
          session,
          cwd,
          branch,
          ts: ts(1),
          msg: `msg_${n}_${b}`,
          req: `req_${n}_${b}`,
          usage: { in: 1000 + b, out: 50, cr: 2000, cw: 100 },
        }),
      );
    });
    records.push(...extra(n));
    await writeTranscript(home, `${session}.jsonl`, records, cwd);
    ids.push(session);
  }
  return ids;
}

/** Long branch names, as ticket-named branches are: `feature/PROJ-<n>-<b>-<words>`. */
function longBranches(n: number, count: number): string[] {
  return Array.from(
    { length: count },
    (_, b) => `feature/PROJ-${n}-${b}-${'make-the-parser-accept-trailing-commas-'.repeat(6)}`,
  );
}

function checkBundle(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the unit tests`);
}

describe('CLI output through pipes (dist/cli.js)', () => {
  before(checkBundle);

  describe('1000 sessions in a repository: `sessions --json` over 5 MB, every command', () => {
    const COUNT = 1000;
    const last = COUNT - 1;
    let home = '';
    let repo = '';
    let store = '';
    let ids: string[] = [];
    let sessionsJson: Buffer = Buffer.alloc(0);

    before(async () => {
      // A repository checked out on feature/a, where every session but the last ends up after six
      // ticket branches; session 0 opened PR #7 there. The last one stays on a ticket branch,
      // whose long name widens the table's BRANCH column for every row.
      repo = await makeRepo('main', 'https://github.com/acme/widgets.git');
      git(repo, 'checkout', '-q', '-b', 'feature/a');
      home = path.join(await tempDir('ah-pipe-home-'), 'home');
      store = path.join(await tempDir('ah-pipe-store-'), 'store.sqlite');
      ids = await writeSessions(
        home,
        COUNT,
        repo,
        (n) => (n === last ? longBranches(n, 7) : [...longBranches(n, 6), 'feature/a']),
        (n) =>
          n === 0
            ? [
                {
                  type: 'pr-link',
                  sessionId: sessionId(0),
                  prNumber: 7,
                  prUrl: 'https://github.com/acme/widgets/pull/7',
                  prRepository: 'acme/widgets',
                  timestamp: '2025-01-01T10:00:00.000Z',
                },
              ]
            : [],
      );
      // The first run indexes and saves the store, which every later run only reads. Its output,
      // into a file, is the reference for the pipe.
      const r = await toFile(['sessions', '--json', '--store', store], home);
      assert.deepEqual([r.code, r.stderr], [0, '']);
      sessionsJson = r.bytes;
    });

    test("sessions --json into a slowly read pipe: byte for byte the file's, over 5 MB, parses, exit code 0", async () => {
      assert.ok(
        sessionsJson.length >= 5_000_000,
        `the file output is ${sessionsJson.length} bytes, not the 5 MB this test is about`,
      );
      const r = await toSlowPipe(['sessions', '--json', '--store', store], home);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      assertSameBytes(r.bytes, sessionsJson, 'sessions --json');
      const sessions = JSON.parse(r.bytes.toString('utf8')) as { session_id: string }[];
      assert.equal(sessions.length, COUNT);
      assert.equal(new Set(sessions.map((s) => s.session_id)).size, COUNT);
    });

    // Every other command, with --json where it has one. sessions, export and daily grow with the
    // sessions and days, branch and pr with the sessions on the branch: all far over what a pipe holds.
    const commands: [string, () => string[]][] = [
      ['sessions', () => ['sessions']],
      ['branch --cwd --json', () => ['branch', '--cwd', repo, '--json']],
      ['pr --cwd --json', () => ['pr', '--cwd', repo, '--json']],
      ['diagnostics --json', () => ['diagnostics', '--json']],
      ['daily --json', () => ['daily', '--json', '--tz', 'UTC']],
      ['export --format json', () => ['export', '--format', 'json']],
      ['explain --session --json', () => ['explain', '--session', ids[0], '--json']],
    ];
    const outputs = new Map<string, string>();
    for (const [name, args] of commands) {
      test(`${name}: the slowly read pipe gets the file's bytes, exit code 0`, async () => {
        const argv = [...args(), '--store', store];
        // Both at once: they only read the saved store, and two cores halve the wait.
        const [file, pipe] = await Promise.all([toFile(argv, home), toSlowPipe(argv, home)]);
        assert.deepEqual([file.code, file.stderr], [0, ''], `into a file: ${file.stderr}`);
        assert.deepEqual([pipe.code, pipe.stderr], [0, ''], `through a pipe: ${pipe.stderr}`);
        assertSameBytes(pipe.bytes, file.bytes, name);
        outputs.set(name, pipe.bytes.toString('utf8'));
      });
    }

    test('the outputs compared are the real ones: the PR, every day, every session', () => {
      const json = <T>(name: string): T | null => JSON.parse(outputs.get(name) ?? 'null') as T | null;
      const pr = json<{ pr: { number: number } | null; sessions: number }>('pr --cwd --json');
      assert.equal(pr?.pr?.number, 7);
      assert.equal(pr?.sessions, COUNT - 1);
      assert.equal(json<{ sessions: number }>('branch --cwd --json')?.sessions, COUNT - 1);
      assert.equal(json<{ days: unknown[] }>('daily --json')?.days.length, COUNT);
      assert.equal(json<unknown[]>('export --format json')?.length, COUNT);
      assert.equal(json<{ target: { sessions: string[] } }>('explain --session --json')?.target.sessions[0], ids[0]);
      assert.equal(json<{ sessions: number }>('diagnostics --json')?.sessions, COUNT);
      // The table: a header, a row per session and the totals.
      assert.equal((outputs.get('sessions') ?? '').trimEnd().split('\n').length, COUNT + 2);
    });

    test('sessions (the table) into a reader that leaves after the first line, as `| head -1`: exit code 0, nothing on stderr', async () => {
      const r = await toHead(['sessions', '--wide', '--store', store], home);
      assert.match(r.line, /^STATUS +AGENT +TITLE +BRANCH/);
      assert.equal(r.stderr, '');
      assert.deepEqual([r.code, r.signal], [0, null]);
      // The reader really left early: the CLI still had more than a full pipe (64 KiB) to write,
      // so it met the closed pipe. Every row of the (--wide) table is at least as wide as the longest branch.
      const table = COUNT * longBranches(last, 1)[0].length;
      assert.ok(r.received + 128 * 1024 < table, `${r.received} bytes of over ${table} read before leaving`);
    });

    test(
      "`agent-handler sessions --json | head -1` in bash: the first line, the CLI's own status 0, nothing on stderr",
      { skip: process.platform === 'win32' },
      async () => {
        const r = await bash(
          `set -o pipefail; "$NODE" "$CLI" sessions --json --store '${store}' | head -1; s=("\${PIPESTATUS[@]}"); echo "cli=\${s[0]} head=\${s[1]}"`,
          home,
        );
        assert.equal(r.stderr, '');
        assert.equal(r.stdout, '[\ncli=0 head=0\n');
        assert.equal(r.code, 0);
      },
    );
  });

  describe('failures through a pipe keep their exit codes', () => {
    test('bad usage: exit code 2 and one line on stderr, stdout a pipe', async () => {
      const home = await tempDir('ah-pipe-home-');
      const cases: [string[], string][] = [
        [['frobnicate'], 'agent-handler: unknown command frobnicate (see agent-handler --help)\n'],
        [['pr', '--number', 'abc'], 'agent-handler: --number needs a pull request number, not abc\n'],
      ];
      for (const [args, message] of cases) {
        const r = await toSlowPipe(args, home);
        assert.deepEqual([r.code, r.stderr, r.bytes.length], [2, message, 0], args.join(' '));
      }
    });

    test(
      "in bash pipelines: the CLI's own status through `| cat` (2 for usage, 1 for a runtime failure)",
      { skip: process.platform === 'win32' },
      async () => {
        const home = await tempDir('ah-pipe-home-');
        const usage = await bash('"$NODE" "$CLI" frobnicate | cat; echo "cli=${PIPESTATUS[0]}"', home);
        assert.deepEqual(
          [usage.stdout, usage.stderr],
          ['cli=2\n', 'agent-handler: unknown command frobnicate (see agent-handler --help)\n'],
        );
        // A store under a regular file cannot be created: a runtime failure, exit code 1.
        const blocker = path.join(home, 'not-a-folder');
        await fsp.writeFile(blocker, '');
        const runtime = await bash(
          `"$NODE" "$CLI" sessions --json --store '${blocker}/store.sqlite' | cat; echo "cli=\${PIPESTATUS[0]}"`,
          home,
        );
        assert.equal(runtime.stdout, 'cli=1\n');
        assert.match(runtime.stderr, /^agent-handler: /);
        // set -o pipefail sees the failure though the last command of the pipeline succeeded.
        const pipefail = await bash('set -o pipefail; "$NODE" "$CLI" frobnicate | cat', home);
        assert.equal(pipefail.code, 2);
      },
    );

    test(
      'standard output that cannot be written (/dev/full): exit code 1 and the reason on stderr',
      { skip: !existsSync('/dev/full') },
      async () => {
        const home = await tempDir('ah-pipe-home-');
        const r = await bash('"$NODE" "$CLI" --help > /dev/full', home);
        assert.equal(r.code, 1);
        assert.equal(r.stderr, 'agent-handler: cannot write to standard output: ENOSPC\n');
      },
    );
  });
});
