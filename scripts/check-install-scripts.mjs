#!/usr/bin/env node
// Fails when a dependency in package-lock.json has an install script that package.json's
// `allowScripts` neither approves (true) nor denies (false).
//
// npm 11 and 12 do this check themselves during `npm ci --strict-allow-scripts` (error
// ESTRICTALLOWSCRIPTS), and .ci/run uses that. This script is the same check read from the
// lockfile alone: it runs before anything is downloaded, answers in a second, and still works with
// an npm that does not know `allowScripts` (npm 10), which would run every install script silently.
//
// Usage: node scripts/check-install-scripts.mjs [project folder, default: the current one]
// Exit 0: every install script is covered; 1: some are not (listed); 2: cannot read the files.

import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] || '.');

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`check-install-scripts: cannot read ${file}: ${err.message}\n`);
    process.exit(2);
  }
}

/** npm's platform fields: a list of allowed values, or of excluded ones written '!value'. */
function platformMatches(list, value) {
  if (!Array.isArray(list) || list.length === 0) return true;
  const excluded = list.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  const included = list.filter((v) => !v.startsWith('!'));
  if (excluded.includes(value)) return false;
  return included.length === 0 || included.includes(value);
}

/**
 * A key of allowScripts: 'name' (every version), 'name@1.2.3' (that version) or 'name@<range>'
 * (a range is taken as covering every version here; npm itself compares it).
 */
function parseKey(key) {
  const at = key.indexOf('@', key.startsWith('@') ? 1 : 0);
  if (at === -1) return { name: key, exact: null };
  const spec = key.slice(at + 1);
  return { name: key.slice(0, at), exact: /^\d+\.\d+\.\d+(?:[-+].*)?$/.test(spec) ? spec : null };
}

const pkg = readJson(path.join(dir, 'package.json'));
const lock = readJson(path.join(dir, 'package-lock.json'));
const allow = pkg.allowScripts ?? {};
const rules = Object.entries(allow).map(([key, value]) => ({ key, value, ...parseKey(key) }));

const uncovered = [];
const decided = [];
for (const [where, entry] of Object.entries(lock.packages ?? {})) {
  if (!where || !entry.hasInstallScript || entry.link) continue;
  // An optional dependency for another platform is never installed here, so its script never runs
  // (npm skips it in its own check too).
  if (entry.optional && !(platformMatches(entry.os, process.platform) && platformMatches(entry.cpu, process.arch)))
    continue;
  const name = entry.name ?? where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const rule = rules.find((r) => r.name === name && (r.exact === null || r.exact === entry.version));
  if (rule) decided.push(`${name}@${entry.version}: ${rule.value === false ? 'denied' : 'approved'} (${rule.key})`);
  else uncovered.push(`${name}@${entry.version} (${where})`);
}

for (const line of decided) process.stdout.write(`check-install-scripts: ${line}\n`);
if (uncovered.length) {
  process.stderr.write(
    `check-install-scripts: ${uncovered.length} package(s) in package-lock.json have install scripts that allowScripts in package.json does not cover:\n` +
      uncovered.map((u) => `  ${u}\n`).join('') +
      'Decide for each: `npm install-scripts approve <pkg>` (its script runs) or `npm install-scripts deny <pkg>` (it never runs),\n' +
      'and say why in docs/contributing.md.\n',
  );
  process.exit(1);
}
process.stdout.write(
  `check-install-scripts: every install script in package-lock.json is approved or denied in allowScripts\n`,
);
