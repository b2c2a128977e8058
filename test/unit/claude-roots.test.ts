/** Where Claude Code's transcripts are looked for: the defaults and the overrides. */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Indexer } from '../../src/core/ingest/indexer';
import { claudeAdapter } from '../../src/core/sources/claude';
import { listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { fixtureHome, tempDir } from './helpers';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('Claude Code roots', () => {
  test('defaults, $CLAUDE_CONFIG_DIR (a comma-separated list), $XDG_CONFIG_HOME and extra roots', () => {
    const roots = claudeAdapter.roots({
      home: '/h',
      env: { CLAUDE_CONFIG_DIR: '/a, /b', XDG_CONFIG_HOME: '/x' },
      extraRoots: { claude_code: ['/extra'] },
    });
    assert.deepEqual(roots, ['/a', '/b', '/h/.claude', '/x/claude', '/extra']);
    assert.deepEqual(claudeAdapter.roots({ home: '/h', env: {} }), ['/h/.claude', '/h/.config/claude']);
  });

  test('sessions under $CLAUDE_CONFIG_DIR are indexed like those under ~/.claude', async () => {
    const fixture = await fixtureHome('2.1.332');
    const configDir = path.join(await tempDir('ah-ccd-'), 'claude-config');
    await fsp.rename(path.join(fixture, '.claude'), configDir);
    const emptyHome = await tempDir('ah-home-');
    const store = await Store.open(null);
    await new Indexer(store, [claudeAdapter], { home: emptyHome, env: { CLAUDE_CONFIG_DIR: configDir } }, silent).scanAll();
    const ids = listSessions(store).map((s) => s.session_id).sort();
    assert.deepEqual(ids, ['3f810603-0856-4734-bc5d-451c3608d6f2', 'agent-aefae07661fe0f622', 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68']);
  });
});
