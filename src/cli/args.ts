import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The CLI's command line: shared by the thin entry (entry.ts, which answers `sessions` from the scan
 * manifest without loading the rest) and the full CLI (main.ts).
 */

export const USAGE = `usage: agent-handler <command> [options]

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
  sync [--postgres URL] [--watch] [--machine-id ID] [--machine-name NAME] [--include titles,prompts]
                                index, then push this machine's sessions and requests to a shared
                                PostgreSQL (docs/sync.md); --watch keeps pushing (--interval SECONDS)
  pr --number N --postgres URL --markdown [--repo OWNER/NAME]
                                the PR's bill across every machine, as Markdown for a PR comment

options:
  --spool DIR                   also read Agent Handler's hook/telemetry spool (the extension's
                                global storage folder + /spool) for exact live status
  --store PATH                  the index file to create or reuse (default: ${defaultStore()})
  --gh                          also ask \`gh pr view <branch>\` when no transcript names the PR (network)
  --postgres URL                the shared PostgreSQL (default: $AGENT_HANDLER_POSTGRES); branch and
                                pr --json then push first and add every machine's totals (machines)
  --help                        this text`;

export class UsageError extends Error {}

export function defaultStore(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), '.cache');
  return path.join(cache, 'agent-handler', 'cli-store.sqlite');
}

export interface Args {
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
  /** Sync (src/cli/sync.ts): the shared PostgreSQL and this machine's name in it. */
  postgres: string | null;
  watch: boolean;
  machineId: string | null;
  machineName: string | null;
  include: string[];
  markdown: boolean;
  repo: string | null;
  batchSize: number | null;
  interval: number | null;
}

function positive(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new UsageError(`${flag} needs a positive number, not ${v}`);
  return Number(v);
}

export function parseArgs(argv: string[]): Args {
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
    postgres: null,
    watch: false,
    machineId: null,
    machineName: null,
    include: [],
    markdown: false,
    repo: null,
    batchSize: null,
    interval: null,
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
    else if (a === '--postgres') args.postgres = value();
    else if (a === '--watch') args.watch = true;
    else if (a === '--machine-id') args.machineId = value();
    else if (a === '--machine-name') args.machineName = value();
    else if (a === '--include') args.include = value().split(',').filter(Boolean);
    else if (a === '--markdown') args.markdown = true;
    else if (a === '--repo') args.repo = value();
    else if (a === '--batch-size') args.batchSize = positive(a, value());
    else if (a === '--interval') args.interval = positive(a, value());
    else if (a === '--help' || a === '-h') args.command = 'help';
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (!args.command) args.command = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  return args;
}
