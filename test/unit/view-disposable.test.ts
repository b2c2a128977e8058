/** The view classes' disposable base and coalesced refresh (src/views/disposable.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoalescedRun, Disposable, type IDisposable } from '../../src/views/disposable';

class Owner extends Disposable {
  own<T extends IDisposable>(d: T): T {
    return this._register(d);
  }
}

describe('view disposables', () => {
  test('a view disposes what it registered once, in the order registered', () => {
    const order: string[] = [];
    const owner = new Owner();
    owner.own({ dispose: () => order.push('a') });
    owner.own({ dispose: () => order.push('b') });
    owner.dispose();
    owner.dispose();
    assert.deepEqual(order, ['a', 'b']);
  });

  test('what is registered after the view was disposed is disposed at once', () => {
    const owner = new Owner();
    owner.dispose();
    let disposed = false;
    owner.own({ dispose: () => (disposed = true) });
    assert.equal(disposed, true);
  });

  test("a burst of refresh requests runs once, after the first request's delay", async () => {
    let runs = 0;
    const run = new CoalescedRun(() => runs++, 20);
    run.schedule();
    run.schedule(0);
    run.schedule();
    await sleep(60);
    assert.equal(runs, 1);
    run.schedule(0);
    await sleep(20);
    assert.equal(runs, 2);
  });

  test('a disposed refresh never runs', async () => {
    let runs = 0;
    const run = new CoalescedRun(() => runs++, 5);
    run.schedule();
    run.dispose();
    await sleep(30);
    assert.equal(runs, 0);
  });
});
