#!/usr/bin/env node
// `npm start`: package the extension and open it in a VS Code.
//   1. `npm run package` -> agent-handler.vsix
//   2. With a desktop `code` on PATH: `code --install-extension agent-handler.vsix --force` and `code <folder>`.
//      Otherwise: code-server (installed on demand by scripts/e2e-prereqs.mjs, cached) with a persistent
//      profile under <cache>/start-profile/{extensions,user-data}, listening on 127.0.0.1:${PORT:-free port},
//      opening the folder; runs in the foreground until Ctrl+C.
// The folder is the one `npm start` was run from (INIT_CWD), else the current directory.
// Options: --no-package (skip step 1), --no-desktop (use code-server even if `code` exists).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, ensurePrereqs, codeServerServeArgs, freePort, httpGet, node24Env, run } from './e2e-prereqs.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VSIX = path.join(REPO_ROOT, 'agent-handler.vsix');
const args = process.argv.slice(2);
const folder = path.resolve(process.env.INIT_CWD || process.cwd());

function say(msg) {
  process.stderr.write(`[start] ${msg}\n`);
}

function findOnPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^npm_|^NODE_TEST/.test(k)) delete env[k];
  delete env.INIT_CWD;
  return env;
}

async function main() {
  if (!args.includes('--no-package')) {
    say('packaging: npm run package');
    await run('npm', ['run', 'package'], { cwd: REPO_ROOT });
  }
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} not found (did npm run package fail?)`);

  const code = args.includes('--no-desktop') ? null : findOnPath('code');
  if (code) {
    say(`desktop VS Code found: ${code}`);
    await run(code, ['--install-extension', VSIX, '--force']);
    await run(code, [folder]);
    say(`opened ${folder} in VS Code with ${path.basename(VSIX)} installed`);
    return;
  }

  say('no desktop `code` on PATH: using code-server (installed on first use, then cached)');
  const { node24, codeServerEntry } = await ensurePrereqs({ chromium: false });
  const profile = path.join(cacheRoot(), 'start-profile');
  const extensionsDir = path.join(profile, 'extensions');
  const userDataDir = path.join(profile, 'user-data');
  await fsp.mkdir(extensionsDir, { recursive: true });
  await fsp.mkdir(path.join(userDataDir, 'User'), { recursive: true });
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  if (!fs.existsSync(settingsFile)) {
    await fsp.writeFile(
      settingsFile,
      JSON.stringify(
        {
          'telemetry.telemetryLevel': 'off',
          'workbench.startupEditor': 'none',
          'security.workspace.trust.enabled': false,
          'git.openRepositoryInParentFolders': 'always',
          'extensions.autoCheckUpdates': false,
          'extensions.autoUpdate': false,
          'update.mode': 'none',
        },
        null,
        2,
      ),
    );
  }
  const configFile = path.join(profile, 'code-server.yaml');
  if (!fs.existsSync(configFile)) await fsp.writeFile(configFile, 'auth: none\ncert: false\n');

  const env = cleanEnv();
  const n24env = node24Env(env);
  delete n24env.npm_config_nodedir;
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  say(`installing ${path.basename(VSIX)} into ${extensionsDir}`);
  await run(node24, [codeServerEntry, ...common, '--install-extension', VSIX, '--force'], { env: n24env });

  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad PORT: ${process.env.PORT}`);
  const logFile = path.join(profile, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  const server = spawn(node24, [codeServerEntry, ...common, ...codeServerServeArgs(port), folder], {
    env: n24env,
    cwd: folder,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  let exited = null;
  const exitPromise = new Promise((resolve) =>
    server.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  const killServer = (signal) => {
    try {
      process.kill(-server.pid, signal);
    } catch {
      /* gone */
    }
  };
  process.on('exit', () => {
    if (!exited) killServer('SIGKILL');
  });

  let stopping = false;
  const shutdown = async (sig) => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping code-server (pid ${server.pid})`);
    killServer('SIGTERM');
    const timer = setTimeout(() => killServer('SIGKILL'), 5000);
    await exitPromise;
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  // Wait for the port to answer (poll; code-server prints nothing useful for a person anyway).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited (${JSON.stringify(exited)}); log: ${logFile}\n${tail(logFile)}`);
    const res = await httpGet(`http://127.0.0.1:${port}/healthz`, 2000).catch(() => null);
    if (res?.status === 200) break;
    if (Date.now() > deadline)
      throw new Error(`code-server did not answer on port ${port}; log: ${logFile}\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
  const bar = '='.repeat(Math.max(60, url.length + 4));
  process.stdout.write(
    `\n${bar}\n  Agent Handler is running in VS Code (code-server):\n\n  ${url}\n\n  folder: ${folder}\n  log:    ${logFile}\n  Press Ctrl+C to stop.\n${bar}\n\n`,
  );

  const result = await exitPromise;
  if (!stopping) {
    say(`code-server exited on its own (${JSON.stringify(result)}); log: ${logFile}`);
    process.exit(result.code ?? 1);
  }
}

function tail(file) {
  try {
    return fs.readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

main().catch((err) => {
  say(`FAILED: ${err.stack || err}`);
  process.exit(1);
});
