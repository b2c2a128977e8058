/**
 * Several agents in one repository: the branch total mixes them, each request once, and the CLI and
 * the session list report every agent under its framework name.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { repoInfo } from '../../src/core/git/repo';
import { branchSummary, listSessions } from '../../src/core/store/queries';
import { assertUsd, fixtureHome, indexHome, makeRepo } from './helpers';

const CODEX_ROLLOUT = path.resolve(__dirname, '../../../test/fixtures/codex/0.169.0/sessions/2026/11/25');

describe('agents mixed in one branch', () => {
  test('the branch total is Claude Code + Codex, each request once; both agents are listed', async () => {
    const repo = await makeRepo('feature/fake-model');
    const home = await fixtureHome('2.1.332', { rewriteCwd: repo });
    // The real Codex 0.169 rollout, recorded on branch feature/fake-model, moved into the same repository.
    const dst = path.join(home, '.codex', 'sessions', '2026', '11', '25');
    await fsp.mkdir(dst, { recursive: true });
    for (const name of await fsp.readdir(CODEX_ROLLOUT)) {
      const text = await fsp.readFile(path.join(CODEX_ROLLOUT, name), 'utf8');
      await fsp.writeFile(path.join(dst, name), text.split('/home/dev/agent/work/repo-codex').join(repo));
    }
    const { store } = await indexHome(home);
    const info = (await repoInfo(repo))!;
    const b = branchSummary(store, info.git_dir, 'feature/fake-model');
    // Claude: 12533+386+40265+9856 (say hi) + 7673+346+20827+9862 (delegate) + 2986+149+6189+5749 (subagent) = 116821
    // Codex: fresh input 47513 − 28672 = 18841, output 267, cache read 28672 → 47780
    assert.equal(b.tokens_input + b.tokens_output + b.tokens_cache_read + b.tokens_cache_write, 116821 + 47780);
    // $0.1359942 + $0.115185 (Claude Code's own totals) + $0.116551 (Codex at gpt prices, see codex.test.ts)
    assertUsd(b.cost_usd, 0.1359942 + 0.115185 + 0.116551);
    assert.equal(b.sessions, 4);
    assert.deepEqual([...new Set(b.by_session.map((s) => s.framework))].sort(), ['claude_code', 'codex']);
    assert.deepEqual([...new Set(listSessions(store).map((s) => s.framework))].sort(), ['claude_code', 'codex']);
  });
});
