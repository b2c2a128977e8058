/**
 * Fault class: hostile text. Transcript text (titles, prompts, branch names, paths) may hold
 * markdown, HTML, `command:` links, ANSI escapes, bidi controls or 10 MB: every label goes through
 * displayText/sessionLabel (controls and bidi stripped, cut), every tooltip value through escapeMd
 * (no markup, no link), and a session id only reaches a terminal as a validated argument.
 */
import * as assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatDiagnostics, hooksState } from '../../src/core/diagnostics';
import { hookCommand, hookTargets, installHooks } from '../../src/core/hooks/install';
import { groupSessions } from '../../src/core/grouping';
import { PRICE_DATA, priceSource } from '../../src/core/pricing';
import { ADAPTERS } from '../../src/core/sources/registry';
import { listSessions } from '../../src/core/store/queries';
import { displayText, escapeMd, sessionLabel } from '../../src/core/text';
import { REPO_ROOT, assistant, indexHome, tempDir, userPrompt, writeTranscript } from '../unit/helpers';
import { FaultSummary } from './helpers';

const summary = new FaultSummary('hostile text');

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

export const HOSTILE_TITLE =
  '\u001b[31mRED\u001b[0m [click](command:workbench.action.terminal.new) <img src=x onerror=alert(1)> **bold** \u202eevil\u202c `code` $(zap) # heading';

