// TunnelEndpoint on a private loopback HyperDHT testnet (127.0.0.1, explicit
// bootstrap, destroyed in `after`): SIP both ways with authenticated keys,
// reuse, the accept policy, idle close, hostile peers, several listening
// keys, control extensions, datagrams, shutdown. No timed assertions: timers
// are set short and the tests wait for the events they cause.

import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, test } from 'node:test';
import { equalBytes, fromHex, toHex, utf8 } from '../../../src/crypto/bytes.js';
import { ed25519PublicKey } from '../../../src/crypto/ed25519.js';
import { randomBytes } from '../../../src/crypto/random.js';
import {
  createDht,
  type DhtKeyPair,
  encodeFrame,
  encodeHello,
  FrameType,
  PROTOCOL_VERSION,
  type SecretStream,
  type Tunnel,
  type TunnelCloseMessage,
  TunnelEndpoint,
  type TunnelEndpointOptions,
  TunnelErrorCode,
  type TunnelRejectMessage,
  toDhtKeyPair,
  tunnelErrorCode,
} from '../../../src/tunnel/index.js';

import { useTestnet } from '../../helpers/testnet.js';

// Registered before the testnet's own teardown, so endpoints close while the network is up.
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
const testnet = await useTestnet({ nodes: 3 });

function keyPair(): DhtKeyPair {
  const seed = randomBytes(32);
  const publicKey = ed25519PublicKey(seed);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(publicKey, 32);
  return { publicKey, secretKey };
}

/** An endpoint with its own DHT node on the testnet, closed after the file's tests. */
function endpoint(options: Omit<TunnelEndpointOptions, 'bootstrap' | 'host'> = {}): TunnelEndpoint {
  const ep = new TunnelEndpoint({ bootstrap: testnet.bootstrap, host: '127.0.0.1', ...options });
  cleanups.push(() => ep.close());
  return ep;
}

/** Resolves with the next `event` emission's arguments. */
function next<T extends unknown[]>(
  emitter: { once(event: string, fn: (...args: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: T) => resolve(args)));
}

