import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdirPrivate, writePrivateSync } from './privateFs';

/**
 * One id per machine, the same for the extension and the CLI, across windows, store rebuilds and
 * reinstalls: the key of multi-machine sync (docs/session-model.md, "machine_id").
 *
 * In order: an explicit override (the `agentHandler.machineId` setting, `--machine-id`), then
 * `AGENT_HANDLER_MACHINE_ID` (containers and CI runners often share `/etc/machine-id`), then the
 * operating system's machine id, hashed, then an id kept in a file under the user's config folder.
 *
 * The OS id is never used as it is: like systemd's app-specific ids it is keyed with our own name
 * (HMAC-SHA256), so what we store or send cannot be matched with what other software derives from it.
 */

/** The environment variable that sets the machine id. */
export const MACHINE_ID_ENV = 'AGENT_HANDLER_MACHINE_ID';

const APP_KEY = 'agent-handler machine id v1';

export interface MachineIdOptions {
  /** An explicit id (setting or flag); blank means none. */
  override?: string | null;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
  /** Reads the OS machine id; injectable for tests. Returns null when there is none. */
  readOsId?: () => string | null;
}

/** Ids we accept as given: printable, no spaces, at most 128 characters. */
export function validMachineId(id: string): boolean {
  return /^[\x21-\x7e]{1,128}$/.test(id);
}

let cached: { key: string; id: string } | null = null;

export function machineId(options: MachineIdOptions = {}): string {
  const env = options.env ?? process.env;
  for (const given of [options.override, env[MACHINE_ID_ENV]]) {
    const id = given?.trim();
    if (id) {
      if (!validMachineId(id))
        throw new Error(`machine id "${id.slice(0, 40)}" must be 1 to 128 printable characters without spaces`);
      return id;
    }
  }
  const platform = options.platform ?? process.platform;
  const home = options.home ?? os.homedir();
  const key = `${platform}\0${home}\0${env.XDG_CONFIG_HOME ?? ''}\0${env.APPDATA ?? ''}`;
  // Asking the OS costs a process on macOS and Windows: once per process is enough.
  if (!options.readOsId && cached?.key === key) return cached.id;
  const osId = (options.readOsId ?? (() => readOsMachineId(platform)))();
  const id = osId
    ? createHmac('sha256', APP_KEY).update(osId).digest('hex').slice(0, 32)
    : fileMachineId(machineIdFile(platform, home, env));
  if (!options.readOsId) cached = { key, id };
  return id;
}

/** The operating system's own machine id, or null. */
function readOsMachineId(platform: NodeJS.Platform): string | null {
  try {
    if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
      for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id', '/etc/hostid']) {
        try {
          const id = readFileSync(file, 'utf8').trim();
          if (id && !/^0+$/.test(id)) return id;
        } catch {
          // next candidate
        }
      }
      return null;
    }
    if (platform === 'darwin') {
      const out = execFileSync('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice'], {
        encoding: 'utf8',
        timeout: 5_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(out)?.[1] ?? null;
    }
    if (platform === 'win32') {
      const out = execFileSync('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid'], {
        encoding: 'utf8',
        timeout: 5_000,
        stdio: ['ignore', 'pipe', 'ignore'],
        windowsHide: true,
      });
      return /MachineGuid\s+REG_SZ\s+(\S+)/.exec(out)?.[1] ?? null;
    }
  } catch {
    // no OS id: the file below
  }
  return null;
}

/** Where the fallback id is kept: the user's config folder, outside any store (a rebuild keeps it). */
export function machineIdFile(platform: NodeJS.Platform, home: string, env: NodeJS.ProcessEnv): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (platform === 'win32')
    return p.join(env.APPDATA || p.join(home, 'AppData', 'Roaming'), 'agent-handler', 'machine-id');
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', 'agent-handler', 'machine-id');
  return p.join(env.XDG_CONFIG_HOME || p.join(home, '.config'), 'agent-handler', 'machine-id');
}

function fileMachineId(file: string): string {
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (validMachineId(id)) return id;
  } catch {
    // not there yet
  }
  const id = randomUUID();
  try {
    mkdirPrivate(path.dirname(file));
    // 'wx': two processes starting at once keep the first one's id.
    writePrivateSync(file, `${id}\n`, 'wx');
    return id;
  } catch {
    try {
      const other = readFileSync(file, 'utf8').trim();
      if (validMachineId(other)) return other;
    } catch {
      // unwritable config folder: an id for this process only
    }
    return id;
  }
}
