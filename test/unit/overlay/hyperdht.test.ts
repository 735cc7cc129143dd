import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import {
  DEFAULT_REFRESH_INTERVAL_MS,
  HyperDhtLookup,
  type HyperDhtLookupOptions,
  loadHyperDht,
  ManualClock,
  type OverlayDht,
  OverlayErrorCode,
  overlayChannelName,
  overlayErrorCode,
  publisherId,
} from '../../../src/overlay/index.js';
import { useTestnet, withTestnet } from '../../helpers/testnet.js';
import { runLookupCompliance } from './compliance.js';

runLookupCompliance('hyperdht', async () => {
  const clock = new ManualClock();
  const { startTestnet } = await import('../../../src/overlay/testnet.js');
  const testnet = await startTestnet({ nodes: 5 });
  const services = [0, 1, 2].map(() => testnet.createLookup({ clock }));
  return {
    services,
    advance: async (ms) => {
      clock.advance(ms);
      await Promise.all(services.map((s) => s.whenIdle()));
    },
    teardown: () => testnet.destroy(),
  };
});

const key = () => new Uint8Array(randomBytes(32));
const text = (v: Uint8Array) => Buffer.from(v).toString();
const utf8 = (s: string) => new TextEncoder().encode(s);

test('hyperdht: refuses to start without an explicit bootstrap list', () => {
  for (const opts of [{}, { bootstrap: undefined }, { bootstrap: false }, { network: 'private' }]) {
    assert.throws(
      () => new HyperDhtLookup(opts as unknown as HyperDhtLookupOptions),
      (err: unknown) => overlayErrorCode(err) === OverlayErrorCode.NoBootstrap,
      JSON.stringify(opts),
    );
  }
  // The public network is never implied by a bootstrap list, nor by a typo.
  assert.throws(() => new HyperDhtLookup({ network: 'public', bootstrap: [] }), {
    code: OverlayErrorCode.BadOption,
  });
  assert.throws(() => new HyperDhtLookup({ network: 'Public' as 'public', bootstrap: [] }), {
    code: OverlayErrorCode.BadOption,
  });
  assert.throws(() => new HyperDhtLookup({ bootstrap: [], refreshIntervalMs: 0 }), {
    code: OverlayErrorCode.BadOption,
  });
});

test('hyperdht: a shared DHT node is used and not destroyed by close()', async (t) => {
  const testnet = await useTestnet({ nodes: 3 }, t);
  const HyperDHT = loadHyperDht();
  const dht = new HyperDHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1', ephemeral: true });
  t.after(() => dht.destroy());
  const shared = new HyperDhtLookup({ dht });
  const other = testnet.createLookup();
  const k = key();
  await shared.publish(k, utf8('shared'), { ttlSeconds: 60, seq: 1 });
  assert.deepEqual(
    (await other.find(k)).map((r) => text(r.value)),
    ['shared'],
  );
  await shared.close();
  assert.equal(dht.destroyed, false);
});

test('hyperdht: records sit at the per-(seed, key) key pair; a withdrawal is a tombstone at 2·seq+1', async (t) => {
  const testnet = await useTestnet({ nodes: 4 }, t);
  const seed = new Uint8Array(randomBytes(32));
  const a = testnet.createLookup({ seed });
  const k = key();
  await a.publish(k, utf8('v'), { ttlSeconds: 60, seq: 21 });
  const [found] = await testnet.createLookup().find(k);
  assert.deepEqual(found?.publisher, publisherId(seed, k));
  const raw = await a.dht.mutableGet(Buffer.from(publisherId(seed, k)), { latest: true });
  assert.equal(raw?.seq, 42);
  await a.withdraw(k);
  const tomb = await a.dht.mutableGet(Buffer.from(publisherId(seed, k)), { latest: true });
  assert.equal(tomb?.seq, 43);
  assert.equal(tomb?.value.byteLength, 0);
});

test('hyperdht: a restarted node (same seed) replaces and can withdraw its old record', async (t) => {
  const testnet = await useTestnet({ nodes: 4 }, t);
  const seed = new Uint8Array(randomBytes(32));
  const reader = testnet.createLookup();
  const k = key();
  const before = testnet.createLookup({ seed });
  await before.publish(k, utf8('before'), { ttlSeconds: 600, seq: 100 });
  await before.close();

  const after = testnet.createLookup({ seed });
  await after.publish(k, utf8('after'), { ttlSeconds: 600, seq: 101 });
  assert.deepEqual(
    (await reader.find(k)).map((r) => text(r.value)),
    ['after'],
  );
  await after.close();

  // A third incarnation knows no seq: withdraw reads the record to bury it.
  const third = testnet.createLookup({ seed });
  await third.withdraw(k);
  assert.deepEqual(await reader.find(k), []);
  await assert.rejects(third.publish(k, utf8('x'), { ttlSeconds: 60, seq: 101 }), {
    code: OverlayErrorCode.SeqTooLow,
  });
});

test('hyperdht: anyone can add a candidate under a key: find returns it, unverified', async (t) => {
  const testnet = await useTestnet({ nodes: 4 }, t);
  const honest = testnet.createLookup();
  const k = key();
  await honest.publish(k, utf8('genuine'), { ttlSeconds: 60, seq: 1 });
  // A stranger writes with raw hyperdht calls under the same well-known key.
  const HyperDHT = loadHyperDht();
  const stranger = HyperDHT.keyPair();
  await honest.dht.mutablePut(stranger, Buffer.from('forged'), { seq: 2 });
  await honest.dht.announce(Buffer.from(k), stranger).finished();
  const found = await testnet.createLookup().find(k);
  assert.deepEqual(found.map((r) => text(r.value)).sort(), ['forged', 'genuine']);
  assert.deepEqual(
    found.find((r) => text(r.value) === 'forged')?.publisher,
    new Uint8Array(stranger.publicKey),
  );
});