/** Collects diagnostics_channel messages until `stop()`. */
function subscribe<T>(name: string): {
  messages: T[];
  stop(): void;
  next(pred: (m: T) => boolean): Promise<T>;
} {
  const messages: T[] = [];
  const waiters: { pred: (m: T) => boolean; resolve: (m: T) => void }[] = [];
  const fn = (message: unknown) => {
    messages.push(message as T);
    for (const w of [...waiters]) {
      if (w.pred(message as T)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message as T);
      }
    }
  };
  diagnostics.subscribe(name, fn);
  return {
    messages,
    stop: () => diagnostics.unsubscribe(name, fn),
    next: (pred) => {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

const INVITE = utf8('INVITE sip:bob@example.org SIP/2.0\r\nContent-Length: 0\r\n\r\n');
const OK = utf8('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');

/** A callee endpoint that accepts exactly the given caller keys. */
async function callee(kb: DhtKeyPair, allowed: DhtKeyPair[], options: TunnelEndpointOptions = {}) {
  const ep = endpoint({
    accept: (remote) => allowed.some((k) => equalBytes(k.publicKey, remote)),
    ...options,
  });
  await ep.listen(kb);
  return ep;
}

test('SIP frames both ways; both ends see the real authenticated keys', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const a = endpoint();
  const b = await callee(kb, [ka]);

  const inbound = next<[Tunnel]>(b, 'tunnel');
  const atB = next<[Uint8Array, Tunnel]>(b, 'sip');
  const ta = await a.connect(kb.publicKey, { keyPair: ka });
  assert.equal(ta.direction, 'outbound');
  assert.ok(equalBytes(ta.remotePublicKey, kb.publicKey));
  assert.ok(equalBytes(ta.localPublicKey, ka.publicKey));
  assert.deepEqual(ta.address, { protocol: 'tunnel', host: toHex(kb.publicKey), port: 0 });
  assert.equal(ta.version, PROTOCOL_VERSION.max);

  ta.sendSip(INVITE);
  const [bytesAtB, tb] = await atB;
  assert.deepEqual(bytesAtB, INVITE);
  const [announced] = await inbound;
  assert.equal(announced, tb);
  assert.equal(tb.direction, 'inbound');
  assert.ok(equalBytes(tb.remotePublicKey, ka.publicKey), 'callee sees the caller key');
  assert.ok(equalBytes(tb.localPublicKey, kb.publicKey));
  assert.ok(ta.handshakeHash && tb.handshakeHash);
  assert.ok(equalBytes(ta.handshakeHash, tb.handshakeHash), 'one Noise session');

  const atA = next<[Uint8Array, Tunnel]>(ta, 'sip');
  tb.sendSip(OK);
  const [bytesAtA, via] = await atA;
  assert.deepEqual(bytesAtA, OK);
  assert.equal(via, ta);

  // Order is preserved across many frames on the reliable stream.
  const received: string[] = [];
  const all = new Promise<void>((resolve) => {
    b.on('sip', (bytes) => {
      received.push(Buffer.from(bytes).toString());
      if (received.length === 50) resolve();
    });
  });
  for (let i = 0; i < 50; i++) ta.sendSip(utf8(`MESSAGE ${i}`));
  await all;
  assert.deepEqual(
    received,
    Array.from({ length: 50 }, (_, i) => `MESSAGE ${i}`),
  );
});

test('reuse: one tunnel per (remote, local) for sequential and concurrent connects, either direction', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const a = endpoint();
  const b = await callee(kb, [ka]);
  let inboundCount = 0;
  b.on('tunnel', () => inboundCount++);

  const [t1, t2, t3] = await Promise.all([
    a.connect(kb.publicKey, { keyPair: ka }),
    a.connect(kb.publicKey, { keyPair: ka }),
    a.connect(kb.publicKey, { keyPair: ka }),
  ]);
  assert.equal(t1, t2);
  assert.equal(t2, t3);
  const t4 = await a.connect(kb.publicKey, { keyPair: ka });
  assert.equal(t4, t1);
  assert.equal(a.find(kb.publicKey, ka.publicKey), t1);

  // Prove the server side has exactly one connection: a frame makes it show up.
  const atB = next<[Uint8Array, Tunnel]>(b, 'sip');
  t1.sendSip(INVITE);
  const [, tb] = await atB;
  assert.equal(inboundCount, 1);
  assert.equal(b.tunnels.length, 1);

  // The callee reaches the caller through the same tunnel (the caller does not even listen).
  const back = await b.connect(ka.publicKey, { keyPair: kb });
  assert.equal(back, tb);
  assert.equal(b.find(ka.publicKey, kb.publicKey), tb);
  // A different local key is a different pool entry.
  assert.equal(a.find(kb.publicKey, keyPair().publicKey), undefined);
});

test('the accept policy refuses an unknown key: typed error within our own timeout, silent for the peer', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const stranger = keyPair();
  const rejects = subscribe<TunnelRejectMessage>('p2psip:tunnel:reject');
  cleanups.push(() => rejects.stop());
  const b = await callee(kb, [ka]);
  let inbound = 0;
  b.on('tunnel', () => inbound++);

  const s = endpoint({ connectTimeoutMs: 1_500 });
  await assert.rejects(s.connect(kb.publicKey, { keyPair: stranger }), (err: unknown) => {
    // Our timeout (1.5 s) is shorter than hyperdht's own give-up, so it is ours that fires.
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.ConnectTimeout);
    return true;
  });
  const seen = await rejects.next((m) => m.remotePublicKey === toHex(stranger.publicKey));
  assert.deepEqual(seen, {
    remotePublicKey: toHex(stranger.publicKey),
    localPublicKey: toHex(kb.publicKey),
    why: 'policy',
  });
  assert.equal(inbound, 0);
  assert.equal(s.find(kb.publicKey, stranger.publicKey), undefined);

  // A throwing policy refuses too, and says so.
  const kd = keyPair();
  const d = endpoint({
    accept: () => {
      throw new Error('policy bug');
    },
  });
  await d.listen(kd);
  await assert.rejects(s.connect(kd.publicKey, { keyPair: stranger, timeoutMs: 1_000 }), (err) => {
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.ConnectTimeout);
    return true;
  });
  const policyError = await rejects.next((m) => m.localPublicKey === toHex(kd.publicKey));
  assert.equal(policyError.why, 'policy-error');

  // The endpoint is unharmed: the allowed key still gets in.
  const ok = await endpoint().connect(kb.publicKey, { keyPair: ka });
  assert.ok(ok.isOpen);
});

