import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ManualClock,
  MemoryNetwork,
  MemorySecretRecords,
  PkOpTally,
} from '../../../src/overlay/index.js';
import { runSecretCompliance } from './secret-compliance.js';

runSecretCompliance('memory', async () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const pkOps = new PkOpTally();
  const services = [new MemorySecretRecords(network, { pkOps }), new MemorySecretRecords(network)];
  return {
    services,
    pkOps,
    advance: async (ms) => clock.advance(ms),
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
    },
  };
});

const seed = (n: number) => new Uint8Array(32).fill(n);
const value = (n: number) => new Uint8Array(1000).fill(n);

test('memory secrets: a record is gone after its ttl (the strict model of a DHT forgetting)', async () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const a = new MemorySecretRecords(network);
  await a.putSecret(seed(1), value(1), { seq: 1, ttlSeconds: 60 });
  clock.advance(59_999);
  assert.equal(network.secrets().length, 1);
  clock.advance(1);
  assert.equal(await a.getSecret({ seed: seed(1) }), undefined);
  assert.equal(network.secrets().length, 0);
});

test('memory secrets: another writer with the same seed cannot go back in seq or reuse one (as DHT nodes)', async () => {
  const network = new MemoryNetwork();
  const first = new MemorySecretRecords(network);
  const restarted = new MemorySecretRecords(network);
  await first.putSecret(seed(2), value(2), { seq: 5, ttlSeconds: 60 });
  await restarted.putSecret(seed(2), value(3), { seq: 4, ttlSeconds: 60 });
  await restarted.putSecret(seed(2), value(4), { seq: 5, ttlSeconds: 60 });
  assert.deepEqual((await first.getSecret({ seed: seed(2) }))?.value, value(2));
  await restarted.putSecret(seed(2), value(5), { seq: 6, ttlSeconds: 60 });
  assert.deepEqual((await first.getSecret({ seed: seed(2) }))?.value, value(5));
});

test('memory secrets: secret records are not lookup records (find under any key sees nothing)', async () => {
  const network = new MemoryNetwork();
  const a = new MemorySecretRecords(network);
  await a.putSecret(seed(3), value(3), { seq: 1, ttlSeconds: 60 });
  assert.equal(network.size, 0);
  assert.equal(network.secrets().length, 1);
});

test('memory secrets: the per-seed cache is bounded; an evicted seed costs one key generation again', async () => {
  const pkOps = new PkOpTally();
  const a = new MemorySecretRecords(new MemoryNetwork(), { pkOps, cacheSize: 2 });
  for (const n of [1, 2, 1, 3, 1, 2]) a.addressOf(seed(n));
  // 1, 2 (miss, miss), 1 (hit), 3 (miss, evicts 2), 1 (hit), 2 (miss)
  assert.equal(pkOps.counts.keygen, 4);
});
