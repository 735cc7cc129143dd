// Two nodes' media over a REAL tunnel: two TunnelEndpoints on a private
// loopback HyperDHT testnet (explicit bootstrap, 127.0.0.1), each with a
// MediaRelay fed by attachDatagrams and sessions linked with tunnelLink. The
// SDP goes through MediaDialog as the proxy would carry it; fake softphones
// send RTP-like packets to the ports their SDP names, both ways.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { equalBytes, toHex } from '../../../src/crypto/bytes.js';
import {
  attachDatagrams,
  MediaControl,
  MediaRelay,
  mediaKey,
  tunnelLink,
} from '../../../src/media/index.js';
import { mediaLine, parseSdp } from '../../../src/sdp/index.js';
import { type Tunnel, TunnelEndpoint } from '../../../src/tunnel/index.js';
import { useTestnet } from '../../helpers/testnet.js';
import { keyPair, Phone, phoneSdp, rtp, until } from './helpers.js';

// Registered before the testnet's own teardown, so everything closes while the network is up.
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
const testnet = await useTestnet({ nodes: 3 });

const portOf = (body: Uint8Array) => mediaLine(parseSdp(body).media[0]!).port;

test('RTP-like packets flow both ways through two real tunnel endpoints', async () => {
  const ka = keyPair();
  const kb = keyPair();
  const epA = new TunnelEndpoint({ bootstrap: testnet.bootstrap, host: '127.0.0.1' });
  const epB = new TunnelEndpoint({
    bootstrap: testnet.bootstrap,
    host: '127.0.0.1',
    accept: (remote) => equalBytes(remote, ka.publicKey),
  });
  cleanups.push(
    () => epA.close(),
    () => epB.close(),
  );
  await epB.listen(kb);
  const relayA = new MediaRelay({ host: '127.0.0.1' });
  const relayB = new MediaRelay({ host: '127.0.0.1' });
  cleanups.push(
    () => relayA.close(),
    () => relayB.close(),
  );
  const detachA = attachDatagrams(epA, relayA);
  const detachB = attachDatagrams(epB, relayB);
  cleanups.push(
    async () => detachA(),
    async () => detachB(),
  );

  const inbound = new Promise<Tunnel>((resolve) => epB.once('tunnel', resolve));
  const ta = await epA.connect(kb.publicKey, { keyPair: ka });
  const tb = await inbound;
  const linkA = tunnelLink(ta);
  const linkB = tunnelLink(tb);
  assert.equal(linkB.peer, toHex(ka.publicKey), "B's link names A's authenticated key");

  const alice = await Phone.open();
  const bob = await Phone.open();
  cleanups.push(
    () => alice.close(),
    () => bob.close(),
  );
  const key = mediaKey('tunnel-call@a', 'tagA');
  const da = new MediaControl(relayA).dialog(key, linkA);
  const db = new MediaControl(relayB).dialog(key, linkB);
  const offerIn = await db.onOffer('tunnel', await da.onOffer('local', phoneSdp(alice.port)));
  const answerIn = await da.onAnswer('tunnel', await db.onAnswer('local', phoneSdp(bob.port)));

  const N = 50;
  for (let i = 0; i < N; i++) {
    await alice.send(rtp(i), portOf(answerIn));
    await bob.send(rtp(1000 + i, 120), portOf(offerIn));
    await new Promise((r) => setTimeout(r, 2));
  }
  // Datagrams are unreliable by design; on loopback nearly all arrive.
  await until(
    () => bob.received.length >= N * 0.9 && alice.received.length >= N * 0.9,
    'at least 90% of the packets each way',
  );
  for (const p of bob.received) {
    const seq = (p.bytes[2]! << 8) | p.bytes[3]!;
    assert.ok(seq < N);
    assert.deepEqual(p.bytes, rtp(seq));
    assert.equal(p.from, db.session.stream(0)!.rtpPort, "bob hears from his own node's socket");
  }
  for (const p of alice.received) {
    const seq = (p.bytes[2]! << 8) | p.bytes[3]!;
    assert.deepEqual(p.bytes, rtp(seq, 120));
  }
  assert.equal(relayA.stats().dropped.wrongPeer + relayB.stats().dropped.wrongPeer, 0);

  await da.close();
  await db.close();
  assert.deepEqual(
    [relayA.stats().sockets, relayB.stats().sockets, relayA.stats().timers, relayB.stats().timers],
    [0, 0, 0, 0],
  );
});
