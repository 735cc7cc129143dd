/**
 * The capture half of the relayed-media evidence that the softphone call
 * tests (media-baresip.test.ts, media-linphone.test.ts) share: alice's phone
 * at node A, bob's phone at node B, each talking RTP only with its own
 * node's relay. Reads a finished tshark capture and asserts
 * - each phone ⇄ its own relay is RTP both ways (> `minPackets` each way);
 * - one SSRC per phone, the same end to end (alice's is what bob receives,
 *   and back);
 * - no packet between a phone and the other phone (RTP or RTCP) or the
 *   other node's relay;
 * - the relay ports are sockets of the right node process;
 * - node traffic (to or from a node's port, other than the phone legs) has
 *   no RTP and no SSRC in clear, and node A ⇄ node B carries at least one
 *   direction's worth of the media's packets.
 * Node traffic is told apart by the nodes' sockets, not by "neither phone":
 * other tests running at the same time put their packets on `lo` too.
 */
import assert from 'node:assert/strict';
import { between, conversations, readUdpPackets, ssrcHex } from './tshark.js';

/** One side of the call: a phone and the node it registered at. */
export interface CallSide {
  /** The phone's SIP port: its SIP leg is not node traffic either. */
  sip: number;
  /** The phone's RTP port (RTCP is the next port up). */
  rtp: number;
  /** The relay port the phone was told (in the SDP it received). */
  relay: number;
  /** Every UDP port of the node's process during the call (udpPortsOf). */
  nodePorts: ReadonlySet<number>;
}

export interface RelayedCall {
  /** Alice's phone at node A, bob's at node B. */
  alice: CallSide;
  bob: CallSide;
  /** A flow, not a trickle: more than this many RTP packets each way on each leg. */
  minPackets: number;
  /**
   * Which of alice's packets to her relay must show her SSRC (the check that
   * the SSRC scan can find an SSRC in clear): all of them, or only the RTP
   * ones (linphonec's mediastreamer also sends a couple of STUN Binding
   * requests from its RTP port at stream start, which carry no SSRC).
   */
  ssrcProbe: 'all' | 'rtp';
  /** Receives the capture's one-line summary, before the node-traffic assertions. */
  diagnostic: (summary: string) => void;
}