describe('hostile text', () => {
  it('displayText strips ANSI escapes, control, bidi and zero-width characters and cuts to the limit', () => {
    summary.cases++;
    assert.equal(displayText('\u001b[31mred\u001b[0m text'), 'red text');
    assert.equal(displayText('a\u202eb\u2066c\u200bd\u0000e\u0007f'), 'abcdef');
    assert.equal(displayText('line one\nline two\r\n\tthree'), 'line one line two three');
    assert.equal(displayText('x'.repeat(500), 50), `${'x'.repeat(49)}…`);
    assert.equal(
      displayText('\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007'),
      'link',
      'OSC 8 hyperlinks removed whole',
    );
  });

  it('property: displayText never lets a control or bidi character through and respects the limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 2, max: 200 }), (s, max) => {
        summary.cases++;
        const out = displayText(s, max);
        assert.ok(!UNSAFE.test(out), JSON.stringify(out));
        assert.ok(out.length <= max);
      }),
      { numRuns: 2000 },
    );
  });

  it('a 10 MB title costs no more than a short one and is cut', () => {
    summary.cases++;
    const huge = `${'\u202e'.repeat(1000)}${'A'.repeat(10 * 1024 * 1024)}`;
    const out = displayText(huge, 120);
    assert.equal(out.length, 120);
    assert.ok(out.startsWith('AAA'));
    assert.equal(sessionLabel({ title: huge, session_id: 'id' }).length, 120);
  });

  it('property: escapeMd leaves no markdown punctuation unescaped, so text is never a link, image, HTML or heading', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        summary.cases++;
        const out = escapeMd(s);
        assert.ok(!/\n/.test(out));
        // Every markdown-special character is preceded by a backslash that is itself not escaped.
        for (let i = 0; i < out.length; i++) {
          if ('`*_{}[]()#+-.!|<>~&:$'.includes(out[i])) {
            assert.equal(out[i - 1], '\\', `unescaped ${out[i]} in ${out}`);
            i; // the escape is consumed with it
          }
          if (out[i] === '\\') i++;
        }
      }),
      { numRuns: 2000 },
    );
    assert.equal(escapeMd('[x](command:rm)'), '\\[x\\]\\(command\\:rm\\)');
  });

  it('resume: ids like `x; rm -rf ~` are refused by every adapter; valid ids become one argument, no shell', () => {
    for (const adapter of ADAPTERS) {
      if (!adapter.resumeCommand) continue;
      for (const id of [
        'x; rm -rf ~',
        '$(reboot)',
        '`id`',
        '3f810603-0856-4734-bc5d-451c3608d6f2; rm -rf ~',
        '../../etc/passwd',
        '-rf',
        '--help',
        '3f810603-0856-4734-bc5d-451c3608d6f2\nrm -rf ~',
        '',
      ]) {
        summary.cases++;
        assert.equal(adapter.resumeCommand(id), null, `${adapter.id} refuses ${JSON.stringify(id)}`);
      }
      const ok = adapter.resumeCommand('3f810603-0856-4734-bc5d-451c3608d6f2');
      if (ok) {
        assert.ok(!/[\s;|&$`]/.test(ok.command), 'the command is a bare program name');
        // One argument holding the id (`--resume <id>` or `--resume=<id>`), never split or joined into a line.
        assert.ok(
          ok.args.some(
            (a) => a === '3f810603-0856-4734-bc5d-451c3608d6f2' || a.endsWith('=3f810603-0856-4734-bc5d-451c3608d6f2'),
          ),
          'the id is one argument',
        );
      }
    }
  });

  it('a hostile session end to end: indexed as data, every label sanitized, the tooltip text escaped', async () => {
    summary.cases++;
    const home = path.join(await tempDir('ah-rel-hostile-'), 'home');
    const id = '77777777-2222-4333-8444-555555555555';
    const branch = 'feat/\u202eexe.txt\u001b[2J';
    await writeTranscript(home, `${id}.jsonl`, [
      userPrompt({
        session: id,
        ts: '2026-11-25T20:00:00.000Z',
        text: `${HOSTILE_TITLE}\n${'P'.repeat(10 * 1024 * 1024)}`,
        branch,
      }),
      assistant({
        session: id,
        ts: '2026-11-25T20:00:01.000Z',
        msg: 'msg_hostile_1',
        req: 'req_hostile_1',
        usage: { in: 3, out: 2 },
        branch,
      }),
    ]);
    const { store } = await indexHome(home);
    const s = listSessions(store).find((x) => x.session_id === id)!;
    assert.ok(s, 'indexed');
    assert.equal(s.tokens_input, 3);
    // The store keeps bounded text: a 10 MB prompt does not become a 10 MB row.
    assert.ok(
      (s.first_user_message ?? '').length <= 10_000,
      `first prompt stored with ${s.first_user_message?.length} chars`,
    );
    assert.ok((s.title ?? '').length <= 10_000);
    const label = sessionLabel(s);
    assert.ok(!UNSAFE.test(label));
    assert.ok(label.length <= 120);
    assert.ok(label.startsWith('RED [click](command:'), 'shown as the text it is');
    const groups = groupSessions(listSessions(store), 'branch', null, Date.now());
    const walk = (ns: typeof groups): string[] =>
      ns.flatMap((n) => (n.kind === 'group' ? [n.label, ...walk(n.children)] : walk(n.children)));
    for (const l of walk(groups)) assert.ok(!UNSAFE.test(l), `group label ${JSON.stringify(l)}`);
    const md = escapeMd(label);
    assert.ok(!md.includes('](command'), 'no link survives escaping');
    store.close();
  });

  it('Diagnostics is plain text with sanitized paths and reasons; the price data version matches the installed package', async () => {
    summary.cases++;
    const pkg = JSON.parse(
      await fsp.readFile(path.join(REPO_ROOT, 'node_modules', '@pydantic', 'genai-prices', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(PRICE_DATA.version, pkg.version);
    const text = formatDiagnostics(
      {
        files: 2,
        files_deleted: 1,
        sessions: 1,
        requests: 3,
        lines_skipped: 4,
        files_with_skips: [
          {
            path: '/p/\u202eevil.jsonl',
            skipped_lines: 4,
            last_skip_reason: 'line 2 of a read: \u001b[31mUnexpected token',
          },
        ],
        unpriced_models: [],
        per_agent: [{ framework: 'claude_code', files: 2, files_deleted: 1, sessions: 1 }],
        role: 'writer',
        store_file: '/s/index.sqlite',
        store_outcome: 'loaded',
        roots: [{ framework: 'claude_code', root: '/h/.claude', exists: true }],
        last_scan_at: null,
        last_scan_ms: null,
        watcher_mode: 'file events',
        store_size_bytes: 2_000_000,
        schema_version: 2,
        parser_version: 3,
        price_data: priceSource.label,
      },
      {
        now: new Date('2026-11-25T00:00:00Z'),
        version: '0.1.0',
        hooks: [{ displayName: 'Claude Code', file: '/h/.claude/settings.json', installed: false }],
      },
    );
    assert.ok(!UNSAFE.test(text.replace(/\n/g, '')));
    for (const needle of [
      'Index role:      writer',
      'Claude Code: 2 files (1 gone), 1 sessions',
      '/p/evil.jsonl: 4 skipped',
      'Hooks:           not installed',
      'schema 2, parser 3',
      '2.00 MB',
      priceSource.label,
    ]) {
      assert.ok(text.includes(needle), `${needle} in\n${text}`);
    }
  });

  it("Diagnostics reads whether hooks are installed, per agent, from the agents' own settings files", async () => {
    summary.cases++;
    const home = path.join(await tempDir('ah-rel-hooks-'), 'home');
    assert.ok(
      (await hooksState(home, {})).every((h) => !h.installed),
      'nothing installed in an empty home',
    );
    const claude = hookTargets(home, {}).find((t) => t.agent === 'claude')!;
    await fsp.mkdir(path.dirname(claude.file), { recursive: true });
    await fsp.writeFile(
      claude.file,
      installHooks('', claude, hookCommand('/usr/bin/node', '/s/hook-spool.js', '/s/spool', 'claude')),
    );
    const state = await hooksState(home, {});
    assert.deepEqual(
      state.filter((h) => h.installed).map((h) => h.displayName),
      [claude.displayName],
    );
  });
});
