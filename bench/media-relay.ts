/**
 * Media relay over real tunnels (issue 5): two nodes' MediaRelays, each fed
 * by its own TunnelEndpoint on a private 3-node HyperDHT testnet on
 * 127.0.0.1, one Noise tunnel between them; calls set up through MediaDialog
 * exactly as the proxy would (offer/answer rewritten on both nodes). Each
 * call's two fake softphones send a 172-byte RTP packet (PCMU, 20 ms) every
 * 20 ms each way: 50 packets/s per direction.
 *
 *   npm run bench -- media-relay                      (10 s, 1 call)
 *   npx tsx bench/media-relay.ts --seconds 60         (the figure)
 *   npx tsx bench/media-relay.ts --seconds 20 --calls 10
 *
 * Reported per direction: one-way latency softphone → softphone through
 * relay A, the tunnel and relay B (p50/p99/max; both ends are in this
 * process, so one clock), and loss. Beside it the same traffic sent straight
 * from phone to phone (the floor: loopback UDP and this event loop), so the
 * difference is what the relay adds. CPU: process.cpuUsage() during the relay
 * run minus the direct run, per call — both nodes' relaying together, i.e.
 * what one call costs the two nodes. Everything runs in one process on one
 * event loop, as a node does; expect noise of a few tenths of a ms on a
 * shared machine.
 */
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { toHex } from '../src/crypto/bytes.js';
import {
  attachDatagrams,
  MediaControl,
  MediaRelay,
  mediaKey,
  tunnelLink,
} from '../src/media/index.js';
import { startTestnet } from '../src/overlay/testnet.js';
import { mediaLine, parseSdp } from '../src/sdp/index.js';
import { type Tunnel, TunnelEndpoint } from '../src/tunnel/index.js';
import { keyPair, phoneSdp } from '../test/unit/media/helpers.js';
import type { BenchResult } from './index.js';

const PACKET_BYTES = 172;
const INTERVAL_MS = 20;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const portOf = (body: Uint8Array) => mediaLine(parseSdp(body).media[0]!).port;

