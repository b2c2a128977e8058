import type { SessionStatus } from './model/session';
import type { SessionView } from './store/queries';

/** A filter of the Sessions view: every set part must hold. */
export interface SessionFilter {
  agents?: string[];
  statuses?: SessionStatus[];
  /** Active within this many days (last activity). */
  days?: number;
  /** Case-insensitive substring of the title, prompts, branch, folder or id. */
  text?: string;
}

export function isEmptyFilter(f: SessionFilter): boolean {
  return !f.agents?.length && !f.statuses?.length && !f.days && !f.text?.trim();
}

function matches(s: SessionView, f: SessionFilter, now: number): boolean {
  if (f.agents?.length && !f.agents.includes(s.framework)) return false;
  if (f.statuses?.length && !f.statuses.includes(s.status)) return false;
  if (f.days) {
    const t = s.last_activity ? Date.parse(s.last_activity) : NaN;
    if (!(now - t <= f.days * 86_400_000)) return false;
  }
  const text = f.text?.trim().toLowerCase();
  if (text) {
    const hay = [s.title, s.first_user_message, s.last_user_message, s.git_branch, s.cwd, s.session_id]
      .filter(Boolean)
      .join('\n')
      .toLowerCase();
    if (!hay.includes(text)) return false;
  }
  return true;
}

/**
 * The sessions a filter keeps: those that match, with their parents (so a matching subagent is shown
 * where it belongs) and all subagents of a matching parent.
 */
export function filterSessions(sessions: SessionView[], f: SessionFilter, now: number): SessionView[] {
  if (isEmptyFilter(f)) return sessions;
  const byId = new Map(sessions.map((s) => [s.session_id, s]));
  const keep = new Set<string>();
  const addWithChildren = (s: SessionView) => {
    if (keep.has(s.session_id)) return;
    keep.add(s.session_id);
    for (const c of s.subagent_ids) {
      const child = byId.get(c);
      if (child) addWithChildren(child);
    }
  };
  for (const s of sessions) {
    if (!matches(s, f, now)) continue;
    addWithChildren(s);
    for (
      let p = s.parent_session_id ? byId.get(s.parent_session_id) : undefined;
      p && !keep.has(p.session_id);
      p = p.parent_session_id ? byId.get(p.parent_session_id) : undefined
    ) {
      keep.add(p.session_id);
    }
  }
  return sessions.filter((s) => keep.has(s.session_id));
}

/** "Claude Code, busy, 7 days, “parser”" for the view's description. */
export function describeFilter(f: SessionFilter, agentName: (id: string) => string): string {
  const parts: string[] = [];
  if (f.agents?.length) parts.push(f.agents.map(agentName).join('+'));
  if (f.statuses?.length) parts.push(f.statuses.join('+'));
  if (f.days) parts.push(f.days === 1 ? 'today' : `${f.days} days`);
  if (f.text?.trim()) parts.push(`“${f.text.trim()}”`);
  return parts.join(', ');
}
