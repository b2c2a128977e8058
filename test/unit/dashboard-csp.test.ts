/** The dashboard webview page: a strict Content Security Policy, only its own nonce'd script. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dashboardHtml } from '../../src/views/dashboardHtml';

describe('dashboard page', () => {
  const page = dashboardHtml({
    cspSource: 'vscode-webview://x',
    nonce: 'N0nce+/=',
    scriptUri: 'vscode-webview://x/dist/dashboard.js',
    styleUri: 'vscode-webview://x/media/dashboard.css',
  });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1] ?? '';

  test('default-src none; scripts only by nonce; styles, images and fonts only from the extension', () => {
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, /script-src 'nonce-N0nce\+\/='(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    assert.match(csp, /style-src vscode-webview:\/\/x(;|$)/);
  });

  test('every script carries the nonce and loads the bundled file; no inline script or handler', () => {
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0][1], /nonce="N0nce\+\/="/);
    assert.match(scripts[0][1], /src="vscode-webview:\/\/x\/dist\/dashboard\.js"/);
    assert.equal(scripts[0][2].trim(), '');
    assert.doesNotMatch(page, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(page, /<style\b/, 'no inline style block');
  });
});
