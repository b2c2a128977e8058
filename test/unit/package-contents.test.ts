/**
 * The .vsix as published: `vsce ls` (what `vsce package` would put in it) holds only what the
 * extension needs at run time and what its details page shows; the manifest carries what the
 * Marketplace and Open VSX ask for; the README's relative links land on files in the package.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ADAPTERS } from '../../src/core/sources/registry';
import { SPOOL_FRAMEWORK } from '../../src/core/sources/spool';
import { REPO_ROOT } from './helpers';

/** Every file the package may hold, as patterns over its paths. */
const ALLOWED: readonly RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^CHANGELOG\.md$/,
  /^LICENSE$/,
  /^dist\/(extension|worker|parseWorker|sync|cli|cli-main|dashboard)\.js$/,
  /^dist\/sql-wasm\.wasm$/,
  /^media\/(icon\.png|agent-handler\.svg|dashboard\.css|hook-spool\.js)$/,
  /^docs\/[a-z-]+\.md$/,
  /^docs\/images\/[a-z-]+\.png$/,
];

/** Files the extension cannot run (or be listed) without. */
const REQUIRED = [
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
  'dist/extension.js',
  'dist/worker.js',
  'dist/parseWorker.js',
  'dist/cli.js',
  'dist/sql-wasm.wasm',
  'dist/dashboard.js',
  'media/icon.png',
  'media/agent-handler.svg',
  'media/hook-spool.js',
];

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

function packagedFiles(): string[] {
  // The test suites build dist/ first, so the list is the one `npm run package` packs.
  const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
  const out = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();
}

describe('the packaged extension', () => {
  const files = packagedFiles();

  test('vsce ls lists only allowed files', () => {
    const unexpected = files.filter((f) => !ALLOWED.some((pattern) => pattern.test(f)));
    assert.deepEqual(unexpected, []);
  });

  test('vsce ls lists every file the extension needs', () => {
    assert.deepEqual(
      REQUIRED.filter((f) => !files.includes(f)),
      [],
    );
  });

  test("the README's relative links and images point at files in the package", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1].split('#')[0])
      .filter((target) => target && !/^[a-z]+:/i.test(target));
    assert.ok(targets.length > 0, 'the README has relative links');
    assert.deepEqual(
      [...new Set(targets)].filter((t) => !files.includes(path.posix.normalize(t))),
      [],
    );
  });

  test('the icon is a 128×128 PNG in the package', () => {
    assert.equal(manifest.icon, 'media/icon.png');
    const png = readFileSync(path.join(REPO_ROOT, manifest.icon));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
  });
});

describe('the manifest', () => {
  test('what the Marketplace and Open VSX show and require', () => {
    assert.equal(manifest.publisher, 'agent-handler');
    assert.equal(manifest.license, 'MIT');
    assert.match(manifest.repository.url, /^https:\/\//);
    assert.match(manifest.galleryBanner.color, /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(manifest.galleryBanner.theme));
    assert.ok(manifest.categories.length > 0 && manifest.keywords.length > 0);
    // vsce refuses more than 30 keywords.
    assert.ok(manifest.keywords.length <= 30);
    // Open VSX and the Marketplace refuse extensions that use proposed APIs.
    assert.equal(manifest.enabledApiProposals, undefined);
  });

  test('the welcome view of an empty Sessions view names every agent read', () => {
    const welcome = manifest.contributes.viewsWelcome.find(
      (w: { when: string }) => w.when === '!agentHandler.indexing && !agentHandler.hasSessions',
    );
    const agents = ADAPTERS.filter((a) => a.id !== SPOOL_FRAMEWORK);
    assert.deepEqual(
      agents.filter((a) => !welcome.contents.toLowerCase().includes(a.displayName.toLowerCase())).map((a) => a.id),
      [],
    );
    // And says what to do when none is found.
    assert.match(welcome.contents, /extraRoots/);
    assert.match(welcome.contents, /command:agentHandler\.showDiagnostics/);
  });
});
