/**
 * The OpenDHT backends against real dhtnode processes on 127.0.0.1: the shared
 * compliance suites over one 3-node network (started once for this file),
 * what a dhtnode stores, forgeries and replays, node death and proxy
 * failover (5-node networks), and a fake proxy that answers garbage.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, type TestContext, test } from 'node:test';
import { ed25519PublicKey } from '../../../src/crypto/ed25519.js';
import {
  createOpenDhtLookup,
  createOpenDhtSecretRecords,
  ManualClock,
  OPENDHT_EXPIRY_GRACE_MS,
  OPENDHT_REFRESH_INTERVAL_MS,
  OpenDhtProxy,
  OverlayErrorCode,
  overlayChannelName,
  overlayErrorCode,
  PkOpTally,
  publisherId,
} from '../../../src/overlay/index.js';
import {
  decodeLookupWrapper,
  decodeSecretWrapper,
  dhtKeyOf,
  encodeLookupWrapper,
  encodeSecretWrapper,
  OpenDhtTag,
} from '../../../src/overlay/opendht-wire.js';
import { type OpenDhtNetwork, startOpenDht } from '../../helpers/opendht.js';
import { runLookupCompliance } from './compliance.js';
import { runSecretCompliance } from './secret-compliance.js';

// ---- one 3-node network for the whole file ---------------------------------

let shared: Promise<OpenDhtNetwork> | undefined;
const network = () => (shared ??= startOpenDht({ nodes: 3 }));
after(async () => {
  if (shared)
    await shared.then(
      (n) => n.stop(),
      () => {},
    );
});

const key = () => new Uint8Array(randomBytes(32));
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (v: Uint8Array) => Buffer.from(v).toString();
const url = (net: OpenDhtNetwork, i: number) => net.proxyUrls[i] as string;

/** Registers `x.close()` to run after the test (services, raw proxies), and returns `x`. */
function own<T extends { close(): unknown }>(t: TestContext, x: T): T {
  t.after(async () => {
    await x.close();
  });
  return x;
}

/** A lookup service (via node i's proxy) closed after the test. */
const lookupAt = (
  t: TestContext,
  net: OpenDhtNetwork,
  i: number,
  opts: { seed?: Uint8Array; clock?: ManualClock } = {},
) => own(t, createOpenDhtLookup({ proxyUrls: [url(net, i)], ...opts }));

/** A raw proxy client (an attacker's or an observer's view) on node i, closed after the test. */
const rawAt = (t: TestContext, net: OpenDhtNetwork, i: number) =>
  own(t, new OpenDhtProxy({ proxyUrls: [url(net, i)] }));

runLookupCompliance('opendht', async () => {
  const net = await network();
  const clock = new ManualClock();
  // Each service talks to another node's proxy: a put via one is found via another.
  const services = [0, 1, 2].map((i) => createOpenDhtLookup({ proxyUrls: [url(net, i)], clock }));
  return {
    services,
    advance: async (ms) => {
      clock.advance(ms);
      await Promise.all(services.map((s) => s.whenIdle()));
    },
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
    },
  };
});

runSecretCompliance('opendht', async () => {
  const net = await network();
  const pkOps = new PkOpTally();
  const services = [
    createOpenDhtSecretRecords({ proxyUrls: [url(net, 0)], pkOps }),
    createOpenDhtSecretRecords({ proxyUrls: [url(net, 1)] }),
  ];
  return {
    services,
    pkOps,
    // Values outlive the suite's ttls (real dhtnode time barely moves).
    advance: async () => {},
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
    },
  };
});

// ---- what a dhtnode stores ---------------------------------------------------

