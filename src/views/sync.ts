import type * as vscode from 'vscode';
import { syncStateLine } from '../core/sync/stateLine';
import type { SyncSettings } from '../core/sync/types';
import { registerCommand } from './apis/commands.apis';
import { showInformationMessage, showInputBox } from './apis/window.apis';
import { onDidChangeConfiguration } from './apis/workspace.apis';
import { Disposable } from './disposable';
import type { IndexClient } from './indexClient';
import type { Log } from './log';
import { syncSettings, workerSettings } from './settings';

/** The SecretStorage key of the sync password (one per machine: SecretStorage is the OS keychain's). */
export const SYNC_PASSWORD_SECRET = 'agentHandler.sync.password';

/**
 * The extension host's side of sync: sends `agentHandler.sync.*` to the worker (with the password
 * from SecretStorage, in memory only), asks for the password once when the server wants one and
 * none was given, and the Sync Now / Forget Sync Password commands. Everything else (connections,
 * pushes, reads, backoff) happens in the worker.
 */
export class SyncController extends Disposable {
  /** Asked once per window: a cancelled or failed prompt never comes back by itself (Sync Now asks again). */
  private asked = false;
  private prompting = false;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly client: IndexClient,
    private readonly log: Log,
  ) {
    super();
    this._register(onDidChangeConfiguration((e) => e.affectsConfiguration('agentHandler.sync') && void this.send()));
    this._register(
      client.onDidChangeSync(({ state, needsPassword }) => {
        if (needsPassword) void this.askPassword(false);
        if (state.state === 'error' && state.message) this.log.debug(`sync: ${syncStateLine(state)}`);
      }),
    );
    // The worker's settings from a new worker (restart) carry no password: send it again.
    this._register(
      client.onDidChangeState(() => {
        if (!client.ready) this.lastSent = '';
        else void this.send();
      }),
    );
    this._register(secrets.onDidChange((e) => e.key === SYNC_PASSWORD_SECRET && void this.send()));
    this._register(registerCommand('agentHandler.syncNow', () => this.syncNow()));
    this._register(registerCommand('agentHandler.forgetSyncPassword', () => this.forgetPassword()));
  }

  private lastSent = '';

  /** The settings with the stored password, to the worker when they differ from what it has. */
  async send(): Promise<void> {
    const settings = await this.current();
    if (!this.client.ready) return;
    const text = JSON.stringify(settings);
    // Sync never turned on: the worker is not told anything (a local-only window stays as it was).
    if (text === this.lastSent || (!settings.enabled && !this.lastSent)) return;
    this.lastSent = text;
    await this.client.query('settings', { ...workerSettings(this.log), sync: settings });
  }

  private async current(): Promise<SyncSettings> {
    const base = syncSettings();
    if (!base.enabled) return base;
    const password = await this.secrets.get(SYNC_PASSWORD_SECRET);
    return syncSettings(password);
  }

  private async askPassword(explicit: boolean): Promise<void> {
    if (this.prompting || (this.asked && !explicit)) return;
    if (await this.secrets.get(SYNC_PASSWORD_SECRET)) {
      // A stored password the worker has not received yet: sending it is the answer.
      this.lastSent = '';
      await this.send();
      if (!explicit) return;
    }
    this.asked = true;
    this.prompting = true;
    try {
      const pw = await showInputBox({
        title: 'Agent Handler: sync password',
        prompt:
          'The shared PostgreSQL asks for a password. It is kept in VS Code\u2019s secret storage, never in settings.json (Agent Handler: Forget Sync Password removes it).',
        password: true,
        ignoreFocusOut: true,
      });
      if (pw) {
        await this.secrets.store(SYNC_PASSWORD_SECRET, pw);
        this.log.info('sync: password kept in secret storage');
        this.lastSent = '';
        await this.send();
      } else {
        this.log.warn('sync waits for a password: run "Agent Handler: Sync Now" to enter it');
      }
    } finally {
      this.prompting = false;
    }
  }

  private async syncNow(): Promise<void> {
    const settings = syncSettings();
    if (!settings.enabled || !settings.postgres.trim()) {
      await showInformationMessage(
        'Sync is off: set agentHandler.sync.enabled and agentHandler.sync.postgres to share sessions across machines.',
      );
      return;
    }
    await this.send();
    let state = await this.client.query('syncNow', {});
    if (state.state === 'error' && this.client.syncNeedsPassword) {
      await this.askPassword(true);
      state = await this.client.query('syncState', {});
    }
    this.log.info(`sync now: ${syncStateLine(state)}`);
  }

  private async forgetPassword(): Promise<void> {
    await this.secrets.delete(SYNC_PASSWORD_SECRET);
    this.asked = false;
    this.log.info('sync: the stored password was removed from secret storage');
    await this.send();
    await showInformationMessage('Agent Handler: the sync password was forgotten.');
  }
}
