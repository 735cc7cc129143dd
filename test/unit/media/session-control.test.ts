// Offer/answer through two nodes (A: the caller's, B: the callee's), each
// with its own MediaRelay and MediaControl, joined by an in-memory tunnel
// pair; fake softphones are UDP sockets on loopback that send to the ports
// the rewritten SDP gives them. Covers INVITE/200/ACK, 183 + 200, late offer,
// hold and resume (both kinds), a rejected re-offer, port 0 / TCP / rtcp-mux,
// every error, BYE/CANCEL release and 100 calls without a leak.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  CHANNEL_ATTRIBUTE,
  isSdpContentType,
  MediaControl,
  MediaErrorCode,
  MediaRelay,
  mediaErrorCode,
  mediaKey,
  mediaResponseFor,
} from '../../../src/media/index.js';
import {
  direction,
  effectiveConnection,
  mediaLine,
  origin,
  parseSdp,
  type Sdp,
  SdpErrorCode,
  sdpErrorCode,
  streams,
} from '../../../src/sdp/index.js';
import { crlf } from '../sdp/fixtures.js';
import {
  assertEmpty,
  linkedPair,
  Phone,
  phoneSdp,
  rtp,
  settle,
  stableUdpHandles,
  until,
} from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function nodes(opts: { maxStreamsPerSession?: number } = {}) {
  const a = new MediaRelay({ host: '127.0.0.1', ...opts });
  const b = new MediaRelay({ host: '127.0.0.1', ...opts });
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  const { toA, toB } = linkedPair(a, b);
  return { A: new MediaControl(a), B: new MediaControl(b), toA, toB };
}

async function phone(): Promise<Phone> {
  const p = await Phone.open();
  cleanups.push(() => p.close());
  return p;
}

const portOf = (body: Uint8Array, i = 0) => mediaLine(parseSdp(body).media[i]!).port;
const sdpOf = (body: Uint8Array): Sdp => parseSdp(body);

/** INVITE with offer from alice → B → bob answers 200 → A; returns the dialogs and all four bodies. */
async function establish(key = mediaKey('call-1@a', 'tagA')) {
  const { A, B, toA, toB } = nodes();
  const [alice, bob] = [await phone(), await phone()];
  const da = A.dialog(key, toB);
  const db = B.dialog(key, toA);
  const offerOut = await da.onOffer('local', phoneSdp(alice.port));
  const offerIn = await db.onOffer('tunnel', offerOut);
  const answerOut = await db.onAnswer('local', phoneSdp(bob.port));
  const answerIn = await da.onAnswer('tunnel', answerOut);
  return { A, B, da, db, alice, bob, offerOut, offerIn, answerOut, answerIn };
}

/** Alice and bob each send `n` packets to the ports their SDP named; waits for all to arrive. */
async function talk(
  c: Awaited<ReturnType<typeof establish>>,
  n: number,
  aliceTo: number,
  bobTo: number,
) {
  const [ra, rb] = [c.alice.received.length, c.bob.received.length];
  for (let i = 0; i < n; i++) {
    await c.alice.send(rtp(i), aliceTo);
    await c.bob.send(rtp(100 + i), bobTo);
  }
  await until(
    () => c.bob.received.length === rb + n && c.alice.received.length === ra + n,
    `${n} packets each way`,
  );
}

test("INVITE/200: each side gets its own node's relay address; channel ids only between nodes; media flows", async () => {
  const c = await establish();
  const ra = c.A.relay;
  const rb = c.B.relay;
  const streamA = c.da.session.stream(0)!;
  const streamB = c.db.session.stream(0)!;

  // Between the nodes: A's relay socket and A's receive channels, never alice's port.
  const out = sdpOf(c.offerOut);
  assert.equal(portOf(c.offerOut), streamA.rtpPort);
  assert.notEqual(portOf(c.offerOut), c.alice.port);
  assert.doesNotMatch(dec(c.offerOut), new RegExp(`\\b${c.alice.port}\\b`));
  assert.match(
    dec(c.offerOut),
    new RegExp(`a=${CHANNEL_ATTRIBUTE}:${streamA.recv.rtp} ${streamA.recv.rtcp}\\r\\n`),
  );
  assert.equal(effectiveConnection(out, 0)?.address, ra.host);
  assert.equal(origin(out).address, ra.host);
  // To bob: B's relay socket, no channel attribute.
  assert.equal(portOf(c.offerIn), streamB.rtpPort);
  assert.doesNotMatch(dec(c.offerIn), /x-p2psip/);
  assert.equal(streamB.send?.rtp, streamA.recv.rtp, 'B sends on the channels A announced');
  assert.match(
    dec(c.answerOut),
    new RegExp(`a=${CHANNEL_ATTRIBUTE}:${streamB.recv.rtp} ${streamB.recv.rtcp}\\r\\n`),
  );
  assert.equal(portOf(c.answerIn), streamA.rtpPort);
  assert.doesNotMatch(dec(c.answerIn), /x-p2psip/);
  assert.equal(streamA.send?.rtp, streamB.recv.rtp);
  // Everything else passes unchanged.
  assert.deepEqual(
    dec(c.offerIn)
      .split('\r\n')
      .filter((l) => l.startsWith('a=')),
    ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv'],
  );

  await talk(c, 25, portOf(c.answerIn), portOf(c.offerIn));
  assert.equal(c.bob.received[0]?.from, streamB.rtpPort);
  assert.equal(ra.stats().packets.toTunnel, 25);
  assert.equal(rb.stats().packets.toSoftphone, 25);
  await c.da.close();
  await c.db.close();
  assert.equal(ra.stats().sockets + rb.stats().sockets, 0);
});

