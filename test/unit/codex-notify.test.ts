/**
 * Codex `notify` in config.toml: ours chains to the user's own notify, removal restores the exact
 * text, and the real hook script runs the user's program with the event JSON.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { hasCodexNotify, installCodexNotify, removeCodexNotify, tomlStrings } from '../../src/core/hooks/codexNotify';
import { REPO_ROOT, tempDir } from './helpers';

const SCRIPT = path.join(REPO_ROOT, 'media', 'hook-spool.js');
const OURS = ['/usr/bin/node', SCRIPT, '/tmp/spool dir', 'codex'];

const CONFIG = `# my codex config
model = "gpt-5-codex"
notify = [
  "terminal-notifier", # desktop pings
  'arg with \\ backslash',
]

[features]
codex_hooks = true
`;

describe('Codex notify chaining', () => {
  it('install replaces the notify with ours chaining to it; remove restores the exact bytes; idempotent', () => {
    const installed = installCodexNotify(CONFIG, OURS);
    assert.ok(hasCodexNotify(installed));
    assert.equal(installCodexNotify(installed, OURS), installed);
    assert.ok(installed.startsWith('# my codex config\nmodel = "gpt-5-codex"\nnotify = ["/usr/bin/node", '));
    assert.ok(installed.endsWith('\n\n[features]\ncodex_hooks = true\n'));
    const args = tomlStrings(installed.slice(installed.indexOf('notify')));
    assert.deepEqual(args.slice(0, 5), [...OURS, '--chain']);
    assert.equal(removeCodexNotify(installed), CONFIG);
  });

  it('without a notify, ours is added as the first line and removed again', () => {
    const text = '[features]\ncodex_hooks = true\n';
    const installed = installCodexNotify(text, OURS);
    assert.match(installed, /^notify = \[.*"codex"\]\n\[features\]/);
    assert.equal(removeCodexNotify(installed), text);
    assert.equal(removeCodexNotify(text), text);
  });

  it('the hook script records the turn and runs the chained program with the event JSON', async () => {
    const dir = await tempDir('ah-codex-');
    const spool = path.join(dir, 'spool');
    const marker = path.join(dir, 'chained.txt');
    // The user's notify: a node one-liner writing its last argument to a file.
    const userNotify = `notify = ["${process.execPath}", "-e", "require('fs').writeFileSync(process.argv[1], process.argv[process.argv.length-1])", ${JSON.stringify(marker)}]`;
    const installed = installCodexNotify(`${userNotify}\n`, [process.execPath, SCRIPT, spool, 'codex']);
    const argv = tomlStrings(installed.slice(installed.indexOf('[')));
    const event = JSON.stringify({ type: 'agent-turn-complete', 'thread-id': 'th-1', 'turn-id': 't-1', cwd: '/w' });
    execFileSync(argv[0]!, [...argv.slice(1), event]);
    const line = JSON.parse(readFileSync(path.join(spool, 'codex-hooks.jsonl'), 'utf8'));
    assert.equal(line.hook.type, 'agent-turn-complete');
    assert.equal(line.hook['thread-id'], 'th-1');
    for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await fsp.readFile(marker, 'utf8'), event);
  });
});
