import { execFile } from 'node:child_process';
import { SyncClient } from '../sync/client';
import { syncErrorMessage } from '../sync/connection';
import { repoKeyOfRemote } from '../sync/repoKey';
import type { SyncModule } from './syncLink';

/**
 * The sync module as the indexing worker loads it (syncLink.ts loadBundledSyncModule): its own
 * bundle, dist/sync.js, with the PostgreSQL client inside. The worker requires it only once sync is
 * turned on, so a local-only window never parses pg.
 */

export const connect: SyncModule['connect'] = (settings) => SyncClient.connect(settings);

export const errorMessage: SyncModule['errorMessage'] = (err) => syncErrorMessage(err);

/** The repository's shared name (repoKey.ts) from its origin remote; null without one. */
export const repoKey: SyncModule['repoKey'] = (gitDir) =>
  new Promise((resolve) => {
    execFile(
      'git',
      ['--git-dir', gitDir, 'remote', 'get-url', 'origin'],
      { timeout: 10_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (err, stdout) => resolve(err ? null : repoKeyOfRemote(String(stdout).trim())),
    );
  });
