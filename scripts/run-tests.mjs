#!/usr/bin/env node
// Runs test files with Node's test runner, the same way on every supported Node (20, 22, 24, 26).
//
// `node --test <folder>` means different things across Node versions (Node 22 and 24 take the
// argument as a file and fail with "Cannot find module"; Node 20 searches the folder), and Node 20
// does not expand globs. So this script lists the files itself and hands them to
// `node --test` one by one, with the Node that runs this script (process.execPath).
//
// Usage:
//   node scripts/run-tests.mjs --dir=<folder> [node --test flags...] [file or name...]
//
//   --dir=<folder>   every *.test.js / *.test.mjs / *.test.cjs file directly in it (sorted) is run,
//                    unless files or names are given
//   file or name     run only these: a path (out/test/unit/pricing.test.js), a test source
//                    (test/unit/pricing.test.ts: its compiled file under out/), or a name in the
//                    folder (pricing, pricing.test.js)
//   flags            anything starting with '-' goes to `node --test` as is, e.g.
//                    --test-concurrency=1, --test-force-exit, --test-name-pattern="price rule",
//                    --test-reporter=spec (a flag and its value may also be two arguments)
//
// Examples (through npm, everything after `--` is passed here):
//   npm run test:unit -- pricing
//   npm run test:unit -- --test-name-pattern="price rule"
//   npm run test:reliability -- store --test-name-pattern="rolls back"

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const TEST_FILE = /\.test\.(?:js|mjs|cjs)$/;
// `node --test` flags that take a value; written as two arguments, the value is the next one.
const VALUE_FLAGS = new Set([
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
  '--import',
  '--require',
  '-r',
  '--experimental-loader',
  '--loader',
  '--conditions',
  '-C',
]);

function fail(message) {
  process.stderr.write(`run-tests: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let dir = null;
  const flags = [];
  const picks = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dir') {
      dir = argv[++i] ?? fail('--dir needs a folder');
    } else if (arg.startsWith('--dir=')) {
      dir = arg.slice('--dir='.length);
    } else if (arg.startsWith('-')) {
      flags.push(arg);
      if (VALUE_FLAGS.has(arg)) flags.push(argv[++i] ?? fail(`${arg} needs a value`));
    } else {
      picks.push(arg);
    }
  }
  return { dir, flags, picks };
}

/** The test files directly in `dir`, sorted (by code unit, the same on every machine). */
function listTestFiles(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    fail(
      `cannot read the test folder ${dir}: ${err.code || err.message}${dir.startsWith('out') ? ' (run `npm run compile-tests` first)' : ''}`,
    );
  }
  return entries
    .filter((e) => e.isFile() && TEST_FILE.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => path.join(dir, name));
}

/** A file given on the command line: a path, a TypeScript test source, or a name in `dir`. */
function resolvePick(pick, dir) {
  // A TypeScript source stands for its compiled file (Node 20 cannot run the source).
  const ts = pick.match(/^(?:\.\/)?(test\/.+)\.ts$/);
  const candidates = ts ? [path.join('out', `${ts[1]}.js`)] : [pick];
  if (dir && !ts) {
    const base = path.basename(pick);
    candidates.push(
      ...['', '.test.js', '.test.mjs', '.test.cjs', '.e2e.test.mjs'].map((ext) => path.join(dir, base + ext)),
    );
  }
  const found = candidates.find((c) => fs.statSync(c, { throwIfNoEntry: false })?.isFile());
  if (!found) {
    const known = dir
      ? `; test files in ${dir}: ${listTestFiles(dir)
          .map((f) => path.basename(f))
          .join(', ')}`
      : '';
    fail(`no test file for ${JSON.stringify(pick)} (looked for ${candidates.join(', ')})${known}`);
  }
  return found;
}

const { dir, flags, picks } = parseArgs(process.argv.slice(2));
if (!dir && picks.length === 0)
  fail('usage: node scripts/run-tests.mjs --dir=<folder> [node --test flags...] [file or name...]');
const files = picks.length ? picks.map((p) => resolvePick(p, dir)) : listTestFiles(dir);
if (files.length === 0) fail(`no *.test.js / *.test.mjs files in ${dir}`);

const args = ['--test', ...flags, ...files];
process.stderr.write(
  `run-tests: node ${process.version} --test ${flags.join(' ')}${flags.length ? ' ' : ''}` +
    `(${files.length} file${files.length === 1 ? '' : 's'}${picks.length ? '' : ` in ${dir}`})\n`,
);
const child = spawn(process.execPath, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (err) => fail(`could not start ${process.execPath}: ${err.message}`));
child.on('exit', (code, signal) => {
  if (signal) {
    process.stderr.write(`run-tests: node --test ended by ${signal}\n`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
