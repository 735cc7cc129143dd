// MediaRelay with real UDP sockets on loopback and an in-memory pair of
// linked "tunnels": packets both ways (RTP and RTCP, with and without
// rtcp-mux), latching to the softphone's real source, every drop reason the
// relay can meet on loopback, the idle timeout under a manual clock, and
// release of every socket, channel and timer.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  ChannelAllocator,
  isLoopback,
  MediaErrorCode,
  MediaRelay,
  type MediaRelayOptions,
  mediaErrorCode,
  type RelayStream,
} from '../../../src/media/index.js';
import { ManualClock } from '../../../src/overlay/clock.js';
import { MAX_DATAGRAM_PAYLOAD } from '../../../src/tunnel/frame.js';
import {
  assertEmpty,
  idleClock,
  linkedPair,
  Phone,
  rtp,
  settle,
  stableUdpHandles,
  until,
} from './helpers.js';

const relays: MediaRelay[] = [];
const phones: Phone[] = [];
after(async () => {
  for (const r of relays) await r.close();
  for (const p of phones) await p.close();
});

function relay(opts: Partial<MediaRelayOptions> = {}): MediaRelay {
  const r = new MediaRelay({ host: '127.0.0.1', ...opts });
  relays.push(r);
  return r;
}

async function phone(host?: string): Promise<Phone> {
  const p = await Phone.open(host);
  phones.push(p);
  return p;
}

/** Two relays with one session each, stream 0 wired: each side knows the other's channels. */
async function wired(opts: Partial<MediaRelayOptions> = {}) {
  const a = relay(opts);
  const b = relay(opts);
  const { toA, toB, sent } = linkedPair(a, b);
  const sa = a.open('call-1', toB);
  const sb = b.open('call-1', toA);
  const [ta, tb] = await Promise.all([sa.ensureStream(0), sb.ensureStream(0)]);
  ta.setSend(tb.recv);
  tb.setSend(ta.recv);
  return { a, b, sa, sb, ta, tb, sent };
}

test('channel ids: even RTP, odd RTCP, unique until released, MEDIA_EXHAUSTED when all are taken', () => {
  const alloc = new ChannelAllocator(0x7ffe);
  const first = alloc.allocate();
  assert.deepEqual(first, { rtp: 0xfffc, rtcp: 0xfffd });
  assert.deepEqual(alloc.allocate(), { rtp: 0xfffe, rtcp: 0xffff });
  assert.deepEqual(alloc.allocate(), { rtp: 0, rtcp: 1 }, 'wraps around');
  const seen = new Set<number>([0xfffc, 0xfffe, 0]);
  for (let i = 3; i < 0x8000; i++) {
    const p = alloc.allocate();
    assert.equal(p.rtp % 2, 0);
    assert.equal(p.rtcp, p.rtp + 1);
    assert.ok(!seen.has(p.rtp), `pair ${p.rtp} handed out twice`);
    seen.add(p.rtp);
  }
  assert.equal(alloc.size, 0x8000);
  assert.equal(mediaErrorCode(catchErr(() => alloc.allocate())), MediaErrorCode.Exhausted);
  alloc.release(first.rtcp);
  assert.deepEqual(alloc.allocate(), first, 'a released pair is reused');
});

test('a stream binds RTP on an even port with RTCP next to it, on the relay host', async () => {
  const r = relay();
  const s = await r.open('pair', { peer: 'x', sendDatagram() {} }).ensureStream(0);
  assert.equal(s.rtpPort % 2, 0);
  assert.equal(s.rtcpPort, s.rtpPort + 1);
  assert.equal(r.stats().sockets, 2);
});

