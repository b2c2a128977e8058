// End-to-end: sessions of several agents in one real VS Code (the packaged .vsix in code-server).
// The fixture HOME holds transcripts written by the real CLIs (copies of ../shared/fixtures/real in
// test/fixtures): Claude Code
// 2.1.332 and Codex 0.169 recorded in the workspace repository on `feature/fake-model` (their cwd
// rewritten to the fixture workspace), Gemini CLI 0.61 and OpenCode 1.18 (live SQLite database with
// its -wal) in folders that do not exist here ("Other projects").
//
// Expected figures, worked out from the files (see test/unit/{claude,codex,gemini,opencode}.test.ts):
//   Claude Code: 116821 tokens, $0.2511792 (Claude Code's own totals)
//   Codex:  fresh input 47513 − 28672 = 18841, cache read 28672, output 267 → 47780 tokens, $0.116551
//   Gemini: 33134 + 25706 + 250 = 59090 tokens, $0.02771595
//   OpenCode: 15508 + 23360 + 161 = 39029 tokens, model "fake-model" has no price → "unpriced"
//   Branch feature/fake-model = Claude Code + Codex = 164601 tokens, $0.3677302 → "$0.37", 4 sessions.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  makeGitRepo,
  openViewContainer,
  screenshot,
  startVSCode,
  statusBarItem,
  tempDir,
  treeRows,
  viewPane,
  waitFor,
} from './harness.mjs';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const VSIX = path.join(REPO_ROOT, 'agent-handler.vsix');
const BRANCH = 'feature/fake-model';
const VIEW = 'Sessions';

function copyWritable(src, dst, rewrite) {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) copyWritable(s, d, rewrite);
    else {
      const bytes = fs.readFileSync(s);
      fs.writeFileSync(d, rewrite && /\.jsonl?$/.test(e.name) ? rewrite(bytes.toString('utf8')) : bytes);
      fs.chmodSync(d, 0o644);
    }
  }
}

function buildHome(home, workspace) {
  const toWorkspace = (from) => (text) => text.split(from).join(workspace);
  copyWritable(
    path.join(FIXTURES, 'claude/2.1.332/projects'),
    path.join(home, '.claude/projects'),
    toWorkspace('/home/dev/agent/work/repo-claude-2.1.332'),
  );
  copyWritable(
    path.join(FIXTURES, 'codex/0.169.0/sessions'),
    path.join(home, '.codex/sessions'),
    toWorkspace('/home/dev/agent/work/repo-codex'),
  );
  copyWritable(path.join(FIXTURES, 'gemini/real/tmp'), path.join(home, '.gemini/tmp'));
  const opencode = path.join(home, '.local/share/opencode');
  fs.mkdirSync(opencode, { recursive: true });
  for (const f of ['opencode.db', 'opencode.db-wal'])
    fs.copyFileSync(path.join(FIXTURES, 'opencode/1.18.33', f), path.join(opencode, f));
}

/**
 * Expands every collapsed row until none is left (the fixture tree is small). A row is found again
 * by its label and level before each click: a refresh of the tree may move rows between reads.
 */
async function expandAll(page) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const collapsed = (await treeRows(page, VIEW)).find((r) => r.expanded === false);
    if (!collapsed) return;
    const same = (r) =>
      r.label === collapsed.label && r.level === collapsed.level && r.description === collapsed.description;
    await viewPane(page, VIEW).locator(`.monaco-list-row[data-index="${collapsed.index}"] .monaco-tl-twistie`).click();
    await waitFor(async () => (await treeRows(page, VIEW)).find(same)?.expanded !== false, { timeout: 3000 }).catch(
      () => undefined,
    );
  }
  throw new Error(`rows still collapsed: ${JSON.stringify(await treeRows(page, VIEW))}`);
}

describe('Agent Handler with several agents in VS Code', () => {
  let vs;

  before(async () => {
    assert.ok(fs.existsSync(VSIX), 'npm run package first (npm run test:e2e does)');
    const base = tempDir('ah-e2e-agents-');
    const workspace = path.join(base, 'workspace');
    fs.mkdirSync(workspace, { recursive: true });
    makeGitRepo(workspace, BRANCH, ['main']);
    const home = path.join(base, 'home');
    buildHome(home, workspace);
    vs = await startVSCode({
      vsixPath: VSIX,
      home,
      workspace,
      env: { XDG_DATA_HOME: path.join(home, '.local/share') },
    });
  });

  after(async () => {
    await vs?.stop();
  });

  test('every agent is listed with its own numbers, named in the description', async () => {
    const { page } = vs;
    await openViewContainer(page, 'Agent Handler');
    const expected = [
      ['say hi', 'Codex'],
      ['say hi', 'Claude Code'],
      ['say hi', 'Gemini CLI'],
      ['Fake session title', 'OpenCode'],
    ];
    const rowOf = (rows, label, agent) =>
      rows.find((r) => r.label === label && r.description?.startsWith(`${agent} · `));
    // The agents' files are indexed one after another: wait until every one is listed and expanded.
    const rows = await waitFor(
      async () => {
        await expandAll(page);
        const now = await treeRows(page, VIEW);
        return expected.every(([label, agent]) => rowOf(now, label, agent)) ? now : null;
      },
      { timeout: 60_000, message: 'a session of each agent listed' },
    );
    const find = (label, agent) => rowOf(rows, label, agent);
    const codex = find('say hi', 'Codex');
    assert.ok(codex, JSON.stringify(rows));
    assert.match(codex.description, / · 48K tok · \$0\.12$/);
    assert.equal(codex.level, 2, 'Codex recorded the workspace branch: under the current-branch group');
    assert.match(find('say hi', 'Claude Code').description, / · 63K tok · \$0\.12$/);
    assert.match(find('say hi', 'Gemini CLI').description, / · 59K tok · \$0\.03$/);
    const opencode = find('Fake session title', 'OpenCode');
    assert.ok(opencode, JSON.stringify(rows));
    assert.match(
      opencode.description,
      / · 39K tok · unpriced$/,
      'a model without a price is shown as unpriced, never $0',
    );
    await screenshot(page, 'agents-1-tree');
  });

  test('the branch total mixes the agents that worked on it, each request once', async () => {
    const want = 'Agent Handler: branch feature/fake-model, 164601 tokens, $0.37, 4 sessions';
    const item = await waitFor(
      async () => {
        const it = await statusBarItem(vs.page, 'agentHandler.branch');
        return it?.ariaLabel?.startsWith(want) ? it : null;
      },
      { timeout: 30_000, message: want },
    );
    assert.equal(item.text, `${BRANCH} · 165K tok · $0.37`);
    await screenshot(vs.page, 'agents-2-status-bar');
  });
});
