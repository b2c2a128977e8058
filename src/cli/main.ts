import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Indexer, type Logger } from '../core/ingest/indexer';
import { type RepoInfo, repoInfo } from '../core/git/repo';
import { BranchLookups } from '../core/git/lookups';
import { prForBranch } from '../core/store/pullRequests';
import { prSummary } from '../core/store/prTotals';
import { ADAPTERS, sourceEnvFrom } from '../core/sources/registry';
import { WriterLease } from '../core/store/lease';
import { branchSummary, diagnostics, grandTotal, listSessions, type SessionView } from '../core/store/queries';
import { Store } from '../core/store/store';
import { daily, explainSession } from '../core/pricing/report';
import { checkTimeZone, systemTimeZone } from '../core/time';
import { explanationMarkdown } from '../core/pricing/explainText';
import { dailyUsage } from '../core/store/daily';
import { exportText, sessionJson } from '../core/export';
import { formatAgo, formatTokens, formatUsd, sessionLabel } from '../core/text';
import { costLabel } from '../core/report';
import { totalTokens } from '../core/model/session';
import { Output, jsonArray } from './output';

/**
 * `agent-handler`: the same core as the extension, for scripts, benchmarks and checks.
 * Every command brings the index up to date with the transcripts first (only what changed is read).
 */

const USAGE = `usage: agent-handler <command> [options]

commands:
  sessions [--json]             every session (subagents carry parent_session_id)
  branch --cwd DIR [--json]     what the status bar shows for a workspace at DIR, with its PR
  pr --cwd DIR [--number N] [--json]
                                a pull request's totals: its head branch's requests plus those of
                                sessions that worked on it from another branch (default: the PR
                                of the branch checked out at DIR)
  diagnostics [--json]          files, skipped lines, unpriced models
  daily [--json] [--tz ZONE]    per calendar day in ZONE (default: the system's): tokens by kind,
                                cost, unpriced requests, per agent and per model
  explain --session ID [--json] how a session's cost (with its subagents) was made: per model,
                                tokens × price = cost, rules, unpriced requests, the agent's figure
  export --format csv|json [--what sessions|daily] [--out FILE] [--tz ZONE]
                                every session (all fields) or the totals per day in ZONE, agent
                                and model; to FILE or standard output

options:
  --spool DIR                   also read Agent Handler's hook/telemetry spool (the extension's
                                global storage folder + /spool) for exact live status
  --store PATH                  the index file to create or reuse (default: ${defaultStore()})
  --gh                          also ask \`gh pr view <branch>\` when no transcript names the PR (network)
  --help                        this text`;

class UsageError extends Error {}

/** Every byte the CLI prints goes through these two (see output.ts for why). */
const stdout = new Output(process.stdout, (err) => {
  void stderr.write(`agent-handler: cannot write to standard output: ${err.code ?? err.message}\n`);
  process.exitCode = 1;
});
const stderr = new Output(process.stderr);

function defaultStore(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), '.cache');
  return path.join(cache, 'agent-handler', 'cli-store.sqlite');
}

