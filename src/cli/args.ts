import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The CLI's command line: shared by the thin entry (entry.ts, which answers `sessions` from the scan
 * manifest without loading the rest) and the full CLI (main.ts). Kept free of anything heavy: the
 * thin entry bundles it.
 */

/** Each command's one-line synopsis and what it does, in the order `--help` lists them. */
export const COMMAND_HELP: Record<string, { synopsis: string; text: string }> = {
  sessions: {
    synopsis: 'sessions [--since WHEN] [--until WHEN] [--json]',
    text: 'every session (subagents carry parent_session_id); --since/--until keep the sessions active in that period',
  },
  branch: {
    synopsis: 'branch [--cwd DIR] [--gh] [--json]',
    text: 'what the status bar shows for the workspace at DIR (default: the current directory), with its PR',
  },
  pr: {
    synopsis: 'pr [--cwd DIR] [--number N] [--gh] [--json]',
    text:
      "a pull request's totals: its head branch's requests plus those of sessions that worked on it from another\n" +
      'branch (default: the PR of the branch checked out at DIR, itself the current directory by default)',
  },
  diagnostics: { synopsis: 'diagnostics [--json]', text: 'files, skipped lines, unpriced models' },
  daily: {
    synopsis: 'daily [--since WHEN] [--until WHEN] [--tz ZONE] [--json]',
    text: "per calendar day in ZONE (default: $TZ, else the system's): tokens by kind, cost, unpriced requests, per agent and model",
  },
  weekly: {
    synopsis: 'weekly [--start-of-week monday|sunday|…] [--since WHEN] [--until WHEN] [--tz ZONE] [--json]',
    text: 'as daily, per week (weeks start on Monday unless --start-of-week says otherwise)',
  },
  monthly: {
    synopsis: 'monthly [--since WHEN] [--until WHEN] [--tz ZONE] [--json]',
    text: 'as daily, per calendar month',
  },
  blocks: {
    synopsis: 'blocks [--active] [--since WHEN] [--until WHEN] [--json]',
    text:
      '5-hour billing windows as ccusage computes them: a window starts at the hour of its first request and\n' +
      'lasts 5 hours; the active one with its burn rate and projection to its end; gaps between windows',
  },
  explain: {
    synopsis: 'explain --session ID [--json]',
    text: "how a session's cost (with its subagents) was made: per model, tokens × price = cost, rules, unpriced\nrequests, the agent's figure. ID may be a unique prefix",
  },
  export: {
    synopsis: 'export --format csv|json [--what sessions|daily] [--since WHEN] [--until WHEN] [--out FILE] [--tz ZONE]',
    text: 'every session (all fields) or the totals per day in ZONE, agent and model; to FILE or standard output',
  },
  sync: {
    synopsis: 'sync [--postgres URL] [--watch] [--machine-id ID] [--machine-name NAME] [--include titles,prompts]',
    text:
      "index, then push this machine's sessions and requests to a shared PostgreSQL (docs/sync.md);\n" +
      "--watch keeps pushing (--interval SECONDS). `pr --number N --postgres URL --markdown` prints the PR's bill\n" +
      'across every machine, as Markdown for a PR comment',
  },
  help: { synopsis: 'help [COMMAND]', text: 'this text, or one command in detail' },
};

const OPTIONS = `options:
  --json                        machine-readable output (every command)
  --since WHEN, --until WHEN    a period: YYYY-MM-DD or YYYYMMDD (local days, both included), an ISO time
                                (2026-12-01T09:00Z), or relative to now: 12h, 7d, 2w
  --tz ZONE, --timezone ZONE    the days' time zone (default: $TZ, else the system's)
  --wide                        tables as wide as their content (default: the terminal's width, 100 when
                                standard output is not a terminal)
  --exact                       exact token counts in tables (default: compact, 73.1K)
  --no-color                    no colour (also NO_COLOR=1; colour is only ever used on a terminal)
  --spool DIR                   also read Agent Handler's hook/telemetry spool (the extension's global
                                storage folder + /spool) for exact live status
  --store PATH                  the index file to create or reuse (default: ${defaultStore()}); a file
                                that is not an Agent Handler store is refused and left untouched
  --gh                          also ask \`gh pr view <branch>\` when no transcript names the PR (network)
  --debug                       a failure's stack trace on stderr (also AGENT_HANDLER_DEBUG=1)
  --postgres URL                the shared PostgreSQL (default: $AGENT_HANDLER_POSTGRES); branch and
                                pr --json then push first and add every machine's totals (machines)
  -V, --version                 the version
  -h, --help                    this text

exit codes: 0 done, 1 a runtime failure (a file that cannot be written, a broken store), 2 bad usage or
input (an unknown option or command, a bad value, a path that is missing or not what it should be)`;

