// One hostile-text session in the real extension: a Claude Code transcript whose first prompt (the
// session's title) holds ANSI escapes, a bidi override, a markdown `command:` link, an HTML image
// with an onerror handler, a codicon and 1 MB more. The Sessions tree must show it as inert, cut
// plain text (no escape or bidi character, no rendered image or link), and Show Diagnostics must
// work from the palette. Screenshot: test-results/e2e/hostile-text-*.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  makeGitRepo,
  openViewContainer,
  runCommand,
  screenshot,
  startVSCode,
  tempDir,
  treeRows,
  viewPane,
  waitFor,
} from './harness.mjs';

const VSIX = path.join(REPO_ROOT, 'agent-handler.vsix');
const SESSION = '88888888-2222-4333-8444-555555555555';
const HOSTILE =
  '\u001b[31mRED\u001b[0m \u202eevil\u202c [click](command:workbench.action.terminal.new) <img src=x onerror="document.title=\'pwned\'"> $(zap) **bold**';
// What displayText makes of it (control and bidi characters dropped, whitespace collapsed).
const SHOWN_PREFIX = 'RED evil [click](command:workbench.action.terminal.new) <img src=x';

function encodeCwd(cwd) {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

describe('hostile text in the real extension', { timeout: 10 * 60_000 }, () => {
  let tmp;
  let vs;
  let workspace;
  let home;

  before(() => {
    tmp = tempDir('ah-e2e-hostile-');
    workspace = path.join(tmp, 'workspace');
    makeGitRepo(workspace, 'main');
    home = path.join(tmp, 'home');
    const dir = path.join(home, '.claude', 'projects', encodeCwd(workspace));
    fs.mkdirSync(dir, { recursive: true });
    const base = {
      parentUuid: null,
      isSidechain: false,
      userType: 'external',
      cwd: workspace,
      sessionId: SESSION,
      version: '2.1.332',
      gitBranch: 'main',
    };
    const lines = [
      {
        ...base,
        type: 'user',
        uuid: 'u-1',
        timestamp: new Date().toISOString(),
        message: { role: 'user', content: `${HOSTILE} ${'P'.repeat(1024 * 1024)}` },
      },
      {
        ...base,
        type: 'assistant',
        uuid: 'u-2',
        timestamp: new Date().toISOString(),
        requestId: 'req_hostile_e2e',
        message: {
          model: 'claude-sonnet-4-5',
          id: 'msg_hostile_e2e',
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: 'ok' }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 3, output_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
        },
      },
    ];
    fs.writeFileSync(path.join(dir, `${SESSION}.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  });

  after(async () => {
    await vs?.stop();
    if (tmp && !process.env.AGENT_HANDLER_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the session is shown as plain, cut text; nothing in it acts', async () => {
    vs = await startVSCode({ vsixPath: VSIX, home, workspace });
    const { page } = vs;
    try {
      await openViewContainer(page, 'Agent Handler');
      const row = await waitFor(async () => (await treeRows(page, 'Sessions')).find((r) => r.label.startsWith('RED')), {
        timeout: 120_000,
        message: 'the hostile session in the Sessions tree',
      });
      assert.ok(row.label.startsWith(SHOWN_PREFIX), `label: ${JSON.stringify(row.label.slice(0, 120))}`);
      assert.ok(
        // eslint-disable-next-line no-control-regex
        !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(row.label + row.ariaLabel),
        'no control or bidi character reaches the DOM',
      );
      assert.ok(row.label.length <= 120, `cut: ${row.label.length} characters`);
      const pane = viewPane(page, 'Sessions');
      assert.equal(await pane.locator('img[src="x"]').count(), 0, 'no image element from the text');
      assert.equal(await pane.locator('a[href^="command:"]').count(), 0, 'no command link from the text');
      // Hover: the tooltip renders the escaped text, not markup.
      await pane.locator('.monaco-list-row', { hasText: 'RED' }).first().hover();
      await page.waitForTimeout(1500);
      assert.equal(
        await page.locator('.monaco-hover img[src="x"], .monaco-hover a[href^="command:"]').count(),
        0,
        'the tooltip renders no image and no command link',
      );
      assert.notEqual(await page.title(), 'pwned');
      await screenshot(page, 'hostile-text-tree');
      // Diagnostics from the palette opens a plain-text report.
      await runCommand(page, 'Agent Handler: Show Diagnostics');
      await waitFor(
        async () =>
          (await page.locator('.view-lines').allTextContents())
            .join('\n')
            .replace(/\u00a0/g, ' ')
            .includes('Agent Handler diagnostics'),
        {
          timeout: 30_000,
          message: 'the Diagnostics report in an editor',
        },
      );
      await screenshot(page, 'hostile-text-diagnostics');
    } catch (err) {
      await screenshot(page, 'hostile-text-failure').catch(() => {});
      throw err;
    }
  });
});