test('ICE lines never reach the tunnel; a=rtcp (RFC 3605) is rewritten to the relay', async () => {
  const { A, toB } = nodes();
  const d = A.dialog('ice', toB);
  const out = await d.onOffer(
    'local',
    phoneSdp(5000, {
      extra: [
        'a=ice-ufrag:F7gI',
        'a=ice-pwd:x9cml/YzichV2+XlhiMu8g',
        'a=candidate:1 1 UDP 2130706431 192.0.2.7 5000 typ host',
        'a=rtcp:5009 IN IP4 192.0.2.7',
      ],
    }),
  );
  const text = dec(out);
  assert.doesNotMatch(text, /ice-|candidate|192\.0\.2\.7/);
  const s = d.session.stream(0)!;
  assert.match(text, new RegExp(`a=rtcp:${s.rtcpPort} IN IP4 127\\.0\\.0\\.1\\r\\n`));
  assert.deepEqual(s.target.rtcp, { address: '192.0.2.7', port: 5009 });
});

test('183 with SDP then 200 with the same answer: same bytes out, nothing re-allocated', async () => {
  const { A, B, toA, toB } = nodes();
  const [alice, bob] = [await phone(), await phone()];
  const da = A.dialog('early', toB);
  const db = B.dialog('early', toA);
  const offerIn = await db.onOffer('tunnel', await da.onOffer('local', phoneSdp(alice.port)));
  const answer = phoneSdp(bob.port);
  const out183 = await db.onAnswer('local', answer);
  const in183 = await da.onAnswer('tunnel', out183);
  // Early media flows on the 183's answer.
  await alice.send(rtp(1), portOf(in183));
  await until(() => bob.received.length === 1, 'early media');
  const statsBefore = [A.relay.stats(), B.relay.stats()].map((s) => s.sockets);
  const out200 = await db.onAnswer('local', answer);
  const in200 = await da.onAnswer('tunnel', out200);
  assert.deepEqual(out200, out183);
  assert.deepEqual(in200, in183);
  assert.deepEqual(
    [A.relay.stats(), B.relay.stats()].map((s) => s.sockets),
    statsBefore,
  );
  await bob.send(rtp(2), portOf(offerIn));
  await until(() => alice.received.length === 1, 'media after the 200');
  // A 200 from another fork, with another answer, replaces the target.
  const fork = await phone();
  const forkIn = await da.onAnswer(
    'tunnel',
    await db.onAnswer('local', phoneSdp(fork.port, { version: 7 })),
  );
  assert.equal(portOf(forkIn), portOf(in183), 'same relay port for alice');
  await alice.send(rtp(3), portOf(forkIn));
  await until(() => fork.received.length === 1, 'media to the fork that answered last');
});

test('late offer: INVITE without SDP, offer in the 200 from bob, answer in the ACK from alice', async () => {
  const { A, B, toA, toB } = nodes();
  const [alice, bob] = [await phone(), await phone()];
  const da = A.dialog('late', toB);
  const db = B.dialog('late', toA);
  const offerToAlice = await da.onOffer('tunnel', await db.onOffer('local', phoneSdp(bob.port)));
  const answerToBob = await db.onAnswer('tunnel', await da.onAnswer('local', phoneSdp(alice.port)));
  assert.equal(portOf(offerToAlice), da.session.stream(0)!.rtpPort);
  assert.equal(portOf(answerToBob), db.session.stream(0)!.rtpPort);
  await alice.send(rtp(1), portOf(offerToAlice));
  await bob.send(rtp(2), portOf(answerToBob));
  await until(() => alice.received.length === 1 && bob.received.length === 1, 'media both ways');
});

