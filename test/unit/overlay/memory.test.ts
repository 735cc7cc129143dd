import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ManualClock,
  MemoryLookup,
  MemoryNetwork,
  publisherId,
} from '../../../src/overlay/index.js';
import { runLookupCompliance } from './compliance.js';

runLookupCompliance('memory', async () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const services = [
    new MemoryLookup(network),
    new MemoryLookup(network),
    new MemoryLookup(network),
  ];
  return {
    services,
    advance: async (ms) => clock.advance(ms),
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
    },
  };
});

const key = (n: number) => new Uint8Array(32).fill(n);
const text = (v: Uint8Array) => Buffer.from(v).toString();

test('memory: instances on different networks do not see each other', async () => {
  const a = new MemoryLookup(new MemoryNetwork());
  const b = new MemoryLookup(new MemoryNetwork());
  await a.publish(key(1), new Uint8Array([1]), { ttlSeconds: 60, seq: 1 });
  assert.deepEqual(await b.find(key(1)), []);
  assert.equal((await a.find(key(1))).length, 1);
});

test('memory: the publisher id is the Ed25519 key of the per-key seed (same as HyperDHT)', async () => {
  const seed = new Uint8Array(32).fill(9);
  const network = new MemoryNetwork();
  const a = new MemoryLookup(network, { seed });
  await a.publish(key(2), new Uint8Array([1]), { ttlSeconds: 60, seq: 1 });
  const [found] = await a.find(key(2));
  assert.deepEqual(found?.publisher, publisherId(seed, key(2)));
});

test('memory: a restarted node (same seed) replaces its record; a stale lower seq is ignored', async () => {
  const seed = new Uint8Array(32).fill(3);
  const network = new MemoryNetwork();
  const first = new MemoryLookup(network, { seed });
  await first.publish(key(4), new TextEncoder().encode('before'), { ttlSeconds: 60, seq: 10 });
  await first.close();
  const again = new MemoryLookup(network, { seed });
  // Like a DHT node, the store ignores a lower seq from the same publisher.
  await again.publish(key(4), new TextEncoder().encode('stale'), { ttlSeconds: 60, seq: 9 });
  assert.deepEqual(
    (await again.find(key(4))).map((r) => text(r.value)),
    ['before'],
  );
  await again.publish(key(4), new TextEncoder().encode('after'), { ttlSeconds: 60, seq: 11 });
  assert.deepEqual(
    (await again.find(key(4))).map((r) => text(r.value)),
    ['after'],
  );
  assert.equal(network.size, 1);
});

test('memory: expired records leave the store', async () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const a = new MemoryLookup(network);
  await a.publish(key(5), new Uint8Array([5]), { ttlSeconds: 1, seq: 1 });
  await a.publish(key(6), new Uint8Array([6]), { ttlSeconds: 10, seq: 1 });
  assert.equal(network.size, 2);
  clock.advance(1000);
  assert.equal(network.size, 1);
  clock.advance(9000);
  assert.equal(network.size, 0);
});

test('memory: a bad seed is refused', () => {
  assert.throws(() => new MemoryLookup(new MemoryNetwork(), { seed: new Uint8Array(31) }), {
    code: 'OVERLAY_BAD_OPTION',
  });
});