/** One softphone: sends numbered, time-stamped packets; records one-way delays of what it receives. */
class Phone {
  readonly delays: number[] = [];
  readonly seen = new Set<number>();
  sent = 0;
  constructor(readonly socket: Socket) {
    socket.on('message', (msg) => {
      const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
      const n = view.getUint32(4);
      if (this.seen.has(n)) return;
      this.seen.add(n);
      this.delays.push(performance.now() - view.getFloat64(12));
    });
  }
  static async open(): Promise<Phone> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    return new Phone(s);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(to: number): void {
    const p = new Uint8Array(PACKET_BYTES);
    const view = new DataView(p.buffer);
    p[0] = 0x80;
    view.setUint16(2, this.sent & 0xffff);
    view.setUint32(4, this.sent);
    view.setFloat64(12, performance.now());
    this.sent++;
    this.socket.send(p, to, '127.0.0.1');
  }
  reset(): void {
    this.delays.length = 0;
    this.seen.clear();
    this.sent = 0;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

interface Leg {
  from: Phone;
  to: Phone;
  port: number;
}

/** Sends on every leg every 20 ms for `seconds`; returns the CPU time used (µs). */
async function drive(legs: Leg[], seconds: number): Promise<number> {
  for (const l of legs) {
    l.from.reset();
    l.to.reset();
  }
  const cpu = process.cpuUsage();
  const ticks = Math.round((seconds * 1000) / INTERVAL_MS);
  const start = performance.now();
  for (let t = 0; t < ticks; t++) {
    for (const l of legs) l.from.send(l.port);
    const due = start + (t + 1) * INTERVAL_MS;
    await sleep(Math.max(0, due - performance.now()));
  }
  await sleep(500); // stragglers
  const used = process.cpuUsage(cpu);
  return used.user + used.system;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latency(legs: Leg[]): {
  p50: number;
  p99: number;
  max: number;
  sent: number;
  got: number;
} {
  const all = legs.flatMap((l) => l.to.delays).sort((a, b) => a - b);
  const sent = legs.reduce((n, l) => n + l.from.sent, 0);
  const got = legs.reduce((n, l) => n + l.to.seen.size, 0);
  return {
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all[all.length - 1] ?? Number.NaN,
    sent,
    got,
  };
}

const ms = (x: number) => x.toFixed(3);

export async function run(): Promise<BenchResult[]> {
  const seconds = arg('seconds', 10);
  const calls = Math.round(arg('calls', 1));
  const testnet = await startTestnet({ nodes: 3 });
  const closers: (() => Promise<unknown> | unknown)[] = [() => testnet.destroy()];
  try {
    const ka = keyPair();
    const kb = keyPair();
    const epA = new TunnelEndpoint({ bootstrap: testnet.bootstrap, host: '127.0.0.1' });
    const epB = new TunnelEndpoint({
      bootstrap: testnet.bootstrap,
      host: '127.0.0.1',
      accept: (remote) => toHex(remote) === toHex(ka.publicKey),
    });
    closers.push(
      () => epA.close(),
      () => epB.close(),
    );
    await epB.listen(kb);
    const relayA = new MediaRelay({ host: '127.0.0.1' });
    const relayB = new MediaRelay({ host: '127.0.0.1' });
    closers.push(
      () => relayA.close(),
      () => relayB.close(),
    );
    closers.push(attachDatagrams(epA, relayA), attachDatagrams(epB, relayB));
    const inbound = new Promise<Tunnel>((resolve) => epB.once('tunnel', resolve));
    const ta = await epA.connect(kb.publicKey, { keyPair: ka });
    const tb = await inbound;
    const controlA = new MediaControl(relayA);
    const controlB = new MediaControl(relayB);

    const relayed: Leg[] = [];
    const direct: Leg[] = [];
    for (let c = 0; c < calls; c++) {
      const [alice, bob] = [await Phone.open(), await Phone.open()];
      closers.push(
        () => alice.close(),
        () => bob.close(),
      );
      const key = mediaKey(`bench-${c}`, 'a');
      const da = controlA.dialog(key, tunnelLink(ta));
      const db = controlB.dialog(key, tunnelLink(tb));
      const offerIn = await db.onOffer('tunnel', await da.onOffer('local', phoneSdp(alice.port)));
      const answerIn = await da.onAnswer('tunnel', await db.onAnswer('local', phoneSdp(bob.port)));
      relayed.push(
        { from: alice, to: bob, port: portOf(answerIn) },
        { from: bob, to: alice, port: portOf(offerIn) },
      );
      direct.push(
        { from: alice, to: bob, port: bob.port },
        { from: bob, to: alice, port: alice.port },
      );
    }

    const directSeconds = Math.min(seconds, 5);
    const directCpu = await drive(direct, directSeconds);
    const base = latency(direct);
    const relayCpu = await drive(relayed, seconds);
    const ab = latency(relayed.filter((_, i) => i % 2 === 0));
    const ba = latency(relayed.filter((_, i) => i % 2 === 1));
    const perCallCpuPerSec = (relayCpu / seconds - directCpu / directSeconds) / calls; // µs per second
    const packetsPerCallPerSec = (2 * 1000) / INTERVAL_MS; // both directions
    const loss = (l: { sent: number; got: number }) =>
      (100 * (l.sent - l.got)) / Math.max(1, l.sent);
    const stats = [relayA.stats(), relayB.stats()];

    return [
      {
        name: `direct UDP phone→phone (floor, ${directSeconds} s)`,
        extra: { p50_ms: ms(base.p50), p99_ms: ms(base.p99), max_ms: ms(base.max) },
      },
      ...(
        [
          ['A→B', ab],
          ['B→A', ba],
        ] as const
      ).map(([dir, l]) => ({
        name: `relayed ${dir} one-way (${calls} call${calls > 1 ? 's' : ''}, ${seconds} s, 50 pps)`,
        extra: {
          p50_ms: ms(l.p50),
          p99_ms: ms(l.p99),
          max_ms: ms(l.max),
          added_p50_ms: ms(l.p50 - base.p50),
          sent: l.sent,
          lost: l.sent - l.got,
          loss_pct: loss(l).toFixed(3),
        },
      })),
      {
        name: 'CPU per call (both nodes, relaying only)',
        extra: {
          cpu_ms_per_s: (perCallCpuPerSec / 1000).toFixed(3),
          pct_of_core: (perCallCpuPerSec / 10_000).toFixed(3),
          us_per_packet: (perCallCpuPerSec / packetsPerCallPerSec).toFixed(1),
        },
      },
      {
        name: 'relay counters',
        extra: {
          dropped_A: Object.values(stats[0]!.dropped).reduce((a, b) => a + b, 0),
          dropped_B: Object.values(stats[1]!.dropped).reduce((a, b) => a + b, 0),
          sockets: stats[0]!.sockets + stats[1]!.sockets,
        },
      },
    ];
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r.name, JSON.stringify(r.extra));
}
