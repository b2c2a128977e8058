import * as path from 'node:path';
import type { AgentTraits, DefaultPath, DefaultPaths, SourceEnv } from './types';

/**
 * Where an agent's config roots are: what every adapter's `roots()` shares. The adapter reads its
 * own environment variables (each agent gives them its own meaning) and hands the folders over;
 * this adds its default folders on the OS and the user's extra roots, resolved, each once.
 */

/** The OS the roots are for: the one asked for, else this one. */
function platformOf(e: SourceEnv): NodeJS.Platform {
  return e.platform ?? process.platform;
}

/** The `path` module of the OS the roots are for (a Windows root is built with `\` even when a test runs on Linux). */
export function osPath(e: SourceEnv): path.PlatformPath {
  return platformOf(e) === 'win32' ? path.win32 : path.posix;
}

/** A folder an environment variable names (trimmed, absolute), or null when it is unset or blank. */
export function envFolder(e: SourceEnv, name: string): string | null {
  const value = e.env[name]?.trim();
  return value ? osPath(e).resolve(value) : null;
}

/** The agent's default folders on the OS, in order, each base resolved (the XDG defaults when unset). */
export function defaultRoots(defaults: DefaultPaths, e: SourceEnv): string[] {
  const platform = platformOf(e);
  const list = platform === 'win32' ? defaults.win32 : platform === 'darwin' ? defaults.darwin : defaults.linux;
  return list.map((entry) => resolveDefault(entry, e));
}

function resolveDefault(entry: DefaultPath, e: SourceEnv): string {
  const p = osPath(e);
  const [base, ...rest] = entry.split(/[\\/]/);
  return p.join(baseFolder(base, e), ...rest);
}

function baseFolder(base: string, e: SourceEnv): string {
  const p = osPath(e);
  switch (base) {
    case '~':
    case '%USERPROFILE%':
      return e.home;
    case '$XDG_CONFIG_HOME':
      return envFolder(e, 'XDG_CONFIG_HOME') ?? p.join(e.home, '.config');
    case '$XDG_DATA_HOME':
      return envFolder(e, 'XDG_DATA_HOME') ?? p.join(e.home, '.local', 'share');
    default:
      // DefaultPath's type admits no other base.
      throw new Error(`unknown base folder ${base}`);
  }
}

/** Folders an adapter's environment variables name (null for an unset one), by where they go among its roots. */
export interface FoldersFromEnv {
  /** Folders that move the agent's root (`CODEX_HOME`): read first, in order of precedence. */
  overrides?: readonly (string | null)[];
  /** Folders older versions of the agent used: read after the defaults. */
  legacy?: readonly (string | null)[];
}

/**
 * An adapter's config roots: the folders its environment names, its default folders on the OS, the
 * older versions' folders, then the folders the user added for it
 * (`agentHandler.agents.<agent>.extraRoots`), each once.
 */
export function agentRoots(
  e: SourceEnv,
  agent: { readonly id: string; readonly traits: Pick<AgentTraits, 'defaultPaths'> },
  fromEnv: FoldersFromEnv = {},
): string[] {
  const p = osPath(e);
  const roots: string[] = [];
  for (const dir of fromEnv.overrides ?? []) if (dir) roots.push(dir);
  roots.push(...defaultRoots(agent.traits.defaultPaths, e));
  for (const dir of fromEnv.legacy ?? []) if (dir) roots.push(dir);
  for (const extra of e.extraRoots?.[agent.id] ?? []) roots.push(p.resolve(extra));
  return [...new Set(roots)];
}
