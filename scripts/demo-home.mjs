// A demo home for the README's screenshots: real agent transcripts (the fake-model fixtures in
// test/fixtures, written by the agents' own CLIs) copied into a fresh HOME, rewritten so they look
// like a week of work: real git repositories with branches, commits and an origin remote, plausible
// prompts instead of "say hi", a few days of history ending minutes ago, fresh ids per copy (two
// copies of one transcript are two sessions, not one session seen twice). Token counts and models
// are the fixtures' own. Used by scripts/screenshots.mjs; `node scripts/demo-home.mjs DIR` builds
// one to look at (HOME=DIR/home node dist/cli.js sessions).

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.join(root, 'test', 'fixtures');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The repositories: name, origin, the branches with their commits (the first branch is the default). */
const REPOS = [
  {
    name: 'webshop',
    origin: 'git@github.com:acme/webshop.git',
    checkout: 'feat/retry-backoff',
    branches: {
      main: [
        ['README.md', '# webshop\n\nThe Acme storefront.\n', 'Initial storefront'],
        [
          'src/payments/client.ts',
          'export async function charge(order) {\n  return api.post("/charge", order);\n}\n',
          'Payments client',
        ],
        [
          'src/cart/total.ts',
          'export const total = (items) => items.reduce((s, i) => s + i.price, 0);\n',
          'Cart totals',
        ],
      ],
      'feat/retry-backoff': [
        [
          'src/payments/retry.ts',
          'export async function withRetry(fn, attempts = 5) {\n  for (let i = 0; ; i++) {\n    try {\n      return await fn();\n    } catch (err) {\n      if (i + 1 >= attempts) throw err;\n      await sleep(2 ** i * 100 + Math.random() * 100);\n    }\n  }\n}\n',
          'Retry payments with exponential backoff and jitter',
        ],
        [
          'test/payments/retry.test.ts',
          'test("gives up after five attempts", async () => {});\n',
          'Tests for the retry loop',
        ],
      ],
      'fix/cart-rounding': [
        [
          'src/cart/total.ts',
          'export const total = (items) => items.reduce((s, i) => s + i.cents, 0) / 100;\n',
          'Sum cart totals in cents',
        ],
      ],
      'feat/search-filters': [
        ['src/search/filters.ts', 'export const filters = ["price", "brand"];\n', 'Price and brand filters'],
      ],
    },
  },
  {
    name: 'api-gateway',
    origin: 'git@github.com:acme/api-gateway.git',
    checkout: 'main',
    branches: {
      main: [
        ['README.md', '# api-gateway\n', 'Initial gateway'],
        ['openapi.yaml', 'openapi: 3.1.0\n', 'OpenAPI spec'],
      ],
      'fix/health-endpoint': [
        ['src/health.ts', 'export const health = () => ({ ok: true });\n', 'Health check without the database'],
      ],
    },
  },
  {
    name: 'design-system',
    origin: 'git@github.com:acme/design-system.git',
    checkout: 'feat/dark-mode',
    branches: {
      main: [['README.md', '# design-system\n', 'Initial tokens']],
      'feat/dark-mode': [['tokens/dark.json', '{ "background": "#111827" }\n', 'Dark palette']],
    },
  },
];

/** The fixtures' own prompts, for the rewrites below. */
const SAY_HI = 'say hi';
const RUN_ECHO = 'please run echo hello with bash';
const READ_README = 'now read the README file';
const DELEGATE = 'please delegate this to a subagent';
const SUBAGENT_TASK = 'Run the shell command `echo hello` with the Bash tool and report its output.';

const claude332 = 'claude/2.1.332/projects/-home-dev-agent-work-repo-claude-2-1-332';
const claude197 = 'claude/2.1.197/projects/-home-dev-agent-work-repo-claude-2-1-197';

/**
 * The sessions: which fixture files, where they go, in which repository and on which branch, what
 * their prompts say instead, and when they ended (days ago, hour of that day; the newest minutes ago).
 */
