/**
 * What each adapter declares of its agent (src/core/sources/types.ts `AgentTraits`), the registry's
 * lookups, the model's helpers that read them (src/core/model/agents.ts), and where each agent's
 * files are looked for on Linux, macOS and Windows (src/core/sources/roots.ts), built with that
 * OS's path rules whatever OS the test runs on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hookTargets } from '../../src/core/hooks/install';
import { isAmp, usesSharedProcess } from '../../src/core/model/agents';
import { ADAPTERS, adapterFor, agentCostFigureName, agentTraits } from '../../src/core/sources/registry';
import { agentRoots } from '../../src/core/sources/roots';
import { SPOOL_FRAMEWORK } from '../../src/core/sources/spool';
import type { SourceEnv } from '../../src/core/sources/types';

/** The adapters of agents (the spool is our hooks' output, not an agent). */
const AGENTS = ADAPTERS.filter((a) => a.id !== SPOOL_FRAMEWORK);

describe('agent traits', () => {
  test('every adapter declares its traits; the registry looks them up by framework', () => {
    for (const a of ADAPTERS) assert.equal(agentTraits(a.id), a.traits, a.id);
    assert.equal(agentTraits('no-such-agent'), undefined);
  });

  test('what each agent is declared to be', () => {
    const declared = Object.fromEntries(
      AGENTS.map((a) => [a.id, [a.traits.sharedProcess, a.traits.hooks, a.traits.costFigure, a.traits.modelProvider]]),
    );
    assert.deepEqual(declared, {
      claude_code: [false, 'installable', 'cost-state', 'anthropic'],
      codex: [false, 'installable', null, 'openai'],
      gemini: [false, 'installable', null, 'google'],
      opencode: [false, 'agent-only', null, null],
      copilot: [false, 'installable', null, null],
      cursor: [true, 'agent-only', null, null],
      amp: [false, 'none', null, null],
    });
  });

  test('hooks are installable for exactly the agents the hook installer writes settings for', () => {
    const installable = AGENTS.filter((a) => a.traits.hooks === 'installable');
    assert.equal(new Set(hookTargets('/h', {}).map((t) => t.agent)).size, installable.length);
  });

  test('usesSharedProcess: Cursor only; isAmp: the agent without hooks (Amp) only', () => {
    assert.deepEqual(
      AGENTS.filter((a) => usesSharedProcess({ framework: a.id })).map((a) => a.id),
      ['cursor'],
    );
    assert.deepEqual(
      AGENTS.filter((a) => isAmp({ framework: a.id })).map((a) => a.id),
      ['amp'],
    );
    assert.equal(usesSharedProcess({ framework: 'no-such-agent' }), false);
    assert.equal(isAmp({ framework: 'no-such-agent' }), false);
  });

  test("the agent's own cost figure as the price rule names it", () => {
    assert.equal(agentCostFigureName('claude_code'), 'Claude Code cost-state');
    // No figure declared, an unknown agent, no session row: named as the rule always named them.
    assert.equal(agentCostFigureName('codex'), 'codex cost-state');
    assert.equal(agentCostFigureName('no-such-agent'), 'no-such-agent cost-state');
    assert.equal(agentCostFigureName(null), 'agent cost-state');
  });
});