test('a key nobody listens on: PEER_NOT_FOUND', async () => {
  const a = endpoint({ connectTimeoutMs: 20_000 });
  await assert.rejects(a.connect(keyPair().publicKey, { keyPair: keyPair() }), (err) => {
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.PeerNotFound);
    return true;
  });
});

test('idle close (no frames, no holders), then a new connect works', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const closes = subscribe<TunnelCloseMessage>('p2psip:tunnel:close');
  cleanups.push(() => closes.stop());
  const a = endpoint({ idleTimeoutMs: 300 });
  await callee(kb, [ka], { idleTimeoutMs: 300 });

  const first = await a.connect(kb.publicKey, { keyPair: ka });
  first.sendSip(INVITE);
  const [reason] = await next<[{ code: string } | null]>(first, 'close');
  // Whichever side's timer fired first closed it; the other saw a normal close.
  assert.ok(reason === null || reason.code === TunnelErrorCode.Idle, String(reason));
  const both = await Promise.all([
    closes.next((m) => m.localPublicKey === toHex(ka.publicKey)),
    closes.next((m) => m.localPublicKey === toHex(kb.publicKey)),
  ]);
  assert.ok(both.some((m) => m.reason === TunnelErrorCode.Idle));
  assert.ok(both.every((m) => m.reason === TunnelErrorCode.Idle || m.reason === null));
  assert.equal(a.find(kb.publicKey, ka.publicKey), undefined);
  assert.throws(
    () => first.sendSip(INVITE),
    (err) => tunnelErrorCode(err) === TunnelErrorCode.Closed,
  );

  const second = await a.connect(kb.publicKey, { keyPair: ka });
  assert.notEqual(second, first);
  assert.ok(second.isOpen);
  // A holder keeps the new one from closing at our end; the holder count is visible.
  const release = second.hold();
  assert.equal(second.holders, 1);
  release();
  assert.equal(second.holders, 0);
});

test('close() is graceful: the last frame arrives and both ends close normally; open is observable', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const opens = subscribe<{ remotePublicKey: string; localPublicKey: string; direction: string }>(
    'p2psip:tunnel:open',
  );
  cleanups.push(() => opens.stop());
  const b = await callee(kb, [ka]);
  const inbound = next<[Tunnel]>(b, 'tunnel');
  const ta = await endpoint().connect(kb.publicKey, { keyPair: ka });
  const [tb] = await inbound;
  const lastAtB = next<[Uint8Array, Tunnel]>(b, 'sip');
  const closedAtB = next<[unknown]>(tb, 'close');
  ta.sendSip(utf8('BYE sip:bob@example.org SIP/2.0\r\n\r\n'));
  await ta.close();
  assert.deepEqual((await lastAtB)[0], utf8('BYE sip:bob@example.org SIP/2.0\r\n\r\n'));
  assert.equal((await closedAtB)[0], null);
  assert.equal(ta.closeReason, null);
  assert.ok(ta.isClosed && tb.isClosed);
  const seen = await opens.next(
    (m) => m.localPublicKey === toHex(kb.publicKey) && m.remotePublicKey === toHex(ka.publicKey),
  );
  assert.equal(seen.direction, 'inbound');
});

test('a throwing listener closes only its own tunnel, not the endpoint or the process', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const b = await callee(kb, [ka]);
  let calls = 0;
  b.on('sip', () => {
    calls++;
    if (calls === 1) throw new Error('proxy bug');
  });
  const a = endpoint();
  const first = await a.connect(kb.publicKey, { keyPair: ka });
  const closed = next<[unknown]>(first, 'close');
  first.sendSip(INVITE);
  await closed;
  const second = await a.connect(kb.publicKey, { keyPair: ka });
  assert.notEqual(second, first);
  const delivered = next<[Uint8Array, Tunnel]>(b, 'sip');
  second.sendSip(OK);
  assert.deepEqual((await delivered)[0], OK);
  assert.equal(calls, 2);
});

