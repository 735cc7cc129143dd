/**
 * Issue 5, "must show": 100 calls one after another leave no leaked ports,
 * sockets or timers. Two nodes in this process (P2pSipNode.start) on a
 * private loopback HyperDHT testnet; two raw "softphones" (a SIP socket from
 * test/helpers/raw-phone.ts and an RTP socket from test/helpers/rtp.ts each).
 *
 * Every call: INVITE with SDP (c=127.0.0.1, m=audio PORT RTP/AVP 0), 180, 200
 * with SDP, ACK, RTP both ways to the addresses the rewritten SDP names, BYE.
 * Each phone must be told its own node's relay (never the other phone's
 * port), and the packets must arrive from that relay with the other phone's
 * SSRC. After the 100 calls:
 * - both nodes' relays hold nothing: sessions, streams, sockets, channel ids
 *   and timers all 0 (node.mediaStats());
 * - the process's UDP handles (getActiveResourcesInfo 'UDPWrap') are back to
 *   what they were before the first call — the relay sockets are the only
 *   ones a call opens;
 * - the process's timers are back to what they were after the first call
 *   had ended and its SIP transactions had run out (the nodes' fixed timers
 *   are in both counts; a timer left per call would show as +99). Counted
 *   twice: 'Timeout' in getActiveResourcesInfo(), which sees only ref'd
 *   timers, and live Timeout resources from an async_hooks hook, which also
 *   sees unref'd ones (the relay's and tunnels' idle timers are unref'd).
 * During the first call the same counters are checked non-zero, so the
 * "back to 0" is not vacuous.
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../src/cli/main.js';
import { P2pSipNode } from '../../src/node/node.js';
import { startTestnet, type Testnet } from '../../src/overlay/testnet.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { answer, RawPhone, request } from '../helpers/raw-phone.js';
import { audioSdp, RtpSocket, rtpPacket, sdpAudioTarget, withBody } from '../helpers/rtp.js';

const CALLS = 100;
/** RTP packets each way per call, and how many must arrive (datagrams may be dropped; loopback rarely does). */
const RTP_PER_CALL = 5;
const RTP_MUST_ARRIVE = 3;
/** Short SIP timers so server/client transactions end within seconds (64·T1 = 3.2 s). */
const T1_MS = 50;
/**
 * Until a finished call's SIP transactions have all ended: Timer J/L/M
 * (64·T1 = 3.2 s) and Timer K (T4, 5 s, not scaled by T1) over UDP.
 */
const TRANSACTIONS_DRAIN_MS = 6_000;
/** Bound on waiting for sockets to close and timers to run out after the last call. */
const SETTLE_MS = 15_000;
const WAIT_MS = 10_000;
const SDP = 'application/sdp';

const dirs: string[] = [];
const logs: string[] = [];
let testnet: Testnet | undefined;
let nodeA: P2pSipNode | undefined;
let nodeB: P2pSipNode | undefined;
let aliceSip: RawPhone | undefined;
let bobSip: RawPhone | undefined;
let aliceRtp: RtpSocket | undefined;
let bobRtp: RtpSocket | undefined;

function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}

/** Ref'd timers (what keeps the process alive). */
function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** Every timer created while the hook is enabled and not yet fired or cleared, ref'd or not. */
const liveTimers = new Set<number>();
const timerHook = createHook({
  init(id, type) {
    if (type === 'Timeout') liveTimers.add(id);
  },
  destroy(id) {
    liveTimers.delete(id);
  },
});

/** What the relay holds open, as one comparable tuple. */
function open(node: P2pSipNode): Record<string, number> {
  const s = node.mediaStats();
  return {
    sessions: s.sessions,
    streams: s.streams,
    sockets: s.sockets,
    channels: s.channels,
    timers: s.timers,
  };
}

const NOTHING_OPEN = { sessions: 0, streams: 0, sockets: 0, channels: 0, timers: 0 };

/** Polls `probe` every 50 ms until it returns true or `ms` pass (bounded); returns the last result. */
async function eventually(probe: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (probe()) return true;
    await sleep(50);
  }
  return probe();
}

