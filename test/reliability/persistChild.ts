/**
 * A child process for the kill -9 test: it opens the store file given as argv[2] and, forever,
 * writes a new generation number (plus a few KB of rows, so a persist takes a while) and persists,
 * telling the parent each generation that is safely on disk. The parent kills it at a random
 * moment; the file must then be the old or the new one, never a broken one.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../../src/core/store/sqlite';
import { Store } from '../../src/core/store/store';

async function main(): Promise<void> {
  const store = await Store.open(process.argv[2]);
  let gen = Number(store.getMeta('test_generation') ?? 0);
  process.send?.({ type: 'ready', gen });
  for (;;) {
    gen++;
    store.transaction(() => {
      run(store.db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('test_generation', ?)", [String(gen)]);
      // Some bulk, different every time, so the file changes size and the write is not instant.
      run(store.db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('test_bulk', ?)", [
        randomBytes(20_000).toString('hex'),
      ]);
    });
    store.markDirty();
    await store.persist();
    process.send?.({ type: 'persisted', gen });
  }
}

void main();
