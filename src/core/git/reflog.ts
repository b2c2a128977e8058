import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/**
 * Which branch a working tree had checked out at a given moment, from its HEAD reflog. Agents that
 * record the branch only once per session (Codex at session start, Copilot per working-directory
 * context, Amp per thread) or not at all (Gemini, OpenCode, Cursor) get each request attributed to
 * the branch in effect when it was made. docs/accounting.md §5 has the rule and its limits.
 */

/** One change of the checked-out branch: from `ts_ms` on, `to` is checked out ('HEAD' when detached). */
export interface BranchChange {
  ts_ms: number;
  from: string | null;
  to: string;
}

export interface HeadHistory {
  /** Time of the oldest reflog entry: before it, the reflog knows nothing (expired or not yet a repo). */
  since_ms: number | null;
  changes: BranchChange[];
  /** The branch checked out now ('HEAD' when detached). */
  current: string;
}

const SHA = /^[0-9a-f]{7,64}$/i;

/** A reflog target that names a commit rather than a branch means a detached HEAD. */
function branchOrDetached(target: string): string {
  const t = target.trim();
  if (t.startsWith('refs/heads/')) return t.slice('refs/heads/'.length);
  if (SHA.test(t) || t.startsWith('refs/') || t.includes('~') || t.includes('^')) return 'HEAD';
  return t;
}

/**
 * Parses `git log -g --date=unix --format=%gd%x09%gs HEAD` (newest first): `HEAD@{<unix>}\t<subject>`.
 * Branch changes are the `checkout: moving from X to Y`, `rebase (finish): returning to refs/heads/X`,
 * `rebase (start)` (detached while rebasing) and `Branch: renamed refs/heads/X to refs/heads/Y` entries.
 */
export function parseHeadReflog(output: string, current: string): HeadHistory {
  const changes: BranchChange[] = [];
  let since: number | null = null;
  for (const line of output.split('\n')) {
    const m = /^HEAD@\{(\d+)\}\t(.*)$/.exec(line.trim());
    if (!m) continue;
    const ts = Number(m[1]) * 1000;
    since = since === null ? ts : Math.min(since, ts);
    const subject = m[2];
    let c: RegExpExecArray | null;
    if ((c = /^checkout: moving from (.+) to (.+)$/.exec(subject))) {
      changes.push({ ts_ms: ts, from: branchOrDetached(c[1]), to: branchOrDetached(c[2]) });
    } else if ((c = /^rebase(?: -i)? \((?:finish|abort)\): returning to (.+)$/.exec(subject))) {
      changes.push({ ts_ms: ts, from: 'HEAD', to: branchOrDetached(c[1]) });
    } else if (/^rebase(?: -i)? \(start\)/.test(subject)) {
      changes.push({ ts_ms: ts, from: null, to: 'HEAD' });
    } else if ((c = /^Branch: renamed (.+) to (.+)$/i.exec(subject))) {
      changes.push({ ts_ms: ts, from: branchOrDetached(c[1]), to: branchOrDetached(c[2]) });
    }
  }
  // Oldest first; entries of the same second keep the reflog's order (it lists newest first).
  changes.reverse();
  changes.sort((a, b) => a.ts_ms - b.ts_ms);
  return { since_ms: since, changes, current };
}

/**
 * The branch checked out at `tsMs`, or null when the reflog cannot tell (before its oldest entry, or
 * no reflog at all). Between two changes, the later change's `from` and the earlier one's `to` agree
 * unless the reflog was edited; the earlier `to` is what HEAD pointed at, so it wins.
 */
export function branchAt(h: HeadHistory, tsMs: number): string | null {
  if (h.since_ms === null || !Number.isFinite(tsMs) || tsMs < h.since_ms) return null;
  let last: BranchChange | null = null;
  for (const c of h.changes) {
    if (c.ts_ms <= tsMs) last = c;
    else break;
  }
  if (last) return last.to;
  // Before the first change: what that change moved away from, or (no change at all) the branch now.
  const first = h.changes[0];
  if (first) return first.from;
  return h.current;
}

function git(cwd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

interface Cached {
  signature: string;
  history: HeadHistory | null;
}

/**
 * HEAD histories per working tree, read again only when the tree's reflog file grew or changed
 * (its size and mtime), so attributing thousands of requests costs one `git log -g` per worktree.
 */
export class ReflogCache {
  private readonly cache = new Map<string, Cached>();

  async history(toplevel: string): Promise<HeadHistory | null> {
    let gitDir: string;
    const known = this.cache.get(toplevel);
    try {
      gitDir = (await git(toplevel, ['rev-parse', '--absolute-git-dir'])).trim();
    } catch {
      return known?.history ?? null;
    }
    const logFile = path.join(gitDir, 'logs', 'HEAD');
    let signature = 'none';
    try {
      const st = await fsp.stat(logFile);
      signature = `${st.size}:${st.mtimeMs}`;
    } catch {
      // no reflog (core.logAllRefUpdates off, a bare clone): the current branch is all we know
    }
    const headSig = await fsp.stat(path.join(gitDir, 'HEAD')).then(
      (st) => `${st.mtimeMs}`,
      () => '',
    );
    signature += `|${headSig}`;
    if (known && known.signature === signature) return known.history;
    let history: HeadHistory | null = null;
    try {
      let current = 'HEAD';
      try {
        current = (await git(toplevel, ['symbolic-ref', '--short', '-q', 'HEAD'])).trim() || 'HEAD';
      } catch {
        current = 'HEAD';
      }
      const out = signature.startsWith('none')
        ? ''
        : await git(toplevel, ['log', '-g', '--date=unix', '--format=%gd%x09%gs', 'HEAD']).catch(() => '');
      history = parseHeadReflog(out, current);
    } catch {
      history = null;
    }
    this.cache.set(toplevel, { signature, history });
    return history;
  }
}

/**
 * The branch a request (or a PR sighting) counts on, docs/accounting.md §5: the recorded branch for
 * agents that record it per request; else the working tree's HEAD reflog at its time; else the
 * branch the agent recorded (at session start); "" outside a repository.
 */
export async function attributedBranch(
  reflogs: Pick<ReflogCache, 'history'>,
  perRequest: boolean,
  r: { ts: string | null; recorded: string | null; toplevel: string | null; cwd_known: number },
): Promise<string | null> {
  if (perRequest) return r.recorded;
  if (r.toplevel) {
    const h = await reflogs.history(r.toplevel);
    const at = h && r.ts ? branchAt(h, Date.parse(r.ts)) : null;
    if (at) return at;
    return r.recorded;
  }
  // The folder is known not to be in a repository (now): the recorded branch if any, else no branch.
  return r.recorded ?? (r.cwd_known ? '' : null);
}
