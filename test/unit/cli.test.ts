/**
 * The built CLI (`node dist/cli.js`, made by `npm run build`) on a temp HOME holding the real
 * 2.1.332 fixtures. The CLI is not rebuilt here: a missing or stale bundle fails with a message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  REPO_ROOT,
  assertUsd,
  assistant,
  fixtureHome,
  git,
  makeRepo,
  tempDir,
  userPrompt,
  writeTranscript,
} from './helpers';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

const DELEGATE = '3f810603-0856-4734-bc5d-451c3608d6f2';
const SAY_HI = 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68';
const AGENT = 'agent-aefae07661fe0f622';

/** The bundle exists, is not empty, and is newer than every source file it was built from. */
function checkBundle(): void {
  const hint = 'run `npm run build` before the unit tests';
  if (!existsSync(CLI) || statSync(CLI).size === 0) throw new Error(`${CLI} is missing or empty: ${hint}`);
  const map = `${CLI}.map`;
  if (!existsSync(map)) return; // a production build has no source map: nothing to compare
  const built = statSync(CLI).mtimeMs;
  const sources = (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources
    .filter((s) => s.startsWith('../src/'))
    .map((s) => path.resolve(path.dirname(CLI), s));
  const stale = sources.filter((s) => !existsSync(s) || statSync(s).mtimeMs > built);
  if (stale.length) throw new Error(`${CLI} is older than ${path.relative(REPO_ROOT, stale[0])}: ${hint}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], home: string): Run {
  const env: Record<string, string | undefined> = { ...process.env, HOME: home };
  delete env.CLAUDE_CONFIG_DIR;
  delete env.XDG_CONFIG_HOME;
  delete env.XDG_CACHE_HOME;
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface CliSession {
  session_id: string;
  parent_session_id: string | null;
  tokens_input: number;
  tokens_output: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  api_request_count: number;
  tool_call_count: number;
  message_count: number;
  revival_count: number;
  cost_usd: number;
  agent_cost_usd: number | null;
  title: string;
  subagent_ids: string[];
  rollup: {
    tokens_input: number;
    tokens_output: number;
    tokens_cache_read: number;
    tokens_cache_write: number;
    cost_usd: number;
  };
}

describe('CLI (dist/cli.js)', () => {
  before(checkBundle);

  test('sessions --json on the 2.1.332 fixtures: exact numbers, the subagent under its parent; a second run the same', async () => {
    const home = await fixtureHome('2.1.332');
    const store = path.join(await tempDir('ah-cli-'), 'store.sqlite');
    const r = cli(['sessions', '--json', '--store', store], home);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const sessions = JSON.parse(r.stdout) as CliSession[];
    const byId = new Map(sessions.map((s) => [s.session_id, s]));
    assert.deepEqual([...byId.keys()].sort(), [DELEGATE, AGENT, SAY_HI].sort());

    const hi = byId.get(SAY_HI)!;
    // 2465+2482+2507+2525+2554 = 12533; 67+90+59+87+83 = 386; 9928+10028+10096+10213 = 40265; 9856
    assert.deepEqual(
      [
        hi.tokens_input,
        hi.tokens_output,
        hi.tokens_cache_read,
        hi.tokens_cache_write,
        hi.api_request_count,
        hi.tool_call_count,
        hi.message_count,
        hi.revival_count,
      ],
      [12533, 386, 40265, 9856, 5, 2, 3, 0],
    );
    assertUsd(hi.cost_usd, 0.115185);

    const agent = byId.get(AGENT)!;
    assert.equal(agent.parent_session_id, DELEGATE);
    // 1438+1548 = 2986; 90+59 = 149; 6189; 5749
    assert.deepEqual(
      [
        agent.tokens_input,
        agent.tokens_output,
        agent.tokens_cache_read,
        agent.tokens_cache_write,
        agent.api_request_count,
      ],
      [2986, 149, 6189, 5749, 2],
    );

    const p = byId.get(DELEGATE)!;
    assert.equal(p.parent_session_id, null);
    assert.deepEqual(p.subagent_ids, [AGENT]);
    // Own 7673/346/20827/9862; with the subagent 10659/495/27016/15611 = Claude Code's own totals.
    assert.deepEqual(
      [p.tokens_input, p.tokens_output, p.tokens_cache_read, p.tokens_cache_write, p.api_request_count],
      [7673, 346, 20827, 9862, 3],
    );
    assert.deepEqual(
      [p.rollup.tokens_input, p.rollup.tokens_output, p.rollup.tokens_cache_read, p.rollup.tokens_cache_write],
      [10659, 495, 27016, 15611],
    );
    assertUsd(p.rollup.cost_usd, 0.1359942);
    assertUsd(p.agent_cost_usd!, 0.1359942, 'agent_cost_usd');

    // Again on the same store file: nothing re-read, the same answer.
    const again = cli(['sessions', '--json', '--store', store], home);
    assert.equal(again.code, 0);
    const second = new Map((JSON.parse(again.stdout) as CliSession[]).map((s) => [s.session_id, s]));
    assert.equal(second.get(DELEGATE)!.rollup.tokens_input, 10659);
    assert.equal(second.get(SAY_HI)!.api_request_count, 5);
  });

  test('branch --json --cwd <repo on feature/fake-model>: every request of the branch once, subagent included', async () => {
    const repo = await makeRepo('feature/fake-model', 'git@github.com:fake-owner/fake-repo.git');
    assert.equal(git(repo, 'branch', '--show-current'), 'feature/fake-model');
    const home = await fixtureHome('2.1.332', { rewriteCwd: repo });
    const store = path.join(await tempDir('ah-cli-'), 'store.sqlite');
    const r = cli(['branch', '--json', '--cwd', repo, '--store', store], home);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout) as {
      repo: string;
      branch: string;
      git_dir: string;
      requests: number;
      sessions: number;
      tokens_input: number;
      tokens_output: number;
      tokens_cache_read: number;
      tokens_cache_write: number;
      cost_usd: number;
      unpriced_requests: number;
      by_session: { session_id: string; parent_session_id: string | null; requests: number; tokens_input: number }[];
      by_model: { model: string; requests: number }[];
    };
    assert.equal(out.repo, 'fake-owner/fake-repo');
    assert.equal(out.branch, 'feature/fake-model');
    assert.equal(out.git_dir, path.join(repo, '.git'));
    // e2dbd8e3 (5 requests) + 3f810603 (3) + its subagent (2) = 10 requests, 3 sessions
    assert.equal(out.requests, 10);
    assert.equal(out.sessions, 3);
    // input 12533 + 10659 = 23192; output 386 + 495 = 881; cache read 40265 + 27016 = 67281; cache write 9856 + 15611 = 25467
    assert.deepEqual(
      [out.tokens_input, out.tokens_output, out.tokens_cache_read, out.tokens_cache_write],
      [23192, 881, 67281, 25467],
    );
    // 0.115185 + 0.1359942 = 0.2511792
    assertUsd(out.cost_usd, 0.2511792);
    assert.equal(out.unpriced_requests, 0);
    const parts = new Map(out.by_session.map((s) => [s.session_id, s]));
    assert.deepEqual(
      [SAY_HI, DELEGATE, AGENT].map((id) => [
        parts.get(id)!.requests,
        parts.get(id)!.tokens_input,
        parts.get(id)!.parent_session_id,
      ]),
      [
        [5, 12533, null],
        [3, 7673, null],
        [2, 2986, DELEGATE],
      ],
    );
    assert.deepEqual(
      out.by_model.map((m) => [m.model, m.requests]),
      [['claude-opus-5-5', 10]],
    );
  });

  test("branch --json --cwd <a folder outside any repository>: every session's total instead", async () => {
    const home = await fixtureHome('2.1.332');
    const dir = await tempDir('ah-cli-norepo-');
    const r = cli(['branch', '--json', '--cwd', dir, '--store', path.join(dir, 'store.sqlite')], home);
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout) as {
      repo: null;
      branch: null;
      sessions: number;
      requests: number;
      tokens_input: number;
      cost_usd: number;
    };
    assert.equal(out.repo, null);
    assert.equal(out.branch, null);
    assert.equal(out.sessions, 3);
    // All 10 requests: 12533 + 10659 = 23192 input, $0.2511792
    assert.equal(out.requests, 10);
    assert.equal(out.tokens_input, 23192);
    assertUsd(out.cost_usd, 0.2511792);
  });

  test("daily --json --tz: the day in the zone asked for; explain --session --json: per model and the agent's figure", async () => {
    const home = await fixtureHome('2.1.332');
    const store = path.join(await tempDir('ah-cli-'), 'store.sqlite');
    // Every request was made on 2026-11-25 between 14:11:12Z and 14:11:18Z: 09:11 in New York, but
    // 04:11 on November 26 in Kiritimati (UTC+14).
    const days = (tz: string) => {
      const r = cli(['daily', '--json', '--tz', tz, '--store', store], home);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as {
        time_zone: string;
        days: {
          date: string;
          requests: number;
          input: number;
          cost_usd: number;
          by_agent: { agent: string; requests: number }[];
          by_model: { model: string }[];
        }[];
      };
    };
    const kiritimati = days('Pacific/Kiritimati');
    assert.equal(kiritimati.time_zone, 'Pacific/Kiritimati');
    assert.deepEqual(
      kiritimati.days.map((d) => d.date),
      ['2026-11-26'],
    );
    const d = kiritimati.days[0];
    // 5 + 3 + 2 requests; input 12533 + 10659 = 23192; $0.115185 + $0.1359942
    assert.deepEqual([d.requests, d.input], [10, 23192]);
    assertUsd(d.cost_usd, 0.2511792);
    assert.deepEqual(
      d.by_agent.map((a) => [a.agent, a.requests]),
      [['claude_code', 10]],
    );
    assert.deepEqual(
      d.by_model.map((m) => m.model),
      ['claude-opus-5-5'],
    );
    assert.deepEqual(
      days('America/New_York').days.map((x) => x.date),
      ['2026-11-25'],
    );

    const r = cli(['explain', '--session', DELEGATE, '--json', '--store', store], home);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as {
      target: { sessions: string[] };
      totals: { input: number; cost_usd: number };
      agent: { agent_usd: number; differs: boolean };
      unpriced: unknown[];
      price_data: string;
    };
    assert.deepEqual(e.target.sessions, [DELEGATE, AGENT]);
    assert.equal(e.totals.input, 10659);
    assertUsd(e.totals.cost_usd, 0.1359942);
    assert.equal(e.agent.differs, false);
    assert.deepEqual(e.unpriced, []);
    assert.match(e.price_data, /^@pydantic\/genai-prices 0\.1\.8/);
    const missing = cli(['explain', '--session', 'nope', '--store', store], home);
    assert.deepEqual(
      [missing.code, missing.stderr],
      [2, 'agent-handler: no session nope (agent-handler sessions lists them)\n'],
    );
  });

  test('branch --json reports the PR with its source; pr --json the PR totals (head branch + a review on main)', async () => {
    const repo = await makeRepo('main', 'https://github.com/acme/widgets.git');
    git(repo, 'checkout', '-q', '-b', 'feature/a');
    const home = path.join(await tempDir('ah-cli-pr-'), 'home');
    const W = '61000000-0000-4000-8000-000000000001';
    const R = '62000000-0000-4000-8000-000000000002';
    const url = 'https://github.com/acme/widgets/pull/7';
    // claude-opus-5-5 at $4/M input, $20/M output.
    await writeTranscript(
      home,
      `${W}.jsonl`,
      [
        userPrompt({ session: W, cwd: repo, branch: 'feature/a', ts: '2026-11-24T10:00:00.000Z', text: 'build it' }),
        assistant({
          session: W,
          cwd: repo,
          branch: 'feature/a',
          ts: '2026-11-24T10:00:01.000Z',
          msg: 'w1',
          req: 'rw1',
          usage: { in: 2000, out: 100 },
        }), // $0.008 + $0.002
        {
          type: 'pr-link',
          sessionId: W,
          prNumber: 7,
          prUrl: url,
          prRepository: 'acme/widgets',
          timestamp: '2026-11-24T10:00:02.000Z',
        },
      ],
      repo,
    );
    await writeTranscript(
      home,
      `${R}.jsonl`,
      [
        userPrompt({ session: R, cwd: repo, branch: 'main', ts: '2026-11-24T11:00:00.000Z', text: `review ${url}` }),
        assistant({
          session: R,
          cwd: repo,
          branch: 'main',
          ts: '2026-11-24T11:00:01.000Z',
          msg: 'r1',
          req: 'rr1',
          usage: { in: 1000, out: 0 },
        }), // $0.004
      ],
      repo,
    );
    const store = path.join(await tempDir('ah-cli-'), 'store.sqlite');

    const b = cli(['branch', '--json', '--cwd', repo, '--store', store], home);
    assert.equal(b.stderr, '');
    const branch = JSON.parse(b.stdout) as {
      branch: string;
      pr: unknown;
      requests: number;
      tokens_input: number;
      cost_usd: number;
    };
    assert.equal(branch.branch, 'feature/a');
    assert.deepEqual(branch.pr, { number: 7, url, source: 'agent' });
    assert.equal(branch.requests, 1); // the branch alone: W's one request, 2000 in + 100 out
    assertUsd(branch.cost_usd, 0.01);

    for (const extra of [[], ['--number', '7'], ['--number', '#7']]) {
      const r = cli(['pr', '--json', '--cwd', repo, '--store', store, ...extra], home);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      const pr = JSON.parse(r.stdout) as {
        pr: unknown;
        head_branch: string;
        requests: number;
        tokens_input: number;
        cost_usd: number;
        also: unknown;
      };
      assert.deepEqual(pr.pr, { number: 7, url, source: 'agent' });
      assert.equal(pr.head_branch, 'feature/a');
      assert.deepEqual(pr.also, [{ session_id: R, branch: 'main' }]);
      // W on feature/a (2000 in, $0.010) + R's review on main (1000 in, $0.004) = 3000 in, 2 requests, $0.014
      assert.equal(pr.requests, 2);
      assert.equal(pr.tokens_input, 3000);
      assertUsd(pr.cost_usd, 0.014);
    }
    const unknown = cli(['pr', '--json', '--cwd', repo, '--store', store, '--number', '8'], home);
    assert.equal(unknown.code, 0);
    assert.equal((JSON.parse(unknown.stdout) as { pr: null }).pr, null);
  });

  test('bad arguments: exit code 2 and a one-line error on stderr, nothing on stdout', async () => {
    const home = await tempDir('ah-cli-home-');
    const cases: [string[], string][] = [
      [['--bogus'], 'agent-handler: unknown option --bogus (see agent-handler --help)'],
      [['sessions', 'extra'], 'agent-handler: unexpected argument extra'],
      [['sessions', '--store'], 'agent-handler: --store needs a value'],
      [['branch', '--cwd', '--json'], 'agent-handler: --cwd needs a value'],
      [['frobnicate'], 'agent-handler: unknown command frobnicate (see agent-handler --help)'],
      [['daily', '--tz', 'Mars/Olympus'], 'agent-handler: unknown time zone Mars/Olympus'],
      [['explain', '--json'], 'agent-handler: explain needs --session ID'],
      [['pr', '--number', 'x'], 'agent-handler: --number needs a pull request number, not x'],
    ];
    for (const [args, message] of cases) {
      const r = cli(args, home);
      assert.equal(r.code, 2, `exit code for ${args.join(' ')}`);
      assert.equal(r.stderr, `${message}\n`, `stderr for ${args.join(' ')}`);
      assert.equal(r.stdout, '');
    }
    // No command: the error line first, then the usage.
    const none = cli([], home);
    assert.equal(none.code, 2);
    assert.equal(none.stderr.split('\n')[0], 'agent-handler: missing command');
    assert.match(none.stderr, /^usage: agent-handler <command>/m);
    // --help is not an error.
    const help = cli(['--help'], home);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: agent-handler/);
  });
});