test('RTP and RTCP flow both ways, byte for byte, and the relay counts them', async () => {
  const { a, b, ta, tb } = await wired();
  const [alice, bob] = [await phone(), await phone()];
  const [aliceRtcp, bobRtcp] = [await phone(), await phone()];
  ta.setTarget({
    rtp: { address: '127.0.0.1', port: alice.port },
    rtcp: { address: '127.0.0.1', port: aliceRtcp.port },
  });
  tb.setTarget({
    rtp: { address: '127.0.0.1', port: bob.port },
    rtcp: { address: '127.0.0.1', port: bobRtcp.port },
  });

  for (let i = 0; i < 20; i++) {
    await alice.send(rtp(i), ta.rtpPort);
    await bob.send(rtp(1000 + i, 80), tb.rtpPort);
  }
  await aliceRtcp.send(new Uint8Array([0x80, 200, 0, 6]), ta.rtcpPort);
  await bobRtcp.send(new Uint8Array([0x80, 201, 0, 1]), tb.rtcpPort);
  await until(() => bob.received.length === 20 && alice.received.length === 20, 'RTP both ways');
  await until(() => bobRtcp.received.length === 1 && aliceRtcp.received.length === 1, 'RTCP');
  assert.deepEqual(
    bob.received.map((p) => p.bytes[3]),
    [...Array(20).keys()],
  );
  assert.deepEqual(bob.received[0]?.bytes, rtp(0));
  assert.equal(bob.received[0]?.from, tb.rtpPort, "bob hears from his own node's RTP socket");
  assert.deepEqual(aliceRtcp.received[0]?.bytes, new Uint8Array([0x80, 201, 0, 1]));
  assert.equal(aliceRtcp.received[0]?.from, ta.rtcpPort);
  assert.deepEqual(a.stats().packets, {
    fromSoftphone: 21,
    toTunnel: 21,
    fromTunnel: 21,
    toSoftphone: 21,
  });
  assert.deepEqual(b.stats().packets, a.stats().packets);
});

test('symmetric RTP: replies go to where the softphone really sends from, not its SDP port', async () => {
  const { ta, tb } = await wired();
  const [alice, bob, decoy] = [await phone(), await phone(), await phone()];
  // The SDP names the decoy's port; alice really sends from hers.
  ta.setTarget({ rtp: { address: '127.0.0.1', port: decoy.port }, rtcp: null });
  tb.setTarget({ rtp: { address: '127.0.0.1', port: bob.port }, rtcp: null });
  await alice.send(rtp(1), ta.rtpPort);
  await until(() => bob.received.length === 1, 'first packet');
  await bob.send(rtp(2), tb.rtpPort);
  await until(() => alice.received.length === 1, 'the reply at the latched source');
  assert.equal(decoy.received.length, 0);
  assert.deepEqual(ta.destination('rtp'), { address: '127.0.0.1', port: alice.port });
});

test('after latching, other sources are dropped (foreignSource); a new SDP target re-opens latching', async () => {
  const { a, ta, tb } = await wired();
  const [alice, bob, stranger] = [await phone(), await phone(), await phone()];
  ta.setTarget({ rtp: { address: '127.0.0.1', port: alice.port }, rtcp: null });
  tb.setTarget({ rtp: { address: '127.0.0.1', port: bob.port }, rtcp: null });
  await alice.send(rtp(1), ta.rtpPort);
  await until(() => bob.received.length === 1, 'latching packet');
  await stranger.send(rtp(66), ta.rtpPort);
  await alice.send(rtp(2), ta.rtpPort);
  await until(() => bob.received.length === 2, 'second packet from alice');
  assert.deepEqual(
    bob.received.map((p) => p.bytes[3]),
    [1, 2],
  );
  assert.equal(a.stats().dropped.foreignSource, 1);

  ta.setTarget({ rtp: { address: '127.0.0.1', port: stranger.port }, rtcp: null });
  await stranger.send(rtp(3), ta.rtpPort);
  await until(() => bob.received.length === 3, 'packet after re-latching');
  // The same target again keeps the latch (a 200 repeating the 183's answer).
  ta.setTarget({ rtp: { address: '127.0.0.1', port: stranger.port }, rtcp: null });
  await alice.send(rtp(4), ta.rtpPort);
  await settle();
  assert.equal(bob.received.length, 3);
  assert.equal(a.stats().dropped.foreignSource, 2);
});

