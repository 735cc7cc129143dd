// Tunnel.delivered(): whether the peer's transport acknowledged what we sent.
// The node uses it to notice a tunnel whose peer crashed (our side still looks
// open) and to dial again instead of losing the message. A fake socket stands
// for the secret stream, so "the peer never acknowledges" is exact; one test
// runs a real tunnel on a loopback testnet for the acknowledged case.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { loadHyperDht } from '../../../src/dht/hyperdht.js';
import {
  encodeFrame,
  encodeHello,
  FrameType,
  PROTOCOL_VERSION,
  type SecretStream,
  Tunnel,
  TunnelEndpoint,
} from '../../../src/tunnel/index.js';
import { withTestnet } from '../../helpers/testnet.js';

/** A secret stream whose flush() the test controls. */
class FakeSocket extends EventEmitter implements SecretStream {
  readonly publicKey = new Uint8Array(32).fill(1);
  readonly remotePublicKey = new Uint8Array(32).fill(2);
  readonly handshakeHash = new Uint8Array(32).fill(3);
  destroying = false;
  written: Uint8Array[] = [];
  flush?: () => Promise<boolean>;
  write(data: Uint8Array): boolean {
    this.written.push(data);
    return true;
  }
  end(): void {}
  destroy(): void {
    if (this.destroying) return;
    this.destroying = true;
    queueMicrotask(() => this.emit('close'));
  }
  trySend(): void {}
  setKeepAlive(): void {}
  setTimeout(): void {}
}

/** A fresh Ed25519 key pair as hyperdht makes them. */
const keyPair = () => loadHyperDht().keyPair();

/** Keeps the event loop alive while `p` is pending (the tunnel's timers are unref'd). */
async function held<T>(p: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    return await p;
  } finally {
    clearInterval(keepAlive);
  }
}

/** A tunnel on `socket` that has received the peer's hello (so it can send). */
function openTunnel(socket: FakeSocket): Tunnel {
  const tunnel = new Tunnel(socket, {
    direction: 'outbound',
    localPublicKey: socket.publicKey,
    idleTimeoutMs: 0,
  });
  const hello = encodeHello({
    minVersion: PROTOCOL_VERSION.min,
    maxVersion: PROTOCOL_VERSION.max,
    maxFramePayload: 65536,
  });
  socket.emit('data', encodeFrame(FrameType.Control, hello));
  assert.equal(tunnel.isOpen, true);
  return tunnel;
}

test('delivered(): true when the stream flushes, false when it does not within the limit', async () => {
  const socket = new FakeSocket();
  const tunnel = openTunnel(socket);
  socket.flush = () => Promise.resolve(true);
  tunnel.sendSip(new TextEncoder().encode('MESSAGE sip:bob@example.org SIP/2.0\r\n\r\n'));
  assert.equal(await tunnel.delivered(1_000), true);

  // A crashed peer: nothing is ever acknowledged.
  socket.flush = () => new Promise<boolean>(() => {});
  assert.equal(await held(tunnel.delivered(20)), false);
  assert.equal(tunnel.isOpen, true, 'delivered() only reports; closing is the caller’s choice');

  // The stream gave up (destroyed before everything was acknowledged), or flush threw.
  socket.flush = () => Promise.resolve(false);
  assert.equal(await tunnel.delivered(1_000), false);
  socket.flush = () => Promise.reject(new Error('stream destroyed'));
  assert.equal(await tunnel.delivered(1_000), false);
  tunnel.destroy();
  await tunnel.closed;
});

test('delivered(): false at once on a closed tunnel; a stream without flush() counts as delivered', async () => {
  const withoutFlush = new FakeSocket();
  const open = openTunnel(withoutFlush);
  assert.equal(await open.delivered(1_000), true);
  open.destroy();
  await open.closed;

  const socket = new FakeSocket();
  let flushed = 0;
  socket.flush = () => {
    flushed++;
    return Promise.resolve(true);
  };
  const tunnel = openTunnel(socket);
  tunnel.destroy();
  await tunnel.closed;
  assert.equal(await tunnel.delivered(1_000), false);
  assert.equal(flushed, 0, 'a closed tunnel does not ask the stream');
});

test('delivered(): a real tunnel over a loopback testnet acknowledges a SIP frame', async () => {
  await withTestnet({ nodes: 3 }, async (testnet) => {
    const server = new TunnelEndpoint({
      bootstrap: testnet.bootstrap,
      host: '127.0.0.1',
      accept: () => true,
    });
    const client = new TunnelEndpoint({ bootstrap: testnet.bootstrap, host: '127.0.0.1' });
    try {
      const serverKeys = keyPair();
      await server.listen(serverKeys);
      const received = new Promise<Uint8Array>((resolve) => server.once('sip', (b) => resolve(b)));
      const tunnel = await client.connect(serverKeys.publicKey, { keyPair: keyPair() });
      const bytes = new TextEncoder().encode('OPTIONS sip:bob@example.org SIP/2.0\r\n\r\n');
      tunnel.sendSip(bytes);
      assert.equal(await tunnel.delivered(10_000), true);
      assert.deepEqual(await received, bytes);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
