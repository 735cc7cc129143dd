/**
 * Issue 5, the same call with another softphone: linphonec 5.1.65 as alice at
 * node A and as bob at node B (`p2psip start` processes on a loopback
 * HyperDHT testnet), a generated 440 Hz tone (WAV, PCM 8 kHz mono) played
 * by both, PCMU, no STUN/ICE, bob answering by itself. Alice calls bob, the
 * call stays up about 4 s, alice hangs up (`terminate`), both see the call
 * end; then alice chats to bob, and bob's linphonec answers with IMDN
 * MESSAGEs (deflate-compressed, binary bodies) that the nodes must carry as
 * bytes.
 *
 * Evidence as in media-baresip.test.ts (see there): linphonec's own RTP
 * statistics at hang-up, and a capture on `lo` — each phone ⇄ its own
 * node's relay is RTP both ways (> 100 packets each way), the same SSRCs end
 * to end, nothing between a phone and the other side, no RTP and no SSRC in
 * clear in the node traffic, which carries at least the media's packets.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Linphone, startLinphone, toneWav } from '../helpers/linphone.js';
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

/** The SDP audio target of the first INVITE-transaction message `phone` sent or received with a body. */
function sdpIn(phone: Linphone, dir: 'sent' | 'received', start: RegExp): SdpTarget {
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

test('linphonec ⇄ node A ⇄ tunnel ⇄ node B ⇄ linphonec: audio both ways through the relays, no RTP in clear between the nodes, clean hang-up, then a chat answered with binary IMDNs', async (tc: TestContext) => {
  const testnet = await useTestnet({}, tc);
  const scratch = await mkdtemp(join(tmpdir(), 'p2psip-linphone-test-'));
  tc.after(() => rm(scratch, { recursive: true, force: true }));
  const wav = join(scratch, 'tone.wav');
  // Longer than the call: the file player stops at the end of the file.
  await writeFile(wav, toneWav(TALK_MS / 1000 + 6));
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  let alice: Linphone | undefined;
  let bob: Linphone | undefined;
  let capture: Capture | undefined;
  const diagnostics = () => {
    const out = (p: Linphone | undefined, name: string) =>
      p
        ? `--- ${name} linphonec (events) ---\n${p.events.join('\n')}\n--- ${name} SIP ---\n` +
          p
            .sipMessages()
            .map((x) => `${x.src} -> ${x.dst} ${x.startLine}`)
            .join('\n')
        : '';
    return `${out(alice, 'alice')}\n${out(bob, 'bob')}\n${nodeLogs(a, b)}`;
  };
  const expect = async (
    phone: Linphone,
    re: RegExp,
    since?: ReturnType<Linphone['mark']>,
  ): Promise<string> => {
    try {
      return await phone.waitFor(re, WAIT_MS, since);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics()}`);
    }
  };
  try {
    [a, b] = await startNodes(testnet.bootstrap, ['alice@example.org', 'bob@example.org']);
    alice = await startLinphone({
      aor: 'alice@example.org',
      proxy: { host: '127.0.0.1', port: a.ready.sip.port },
      playFile: wav,
    });
    bob = await startLinphone({
      aor: 'bob@example.org',
      proxy: { host: '127.0.0.1', port: b.ready.sip.port },
      playFile: wav,
      autoAnswer: true,
    });
    assert.equal(await expect(alice, /^REGISTER_/), 'REGISTER_OK sip:alice@example.org');
    assert.equal(await expect(bob, /^REGISTER_/), 'REGISTER_OK sip:bob@example.org');
    await a.waitForLog(/published registration package/, WAIT_MS);
    await b.waitForLog(/published registration package/, WAIT_MS);

    capture = await startCapture();

    const aliceMark = alice.mark();
    const bobMark = bob.mark();
    alice.call('sip:bob@example.org');
    await expect(alice, /^CALL_STREAMS sip:bob@example\.org$/, aliceMark);
    await expect(bob, /^CALL_INCOMING sip:alice@example\.org$/, bobMark);
    await expect(bob, /^CALL_STREAMS sip:alice@example\.org$/, bobMark);
    await sleep(TALK_MS / 2);
    // Every UDP socket each node process has while the call is up (relay sockets included).
    const portsA = await udpPortsOf(a.pid);
    const portsB = await udpPortsOf(b.pid);
    await sleep(TALK_MS / 2);
    alice.terminate();
    assert.equal(
      await expect(alice, /^CALL_ENDED /, aliceMark),
      'CALL_ENDED sip:bob@example.org ended',
    );
    assert.equal(
      await expect(bob, /^CALL_ENDED /, bobMark),
      'CALL_ENDED sip:alice@example.org ended',
    );

    // Counted at each softphone: oRTP's statistics at call end ("sent N packets", "received N packets").
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

    // After the call: a chat message end to end, and bob's IMDNs (binary bodies) back to alice.
    const imBob = bob.mark();
    alice.chat('sip:bob@example.org', 'thanks for the call');
    assert.equal(
      await expect(bob, /^MESSAGE /, imBob),
      'MESSAGE sip:alice@example.org thanks for the call',
    );
    const ownAlice = `127.0.0.1:${alice.sipPort}`;
    const ownBob = `127.0.0.1:${bob.sipPort}`;
    const isImdn = (x: { startLine: string; headers: string[] }) =>
      x.startLine.startsWith('MESSAGE ') &&
      x.headers.some((h) => /^Content-Type:\s*message\/imdn\+xml/i.test(h));
    const cseqOf = (x: { headers: string[] }) =>
      x.headers.find((h) => /^CSeq:/i.test(h))?.replace(/^CSeq:\s*/i, '');
    // Bob's phone sends at least one IMDN; the first one is delivered to alice's phone
    // (same Call-ID) and bob's phone gets its 200 back through both nodes.
    try {
      await bob.waitForOutput(/^Content-Type:\s*message\/imdn\+xml/i, WAIT_MS, imBob);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics()}`);
    }
    const imdn = bob.sipMessages().find((x) => x.src === ownBob && isImdn(x));
    assert.ok(imdn, `bob's linphonec sent an IMDN MESSAGE\n${diagnostics()}`);
    assert.ok(
      imdn.headers.some((h) => /^Content-Encoding:\s*deflate/i.test(h)),
      `the IMDN is deflate-compressed (a binary body): ${imdn.headers.join(' | ')}`,
    );
    const callId = imdn.headers.find((h) => /^Call-ID:/i.test(h));
    assert.ok(callId, 'the IMDN has a Call-ID');
    const delivered = () =>
      alice!
        .sipMessages()
        .some((x) => x.dst === ownAlice && isImdn(x) && x.headers.includes(callId));
    const answered = () =>
      bob!
        .sipMessages()
        .some(
          (x) =>
            x.dst === ownBob &&
            /^SIP\/2\.0 200 /.test(x.startLine) &&
            x.headers.includes(callId) &&
            cseqOf(x) === cseqOf(imdn),
        );
    // Bounded: 100 × 100 ms after bob has sent it (a loopback round trip through both nodes).
    for (let i = 0; i < 100 && !(delivered() && answered()); i++) await sleep(100);
    assert.ok(delivered(), `alice's phone received bob's IMDN (${callId})\n${diagnostics()}`);
    assert.ok(answered(), `bob's phone got a 200 for its IMDN (${callId})\n${diagnostics()}`);
    // The nodes are still fine: alice can still chat to bob.
    const againBob = bob.mark();
    alice.chat('sip:bob@example.org', 'still there?');
    assert.equal(
      await expect(bob, /^MESSAGE /, againBob),
      'MESSAGE sip:alice@example.org still there?',
    );

    // What each softphone offered and was told (its own SIP log).
    const aliceOffer = sdpIn(alice, 'sent', /^INVITE /);
    const aliceAnswer = sdpIn(alice, 'received', /^SIP\/2\.0 200 /);
    const bobOffer = sdpIn(bob, 'received', /^INVITE /);
    const bobAnswer = sdpIn(bob, 'sent', /^SIP\/2\.0 200 /);
    const aliceRtp = aliceOffer.port;
    const bobRtp = bobAnswer.port;
    const relayA = aliceAnswer.port;
    const relayB = bobOffer.port;
    const ports = `alice ${aliceRtp}, bob ${bobRtp}, relay A ${relayA}, relay B ${relayB}`;
    assert.equal(aliceOffer.host, '127.0.0.1', "alice's offer names 127.0.0.1 (no other address)");
    assert.equal(bobAnswer.host, '127.0.0.1', "bob's answer names 127.0.0.1 (no other address)");
    assert.equal(aliceAnswer.host, '127.0.0.1', 'the 200 alice got names 127.0.0.1');
    assert.equal(bobOffer.host, '127.0.0.1', 'the INVITE bob got names 127.0.0.1');
    assert.ok(
      aliceRtp >= alice.rtpPorts[0] && aliceRtp <= alice.rtpPorts[1],
      `alice's RTP port ${aliceRtp} is in her configured range ${alice.rtpPorts.join('-')}`,
    );
    assert.equal(
      new Set([aliceRtp, bobRtp, relayA, relayB]).size,
      4,
      `four distinct ports: ${ports}`,
    );
    // No ICE: the softphones offered no candidates.
    for (const [who, phone] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const own = `127.0.0.1:${phone.sipPort}`;
      const sdps = phone.sipMessages().filter((x) => x.src === own && x.body.includes('m=audio'));
      assert.ok(sdps.length > 0, `${who} sent SDP`);
      assert.ok(
        sdps.every((x) => !/^a=(candidate|ice-ufrag):/m.test(x.body)),
        `${who} offers no ICE candidates`,
      );
    }

    // Only alice's RTP packets must show her SSRC: at stream start linphonec's mediastreamer
    // also sends a couple of STUN Binding requests to the media address it was given (a NAT
    // keepalive without ICE or a STUN server; here to its own relay), which carry no SSRC.
    await assertRelayedMedia(capture.file, {
      alice: { sip: alice.sipPort, rtp: aliceRtp, relay: relayA, nodePorts: portsA },
      bob: { sip: bob.sipPort, rtp: bobRtp, relay: relayB, nodePorts: portsB },
      minPackets: MIN_PACKETS,
      ssrcProbe: 'rtp',
      diagnostic: (summary) =>
        tc.diagnostic(
          `softphones: alice ${aliceStats}, bob ${bobStats} (sent received); capture: ${summary}`,
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
