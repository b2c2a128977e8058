/**
 * Install / Remove Hooks as text edits: formatting, comments and the user's own hooks survive,
 * install is idempotent, and install followed by remove gives back the original bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'jsonc-parser';
import {
  type HookTarget,
  hookCommand,
  hookTargets,
  installHooks,
  isInstalled,
  removeHooks,
  shellQuote,
} from '../../src/core/hooks/install';

const targets = hookTargets('/home/u', {});
const target = (agent: string): HookTarget => targets.find((t) => t.agent === agent)!;
const CMD = hookCommand(
  '/usr/bin/node',
  '/home/u/.config/Code/User/globalStorage/agent-handler.agent-handler/hook-spool.js',
  '/home/u/store dir/spool',
  'claude',
  'linux',
);

const CLAUDE_SETTINGS = `{
  // my settings
  "model": "opus",
  "hooks": {
    /* keep this: formats every edit */
    "PostToolUse": [
      {
        "matcher": "Edit|Write",
        "hooks": [{ "type": "command", "command": "prettier --write \\"$FILE\\"" }]
      }
    ],
    "Stop": [
      { "hooks": [ { "type": "command", "command": "say done", "timeout": 3 } ] }, // trailing comment
    ]
  },
  "permissions": { "allow": ["Bash(ls:*)"] }
}
`;

describe('install / remove hooks', () => {
  it('Claude: install adds one entry per event, keeps the rest, and remove gives back the exact bytes', () => {
    const t = target('claude');
    const installed = installHooks(CLAUDE_SETTINGS, t, CMD);
    assert.notEqual(installed, CLAUDE_SETTINGS);
    assert.ok(
      installed.includes('// my settings') &&
        installed.includes('/* keep this: formats every edit */') &&
        installed.includes('// trailing comment'),
    );
    assert.ok(isInstalled(installed, t));
    const doc = parse(installed, [], { allowTrailingComma: true }) as {
      hooks: Record<string, { hooks: { command: string; timeout?: number }[] }[]>;
    };
    // 10 events; PostToolUse and Stop keep the user's entry first and get ours second.
    assert.equal(Object.keys(doc.hooks).length, 10);
    assert.equal(doc.hooks.PostToolUse!.length, 2);
    assert.equal(doc.hooks.PostToolUse![0]!.hooks[0]!.command, 'prettier --write "$FILE"');
    assert.equal(doc.hooks.Stop![1]!.hooks[0]!.command, CMD);
    assert.equal(doc.hooks.SessionEnd![0]!.hooks[0]!.timeout, 5);
    // Idempotent.
    assert.equal(installHooks(installed, t, CMD), installed);
    // Exact removal.
    assert.equal(removeHooks(installed, t), CLAUDE_SETTINGS);
    assert.equal(removeHooks(CLAUDE_SETTINGS, t), CLAUDE_SETTINGS);
  });

  it('tab-indented and CRLF files keep their style, and round-trip byte for byte', () => {
    const text =
      '{\r\n\t"hooks": {\r\n\t\t"Stop": [\r\n\t\t\t{ "hooks": [ { "type": "command", "command": "x" } ] }\r\n\t\t]\r\n\t}\r\n}\r\n';
    const t = target('claude');
    const installed = installHooks(text, t, CMD);
    assert.ok(!/[^\r]\n/.test(installed), 'only CRLF line ends');
    assert.ok(!/\n {2}/.test(installed), 'tabs, not spaces');
    assert.equal(removeHooks(installed, t), text);
  });

  it('a missing or empty file gets a hooks object; removing everything leaves an empty object', () => {
    const t = target('gemini');
    const installed = installHooks('', t, CMD);
    const doc = parse(installed) as { hooks: Record<string, { hooks: { timeout: number }[] }[]> };
    assert.deepEqual(Object.keys(doc.hooks), t.events);
    assert.equal(doc.hooks.BeforeTool![0]!.hooks[0]!.timeout, 5000); // Gemini: milliseconds
    assert.deepEqual(parse(removeHooks(installed, t)), {});
  });

  it("Codex hooks.json and Copilot's own hooks file", () => {
    const codex = installHooks('{}\n', target('codex'), CMD);
    assert.deepEqual(Object.keys((parse(codex) as { hooks: object }).hooks), [
      'SessionStart',
      'UserPromptSubmit',
      'PreToolUse',
      'PermissionRequest',
      'PostToolUse',
      'Stop',
    ]);
    assert.equal(removeHooks(codex, target('codex')), '{}\n');
    const copilot = parse(installHooks('', target('copilot'), CMD)) as {
      version: number;
      hooks: Record<string, { type: string; bash: string; timeoutSec: number }[]>;
    };
    assert.equal(copilot.version, 1);
    assert.deepEqual(copilot.hooks.PreToolUse, [{ type: 'command', bash: CMD, timeoutSec: 5 }]);
  });

  it('a file that is not JSON is refused with a clear message and left alone', () => {
    assert.throws(() => installHooks('{ "hooks": ', target('claude'), CMD), /not valid JSON.*nothing was changed/);
  });

  it('quotes paths with spaces and quotes for the shell', () => {
    assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
    assert.equal(shellQuote('/plain/path.js'), '/plain/path.js');
    assert.equal(shellQuote('C:\\a b\\x', 'win32'), '"C:\\a b\\x"');
    assert.ok(CMD.includes(`'/home/u/store dir/spool'`));
  });
});

describe('remove hooks leaves what is not ours', () => {
  it('an empty hooks object of the user stays when nothing of ours is there', () => {
    const t = hookTargets('/h', {})[0]!;
    const text = '{ "hooks": {} }\n';
    assert.equal(removeHooks(text, t), text);
  });
});