test('rtcp-mux: the RTCP socket closes; RTCP travels with RTP on the RTP socket', async () => {
  const { a, b, ta, tb } = await wired();
  const [alice, bob] = [await phone(), await phone()];
  ta.setTarget({
    rtp: { address: '127.0.0.1', port: alice.port },
    rtcp: { address: '127.0.0.1', port: alice.port + 1 },
  });
  tb.setTarget({
    rtp: { address: '127.0.0.1', port: bob.port },
    rtcp: { address: '127.0.0.1', port: bob.port + 1 },
  });
  ta.setMux(true);
  tb.setMux(true);
  await until(() => a.stats().sockets === 1 && b.stats().sockets === 1, 'RTCP sockets closed');
  assert.equal(ta.rtcpPort, ta.rtpPort);
  const rtcpPacket = new Uint8Array([0x81, 200, 0, 6, 1, 2, 3, 4]);
  await alice.send(rtp(5), ta.rtpPort);
  await alice.send(rtcpPacket, ta.rtpPort);
  await until(() => bob.received.length === 2, 'RTP + RTCP on the RTP port');
  assert.deepEqual(bob.received[1]?.bytes, rtcpPacket);
  // A datagram on the peer's RTCP channel (a non-mux peer) also goes to the RTP port.
  b.deliver(tb.recv.rtcp, rtcpPacket, 'A');
  await until(() => bob.received.length === 3, 'RTCP channel → RTP port');
});

test('drops: wrong peer, unknown channel, no peer channel yet, too large, hold, link down', async () => {
  const a = relay();
  const b = relay();
  const { toB } = linkedPair(a, b);
  let linkUp = true;
  const sa = a.open('drops', {
    peer: 'B',
    sendDatagram: (ch, bytes) => {
      if (!linkUp) throw new Error('no tunnel');
      toB.sendDatagram(ch, bytes);
    },
  });
  const ta = await sa.ensureStream(0);
  const alice = await phone();
  ta.setTarget({ rtp: 'hold', rtcp: 'hold' });

  assert.equal(a.deliver(ta.recv.rtp, rtp(1), 'Mallory'), false);
  assert.equal(a.deliver((ta.recv.rtp + 2) & 0xffff, rtp(1), 'B'), false);
  assert.equal(a.deliver(ta.recv.rtp, rtp(1), 'B'), true);
  await alice.send(rtp(2), ta.rtpPort);
  await until(() => a.stats().dropped.noPeerChannel === 1, 'noPeerChannel');
  ta.setSend({ rtp: 10, rtcp: 11 });
  await alice.send(rtp(3, MAX_DATAGRAM_PAYLOAD + 1), ta.rtpPort);
  await until(() => a.stats().dropped.tooLarge === 1, 'tooLarge');
  linkUp = false;
  await alice.send(rtp(4), ta.rtpPort);
  await until(() => a.stats().dropped.linkDown === 1, 'linkDown');
  const d = a.stats().dropped;
  assert.equal(d.wrongPeer, 1);
  assert.equal(d.unknownChannel, 1);
  assert.equal(d.noTarget, 1, 'on hold: nothing is sent to the softphone');
  assert.equal(alice.received.length, 0);
  // An IPv6 destination from a udp4 relay cannot be reached.
  ta.setTarget({ rtp: { address: '::1', port: 9 }, rtcp: null });
  a.deliver(ta.recv.rtp, rtp(5), 'B');
  assert.equal(a.stats().dropped.unroutable, 1);
});

test('setLink moves a session to another tunnel: datagrams from the new peer are accepted', async () => {
  const { b, sb, tb } = await wired();
  const bob = await phone();
  tb.setTarget({ rtp: { address: '127.0.0.1', port: bob.port }, rtcp: null });
  sb.setLink({ peer: 'A2', sendDatagram() {} });
  assert.equal(b.deliver(tb.recv.rtp, rtp(1), 'A'), false);
  assert.equal(b.deliver(tb.recv.rtp, rtp(2), 'A2'), true);
  await until(() => bob.received.length === 1, 'packet via the new link');
});

test('idle timeout: no media and no signalling for idleTimeoutMs closes the session and frees everything', async () => {
  const manual = new ManualClock();
  const clock = idleClock(manual);
  const r = relay({ clock, idleTimeoutMs: 30_000 });
  const s = r.open('idle', { peer: 'B', sendDatagram() {} });
  const stream = await s.ensureStream(0);
  const reasons: string[] = [];
  s.on('close', (why) => reasons.push(why));
  manual.advance(20_000);
  stream.deliver('rtp', rtp(1)); // activity
  manual.advance(20_000);
  assert.equal(s.isClosed, false, 'activity postponed the timeout');
  s.touch(); // signalling counts too
  manual.advance(29_999);
  assert.equal(s.isClosed, false);
  manual.advance(1);
  assert.equal(s.isClosed, true);
  await s.closed;
  assert.deepEqual(reasons, ['idle']);
  assertEmpty(r);
  assert.equal(manual.pending, 0);
  assert.equal(mediaErrorCode(await s.ensureStream(1).catch((e) => e)), MediaErrorCode.Closed);
});