test('opendht: a dhtnode stores signed wrappers — publisher id, 2·seq, type by ttl; a withdrawal adds a tombstone at 2·seq+1', async (t) => {
  const net = await network();
  const seed = new Uint8Array(randomBytes(32));
  const a = lookupAt(t, net, 0, { seed });
  const raw = rawAt(t, net, 2);
  const short = key();
  const long = key();
  await a.publish(short, utf8('short'), { ttlSeconds: 60, seq: 21 });
  await a.publish(long, utf8('long'), { ttlSeconds: 3600, seq: 4 });
  const [s] = await raw.get(dhtKeyOf(OpenDhtTag.lookupKey, short));
  const [l] = await raw.get(dhtKeyOf(OpenDhtTag.lookupKey, long));
  assert.equal(s?.type, 5, 'a 60 s record is put as type 5 (1 min)');
  assert.equal(l?.type, 0, 'a 1 h record is put as type 0 (10 min) and refreshed');
  const w = decodeLookupWrapper(s!.data)!;
  assert.deepEqual(w.publisher, publisherId(seed, short));
  assert.equal(w.wireSeq, 42);
  assert.equal(text(w.payload), 'short');
  assert.notDeepEqual(decodeLookupWrapper(l!.data)!.publisher, w.publisher);

  await a.withdraw(short);
  const after = await raw.get(dhtKeyOf(OpenDhtTag.lookupKey, short));
  assert.equal(after.length, 2, 'OpenDHT cannot delete: the record stays, a tombstone joins it');
  const tomb = after.map((v) => decodeLookupWrapper(v.data)!).find((x) => x.wireSeq === 43);
  assert.ok(tomb, 'no tombstone at 2·seq+1');
  assert.equal(tomb.payload.byteLength, 0);
  assert.deepEqual(await a.find(short), []);
  await a.withdraw(short); // a second withdraw puts nothing
  assert.equal((await raw.get(dhtKeyOf(OpenDhtTag.lookupKey, short))).length, 2);
});

test('opendht: a refresh re-puts the same value id (no copies), every interval until the ttl ends', async (t) => {
  const net = await network();
  const clock = new ManualClock();
  const a = lookupAt(t, net, 0, { clock });
  const raw = rawAt(t, net, 1);
  const refreshed: number[] = [];
  const withdrawn: boolean[] = [];
  const onRefresh = (m: unknown) => refreshed.push((m as { seq: number }).seq);
  const onWithdraw = (m: unknown) => withdrawn.push((m as { expired: boolean }).expired);
  subscribe(overlayChannelName('refresh'), onRefresh);
  subscribe(overlayChannelName('withdraw'), onWithdraw);
  t.after(async () => {
    unsubscribe(overlayChannelName('refresh'), onRefresh);
    unsubscribe(overlayChannelName('withdraw'), onWithdraw);
  });
  const k = key();
  // 12 minutes of life: refreshes at 5 and 10 minutes, then expiry.
  await a.publish(k, utf8('v'), { ttlSeconds: 12 * 60, seq: 1 });
  clock.advance(OPENDHT_REFRESH_INTERVAL_MS);
  await a.whenIdle();
  clock.advance(OPENDHT_REFRESH_INTERVAL_MS);
  await a.whenIdle();
  assert.deepEqual(refreshed, [1, 1]);
  const values = await raw.get(dhtKeyOf(OpenDhtTag.lookupKey, k));
  assert.equal(values.length, 1, 'a refresh stored a second copy');
  clock.advance(2 * 60 * 1000);
  await a.whenIdle();
  assert.deepEqual(refreshed, [1, 1]);
  assert.deepEqual(withdrawn, [true]);
  assert.deepEqual(await a.find(k), []);
  assert.equal(clock.pending, 0);
});

