// End-to-end harness: runs a packaged .vsix in a real VS Code (code-server 4.139 = VS Code 1.139
// workbench + Node extension host) and drives the workbench with playwright-core in Debian's Chromium.
// See /work/shared/e2e/RECIPE.md. Prerequisites come from scripts/e2e-prereqs.mjs (cached).
//
// DOM facts (VS Code 1.139 workbench served by code-server 4.139.1), observed with the probe test:
//  - Workbench root `.monaco-workbench`; status bar part `#workbench\.parts\.statusbar`; side bar
//    `#workbench\.parts\.sidebar`.
//  - Status bar entry (StatusBarItem created with id `probe` by extension `ahprobe.probe`):
//      <div class="statusbar-item left" id="ahprobe.probe.probe" aria-label="probe-ok, Probe tooltip">
//        <a class="statusbar-item-label disabled" role="button" aria-label="probe-ok, Probe tooltip">probe-ok</a>
//    i.e. id = `<publisher>.<name>.<item id>` (the real extension: `agent-handler.agent-handler.agentHandler.branch`),
//    aria-label = "<text>, <tooltip>" unless accessibilityInformation is set, the tooltip is a custom
//    hover (no `title` attribute), `disabled` on the <a> means the item has no command, `$(icon)` renders
//    as `<span class="codicon codicon-icon">` with no text. Ids contain dots: select with `[id="..."]`.
//    Built-in items: `status.scm.0` (git branch, text = branch name), `status.problems`, ...
//  - Activity bar item: <li class="action-item icon [checked]" role="tab" aria-selected="true|false">
//      <a class="action-label ..." aria-label="Probe Box">  (built-ins add a keybinding: "Explorer (Ctrl+Shift+E)").
//  - A view container with a single view shows "<Container>: <View>" as `.composite.title`; the view's
//    `.pane-header` gets class `hidden` but keeps `<h3 class="title">View Name</h3>`; with several
//    views each pane header is visible. Panes are `.pane` = `.pane-header` + `.pane-body`.
//  - Tree row: <div class="monaco-list-row [selected] [focused]" role="treeitem" data-index="0"
//      aria-label="alpha first" aria-level="1" aria-expanded="false" aria-setsize aria-posinset>
//      ... .monaco-tl-twistie.collapsible.collapsed ... <a class="label-name"><span class="monaco-highlighted-label">alpha</span></a>
//      <span class="label-description">first</span>
//    aria-expanded is absent on leaves; aria-label = "label description" unless accessibilityInformation
//    is set. The list is virtualized: only rows in the viewport exist; sort by data-index.
//  - Quick input: `.quick-input-widget`, input `.quick-input-box input`, rows
//    `.quick-input-list .monaco-list-row[role=option]` with aria-label = item label; the palette's rows
//    carry `.quick-input-list-entry[data-quick-input-id="<command id>"]`.
//  - Logs (code-server writes the server's and the remote extension host's logs into the user-data-dir,
//    one `<YYYYMMDDTHHMMSS>` folder per window session):
//      <user-data-dir>/logs/<ts>/exthost1/remoteexthost.log            extension host ("ExtensionService#_doActivateExtension <id>, ...")
//      <user-data-dir>/logs/<ts>/exthost1/<publisher>.<name>/<Channel>.log   LogOutputChannel (createOutputChannel(name, {log:true}))
//      <user-data-dir>/logs/<ts>/exthost1/output_logging_<ts>/<n>-<Channel>.log  plain OutputChannel
//      <user-data-dir>/logs/<ts>/remoteagent.log                       server side
//    code-server's own stdout/stderr: `serverLog` (run dir) and `$XDG_DATA_HOME/code-server/coder-logs`.
//  - globalStorageUri: <user-data-dir>/User/globalStorage/<publisher>.<name>.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePrereqs, codeServerServeArgs, freePort, httpGet, node24Env } from '../../scripts/e2e-prereqs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');

// ---------------------------------------------------------------------------------------------
// Process cleanup: every started process group is killed when this process exits, however it exits.

const liveGroups = new Map(); // pid -> description

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const cleanupDirs = new Set(); // temp dirs removed at exit (kept with AGENT_HANDLER_E2E_KEEP=1)

