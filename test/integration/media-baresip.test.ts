/**
 * Issue 5, "must show": two real softphones talk with audio through the
 * tunnel. baresip 1.0.0 as alice at node A and as bob at node B (`p2psip
 * start` processes on a loopback HyperDHT testnet), a 440 Hz sine as the
 * microphone, PCMU, bob answering by itself. Alice calls bob, the call stays
 * up about 4 s, alice hangs up, then alice sends bob a MESSAGE.
 *
 * Evidence, from two independent sources:
 * - each baresip's own RTP statistics at hang-up: more than 100 packets
 *   received on both sides (4 s at 50 packets/s is about 200);
 * - a capture on `lo` (tshark, RTP recognised heuristically on any port):
 *   * the SDP each softphone received names its OWN node's relay (127.0.0.1,
 *     a port that is not the other softphone's);
 *   * each softphone exchanges RTP with that relay port, both ways, and the
 *     SSRC alice's phone sends is the SSRC bob's phone receives (and back):
 *     the same packets, carried from one relay to the other;
 *   * no packet at all goes between a softphone and the other node's relay or
 *     the other softphone;
 *   * the relay ports are sockets of the right node process (ss, during
 *     the call);
 *   * node traffic — every packet to or from a port of either node process
 *     other than its softphone legs (docs/media.md: the UDX stream need not
 *     use the DHT's advertised port) — has none recognised as RTP and none
 *     containing either SSRC in clear, and the packets directly between the
 *     two node processes are at least as many as the media's.
 * Node traffic is told apart by the nodes' sockets, not by "neither
 * softphone": other tests run at the same time and their packets on `lo`
 * are in the capture too.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Baresip, startBaresip } from '../helpers/baresip.js';
import { assertRelayedMedia } from '../helpers/media-evidence.js';
import { type NodeProcess, nodeLogs, startNodes } from '../helpers/node-process.js';
import { type SdpTarget, sdpAudioTarget } from '../helpers/rtp.js';
import { useTestnet } from '../helpers/testnet.js';
import { type Capture, startCapture, udpPortsOf } from '../helpers/tshark.js';

const WAIT_MS = 15_000;
/** How long the call stays up (not asserted: a duration, not a speed). */
const TALK_MS = 4_000;
/** 4 s at 50 packets/s is ~200 per direction; half of that proves a flow, not a trickle. */
const MIN_PACKETS = 100;

/**
 * The SDP audio target of the first traced SIP message `phone` sent
 * (`dir` 'sent') or received whose start line matches `start` and CSeq
 * method is INVITE.
 */
function sdpIn(phone: Baresip, dir: 'sent' | 'received', start: RegExp): SdpTarget {
  const own = `127.0.0.1:${phone.sipPort}`;
  const all = phone.sipMessages();
  const m = all.find(
    (x) =>
      (dir === 'sent' ? x.src === own : x.dst === own) &&
      start.test(x.startLine) &&
      x.headers.some((h) => /^CSeq:\s*\d+\s+INVITE\s*$/i.test(h)) &&
      x.body !== '',
  );
  if (!m) {
    const seen = all.map((x) => `${x.src} -> ${x.dst} ${x.startLine} (${x.body.length} B body)`);
    throw new Error(`no ${start} with SDP ${dir} by ${own}; traced:\n${seen.join('\n')}`);
  }
  return sdpAudioTarget(m.body);
}