function logTail(): string {
  return `--- node logs (last 60) ---\n${logs.slice(-60).join('\n')}`;
}

async function home(aor: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'p2psip-media-leaks-'));
  dirs.push(dir);
  const code = await main(['init', '--home', dir, '--aor', aor], {
    stdout: () => {},
    stderr: (l) => logs.push(l),
  });
  assert.equal(code, 0);
  return dir;
}

async function startNode(aor: string, bootstrap: string[]): Promise<P2pSipNode> {
  return P2pSipNode.start({
    home: await home(aor),
    sipHost: '127.0.0.1',
    sipPort: 0,
    bootstrap,
    t1: T1_MS,
    log: (_level, msg) => {
      if (logs.length < 20_000) logs.push(`[${aor}] ${msg}`);
    },
  });
}

async function register(phone: RawPhone, aor: string, node: P2pSipNode): Promise<SipResponse> {
  const callId = `reg-${aor}-${phone.port}`;
  phone.send(
    request({
      method: 'REGISTER',
      uri: `sip:${aor.split('@')[1]}`,
      from: aor,
      to: aor,
      callId,
      port: phone.port,
      extra: ['Expires: 600'],
    }),
    node.info.sip.port,
  );
  return phone.finalFor(callId, 'REGISTER');
}

/** A response to `raw` with an SDP body (RawPhone's `answer` has none). */
function answerWithSdp(
  raw: string,
  toTag: string,
  port: number,
  rtpPort: number,
  version: number,
): string {
  return withBody(answer(raw, 200, 'OK', toTag, port), SDP, audioSdp(rtpPort, { version }));
}

before(async () => {
  testnet = await startTestnet({ nodes: 3 });
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
  nodeA = await startNode('alice@example.org', bootstrap);
  nodeB = await startNode('bob@example.org', bootstrap);
  aliceSip = await RawPhone.open();
  bobSip = await RawPhone.open();
  aliceRtp = await RtpSocket.open();
  bobRtp = await RtpSocket.open();
  const bob = bobSip;
  const bobMedia = bobRtp;
  let version = 0;
  // Bob's softphone answers every call at once (180, then 200 with its SDP).
  bob.onRequest = (req: SipRequest, raw: string) => {
    if (req.method === 'INVITE') {
      const tag = `b-${req.get('Call-ID')}`;
      const offered = new TextDecoder().decode(req.body);
      // Hold (RFC 3264 §8.4): a sendonly offer is answered recvonly.
      const direction = /a=sendonly/.test(offered) ? 'recvonly' : 'sendrecv';
      const ok = answerWithSdp(raw, tag, bob.port, bobMedia.port, ++version).replace(
        'a=sendrecv',
        `a=${direction}`,
      );
      return req.get('To')?.includes('tag=')
        ? [ok]
        : [answer(raw, 180, 'Ringing', tag, bob.port), ok];
    }
    if (req.method === 'ACK') return [];
    return [answer(raw, 200, 'OK')];
  };
  assert.equal((await register(bobSip, 'bob@example.org', nodeB)).status, 200);
  assert.equal((await register(aliceSip, 'alice@example.org', nodeA)).status, 200);
  const published = await eventually(
    () => logs.some((l) => l.startsWith('[bob@example.org] published registration package')),
    WAIT_MS,
  );
  assert.ok(published, `bob's node published its package\n${logTail()}`);
});

