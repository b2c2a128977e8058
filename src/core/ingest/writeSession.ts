import type { AgentEvent, LiveEvent } from '../model/events';
import { type FileState, foldEvents } from '../model/reducer';
import { type PriceOverrides, priceRequest } from '../pricing';
import type { DiscoveredFile, SourceAdapter } from '../sources/types';
import { addFileDetails } from '../store/details';
import { type FileProgress, saveFileProgress } from '../store/files';
import { applyLiveEvents } from '../store/live';
import { type PricedUsageRow, upsertUsage } from '../store/requests';
import { writeSessionFromFile } from '../store/sessions';
import type { Store } from '../store/store';
import type { SettleBatch } from './settle';

/** What writing a file's session needs besides the store: the user's price overrides and this machine's id. */
export interface WriteContext {
  overrides: PriceOverrides;
  machineId: string | null;
}

/** What a read leaves for the next one (the file's stamp, where it stopped, what it skipped); the rest of FileProgress is the session's. */
export type ReadProgress = Omit<FileProgress, 'state' | 'resumable' | 'session_id'>;

/**
 * Folds a file's new events into its session's state (the reducer) and writes what they gave, in
 * one transaction: the requests, priced; the details (texts, tool calls, errors); the file's
 * progress; its session's row. Live facts (hook spool, telemetry) are about sessions other files
 * own: kept apart, never folded in. Adds what the settling must look at to `batch`.
 */
export function writeSession(
  store: Store,
  ctx: WriteContext,
  adapter: SourceAdapter,
  file: DiscoveredFile,
  fileId: number,
  state: FileState,
  events: AgentEvent[],
  batch: SettleBatch,
  progress: ReadProgress,
  fileHasRows: boolean,
): void {
  const live = events.filter((e): e is LiveEvent => e.kind === 'live');
  const usage = foldEvents(state, live.length ? events.filter((e) => e.kind !== 'live') : events);
  const sessionId = state.session_id ?? file.session_id;
  state.session_id = sessionId;
  store.transaction(() => {
    if (live.length) for (const s of applyLiveEvents(store, fileId, live)) batch.liveSessions.add(s);
    if (sessionId && usage.length) {
      const priced: PricedUsageRow[] = usage.map((u) => {
        const p = priceRequest({
          framework: adapter.id,
          model: u.model,
          provider: u.provider,
          vendor_cost_usd: u.vendor_cost_usd,
          request_count: u.request_count,
          speed: u.speed,
          tokens: u.tokens,
          ts: u.ts,
          overrides: ctx.overrides,
        });
        return { ...u, cost_usd: p.cost_usd, priced: p.priced, price_rule: p.rule };
      });
      for (const k of upsertUsage(store, fileId, sessionId, priced, fileHasRows)) batch.keys.add(k);
    }
    if (sessionId) addFileDetails(store, fileId, sessionId, events);
    saveFileProgress(store, fileId, {
      ...progress,
      state,
      resumable: adapter.format === 'lines',
      session_id: sessionId,
    });
    writeSessionFromFile(store, fileId, adapter.id, file.root, file.path, state, ctx.machineId);
  });
  if (sessionId) batch.sessions.add(sessionId);
}