interface Args {
  command: string;
  json: boolean;
  store: string;
  cwd: string | null;
  tz: string | null;
  session: string | null;
  number: number | null;
  gh: boolean;
  spool: string | null;
  format: string | null;
  what: string;
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    command: '',
    json: false,
    store: defaultStore(),
    cwd: null,
    tz: null,
    session: null,
    number: null,
    gh: false,
    spool: null,
    format: null,
    what: 'sessions',
    out: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--store') args.store = path.resolve(value());
    else if (a === '--cwd') args.cwd = path.resolve(value());
    else if (a === '--tz') args.tz = value();
    else if (a === '--session') args.session = value();
    else if (a === '--gh') args.gh = true;
    else if (a === '--number') {
      const v = value().replace(/^#/, '');
      if (!/^\d+$/.test(v) || Number(v) <= 0) throw new UsageError(`--number needs a pull request number, not ${v}`);
      args.number = Number(v);
    } else if (a === '--spool') args.spool = path.resolve(value());
    else if (a === '--format') args.format = value();
    else if (a === '--what') args.what = value();
    else if (a === '--out') args.out = path.resolve(value());
    else if (a === '--help' || a === '-h') args.command = 'help';
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (!args.command) args.command = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  return args;
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: (m) => void stderr.write(`${m}\n`) };

async function openIndexed(storePath: string, spoolDir: string | null): Promise<Store> {
  const env = sourceEnvFrom(process.env, os.homedir(), undefined, spoolDir ?? undefined);
  for (const adapter of ADAPTERS) {
    for (const root of adapter.roots(env)) {
      try {
        await fsp.readdir(root);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR')
          throw new UsageError(`cannot read ${adapter.displayName} folder ${root}: ${code}`);
      }
    }
  }
  await fsp.mkdir(path.dirname(storePath), { recursive: true });
  const store = await Store.open(storePath);
  const lease = new WriterLease(`${storePath}.lock`);
  const writer = await lease.tryAcquire();
  try {
    await new Indexer(store, ADAPTERS, env, quiet).scanAll();
    // Another process (a VS Code window) writes this store: index in memory, leave the file to it.
    if (writer) await store.persist();
  } finally {
    await lease.release();
  }
  return store;
}

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

async function printTable(sessions: SessionView[]): Promise<void> {
  const now = Date.now();
  const rows = sessions.map((s) => [
    s.status,
    s.framework,
    s.parent_session_id ? `  ↳ ${sessionLabel(s, 50)}` : sessionLabel(s, 52),
    s.git_branch ?? '',
    formatAgo(s.last_activity, now),
    s.token_totals_pending && totalTokens(s) === 0 ? 'at exit' : formatTokens(totalTokens(s)),
    costLabel(s),
    s.session_id,
  ]);
  const head = ['STATUS', 'AGENT', 'TITLE', 'BRANCH', 'ACTIVE', 'TOKENS', 'COST', 'ID'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  await stdout.writeAll(
    [head, ...rows].map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd()}\n`,
    ),
  );
}

/** Parents first, each followed by its subagents, so the table reads as a tree. */
function treeOrder(sessions: SessionView[]): SessionView[] {
  const byId = new Map(sessions.map((s) => [s.session_id, s]));
  const out: SessionView[] = [];
  const visit = (s: SessionView) => {
    out.push(s);
    for (const id of s.subagent_ids) {
      const c = byId.get(id);
      if (c) visit(c);
    }
  };
  for (const s of sessions) if (!s.parent_session_id || !byId.has(s.parent_session_id)) visit(s);
  return out;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  switch (args.command) {
    case 'help':
      await stdout.write(`${USAGE}\n`);
      return 0;
    case 'sessions': {
      const store = await openIndexed(args.store, args.spool);
      const sessions = listSessions(store);
      if (args.json) await stdout.writeAll(jsonArray(sessions.map(sessionJson)));
      else await printTable(treeOrder(sessions));
      return 0;
    }
    case 'branch': {
      if (!args.cwd) throw new UsageError('branch needs --cwd DIR');
      const repo = await repoInfo(args.cwd);
      const store = await openIndexed(args.store, args.spool);
      if (!repo) {
        const t = grandTotal(store);
        const out = { repo: null, branch: null, sessions: listSessions(store).length, live: 0, ...t };
        await stdout.write(
          args.json
            ? `${JSON.stringify(out, null, 2)}\n`
            : `no git repository at ${args.cwd}; all sessions: ${formatUsd(t.cost_usd)}\n`,
        );
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
      if (args.json) await stdout.write(`${JSON.stringify(out, null, 2)}\n`);
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
    case 'pr': {
      if (!args.cwd) throw new UsageError('pr needs --cwd DIR');
      const repo = await repoInfo(args.cwd);
      if (!repo) throw new UsageError(`no git repository at ${args.cwd}`);
      const store = await openIndexed(args.store, args.spool);
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
        if (args.json)
          await stdout.write(
            `${JSON.stringify({ repo: repo.github_repo ?? repo.toplevel, pr: null, reason: what }, null, 2)}\n`,
          );
        else await stdout.write(`${what}\n`);
        return 0;
      }
      const out = {
        repo: repo.github_repo ?? repo.toplevel,
        ...summary,
        pr: { number: summary.pr.number, url: summary.pr.url, source: summary.pr.source },
      };
      if (args.json) await stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      else {
        const tokens =
          summary.tokens_input + summary.tokens_output + summary.tokens_cache_read + summary.tokens_cache_write;
        await stdout.write(
          `${out.repo} #${summary.pr.number} (${summary.pr.source}) · head ${summary.head_branch ?? 'unknown'} · ${summary.sessions} sessions · ${formatTokens(tokens)} tok · ${formatUsd(summary.cost_usd)}${summary.unpriced_requests ? ` + ${summary.unpriced_requests} unpriced requests` : ''}\n`,
        );
      }
      return 0;
    }
    case 'diagnostics': {
      const store = await openIndexed(args.store, args.spool);
      const d = diagnostics(store);
      await stdout.write(
        args.json
          ? `${JSON.stringify(d, null, 2)}\n`
          : `${d.files} files (${d.files_deleted} gone), ${d.sessions} sessions, ${d.requests} requests, ${d.lines_skipped} lines skipped\n`,
      );
      return 0;
    }
    case 'daily': {
      let tz = systemTimeZone();
      if (args.tz) {
        try {
          tz = checkTimeZone(args.tz);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      const store = await openIndexed(args.store, args.spool);
      const report = daily(store, tz);
      if (args.json) await stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        await stdout.write(`days in ${report.time_zone}; prices: ${report.price_data}\n`);
        for (const d of report.days) {
          const tokens = d.input + d.output + d.cache_read + d.cache_write;
          await stdout.write(
            `${d.date}  ${formatTokens(tokens).padStart(7)} tok  ${formatUsd(d.cost_usd).padStart(9)}${d.unpriced_requests ? ` + ${d.unpriced_requests} unpriced` : ''}  ${d.by_agent.map((a) => a.agent).join(', ')}\n`,
          );
        }
      }
      return 0;
    }
    case 'export': {
      if (args.format !== 'csv' && args.format !== 'json')
        throw new UsageError('export needs --format csv or --format json');
      if (args.what !== 'sessions' && args.what !== 'daily') throw new UsageError('--what is sessions or daily');
      let zone = systemTimeZone();
      if (args.tz) {
        try {
          zone = checkTimeZone(args.tz);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      const store = await openIndexed(args.store, args.spool);
      const text = exportText(
        args.what,
        args.format,
        args.what === 'sessions'
          ? { sessions: treeOrder(listSessions(store)) }
          : { daily: dailyUsage(store, { timeZone: zone }) },
      );
      if (!args.out) await stdout.write(text);
      else {
        try {
          await fsp.writeFile(args.out, text);
        } catch (err) {
          throw new UsageError(
            `cannot write ${args.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
        }
      }
      return 0;
    }
    case 'explain': {
      if (!args.session) throw new UsageError('explain needs --session ID');
      const store = await openIndexed(args.store, args.spool);
      const e = explainSession(store, args.session);
      if (!e) throw new UsageError(`no session ${args.session}`);
      await stdout.write(args.json ? `${JSON.stringify(e, null, 2)}\n` : explanationMarkdown(e));
      return 0;
    }
    case '':
      throw new UsageError('missing command');
    default:
      throw new UsageError(`unknown command ${args.command}`);
  }
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

main(process.argv.slice(2)).then(finish, async (err: unknown) => {
  if (err instanceof UsageError) {
    await stderr.write(`agent-handler: ${err.message}\n${err.message === 'missing command' ? `${USAGE}\n` : ''}`);
    finish(2);
    return;
  }
  await stderr.write(`agent-handler: ${(err as Error).stack ?? String(err)}\n`);
  finish(1);
});