/** Opens a raw secret stream (no tunnel layer) to `publicKey`, closed after the file's tests. */
async function rawConnect(publicKey: Uint8Array, kp: DhtKeyPair): Promise<SecretStream> {
  const dht = createDht({ bootstrap: testnet.bootstrap, host: '127.0.0.1' });
  cleanups.push(() => dht.destroy());
  const socket = dht.connect(Buffer.from(publicKey), { keyPair: toDhtKeyPair(kp) });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.on('open', resolve);
    socket.on('close', () => reject(new Error('raw connect failed')));
  });
  return socket;
}

const HELLO_FRAME = encodeFrame(
  FrameType.Control,
  encodeHello({ minVersion: 1, maxVersion: 1, maxFramePayload: 65_536 }),
);

test('hostile peers are disconnected with a typed reason and the endpoint survives', async () => {
  const kb = keyPair();
  const peers = [keyPair(), keyPair(), keyPair(), keyPair(), keyPair()];
  const ka = keyPair();
  const closes = subscribe<TunnelCloseMessage>('p2psip:tunnel:close');
  cleanups.push(() => closes.stop());
  const b = await callee(kb, [...peers, ka]);

  const cases: { name: string; bytes: Uint8Array; reason: string }[] = [
    {
      name: 'unknown frame type',
      bytes: fromHex('ff0000000100'),
      reason: TunnelErrorCode.Protocol,
    },
    {
      name: 'oversize frame after hello',
      bytes: Buffer.concat([HELLO_FRAME, fromHex('01ffffffff')]),
      reason: TunnelErrorCode.FrameTooLarge,
    },
    {
      name: 'SIP before hello',
      bytes: encodeFrame(FrameType.Sip, INVITE),
      reason: TunnelErrorCode.Protocol,
    },
    {
      name: 'hello with the wrong magic',
      bytes: fromHex('020000000f01' + '5032505349500001000100010000'),
      reason: TunnelErrorCode.Protocol,
    },
    {
      name: 'a control kind reserved for the tunnel itself',
      bytes: Buffer.concat([HELLO_FRAME, encodeFrame(FrameType.Control, fromHex('05'))]),
      reason: TunnelErrorCode.Protocol,
    },
  ];
  for (const [i, c] of cases.entries()) {
    const kp = peers[i]!;
    const raw = await rawConnect(kb.publicKey, kp);
    const rawClosed = new Promise<void>((resolve) => raw.on('close', resolve));
    raw.write(c.bytes);
    const closed = await closes.next((m) => m.remotePublicKey === toHex(kp.publicKey));
    assert.equal(closed.reason, c.reason, c.name);
    assert.equal(closed.direction, 'inbound');
    await rawClosed; // the hostile peer was disconnected
  }
  assert.equal(b.tunnels.length, 0);

  // Still serving: a well-behaved caller gets through and is heard.
  const atB = next<[Uint8Array, Tunnel]>(b, 'sip');
  const ta = await endpoint().connect(kb.publicKey, { keyPair: ka });
  ta.sendSip(INVITE);
  assert.deepEqual((await atB)[0], INVITE);
});

test("an outbound frame over the peer's announced limit fails locally with FRAME_TOO_LARGE", async () => {
  const ka = keyPair();
  const kb = keyPair();
  await callee(kb, [ka], { maxFramePayload: 100 });
  const ta = await endpoint().connect(kb.publicKey, { keyPair: ka });
  assert.throws(
    () => ta.sendSip(new Uint8Array(101)),
    (err) => tunnelErrorCode(err) === TunnelErrorCode.FrameTooLarge,
  );
  assert.ok(ta.isOpen);
  ta.sendSip(new Uint8Array(100));
});