test('opendht: a restarted node (same seed) replaces and can withdraw its old record', async (t) => {
  const net = await network();
  const seed = new Uint8Array(randomBytes(32));
  const reader = lookupAt(t, net, 2);
  const k = key();
  const [before, later, third] = [0, 1, 2].map(() => lookupAt(t, net, 0, { seed })) as [
    typeof reader,
    typeof reader,
    typeof reader,
  ];
  await before.publish(k, utf8('before'), { ttlSeconds: 600, seq: 100 });
  await before.close();
  await later.publish(k, utf8('after'), { ttlSeconds: 600, seq: 101 });
  assert.deepEqual(
    (await reader.find(k)).map((r) => text(r.value)),
    ['after'],
  );
  await later.close();
  // A third incarnation knows no seq: withdraw reads its own record to bury it.
  await third.withdraw(k);
  assert.deepEqual(await reader.find(k), []);
  await assert.rejects(third.publish(k, utf8('x'), { ttlSeconds: 60, seq: 101 }), {
    code: OverlayErrorCode.SeqTooLow,
  });
  await third.publish(k, utf8('again'), { ttlSeconds: 60, seq: 102 });
  assert.deepEqual(
    (await reader.find(k)).map((r) => text(r.value)),
    ['again'],
  );
});

// ---- hostile writers ----------------------------------------------------------

test('opendht: forged higher-seq wrappers with our publisher id are ignored; a stranger\u2019s own record is a candidate', async (t) => {
  const net = await network();
  const seed = new Uint8Array(randomBytes(32));
  const honest = lookupAt(t, net, 0, { seed });
  const reader = lookupAt(t, net, 1);
  const attacker = rawAt(t, net, 2);
  const k = key();
  const dhtKey = dhtKeyOf(OpenDhtTag.lookupKey, k);
  await honest.publish(k, utf8('genuine'), { ttlSeconds: 600, seq: 1 });
  const victim = publisherId(seed, k);
  const strangerSeed = new Uint8Array(randomBytes(32));
  const put = (data: Uint8Array, type = 0) =>
    attacker.put(dhtKey, { data, type, id: String(1 + Math.floor(Math.random() * 1e15)) });
  // Our publisher id, a higher seq, signed by another key: a forged record and a forged tombstone.
  await put(encodeLookupWrapper(k, strangerSeed, victim, 2 * 99, 2_000_000_000, utf8('forged')));
  await put(encodeLookupWrapper(k, strangerSeed, victim, 2 * 99 + 1, 0, new Uint8Array(0)));
  // Our own wrapper from another key, copied here: the signature binds the key.
  const k2 = key();
  await honest.publish(k2, utf8('elsewhere'), { ttlSeconds: 600, seq: 50 });
  const [copied] = await attacker.get(dhtKeyOf(OpenDhtTag.lookupKey, k2));
  await put(copied!.data);
  // Garbage, and bytes that look like our header but are cut short.
  await put(new Uint8Array(randomBytes(200)));
  await put(new Uint8Array([1, 2, 3]));
  // A stranger's own, validly signed record: a candidate like any other.
  const strangerPub = ed25519PublicKey(strangerSeed);
  await put(encodeLookupWrapper(k, strangerSeed, strangerPub, 2 * 7, 2_000_000_000, utf8('x')));

  const found = await reader.find(k);
  assert.deepEqual(found.map((r) => text(r.value)).sort(), ['genuine', 'x']);
  const genuine = found.find((r) => text(r.value) === 'genuine')!;
  assert.equal(genuine.seq, 1);
  assert.deepEqual(genuine.publisher, victim);
  assert.deepEqual(found.find((r) => text(r.value) === 'x')!.publisher, strangerPub);
});