/** Asserts the relayed-media evidence in the stopped capture's `captureFile` (see the file comment). */
export async function assertRelayedMedia(captureFile: string, call: RelayedCall): Promise<void> {
  const { rtp: aliceRtp, relay: relayA, nodePorts: portsA } = call.alice;
  const { rtp: bobRtp, relay: relayB, nodePorts: portsB } = call.bob;
  const { minPackets } = call;
  const ports = `alice ${aliceRtp}, bob ${bobRtp}, relay A ${relayA}, relay B ${relayB}`;
  const packets = await readUdpPackets(captureFile);
  const convs = conversations(packets);
  const leg = (phone: number, relay: number) => {
    const c = between(convs, phone, relay);
    const ssrcs = (src: number, dst: number) =>
      new Set(
        packets.filter((p) => p.rtp && p.srcPort === src && p.dstPort === dst).map((p) => p.ssrc),
      );
    return {
      up: c.rtpByDirection.get(`${phone}>${relay}`) ?? 0,
      down: c.rtpByDirection.get(`${relay}>${phone}`) ?? 0,
      ssrcsUp: ssrcs(phone, relay),
      ssrcsDown: ssrcs(relay, phone),
    };
  };
  const aliceLeg = leg(aliceRtp, relayA);
  const bobLeg = leg(bobRtp, relayB);
  const legs = `alice↔A ${aliceLeg.up}/${aliceLeg.down}, bob↔B ${bobLeg.up}/${bobLeg.down} RTP packets (${ports})`;
  assert.ok(
    aliceLeg.up > minPackets && aliceLeg.down > minPackets,
    `alice's phone ⇄ relay A is RTP both ways: ${legs}`,
  );
  assert.ok(
    bobLeg.up > minPackets && bobLeg.down > minPackets,
    `bob's phone ⇄ relay B is RTP both ways: ${legs}`,
  );
  // The same stream end to end: what alice sends is what bob receives, and back.
  assert.equal(aliceLeg.ssrcsUp.size, 1, `one SSRC from alice: ${[...aliceLeg.ssrcsUp]}`);
  assert.equal(bobLeg.ssrcsUp.size, 1, `one SSRC from bob: ${[...bobLeg.ssrcsUp]}`);
  assert.deepEqual(
    [...bobLeg.ssrcsDown],
    [...aliceLeg.ssrcsUp],
    "bob's phone receives alice's stream",
  );
  assert.deepEqual(
    [...aliceLeg.ssrcsDown],
    [...bobLeg.ssrcsUp],
    "alice's phone receives bob's stream",
  );
  // Nothing crosses over: no phone talks to the other node's relay or to the other phone.
  for (const [x, y, what] of [
    [aliceRtp, bobRtp, 'alice ↔ bob directly'],
    [aliceRtp, relayB, "alice ↔ bob's node's relay"],
    [bobRtp, relayA, "bob ↔ alice's node's relay"],
    [aliceRtp + 1, bobRtp + 1, 'alice ↔ bob RTCP directly'],
  ] as const) {
    assert.equal(between(convs, x, y).packets, 0, `no packets ${what} (${ports})`);
  }

  // The relays are the nodes' own sockets.
  assert.ok(portsA.has(relayA), `relay A's port ${relayA} is node A's (${[...portsA]})`);
  assert.ok(portsB.has(relayB), `relay B's port ${relayB} is node B's (${[...portsB]})`);
  // Node traffic: to or from a node process's port, other than the softphone legs.
  const phonePorts = new Set([
    call.alice.sip,
    aliceRtp,
    aliceRtp + 1,
    call.bob.sip,
    bobRtp,
    bobRtp + 1,
  ]);
  const ofNodes = (port: number) => portsA.has(port) || portsB.has(port);
  const nodeTraffic = packets.filter(
    (p) =>
      (ofNodes(p.srcPort) || ofNodes(p.dstPort)) &&
      !phonePorts.has(p.srcPort) &&
      !phonePorts.has(p.dstPort),
  );
  const nodeToNode = nodeTraffic.filter(
    (p) =>
      (portsA.has(p.srcPort) && portsB.has(p.dstPort)) ||
      (portsB.has(p.srcPort) && portsA.has(p.dstPort)),
  );
  const ssrcs = [...aliceLeg.ssrcsUp, ...bobLeg.ssrcsUp].map((s) => ssrcHex(s!));
  // The scan below can see an SSRC where it is in clear: on the softphone legs.
  const onAliceLeg = packets.filter(
    (p) => (call.ssrcProbe === 'all' || p.rtp) && p.srcPort === aliceRtp && p.dstPort === relayA,
  );
  assert.ok(
    onAliceLeg.length > 0 && onAliceLeg.every((p) => p.payloadHex.includes(ssrcs[0]!)),
    `alice's SSRC ${ssrcs[0]} is visible in her own leg's ${call.ssrcProbe === 'rtp' ? 'RTP ' : ''}payloads`,
  );
  const rtpOfNodes = nodeTraffic.filter((p) => p.rtp);
  const ssrcInClear = nodeTraffic.filter((p) => ssrcs.some((s) => p.payloadHex.includes(s)));
  call.diagnostic(
    `${legs}; node traffic ${nodeTraffic.length} packets (${nodeToNode.length} node A ⇄ node B), ` +
      `${rtpOfNodes.length} RTP, ${ssrcInClear.length} with an SSRC`,
  );
  // The media crossed directly between the two node processes: at least one direction's RTP worth.
  assert.ok(
    nodeToNode.length >= Math.min(aliceLeg.up, bobLeg.up),
    `node A ⇄ node B carries the media: ${nodeToNode.length} packets for ${legs}`,
  );
  assert.deepEqual(
    rtpOfNodes.map((p) => `${p.frame}: ${p.srcPort}>${p.dstPort}`),
    [],
    'no packet between the nodes (or from them to anything but their softphones) is RTP',
  );
  assert.deepEqual(
    ssrcInClear.map((p) => `${p.frame}: ${p.srcPort}>${p.dstPort}`),
    [],
    `no packet between the nodes contains an SSRC (${ssrcs.join(', ')}) in clear`,
  );
}
