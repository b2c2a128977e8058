import { promises as fsp } from 'node:fs';
import { hasCodexNotify } from './hooks/codexNotify';
import { hookTargets, isInstalled } from './hooks/install';
import type { ServiceState } from './ingest/protocol';
import type { Diagnostics } from './store/queries';
import { syncStateLine } from './sync/stateLine';
import type { SyncState } from './sync/types';
import { adapterFor } from './sources/registry';
import { displayText } from './text';

/**
 * The Diagnostics report as plain text, for a bug report: what was found where, what was skipped
 * and why, and how this window indexes. Pure, so the command, the CLI and the tests share it.
 * Paths and skip reasons come from the file system and transcripts: sanitized like any label.
 */

/** How many files with skipped lines are listed (the count of all of them is given). */
export const DIAGNOSTICS_SKIP_FILES = 10;

export interface HookState {
  displayName: string;
  file: string;
  installed: boolean;
}

/** Whether Agent Handler's hooks are in each agent's settings file (read only, never written). */
export async function hooksState(home: string, env: Record<string, string | undefined>): Promise<HookState[]> {
  const out: HookState[] = [];
  for (const t of hookTargets(home, env)) {
    const text = await fsp.readFile(t.file, 'utf8').catch(() => null);
    const installed = text !== null && (t.layout === 'toml-notify' ? hasCodexNotify(text) : isInstalled(text, t));
    out.push({ displayName: t.displayName, file: t.file, installed });
  }
  return out;
}

export function formatDiagnostics(
  d: Diagnostics &
    Partial<ServiceState> & {
      search_index?: { documents: number; text_bytes: number; index_bytes: number };
      sync?: SyncState;
    },
  extra: { version?: string; now?: Date; hooks?: HookState[] } = {},
): string {
  const agent = (id: string) => adapterFor(id)?.displayName ?? id;
  const size = d.store_size_bytes != null ? `${(d.store_size_bytes / 1e6).toFixed(2)} MB` : 'not saved yet';
  const lines = [
    `Agent Handler diagnostics${extra.version ? ` (version ${extra.version})` : ''}, ${(extra.now ?? new Date()).toISOString()}`,
    '',
    `Index role:      ${d.role ?? 'n/a'}`,
    `Store:           ${d.store_file ?? 'n/a'} (${size}; schema ${d.schema_version ?? '?'}, parser ${d.parser_version ?? '?'}; opened: ${d.store_outcome ?? '?'})`,
    `Watcher:         ${d.watcher_mode ?? 'n/a'}`,
    `Last full scan:  ${d.last_scan_at ?? 'not yet'}${d.last_scan_ms != null ? ` (${d.last_scan_ms} ms)` : ''}`,
    `Price data:      ${d.price_data ?? 'n/a'}`,
    `Search index:    ${
      d.search_index
        ? `${d.search_index.documents} texts, ${(d.search_index.text_bytes / 1e6).toFixed(2)} MB of text (deflated), ${(d.search_index.index_bytes / 1e6).toFixed(2)} MB of index`
        : 'n/a'
    }`,
    `Hooks:           ${
      !extra.hooks
        ? 'not checked'
        : extra.hooks.some((h) => h.installed)
          ? `installed for ${extra.hooks
              .filter((h) => h.installed)
              .map((h) => h.displayName)
              .join(', ')}`
          : 'not installed'
    }`,
    `Telemetry:       ${telemetryLine(d.telemetry_receiver)}`,
    // Only once sync was turned on in this window: a local-only report is what it always was.
    ...(d.sync ? [`Sync:            ${syncStateLine(d.sync, extra.now?.getTime())}`] : []),
    `Totals:          ${d.files} files (${d.files_deleted} no longer on disk), ${d.sessions} sessions, ${d.requests} counted requests, ${d.lines_skipped} malformed lines skipped`,
    '',
    'Roots per agent:',
    ...(d.roots?.length
      ? d.roots.map((r) => `  ${agent(r.framework)}: ${displayText(r.root, 400)}${r.exists ? '' : ' (not present)'}`)
      : ['  (none yet)']),
    '',
    'Files and sessions per agent:',
    ...(d.per_agent.length
      ? d.per_agent.map(
          (a) => `  ${agent(a.framework)}: ${a.files} files (${a.files_deleted} gone), ${a.sessions} sessions`,
        )
      : ['  (none)']),
    '',
    `Files with skipped lines (${d.files_with_skips.length}${d.files_with_skips.length >= 50 ? '+' : ''}):`,
    ...(d.files_with_skips.length
      ? d.files_with_skips
          .slice(0, DIAGNOSTICS_SKIP_FILES)
          .map(
            (f) =>
              `  ${displayText(f.path, 400)}: ${f.skipped_lines} skipped (last: ${displayText(f.last_skip_reason ?? 'unknown', 200)})`,
          )
      : ['  none']),
    ...(d.files_with_skips.length > DIAGNOSTICS_SKIP_FILES
      ? [`  …and ${d.files_with_skips.length - DIAGNOSTICS_SKIP_FILES} more`]
      : []),
    '',
    'Models without a price:',
    ...(d.unpriced_models.length
      ? d.unpriced_models.map((m) => `  ${displayText(m.model, 200)}: ${m.requests} request(s)`)
      : ['  none']),
  ];
  return `${lines.join('\n')}\n`;
}

/** The receiver's line: what it took and what it refused, by reason (never a header's value). */
function telemetryLine(r: ServiceState['telemetry_receiver'] | undefined): string {
  if (!r) return 'receiver not running in this window';
  const refusals = Object.entries(r.refused)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  return `receiver on 127.0.0.1:${r.port}: ${r.logs} log requests (${r.events} events), ${r.other} other; refused: ${
    refusals.length ? refusals.join(', ') : 'none'
  }`;
}