test('hold with a=sendonly/recvonly keeps ports and directions; resume works', async () => {
  const c = await establish();
  const [aliceTo, bobTo] = [portOf(c.answerIn), portOf(c.offerIn)];
  const sockets = c.A.relay.stats().sockets + c.B.relay.stats().sockets;
  const holdIn = await c.db.onOffer(
    'tunnel',
    await c.da.onOffer('local', phoneSdp(c.alice.port, { version: 2, dir: 'sendonly' })),
  );
  assert.equal(direction(sdpOf(holdIn), 0), 'sendonly');
  assert.equal(portOf(holdIn), bobTo, 'bob keeps the same relay port');
  const holdAns = await c.da.onAnswer(
    'tunnel',
    await c.db.onAnswer('local', phoneSdp(c.bob.port, { version: 2, dir: 'recvonly' })),
  );
  assert.equal(direction(sdpOf(holdAns), 0), 'recvonly');
  assert.equal(portOf(holdAns), aliceTo);
  assert.equal(c.A.relay.stats().sockets + c.B.relay.stats().sockets, sockets, 'no new sockets');
  // Resume.
  await c.db.onOffer('tunnel', await c.da.onOffer('local', phoneSdp(c.alice.port, { version: 3 })));
  await c.da.onAnswer('tunnel', await c.db.onAnswer('local', phoneSdp(c.bob.port, { version: 3 })));
  await talk(c, 5, aliceTo, bobTo);
});

test('legacy hold c=0.0.0.0 passes as it is and the relay sends nothing to the held softphone', async () => {
  const c = await establish();
  const [aliceTo, bobTo] = [portOf(c.answerIn), portOf(c.offerIn)];
  const holdIn = await c.db.onOffer(
    'tunnel',
    await c.da.onOffer('local', phoneSdp(c.alice.port, { version: 2, host: '0.0.0.0' })),
  );
  assert.equal(effectiveConnection(sdpOf(holdIn), 0)?.address, '0.0.0.0');
  await c.da.onAnswer('tunnel', await c.db.onAnswer('local', phoneSdp(c.bob.port, { version: 2 })));
  await c.bob.send(rtp(9), bobTo);
  await until(() => c.A.relay.stats().dropped.noTarget === 1, 'held packet dropped at A');
  assert.equal(c.alice.received.length, 0);
  await c.db.onOffer('tunnel', await c.da.onOffer('local', phoneSdp(c.alice.port, { version: 3 })));
  await c.da.onAnswer('tunnel', await c.db.onAnswer('local', phoneSdp(c.bob.port, { version: 3 })));
  await talk(c, 3, aliceTo, bobTo);
});

test('a rejected re-offer (488) releases what it added and restores the old state', async () => {
  const c = await establish();
  const before = [c.A.relay.stats(), c.B.relay.stats()].map((s) => [s.sockets, s.channels]);
  const withVideo = phoneSdp(c.alice.port, {
    version: 2,
    more: ['m=video 6000 RTP/AVP 96', 'a=rtpmap:96 H264/90000'],
  });
  const reofferIn = await c.db.onOffer('tunnel', await c.da.onOffer('local', withVideo));
  assert.equal(streams(sdpOf(reofferIn)).length, 2);
  assert.ok(c.A.relay.stats().sockets > before[0]![0]!);
  // bob's phone answers 488: both nodes see the failure.
  await c.db.onOfferRejected();
  await c.da.onOfferRejected();
  assert.deepEqual(
    [c.A.relay.stats(), c.B.relay.stats()].map((s) => [s.sockets, s.channels]),
    before,
  );
  await talk(c, 3, portOf(c.answerIn), portOf(c.offerIn));
});

test('the initial INVITE failing (486, CANCEL → 487) releases the dialog', async () => {
  const { A, toB } = nodes();
  const d = A.dialog(mediaKey('c2', 't'), toB);
  await d.onOffer('local', phoneSdp(5000));
  assert.equal(A.relay.stats().sockets, 2);
  await d.onOfferRejected();
  assert.equal(d.isClosed, true);
  assert.equal(A.get(mediaKey('c2', 't')), undefined);
  assert.deepEqual([A.relay.stats().sockets, A.relay.stats().sessions], [0, 0]);
  assert.equal(
    mediaErrorCode(await d.onOffer('local', phoneSdp(5000)).catch((e) => e)),
    MediaErrorCode.Closed,
  );
});

