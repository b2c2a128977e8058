/**
 * A child process for the private-files test: with the umask given as argv[3] (a umask is per
 * process, and inherited by the processes it starts), it does what the extension and the CLI do
 * on a first run under the root folder argv[2]:
 *   - the extension: its storage folder made ours, the hook script installed, a full index by the
 *     IndexService (writer lease, store, saved session list) with the telemetry receiver on (its
 *     endpoint and token files), one OTLP request accepted into the telemetry spool, one hook line
 *     appended to the hook spool by media/hook-spool.js, then a stop (the last save);
 *   - the CLI (dist/cli.js, in processes of its own with this umask): `sessions --json` twice (a
 *     scan, then the scan manifest), `export --out` to a new file and to an existing one.
 * The parent then checks the mode of every path written.
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { refreshHookScript } from '../../src/core/hooks/hookScript';
import { IndexService } from '../../src/core/ingest/service';
import { readEndpointPort } from '../../src/core/live/otlp';
import { readToken, tokenFileFor } from '../../src/core/live/receiverGuard';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';
import { claimPrivateDir } from '../../src/core/privateFs';
import { REPO_ROOT } from '../unit/helpers';
import { agentHeaders, rawPost } from '../unit/rawHttp';

export interface ChildLayout {
  home: string;
  /** The extension's global storage folder (ours). */
  storage: string;
  /** XDG_CACHE_HOME: exists before, not ours; the CLI's folder `agent-handler` in it is. */
  cache: string;
  /** XDG_CONFIG_HOME (the machine id's fallback file, when the OS has no machine id). */
  config: string;
  /** A folder of the user's, where exports are written. */
  out: string;
}

export function layout(root: string): ChildLayout {
  return {
    home: path.join(root, 'home'),
    storage: path.join(root, 'globalStorage', 'agent-handler.agent-handler'),
    cache: path.join(root, 'cache'),
    config: path.join(root, 'config'),
    out: path.join(root, 'out'),
  };
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

async function main(): Promise<void> {
  const [root, mask] = process.argv.slice(2);
  process.umask(parseInt(mask, 8));
  const l = layout(root);
  const env = { HOME: l.home, XDG_CACHE_HOME: l.cache, XDG_CONFIG_HOME: l.config };
  Object.assign(process.env, env);

  // The extension's activation (src/extension.ts).
  const spoolDir = path.join(l.storage, 'spool');
  claimPrivateDir(l.storage);
  claimPrivateDir(spoolDir);
  const endpointFile = path.join(l.storage, 'otlp-endpoint.json');
  const script = path.join(l.storage, 'hook-spool.js');
  await refreshHookScript(REPO_ROOT, { script, spoolDir });
  const svc = new IndexService(
    {
      storeFile: path.join(l.storage, 'index.sqlite'),
      env: {},
      home: l.home,
      spoolDir,
      telemetry: { enabled: true, endpointFile },
      agents: { extraRoots: {}, disabled: [] },
      pricing: { overrides: {}, refresh: false },
      status: DEFAULT_STATUS_SETTINGS,
      rescanIntervalMs: 60_000,
    },
    () => undefined,
    { info: () => undefined, warn: () => undefined, error: (m) => process.stderr.write(`${m}\n`) },
  );
  await svc.start();
  await svc.query('refresh', {});
  must(svc.state().role === 'writer', 'the service is the writer');

  // An agent's telemetry, and an agent's hook.
  const port = await readEndpointPort(endpointFile);
  const token = await readToken(tokenFileFor(endpointFile));
  must(port > 0 && token !== null, 'the receiver wrote its endpoint and token');
  const body = JSON.stringify({
    resourceLogs: [
      {
        scopeLogs: [
          {
            logRecords: [
              {
                attributes: [
                  { key: 'event.name', value: { stringValue: 'api_request' } },
                  { key: 'session.id', value: { stringValue: 'private-files' } },
                ],
              },
            ],
          },
        ],
      },
    ],
  });
  const res = await rawPost(port, '/v1/logs', agentHeaders(port, token!), body);
  must(res.status === 200, `telemetry accepted (${res.status} ${res.body})`);
  const hook = spawnSync(process.execPath, [script, spoolDir, 'claude'], {
    input: JSON.stringify({ session_id: 'private-files', hook_event_name: 'Stop' }),
  });
  must(hook.status === 0, 'the hook script ran');
  await svc.query('refresh', {});
  await svc.stop();

  // The CLI, as a user runs it.
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    must(r.status === 0, `agent-handler ${args.join(' ')}: ${r.status} ${r.stderr}`);
    return r.stdout;
  };
  cli('sessions', '--json', '--spool', spoolDir);
  cli('sessions', '--json', '--spool', spoolDir);
  cli('export', '--format', 'csv', '--out', path.join(l.out, 'new.csv'));
  cli('export', '--format', 'json', '--out', path.join(l.out, 'existing.json'));
  must((await fsp.readFile(path.join(l.out, 'existing.json'), 'utf8')).startsWith('['), 'the export replaced the file');
  process.send?.({ type: 'done' });
}

// Run as the child only: the test imports layout() from here.
if (require.main === module)
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
