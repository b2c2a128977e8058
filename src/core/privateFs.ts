import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Files and folders only their owner can read: the store copies the user's prompts and answers,
 * which the agents themselves keep 0600. Everything Agent Handler creates goes through here, so it
 * is 0600 (files) / 0700 (folders, the hook script) whatever the process umask, and our own files
 * that an older version (or a umask of 022) left wider are tightened when opened.
 *
 * A mode given to open()/mkdir() is filtered by the umask, which can strip bits but never add them:
 * so each piece creates with the mode AND sets it after (chmod), and only then trusts it.
 *
 * Never applied to what is not ours: the caller names only its own paths (never the user's
 * transcript folders, ~/.cache itself, or an export target that existed), and a path owned by
 * another account is left alone. Windows: no chmod at all; the user's profile folder's ACLs keep
 * other accounts out of it, and POSIX modes mean little there.
 */

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

const POSIX = process.platform !== 'win32';
const myUid = POSIX && typeof process.getuid === 'function' ? process.getuid() : -1;

/**
 * The mode a path of ours should have, or null when it has it (or is not ours to change): the owner
 * keeps its bits and gets the wanted ones (a umask such as 0277 strips the owner's too), group and
 * others get nothing.
 */
export function privateModeFor(st: { mode: number; uid: number }, wanted: number): number | null {
  if (!POSIX || st.uid !== myUid) return null;
  const target = (st.mode & 0o700) | (wanted & 0o700);
  return (st.mode & 0o777) === target ? null : target;
}

/**
 * Tightens an existing file or folder of ours: group and other bits removed. A symbolic link, a
 * missing path or another account's file is left as it is. True when the mode changed.
 */
export function tightenIfOurs(p: string, wanted?: number): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return false;
  }
  if (st.isSymbolicLink()) return false;
  const target = privateModeFor(st, wanted ?? (st.isDirectory() ? PRIVATE_DIR : 0));
  if (target === null) return false;
  try {
    fs.chmodSync(p, target);
    return true;
  } catch {
    return false;
  }
}

/**
 * mkdir -p with every folder it creates 0700 (an existing parent, ours or not, is left as it is).
 * Synchronous: a few system calls, and callers include the extension's activation and machine.ts.
 */
export function mkdirPrivate(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: PRIVATE_DIR });
    } catch (err) {
      // Another process made it first: it is someone's existing folder now, not ours to change.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    tightenIfOurs(d, PRIVATE_DIR);
  }
}

/**
 * A folder that is wholly ours (the extension's storage, the CLI's cache folder): created 0700, and
 * when it exists, it and everything in it tightened (a few files and the spool folder).
 */
export function claimPrivateDir(dir: string): void {
  mkdirPrivate(dir);
  const walk = (d: string): void => {
    tightenIfOurs(d, PRIVATE_DIR);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) tightenIfOurs(p);
    }
  };
  walk(dir);
}

/**
 * A file of ours in a folder that may not be (`--store /somewhere/x.sqlite`): the file and its
 * companions named after it (`x.sqlite.lock`, `.scan`, `.sessions`, `.tmp-*`, `.corrupt-*`) tightened.
 */
export function tightenWithCompanions(file: string): void {
  tightenIfOurs(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix)) tightenIfOurs(path.join(path.dirname(file), name));
}

/** openSync with mode 0600 on creation, then the mode made private whether it was created or found. */
export function openPrivateSync(file: string, flags: string | number, wanted = PRIVATE_FILE): number {
  const fd = fs.openSync(file, flags, wanted);
  try {
    const target = privateModeFor(fs.fstatSync(fd), wanted);
    if (target !== null) fs.fchmodSync(fd, target);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Writes (flag 'w', 'wx') or appends (flag 'a') a file of ours, private afterwards. One write call:
 * appends of concurrent callers never interleave inside one piece of data.
 */
export async function writePrivate(
  file: string,
  data: Parameters<typeof fs.promises.writeFile>[1],
  flag: 'w' | 'wx' | 'a' = 'w',
  wanted = PRIVATE_FILE,
): Promise<void> {
  const handle = await fs.promises.open(file, flag, wanted);
  try {
    const target = privateModeFor(await handle.stat(), wanted);
    if (target !== null) await handle.chmod(target);
    await fs.promises.writeFile(handle, data);
  } finally {
    await handle.close();
  }
}

/** writePrivate's synchronous twin (for machine.ts, which runs before anything is async). */
export function writePrivateSync(file: string, data: string | Uint8Array, flag: 'w' | 'wx' = 'w'): void {
  const fd = openPrivateSync(file, flag);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A file the user asked for (an export): created private when it is new; a file that was there
 * keeps the mode its owner gave it (it is theirs, and may be meant to be shared).
 */
export async function writeNewPrivateOrExisting(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await writePrivate(file, data, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await fs.promises.writeFile(file, data);
  }
}
