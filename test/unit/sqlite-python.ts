/**
 * A real SQLite for tests of readers of live databases: python3's sqlite3 module (writes WAL files
 * the way every SQLite does). Not a test file itself (node --test only runs *.test.js).
 */
import { execFileSync } from 'node:child_process';

export function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import sqlite3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A `skip` value for node:test: false when python3 with sqlite3 is there, else the reason. */
export const NO_PYTHON: false | string = hasPython() ? false : 'python3 with sqlite3 is not installed';

/** Runs a python3 script with the given argv[1..]; returns its stdout. */
export function py(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
}