export function usageText(): string {
  const pad = 30;
  const lines = Object.values(COMMAND_HELP).map(({ synopsis, text }) => {
    const first = text.split('\n')[0];
    const head = `  ${synopsis}`;
    return head.length < pad ? `${head.padEnd(pad)}${first}` : `${head}\n${' '.repeat(pad)}${first}`;
  });
  return `usage: agent-handler <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n${OPTIONS}`;
}

/** `help COMMAND` / `COMMAND --help`: the command's synopsis and full text, then the options. */
export function commandHelp(command: string): string | null {
  const help = COMMAND_HELP[command];
  if (!help) return null;
  return `usage: agent-handler ${help.synopsis}\n\n${help.text}\n\n${OPTIONS}`;
}

export class UsageError extends Error {}

export function defaultStore(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), '.cache');
  return path.join(cache, 'agent-handler', 'cli-store.sqlite');
}

export const WEEK_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export interface Args {
  command: string;
  /** `help COMMAND` or `COMMAND --help`: the command asked about ('' for the general text). */
  helpFor: string | null;
  version: boolean;
  debug: boolean;
  json: boolean;
  store: string;
  /** Whether --store was given: a path a person chose may be anyone's file (db.ts ForeignFiles). */
  storeGiven: boolean;
  cwd: string | null;
  tz: string | null;
  session: string | null;
  number: number | null;
  gh: boolean;
  spool: string | null;
  format: string | null;
  what: string;
  out: string | null;
  since: string | null;
  until: string | null;
  /** 0 = Sunday … 6 = Saturday. */
  startOfWeek: number;
  active: boolean;
  wide: boolean;
  exact: boolean;
  color: boolean;
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
    helpFor: null,
    version: false,
    debug: false,
    json: false,
    store: defaultStore(),
    storeGiven: false,
    cwd: null,
    tz: null,
    session: null,
    number: null,
    gh: false,
    spool: null,
    format: null,
    what: 'sessions',
    out: null,
    since: null,
    until: null,
    startOfWeek: 1,
    active: false,
    wide: false,
    exact: false,
    color: !process.env.NO_COLOR,
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
  let help = false;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--store') {
      args.store = path.resolve(value());
      args.storeGiven = true;
    } else if (a === '--cwd') args.cwd = path.resolve(value());
    else if (a === '--tz' || a === '--timezone') args.tz = value();
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
    else if (a === '--since') args.since = value();
    else if (a === '--until') args.until = value();
    else if (a === '--start-of-week') {
      const v = value().toLowerCase();
      const day = WEEK_DAYS.indexOf(v);
      if (day < 0) throw new UsageError(`--start-of-week is a day of the week (monday, sunday, …), not ${v}`);
      args.startOfWeek = day;
    } else if (a === '--active') args.active = true;
    else if (a === '--wide') args.wide = true;
    else if (a === '--exact') args.exact = true;
    else if (a === '--no-color') args.color = false;
    else if (a === '--color') args.color = true;
    else if (a === '--postgres') args.postgres = value();
    else if (a === '--watch') args.watch = true;
    else if (a === '--machine-id') args.machineId = value();
    else if (a === '--machine-name') args.machineName = value();
    else if (a === '--include') args.include = value().split(',').filter(Boolean);
    else if (a === '--markdown') args.markdown = true;
    else if (a === '--repo') args.repo = value();
    else if (a === '--batch-size') args.batchSize = positive(a, value());
    else if (a === '--interval') args.interval = positive(a, value());
    else if (a === '--debug') args.debug = true;
    else if (a === '--version' || a === '-V') args.version = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a} (see agent-handler --help)`);
    else positional.push(a);
  }
  args.command = positional.shift() ?? '';
  if (args.command === 'help') {
    args.helpFor = positional.shift() ?? '';
  } else if (help) {
    args.helpFor = args.command;
    args.command = 'help';
  }
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  return args;
}