test('baresip ⇄ node A ⇄ tunnel ⇄ node B ⇄ baresip: audio both ways through the relays, no RTP in clear between the nodes, clean hang-up, then a MESSAGE', async (tc: TestContext) => {
  const testnet = await useTestnet({}, tc);
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  let alice: Baresip | undefined;
  let bob: Baresip | undefined;
  let capture: Capture | undefined;
  const diagnostics = () => {
    const out = (p: Baresip | undefined, name: string) =>
      p ? `--- ${name} baresip ---\n${p.output.slice(-60).join('\n')}` : '';
    return `${out(alice, 'alice')}\n${out(bob, 'bob')}\n${nodeLogs(a, b)}`;
  };
  const expect = async (phone: Baresip, re: RegExp, since?: ReturnType<Baresip['mark']>) => {
    try {
      return await phone.waitFor(re, WAIT_MS, since);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics()}`);
    }
  };
  try {
    [a, b] = await startNodes(testnet.bootstrap, ['alice@example.org', 'bob@example.org']);
    alice = await startBaresip({
      aor: 'alice@example.org',
      proxy: { host: '127.0.0.1', port: a.ready.sip.port, transport: 'udp' },
      contacts: ['sip:bob@example.org'],
      autoAnswer: false,
      sipTrace: true,
    });
    bob = await startBaresip({
      aor: 'bob@example.org',
      proxy: { host: '127.0.0.1', port: b.ready.sip.port, transport: 'udp' },
      contacts: ['sip:alice@example.org'],
      autoAnswer: true,
      sipTrace: true,
    });
    assert.equal(await expect(alice, /^REGISTER_/), 'REGISTER_OK sip:alice@example.org');
    assert.equal(await expect(bob, /^REGISTER_/), 'REGISTER_OK sip:bob@example.org');
    await a.waitForLog(/published registration package/, WAIT_MS);
    await b.waitForLog(/published registration package/, WAIT_MS);

    capture = await startCapture();

    const aliceMark = alice.mark();
    const bobMark = bob.mark();
    await alice.dial('sip:bob@example.org');
    await expect(alice, /^CALL_ESTABLISHED sip:bob@example\.org/, aliceMark);
    await expect(bob, /^CALL_ESTABLISHED sip:alice@example\.org/, bobMark);
    await sleep(TALK_MS / 2);
    // Every UDP socket each node process has while the call is up (relay sockets included).
    const portsA = await udpPortsOf(a.pid);
    const portsB = await udpPortsOf(b.pid);
    await sleep(TALK_MS / 2);
    await alice.hangup();
    await expect(alice, /^CALL_CLOSED /, aliceMark);
    await expect(bob, /^CALL_CLOSED sip:alice@example\.org/, bobMark);

    // Counted at each softphone: baresip's statistics line at call end ("packets: tx rx").
    const aliceStats = await expect(alice, /^RTP_PACKETS /, aliceMark);
    const bobStats = await expect(bob, /^RTP_PACKETS /, bobMark);
    const [aliceSent, aliceGot] = aliceStats.split(' ').slice(1).map(Number);
    const [bobSent, bobGot] = bobStats.split(' ').slice(1).map(Number);
    assert.ok(
      aliceSent! > MIN_PACKETS && bobSent! > MIN_PACKETS,
      `both sent: ${aliceStats} / ${bobStats}`,
    );
    assert.ok(
      aliceGot! > MIN_PACKETS,
      `alice's phone received RTP: ${aliceStats}\n${diagnostics()}`,
    );
    assert.ok(bobGot! > MIN_PACKETS, `bob's phone received RTP: ${bobStats}\n${diagnostics()}`);

    await capture.stop();

    // After the call: IM still works end to end.
    const imMark = bob.mark();
    await alice.sendMessage('sip:bob@example.org', 'thanks for the call');
    assert.equal(
      await expect(bob, /^MESSAGE sip:alice@example\.org /, imMark),
      'MESSAGE sip:alice@example.org thanks for the call',
    );

    // What each softphone offered and was told (its own SIP trace: the
    // INVITE toward bob exceeds 1,300 bytes and goes over TCP).
    const aliceOffer = sdpIn(alice, 'sent', /^INVITE /);
    const aliceAnswer = sdpIn(alice, 'received', /^SIP\/2\.0 200 /);
    const bobOffer = sdpIn(bob, 'received', /^INVITE /);
    const bobAnswer = sdpIn(bob, 'sent', /^SIP\/2\.0 200 /);
    const aliceRtp = aliceOffer.port;
    const bobRtp = bobAnswer.port;
    const relayA = aliceAnswer.port;
    const relayB = bobOffer.port;
    const ports = `alice ${aliceRtp}, bob ${bobRtp}, relay A ${relayA}, relay B ${relayB}`;
    // The SDP each phone received points at its own node on 127.0.0.1, never at the other phone.
    assert.equal(aliceAnswer.host, '127.0.0.1', 'the 200 alice got names 127.0.0.1');
    assert.equal(bobOffer.host, '127.0.0.1', 'the INVITE bob got names 127.0.0.1');
    assert.equal(
      new Set([aliceRtp, bobRtp, relayA, relayB]).size,
      4,
      `four distinct ports: ${ports}`,
    );

    await assertRelayedMedia(capture.file, {
      alice: { sip: alice.sipPort, rtp: aliceRtp, relay: relayA, nodePorts: portsA },
      bob: { sip: bob.sipPort, rtp: bobRtp, relay: relayB, nodePorts: portsB },
      minPackets: MIN_PACKETS,
      ssrcProbe: 'all',
      diagnostic: (summary) =>
        tc.diagnostic(
          `softphones: alice ${aliceStats}, bob ${bobStats} (tx rx); capture: ${summary}`,
        ),
    });
  } finally {
    await capture?.remove();
    await alice?.stop();
    await bob?.stop();
    await a?.stop();
    await b?.stop();
  }
});
