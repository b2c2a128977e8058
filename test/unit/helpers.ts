/**
 * Shared helpers for the unit tests: temp folders, fixture homes, an indexed store on disk, and
 * builders for hand-made Claude Code records (one builder per record kind, every field explicit).
 * Not a test file itself (node --test only runs *.test.js).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Indexer, type IndexStats, type IndexerOptions, type Logger } from '../../src/core/ingest/indexer';
import { ADAPTERS } from '../../src/core/sources/registry';
import { listSessions, type SessionView } from '../../src/core/store/queries';
import { requestKeyRef } from '../../src/core/store/requests';
import { Store } from '../../src/core/store/store';

/** The repository root, from out/test/unit/ (compiled) or test/unit/ (source maps). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
export const CLAUDE_FIXTURES = path.join(FIXTURES, 'claude');

/** A fixed "now" for status derivation, a week after every fixture's records (2026-11-25). */
export const NOW = Date.parse('2026-12-02T00:00:00.000Z');

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
});

/** A fresh folder under the OS temp dir, removed when the test process exits. */
export async function tempDir(prefix = 'ah-unit-'): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A logger that remembers warnings (skipped lines are reported there). */
export function recordingLogger(): Logger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, info: (m) => infos.push(m), warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
}

/** Claude's project folder name for a cwd: every non-alphanumeric character becomes '-'. */
export function encodeCwd(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

/**
 * A temp HOME holding `.claude/projects/...` copied from a real fixture version. `rewriteCwd`
 * replaces the recorded cwd string (everywhere in the lines) by another path, and the project
 * folder name by its encoding.
 */
export async function fixtureHome(version: '2.1.332' | '2.1.197', opts: { rewriteCwd?: string } = {}): Promise<string> {
  const home = path.join(await tempDir('ah-home-'), 'home');
  const src = path.join(CLAUDE_FIXTURES, version, 'projects');
  const dst = path.join(home, '.claude', 'projects');
  await fsp.mkdir(dst, { recursive: true });
  const oldCwd = `/home/dev/agent/work/repo-claude-${version}`;
  for (const project of await fsp.readdir(src)) {
    const target = opts.rewriteCwd ? encodeCwd(opts.rewriteCwd) : project;
    await copyTree(path.join(src, project), path.join(dst, target), (text) =>
      opts.rewriteCwd ? text.split(oldCwd).join(opts.rewriteCwd) : text,
    );
  }
  return home;
}

async function copyTree(src: string, dst: string, map: (text: string) => string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) await copyTree(s, d, map);
    else await fsp.writeFile(d, map(await fsp.readFile(s, 'utf8')));
  }
}

/** An Indexer over a temp HOME with no environment overrides (never the real ~/.claude). */
export function makeIndexer(
  store: Store,
  home: string,
  log: Logger = silentLogger,
  options: IndexerOptions = {},
): Indexer {
  return new Indexer(store, ADAPTERS, { home, env: {} }, log, options);
}

export interface Indexed {
  store: Store;
  indexer: Indexer;
  stats: IndexStats;
  storeFile: string;
  sessions: Map<string, SessionView>;
}

/** Opens (or creates) a store file and runs a full scan of `home`. */
export async function indexHome(home: string, storeFile?: string, log: Logger = silentLogger): Promise<Indexed> {
  const file = storeFile ?? path.join(await tempDir('ah-store-'), 'store.sqlite');
  const store = await Store.open(file);
  const indexer = makeIndexer(store, home, log);
  const stats = await indexer.scanAll();
  return { store, indexer, stats, storeFile: file, sessions: sessionsById(store) };
}

export function sessionsById(store: Store, now = NOW): Map<string, SessionView> {
  return new Map(listSessions(store, now).map((s) => [s.session_id, s]));
}

export function mustGet<K, V>(m: Map<K, V>, k: K): V {
  const v = m.get(k);
  if (v === undefined) throw new Error(`missing ${String(k)}; have ${[...m.keys()].join(', ')}`);
  return v;
}

/** Dollar amounts are sums of floating-point products: equal to 1e-9 dollars. */
/** A cost equals the hand-computed one; a session's null cost (nothing priced) never equals a number. */
export function assertUsd(actual: number | null, expected: number, what = 'cost'): void {
  if (actual === null || Math.abs(actual - expected) > 1e-9)
    throw new Error(`${what}: expected ${expected}, got ${actual}`);
}

// ---- hand-made Claude Code records ---------------------------------------------------------------

export const RULES_CWD = '/nonexistent/agent-handler-rules';

/** Writes JSONL (one record per line, each ending in '\n') under `<home>/.claude/projects/<enc cwd>/`. */
export async function writeTranscript(home: string, rel: string, records: object[], cwd = RULES_CWD): Promise<string> {
  const file = path.join(home, '.claude', 'projects', encodeCwd(cwd), rel);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, jsonl(records));
  return file;
}

