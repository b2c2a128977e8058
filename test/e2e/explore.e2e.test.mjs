// End-to-end tests of search and the dashboard in the packaged extension (real VS Code through
// code-server + Chromium, see harness.mjs). Fixture: the real Claude Code 2.1.332 transcripts with
// their cwd rewritten to a git workspace on `feature/fake-model`, and the 2.1.197 ones elsewhere.
// Every wait is a condition poll. Screenshots go to test-results/e2e/ (the README's: npm run screenshots).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  dismissQuickInput,
  makeGitRepo,
  openViewContainer,
  quickInputItems,
  runCommand,
  screenshot,
  sh,
  startVSCode,
  tempDir,
  treeRows,
  waitFor,
  withFailureShot,
} from './harness.mjs';

const VSIX = path.join(REPO_ROOT, 'agent-handler.vsix');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'claude');
const RECORDED_CWD = '/home/dev/agent/work/repo-claude-2.1.332';
const PROJECT_332 = '-home-dev-agent-work-repo-claude-2-1-332';
const BRANCH = 'feature/fake-model';
const DELEGATE = 'please delegate this to a subagent';
const DELEGATE_ID = '3f810603-0856-4734-bc5d-451c3608d6f2';
const SAY_HI = 'say hi';
// From extension.e2e.test.mjs (worked by hand there): every request on the branch, subagent
// included: $0.2511792; "say hi" $0.115185; "please delegate…" with its subagent $0.1359942.
const BRANCH_COST = '$0.25';
const DELEGATE_COST = '$0.14';
const SAY_HI_COST = '$0.12';

function buildFixtureHome(home, workspace) {
  const projects = path.join(home, '.claude', 'projects');
  fs.mkdirSync(projects, { recursive: true });
  fs.cpSync(path.join(FIXTURES, '2.1.332', 'projects'), projects, { recursive: true });
  fs.cpSync(path.join(FIXTURES, '2.1.197', 'projects'), projects, { recursive: true });
  for (const rel of fs.readdirSync(projects, { recursive: true })) {
    const p = path.join(projects, rel);
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
  }
  for (const rel of fs.readdirSync(path.join(projects, PROJECT_332), { recursive: true })) {
    const p = path.join(projects, PROJECT_332, rel);
    if (!p.endsWith('.jsonl')) continue;
    const text = fs.readFileSync(p, 'utf8');
    if (text.includes(RECORDED_CWD)) fs.writeFileSync(p, text.replaceAll(RECORDED_CWD, workspace));
  }
}

/** The dashboard's inner webview frame (the one holding its #tiles element), once it is there. */
async function dashboardFrame(page) {
  return waitFor(
    async () => {
      for (const f of page.frames()) {
        const ok = await f.evaluate(() => !!document.getElementById('tiles')).catch(() => false);
        if (ok) return f;
      }
      return null;
    },
    { timeout: 30_000, message: 'dashboard webview frame' },
  );
}

/** The rows of a chart's data table: [[cell, ...], ...] without the header. */
async function tableRows(frame, sectionId) {
  return frame.evaluate((id) => {
    const rows = [...(document.querySelectorAll(`#${id} tr`) ?? [])].slice(1);
    return rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? ''));
  }, sectionId);
}

/** Clicks the open quick pick's first row for which `match(item)` holds. */
async function answerQuickInputMatching(page, match) {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  const i = await waitFor(
    async () => {
      const idx = (await quickInputItems(page)).findIndex(match);
      return idx >= 0 ? idx + 1 : 0;
    },
    { timeout: 10_000, message: 'quick pick item' },
  );
  await widget
    .locator('.quick-input-list .monaco-list-row')
    .nth(i - 1)
    .click();
}

let tmp;
let vs;

