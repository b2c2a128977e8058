// Bundles the extension, the indexing worker and the CLI into dist/, and copies sql.js's wasm next
// to them: the .vsix ships dist/ only (see .vscodeignore), never node_modules.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const production = process.argv.includes('--production');
const require = createRequire(import.meta.url);
mkdirSync('dist', { recursive: true });
copyFileSync(path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm'), 'dist/sql-wasm.wasm');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // pg optionally requires its native binding (pg-native, never installed: sync uses pg's pure
  // JavaScript client); it is not bundled.
  external: ['vscode', 'pg-native'],
  // ESM entries first: jsonc-parser's UMD main requires its modules dynamically, which a bundle breaks.
  mainFields: ['module', 'main'],
};

// All of them settle before the process exits, so one failed build never leaves another half-written.
const results = await Promise.allSettled([
  esbuild.build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  esbuild.build({ ...common, entryPoints: ['src/core/ingest/worker.ts'], outfile: 'dist/worker.js' }),
  // The parse workers the indexer starts during a full pass (src/core/ingest/parsePool.ts), beside it.
  esbuild.build({ ...common, entryPoints: ['src/core/ingest/parseWorker.ts'], outfile: 'dist/parseWorker.js' }),
  // Sync (pg inside), required by the worker only once sync is turned on (src/core/ingest/syncLink.ts).
  esbuild.build({ ...common, entryPoints: ['src/core/ingest/syncModule.ts'], outfile: 'dist/sync.js' }),
  // The CLI in two bundles: a thin entry that answers an unchanged `sessions --json` from the scan
  // manifest alone (src/cli/entry.ts), and the full CLI it requires for everything else.
  esbuild.build({
    ...common,
    entryPoints: ['src/cli/entry.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
  esbuild.build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli-main.js' }),
  // The dashboard's script runs in the webview (a browser), with Chart.js bundled in.
  esbuild.build({
    entryPoints: ['webview/dashboard.ts'],
    outfile: 'dist/dashboard.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  }),
]);
const failed = results.filter((r) => r.status === 'rejected');
if (failed.length) {
  for (const f of failed) console.error(f.reason?.message ?? f.reason);
  process.exit(1);
}
