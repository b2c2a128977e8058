import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type * as SimpleGit from 'simple-git';

/**
 * simple-git, loaded on first use: the parse workers (src/core/ingest/parsePool.ts) reach this
 * module through the adapters for its pure helpers only, and need not pay for it in every thread.
 */
let simpleGitModule: typeof SimpleGit | undefined;
function simpleGit(options: Partial<SimpleGit.SimpleGitOptions>): SimpleGit.SimpleGit {
  simpleGitModule ??= require('simple-git') as typeof SimpleGit;
  return simpleGitModule.simpleGit(options);
}

/**
 * What git says about a working directory. Worktrees of one repository share a common git dir, which
 * is what identifies "the same repository" everywhere in Agent Handler.
 */
export interface RepoInfo {
  /** Absolute, real path of `git rev-parse --git-common-dir`. */
  git_dir: string;
  toplevel: string;
  /** Current branch; 'HEAD' when detached. */
  branch: string;
  /** owner/name of a GitHub remote (origin first), if any. */
  github_repo: string | null;
  /** The origin remote normalised by normalizeRemote (host/path, no credentials), if any. */
  remote: string | null;
}

export async function repoInfo(cwd: string): Promise<RepoInfo | null> {
  if (!existsSync(cwd)) return null;
  try {
    const git = simpleGit({ baseDir: cwd, timeout: { block: 10_000 } });
    const out = await git.raw(['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel']);
    const [commonDir, toplevel] = out.trim().split('\n');
    if (!commonDir || !toplevel) return null;
    // Not `rev-parse --abbrev-ref HEAD`: it fails on a branch with no commit yet (a fresh `git init`).
    let branch = '';
    try {
      branch = (await git.raw(['symbolic-ref', '--short', '-q', 'HEAD'])).trim();
    } catch {
      branch = ''; // detached
    }
    let remote: string | null = null;
    try {
      remote = (await git.raw(['remote', 'get-url', 'origin'])).trim() || null;
    } catch {
      remote = null;
    }
    return {
      git_dir: await realpathOr(commonDir),
      toplevel: await realpathOr(toplevel),
      branch: branch || 'HEAD',
      github_repo: remote ? githubRepoFromRemote(remote) : null,
      remote: remote ? normalizeRemote(remote) : null,
    };
  } catch {
    return null;
  }
}

async function realpathOr(p: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/** `git@github.com:o/r.git`, `https://github.com/o/r`, `ssh://git@ghe.corp/o/r.git` → 'o/r' (GitHub hosts only). */
export function githubRepoFromRemote(url: string): string | null {
  const m =
    /^(?:[\w.+-]+@)?([\w.-]+):(?!\/)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url) ??
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([\w.-]+)(?::\d+)?\/([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  if (!m || !/github/i.test(m[1])) return null;
  return `${m[2]}/${m[3]}`;
}

/**
 * A remote URL as one name for the repository wherever it is cloned: `host/path` with the
 * credentials, the port, the scheme, a trailing `/` and `.git` dropped and the host lower-cased,
 * so `git@gitlab.example.com:team/app.git` and `https://user:token@gitlab.example.com/team/app`
 * are the same. A local path or `file://` remote names no shared repository: null.
 */
export function normalizeRemote(url: string): string | null {
  const u = url.trim();
  let host: string;
  let repoPath: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)(?::\d*)?(\/.*)?$/i.exec(u);
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/)(.+)$/.exec(u);
  if (scheme) {
    if (scheme[1].toLowerCase() === 'file') return null;
    host = scheme[2];
    repoPath = scheme[3] ?? '';
  } else if (scp && !/^[a-z]:$/i.test(`${scp[1]}:`)) {
    host = scp[1];
    repoPath = scp[2];
  } else {
    return null;
  }
  repoPath = repoPath
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/^~[^/]*\//, '');
  if (!host || !repoPath) return null;
  return `${host.toLowerCase()}/${repoPath}`;
}

/**
 * The file whose change means "the branch changed" for a working tree: `.git/HEAD`, or for a
 * worktree or submodule the HEAD inside the git dir that its `.git` file points to.
 */
export async function headFileOf(toplevel: string): Promise<string | null> {
  const dotGit = path.join(toplevel, '.git');
  try {
    const st = await fsp.stat(dotGit);
    if (st.isDirectory()) return path.join(dotGit, 'HEAD');
    const m = /^gitdir:\s*(.+)$/m.exec(await fsp.readFile(dotGit, 'utf8'));
    return m ? path.join(path.resolve(toplevel, m[1].trim()), 'HEAD') : null;
  } catch {
    return null;
  }
}