test('opendht: replaying an old signed record does not resurrect it; an expired record is hidden', async (t) => {
  const net = await network();
  const clock = new ManualClock();
  const honest = lookupAt(t, net, 0, { clock });
  const reader = lookupAt(t, net, 1, { clock });
  const attacker = rawAt(t, net, 2);
  const k = key();
  const dhtKey = dhtKeyOf(OpenDhtTag.lookupKey, k);
  await honest.publish(k, utf8('v1'), { ttlSeconds: 600, seq: 1 });
  const [old] = await attacker.get(dhtKey);
  await honest.publish(k, utf8('v2'), { ttlSeconds: 600, seq: 2 });
  await honest.withdraw(k);
  await attacker.put(dhtKey, { data: old!.data, type: 0, id: '4242' });
  assert.deepEqual(await reader.find(k), []);

  // A publisher that stops without withdrawing (a crash): its record goes with its signed expiry.
  const k2 = key();
  await honest.publish(k2, utf8('crashed'), { ttlSeconds: 60, seq: 1 });
  await honest.close();
  assert.equal((await reader.find(k2)).length, 1);
  clock.advance(60_000 + OPENDHT_EXPIRY_GRACE_MS + 1_000);
  assert.deepEqual(await reader.find(k2), []);
});

test('opendht secrets: a wrapper not signed by the address, or a higher seq forged, is ignored (verdicts cached); a refresh is the same value id', async (t) => {
  const net = await network();
  const pkOps = new PkOpTally();
  const writer = own(t, createOpenDhtSecretRecords({ proxyUrls: [url(net, 0)], pkOps }));
  const readerOps = new PkOpTally();
  const reader = own(t, createOpenDhtSecretRecords({ proxyUrls: [url(net, 1)], pkOps: readerOps }));
  const attacker = rawAt(t, net, 2);
  const seed = new Uint8Array(randomBytes(32));
  const address = writer.addressOf(seed);
  const dhtKey = dhtKeyOf(OpenDhtTag.secretKey, address);
  await writer.putSecret(seed, utf8('sealed'), { seq: 3, ttlSeconds: 3600 });
  await writer.putSecret(seed, utf8('sealed'), { seq: 3, ttlSeconds: 3600 });
  assert.deepEqual(pkOps.counts, { keygen: 1, sign: 1, verify: 0, x25519: 0 });
  const stored = await attacker.get(dhtKey);
  assert.equal(stored.length, 1, 'the refresh stored a copy');
  assert.equal(stored[0]?.type, 4, 'a 1 h secret is put as type 4 (7 days): no background re-put');
  assert.equal(decodeSecretWrapper(stored[0]!.data)?.seq, 3);
  const other = new Uint8Array(randomBytes(32));
  await attacker.put(dhtKey, {
    data: encodeSecretWrapper(address, other, 9, utf8('forged')),
    type: 0,
    id: '777',
  });
  assert.deepEqual(await reader.getSecret({ address }), { value: utf8('sealed'), seq: 3 });
  // The forgery (tried first: higher seq) and the record were each verified once…
  assert.equal(readerOps.counts.verify, 2);
  // …and the verdicts are remembered: the same get again verifies nothing.
  assert.deepEqual(await reader.getSecret({ address }), { value: utf8('sealed'), seq: 3 });
  assert.equal(readerOps.counts.verify, 2);
});

// ---- node death and failover (their own 5-node networks) -------------------------

test('opendht: one dhtnode of five killed mid-test: lookups and secret gets still succeed', async (t) => {
  const net = await startOpenDht({ nodes: 5 });
  t.after(() => net.stop());
  const writer = lookupAt(t, net, 0);
  const reader = lookupAt(t, net, 1);
  const secrets = own(t, createOpenDhtSecretRecords({ proxyUrls: [url(net, 0)] }));
  const secretReader = own(t, createOpenDhtSecretRecords({ proxyUrls: [url(net, 1)] }));
  const keys = [key(), key(), key()];
  for (const [i, k] of keys.entries())
    await writer.publish(k, utf8(`v${i}`), { ttlSeconds: 600, seq: 1 });
  const seed = new Uint8Array(randomBytes(32));
  await secrets.putSecret(seed, utf8('secret'), { seq: 1, ttlSeconds: 600 });

  await net.kill(2);
  assert.equal(net.nodes[2]?.exited, true);
  for (const [i, k] of keys.entries())
    assert.deepEqual(
      (await reader.find(k)).map((r) => text(r.value)),
      [`v${i}`],
    );
  assert.equal(text((await secretReader.getSecret({ seed }))!.value), 'secret');
  // And the network still takes new records.
  const late = key();
  await writer.publish(late, utf8('late'), { ttlSeconds: 600, seq: 1 });
  assert.deepEqual(
    (await reader.find(late)).map((r) => text(r.value)),
    ['late'],
  );
});