test('listen on two key pairs, unlisten one: the other keeps working', async () => {
  const ka = keyPair();
  const k1 = keyPair();
  const k2 = keyPair();
  const b = endpoint({ accept: (remote) => equalBytes(remote, ka.publicKey) });
  await Promise.all([b.listen(k1), b.listen(k2), b.listen(k2)]);
  assert.deepEqual(b.listeningKeys.sort(), [toHex(k1.publicKey), toHex(k2.publicKey)].sort());
  const seenLocal: string[] = [];
  b.on('tunnel', (t) => seenLocal.push(toHex(t.localPublicKey)));

  const a = endpoint({ connectTimeoutMs: 10_000 });
  const t1 = await a.connect(k1.publicKey, { keyPair: ka });
  const t2 = await a.connect(k2.publicKey, { keyPair: ka });
  assert.notEqual(t1, t2);
  const bothSeen = new Promise<void>((resolve) => {
    let n = 0;
    b.on('sip', () => {
      if (++n === 2) resolve();
    });
  });
  t1.sendSip(INVITE);
  t2.sendSip(INVITE);
  await bothSeen;
  assert.deepEqual(seenLocal.sort(), [toHex(k1.publicKey), toHex(k2.publicKey)].sort());

  const t2closed = next<[]>(t2, 'close');
  await b.unlisten(k2.publicKey, { closeTunnels: true });
  await t2closed;
  assert.deepEqual(b.listeningKeys, [toHex(k1.publicKey)]);
  await assert.rejects(a.connect(k2.publicKey, { keyPair: ka }), (err) => {
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.PeerNotFound);
    return true;
  });
  // k1 is untouched: the old tunnel is open and a fresh caller key can dial it.
  assert.ok(t1.isOpen);
  const fresh = await endpoint().connect(k1.publicKey, { keyPair: ka });
  assert.ok(fresh.isOpen);
});

test('media datagrams round trip on a channel; control extensions reach their handler', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const b = await callee(kb, [ka]);
  const controls: [string, Tunnel][] = [];
  const gotControl = new Promise<void>((resolve) => {
    b.onControl(0x20, (body, t) => {
      controls.push([toHex(body), t]);
      resolve();
    });
  });
  assert.throws(() => b.onControl(0x20, () => {}), RangeError);
  assert.throws(() => b.onControl(0x01, () => {}), RangeError);

  const ta = await endpoint().connect(kb.publicKey, { keyPair: ka });
  // A kind nobody registered is skipped (counted), the tunnel stays up.
  ta.sendControl(0x7f, fromHex('01'));
  ta.sendControl(0x20, fromHex('c0ffee'));
  await gotControl;
  assert.ok(controls[0]![1].isOpen, 'an unknown extension kind does not close the tunnel');
  assert.equal(controls[0]![1].ignoredControlFrames, 1);
  assert.equal(controls[0]?.[0], 'c0ffee');
  assert.ok(equalBytes(controls[0]![1].remotePublicKey, ka.publicKey));

  // Unreliable by nature: resend (bounded) until one arrives.
  const rtp = fromHex('80e0000100000000deadbeef');
  let got: [number, Uint8Array, Tunnel] | null = null;
  b.once('datagram', (channel, bytes, t) => {
    got = [channel, bytes, t];
  });
  for (let i = 0; i < 50 && got === null; i++) {
    ta.sendDatagram(7, rtp);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(got, 'no datagram arrived in 50 tries');
  const [channel, bytes, t] = got as [number, Uint8Array, Tunnel];
  assert.equal(channel, 7);
  assert.deepEqual(bytes, rtp);
  assert.ok(equalBytes(t.remotePublicKey, ka.publicKey));
});

test('close(): tunnels and servers go, later calls fail with CLOSED; a given DHT is left alone', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const dht = createDht({ bootstrap: testnet.bootstrap, host: '127.0.0.1' });
  cleanups.push(() => dht.destroy());
  const b = new TunnelEndpoint({ dht, accept: () => true });
  await b.listen(kb);
  const a = endpoint();
  const ta = await a.connect(kb.publicKey, { keyPair: ka });
  const closedAtA = next<[unknown]>(ta, 'close');

  await b.close();
  await closedAtA;
  assert.equal(b.tunnels.length, 0);
  assert.deepEqual(b.listeningKeys, []);
  assert.equal(dht.destroyed, false, 'the DHT belongs to its creator');
  await assert.rejects(b.connect(ka.publicKey, { keyPair: kb }), (err) => {
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.Closed);
    return true;
  });
  await assert.rejects(b.listen(keyPair()), (err) => {
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.Closed);
    return true;
  });
  await b.close(); // idempotent

  // Nobody listens on kb any more.
  await assert.rejects(endpoint().connect(kb.publicKey, { keyPair: ka }), (err) => {
    assert.equal(tunnelErrorCode(err), TunnelErrorCode.PeerNotFound);
    return true;
  });
  assert.throws(() => new TunnelEndpoint({}), TypeError);
});
