import { execFile } from 'node:child_process';

/**
 * The network sources of a branch's PR and the branch's diff size. Everything runs as a child
 * process with an argument list (no shell: a branch name is never parsed by one), a timeout, and
 * never an interactive prompt. Callers run these in the worker thread, never on the extension host's.
 */

export interface FoundPr {
  number: number;
  url: string;
  state: string | null;
  title: string | null;
}

/** `unavailable`: gh missing, not logged in, offline, timed out: nothing to cache, try again later. */
export type GhAnswer = { kind: 'found'; pr: FoundPr } | { kind: 'none' } | { kind: 'unavailable'; reason: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  error: NodeJS.ErrnoException | null;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env, windowsHide: true },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
          error: error as NodeJS.ErrnoException | null,
        });
      },
    );
    child.stdin?.end();
  });
}

/** gh never prompts, never checks for updates, never colours its output. */
function ghEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GH_PROMPT_DISABLED: '1',
    GH_NO_UPDATE_NOTIFIER: '1',
    NO_COLOR: '1',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** Whether a `gh` executable is on PATH (the setting's "on when gh is found"). */
export async function ghInstalled(cwd: string, ghPath = 'gh'): Promise<boolean> {
  const r = await run(ghPath, ['--version'], cwd, 5_000, ghEnv());
  return r.code === 0;
}

/** `gh pr view <branch> --json number,url,state,title` in the working tree. */
export async function ghPrView(toplevel: string, branch: string, timeoutMs = 10_000, ghPath = 'gh'): Promise<GhAnswer> {
  // "--" is not accepted by gh here; a branch name cannot start with "-" in git anyway.
  if (branch.startsWith('-')) return { kind: 'none' };
  const r = await run(ghPath, ['pr', 'view', branch, '--json', 'number,url,state,title'], toplevel, timeoutMs, ghEnv());
  if (r.error?.code === 'ENOENT') return { kind: 'unavailable', reason: 'gh is not installed' };
  if (r.code === 0) {
    try {
      const o = JSON.parse(r.stdout) as { number?: unknown; url?: unknown; state?: unknown; title?: unknown };
      if (typeof o.number === 'number' && typeof o.url === 'string') {
        return {
          kind: 'found',
          pr: {
            number: o.number,
            url: o.url,
            state: typeof o.state === 'string' ? o.state : null,
            title: typeof o.title === 'string' ? o.title : null,
          },
        };
      }
      return { kind: 'unavailable', reason: 'gh printed something that is not a pull request' };
    } catch {
      return { kind: 'unavailable', reason: 'gh printed something that is not JSON' };
    }
  }
  if (/no pull requests? found/i.test(r.stderr)) return { kind: 'none' };
  const reason =
    r.error && (r.error as { killed?: boolean }).killed
      ? `gh timed out after ${timeoutMs} ms`
      : r.stderr.trim().split('\n')[0] || `gh exited with ${r.code}`;
  return { kind: 'unavailable', reason: reason.slice(0, 200) };
}

/** The repository's default branch: origin's HEAD, else an existing `main` or `master`. */
export async function defaultBranch(toplevel: string): Promise<string | null> {
  const sym = await run('git', ['symbolic-ref', '--short', '-q', 'refs/remotes/origin/HEAD'], toplevel, 10_000);
  if (sym.code === 0 && sym.stdout.trim()) return sym.stdout.trim().replace(/^origin\//, '');
  for (const b of ['main', 'master']) {
    const r = await run('git', ['show-ref', '--verify', '--quiet', `refs/heads/${b}`], toplevel, 10_000);
    if (r.code === 0) return b;
  }
  return null;
}

export interface DiffStat {
  additions: number;
  deletions: number;
  /** The branch it is compared with (its merge base with this branch). */
  base: string;
  head: string;
}

/** `git diff --shortstat` output → additions and deletions. */
export function parseShortstat(out: string): { additions: number; deletions: number } {
  const add = /(\d+) insertions?\(\+\)/.exec(out);
  const del = /(\d+) deletions?\(-\)/.exec(out);
  return { additions: add ? Number(add[1]) : 0, deletions: del ? Number(del[1]) : 0 };
}

/**
 * Lines changed on `branch` since its merge base with the default branch, cached per (repository,
 * branch, head commit): a new commit on the branch is a new key, anything else is answered from memory.
 */
export class DiffStats {
  private readonly cache = new Map<string, DiffStat | null>();

  async get(gitDir: string, toplevel: string, branch: string): Promise<DiffStat | null> {
    if (!branch || branch === 'HEAD') return null;
    const head = await run('git', ['rev-parse', '--verify', '-q', `refs/heads/${branch}`], toplevel, 10_000);
    if (head.code !== 0) return null;
    const sha = head.stdout.trim();
    const key = `${gitDir}\0${branch}\0${sha}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    const base = await defaultBranch(toplevel);
    let stat: DiffStat | null = null;
    if (base && base !== branch) {
      // The local default branch, else origin's copy of it (a clone that never checked it out).
      const local = await run('git', ['show-ref', '--verify', '--quiet', `refs/heads/${base}`], toplevel, 10_000);
      const baseRef = local.code === 0 ? `refs/heads/${base}` : `refs/remotes/origin/${base}`;
      const r = await run('git', ['diff', '--shortstat', `${baseRef}...refs/heads/${branch}`], toplevel, 30_000);
      if (r.code === 0) stat = { ...parseShortstat(r.stdout), base, head: sha };
    }
    this.cache.set(key, stat);
    return stat;
  }
}
