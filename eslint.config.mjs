// ESLint (flat config): typescript-eslint's type-aware rules on src/, the tests and the webview, and
// the house rules of docs/design.md as lint rules, so a violation fails with the rule's name.
// What each house rule protects: docs/contributing.md, "House rules".
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** The agents' framework names: literals only where agent knowledge lives (the adapters, the hook installers). */
const AGENT_NAMES = ['claude_code', 'codex', 'gemini', 'opencode', 'copilot', 'copilot_cli', 'cursor', 'amp'];
const agentLiteral = {
  selector: `Literal[value=/^(${AGENT_NAMES.join('|')})$/]`,
  message:
    'house rule (agent knowledge with the agent): name an agent through its adapter or traits (src/core/sources/registry.ts), not a literal',
};

const agentKey = {
  selector: `Property > Identifier.key[name=/^(${AGENT_NAMES.join('|')})$/]`,
  message: agentLiteral.message,
};

/** `no-restricted-imports` patterns that keep a layer from importing the layers above it. */
function layer(files, forbidden, why) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message: 'house rule: src/core never imports vscode (it runs in the CLI, the worker and unit tests)',
            },
          ],
          patterns: forbidden.map((group) => ({ group: [group], message: `house rule (one-way layers): ${why}` })),
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'test/fixtures/**', 'test-results/**', '.cache/**', '**/*.vsix'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      // tsconfig.test.json covers src/ and the tests; the webview has its own (DOM) project.
      parserOptions: { project: ['tsconfig.test.json', 'webview/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json', '.node'] })],
    },
    rules: {
      // An unhandled rejection in an extension host or a worker is a silent failure.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/test return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'test', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-unused-vars': 'off',
      'no-undef': 'off', // TypeScript knows the globals better
      'no-redeclare': 'off',
      'no-dupe-class-members': 'off',
      // Flags `let x = fallback; try { x = … } catch { x = … }`, a pattern we use on purpose.
      'no-useless-assignment': 'off',
      // house rule: no import cycles anywhere (type-only imports included: a cycle of types is still a tangle).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/core/sources/**', 'src/core/hooks/**'],
    rules: { 'no-restricted-syntax': ['error', agentLiteral, agentKey] },
  },
  // One-way layers (docs/design.md §4): each folder imports only what sits below it.
  layer(
    ['src/core/**/*.ts'],
    ['**/views/**', '**/cli/**', '**/extension'],
    'the core is used by the views and the CLI, never the other way',
  ),
  layer(
    ['src/core/model/**/*.ts'],
    ['../store/**', '../ingest/**', '../pricing/**', '../live/**', '../git/**', '../hooks/**'],
    'the model is the bottom layer: plain types and pure folds',
  ),
  layer(
    ['src/core/store/**/*.ts'],
    ['../pricing/**', '../ingest/**', '../live/**', '../pricing', '../ingest', '../live'],
    'the store is an index of rows: it knows nothing of prices, ingestion or live processes',
  ),
  layer(
    ['src/core/sources/**/*.ts'],
    ['../store/**', '../ingest/**', '../pricing/**'],
    'an adapter turns files into events; it never writes the store',
  ),
  layer(['src/core/pricing/**/*.ts'], ['../ingest/**'], 'pricing works on rows it is handed'),
  {
    files: ['src/views/**/*.ts', 'src/extension.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/**'],
              message: 'house rule (one-way layers): the views and the CLI are siblings over the core',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'house rule: the CLI runs without VS Code' }],
          patterns: [
            {
              group: ['**/views/**'],
              message: 'house rule (one-way layers): the views and the CLI are siblings over the core',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        structuredClone: 'readonly',
        // Code that test/e2e runs inside the page (page.evaluate).
        document: 'readonly',
        window: 'readonly',
        navigator: 'readonly',
        getComputedStyle: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['media/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
