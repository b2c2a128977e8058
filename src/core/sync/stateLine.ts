import type { SyncState } from './types';

/**
 * Sync's state in one line, for the status bar's tooltip, Diagnostics and the log: what a person
 * needs to act on (the server's message, when the next try is), never the password.
 */
export function syncStateLine(s: SyncState, now = Date.now()): string {
  const who = `as ${s.machine_name || s.machine_id}`;
  const pushed = s.last_push_at ? `last push ${s.last_push_at}` : 'not pushed yet';
  const read = s.last_pull_at ? `other machines read ${s.last_pull_at}` : 'other machines not read yet';
  switch (s.state) {
    case 'off':
      return 'off';
    case 'connecting':
      return `connecting ${who}`;
    case 'ok':
      return `on ${who}; ${pushed}; ${read}${s.pending_sessions ? `; ${s.pending_sessions} session(s) waiting to be pushed` : ''}`;
    case 'error': {
      const retry = s.retry_at !== null ? `; retrying in ${Math.max(1, Math.round((s.retry_at - now) / 1000))} s` : '';
      return `error: ${s.message ?? 'unknown'}${retry} (local views are not affected)`;
    }
  }
}
