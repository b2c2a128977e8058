import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { NotAStoreError } from '../core/store/db';
import { type Args, UsageError } from './args';

/**
 * What the CLI says when it cannot do what it was asked: one line on standard error naming the
 * thing and what to do, exit code 2 for bad usage or input, 1 for a runtime failure. A stack trace
 * only with --debug or AGENT_HANDLER_DEBUG=1.
 */

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

function debugging(): boolean {
  return !!process.env.AGENT_HANDLER_DEBUG;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EBUSY: 'busy (in use by another program)',
  EMFILE: 'too many open files',
};

const VERBS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'replace',
  scandir: 'list',
  stat: 'look at',
  lstat: 'look at',
  unlink: 'remove',
};

/** The line (without "agent-handler: ") and the exit code for whatever a command threw. */
export function describeError(err: unknown): { line: string; code: number } {
  if (err instanceof UsageError) return { line: err.message, code: EXIT_USAGE };
  if (err instanceof NotAStoreError)
    return {
      line: `${err.message}: it was left untouched; give --store the path of a new file or of an Agent Handler store`,
      code: EXIT_USAGE,
    };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    const verb = VERBS[e.syscall ?? ''] ?? 'use';
    const reason = REASONS[e.code] ?? e.code;
    return { line: `cannot ${verb} ${e.path}: ${reason}`, code: EXIT_RUNTIME };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    line: `${message}${debugging() ? '' : ' (AGENT_HANDLER_DEBUG=1 or --debug shows where)'}`,
    code: EXIT_RUNTIME,
  };
}

/** The stack trace --debug adds after the line. */
export function debugDetail(err: unknown): string {
  return debugging() && err instanceof Error && err.stack ? `${err.stack}\n` : '';
}

async function kindOf(p: string): Promise<'file' | 'dir' | 'other' | 'missing' | NodeJS.ErrnoException> {
  try {
    const st = await fsp.stat(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : (err as NodeJS.ErrnoException);
  }
}

/**
 * The paths a command will use, checked before anything is read or written, so that a wrong one is
 * named as the person gave it (exit 2) rather than met deep inside (a stack trace).
 */
export async function checkPaths(args: Args): Promise<void> {
  const home = process.env.HOME;
  if (home) {
    const k = await kindOf(home);
    if (k === 'file' || k === 'other')
      throw new UsageError(`HOME (${home}) is not a folder: set HOME to your home folder`);
  }
  const store = await kindOf(args.store);
  const storeName = args.storeGiven ? `--store ${args.store}` : `the store ${args.store}`;
  if (store === 'dir')
    throw new UsageError(
      `${storeName} is a folder: give the path of a file, e.g. ${path.join(args.store, 'agent-handler.sqlite')}`,
    );
  if (store === 'other') throw new UsageError(`${storeName} is not a regular file`);
  if (store === 'file') {
    try {
      await fsp.access(args.store, fsp.constants.R_OK);
    } catch {
      throw new UsageError(
        `${storeName} cannot be read (permission denied): choose another --store or fix its permissions`,
      );
    }
  }
  if (typeof store === 'object' && store.code === 'EACCES')
    throw new UsageError(`${storeName} cannot be reached (permission denied): choose another --store`);
  for (const [flag, dir] of [
    ['--cwd', args.cwd],
    ['--spool', args.spool],
  ] as const) {
    if (!dir) continue;
    const k = await kindOf(dir);
    if (k === 'missing') throw new UsageError(`${flag} ${dir} does not exist`);
    if (k !== 'dir') throw new UsageError(`${flag} ${dir} is not a folder`);
  }
  if (args.out && (await kindOf(args.out)) === 'dir')
    throw new UsageError(`--out ${args.out} is a folder: give the path of a file`);
}
