import * as path from 'node:path';
import { geminiAdapter } from '../core/sources/gemini';
import { parseArgs } from './args';
import { type Verdict, debugPath, manifestHolds, answerNow } from './manifest';
import { Output } from './output';

/**
 * `agent-handler`'s entry (dist/cli.js): small on purpose. `sessions --json` with nothing changed
 * since the last scan is answered from the scan manifest (manifest.ts) without loading the full CLI
 * (dist/cli-main.js: sql.js, the store, the indexer, every adapter), which is what made a warm run
 * cost seconds. Anything else, or a manifest that does not hold, runs the full CLI.
 */

// Node ≥ 22.1 keeps the compiled code of both bundles on disk between runs (a no-op elsewhere).
(require('node:module') as { enableCompileCache?: () => void }).enableCompileCache?.();

/** The document adapters whose signature() needs no sql.js: the rest are checked by the full CLI. */
const LIGHT_ADAPTERS = [geminiAdapter];

type FullCli = { runCli(argv: string[], verdict?: Verdict): void };

async function answer(argv: string[]): Promise<Verdict | undefined> {
  let args;
  try {
    args = parseArgs(argv);
  } catch {
    return undefined; // the full CLI reports it
  }
  if (args.command !== 'sessions' || !args.json || args.since !== null || args.until !== null) return undefined;
  const verdict = await manifestHolds(args.store, args.spool, LIGHT_ADAPTERS);
  if (!verdict.holds || !verdict.manifest.sessions) return verdict.holds || verdict.needsAdapters ? undefined : verdict;
  debugPath('answered from the scan manifest');
  const stdout = new Output(process.stdout, (err) => {
    process.stderr.write(`agent-handler: cannot write to standard output: ${err.code ?? err.message}\n`);
  });
  await stdout.writeBytes(answerNow(verdict.manifest));
  process.exitCode = stdout.error ? 1 : 0;
  return verdict;
}

const argv = process.argv.slice(2);
answer(argv).then(
  (verdict) => {
    if (verdict?.holds) return;
    (require(path.join(__dirname, 'cli-main.js')) as FullCli).runCli(argv, verdict);
  },
  (err: unknown) => {
    // The shortcut failed unexpectedly: the full CLI answers as if it had not been tried.
    debugPath(`scan manifest not used: ${(err as Error).message}`);
    (require(path.join(__dirname, 'cli-main.js')) as FullCli).runCli(argv);
  },
);