export function jsonl(records: object[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

export interface UsageSpec {
  in?: number;
  out?: number;
  cr?: number;
  /** Flat cache_creation_input_tokens. */
  cw?: number;
  /** The cache_creation split; omitted = no split object. */
  split?: { m5: number; h1: number };
}

export function usage(u: UsageSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    input_tokens: u.in ?? 0,
    cache_creation_input_tokens: u.cw ?? 0,
    cache_read_input_tokens: u.cr ?? 0,
    output_tokens: u.out ?? 0,
    service_tier: 'standard',
  };
  if (u.split) out.cache_creation = { ephemeral_5m_input_tokens: u.split.m5, ephemeral_1h_input_tokens: u.split.h1 };
  return out;
}

interface Envelope {
  session: string;
  ts: string;
  branch?: string;
  cwd?: string;
  sidechain?: boolean;
  agentId?: string;
  extra?: Record<string, unknown>;
}

let uuidCounter = 0;

function envelope(e: Envelope): Record<string, unknown> {
  return {
    parentUuid: null,
    isSidechain: e.sidechain ?? false,
    ...(e.agentId ? { agentId: e.agentId } : {}),
    userType: 'external',
    entrypoint: 'cli',
    cwd: e.cwd ?? RULES_CWD,
    sessionId: e.session,
    version: '2.1.332',
    gitBranch: e.branch ?? 'main',
    uuid: `u-${String(++uuidCounter).padStart(8, '0')}`,
    timestamp: e.ts,
  };
}

export interface AssistantSpec extends Envelope {
  msg: string;
  /** null = no requestId field (gateways, old versions). */
  req: string | null;
  usage: UsageSpec;
  model?: string;
  stop?: string | null;
  content?: unknown[];
}

export function assistant(a: AssistantSpec): Record<string, unknown> {
  return {
    ...envelope(a),
    type: 'assistant',
    ...(a.req !== null ? { requestId: a.req } : {}),
    message: {
      model: a.model ?? 'claude-opus-5-5',
      id: a.msg,
      type: 'message',
      role: 'assistant',
      content: a.content ?? [{ type: 'text', text: 'ok' }],
      stop_reason: a.stop === undefined ? 'end_turn' : a.stop,
      usage: usage(a.usage),
    },
    ...a.extra,
  };
}

export function userPrompt(e: Envelope & { text: string | unknown[] }): Record<string, unknown> {
  return { ...envelope(e), type: 'user', message: { role: 'user', content: e.text }, ...e.extra };
}

export function toolResult(e: Envelope & { toolUseId: string; content: unknown }): Record<string, unknown> {
  return {
    ...envelope(e),
    type: 'user',
    message: {
      role: 'user',
      content: [{ tool_use_id: e.toolUseId, type: 'tool_result', content: e.content, is_error: false }],
    },
    toolUseResult: { stdout: typeof e.content === 'string' ? e.content : '', stderr: '' },
    ...e.extra,
  };
}

export function system(e: Envelope & { subtype: string }): Record<string, unknown> {
  return { ...envelope(e), type: 'system', subtype: e.subtype, content: '', level: 'info', ...e.extra };
}

// ---- git ---------------------------------------------------------------------------------------------

/** Runs git with a fixed identity and no user/system config (tests never read ~/.gitconfig). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_DATE: '2026-11-25T12:00:00Z',
      GIT_COMMITTER_DATE: '2026-11-25T12:00:00Z',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** A real repository with one commit on `branch`, user.name/email set locally; returns its real path. */
export async function makeRepo(branch = 'main', remote?: string): Promise<string> {
  const dir = await fsp.realpath(await tempDir('ah-repo-'));
  const repo = path.join(dir, 'repo');
  await fsp.mkdir(repo);
  git(repo, 'init', '-q', '-b', branch);
  git(repo, 'config', 'user.name', 'Agent Handler Tests');
  git(repo, 'config', 'user.email', 'tests@agent-handler.invalid');
  await fsp.writeFile(path.join(repo, 'README.md'), '# test repo\n');
  git(repo, 'add', 'README.md');
  git(repo, 'commit', '-q', '-m', 'initial');
  if (remote) git(repo, 'remote', 'add', 'origin', remote);
  return repo;
}

/**
 * The store keeps request keys and message ids as hashes (requestKeyRef). Reading them back as
 * `hex(dedup_hash)`, a test names them with the keys it expects: a ref not among `known` stays a ref
 * (and fails the comparison, as it should).
 */
export function keyNames(...known: string[]): (ref: string | null) => string | null {
  const names = new Map(known.map((k) => [requestKeyRef(k), k]));
  return (ref) => (ref === null ? null : (names.get(ref) ?? ref));
}

export async function copyDir(src: string, dst: string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) await copyDir(s, d);
    else await fsp.copyFile(s, d);
  }
}

/** A temp HOME holding one agent's real fixture transcripts where that agent keeps them. */
export async function agentHome(framework: string): Promise<string> {
  if (framework === 'claude_code') return fixtureHome('2.1.332');
  const home = path.join(await tempDir('ah-rel-home-'), 'home');
  switch (framework) {
    case 'codex':
      await copyDir(path.join(FIXTURES, 'codex', '0.169.0', 'sessions'), path.join(home, '.codex', 'sessions'));
      break;
    case 'copilot':
      await copyDir(path.join(FIXTURES, 'copilot_cli', 'home'), home);
      break;
    case 'gemini':
      await copyDir(path.join(FIXTURES, 'gemini', 'real', 'tmp'), path.join(home, '.gemini', 'tmp'));
      break;
    case 'opencode':
      await fsp.mkdir(path.join(home, '.local', 'share', 'opencode'), { recursive: true });
      for (const f of ['opencode.db', 'opencode.db-wal']) {
        await fsp.copyFile(
          path.join(FIXTURES, 'opencode', '1.18.33', f),
          path.join(home, '.local', 'share', 'opencode', f),
        );
      }
      break;
    case 'cursor':
      await copyDir(path.join(FIXTURES, 'cursor', 'chats'), path.join(home, '.cursor', 'chats'));
      break;
    case 'amp':
      await copyDir(path.join(FIXTURES, 'amp', 'threads'), path.join(home, '.local', 'share', 'amp', 'threads'));
      break;
    default:
      throw new Error(`no fixture home for ${framework}`);
  }
  return home;
}
