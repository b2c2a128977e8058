// Proves the e2e harness works, independently of the real extension: a throwaway extension is
// written to a temp dir at test time, packaged with vsce, installed into code-server and driven in
// Chromium. Skip with AGENT_HANDLER_E2E_SKIP_PROBE=1.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  makeGitRepo,
  openViewContainer,
  readExtensionHostLog,
  readOutputLog,
  runCommand,
  screenshot,
  sh,
  startVSCode,
  statusBarItem,
  tempDir,
  treeRow,
  treeRows,
  waitFor,
} from './harness.mjs';

const skip = process.env.AGENT_HANDLER_E2E_SKIP_PROBE === '1' ? 'AGENT_HANDLER_E2E_SKIP_PROBE=1' : false;

const PROBE_ID = 'ahprobe.probe';

function writeProbeExtension(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const pkg = {
    name: 'probe',
    displayName: 'Probe',
    description: 'Throwaway extension proving the Agent Handler e2e harness',
    publisher: 'ahprobe',
    version: '0.0.1',
    license: 'MIT',
    engines: { vscode: '^1.90.0' },
    main: './extension.js',
    activationEvents: ['onStartupFinished'],
    contributes: {
      commands: [{ command: 'probe.hello', title: 'Hello', category: 'Probe' }],
      viewsContainers: { activitybar: [{ id: 'probeBox', title: 'Probe Box', icon: 'media/probe.svg' }] },
      views: { probeBox: [{ id: 'probe.items', name: 'Probe Items' }] },
    },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  fs.writeFileSync(path.join(dir, 'README.md'), '# Probe\n\nThrowaway extension for the e2e harness smoke test.\n');
  fs.mkdirSync(path.join(dir, 'media'));
  fs.writeFileSync(
    path.join(dir, 'media', 'probe.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24"><circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" stroke-width="2"/></svg>\n',
  );
  fs.writeFileSync(
    path.join(dir, 'extension.js'),
    `const vscode = require('vscode');
exports.activate = function (context) {
  const log = vscode.window.createOutputChannel('Probe', { log: true });
  context.subscriptions.push(log);
  const item = vscode.window.createStatusBarItem('probe', vscode.StatusBarAlignment.Left, 100);
  item.name = 'Probe';
  item.text = '$(beaker) probe-ok';
  item.tooltip = 'Probe tooltip';
  item.show();
  context.subscriptions.push(item);
  const tree = {
    getChildren(el) {
      if (!el) return ['alpha', 'beta'];
      if (el === 'alpha') return ['alpha-1', 'alpha-2'];
      return [];
    },
    getTreeItem(el) {
      const ti = new vscode.TreeItem(el, el === 'alpha' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      ti.description = { alpha: 'first', beta: 'second' }[el] || '';
      return ti;
    },
  };
  context.subscriptions.push(vscode.window.registerTreeDataProvider('probe.items', tree));
  context.subscriptions.push(vscode.commands.registerCommand('probe.hello', () => {
    item.text = '$(beaker) probe-hello';
    log.info('hello command ran in ' + (vscode.workspace.workspaceFolders || []).map((f) => f.uri.fsPath).join(','));
  }));
  const plain = vscode.window.createOutputChannel('Probe Plain');
  context.subscriptions.push(plain);
  plain.appendLine('plain channel activated');
  require('fs').mkdirSync(context.globalStorageUri.fsPath, { recursive: true });
  require('fs').writeFileSync(require('path').join(context.globalStorageUri.fsPath, 'probe.txt'), 'ok');
  log.info('activated with HOME=' + process.env.HOME);
};
exports.deactivate = function () {};
`,
  );
}

function packageProbe(dir) {
  const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const out = path.join(dir, 'probe.vsix');
  sh(
    process.execPath,
    [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out],
    {
      cwd: dir,
      env: { ...process.env, npm_config_yes: 'true' },
    },
  );
  assert.ok(fs.existsSync(out), 'vsce produced probe.vsix');
  return out;
}

describe('e2e harness smoke test (probe extension)', { skip, timeout: 20 * 60_000 }, () => {
  let tmp;
  let vsix;
  let workspace;
  let home;
  let vscode; // current session
  let userDataDir;
  let extensionsDir;

  before(() => {
    tmp = tempDir('ah-e2e-probe-');
    const extDir = path.join(tmp, 'probe-ext');
    writeProbeExtension(extDir);
    vsix = packageProbe(extDir);
    workspace = path.join(tmp, 'workspace');
    makeGitRepo(workspace, 'feature/e2e-probe', ['main', 'other']);
    home = path.join(tmp, 'home');
    fs.mkdirSync(home);
  });

  after(async () => {
    await vscode?.stop();
    if (tmp && !process.env.AGENT_HANDLER_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('installs the vsix, activates it and shows its UI', async () => {
    vscode = await startVSCode({ vsixPath: vsix, home, workspace, env: { PROBE_MARKER: '1' } });
    ({ userDataDir, extensionsDir } = vscode);
    const { page } = vscode;
    try {
      // Status bar item: DOM id is `<publisher>.<name>.<item id>`.
      const item = await waitFor(
        async () => {
          const it = await statusBarItem(page, 'probe');
          return it?.text === 'probe-ok' && it;
        },
        { timeout: 60_000, message: 'probe status bar item' },
      );
      assert.equal(item.id, `${PROBE_ID}.probe`);
      assert.equal(item.visible, true);
      assert.equal((await statusBarItem(page, `${PROBE_ID}.probe`))?.text, 'probe-ok');

      // LogOutputChannel file.
      const logText = await waitFor(
        async () => {
          const t = await readOutputLog(userDataDir, 'Probe');
          return t.includes('activated') && t;
        },
        { timeout: 30_000, message: 'Probe output log says activated' },
      );
      assert.match(logText, new RegExp(`activated with HOME=${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await waitFor(async () => (await readOutputLog(userDataDir, 'Probe Plain')).includes('plain channel activated'), {
        timeout: 30_000,
        message: 'plain output channel log',
      });
      assert.ok(
        fs.existsSync(path.join(userDataDir, 'User', 'globalStorage', PROBE_ID, 'probe.txt')),
        'globalStorageUri location',
      );
      const exthost = await waitFor(
        async () => {
          const t = await readExtensionHostLog(userDataDir);
          return t.includes(PROBE_ID) && t;
        },
        { timeout: 30_000, message: 'extension host log mentions the probe' },
      );
      assert.match(exthost, /ahprobe\.probe/);

      // Built-in git extension sees the workspace repository and its branch.
      await waitFor(async () => (await statusBarItem(page, 'feature/e2e-probe')) !== null, {
        timeout: 60_000,
        message: 'git branch in status bar',
      });

      // Tree view in its own activity bar container.
      await openViewContainer(page, 'Probe Box');
      const rows = await waitFor(
        async () => {
          const r = await treeRows(page, 'Probe Items');
          return r.length === 2 && r;
        },
        { timeout: 30_000, message: 'probe tree rows' },
      );
      assert.deepEqual(
        rows.map(({ label, description, level, expanded }) => ({ label, description, level, expanded })),
        [
          { label: 'alpha', description: 'first', level: 1, expanded: false },
          { label: 'beta', description: 'second', level: 1, expanded: undefined },
        ],
      );
      await treeRow(page, 'alpha', 'Probe Items').click();
      const expanded = await waitFor(
        async () => {
          const r = await treeRows(page, 'Probe Items');
          return r.length === 4 && r;
        },
        { timeout: 15_000, message: 'alpha expands' },
      );
      assert.deepEqual(
        expanded.map((r) => [r.label, r.level, r.expanded]),
        [
          ['alpha', 1, true],
          ['alpha-1', 2, undefined],
          ['alpha-2', 2, undefined],
          ['beta', 1, undefined],
        ],
      );

      // Command palette.
      await runCommand(page, 'Probe: Hello');
      await waitFor(async () => (await statusBarItem(page, `${PROBE_ID}.probe`))?.text === 'probe-hello', {
        timeout: 15_000,
        message: 'command changed the status bar item',
      });
      await waitFor(
        async () => (await readOutputLog(userDataDir, 'Probe')).includes(`hello command ran in ${workspace}`),
        {
          timeout: 15_000,
          message: 'command logged',
        },
      );

      const shot = await screenshot(page, 'smoke-probe');
      assert.ok(fs.statSync(shot).size > 10_000, 'screenshot written');
    } catch (err) {
      await screenshot(page, 'smoke-probe-failure').catch(() => {});
      throw err;
    }
  });

  test('restarts with the same user-data-dir', async () => {
    assert.ok(vscode, 'first test started VS Code');
    await vscode.stop();
    vscode = await startVSCode({ home, workspace, userDataDir, extensionsDir });
    const { page } = vscode;
    // Installed extension survives, activates again, and a second log session appears.
    await waitFor(async () => (await statusBarItem(page, 'probe'))?.text === 'probe-ok', {
      timeout: 60_000,
      message: 'probe status bar item after restart',
    });
    await waitFor(async () => (await readOutputLog(userDataDir, 'Probe')).match(/activated/g)?.length >= 2, {
      timeout: 30_000,
      message: 'second activation logged',
    });
    await screenshot(page, 'smoke-probe-restart');
  });
});