let exitHooksInstalled = false;
function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups.keys()) killGroup(pid, 'SIGKILL');
    for (const dir of cleanupDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        /* best effort */
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      for (const pid of liveGroups.keys()) killGroup(pid, 'SIGKILL');
      process.exit(128 + (os.constants.signals[sig] || 1));
    });
  }
}

function track(pid, what) {
  installExitHooks();
  liveGroups.set(pid, what);
}

/** SIGTERM the group, wait for it to be gone, SIGKILL after `graceMs`. */
async function stopGroup(pid, graceMs = 5000) {
  if (!pid) return;
  killGroup(pid, 'SIGTERM');
  const gone = await waitFor(() => !groupAlive(pid) && !isAlive(pid), { timeout: graceMs, interval: 100 }).then(
    () => true,
    () => false,
  );
  if (!gone) {
    killGroup(pid, 'SIGKILL');
    await waitFor(() => !groupAlive(pid), { timeout: 5000, interval: 100 }).catch(() => {});
  }
  liveGroups.delete(pid);
}

// ---------------------------------------------------------------------------------------------
// Generic helpers

/**
 * Polls `fn` until it returns a truthy value (which is returned) or the timeout passes.
 * Exceptions thrown by fn count as "not yet"; the last one is reported on timeout — except an
 * error with `fatal: true`, which is rethrown at once (e.g. "the server died, stop waiting").
 * @template T
 * @param {() => T | Promise<T>} fn
 * @param {{ timeout?: number, interval?: number, message?: string }} [opts]
 * @returns {Promise<T>}
 */