test('port 0 stays 0, TCP and multi-port streams are declined, rtcp-mux agreed closes the RTCP socket', async () => {
  const { A, B, toA, toB } = nodes();
  const da = A.dialog('mix', toB);
  const db = B.dialog('mix', toA);
  const offer = phoneSdp(5000, {
    extra: ['a=rtcp-mux'],
    more: ['m=video 0 RTP/AVP 96', 'm=application 9 TCP/MSRP *', 'm=video 6000/2 RTP/AVP 31'],
  });
  const out = await da.onOffer('local', offer);
  assert.deepEqual(
    streams(sdpOf(out)).map((s) => s.media.port),
    [da.session.stream(0)!.rtpPort, 0, 0, 0],
  );
  assert.equal(da.session.streams.length, 1);
  const offerIn = await db.onOffer('tunnel', out);
  assert.deepEqual(
    streams(sdpOf(offerIn)).map((s) => s.media.port),
    [db.session.stream(0)!.rtpPort, 0, 0, 0],
  );
  const answer = enc(
    crlf([
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 7000 RTP/AVP 0',
      'a=rtcp-mux',
      'm=video 0 RTP/AVP 96',
      'm=application 0 TCP/MSRP *',
      'm=video 0 RTP/AVP 31',
    ]),
  );
  const answerIn = await da.onAnswer('tunnel', await db.onAnswer('local', answer));
  assert.equal(streams(sdpOf(answerIn))[0]?.rtcpMux, true);
  assert.doesNotMatch(dec(answerIn), /a=rtcp:/, 'no a=rtcp added for a muxed stream');
  await until(
    () => A.relay.stats().sockets === 1 && B.relay.stats().sockets === 1,
    'RTCP sockets closed on both nodes',
  );
  // A later offer with mux again: our softphone still gets a real RTCP port in
  // case it declines mux; agreed again, the extra socket goes away.
  const reofferIn = await db.onOffer('tunnel', await da.onOffer('local', offer));
  const sb = db.session.stream(0)!;
  assert.notEqual(sb.rtcpPort, sb.rtpPort);
  assert.equal(portOf(reofferIn), sb.rtpPort, 'the RTP port does not move');
  await da.onAnswer('tunnel', await db.onAnswer('local', answer));
  await until(
    () => A.relay.stats().sockets === 1 && B.relay.stats().sockets === 1,
    'RTCP sockets closed again',
  );
});

test('a stream the answer rejects (port 0) is released; one the tunnel offers without channels is declined', async () => {
  const { A, B, toA, toB } = nodes();
  const da = A.dialog('rej', toB);
  const db = B.dialog('rej', toA);
  const offer = phoneSdp(5000, { more: ['m=video 6000 RTP/AVP 96'] });
  await db.onOffer('tunnel', await da.onOffer('local', offer));
  assert.equal(A.relay.stats().streams, 2);
  const answer = enc(dec(phoneSdp(7000)).concat('m=video 0 RTP/AVP 96\r\n'));
  const answerIn = await da.onAnswer('tunnel', await db.onAnswer('local', answer));
  assert.equal(portOf(answerIn, 1), 0);
  assert.equal(A.relay.stats().streams, 1);
  assert.equal(B.relay.stats().streams, 1);

  const { B: B2, toA: toA2 } = nodes();
  const plain = await B2.dialog('nochan', toA2).onOffer('tunnel', phoneSdp(5000));
  assert.equal(portOf(plain), 0, 'no channel ids → declined, never direct');
  assert.equal(B2.relay.stats().streams, 0);
});

