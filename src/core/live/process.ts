import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { isProcessRunning } from '../model/session';

/**
 * Process liveness that survives pid reuse: a pid counts as the agent's process only while a process
 * with that pid exists *and* started when the agent said it did.
 */

let bootTimeMs: number | null = null;

async function linuxBootTimeMs(): Promise<number> {
  if (bootTimeMs !== null) return bootTimeMs;
  const stat = await fsp.readFile('/proc/stat', 'utf8');
  const m = /^btime (\d+)$/m.exec(stat);
  bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  return bootTimeMs;
}

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux that Node runs on in practice. */
const CLK_TCK = 100;

/** When a process started (ms since epoch), or null if there is no such process. */
export async function processStartTimeMs(pid: number): Promise<number | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === 'linux') {
    try {
      const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) may contain spaces and parentheses: fields count from the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const startTicks = Number(rest[19]); // field 22 overall
      return (await linuxBootTimeMs()) + (startTicks / CLK_TCK) * 1000;
    } catch {
      return null;
    }
  }
  if (process.platform === 'darwin') {
    return new Promise((resolve) => {
      execFile('ps', ['-o', 'lstart=', '-p', String(pid)], { timeout: 2000 }, (err, stdout) => {
        const t = err ? NaN : Date.parse(stdout.trim());
        resolve(Number.isFinite(t) ? t : null);
      });
    });
  }
  // Elsewhere the start time is not cheaply known: existence is the best we can say.
  try {
    process.kill(pid, 0);
    return -1;
  } catch {
    return null;
  }
}

/**
 * Asks the OS whether the process (pid, started at `startedAtMs`) still runs; the decision is the
 * model's isProcessRunning.
 */
export async function processRuns(pid: number, startedAtMs: number | null): Promise<boolean> {
  const startSeconds = startedAtMs === null ? null : startedAtMs / 1000;
  return isProcessRunning({ pid, process_start_time: startSeconds }, await processStartTimeMs(pid));
}