const SESSIONS = [
  {
    agent: 'claude',
    from: `${claude332}/e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68.jsonl`,
    recordedCwd: '/home/dev/agent/work/repo-claude-2.1.332',
    repo: 'webshop',
    branch: 'feat/retry-backoff',
    prompts: {
      [SAY_HI]: 'Add exponential backoff with jitter to the payment client retries',
      [RUN_ECHO]: 'run the payment tests and fix what fails',
      [READ_README]: 'address the review on https://github.com/acme/webshop/pull/142',
    },
    endsAgo: 12 * 60_000,
  },
  {
    agent: 'claude',
    from: `${claude332}/3f810603-0856-4734-bc5d-451c3608d6f2.jsonl`,
    recordedCwd: '/home/dev/agent/work/repo-claude-2.1.332',
    repo: 'webshop',
    branch: 'feat/retry-backoff',
    prompts: {
      [DELEGATE]: 'Check every caller of charge() for idempotency keys, in a subagent',
      [SUBAGENT_TASK]: 'List the callers of charge() and whether each passes an idempotency key.',
    },
    endsAgo: 2 * HOUR,
  },
  {
    agent: 'codex',
    from: 'codex/0.169.0/sessions',
    recordedCwd: '/home/dev/agent/work/repo-codex',
    repo: 'webshop',
    branch: 'feat/retry-backoff',
    prompts: {
      [SAY_HI]: 'Review the retry change for double charges',
      [RUN_ECHO]: 'run the retry tests with a flaky network stub',
      [READ_README]: 'summarise the risks for the PR description',
    },
    endsAgo: 4 * HOUR,
  },
  {
    agent: 'claude',
    from: `${claude197}/e47fc0b4-81c5-4ad6-9e15-78a0f4a0fe8d.jsonl`,
    recordedCwd: '/home/dev/agent/work/repo-claude-2.1.197',
    repo: 'webshop',
    branch: 'fix/cart-rounding',
    prompts: {
      [SAY_HI]: 'Cart total is off by a cent for three items at 33.33',
      [RUN_ECHO]: 'add a failing test for it first',
      [READ_README]: 'now sum in integer cents everywhere',
    },
    endsAgo: DAY + 3 * HOUR,
  },
  {
    agent: 'claude',
    from: `${claude197}/5be170c6-ce9c-41d3-8673-83b7bb7393a6.jsonl`,
    recordedCwd: '/home/dev/agent/work/repo-claude-2.1.197',
    repo: 'webshop',
    branch: 'feat/search-filters',
    prompts: {
      [DELEGATE]: 'Add price and brand filters to product search; let a subagent write the tests',
      [SUBAGENT_TASK]: 'Write tests for the price and brand filters of product search.',
    },
    endsAgo: 2 * DAY + 5 * HOUR,
  },
  {
    agent: 'gemini',
    from: 'gemini/real/tmp/repo-gemini',
    recordedCwd: '/home/dev/agent/work/repo-gemini',
    repo: 'design-system',
    branch: 'feat/dark-mode',
    prompts: {
      [SAY_HI]: 'Derive dark-mode colour tokens from the light palette',
      [RUN_ECHO]: 'check the contrast ratios with the token script',
      [READ_README]: 'document the new tokens in the README',
    },
    endsAgo: DAY + 6 * HOUR,
  },
  {
    agent: 'claude',
    from: `${claude332}/e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68.jsonl`,
    recordedCwd: '/home/dev/agent/work/repo-claude-2.1.332',
    repo: 'api-gateway',
    branch: 'main',
    prompts: {
      [SAY_HI]: 'Document the rate-limit headers in the OpenAPI spec',
      [RUN_ECHO]: 'validate the spec with the linter',
      [READ_README]: 'link the new section from the README',
    },
    endsAgo: 3 * DAY + 2 * HOUR,
  },
  {
    agent: 'copilot',
    from: 'copilot_cli/home/.copilot/session-state/3b2c0002-0000-4000-8000-00000000000b',
    recordedCwd: '/home/dev/work/api',
    repo: 'api-gateway',
    branch: 'fix/health-endpoint',
    recordedBranch: 'main',
    prompts: {},
    endsAgo: 2 * DAY + 1 * HOUR,
  },
  {
    agent: 'copilot',
    from: 'copilot_cli/home/.copilot/session-state/3c3c0003-0000-4000-8000-00000000000c',
    recordedCwd: '/home/dev/work/widgets',
    repo: 'design-system',
    branch: 'main',
    prompts: {},
    endsAgo: 4 * DAY + 4 * HOUR,
  },
  {
    agent: 'codex',
    from: 'codex/0.169.0/sessions',
    recordedCwd: '/home/dev/agent/work/repo-codex',
    repo: 'api-gateway',
    branch: 'fix/health-endpoint',
    prompts: {
      [SAY_HI]: 'The health endpoint returns 500 when the database is down',
      [RUN_ECHO]: 'reproduce it with the database stopped',
      [READ_README]: 'make /health report the database separately',
    },
    endsAgo: 2 * DAY + 3 * HOUR,
  },
];

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
// Claude Code's message, request and tool ids, Codex's call ids, subagent ids (agent-a<16 hex>).
const IDS = /\b(msg|req|toolu|call|resp|fc)_[A-Za-z0-9]+|\ba[0-9a-f]{16}\b|\b[0-9a-f]{32}\b/g;
const ISO = /\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z\b/g;
const EPOCH_MS = /\b1[6-8]\d{11}\b/g;

