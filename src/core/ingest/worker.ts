import * as os from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { Logger } from './indexer';
import type { FromWorker, ToWorker } from './protocol';
import { IndexService } from './service';

/**
 * The worker thread that owns the sql.js store: parsing and persisting happen here, so the VS Code
 * extension host thread only receives change notices and query results.
 */
if (!parentPort) throw new Error('worker.ts runs as a worker thread');
const port = parentPort;
const post = (m: FromWorker) => port.postMessage(m);
const log: Logger = {
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
  debug: (message) => post({ type: 'log', level: 'debug', message }),
};

// On Linux a nice value set with pid 0 applies to the calling thread only: indexing then yields the
// CPU to the extension host's thread (and everything else) on a busy machine. Elsewhere it would
// apply to the whole process, extension host included, so it is left alone.
if (process.platform === 'linux') {
  try {
    os.setPriority(10);
  } catch {
    // not permitted: indexing runs at the normal priority
  }
}

// A failure the service did not catch is logged, never allowed to end the worker silently.
process.on('unhandledRejection', (err) =>
  log.error(`unexpected error in the index worker: ${(err as Error)?.stack ?? String(err)}`),
);

let service: IndexService | null = null;
let started: Promise<void> | null = null;

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'init':
      service = new IndexService(msg.init, post, log);
      started = service
        .start()
        .catch((err: Error) => log.error(`index service failed to start: ${err.stack ?? err.message}`));
      break;
    case 'query':
      void (async () => {
        try {
          await started;
          if (!service) throw new Error('not initialised');
          post({ type: 'result', id: msg.id, result: await service.query(msg.name, msg.args) });
        } catch (err) {
          post({ type: 'result', id: msg.id, error: (err as Error).message });
        }
      })();
      break;
    case 'stop':
      void (async () => {
        await started?.catch(() => undefined);
        await service?.stop().catch((err: Error) => log.error(`stop failed: ${err.message}`));
        post({ type: 'stopped' });
      })();
      break;
  }
});
