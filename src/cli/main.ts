import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type RepoInfo, repoInfo } from '../core/git/repo';
import { BranchLookups } from '../core/git/lookups';
import { isWholeTime, periodFilter } from '../core/period';
import { prForBranch } from '../core/store/pullRequests';
import { prSummary } from '../core/store/prTotals';
import {
  type SessionView,
  branchSummary,
  diagnostics,
  grandTotal,
  listSessions,
  listSessionsWithClock,
  sessionIdsStartingWith,
} from '../core/store/queries';
import { type Store } from '../core/store/store';
import { explainSession } from '../core/pricing/report';
import { explanationMarkdown } from '../core/pricing/explainText';
import { dailyUsage } from '../core/store/daily';
import { exportText } from '../core/export';
import { writeNewPrivateOrExisting } from '../core/privateFs';
import { formatAgo, formatTokens, formatUsd, sessionLabel } from '../core/text';
import { costLabel } from '../core/report';
import { totalTokens } from '../core/model/session';
import { type Args, UsageError, commandHelp, parseArgs, usageText } from './args';
import { EXIT_USAGE, checkPaths, debugDetail, describeError } from './errors';
import { indexed, indexedStore, json, periodOf, quiet, stderr, stdout, tableStyle, treeOrder, zoneOf } from './io';
import { type Verdict, debugPath, answerNow } from './manifest';
import { savedSessions } from './manifestWrite';
import { freshness } from './openStore';
import { SyncFailed, prMarkdownCommand, sharedBranch, sharedPr, syncCommand } from './sync';
import { blocksCommand, dailyCommand, monthlyCommand, weeklyCommand } from './reports';
import { type Column, renderTable, tokenCell, usdColumn } from './table';

/**
 * `agent-handler`: the same core as the extension, for scripts, benchmarks and checks.
 * Every command brings the index up to date with the transcripts first (only what changed is read).
 * Commands are the COMMANDS table: a new one is a function and a line there (and its help in args.ts).
 */

/** The default branch, the diff and `--gh`'s PR lookup, as the extension does them; gh's answers kept in the index. */
function branchLookups(store: Store): BranchLookups {
  return new BranchLookups(store, {
    unavailable: (reason) => stderr.write(`agent-handler: gh could not answer (${reason})\n`),
  });
}

/** `--gh`: asks gh for the branch's PR when no transcript names it (every run: the CLI keeps no earlier answer's age). */
async function askGh(lookups: BranchLookups, store: Store, repo: RepoInfo, def: string | null): Promise<void> {
  const known = prForBranch(store, repo.git_dir, repo.branch, def);
  await lookups.askGh(repo.git_dir, repo.toplevel, repo.branch, def, known?.source ?? null, false);
}

function sessionsTable(args: Args, sessions: SessionView[]): string[] {
  const now = Date.now();
  const usd = usdColumn(sessions.map((s) => s.cost_usd ?? 0));
  const rows = sessions.map((s) => [
    s.status,
    s.framework,
    s.parent_session_id ? `  ↳ ${sessionLabel(s, 200)}` : sessionLabel(s, 200),
    s.git_branch ?? '',
    formatAgo(s.last_activity, now),
    s.token_totals_pending && totalTokens(s) === 0 ? 'at exit' : tokenCell(totalTokens(s), args.exact),
    costLabel(s, usd),
    s.session_id,
  ]);
  const columns: Column[] = [
    { head: 'STATUS' },
    { head: 'AGENT' },
    { head: 'TITLE', shrink: 2, min: 12 },
    { head: 'BRANCH', shrink: 3, min: 10 },
    { head: 'ACTIVE' },
    { head: 'TOKENS', right: true },
    { head: 'COST', right: true },
    // Shortened first: a unique prefix is enough wherever an id is asked for (explain --session).
    { head: 'ID', shrink: 1, min: 8, cut: 'prefix' },
  ];
  const unpriced = sessions.reduce((a, s) => a + s.unpriced_requests, 0);
  const totals =
    sessions.length > 1
      ? [
          'Total',
          '',
          `${sessions.length} sessions`,
          '',
          '',
          tokenCell(
            sessions.reduce((a, s) => a + totalTokens(s), 0),
            args.exact,
          ),
          costLabel(
            { cost_usd: sessions.reduce((a, s) => a + (s.cost_usd ?? 0), 0), unpriced_requests: unpriced },
            usd,
          ),
          '',
        ]
      : undefined;
  return renderTable(columns, rows, tableStyle(args), totals);
}

async function sessions(args: Args, thinVerdict?: Verdict): Promise<number> {
  const period = periodOf(args);
  const whole = isWholeTime(period);
  if (whole) {
    const fresh = await freshness(args.store, args.spool, thinVerdict);
    if (args.json && fresh.holds && fresh.manifest.sessions) {
      debugPath('answered from the scan manifest');
      await stdout.writeBytes(answerNow(fresh.manifest));
      return 0;
    }
  }
  const { store, saveManifest } = await indexed(args, true);
  const listed = listSessionsWithClock(store);
  const saved = savedSessions(listed);
  const keep = periodFilter(period, zoneOf(args));
  const views = whole ? listed.views : listed.views.filter((s) => keep(s.last_activity));
  if (args.json) await stdout.writeBytes(whole ? saved.pieces : savedSessions({ views, clocks: [] }).pieces);
  else await stdout.writeAll(sessionsTable(args, treeOrder(views)));
  await saveManifest(saved);
  return 0;
}