function digest(...parts) {
  return crypto.createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** A fresh id of the same shape per copy: the same input id in one copy always maps to the same output. */
function freshIds(text, copy) {
  return text
    .replace(UUID, (id) => {
      const h = digest(copy, id);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    })
    .replace(IDS, (id) => {
      const m = /^(msg|req|toolu|call|resp|fc)_(.+)$/.exec(id);
      if (m) return `${m[1]}_${digest(copy, id).slice(0, m[2].length)}`;
      if (id.length === 17) return `a${digest(copy, id).slice(0, 16)}`;
      return digest(copy, id).slice(0, 32);
    });
}

/** Every time in the text moved by `shift` ms (ISO strings and epoch milliseconds). */
function shiftTimes(text, shift) {
  return text
    .replace(ISO, (_, t) =>
      new Date(Date.parse(`${t}Z`) + shift).toISOString().replace(/\.000Z$/, t.includes('.') ? '.000Z' : 'Z'),
    )
    .replace(EPOCH_MS, (ms) => String(Number(ms) + shift));
}

function latestTime(texts) {
  let latest = 0;
  for (const text of texts) {
    for (const m of text.matchAll(ISO)) latest = Math.max(latest, Date.parse(`${m[1]}Z`));
  }
  return latest;
}

/** A JSON string's inside for `s` (quotes and backslashes escaped). */
const jsonInside = (s) => JSON.stringify(s).slice(1, -1);

function git(cwd, args, env = {}) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...env },
  });
}