after(async () => {
  await aliceSip?.close();
  await bobSip?.close();
  await aliceRtp?.close();
  await bobRtp?.close();
  await nodeA?.stop();
  await nodeB?.stop();
  await testnet?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const isRequest = (m: SipMessage, method: string, callId: string): boolean =>
  m.kind === 'request' && m.method === method && m.get('Call-ID') === callId;

/**
 * One call from alice's phone to bob's: INVITE/180/200/ACK, RTP both ways
 * through the relays, BYE. `during` runs while the call is up.
 */
async function call(n: number, during?: () => void): Promise<void> {
  const alice = aliceSip!;
  const bob = bobSip!;
  const callId = `media-leak-${n}`;
  const offer = audioSdp(aliceRtp!.port, { version: n + 1 });
  alice.send(
    withBody(
      request({
        method: 'INVITE',
        uri: 'sip:bob@example.org',
        from: 'alice@example.org',
        to: 'bob@example.org',
        callId,
        port: alice.port,
      }),
      SDP,
      offer,
    ),
    nodeA!.info.sip.port,
  );
  const ok = await alice.finalFor(callId, 'INVITE', WAIT_MS);
  assert.equal(ok.status, 200, `call ${n}: ${ok.status} ${ok.reason}\n${logTail()}`);
  const invite = await bob.waitFor(
    (m) => isRequest(m, 'INVITE', callId),
    WAIT_MS,
    `INVITE ${n} at bob`,
  );
  // Each phone is told its own node's relay on 127.0.0.1, never the other phone.
  const relayA = sdpAudioTarget(ok.body);
  const relayB = sdpAudioTarget(invite.body);
  assert.equal(relayA.host, '127.0.0.1');
  assert.equal(relayB.host, '127.0.0.1');
  assert.notEqual(relayA.port, bobRtp!.port, `call ${n}: alice's answer was rewritten`);
  assert.notEqual(relayB.port, aliceRtp!.port, `call ${n}: bob's offer was rewritten`);

  const route = [...ok.getLines('Record-Route')].reverse().map((r) => `Route: ${r}`);
  const toTag = `To: <sip:bob@example.org>;tag=b-${callId}`;
  const inDialog = (method: string, cseq: number) =>
    request({
      method,
      uri: `sip:callee@127.0.0.1:${bob.port}`,
      from: 'alice@example.org',
      to: 'bob@example.org',
      callId,
      cseq,
      port: alice.port,
      extra: route,
    }).replace('To: <sip:bob@example.org>', toTag);
  alice.send(inDialog('ACK', 1), nodeA!.info.sip.port);
  await bob.waitFor((m) => isRequest(m, 'ACK', callId), WAIT_MS, `ACK ${n} at bob`);

  // RTP both ways, to the addresses the rewritten SDP named.
  const aliceSsrc = 0xa1000000 + n;
  const bobSsrc = 0xb0b00000 + n;
  for (let seq = 0; seq < RTP_PER_CALL; seq++) {
    await aliceRtp!.send(rtpPacket({ seq, ssrc: aliceSsrc }), relayA.port);
    await bobRtp!.send(rtpPacket({ seq, ssrc: bobSsrc }), relayB.port);
  }
  // Each packet arrives from the phone's own node's relay port, with the other phone's SSRC.
  await bobRtp!.waitForPackets(
    (p) => p.ssrc === aliceSsrc && p.from.port === relayB.port,
    RTP_MUST_ARRIVE,
    WAIT_MS,
    `packets of call ${n} from alice via relay B`,
  );
  await aliceRtp!.waitForPackets(
    (p) => p.ssrc === bobSsrc && p.from.port === relayA.port,
    RTP_MUST_ARRIVE,
    WAIT_MS,
    `packets of call ${n} from bob via relay A`,
  );
  during?.();

  alice.send(inDialog('BYE', 2), nodeA!.info.sip.port);
  const bye = await alice.finalFor(callId, 'BYE', WAIT_MS);
  assert.equal(bye.status, 200, `BYE ${n}: ${bye.status} ${bye.reason}`);
}

test(`${CALLS} calls one after another (RTP both ways through the relays) leave no relay sessions, sockets, channel ids, UDP handles or timers`, async (t) => {
  const udpBefore = udpHandles();
  timerHook.enable();
  t.after(() => timerHook.disable());

  // Call 1, with the counters checked while it is up.
  let duringA: Record<string, number> = {};
  let duringB: Record<string, number> = {};
  let udpDuring = 0;
  await call(0, () => {
    duringA = open(nodeA!);
    duringB = open(nodeB!);
    udpDuring = udpHandles();
  });
  for (const [name, during] of [
    ['A', duringA],
    ['B', duringB],
  ] as const) {
    assert.equal(during.sessions, 1, `node ${name} has the call's session during the call`);
    assert.ok(
      during.streams! >= 1 && during.channels! >= 1,
      `node ${name} relays a stream: ${JSON.stringify(during)}`,
    );
    assert.ok(
      during.sockets! >= 1 && during.timers! >= 1,
      `node ${name} holds sockets and a timer: ${JSON.stringify(during)}`,
    );
  }
  const relaySockets = duringA.sockets! + duringB.sockets!;
  assert.equal(
    udpDuring,
    udpBefore + relaySockets,
    "the relays' sockets are UDP handles of this process",
  );
  // After the first call's transactions have ended: the timers a node keeps anyway.
  await sleep(TRANSACTIONS_DRAIN_MS);
  const timersAfterFirst = timeouts();
  const allTimersAfterFirst = liveTimers.size;

  for (let n = 1; n < CALLS; n++) {
    await call(n);
    // Released on BYE: by the time the 200 came back, both nodes had closed the call's session.
    assert.equal(nodeA!.mediaStats().sessions, 0, `node A closed call ${n}'s session on BYE`);
    assert.equal(nodeB!.mediaStats().sessions, 0, `node B closed call ${n}'s session on BYE`);
  }

  await eventually(
    () =>
      JSON.stringify([open(nodeA!), open(nodeB!)]) === JSON.stringify([NOTHING_OPEN, NOTHING_OPEN]),
    SETTLE_MS,
  );
  assert.deepEqual(open(nodeA!), NOTHING_OPEN, "node A's relay holds nothing");
  assert.deepEqual(open(nodeB!), NOTHING_OPEN, "node B's relay holds nothing");
  await eventually(() => udpHandles() <= udpBefore, SETTLE_MS);
  assert.equal(udpHandles(), udpBefore, 'UDP handles back to the count before the first call');
  await eventually(() => timeouts() <= timersAfterFirst, SETTLE_MS);
  assert.ok(
    timeouts() <= timersAfterFirst,
    `'Timeout' handles ${timeouts()}, after the first call ${timersAfterFirst}`,
  );
  await eventually(() => liveTimers.size <= allTimersAfterFirst, SETTLE_MS);
  assert.ok(
    liveTimers.size <= allTimersAfterFirst,
    `live timers (ref'd or not) ${liveTimers.size}, after the first call ${allTimersAfterFirst}`,
  );

  // The relays really carried the calls (so "nothing open" is not "nothing ever opened").
  const a = nodeA!.mediaStats().packets;
  const b = nodeB!.mediaStats().packets;
  assert.ok(
    a.fromSoftphone >= CALLS * RTP_MUST_ARRIVE && b.fromSoftphone >= CALLS * RTP_MUST_ARRIVE,
  );
  assert.ok(a.toSoftphone >= CALLS * RTP_MUST_ARRIVE && b.toSoftphone >= CALLS * RTP_MUST_ARRIVE);
  t.diagnostic(
    `UDP handles ${udpBefore} before, ${udpDuring} during call 1, ${udpHandles()} after; ` +
      `Timeout ${timersAfterFirst} after call 1, ${timeouts()} after ${CALLS}; ` +
      `all timers ${allTimersAfterFirst} after call 1, ${liveTimers.size} after ${CALLS}; ` +
      `relay A packets ${JSON.stringify(a)}, B ${JSON.stringify(b)}`,
  );
});

test('hold and resume: re-INVITEs with sendonly then sendrecv pass both relays, the relay ports stay, RTP flows again after the resume', async () => {
  const alice = aliceSip!;
  const bob = bobSip!;
  const callId = 'media-hold';
  const invite = (cseq: number, direction: string, toTag?: string, route: string[] = []) => {
    const text = request({
      method: 'INVITE',
      uri: toTag ? `sip:callee@127.0.0.1:${bob.port}` : 'sip:bob@example.org',
      from: 'alice@example.org',
      to: 'bob@example.org',
      callId,
      cseq,
      port: alice.port,
      extra: route,
    });
    const body = audioSdp(aliceRtp!.port, { version: cseq }).replace(
      'a=sendrecv',
      `a=${direction}`,
    );
    return withBody(toTag ? text.replace('To: <sip:bob@example.org>', toTag) : text, SDP, body);
  };
  alice.send(invite(1, 'sendrecv'), nodeA!.info.sip.port);
  const ok = await alice.finalFor(callId, 'INVITE', WAIT_MS);
  assert.equal(ok.status, 200, `${ok.status} ${ok.reason}\n${logTail()}`);
  const first = await bob.waitFor((m) => isRequest(m, 'INVITE', callId), WAIT_MS, 'INVITE at bob');
  const relayA = sdpAudioTarget(ok.body);
  const relayB = sdpAudioTarget(first.body);
  const route = [...ok.getLines('Record-Route')].reverse().map((r) => `Route: ${r}`);
  const toTag = `To: <sip:bob@example.org>;tag=b-${callId}`;
  const ack = (cseq: number) =>
    request({
      method: 'ACK',
      uri: `sip:callee@127.0.0.1:${bob.port}`,
      from: 'alice@example.org',
      to: 'bob@example.org',
      callId,
      cseq,
      port: alice.port,
      extra: route,
    }).replace('To: <sip:bob@example.org>', toTag);
  alice.send(ack(1), nodeA!.info.sip.port);

  for (const [cseq, direction, answered] of [
    [2, 'sendonly', 'recvonly'],
    [3, 'sendrecv', 'sendrecv'],
  ] as const) {
    const seen = bob.received.length;
    alice.send(invite(cseq, direction, toTag, route), nodeA!.info.sip.port);
    const res = (await alice.waitFor(
      (m) =>
        m.kind === 'response' &&
        m.status >= 200 &&
        m.get('Call-ID') === callId &&
        m.get('CSeq') === `${cseq} INVITE`,
      WAIT_MS,
      `final response to re-INVITE ${cseq}`,
    )) as SipResponse;
    assert.equal(
      res.status,
      200,
      `re-INVITE ${direction}: ${res.status} ${res.reason}\n${logTail()}`,
    );
    const reinvite = await bob.waitFor(
      (m) => isRequest(m, 'INVITE', callId) && bob.received.indexOf(m) >= seen,
      WAIT_MS,
      `re-INVITE ${direction} at bob`,
    );
    const offerText = new TextDecoder().decode(reinvite.body);
    const answerText = new TextDecoder().decode(res.body);
    assert.match(offerText, new RegExp(`a=${direction}`), 'the direction passes unchanged');
    assert.match(answerText, new RegExp(`a=${answered}`));
    assert.equal(sdpAudioTarget(reinvite.body).port, relayB.port, 'bob keeps his relay port');
    assert.equal(sdpAudioTarget(res.body).port, relayA.port, 'alice keeps her relay port');
    alice.send(ack(cseq), nodeA!.info.sip.port);
  }
  // After the resume, media flows both ways again through the same relays.
  for (let seq = 0; seq < RTP_PER_CALL; seq++) {
    await aliceRtp!.send(rtpPacket({ seq, ssrc: 0xa11ce }), relayA.port);
    await bobRtp!.send(rtpPacket({ seq, ssrc: 0xb0b }), relayB.port);
  }
  await bobRtp!.waitForPackets(
    (p) => p.ssrc === 0xa11ce,
    RTP_MUST_ARRIVE,
    WAIT_MS,
    'alice after resume',
  );
  await aliceRtp!.waitForPackets(
    (p) => p.ssrc === 0xb0b,
    RTP_MUST_ARRIVE,
    WAIT_MS,
    'bob after resume',
  );
  assert.equal(nodeA!.mediaStats().sessions, 1, 'one session through hold and resume');
  const bye = request({
    method: 'BYE',
    uri: `sip:callee@127.0.0.1:${bob.port}`,
    from: 'alice@example.org',
    to: 'bob@example.org',
    callId,
    cseq: 4,
    port: alice.port,
    extra: route,
  }).replace('To: <sip:bob@example.org>', toTag);
  alice.send(bye, nodeA!.info.sip.port);
  assert.equal((await alice.finalFor(callId, 'BYE', WAIT_MS)).status, 200);
  assert.ok(
    await eventually(() => nodeA!.mediaStats().sessions === 0, WAIT_MS),
    'released after BYE',
  );
});