/** Sync's output (src/cli/sync.ts). */
const io = { stdout, stderr };

/**
 * Adds the shared database's totals (`--postgres`, src/cli/sync.ts) to `out`. False when sync
 * failed: sync.ts has said why on stderr, and the command exits 1.
 */
async function addShared(out: object, shared: () => Promise<object | null>): Promise<boolean> {
  try {
    Object.assign(out, await shared());
    return true;
  } catch (err) {
    if (err instanceof SyncFailed) return false;
    throw err;
  }
}

/** --cwd, else the current directory. */
function cwdOf(args: Args): string {
  return args.cwd ?? process.cwd();
}

async function branch(args: Args): Promise<number> {
  const cwd = cwdOf(args);
  const repo = await repoInfo(cwd);
  const store = await indexedStore(args);
  if (!repo) {
    const t = grandTotal(store);
    const out = { repo: null, branch: null, sessions: listSessions(store).length, live: 0, ...t };
    await stdout.write(args.json ? json(out) : `no git repository at ${cwd}; all sessions: ${formatUsd(t.cost_usd)}\n`);
    return 0;
  }
  const lookups = branchLookups(store);
  const def = await lookups.defaultBranch(repo.git_dir, repo.toplevel);
  if (args.gh) await askGh(lookups, store, repo, def);
  const summary = branchSummary(store, repo.git_dir, repo.branch, undefined, def);
  const diff = await lookups.diff(repo.git_dir, repo.toplevel, repo.branch);
  const out = {
    repo: repo.github_repo ?? repo.toplevel,
    ...summary,
    pr: summary.pr ? { number: summary.pr.number, url: summary.pr.url, source: summary.pr.source } : null,
    diff: diff ? { additions: diff.additions, deletions: diff.deletions, base: diff.base } : null,
  };
  if (!(await addShared(out, () => sharedBranch(args, io, store, repo)))) return 1;
  if (args.json) await stdout.write(json(out));
  else {
    const tokens =
      summary.tokens_input + summary.tokens_output + summary.tokens_cache_read + summary.tokens_cache_write;
    const pr = summary.pr ? ` · #${summary.pr.number} (${summary.pr.source})` : '';
    await stdout.write(
      `${out.repo} · ${repo.branch}${pr} · ${summary.sessions} sessions (${summary.live} live) · ${formatTokens(tokens)} tok · ${formatUsd(summary.cost_usd)}${summary.unpriced_requests ? ` + ${summary.unpriced_requests} unpriced requests` : ''}\n`,
    );
  }
  return 0;
}

async function pr(args: Args): Promise<number> {
  const cwd = cwdOf(args);
  const repo = await repoInfo(cwd);
  if (args.markdown) return prMarkdownCommand(args, io, await indexedStore(args), repo, null);
  if (!repo) throw new UsageError(`no git repository at ${cwd}: run it inside a repository or give --cwd DIR`);
  const store = await indexedStore(args);
  const lookups = branchLookups(store);
  const def = await lookups.defaultBranch(repo.git_dir, repo.toplevel);
  if (args.gh && args.number === null) await askGh(lookups, store, repo, def);
  const number = args.number ?? prForBranch(store, repo.git_dir, repo.branch, def)?.number ?? null;
  const summary = number === null ? null : prSummary(store, repo.git_dir, number, def);
  if (!summary) {
    const what =
      number === null
        ? `no pull request is known for ${repo.branch}`
        : `pull request #${number} is not known in ${repo.github_repo ?? repo.toplevel}`;
    const unknown = { repo: repo.github_repo ?? repo.toplevel, pr: null, reason: what };
    // Another machine may know it: the shared totals by its number (and its head branch there).
    if (number !== null && !(await addShared(unknown, () => sharedPr(args, io, store, repo, number, null)))) return 1;
    await stdout.write(args.json ? json(unknown) : `${what}\n`);
    return 0;
  }
  const out = {
    repo: repo.github_repo ?? repo.toplevel,
    ...summary,
    pr: { number: summary.pr.number, url: summary.pr.url, source: summary.pr.source },
  };
  if (!(await addShared(out, () => sharedPr(args, io, store, repo, summary.pr.number, summary.head_branch)))) return 1;
  if (args.json) await stdout.write(json(out));
  else {
    const tokens =
      summary.tokens_input + summary.tokens_output + summary.tokens_cache_read + summary.tokens_cache_write;
    await stdout.write(
      `${out.repo} #${summary.pr.number} (${summary.pr.source}) · head ${summary.head_branch ?? 'unknown'} · ${summary.sessions} sessions · ${formatTokens(tokens)} tok · ${formatUsd(summary.cost_usd)}${summary.unpriced_requests ? ` + ${summary.unpriced_requests} unpriced requests` : ''}\n`,
    );
  }
  return 0;
}

