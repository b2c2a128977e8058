import type { Logger } from '../core/ingest/indexer';
import { type Period, parsePeriod } from '../core/period';
import { type Store } from '../core/store/store';
import { type SessionView } from '../core/store/queries';
import { checkTimeZone, systemTimeZone } from '../core/time';
import { type Args, UsageError } from './args';
import { openIndexed } from './openStore';
import { Output } from './output';
import { type TableStyle, tableWidth } from './table';

/**
 * What every command shares: standard output and error (every byte the CLI prints goes through
 * these two, see output.ts for why), the store brought up to date, and the options that shape a
 * report (time zone, period, table style).
 */

export const stdout = new Output(process.stdout, (err) => {
  void stderr.write(`agent-handler: cannot write to standard output: ${err.code ?? err.message}\n`);
  process.exitCode = 1;
});
export const stderr = new Output(process.stderr);

export const quiet: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: (m) => void stderr.write(`${m}\n`),
};

/** The store, up to date (openStore.ts). A --store a person gave is refused unless it is a store of ours. */
export async function indexed(args: Args, withSessions = false) {
  return openIndexed(args.store, args.spool, quiet, {
    withSessions,
    foreign: args.storeGiven ? 'refuse' : 'move-aside',
  });
}

export async function indexedStore(args: Args): Promise<Store> {
  return (await indexed(args)).store;
}

/** --tz, else the system's zone (which honours $TZ). */
export function zoneOf(args: Args): string {
  if (!args.tz) return systemTimeZone();
  try {
    return checkTimeZone(args.tz);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** --since / --until (core/period.ts); a bad one names its flag. */
export function periodOf(args: Args, now = Date.now()): Period {
  const bound = (flag: string, text: string | null) => {
    try {
      return parsePeriod(text, null, now).since;
    } catch (err) {
      throw new UsageError(`${flag} ${(err as Error).message}`);
    }
  };
  return { since: bound('--since', args.since), until: bound('--until', args.until) };
}

/** Colour only on a terminal, and never with NO_COLOR or --no-color. */
export function tableStyle(args: Args): TableStyle {
  return {
    width: tableWidth(args.wide, process.stdout),
    color: args.color && !process.env.NO_COLOR && !!process.stdout.isTTY,
  };
}

/** Parents first, each followed by its subagents, so the table reads as a tree. */
export function treeOrder(sessions: SessionView[]): SessionView[] {
  const byId = new Map(sessions.map((s) => [s.session_id, s]));
  const out: SessionView[] = [];
  const visit = (s: SessionView) => {
    out.push(s);
    for (const id of s.subagent_ids) {
      const c = byId.get(id);
      if (c) visit(c);
    }
  };
  for (const s of sessions) if (!s.parent_session_id || !byId.has(s.parent_session_id)) visit(s);
  return out;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
