// End-to-end: sync across machines through a shared PostgreSQL (issue 18), in the packaged extension.
//
// A throwaway PostgreSQL cluster (scripts/postgres.mjs) holds a second machine's rows: the CLI
// (`agent-handler sync --machine-id other --machine-name ci-runner`) pushes them from a second HOME
// whose transcript worked on the same repository (same GitHub remote, another folder) and branch.
// code-server then opens this machine's workspace with sync on, pointed at the same database (the
// password from PGPASSWORD, not settings.json). Every wait is a condition poll.
//
// claude-opus-5-5 costs $4/M input and $20/M output (genai-prices):
//   this machine ("laptop"), feature/a: 1000 in + 100 out = 1100 tok, $0.006
//   ci-runner,               feature/a: 2000 in + 200 out = 2200 tok, $0.012
//   both machines:                                            3300 tok, $0.018 → "$0.02"

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres } from '../../scripts/postgres.mjs';
import {
  REPO_ROOT,
  makeGitRepo,
  openViewContainer,
  screenshot,
  sh,
  startVSCode,
  statusBarItem,
  tempDir,
  treeRows,
  waitFor,
  withFailureShot,
} from './harness.mjs';

const VSIX = path.join(REPO_ROOT, 'agent-handler.vsix');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const STATUS_ITEM_ID = 'agent-handler.agent-handler.agentHandler.branch';
const LOCAL_SESSION = '5f000000-0000-4000-8000-000000000001';
const CI_SESSION = '5f000000-0000-4000-8000-000000000002';
const REMOTE_URL = 'https://github.com/acme/widgets.git';

const EXPECT = {
  text: 'feature/a · 3.3K tok · $0.02',
  aria: 'Agent Handler: branch feature/a, 3300 tokens, $0.02, 2 sessions, 2 machines',
  localOnlyAria: 'Agent Handler: branch feature/a, 1100 tokens, $0.0060, 1 sessions',
};

function record(session, cwd, ts, rest) {
  return {
    parentUuid: null,
    isSidechain: false,
    userType: 'external',
    cwd,
    sessionId: session,
    version: '2.1.332',
    gitBranch: 'feature/a',
    uuid: `${session}-${ts}`,
    timestamp: ts,
    ...rest,
  };
}