describe('search and dashboard in VS Code (packaged .vsix)', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    if (!fs.existsSync(VSIX)) sh('npm', ['run', 'package'], { cwd: REPO_ROOT });
    tmp = tempDir('ah-e2e-explore-');
    const workspace = path.join(tmp, 'workspace');
    const home = path.join(tmp, 'home');
    makeGitRepo(workspace, BRANCH, ['main']);
    buildFixtureHome(home, workspace);
    vs = await startVSCode({ vsixPath: VSIX, home, workspace, viewport: { width: 1400, height: 1000 } });
    await openViewContainer(vs.page, 'Agent Handler');
    await waitFor(
      async () => (await treeRows(vs.page, 'Sessions')).some((r) => r.label === BRANCH || r.label.includes(BRANCH)),
      {
        timeout: 60_000,
        message: 'the Sessions view lists the branch group',
      },
    );
  });

  after(async () => {
    await vs?.stop();
    if (tmp && !process.env.AGENT_HANDLER_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  test('search: a word of a fixture prompt finds its session, highlighted; Enter reveals it in the tree', () =>
    withFailureShot(vs, 'explore-search', async (page) => {
      await runCommand(page, 'Agent Handler: Search Sessions…');
      const widget = page.locator('.quick-input-widget');
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      await widget.locator('.quick-input-box input').fill('delegat');
      const items = await waitFor(
        async () => {
          const it = await quickInputItems(page);
          return it.some((i) => i.label === DELEGATE) && it;
        },
        { timeout: 20_000, message: `search result "${DELEGATE}"` },
      );
      const hit = items.find((i) => i.label === DELEGATE);
      assert.match(
        hit.description,
        new RegExp(`Claude Code · ${BRANCH.replace('/', '\\/')}|${BRANCH.replace('/', '\\/')}`),
      );
      assert.ok(!items.some((i) => i.label === SAY_HI), 'a session without the word is not listed');
      // VS Code highlights the typed word in the result.
      const highlighted = await widget.locator('.quick-input-list .monaco-list-row .highlight').allTextContents();
      assert.ok(
        highlighted.some((h) => /delegat/i.test(h)),
        `highlighted: ${JSON.stringify(highlighted)}`,
      );
      await screenshot(page, 'explore-search');
      await page.keyboard.press('Enter');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
      await waitFor(async () => (await treeRows(page, 'Sessions')).some((r) => r.label === DELEGATE && r.selected), {
        timeout: 15_000,
        message: 'the found session is selected in the Sessions view',
      });
    }));

  test('details: the page of a session shows its fields, prompts and tools; title-bar buttons are there', () =>
    withFailureShot(vs, 'explore-details', async (page) => {
      await dismissQuickInput(page);
      await runCommand(page, 'Agent Handler: Show Session Details');
      await answerQuickInputMatching(page, (i) => i.label === DELEGATE && i.ariaLabel.includes(DELEGATE_ID));
      const editor = page.locator('.editor-instance .view-lines').first();
      await waitFor(async () => ((await editor.textContent()) ?? '').replace(/\u00a0/g, ' ').includes(DELEGATE_ID), {
        timeout: 20_000,
        message: 'the details page shows the session id',
      });
      const text = ((await editor.textContent()) ?? '').replace(/\u00a0/g, ' ');
      assert.match(text, /please delegate this to a subagent/);
      assert.match(text, /Per branch/);
      assert.match(text, /feature\/fake-model +3 req/);
      for (const label of [
        'Resume Session in Terminal',
        'Open Transcript',
        'Explain Cost',
        'Reveal in Sessions View',
      ]) {
        assert.ok(await page.locator(`.editor-actions [aria-label="${label}"]`).count(), `title bar button ${label}`);
      }
      await screenshot(page, 'explore-details');
    }));

  test('filter: text filter narrows the tree and shows in the view; clearing restores it', () =>
    withFailureShot(vs, 'explore-filter', async (page) => {
      await dismissQuickInput(page);
      await runCommand(page, 'Agent Handler: Filter Sessions…');
      const widget = page.locator('.quick-input-widget');
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('Enter'); // no agent, status or range
      await waitFor(async () => /Filter Sessions \(2\/2\)/.test((await widget.textContent()) ?? ''), {
        timeout: 10_000,
        message: 'the text step',
      });
      await widget.locator('.quick-input-box input').fill('delegate');
      await page.keyboard.press('Enter');
      await waitFor(
        async () => {
          const rows = await treeRows(page, 'Sessions');
          return rows.some((r) => r.label === DELEGATE) && !rows.some((r) => r.label === SAY_HI);
        },
        { timeout: 15_000, message: 'only the matching sessions' },
      );
      const sidebar = (await page.locator('#workbench\\.parts\\.sidebar').textContent()) ?? '';
      assert.match(sidebar, /filter: “delegate”/);
      await runCommand(page, 'Agent Handler: Clear Sessions Filter');
      await waitFor(async () => (await treeRows(page, 'Sessions')).some((r) => r.label === SAY_HI), {
        timeout: 15_000,
        message: 'all sessions again',
      });
    }));

  test('export: sessions as CSV to a file picked in the save dialog', () =>
    withFailureShot(vs, 'explore-export', async (page) => {
      await dismissQuickInput(page);
      await runCommand(page, 'Agent Handler: Export Sessions or Daily Totals…');
      await answerQuickInputMatching(page, (i) => i.label === 'Sessions');
      await answerQuickInputMatching(page, (i) => i.label === 'CSV');
      // code-server's save dialog is VS Code's simple file dialog: a quick input holding the path.
      const target = path.join(tmp, 'workspace', 'exported-sessions.csv');
      const widget = page.locator('.quick-input-widget');
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      // The dialog may still be writing its proposed path into the box when it shows (a fill then
      // lands in the middle of it): fill until the box holds exactly the target.
      const box = widget.locator('.quick-input-box input');
      await waitFor(
        async () => {
          await box.fill(target);
          return (await box.inputValue()) === target;
        },
        { timeout: 10_000, message: `the save dialog holding ${target}` },
      );
      await page.keyboard.press('Enter');
      // The simple dialog may keep its proposed name (agent-handler-sessions-<date>.csv) in the folder.
      const written = await waitFor(
        () =>
          fs.existsSync(target)
            ? target
            : fs
                .readdirSync(path.dirname(target))
                .filter((f) => f.endsWith('.csv'))
                .map((f) => path.join(path.dirname(target), f))[0],
        { timeout: 20_000, message: `a CSV file written in ${path.dirname(target)}` },
      );
      const lines = fs.readFileSync(written, 'utf8').split('\r\n').filter(Boolean);
      assert.equal(lines[0].split(',')[0], 'session_id');
      // Six sessions: two top-level and a subagent in each fixture version.
      assert.equal(lines.length, 1 + 6, lines.join('\n'));
      assert.ok(lines.some((l) => l.startsWith(`${DELEGATE_ID},`)));
    }));

  test('dashboard: opens, its charts carry the fixture numbers; a costliest-session link reveals it', () =>
    withFailureShot(vs, 'explore-dashboard', async (page) => {
      await dismissQuickInput(page);
      await runCommand(page, 'Agent Handler: Show Dashboard');
      const frame = await dashboardFrame(page);
      await waitFor(() => frame.evaluate(() => document.body.dataset.ready === 'true'), {
        timeout: 30_000,
        message: 'dashboard drawn',
      });
      // The fixtures are from November 2026: "All time" keeps this test true whatever today is.
      await frame.selectOption('#f-days', '0');
      await waitFor(async () => /all time/.test(await frame.textContent('#tile-cost')), {
        timeout: 20_000,
        message: 'all-time totals',
      });
      const branches = await waitFor(
        async () => {
          const rows = await tableRows(frame, 'chart-branch');
          return rows.length ? rows : null;
        },
        { timeout: 20_000, message: 'per-branch data' },
      );
      assert.deepEqual(branches[0].slice(0, 2), [BRANCH, BRANCH_COST]);
      const costliest = await tableRows(frame, 'costliest');
      // (Two sessions are titled "say hi": the 2.1.332 one costs $0.115185.)
      assert.ok(
        costliest.some((r) => r[0] === DELEGATE && r[4] === DELEGATE_COST),
        JSON.stringify(costliest),
      );
      assert.ok(
        costliest.some((r) => r[0] === SAY_HI && r[4] === SAY_HI_COST),
        JSON.stringify(costliest),
      );
      // The per-day chart has a canvas with a size, and its data table the days with requests.
      const canvas = await frame.evaluate(() => {
        const c = document.querySelector('#chart-agent canvas');
        return c ? { w: c.clientWidth, h: c.clientHeight } : null;
      });
      assert.ok(canvas && canvas.w > 100 && canvas.h > 100, `canvas size ${JSON.stringify(canvas)}`);
      const perDay = await tableRows(frame, 'chart-agent');
      assert.ok(perDay.length >= 1 && perDay.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(r[0])), JSON.stringify(perDay));
      // The CSP allowed our script and nothing inline was needed: no CSP violation in the webview.
      await screenshot(page, 'explore-dashboard');
      await frame.click(`#costliest a:text-is("${SAY_HI}")`);
      await waitFor(async () => (await treeRows(page, 'Sessions')).some((r) => r.label === SAY_HI && r.selected), {
        timeout: 15_000,
        message: 'the clicked session is selected in the Sessions view',
      });
    }));
});