describe('default folders per OS', () => {
  const LINUX: SourceEnv = { home: '/home/u', env: {}, platform: 'linux' };
  const MACOS: SourceEnv = { home: '/Users/u', env: {}, platform: 'darwin' };
  const WINDOWS: SourceEnv = { home: 'C:\\Users\\u', env: {}, platform: 'win32' };
  const rootsOn = (e: SourceEnv) => Object.fromEntries(AGENTS.map((a) => [a.id, a.roots(e)]));

  test('Linux', () => {
    assert.deepEqual(rootsOn(LINUX), {
      claude_code: ['/home/u/.claude', '/home/u/.config/claude'],
      codex: ['/home/u/.codex'],
      gemini: ['/home/u/.gemini'],
      opencode: ['/home/u/.local/share/opencode'],
      copilot: ['/home/u/.copilot'],
      cursor: ['/home/u/.cursor', '/home/u/.config/cursor'],
      amp: ['/home/u/.local/share/amp'],
    });
    // Another Unix reads the Linux folders.
    assert.deepEqual(rootsOn({ ...LINUX, platform: 'freebsd' }), rootsOn(LINUX));
  });

  test('macOS: the same folders in the home folder (none of these agents uses ~/Library)', () => {
    assert.deepEqual(rootsOn(MACOS), {
      claude_code: ['/Users/u/.claude', '/Users/u/.config/claude'],
      codex: ['/Users/u/.codex'],
      gemini: ['/Users/u/.gemini'],
      opencode: ['/Users/u/.local/share/opencode'],
      copilot: ['/Users/u/.copilot'],
      cursor: ['/Users/u/.cursor', '/Users/u/.config/cursor'],
      amp: ['/Users/u/.local/share/amp'],
    });
  });

  test('Windows: in the user profile, with Windows paths', () => {
    assert.deepEqual(rootsOn(WINDOWS), {
      claude_code: ['C:\\Users\\u\\.claude', 'C:\\Users\\u\\.config\\claude'],
      codex: ['C:\\Users\\u\\.codex'],
      gemini: ['C:\\Users\\u\\.gemini'],
      opencode: ['C:\\Users\\u\\.local\\share\\opencode'],
      copilot: ['C:\\Users\\u\\.copilot'],
      cursor: ['C:\\Users\\u\\.cursor', 'C:\\Users\\u\\.config\\cursor'],
      amp: ['C:\\Users\\u\\.local\\share\\amp'],
    });
  });

  test('Windows: the environment and extra roots resolved with Windows rules', () => {
    const env = {
      CODEX_HOME: 'D:\\codex ',
      GEMINI_CLI_HOME: 'D:\\gem',
      XDG_DATA_HOME: 'D:\\xdg',
      CLAUDE_CONFIG_DIR: 'D:\\a,E:\\b',
    };
    const e: SourceEnv = { ...WINDOWS, env, extraRoots: { codex: ['E:/backup/codex'] } };
    assert.deepEqual(adapterFor('codex')!.roots(e), ['D:\\codex', 'C:\\Users\\u\\.codex', 'E:\\backup\\codex']);
    assert.deepEqual(adapterFor('gemini')!.roots(e), ['D:\\gem\\.gemini', 'C:\\Users\\u\\.gemini']);
    assert.deepEqual(adapterFor('opencode')!.roots(e), ['D:\\xdg\\opencode', 'C:\\Users\\u\\.local\\share\\opencode']);
    assert.deepEqual(adapterFor('claude_code')!.roots(e), [
      'D:\\a',
      'E:\\b',
      'C:\\Users\\u\\.claude',
      'C:\\Users\\u\\.config\\claude',
    ]);
  });

  // Each agent's own variables, on macOS and on Windows: what each adapter reads first, then its
  // defaults. Written out per OS so a wrong separator or a base resolved with the other OS's rules shows.
  const ENV_ON: Record<
    'darwin' | 'win32',
    { home: string; env: Record<string, string>; roots: Record<string, string[]> }
  > = {
    darwin: {
      home: '/Users/u',
      env: {
        CLAUDE_CONFIG_DIR: '/Volumes/w/claude',
        CODEX_HOME: '/Volumes/w/codex',
        GEMINI_CLI_HOME: '/Volumes/w',
        XDG_DATA_HOME: '/Volumes/w/data',
        XDG_CONFIG_HOME: '/Volumes/w/config',
        COPILOT_HOME: '/Volumes/w/copilot',
        AMP_DATA_DIR: '/Volumes/w/amp',
      },
      roots: {
        claude_code: ['/Volumes/w/claude', '/Users/u/.claude', '/Volumes/w/config/claude'],
        codex: ['/Volumes/w/codex', '/Users/u/.codex'],
        gemini: ['/Volumes/w/.gemini', '/Users/u/.gemini'],
        opencode: ['/Volumes/w/data/opencode', '/Users/u/.local/share/opencode'],
        copilot: ['/Volumes/w/copilot', '/Users/u/.copilot', '/Volumes/w/config/.copilot'],
        cursor: ['/Users/u/.cursor', '/Volumes/w/config/cursor'],
        amp: ['/Volumes/w/amp', '/Volumes/w/data/amp', '/Users/u/.local/share/amp'],
      },
    },
    win32: {
      home: 'C:\\Users\\u',
      env: {
        CLAUDE_CONFIG_DIR: 'D:\\claude',
        CODEX_HOME: 'D:\\codex',
        GEMINI_CLI_HOME: 'D:\\',
        XDG_DATA_HOME: 'D:\\data',
        XDG_CONFIG_HOME: 'D:\\config',
        COPILOT_HOME: 'D:\\copilot',
        AMP_DATA_DIR: 'D:\\amp',
      },
      roots: {
        claude_code: ['D:\\claude', 'C:\\Users\\u\\.claude', 'D:\\config\\claude'],
        codex: ['D:\\codex', 'C:\\Users\\u\\.codex'],
        gemini: ['D:\\.gemini', 'C:\\Users\\u\\.gemini'],
        opencode: ['D:\\data\\opencode', 'C:\\Users\\u\\.local\\share\\opencode'],
        copilot: ['D:\\copilot', 'C:\\Users\\u\\.copilot', 'D:\\config\\.copilot'],
        cursor: ['C:\\Users\\u\\.cursor', 'D:\\config\\cursor'],
        amp: ['D:\\amp', 'D:\\data\\amp', 'C:\\Users\\u\\.local\\share\\amp'],
      },
    },
  };
  for (const platform of ['darwin', 'win32'] as const) {
    for (const a of AGENTS) {
      test(`${a.id} on ${platform}: its environment's folders, then its defaults`, () => {
        const { home, env, roots } = ENV_ON[platform];
        assert.deepEqual(a.roots({ home, env, platform }), roots[a.id]);
      });
    }
  }

  test('without a platform, the OS the code runs on', () => {
    for (const a of AGENTS) {
      assert.deepEqual(
        a.roots({ home: '/home/u', env: {} }),
        a.roots({ home: '/home/u', env: {}, platform: process.platform }),
        a.id,
      );
    }
  });
});

describe('agentRoots: the roots every adapter shares', () => {
  const agent = {
    id: 'fake',
    traits: { defaultPaths: { linux: ['~/.fake', '$XDG_DATA_HOME/fake'], darwin: [], win32: [] } as const },
  };

  test("the environment's folders, the defaults, older versions' folders, then the user's; unset ones skipped, each once", () => {
    const e: SourceEnv = {
      home: '/h',
      env: {},
      platform: 'linux',
      extraRoots: { fake: ['/extra', '/h/.fake'], other: ['/not-mine'] },
    };
    assert.deepEqual(agentRoots(e, agent, { overrides: [null, '/moved'], legacy: ['/old', null] }), [
      '/moved',
      '/h/.fake',
      '/h/.local/share/fake',
      '/old',
      '/extra',
    ]);
    assert.deepEqual(agentRoots({ ...e, env: { XDG_DATA_HOME: ' /xdg ' } }, agent), [
      '/h/.fake',
      '/xdg/fake',
      '/extra',
    ]);
  });
});
