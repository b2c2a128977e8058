import type * as vscode from 'vscode';
import type { SearchHit } from '../core/store/search';
import { formatAgo, oneLine } from '../core/text';
import { createQuickPick } from './apis/window.apis';
import { getConfiguration } from './apis/workspace.apis';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { agentLabel } from './model/labels';

interface HitItem extends vscode.QuickPickItem {
  hit?: SearchHit;
}

const KIND_LABEL: Record<SearchHit['kind'], string> = { title: 'title', prompt: 'prompt', assistant: 'answer' };

/** How often an open search asks again while the index is still being filled. */
const INDEXING_POLL_MS = 1000;

/**
 * "Search Sessions…": a quick pick whose items are the worker's full-text results for what is typed
 * (debounced; a late answer to an older query is dropped). Items are `alwaysShow` so the quick
 * pick's own fuzzy filter never hides what the index found, and `matchOnDetail` so it highlights
 * the typed words in the excerpt (quick pick items have no API to set highlights directly).
 */
export async function searchSessions(client: IndexClient, log: Log): Promise<string | undefined> {
  const qp = createQuickPick<HitItem>();
  qp.title = 'Search Sessions';
  qp.placeholder = 'Words from a prompt, a title or an answer';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  (qp as { sortByLabel?: boolean }).sortByLabel = false;
  let timer: NodeJS.Timeout | undefined;
  let seq = 0;
  let closed = false;
  const run = async (text: string) => {
    const mine = ++seq;
    // One letter matches nearly every text: wait for a second one.
    if (text.trim().length < 2) {
      qp.items = [];
      qp.busy = false;
      return;
    }
    qp.busy = true;
    try {
      const includeAssistantText = getConfiguration('agentHandler.search').get<boolean>('includeAssistantText', true);
      const [hits, progress] = await Promise.all([
        client.query('search', { text, includeAssistantText, limit: 50 }),
        client.query('searchProgress', {}),
      ]);
      if (mine !== seq) return;
      const now = Date.now();
      // The index is filled after the numbers (by the worker, when idle): until it holds every text,
      // say how far it is, and ask again while the box stays open.
      const indexing: HitItem[] = progress.complete
        ? []
        : [
            {
              label: `$(sync~spin) Indexing for search: ${Math.floor((100 * progress.indexed) / Math.max(1, progress.texts))}%`,
              description: 'results so far; more as the index fills',
              alwaysShow: true,
            },
          ];
      if (!progress.complete && !closed) {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void run(qp.value), INDEXING_POLL_MS);
      }
      qp.items = hits.length
        ? [
            ...indexing,
            ...hits.map((h) => ({
              label: oneLine(h.title ?? h.session_id, 80),
              description: [agentLabel(h.framework), h.git_branch, formatAgo(h.last_activity, now)]
                .filter(Boolean)
                .join(' · '),
              detail: `${KIND_LABEL[h.kind]}: ${h.excerpt}`,
              alwaysShow: true,
              hit: h,
            })),
          ]
        : [
            ...indexing,
            {
              label: progress.complete ? 'No session matches' : 'No session matches yet',
              description: text,
              alwaysShow: true,
            },
          ];
    } catch (err) {
      log.error(`search failed: ${(err as Error).message}`);
    } finally {
      if (mine === seq) qp.busy = false;
    }
  };
  qp.onDidChangeValue((v) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(v), 120);
  });
  const picked = await new Promise<SearchHit | undefined>((resolve) => {
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0]?.hit);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  closed = true;
  if (timer) clearTimeout(timer);
  qp.dispose();
  return picked?.session_id;
}
