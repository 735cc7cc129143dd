import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, systemClock } from '../../../src/overlay/index.js';

test('ManualClock runs due timers in time order, then ties in order of creation', () => {
  const clock = new ManualClock(0);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20);
  clock.advance(15);
  assert.deepEqual(seen, ['a@10']);
  assert.equal(clock.now(), 15);
  clock.advance(5);
  assert.deepEqual(seen, ['a@10', 'b@20', 'c@20']);
  assert.equal(clock.pending, 0);
});

test('ManualClock runs timers set by timers within the window, and not cancelled ones', () => {
  const clock = new ManualClock(0);
  const seen: number[] = [];
  const tick = () => {
    seen.push(clock.now());
    if (seen.length < 100) clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 10);
  const cancelled = clock.setTimeout(() => seen.push(-1), 5);
  cancelled.cancel();
  clock.advance(35);
  assert.deepEqual(seen, [10, 20, 30]);
  assert.equal(clock.pending, 1);
});

test('systemClock timers fire and can be cancelled', async () => {
  let fired = 0;
  const cancelled = systemClock.setTimeout(() => fired++, 1);
  cancelled.cancel();
  // systemClock timers are unref'd (they must not keep a node alive): hold
  // the event loop open with a ref'd timer while waiting for one.
  const keepAlive = setTimeout(() => {}, 10_000);
  try {
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
  } finally {
    clearTimeout(keepAlive);
  }
  assert.equal(fired, 0);
  assert.ok(Math.abs(systemClock.now() - Date.now()) < 1000);
});