test('errors: malformed SDP → 400, offer/answer misuse and missing c= → 488, bad channel attribute → 400', async () => {
  const { A, B, toA, toB } = nodes();
  const d = A.dialog('err', toB);
  const status = async (p: Promise<unknown>) =>
    mediaResponseFor(
      await p.then(
        () => assert.fail('no error'),
        (e) => e,
      ),
    ).status;

  assert.equal(await status(d.onOffer('local', enc('v=0\r\no=broken\r\n'))), 400);
  assert.equal(await status(d.onAnswer('tunnel', phoneSdp(5000))), 488, 'answer without offer');
  await d.onOffer('local', phoneSdp(5000));
  assert.equal(await status(d.onAnswer('local', phoneSdp(5000))), 488, 'answer from the offerer');
  const twoStreams = phoneSdp(5000, { more: ['m=video 0 RTP/AVP 96'] });
  assert.equal(
    sdpErrorCode(await d.onAnswer('tunnel', twoStreams).catch((e) => e)),
    SdpErrorCode.OfferAnswer,
  );
  const noC = enc(
    crlf(['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 0']),
  );
  const d2 = A.dialog('err2', toB);
  assert.equal(
    sdpErrorCode(await d2.onOffer('local', noC).catch((e) => e)),
    SdpErrorCode.MissingConnection,
  );
  assert.equal(await status(d2.onOffer('local', noC)), 488);
  const d3 = B.dialog('err3', toA);
  const badChan = phoneSdp(5000, { more: [`a=${CHANNEL_ATTRIBUTE}:7 x`] });
  assert.equal(await status(d3.onOffer('tunnel', badChan)), 400);
  const sameChan = phoneSdp(5000, { more: [`a=${CHANNEL_ATTRIBUTE}:7 7`] });
  assert.equal(
    sdpErrorCode(await d3.onOffer('tunnel', sameChan).catch((e) => e)),
    SdpErrorCode.BadAttribute,
  );
  // An invalid re-offer changes nothing: the call goes on as before.
  const c = await establish();
  const before = [c.A.relay.stats(), c.B.relay.stats()].map((x) => [x.sockets, x.channels]);
  const bad = enc(
    dec(phoneSdp(c.alice.port, { version: 2 })).concat(
      'm=video 6000 RTP/AVP 96\r\nc=IN IP4 1.2.3\r\n',
    ),
  );
  assert.equal(await status(c.da.onOffer('local', bad)), 400);
  const halfBad = enc(
    crlf([
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      `m=audio ${c.alice.port} RTP/AVP 0`,
      'c=IN IP4 127.0.0.1',
      'm=video 6000 RTP/AVP 96',
      'c=IN IP4 127.0.0.1',
      'm=video 6002 RTP/AVP 96',
    ]),
  );
  assert.equal(await status(c.da.onOffer('local', halfBad)), 488, 'third stream has no c=');
  assert.deepEqual(
    [c.A.relay.stats(), c.B.relay.stats()].map((x) => [x.sockets, x.channels]),
    before,
  );
  await talk(c, 2, portOf(c.answerIn), portOf(c.offerIn));
  // A failed operation leaves the dialog usable.
  const ok = await d3.onOffer('tunnel', phoneSdp(5000, { more: [`a=${CHANNEL_ATTRIBUTE}:8 9`] }));
  assert.notEqual(portOf(ok), 0);
  assert.equal(mediaResponseFor(new Error('bug')).status, 500);
});

test('MediaControl: find by Call-ID and either tag, close on BYE, closed dialogs replaced; content type check', async () => {
  const { A, toB } = nodes();
  const key = mediaKey('abc@host', 'fromTag');
  const d = A.dialog(key, toB);
  assert.equal(A.dialog(key, toB), d);
  assert.equal(A.find('abc@host', ['toTag', 'fromTag']), d);
  assert.equal(A.find('abc@host', [undefined, 'other']), undefined);
  await d.onOffer('local', phoneSdp(5000));
  await A.close(key);
  assert.equal(A.size, 0);
  assert.equal(A.relay.stats().sockets, 0);
  const again = A.dialog(key, toB);
  assert.notEqual(again, d);
  await again.close();
  assert.equal(A.get(key), undefined);
  assert.ok(isSdpContentType('application/sdp'));
  assert.ok(isSdpContentType('Application/SDP; charset=utf-8'));
  assert.ok(!isSdpContentType('multipart/mixed;boundary=x'));
  assert.ok(!isSdpContentType(undefined));
});

test('100 calls (offer, answer, RTP both ways, BYE) leave no socket, channel, timer or UDP handle', async () => {
  const { A, B, toA, toB } = nodes();
  const [alice, bob] = [await phone(), await phone()];
  const baseline = await stableUdpHandles();
  for (let i = 0; i < 100; i++) {
    const key = mediaKey(`call-${i}`, 'a');
    const da = A.dialog(key, toB);
    const db = B.dialog(key, toA);
    const offerIn = await db.onOffer('tunnel', await da.onOffer('local', phoneSdp(alice.port)));
    const answerIn = await da.onAnswer('tunnel', await db.onAnswer('local', phoneSdp(bob.port)));
    const [ra, rb] = [alice.received.length, bob.received.length];
    await alice.send(rtp(i), portOf(answerIn));
    await bob.send(rtp(i), portOf(offerIn));
    await until(
      () => alice.received.length === ra + 1 && bob.received.length === rb + 1,
      `call ${i}`,
    );
    await (i % 3 === 0
      ? Promise.all([A.close(key), B.close(key)])
      : Promise.all([da.close(), db.close()]));
  }
  await settle();
  assertEmpty(A.relay);
  assertEmpty(B.relay);
  assert.equal(A.size + B.size, 0);
  const after = await stableUdpHandles();
  assert.ok(after <= baseline, `UDP handles: ${after} after, ${baseline} before`);
});