test('hyperdht: live records are re-announced every refresh interval until their ttl ends', async (t) => {
  const testnet = await useTestnet({ nodes: 4 }, t);
  const clock = new ManualClock();
  const a = testnet.createLookup({ clock });
  const k = key();
  const refreshed: number[] = [];
  const withdrawn: boolean[] = [];
  const onRefresh = (m: unknown) => refreshed.push((m as { seq: number }).seq);
  const onWithdraw = (m: unknown) => withdrawn.push((m as { expired: boolean }).expired);
  subscribe(overlayChannelName('refresh'), onRefresh);
  subscribe(overlayChannelName('withdraw'), onWithdraw);
  t.after(() => {
    unsubscribe(overlayChannelName('refresh'), onRefresh);
    unsubscribe(overlayChannelName('withdraw'), onWithdraw);
  });
  // 35 minutes of life: refreshes at 10, 20 and 30 minutes, then expiry.
  await a.publish(k, utf8('v'), { ttlSeconds: 35 * 60, seq: 1 });
  clock.advance(DEFAULT_REFRESH_INTERVAL_MS);
  await a.whenIdle();
  assert.deepEqual(refreshed, [1]);
  clock.advance(2 * DEFAULT_REFRESH_INTERVAL_MS);
  await a.whenIdle();
  assert.deepEqual(refreshed, [1, 1, 1]);
  assert.equal((await a.find(k)).length, 1);
  clock.advance(5 * 60 * 1000);
  await a.whenIdle();
  assert.deepEqual(refreshed, [1, 1, 1]);
  assert.deepEqual(withdrawn, [true]);
  assert.deepEqual(await a.find(k), []);
  assert.equal(clock.pending, 0);
});

/** A DHT whose lookups never answer until destroyed: deadlines without real time races. */
function silentDht() {
  const state = { queries: 0, destroyedQueries: 0 };
  const dht = {
    destroyed: false,
    fullyBootstrapped: async () => {},
    lookup() {
      state.queries++;
      let stop: () => void = () => {};
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      return {
        destroy() {
          state.destroyedQueries++;
          stop();
        },
        finished: () => stopped,
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            await stopped;
            return { done: true, value: undefined };
          },
        }),
      };
    },
  } as unknown as OverlayDht;
  return { dht, state };
}

test('hyperdht: a find gives up with OVERLAY_TIMEOUT or OVERLAY_ABORTED and stops its query', async () => {
  const { dht, state } = silentDht();
  const lookup = new HyperDhtLookup({ dht, findTimeoutMs: 20 });
  await assert.rejects(lookup.find(key()), { code: OverlayErrorCode.Timeout });
  assert.equal(state.destroyedQueries, 1);
  await assert.rejects(lookup.find(key(), { timeoutMs: 5 }), { code: OverlayErrorCode.Timeout });
  const controller = new AbortController();
  const pending = lookup.find(key(), { signal: controller.signal, timeoutMs: 60_000 });
  controller.abort(new Error('caller gave up'));
  await assert.rejects(pending, (err: unknown) => {
    assert.equal(overlayErrorCode(err), OverlayErrorCode.Aborted);
    assert.equal(((err as Error).cause as Error).message, 'caller gave up');
    return true;
  });
  // Every query started was stopped; none starts after the caller gave up.
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(state.queries >= 2);
  assert.equal(state.destroyedQueries, state.queries);
  await lookup.close();
});

test('testnet: a logging node sees every key and value stored or asked for', async () => {
  await withTestnet({ nodes: 6, loggers: [3] }, async (testnet) => {
    const a = testnet.createLookup();
    const k = key();
    const value = utf8('registration package bytes');
    await a.publish(k, value, { ttlSeconds: 60, seq: 5 });
    await testnet.createLookup().find(k);
    const log = testnet.log(3);
    const commands = new Set(log.map((e) => e.command));
    for (const c of ['MUTABLE_PUT', 'ANNOUNCE', 'LOOKUP', 'MUTABLE_GET'])
      assert.ok(commands.has(c), c);
    const put = log.find((e) => e.command === 'MUTABLE_PUT');
    assert.deepEqual(put?.stored?.value, value);
    assert.equal(put?.stored?.seq, 10);
    const ann = log.find((e) => e.command === 'ANNOUNCE');
    assert.deepEqual(ann?.target, k);
    assert.deepEqual(ann?.announcer, put?.stored?.publicKey);
    assert.ok(log.every((e) => e.node === 3 && e.from.host === '127.0.0.1'));
    assert.deepEqual(testnet.log(0), []);
  });
});

test('testnet: refuses non-loopback hosts and bad sizes', async () => {
  const { startTestnet } = await import('../../../src/overlay/testnet.js');
  for (const opts of [
    { host: '0.0.0.0' },
    { host: '192.0.2.1' },
    { host: '::1' },
    { nodes: 0 },
    { nodes: 65 },
    { loggers: [3], nodes: 3 },
    { port: 70000 },
  ]) {
    await assert.rejects(
      startTestnet(opts),
      { code: OverlayErrorCode.BadOption },
      JSON.stringify(opts),
    );
  }
});