test('limits: maxSessions, maxStreamsPerSession, duplicate key, open after close', async () => {
  const r = relay({ maxSessions: 2, maxStreamsPerSession: 2 });
  const link = { peer: 'B', sendDatagram() {} };
  const s = r.open('one', link);
  r.open('two', link);
  assert.equal(mediaErrorCode(catchErr(() => r.open('three', link))), MediaErrorCode.Exhausted);
  assert.throws(() => r.open('one', link), TypeError);
  assert.equal(mediaErrorCode(await s.ensureStream(2).catch((e) => e)), MediaErrorCode.Exhausted);
  const [x, y] = await Promise.all([s.ensureStream(1), s.ensureStream(1)]);
  assert.equal(x, y, 'concurrent ensureStream share one bind');
  await r.close();
  assert.equal(mediaErrorCode(catchErr(() => r.open('four', link))), MediaErrorCode.Closed);
  assertEmpty(r);
});

test('a session closed while its stream is still binding closes that stream too', async () => {
  const r = relay();
  const s = r.open('racing', { peer: 'B', sendDatagram() {} });
  const pending = s.ensureStream(0);
  await s.close();
  assert.equal(mediaErrorCode(await pending.catch((e) => e)), MediaErrorCode.Closed);
  await until(() => r.stats().sockets === 0, 'sockets of the late bind closed');
  assertEmpty(r);
});

test('100 sessions opened, used and closed leave no socket, channel, timer or UDP handle behind', async () => {
  const a = relay();
  const b = relay();
  const { toA, toB } = linkedPair(a, b);
  const alice = await phone();
  const bob = await phone();
  const baseline = await stableUdpHandles();
  for (let i = 0; i < 100; i++) {
    const sa = a.open(`call-${i}`, toB);
    const sb = b.open(`call-${i}`, toA);
    const ta: RelayStream = await sa.ensureStream(0);
    const tb: RelayStream = await sb.ensureStream(0);
    ta.setSend(tb.recv);
    tb.setSend(ta.recv);
    tb.setTarget({ rtp: { address: '127.0.0.1', port: bob.port }, rtcp: null });
    await alice.send(rtp(i), ta.rtpPort);
    await until(() => bob.received.length === i + 1, `packet of call ${i}`);
    if (i % 2 === 0) await Promise.all([sa.close(), sb.close()]);
    else await Promise.all([sb.close(), sa.close()]);
  }
  for (const r of [a, b]) {
    assertEmpty(r);
  }
  assert.equal(a.stats().packets.toTunnel, 100);
  const after = await stableUdpHandles();
  assert.ok(after <= baseline, `UDP handles: ${after} after, ${baseline} before`);
});

test('IPv6 relay host (::1): addrType IP6 and packets flow', async (t) => {
  let a: MediaRelay;
  try {
    a = relay({ host: '::1' });
    await a.open('probe', { peer: 'x', sendDatagram() {} }).ensureStream(0);
  } catch (err) {
    assert.fail(`IPv6 loopback (::1) is needed for this test: ${String(err)}`);
  }
  t.diagnostic('::1 available');
  const b = relay({ host: '::1' });
  assert.equal(a.addrType, 'IP6');
  const { toA, toB } = linkedPair(a, b);
  const [ta, tb] = await Promise.all([
    a.open('v6', toB).ensureStream(0),
    b.open('v6', toA).ensureStream(0),
  ]);
  ta.setSend(tb.recv);
  tb.setSend(ta.recv);
  const [alice, bob] = [await phone('::1'), await phone('::1')];
  tb.setTarget({ rtp: { address: '::1', port: bob.port }, rtcp: null });
  await alice.send(rtp(1), ta.rtpPort, '::1');
  await until(() => bob.received.length === 1, 'IPv6 packet');
});

test('isLoopback', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
    assert.ok(isLoopback(a), a);
  for (const a of ['192.0.2.1', '128.0.0.1', '::2', 'fe80::1', '::ffff:192.0.2.1'])
    assert.ok(!isLoopback(a), a);
  assert.throws(() => new MediaRelay({ host: 'localhost' }), TypeError);
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}
