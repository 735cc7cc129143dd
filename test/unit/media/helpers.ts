// Shared pieces of the media tests: an in-memory pair of linked "tunnels",
// fake softphones (UDP sockets on loopback) and bounded waiting.

import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { ed25519PublicKey } from '../../../src/crypto/ed25519.js';
import { randomBytes } from '../../../src/crypto/random.js';
import type { MediaLink } from '../../../src/media/link.js';
import type { MediaRelay } from '../../../src/media/relay.js';
import type { ManualClock, Timer } from '../../../src/overlay/clock.js';
import type { DhtKeyPair } from '../../../src/tunnel/dht.js';
import type { IdleClock } from '../../../src/tunnel/idle.js';
import { crlf } from '../sdp/fixtures.js';

/**
 * Two relays joined like two nodes over one tunnel: a datagram sent on one
 * side is delivered to the other relay on the next turn of the event loop,
 * from peer `A` or `B`. `loss` drops every n-th datagram (0: none).
 */
export function linkedPair(
  a: MediaRelay,
  b: MediaRelay,
  opts: { loss?: number } = {},
): { toB: MediaLink; toA: MediaLink; sent: { a: number; b: number } } {
  const sent = { a: 0, b: 0 };
  const link = (from: 'a' | 'b', to: MediaRelay, self: string, peer: string): MediaLink => ({
    peer,
    sendDatagram(channel, bytes) {
      sent[from]++;
      if (opts.loss && sent[from] % opts.loss === 0) return;
      const copy = new Uint8Array(bytes);
      setImmediate(() => to.deliver(channel, copy, self));
    },
  });
  return { toB: link('a', b, 'A', 'B'), toA: link('b', a, 'B', 'A'), sent };
}

/** A fake softphone: one UDP socket on loopback that records what it receives. */
export class Phone {
  readonly socket: Socket;
  readonly received: { bytes: Uint8Array; from: number }[] = [];
  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (msg, rinfo) =>
      this.received.push({ bytes: new Uint8Array(msg), from: rinfo.port }),
    );
  }

  static async open(host = '127.0.0.1'): Promise<Phone> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    return new Phone(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Uint8Array, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** An RTP-looking packet: version 2, payload type 0, sequence `seq`, `size` bytes. */
export function rtp(seq: number, size = 172): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = 0x80;
  p[1] = 0;
  p[2] = (seq >> 8) & 0xff;
  p[3] = seq & 0xff;
  return p;
}

/** Waits (bounded: 400 × 10 ms) until `pred()` holds; fails with `what` otherwise. */
export async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (pred()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Lets pending I/O callbacks and immediates run (for "nothing arrived" checks). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await sleep(5);
}

/** How many UDP handles the process holds (for leak checks). */
export function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}

/**
 * The UDP handle count once sockets closed by earlier work are gone (a
 * socket's handle goes some ticks after close()): stable for 5 rounds,
 * bounded at 200 rounds.
 */
export async function stableUdpHandles(): Promise<number> {
  let last = udpHandles();
  for (let i = 0, same = 0; i < 200 && same < 5; i++) {
    await sleep(5);
    const now = udpHandles();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

/** The overlay's manual clock, seen as the IdleClock the relay's timers use. */
export function idleClock(clock: ManualClock): IdleClock {
  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (handle) => (handle as Timer).cancel(),
  };
}

/** Nothing open: no session, stream, socket, channel id or timer. */
export function assertEmpty(r: MediaRelay): void {
  const s = r.stats();
  assert.deepEqual([s.sessions, s.streams, s.sockets, s.channels, s.timers], [0, 0, 0, 0, 0]);
}

export interface SdpOpts {
  version?: number;
  dir?: string;
  host?: string;
  extra?: string[];
  more?: string[];
}

/** What a softphone on loopback would offer/answer: audio on `port`, RTCP on port+1. */
export function phoneSdp(port: number, o: SdpOpts = {}): Uint8Array {
  return new TextEncoder().encode(
    crlf([
      'v=0',
      `o=- 42 ${o.version ?? 1} IN IP4 127.0.0.1`,
      's=-',
      `c=IN IP4 ${o.host ?? '127.0.0.1'}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      ...(o.extra ?? []),
      `a=${o.dir ?? 'sendrecv'}`,
      ...(o.more ?? []),
    ]),
  );
}

/** A fresh Ed25519 key pair as the tunnel takes it. */
export function keyPair(): DhtKeyPair {
  const seed = randomBytes(32);
  const publicKey = ed25519PublicKey(seed);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(publicKey, 32);
  return { publicKey, secretKey };
}
