import type * as Pg from 'pg';
import type { Store } from '../store/store';
import { trackChanges } from './changes';
import { connect, describeTarget, parseConnection } from './connection';
import { type PushOptions, type PushResult, push } from './push';
import * as remote from './remote';
import { checkReadable, migrate } from './schema';
import type { MachineRef, RemoteSession, SharedTotals, SyncSettings } from './types';

/**
 * One connection to the shared database and everything done over it: the one object the CLI and
 * the extension's worker hold (docs/sync.md). Reads need only SELECT; `push` migrates the schema
 * first (once per client) and needs a role that may write.
 */
export class SyncClient {
  private migrated = false;
  private readable = false;

  private constructor(
    readonly pg: Pg.Client,
    readonly settings: SyncSettings,
    /** `user@host:port/db`: for messages, never the password. */
    readonly target: string,
  ) {}

  /** Opens the connection (throws what syncErrorMessage explains: unreachable, credentials, ...). */
  static async connect(settings: SyncSettings): Promise<SyncClient> {
    const target = describeTarget(parseConnection(settings.postgres));
    return new SyncClient(await connect(settings), settings, target);
  }

  /** What tracks this machine's changes for this database in the local store (changes.ts). */
  get trackingTarget(): string {
    return `${this.target}|${this.settings.machineId}`;
  }

  /** Creates or upgrades the tables (idempotent; safe when two machines do it at once). */
  async migrate(): Promise<number[]> {
    const applied = await migrate(this.pg);
    this.migrated = true;
    this.readable = true;
    return applied;
  }

  private async forReading(): Promise<void> {
    if (this.readable) return;
    await checkReadable(this.pg);
    this.readable = true;
  }

  /**
   * Pushes this machine's changed sessions (push.ts). Starts change tracking in the store the first
   * time (every session marked); the store's owner persists the marks like any other write.
   */
  async push(store: Store, options: Partial<PushOptions> = {}): Promise<PushResult> {
    if (!this.migrated) await this.migrate();
    trackChanges(store, this.trackingTarget);
    return push(this.pg, store, {
      machineId: this.settings.machineId,
      machineName: this.settings.machineName,
      include: this.settings.include,
      ...options,
    });
  }

  async branchTotals(repo: string, branch: string, thisMachineId = this.settings.machineId): Promise<SharedTotals> {
    await this.forReading();
    return remote.branchTotals(this.pg, repo, branch, thisMachineId);
  }

  async prTotals(
    repo: string,
    number: number,
    headBranch: string | null,
    thisMachineId = this.settings.machineId,
  ): Promise<SharedTotals> {
    await this.forReading();
    return remote.prTotals(this.pg, repo, number, headBranch, thisMachineId);
  }

  /** The counted requests of a PR grouped per machine, session and model (the Markdown report's rows). */
  async prGroups(repo: string, number: number, headBranch: string | null): Promise<remote.RequestGroup[]> {
    await this.forReading();
    return remote.requestGroups(this.pg, remote.prFilter(repo, number, headBranch));
  }

  async prHeadBranch(repo: string, number: number): Promise<string | null> {
    await this.forReading();
    return remote.prHeadBranch(this.pg, repo, number);
  }

  async otherSessions(thisMachineId = this.settings.machineId, limit?: number): Promise<RemoteSession[]> {
    await this.forReading();
    return remote.otherSessions(this.pg, thisMachineId, limit);
  }

  async machines(): Promise<MachineRef[]> {
    await this.forReading();
    return remote.machines(this.pg);
  }

  async dailyByMachine(sinceIso: string, timeZone?: string): Promise<remote.MachineDay[]> {
    await this.forReading();
    return remote.dailyByMachine(this.pg, sinceIso, timeZone);
  }

  /** Sessions of this machine the shared database holds (what was pushed). */
  async pushedSessionCount(): Promise<number> {
    await this.forReading();
    const r = await this.pg.query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE machine_id = $1', [
      this.settings.machineId,
    ]);
    return Number(r.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pg.end().catch(() => undefined);
  }
}