/** One Claude Code session in `home` that worked in `cwd` on feature/a: a prompt and one answer. */
function writeTranscript(home, cwd, session, id, input, output) {
  const dir = path.join(home, '.claude', 'projects', cwd.replace(/[^A-Za-z0-9]/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const lines = [
    record(session, cwd, '2026-11-24T10:00:00.000Z', { type: 'user', message: { role: 'user', content: 'build a' } }),
    record(session, cwd, '2026-11-24T10:01:00.000Z', {
      type: 'assistant',
      requestId: `req_${id}`,
      message: {
        model: 'claude-opus-5-5',
        id: `msg_${id}`,
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: 'ok' }],
        stop_reason: 'end_turn',
        usage: {
          input_tokens: input,
          output_tokens: output,
          cache_read_input_tokens: 0,
          cache_creation_input_tokens: 0,
        },
      },
    }),
  ];
  fs.writeFileSync(path.join(dir, `${session}.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

function repoWithRemote(dir) {
  makeGitRepo(dir, 'feature/a', ['main']);
  sh('git', ['remote', 'add', 'origin', REMOTE_URL], {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
  });
}

let tmp;
let pg;
let vs;

describe('sync across machines in VS Code (packaged .vsix, real PostgreSQL)', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    if (!fs.existsSync(VSIX)) sh('npm', ['run', 'package'], { cwd: REPO_ROOT });
    tmp = tempDir('ah-e2e-sync-');
    pg = await startPostgres();
    const db = await pg.createDatabase('sync_e2e');
    // The URL without its password: the extension gets it from PGPASSWORD, as a user's shell would give it.
    const url = new URL(db);
    const password = decodeURIComponent(url.password);
    url.password = '';

    // The other machine: its own HOME, its own clone of the same repository, pushed by the CLI.
    const ciHome = path.join(tmp, 'ci-home');
    const ciClone = path.join(tmp, 'ci', 'widgets');
    repoWithRemote(ciClone);
    writeTranscript(ciHome, ciClone, CI_SESSION, 'ci1', 2000, 200);
    const ciEnv = {
      ...process.env,
      HOME: ciHome,
      XDG_CONFIG_HOME: path.join(ciHome, '.config'),
      XDG_CACHE_HOME: path.join(ciHome, '.cache'),
    };
    delete ciEnv.AGENT_HANDLER_MACHINE_ID;
    delete ciEnv.CLAUDE_CONFIG_DIR;
    delete ciEnv.NODE_TEST_CONTEXT;
    sh(process.execPath, [CLI, 'sync', '--postgres', db, '--machine-id', 'other', '--machine-name', 'ci-runner'], {
      cwd: ciClone,
      env: ciEnv,
    });

    // This machine: the workspace, on feature/a, with its own session there.
    const home = path.join(tmp, 'home');
    const workspace = path.join(tmp, 'workspace');
    repoWithRemote(workspace);
    writeTranscript(home, workspace, LOCAL_SESSION, 'l1', 1000, 100);
    // The sync settings are per machine (scope `machine`): code-server's window is a remote one, so
    // they live in the server's Machine settings, as they would on a Remote-SSH box.
    const userDataDir = path.join(tmp, 'user-data');
    fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
    fs.writeFileSync(
      path.join(userDataDir, 'Machine', 'settings.json'),
      JSON.stringify({
        'agentHandler.sync.enabled': true,
        'agentHandler.sync.postgres': url.toString(),
        'agentHandler.sync.machineName': 'laptop',
      }),
    );
    vs = await startVSCode({
      vsixPath: VSIX,
      home,
      workspace,
      userDataDir,
      env: { PGPASSWORD: password, AGENT_HANDLER_MACHINE_ID: 'laptop-e2e' },
      settings: { 'agentHandler.pullRequests.useGhCli': false },
    });
  });

  after(async () => {
    await vs?.stop();
    await pg?.stop();
    if (tmp && !process.env.AGENT_HANDLER_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  test("the status bar shows both machines' total for the workspace branch, and its tooltip names both", () =>
    withFailureShot(vs, 'sync-1-status-bar', async (page) => {
      const item = await waitFor(
        async () => {
          const it = await statusBarItem(page, STATUS_ITEM_ID);
          return it?.ariaLabel === EXPECT.aria && it;
        },
        { timeout: 90_000, interval: 200, message: `status bar "${EXPECT.aria}"` },
      );
      assert.equal(item.text, EXPECT.text);
      await page.locator(`[id="${STATUS_ITEM_ID}"]`).hover();
      const hover = await waitFor(
        async () => {
          const text = await page
            .locator('.monaco-hover')
            .first()
            .textContent()
            .catch(() => '');
          return /Across 2 machines/.test(text ?? '') && text;
        },
        { timeout: 15_000, message: 'the tooltip splits the total per machine' },
      );
      assert.match(hover, /ci-runner/);
      assert.match(hover, /laptop \(this machine\)/);
      await screenshot(page, 'sync-1-status-bar-tooltip');
    }));

  test('the Sessions tree has an "Other machines" group with ci-runner and its session', () =>
    withFailureShot(vs, 'sync-2-tree', async (page) => {
      await page.keyboard.press('Escape');
      await openViewContainer(page, 'Agent Handler');
      const rows = await waitFor(
        async () => {
          const r = await treeRows(page, 'Sessions');
          return r.some((x) => x.label === 'Other machines') && r;
        },
        { timeout: 30_000, message: 'the tree lists "Other machines"' },
      );
      const others = rows.find((x) => x.label === 'Other machines');
      assert.equal(others.description, '1 machine');
      await screenshot(page, 'sync-2-other-machines');
    }));
});