test('opendht: proxy failover — the first proxy killed, the second URL answers; all dead → OVERLAY_BACKEND naming each', async (t) => {
  const net = await startOpenDht({ nodes: 5 });
  t.after(() => net.stop());
  const writer = lookupAt(t, net, 0);
  const reader = own(t, createOpenDhtLookup({ proxyUrls: [url(net, 3), url(net, 4)] }));
  const k = key();
  await writer.publish(k, utf8('v'), { ttlSeconds: 600, seq: 1 });
  assert.equal((await reader.find(k)).length, 1);
  await net.kill(3);
  assert.deepEqual(
    (await reader.find(k)).map((r) => text(r.value)),
    ['v'],
  );
  await reader.publish(k, utf8('from reader'), { ttlSeconds: 600, seq: 1 });
  assert.equal((await writer.find(k)).length, 2);
  await net.kill(4);
  await assert.rejects(reader.find(k), (err: unknown) => {
    assert.equal(overlayErrorCode(err), OverlayErrorCode.Backend);
    assert.match((err as Error).message, new RegExp(url(net, 3).replace(/\./g, '\\.')));
    assert.match((err as Error).message, new RegExp(url(net, 4).replace(/\./g, '\\.')));
    return true;
  });
});

// ---- a proxy that answers garbage ----------------------------------------------