export async function waitFor(fn, { timeout = 30_000, interval = 200, message } = {}) {
  const deadline = Date.now() + timeout;
  let lastErr;
  let lastValue;
  for (;;) {
    try {
      lastValue = await fn();
      if (lastValue) return lastValue;
    } catch (err) {
      if (err?.fatal === true) throw err;
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastErr ? `; last error: ${lastErr.message}` : `; last value: ${safeJson(lastValue)}`;
      throw new Error(`waitFor timed out after ${timeout} ms${message ? ` (${message})` : ''}${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

function safeJson(v) {
  try {
    return JSON.stringify(v)?.slice(0, 500);
  } catch {
    return String(v);
  }
}

function stamp() {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Runs a command synchronously; throws with its output on failure. Returns stdout. */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Environment passed to code-server: the machine's, minus anything that would leak real agent data. */
function baseEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(CLAUDE|CODEX|ANTHROPIC|OPENAI|GEMINI|VSCODE_|ELECTRON_|NODE_TEST|npm_|GIT_|XDG_)/i.test(key))
      delete env[key];
  }
  delete env.NODE_OPTIONS;
  delete env.NODE_CHANNEL_FD;
  return env;
}

// ---------------------------------------------------------------------------------------------
// VS Code

export const DEFAULT_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'git.openRepositoryInParentFolders': 'always',
  'git.autofetch': false,
  'git.confirmSync': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'editor.accessibilitySupport': 'off',
  'accessibility.signalOptions.volume': 0,
  'files.autoSave': 'off',
};

/**
 * Installs `vsixPath` into a fresh (or given) profile, starts code-server on a free port, opens
 * the workspace in Chromium and waits for the workbench.
 *
 * @param {object} o
 * @param {string} [o.vsixPath]      packaged extension to install (omit to install nothing)
 * @param {string} [o.home]          HOME of code-server and the extension host (default: a fresh temp dir)
 * @param {Record<string,string|undefined>} [o.env]  extra env for code-server (undefined deletes a key)
 * @param {string} o.workspace       folder to open
 * @param {string} [o.userDataDir]   reuse a user-data-dir (restart scenarios); default fresh temp dir
 * @param {string} [o.extensionsDir] reuse an extensions dir; default fresh temp dir
 * @param {Record<string,unknown>} [o.settings] merged over DEFAULT_SETTINGS into User/settings.json
 * @param {{width:number,height:number}} [o.viewport] default 1400x900
 * @param {number} [o.timeout]       ms for startup (default 120000)
 * @returns {Promise<{ page: import('playwright-core').Page, browser: import('playwright-core').Browser,
 *   url: string, port: number, userDataDir: string, extensionsDir: string, logsDir: string,
 *   home: string, workspace: string, runDir: string, serverLog: string,
 *   stop: () => Promise<void> }>}
 */
export async function startVSCode(o) {
  const { node24, codeServerEntry, chromium: chromiumPath } = await ensurePrereqs();
  if (!o?.workspace) throw new Error('startVSCode: workspace is required');
  const timeout = o.timeout ?? 120_000;
  const runDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ah-e2e-run-'));
  // Removed when the test process exits (not by stop(): a restart may reuse its user-data-dir).
  installExitHooks();
  if (!process.env.AGENT_HANDLER_E2E_KEEP) cleanupDirs.add(runDir);
  const userDataDir = o.userDataDir ?? path.join(runDir, 'user-data');
  const extensionsDir = o.extensionsDir ?? path.join(runDir, 'extensions');
  const home = o.home ?? path.join(runDir, 'home');
  const workspace = path.resolve(o.workspace);
  await Promise.all([userDataDir, extensionsDir, home].map((d) => fsp.mkdir(d, { recursive: true })));

  // User settings (merged over an existing file when the user-data-dir is reused).
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  await fsp.mkdir(path.dirname(settingsFile), { recursive: true });
  let existing = {};
  try {
    existing = JSON.parse(await fsp.readFile(settingsFile, 'utf8'));
  } catch {
    /* none yet */
  }
  await fsp.writeFile(
    settingsFile,
    JSON.stringify({ ...DEFAULT_SETTINGS, ...existing, ...(o.settings || {}) }, null, 2),
  );

  const env = {
    ...node24Env(baseEnv()),
    HOME: home,
    XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg-data'),
  };
  delete env.npm_config_nodedir;
  for (const [k, v] of Object.entries(o.env || {})) {
    if (v === undefined) delete env[k];
    else env[k] = String(v);
  }
  const configFile = path.join(runDir, 'code-server.yaml');
  await fsp.writeFile(configFile, 'auth: none\ncert: false\n');
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (o.vsixPath) {
    const r = spawnSync(
      node24,
      [codeServerEntry, ...common, '--install-extension', path.resolve(o.vsixPath), '--force'],
      {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0 || !/successfully installed/i.test(out)) {
      throw new Error(`installing ${o.vsixPath} failed (exit ${r.status}):\n${out}`);
    }
  }

  const port = await freePort();
  const serverLog = path.join(runDir, 'code-server.log');
  const logFd = fs.openSync(serverLog, 'a');
  const server = spawn(node24, [codeServerEntry, ...common, ...codeServerServeArgs(port), workspace], {
    env,
    cwd: workspace,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  track(server.pid, 'code-server');
  let serverExit = null;
  server.on('exit', (code, signal) => (serverExit = { code, signal }));

  let browser = null;
  let browserServer = null;
  let browserPid = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const withTimeout = (p) => Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
    if (browser) {
      const b = browser;
      browser = null;
      await withTimeout(b.close());
    }
    if (browserServer) {
      const s = browserServer;
      browserServer = null;
      await withTimeout(s.close());
    }
    if (browserPid) {
      await stopGroup(browserPid, 2000);
      browserPid = null;
    }
    await stopGroup(server.pid, 5000);
  };

  try {
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
    await waitFor(
      async () => {
        if (serverExit)
          throw Object.assign(new Error(`code-server exited ${safeJson(serverExit)}:\n${readTail(serverLog)}`), {
            fatal: true,
          });
        const res = await httpGet(`http://127.0.0.1:${port}/healthz`, 2000).catch(() => null);
        return res && res.status === 200;
      },
      { timeout, interval: 200, message: `code-server on port ${port}` },
    ).catch((err) => {
      throw new Error(`${err.message}\n--- code-server log ---\n${readTail(serverLog)}`);
    });

    const { chromium } = await import('playwright-core');
    // launchServer (not launch) because only a BrowserServer exposes the browser's process in
    // playwright-core 1.65, and we kill what we start by pid.
    browserServer = await chromium.launchServer({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--disable-dev-shm-usage',
      ],
    });
    browserPid = browserServer.process()?.pid ?? null;
    if (browserPid) track(browserPid, 'chromium');
    browser = await chromium.connect(browserServer.wsEndpoint());
    const context = await browser.newContext({
      viewport: o.viewport ?? { width: 1400, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
    await page.waitForSelector('.monaco-workbench', { timeout });
    await page.waitForSelector('#workbench\\.parts\\.statusbar', { state: 'visible', timeout });
    // The workbench is interactive once the activity bar has its items.
    await page.waitForSelector('.activitybar .action-item a.action-label', { timeout });
    return {
      page,
      get browser() {
        return browser;
      },
      url,
      port,
      userDataDir,
      extensionsDir,
      logsDir: path.join(userDataDir, 'logs'),
      home,
      workspace,
      runDir,
      serverLog,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function readTail(file, n = 4000) {
  try {
    return fs.readFileSync(file, 'utf8').slice(-n);
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// UI helpers

/** Closes any open quick input (Escape) and makes sure focus is in the workbench. */
export async function dismissQuickInput(page) {
  const widget = page.locator('.quick-input-widget');
  if (await widget.isVisible().catch(() => false)) {
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
  }
}

/**
 * Runs a command through the command palette (F1), by its exact title as shown in the palette
 * ("Category: Title"). Waits until the palette lists a row with that exact label and selects it.
 * @param {import('playwright-core').Page} page
 * @param {string} title
 * @param {{ timeout?: number }} [opts]
 */
export async function runCommand(page, title, { timeout = 20_000 } = {}) {
  await dismissQuickInput(page);
  const widget = page.locator('.quick-input-widget');
  await waitFor(
    async () => {
      if (!(await widget.isVisible())) await page.keyboard.press('F1');
      await widget.waitFor({ state: 'visible', timeout: 2000 });
      return true;
    },
    { timeout, interval: 300, message: 'command palette opens' },
  );
  const input = widget.locator('.quick-input-box input');
  await input.fill(`>${title}`);
  const row = await waitFor(
    async () => {
      const rows = widget.locator('.quick-input-list .monaco-list-row');
      const n = await rows.count();
      for (let i = 0; i < n; i++) {
        const r = rows.nth(i);
        const label = (
          await r
            .locator('.label-name')
            .first()
            .textContent()
            .catch(() => '')
        )?.trim();
        if (label === title) return r;
      }
      return null;
    },
    { timeout, interval: 200, message: `command "${title}" in the palette` },
  );
  await row.click();
  // The palette closes (or turns into the command's own quick input).
  await waitFor(async () => !(await widget.isVisible()) || !(await input.inputValue()).startsWith('>'), {
    timeout: 5000,
    interval: 100,
    message: 'command palette closes',
  });
}

/**
 * Answers an open quick input (a command's showQuickPick/showInputBox).
 * If `itemLabel` is given, clicks the row with that label; if `text` is given, types it and presses Enter.
 * @param {import('playwright-core').Page} page
 * @param {{ itemLabel?: string, text?: string, timeout?: number }} opts
 */
export async function answerQuickInput(page, { itemLabel, text, timeout = 10_000 }) {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout });
  if (text !== undefined) {
    await widget.locator('.quick-input-box input').fill(text);
  }
  if (itemLabel !== undefined) {
    const row = await waitFor(
      async () => {
        const rows = widget.locator('.quick-input-list .monaco-list-row');
        const n = await rows.count();
        for (let i = 0; i < n; i++) {
          const label = (
            await rows
              .nth(i)
              .locator('.label-name')
              .first()
              .textContent()
              .catch(() => '')
          )?.trim();
          if (label === itemLabel) return rows.nth(i);
        }
        return null;
      },
      { timeout, message: `quick pick item "${itemLabel}"` },
    );
    await row.click();
  } else {
    await page.keyboard.press('Enter');
  }
}

/** Items currently listed by the open quick input: [{ label, description, ariaLabel }]. */
export async function quickInputItems(page) {
  return page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (rows) =>
    rows.map((r) => ({
      label: r.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: r.querySelector('.label-description')?.textContent?.trim() ?? '',
      ariaLabel: r.getAttribute('aria-label') ?? '',
    })),
  );
}

/**
 * Opens a view container by clicking its activity bar item (aria-label contains the substring).
 * Does nothing if it is already the visible container.
 */
export async function openViewContainer(page, ariaLabelSubstring, { timeout = 20_000 } = {}) {
  const item = page
    .locator(`.activitybar .action-item a.action-label[aria-label*="${cssString(ariaLabelSubstring)}"]`)
    .first();
  await item.waitFor({ state: 'visible', timeout });
  const li = item.locator('xpath=..');
  const checked = async () =>
    (await li.getAttribute('aria-selected')) === 'true' || /\bchecked\b/.test((await li.getAttribute('class')) || '');
  if (!(await checked())) await item.click();
  await waitFor(checked, { timeout, message: `view container "${ariaLabelSubstring}" opens` });
}

function cssString(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * Locator of a view pane in the side bar / panel by its title (case-insensitive, as in `h3.title`).
 * Without a title: the first visible pane of the side bar.
 */
export function viewPane(page, viewTitle) {
  if (!viewTitle) return page.locator('#workbench\\.parts\\.sidebar .pane').first();
  const re = new RegExp(`^\\s*${viewTitle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i');
  return page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header h3.title', { hasText: re }) })
    .first();
}

/**
 * Rows currently rendered in a tree view (virtualized: only rows in the viewport are rendered).
 * @returns {Promise<Array<{ label: string, description: string, level: number, expanded: boolean | undefined,
 *   ariaLabel: string, selected: boolean, focused: boolean, index: number }>>}
 */
export async function treeRows(page, viewTitle) {
  const pane = viewPane(page, viewTitle);
  const rows = await pane.locator('.monaco-list-rows > .monaco-list-row').evaluateAll((els) =>
    els.map((r) => {
      const exp = r.getAttribute('aria-expanded');
      return {
        label: (
          r.querySelector('.label-name')?.textContent ??
          r.querySelector('.monaco-highlighted-label')?.textContent ??
          ''
        ).trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
        level: Number(r.getAttribute('aria-level') || 0),
        expanded: exp === null ? undefined : exp === 'true',
        ariaLabel: r.getAttribute('aria-label') ?? '',
        selected: r.classList.contains('selected') || r.getAttribute('aria-selected') === 'true',
        focused: r.classList.contains('focused'),
        index: Number(r.getAttribute('data-index') ?? -1),
      };
    }),
  );
  return rows.sort((a, b) => a.index - b.index);
}

/** Locator of the tree row whose label is exactly `label`. */
export function treeRow(page, label, viewTitle) {
  const re = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  return viewPane(page, viewTitle)
    .locator('.monaco-list-rows > .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: re }) })
    .first();
}

/**
 * Finds a status bar item, either by its DOM id (`<publisher>.<name>.<item id>`, or just the
 * suffix `<item id>`) or by the text it shows. Returns null if none is rendered.
 * @returns {Promise<null | { id: string, text: string, ariaLabel: string, hasCommand: boolean, visible: boolean }>}
 */
export async function statusBarItem(page, idOrText) {
  return page.$$eval(
    '#workbench\\.parts\\.statusbar .statusbar-item',
    (items, key) => {
      const pick = (el) => {
        const a = el.querySelector('.statusbar-item-label') || el;
        const style = getComputedStyle(el);
        return {
          id: el.id,
          text: (a.textContent || '').replace(/\s+/g, ' ').trim(),
          ariaLabel: a.getAttribute('aria-label') || el.getAttribute('aria-label') || '',
          hasCommand: !a.classList.contains('disabled'),
          visible: style.display !== 'none' && style.visibility !== 'hidden' && el.offsetWidth > 0,
        };
      };
      const all = items.map((el) => ({ el, info: pick(el) }));
      const hit =
        all.find((x) => x.info.id === key) ||
        all.find((x) => x.info.id.endsWith('.' + key)) ||
        all.find((x) => x.info.text === key) ||
        all.find((x) => x.info.text.includes(key));
      return hit ? hit.info : null;
    },
    idOrText,
  );
}

/** All status bar items, left to right: [{ id, text, ariaLabel, hasCommand, visible }]. */
export async function statusBarItems(page) {
  return page.$$eval('#workbench\\.parts\\.statusbar .statusbar-item', (items) =>
    items.map((el) => {
      const a = el.querySelector('.statusbar-item-label') || el;
      return {
        id: el.id,
        text: (a.textContent || '').replace(/\s+/g, ' ').trim(),
        ariaLabel: a.getAttribute('aria-label') || el.getAttribute('aria-label') || '',
        hasCommand: !a.classList.contains('disabled'),
        visible: el.offsetWidth > 0,
      };
    }),
  );
}

/** Notification toasts currently shown: [{ message, source }]. */
export async function notifications(page) {
  return page.$$eval(
    '.notifications-toasts .notification-toast, .notifications-center .notification-list-item',
    (els) =>
      els.map((el) => ({
        message: (el.querySelector('.notification-list-item-message')?.textContent || '').trim(),
        source: (el.querySelector('.notification-list-item-source')?.textContent || '').trim(),
      })),
  );
}

/**
 * Runs a step against the window; when it fails, keeps a screenshot and the extension's log under
 * test-results/e2e/<name>-failure.* before the failure goes on.
 */
export async function withFailureShot(vs, name, fn) {
  try {
    await fn(vs.page);
  } catch (err) {
    await screenshot(vs.page, `${name}-failure`).catch(() => {});
    try {
      fs.writeFileSync(
        path.join(RESULTS_DIR, `${name}-failure.log`),
        await readOutputLog(vs.userDataDir, 'Agent Handler'),
      );
    } catch {
      /* best effort */
    }
    throw err;
  }
}

/** Saves a full-window PNG to test-results/e2e/<name>.png and returns its path. */
export async function screenshot(page, name) {
  await fsp.mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---------------------------------------------------------------------------------------------
// Logs

async function listFiles(dir) {
  const out = [];
  async function walk(d) {
    let entries;
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  }
  await walk(dir);
  return out;
}

/** Log files under <userDataDir>/logs, newest session first then by path. */
export async function logFiles(userDataDir) {
  const files = await listFiles(path.join(userDataDir, 'logs'));
  return files.sort((a, b) => b.localeCompare(a));
}

/**
 * Text of the extension host log(s) (`remoteexthost.log` for code-server, `exthost.log` for
 * desktop), all sessions concatenated oldest first. '' if none yet.
 */
export async function readExtensionHostLog(userDataDir) {
  const files = (await logFiles(userDataDir)).filter((f) => /(^|[\\/])(remote)?exthost\.log$/.test(f)).reverse();
  const texts = await Promise.all(files.map((f) => fsp.readFile(f, 'utf8').catch(() => '')));
  return texts.join('\n');
}

/**
 * Text of an output channel's log file(s), all sessions concatenated oldest first ('' if none yet).
 * Matches `.../<extension id>/<channelName>.log` (LogOutputChannel) and
 * `.../output_logging_*\/<n>-<channelName>.log` (plain OutputChannel).
 */
export async function readOutputLog(userDataDir, channelName) {
  const files = (await outputLogFiles(userDataDir, channelName)).reverse();
  const texts = await Promise.all(files.map((f) => fsp.readFile(f, 'utf8').catch(() => '')));
  return texts.join('\n');
}

/** Paths of an output channel's log files, newest session first. */
export async function outputLogFiles(userDataDir, channelName) {
  const base = `${channelName}.log`;
  return (await logFiles(userDataDir)).filter((f) => {
    const name = path.basename(f);
    return name === base || (/output_logging_/.test(f) && /^\d+-/.test(name) && name.replace(/^\d+-/, '') === base);
  });
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/**
 * Creates a git repository in `dir` with one commit on `branch` (checked out) and `extraBranches`
 * pointing at the same commit.
 * @returns {{ dir: string, branch: string, head: string }}
 */
export function makeGitRepo(dir, branch = 'main', extraBranches = []) {
  fs.mkdirSync(dir, { recursive: true });
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  const git = (...args) => sh('git', args, { cwd: dir, env });
  git('init', '-q', '-b', branch);
  git('config', 'user.name', 'Agent Handler E2E');
  git('config', 'user.email', 'e2e@agent-handler.invalid');
  git('config', 'commit.gpgsign', 'false');
  if (!fs.existsSync(path.join(dir, 'README.md'))) fs.writeFileSync(path.join(dir, 'README.md'), '# e2e fixture\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial commit');
  for (const b of extraBranches) git('branch', b);
  return { dir, branch, head: git('rev-parse', 'HEAD').trim() };
}

/** A fresh temp dir (removed by the caller, e.g. in an after() hook). */
export function tempDir(prefix = 'ah-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export { stamp };
