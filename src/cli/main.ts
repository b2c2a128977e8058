import { promises as fsp } from 'node:fs';
import type { Logger } from '../core/ingest/indexer';
import { type RepoInfo, repoInfo } from '../core/git/repo';
import { BranchLookups } from '../core/git/lookups';
import { prForBranch } from '../core/store/pullRequests';
import { prSummary } from '../core/store/prTotals';
import {
  type SessionView,
  branchSummary,
  diagnostics,
  grandTotal,
  listSessions,
  listSessionsWithClock,
} from '../core/store/queries';
import { type Store } from '../core/store/store';
import { daily, explainSession } from '../core/pricing/report';
import { checkTimeZone, systemTimeZone } from '../core/time';
import { explanationMarkdown } from '../core/pricing/explainText';
import { dailyUsage } from '../core/store/daily';
import { exportText } from '../core/export';
import { formatAgo, formatTokens, formatUsd, sessionLabel } from '../core/text';
import { costLabel } from '../core/report';
import { totalTokens } from '../core/model/session';
import { Output } from './output';
import { type Args, USAGE, UsageError, parseArgs } from './args';
import { type Verdict, debugPath, answerNow } from './manifest';
import { savedSessions } from './manifestWrite';
import { freshness, openIndexed } from './openStore';
import { SyncFailed, prMarkdownCommand, sharedBranch, sharedPr, syncCommand } from './sync';

/**
 * `agent-handler`: the same core as the extension, for scripts, benchmarks and checks.
 * Every command brings the index up to date with the transcripts first (only what changed is read).
 */

/** Every byte the CLI prints goes through these two (see output.ts for why). */
const stdout = new Output(process.stdout, (err) => {
  void stderr.write(`agent-handler: cannot write to standard output: ${err.code ?? err.message}\n`);
  process.exitCode = 1;
});
const stderr = new Output(process.stderr);

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: (m) => void stderr.write(`${m}\n`) };

/** Sync's output (src/cli/sync.ts): a failure it explained on stderr makes the command exit 1. */
const io = { stdout, stderr };

/** The store, up to date (openStore.ts); the answer of `sessions` saves its own manifest. */
async function indexed(args: Args): Promise<Store> {
  return (await openIndexed(args.store, args.spool, quiet)).store;
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

async function main(argv: string[], thinVerdict?: Verdict): Promise<number> {
  const args = parseArgs(argv);
  switch (args.command) {
    case 'help':
      await stdout.write(`${USAGE}\n`);
      return 0;
    case 'sessions': {
      const fresh = await freshness(args.store, args.spool, thinVerdict);
      if (args.json && fresh.holds && fresh.manifest.sessions) {
        debugPath('answered from the scan manifest');
        await stdout.writeBytes(answerNow(fresh.manifest));
        return 0;
      }
      const { store, saveManifest } = await openIndexed(args.store, args.spool, quiet, true);
      const listed = listSessionsWithClock(store);
      const saved = savedSessions(listed);
      if (args.json) await stdout.writeBytes(saved.pieces);
      else await printTable(treeOrder(listed.views));
      await saveManifest(saved);
      return 0;
    }
    case 'branch': {
      if (!args.cwd) throw new UsageError('branch needs --cwd DIR');
      const repo = await repoInfo(args.cwd);
      const store = await indexed(args);
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
      try {
        Object.assign(out, await sharedBranch(args, io, store, repo));
      } catch (err) {
        if (err instanceof SyncFailed) return 1;
        throw err;
      }
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
      if (args.markdown) {
        const repo = await repoInfo(args.cwd ?? process.cwd());
        return prMarkdownCommand(args, io, await indexed(args), repo, null);
      }
      if (!args.cwd) throw new UsageError('pr needs --cwd DIR');
      const repo = await repoInfo(args.cwd);
      if (!repo) throw new UsageError(`no git repository at ${args.cwd}`);
      const store = await indexed(args);
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
        try {
          // Another machine may know it: the shared totals by its number (and its head branch there).
          if (number !== null) Object.assign(unknown, await sharedPr(args, io, store, repo, number, null));
        } catch (err) {
          if (err instanceof SyncFailed) return 1;
          throw err;
        }
        if (args.json) await stdout.write(`${JSON.stringify(unknown, null, 2)}\n`);
        else await stdout.write(`${what}\n`);
        return 0;
      }
      const out = {
        repo: repo.github_repo ?? repo.toplevel,
        ...summary,
        pr: { number: summary.pr.number, url: summary.pr.url, source: summary.pr.source },
      };
      try {
        Object.assign(out, await sharedPr(args, io, store, repo, summary.pr.number, summary.head_branch));
      } catch (err) {
        if (err instanceof SyncFailed) return 1;
        throw err;
      }
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
      const store = await indexed(args);
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
      const store = await indexed(args);
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
      const store = await indexed(args);
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
      const store = await indexed(args);
      const e = explainSession(store, args.session);
      if (!e) throw new UsageError(`no session ${args.session}`);
      await stdout.write(args.json ? `${JSON.stringify(e, null, 2)}\n` : explanationMarkdown(e));
      return 0;
    }
    case 'sync':
      return syncCommand(args, io, () => indexed(args), quiet);
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

/**
 * Runs the command line (the thin entry, entry.ts, calls it when it could not answer alone; its
 * verdict on the scan manifest comes along so the manifest is not read twice).
 */
export function runCli(argv: string[], thinVerdict?: Verdict): void {
  main(argv, thinVerdict).then(finish, async (err: unknown) => {
    if (err instanceof UsageError) {
      await stderr.write(`agent-handler: ${err.message}\n${err.message === 'missing command' ? `${USAGE}\n` : ''}`);
      finish(2);
      return;
    }
    await stderr.write(`agent-handler: ${(err as Error).stack ?? String(err)}\n`);
    finish(1);
  });
}
