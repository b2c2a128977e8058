import type { SessionView } from '../core/store/queries';
import { waitingSessions } from '../core/grouping';
import { executeCommand } from './apis/commands.apis';
import { showWarningMessage } from './apis/window.apis';
import { getConfiguration } from './apis/workspace.apis';
import { Disposable } from './disposable';
import type { Log } from './log';
import { agentLabel } from './model/labels';
import type { SessionsTree } from './sessionsTree';
import type { BranchStatusBar } from './statusBar';

/**
 * Needs you: the sessions waiting for the person. Their count goes on the Sessions view's badge and
 * the status bar (warning background while any waits), and a session that starts waiting raises a
 * notification (setting `agentHandler.notifyWhenWaiting`) with actions to show or open it.
 */
export class NeedsYou extends Disposable {
  /** Waiting sessions at the last load, with the moment their wait started. */
  private waiting = new Map<string, string | null>();
  private first = true;

  constructor(
    private readonly tree: SessionsTree,
    private readonly statusBar: BranchStatusBar,
    private readonly log: Log,
  ) {
    super();
    this._register(tree.onDidLoad((sessions) => this.update(sessions)));
  }

  private update(sessions: SessionView[]): void {
    const now = waitingSessions(sessions);
    this.tree.view.badge = now.length
      ? { value: now.length, tooltip: `${now.length} session${now.length === 1 ? '' : 's'} waiting for you` }
      : undefined;
    this.statusBar.setWaiting(now.length);
    const next = new Map(now.map((s) => [s.session_id, s.status_updated_at]));
    // Sessions already waiting when the window opened are in the tree and the badge; only new waits notify.
    if (!this.first && getConfiguration('agentHandler').get<boolean>('notifyWhenWaiting', true)) {
      for (const s of now) {
        if (this.waiting.has(s.session_id) && this.waiting.get(s.session_id) === s.status_updated_at) continue;
        void this.notify(s);
      }
    }
    this.first = false;
    this.waiting = next;
  }

  private async notify(s: SessionView): Promise<void> {
    const title = s.title ?? s.session_id;
    const why = s.waiting_for ? `: ${s.waiting_for}` : '';
    this.log.info(`session ${s.session_id} waits for you${why}`);
    const actions = ['Show', ...(s.transcript_available && s.transcript_path ? ['Open Transcript'] : [])];
    // Plain-text message (no markdown is rendered in notifications): transcript text cannot inject links.
    const picked = await showWarningMessage(
      `${agentLabel(s.framework)} session "${title}" is waiting for you${why}`,
      ...actions,
    );
    const node = this.tree.nodeFor(s.session_id);
    if (picked === 'Show' && node) await this.tree.view.reveal(node, { select: true, focus: true });
    if (picked === 'Open Transcript' && node) await executeCommand('agentHandler.openTranscript', node);
  }
}