async function diagnosticsCommand(args: Args): Promise<number> {
  const d = diagnostics(await indexedStore(args));
  await stdout.write(
    args.json
      ? json(d)
      : `${d.files} files (${d.files_deleted} gone), ${d.sessions} sessions, ${d.requests} requests, ${d.lines_skipped} lines skipped\n`,
  );
  return 0;
}

async function exportCommand(args: Args): Promise<number> {
  if (args.format !== 'csv' && args.format !== 'json')
    throw new UsageError('export needs --format csv or --format json');
  if (args.what !== 'sessions' && args.what !== 'daily') throw new UsageError('--what is sessions or daily');
  const zone = zoneOf(args);
  const keep = periodFilter(periodOf(args), zone);
  const store = await indexedStore(args);
  const text = exportText(
    args.what,
    args.format,
    args.what === 'sessions'
      ? { sessions: treeOrder(listSessions(store).filter((s) => keep(s.last_activity))) }
      : { daily: dailyUsage(store, { timeZone: zone, keep }) },
  );
  if (!args.out) await stdout.write(text);
  else {
    try {
      // Private when we create it (it lists prompts); a file that was there keeps its mode.
      await writeNewPrivateOrExisting(args.out, text);
    } catch (err) {
      throw new UsageError(
        `cannot write ${args.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  return 0;
}

/** A session id, or a unique prefix of one (as git and docker take them). */
function resolveSession(store: Store, id: string): string {
  const matches = sessionIdsStartingWith(store, id, 11);
  if (matches.includes(id) || matches.length === 1) return matches.includes(id) ? id : matches[0];
  if (!matches.length) throw new UsageError(`no session ${id} (agent-handler sessions lists them)`);
  const shown = matches.slice(0, 10).join(', ');
  throw new UsageError(
    `session id ${id} is ambiguous: ${matches.length > 10 ? 'more than 10' : matches.length} sessions match (${shown}${matches.length > 10 ? ', …' : ''}); give more of it`,
  );
}

async function explain(args: Args): Promise<number> {
  if (!args.session) throw new UsageError('explain needs --session ID');
  const store = await indexedStore(args);
  const e = explainSession(store, resolveSession(store, args.session));
  if (!e) throw new UsageError(`no session ${args.session}`);
  await stdout.write(args.json ? json(e) : explanationMarkdown(e));
  return 0;
}

/** The CLI's version: package.json's, next to dist/ in the repository, the npm package and the .vsix. */
export function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

async function help(args: Args): Promise<number> {
  const what = args.helpFor ?? '';
  if (!what || what === 'help') {
    await stdout.write(`${usageText()}\n`);
    return 0;
  }
  const text = commandHelp(what);
  if (!text) throw new UsageError(`unknown command ${what} (see agent-handler --help)`);
  await stdout.write(`${text}\n`);
  return 0;
}

type Command = (args: Args, thinVerdict?: Verdict) => Promise<number>;

/** Every command, by name; each has its help in args.ts COMMAND_HELP. */
export const COMMANDS: Record<string, Command> = {
  sessions,
  branch,
  pr,
  diagnostics: diagnosticsCommand,
  daily: dailyCommand,
  weekly: weeklyCommand,
  monthly: monthlyCommand,
  blocks: blocksCommand,
  explain,
  export: exportCommand,
  sync: (args) => syncCommand(args, io, () => indexedStore(args), quiet),
  help,
};

async function main(argv: string[], thinVerdict?: Verdict): Promise<number> {
  if (argv.includes('--debug')) process.env.AGENT_HANDLER_DEBUG = '1';
  const args = parseArgs(argv);
  if (args.version) {
    await stdout.write(args.json ? json({ version: version() }) : `agent-handler ${version()}\n`);
    return 0;
  }
  if (!args.command) throw new UsageError('missing command');
  const command = Object.hasOwn(COMMANDS, args.command) ? COMMANDS[args.command] : undefined;
  if (!command) throw new UsageError(`unknown command ${args.command} (see agent-handler --help)`);
  if (command !== help) await checkPaths(args);
  return command(args, thinVerdict);
}

/**
 * The exit code, and no process.exit: the process ends by itself once every queued write has
 * reached the OS (an exit before that truncates output on a pipe), and nothing else keeps it alive
 * (the store is in memory, git runs to completion, no timers or watchers). A stdout write that
 * failed for another reason than a reader gone makes the run a failure whatever the command said.
 */
function finish(code: number): void {
  process.exitCode = stdout.error ? 1 : code;
}

/**
 * Runs the command line (the thin entry, entry.ts, calls it when it could not answer alone; its
 * verdict on the scan manifest comes along so the manifest is not read twice).
 */
export function runCli(argv: string[], thinVerdict?: Verdict): void {
  main(argv, thinVerdict).then(finish, async (err: unknown) => {
    const { line, code } = describeError(err);
    const usage = err instanceof UsageError && err.message === 'missing command' ? `${usageText()}\n` : '';
    await stderr.write(`agent-handler: ${line}\n${debugDetail(err)}${usage}`);
    finish(code === EXIT_USAGE ? EXIT_USAGE : code);
  });
}