/** A repository with its branches and commits, dated over the last week, its origin set. */
function makeRepo(dir, spec, now) {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'Dana Developer']);
  git(dir, ['config', 'user.email', 'dana@acme.example']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  git(dir, ['remote', 'add', 'origin', spec.origin]);
  let when = now - 7 * DAY;
  const commitAll = (branch) => {
    for (const [file, content, message] of spec.branches[branch]) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
      git(dir, ['add', '-A']);
      const date = new Date((when += 3 * HOUR)).toISOString();
      git(dir, ['commit', '-q', '-m', message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    }
  };
  commitAll('main');
  for (const branch of Object.keys(spec.branches).filter((b) => b !== 'main')) {
    const date = new Date(when).toISOString();
    git(dir, ['checkout', '-q', '-b', branch, 'main'], { GIT_COMMITTER_DATE: date });
    commitAll(branch);
  }
  // Dated like the commits: the reflog then says this branch was checked out before every session.
  const date = new Date((when += HOUR)).toISOString();
  git(dir, ['checkout', '-q', spec.checkout], { GIT_COMMITTER_DATE: date });
}

function listFiles(dir) {
  return fs
    .readdirSync(dir, { recursive: true })
    .map((rel) => path.join(dir, rel))
    .filter((p) => fs.statSync(p).isFile() && !p.endsWith('.project_root'));
}

/**
 * A session's fixture files and the folder their paths are relative to: a folder's files, or a
 * Claude Code transcript with its subagents' folder beside it (`<id>.jsonl` and `<id>/`).
 */
function sessionFiles(session) {
  const from = path.join(FIXTURES, session.from);
  if (fs.statSync(from).isDirectory()) return { base: from, files: listFiles(from) };
  const siblings = from.replace(/\.jsonl$/, '');
  return { base: path.dirname(from), files: [from, ...(fs.existsSync(siblings) ? listFiles(siblings) : [])] };
}

/** The folder of the demo home a session's files go to (their relative paths kept, ids rewritten). */
function destinationFolder(session, home, repoDir, copy) {
  switch (session.agent) {
    case 'claude':
      return path.join(home, '.claude', 'projects', repoDir.replace(/[^A-Za-z0-9]/g, '-'));
    case 'codex':
      return path.join(home, '.codex', 'sessions');
    case 'gemini':
      return path.join(home, '.gemini', 'tmp', session.repo);
    case 'copilot':
      return path.join(home, '.copilot', 'session-state', freshIds(path.basename(session.from), copy));
    default:
      throw new Error(`no layout for ${session.agent}`);
  }
}

/**
 * Builds the demo in `dir`: `dir/home` (the HOME to run with) and `dir/home/code/<repo>` (the
 * repositories). Returns the paths and the workspace to open.
 */
export function buildDemoHome(dir, now = Date.now()) {
  const home = path.join(dir, 'home');
  const repoDirs = {};
  for (const spec of REPOS) {
    repoDirs[spec.name] = path.join(home, 'code', spec.name);
    makeRepo(repoDirs[spec.name], spec, now);
  }
  SESSIONS.forEach((session, i) => {
    const copy = `demo-${i}`;
    const repoDir = repoDirs[session.repo];
    const { base, files } = sessionFiles(session);
    const into = destinationFolder(session, home, repoDir, copy);
    const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
    const shift = now - session.endsAgo - latestTime(texts);
    files.forEach((file, j) => {
      let text = texts[j];
      text = text.replaceAll(`file://${session.recordedCwd}`, `file://${repoDir}`);
      text = text.replaceAll(session.recordedCwd, repoDir);
      text = text.replaceAll('/home/dev/agent/home', home);
      text = text.replaceAll('"feature/fake-model"', JSON.stringify(session.branch));
      if (session.recordedBranch) {
        text = text.replaceAll(`"branch":"${session.recordedBranch}"`, `"branch":"${session.branch}"`);
        text = text.replaceAll(`branch: ${session.recordedBranch}\n`, `branch: ${session.branch}\n`);
      }
      text = text.replaceAll('octo-org/widgets', 'acme/design-system').replaceAll('octo-org/api', 'acme/api-gateway');
      // Longest first: a prompt may contain a shorter one.
      for (const [from, to] of Object.entries(session.prompts).sort((a, b) => b[0].length - a[0].length)) {
        text = text.replaceAll(jsonInside(from), jsonInside(to));
      }
      text = shiftTimes(freshIds(text, copy), shift);
      const to = path.join(into, freshIds(path.relative(base, file), copy));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, text);
    });
    if (session.agent === 'gemini') {
      fs.writeFileSync(path.join(home, '.gemini', 'tmp', session.repo, '.project_root'), repoDir);
    }
  });
  return { home, workspace: repoDirs.webshop, repos: repoDirs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? fs.mkdtempSync(path.join(root, '.cache', 'demo-')));
  fs.mkdirSync(dir, { recursive: true });
  console.log(JSON.stringify(buildDemoHome(dir), null, 2));
}
