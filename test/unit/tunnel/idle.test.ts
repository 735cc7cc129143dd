// Idle rules under a fake clock: activity postpones, holders block, release re-arms.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type IdleClock, IdleTimer } from '../../../src/tunnel/index.js';

/** A manual clock: `advance(ms)` runs due timers in order. */
class FakeClock implements IdleClock {
  time = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (let guard = 0; guard < 1000; guard++) {
      const due = [...this.#timers]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at);
      const first = due[0];
      if (!first) break;
      this.#timers.delete(first[0]);
      this.time = first[1].at;
      first[1].fn();
    }
    this.time = end;
  }
}

function setup(timeoutMs = 100) {
  const clock = new FakeClock();
  let fired = 0;
  const idle = new IdleTimer(timeoutMs, () => fired++, clock);
  return { clock, idle, fired: () => fired };
}

test('fires once after the timeout with no activity, then never again', () => {
  const { clock, fired } = setup();
  clock.advance(99);
  assert.equal(fired(), 0);
  clock.advance(1);
  assert.equal(fired(), 1);
  clock.advance(1000);
  assert.equal(fired(), 1);
  assert.equal(clock.pending, 0);
});

test('activity postpones: the timeout counts from the last frame', () => {
  const { clock, idle, fired } = setup();
  clock.advance(60);
  idle.touch();
  clock.advance(60); // 120 since start, 60 since the frame
  assert.equal(fired(), 0);
  clock.advance(39);
  assert.equal(fired(), 0);
  clock.advance(1);
  assert.equal(fired(), 1);
});

test('a holder blocks idle closing however long; releasing re-arms from that moment', () => {
  const { clock, idle, fired } = setup();
  const release = idle.hold();
  assert.equal(idle.holders, 1);
  clock.advance(10_000);
  assert.equal(fired(), 0);
  assert.equal(clock.pending, 0); // no timer while held
  release();
  release(); // idempotent
  assert.equal(idle.holders, 0);
  clock.advance(99);
  assert.equal(fired(), 0);
  clock.advance(1);
  assert.equal(fired(), 1);
});

test('two holders: only the last release re-arms', () => {
  const { clock, idle, fired } = setup();
  const r1 = idle.hold();
  const r2 = idle.hold();
  r1();
  clock.advance(500);
  assert.equal(fired(), 0);
  r2();
  clock.advance(100);
  assert.equal(fired(), 1);
});

test('stop() cancels; timeout 0 or Infinity never fires', () => {
  const a = setup();
  a.idle.stop();
  a.clock.advance(1000);
  assert.equal(a.fired(), 0);
  for (const t of [0, Number.POSITIVE_INFINITY]) {
    const b = setup(t);
    b.idle.hold()();
    b.clock.advance(1e9);
    assert.equal(b.fired(), 0);
    assert.equal(b.clock.pending, 0);
  }
  assert.throws(() => new IdleTimer(-1, () => {}), RangeError);
});