type Reply = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A fake proxy on 127.0.0.1 answering every request with `reply`; closed with the test. */
async function fakeProxy(t: { after(fn: () => Promise<void>): void }, reply: Reply) {
  const server = http.createServer((req, res) => {
    req.resume();
    reply(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('opendht: garbage from a proxy is OVERLAY_BACKEND, never a crash; a good second proxy is used', async (t) => {
  const k = key();
  const validLine = JSON.stringify({
    data: Buffer.from(
      encodeLookupWrapper(
        k,
        new Uint8Array(32).fill(3),
        ed25519PublicKey(new Uint8Array(32).fill(3)),
        2,
        2_000_000_000,
        utf8('ok'),
      ),
    ).toString('base64'),
    id: '1',
    type: 0,
  });
  const cases: Record<string, Reply> = {
    'not JSON': (_q, res) => res.end('{"data": nope\n'),
    'bad base64': (_q, res) => res.end('{"data":"***","id":"1","type":0}\n'),
    'non-canonical base64': (_q, res) => res.end('{"data":"AB==","id":"1","type":0}\n'),
    'a JSON array': (_q, res) => res.end('[1,2,3]\n'),
    'not UTF-8': (_q, res) => res.end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])),
    'HTTP 500': (_q, res) => {
      res.statusCode = 500;
      res.end('{"err":"boom"}');
    },
    'a redirect': (_q, res) => {
      res.statusCode = 302;
      res.setHeader('location', 'http://127.0.0.1:1/');
      res.end();
    },
    'huge (declared)': (_q, res) => {
      res.setHeader('content-length', String(10 * 1024 * 1024));
      res.write('x');
    },
    'huge (streamed)': (_q, res) => {
      const chunk = `${validLine}\n`.repeat(100);
      for (let i = 0; i < 40; i++) res.write(chunk); // ≈ 1 MB, no content-length
      res.end();
    },
    'no answer': () => {},
    'cut off mid-body': (req, res) => {
      res.setHeader('content-length', '1000');
      res.write('{"data":');
      req.socket.destroy();
    },
  };
  for (const [name, reply] of Object.entries(cases)) {
    const bad = await fakeProxy(t, reply);
    const opts = { proxyUrls: [bad], requestTimeoutMs: 500, maxResponseBytes: 64 * 1024 };
    const lookup = createOpenDhtLookup(opts);
    const secrets = createOpenDhtSecretRecords(opts);
    await assert.rejects(lookup.find(k), { code: OverlayErrorCode.Backend }, name);
    await assert.rejects(
      lookup.publish(k, utf8('v'), { ttlSeconds: 60, seq: 1 }),
      { code: OverlayErrorCode.Backend },
      name,
    );
    await assert.rejects(
      secrets.getSecret({ address: k }),
      { code: OverlayErrorCode.Backend },
      name,
    );
    await lookup.close();
    await secrets.close();
  }

  // Values without `data` (say, OpenDHT-encrypted ones from other software) are someone else's: skipped.
  const mixed = await fakeProxy(t, (_q, res) =>
    res.end(`{"id":"9","cypher":"AAAA"}\n${validLine}\n{"expired":true}\n`),
  );
  const lookup = createOpenDhtLookup({ proxyUrls: [mixed] });
  assert.deepEqual(
    (await lookup.find(k)).map((r) => text(r.value)),
    ['ok'],
  );
  await lookup.close();

  // A broken first proxy, a real second one: the call succeeds.
  const net = await network();
  const broken = await fakeProxy(t, (_q, res) => res.end('garbage\n'));
  const failover = createOpenDhtLookup({ proxyUrls: [broken, url(net, 0)] });
  const k2 = key();
  await failover.publish(k2, utf8('through the second'), { ttlSeconds: 60, seq: 1 });
  assert.deepEqual(
    (await failover.find(k2)).map((r) => text(r.value)),
    ['through the second'],
  );
  await failover.close();
});

test('opendht: a find gives up with OVERLAY_TIMEOUT or OVERLAY_ABORTED on a proxy that never answers', async (t) => {
  const silent = await fakeProxy(t, () => {});
  const lookup = createOpenDhtLookup({ proxyUrls: [silent], timeoutMs: 50 });
  t.after(() => lookup.close());
  await assert.rejects(lookup.find(key()), { code: OverlayErrorCode.Timeout });
  const controller = new AbortController();
  const pending = lookup.find(key(), { signal: controller.signal, timeoutMs: 60_000 });
  controller.abort(new Error('caller gave up'));
  await assert.rejects(pending, { code: OverlayErrorCode.Aborted });
  const publishing = lookup.publish(key(), utf8('v'), {
    ttlSeconds: 60,
    seq: 1,
    signal: AbortSignal.timeout(50),
  });
  await assert.rejects(publishing, { code: OverlayErrorCode.Aborted });
});

test('opendht: options are checked', () => {
  for (const proxyUrls of [
    [],
    undefined,
    ['ftp://127.0.0.1:1'],
    ['not a url'],
    ['http://127.0.0.1:1/?q=1'],
  ]) {
    assert.throws(() => createOpenDhtLookup({ proxyUrls } as never), {
      code: OverlayErrorCode.BadOption,
    });
    assert.throws(() => createOpenDhtSecretRecords({ proxyUrls } as never), {
      code: OverlayErrorCode.BadOption,
    });
  }
  const proxyUrls = ['http://127.0.0.1:1/'];
  for (const bad of [
    { refreshIntervalMs: 0 },
    { refreshIntervalMs: 600_001 },
    { timeoutMs: 0 },
    { requestTimeoutMs: 1.5 },
    { maxResponseBytes: -1 },
    { seed: new Uint8Array(31) },
  ]) {
    assert.throws(() => createOpenDhtLookup({ proxyUrls, ...bad }), {
      code: OverlayErrorCode.BadOption,
    });
  }
  assert.deepEqual(createOpenDhtLookup({ proxyUrls: ['http://127.0.0.1:1/dht/'] }).proxy.urls, [
    'http://127.0.0.1:1/dht',
  ]);
});
