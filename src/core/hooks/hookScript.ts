import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { PRIVATE_DIR, mkdirPrivate, tightenIfOurs, writePrivate } from '../privateFs';
import { HOOK_SCRIPT_NAME } from './install';

export interface HookPaths {
  /** The copy of media/hook-spool.js hooks run: in global storage, so it survives extension updates. */
  script: string;
  spoolDir: string;
}

/** Keeps the stable copy of the hook script current (a newer extension may ship a newer script). */
export async function refreshHookScript(extensionPath: string, paths: HookPaths): Promise<void> {
  const shipped = await fsp.readFile(path.join(extensionPath, 'media', HOOK_SCRIPT_NAME));
  const current = await fsp.readFile(paths.script).catch(() => null);
  // Executable by its owner only (0700), like everything else in our storage.
  if (current && current.equals(shipped)) return void tightenIfOurs(paths.script, PRIVATE_DIR);
  mkdirPrivate(path.dirname(paths.script));
  await writePrivate(paths.script, shipped, 'w', PRIVATE_DIR);
}
