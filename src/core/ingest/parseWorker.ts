import { parentPort } from 'node:worker_threads';
import { type ParseRequest, type ParseResponse, readItems } from './parsePool';

/**
 * A parse worker (parsePool.ts): reads and parses batches of transcript files for the indexer,
 * which keeps the store to itself. It holds no state between batches.
 */
if (!parentPort) throw new Error('parseWorker.ts runs as a worker thread');
const port = parentPort;

port.on('message', (req: ParseRequest) => {
  void readItems(req.items).then((outcomes) => port.postMessage({ id: req.id, outcomes } satisfies ParseResponse));
});
