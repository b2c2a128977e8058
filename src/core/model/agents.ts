import { agentTraits } from '../sources/registry';
import type { Session } from './session';

/**
 * The model's helpers that depend on which agent a session is of, read from the traits each
 * adapter declares (src/core/sources/), so that no agent is named here.
 *
 * They live apart from session.ts on purpose: the adapters import session.ts (its types, and
 * through src/core/live/process.ts its helpers), so helpers there that read the registry would close
 * a cycle (session → registry → adapters → session). Nothing under src/core/sources/ imports this
 * file, so the dependency runs one way: model/agents → sources/registry → adapters → model/session.
 */

/** One process serves many sessions (Cursor's agent): pid liveness says nothing about one session. */
export function usesSharedProcess(s: Pick<Session, 'framework'>): boolean {
  return agentTraits(s.framework)?.sharedProcess === true;
}

/**
 * The specification's `is_amp`: the agent has no hooks at all (Amp), so what only hooks or
 * telemetry tell (live status, pid, revivals, compactions, API errors, hook and telemetry events)
 * never exists for its sessions.
 */
export function isAmp(s: Pick<Session, 'framework'>): boolean {
  return agentTraits(s.framework)?.hooks === 'none';
}
