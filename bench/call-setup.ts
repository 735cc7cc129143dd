/**
 * Call set-up latency through the whole path: INVITE sent by alice's
 * softphone → alice's node → lookup → Noise tunnel → bob's node → bob's
 * softphone → 180 back at alice. Both nodes in this process, bob's softphone
 * a raw UDP socket that answers 180 then 200; alice is the built-in user
 * agent (ACK, BYE).
 *
 *   npm run bench -- call-setup                       (CALLS=200 NODES=20 to change)
 *   BACKEND=opendht npm run bench -- call-setup       (issue 6; needs dhtnode)
 *   BACKEND=multicast npm run bench -- call-setup
 *
 * BACKEND (overlay.backend of both nodes):
 *   hyperdht   (default) a private NODES-node HyperDHT testnet on 127.0.0.1
 *              for lookups and connections
 *   opendht    3 dhtnode processes on loopback (test/helpers/opendht.ts),
 *              alice through node 0's REST proxy, bob through node 1's
 *   multicast  LAN multicast on 127.0.0.1, the default group on a free port
 * With opendht and multicast the two nodes share no HyperDHT network
 * (bootstrap []): a call connects by the DHT address in bob's package, as a
 * deployment with those backends would (docs/overlay.md).
 *
 * Before the calls, alice MESSAGEs bob until one is answered 200 (publication
 * is asynchronous): that first answered MESSAGE pays the lookup and the
 * tunnel handshake, and is reported as "first request". Every call after it
 * reuses the tunnel but still looks the callee up (no lookup cache yet); the
 * first call is also reported alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { type Config, loadConfig, writeConfig } from '../src/config/config.js';
import { P2pSipNode } from '../src/node/node.js';
import { startTestnet } from '../src/overlay/testnet.js';
import { UserAgent } from '../src/ua/user-agent.js';
import { startOpenDht } from '../test/helpers/opendht.js';
import { freePort } from '../test/helpers/ports.js';
import { answer, RawPhone, request } from '../test/helpers/raw-phone.js';
import type { BenchResult } from './index.js';

const quiet = { stdout: () => {}, stderr: () => {} };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const BACKENDS = ['hyperdht', 'opendht', 'multicast'] as const;
type Backend = (typeof BACKENDS)[number];

/** The lookup network of one backend: the nodes' bootstrap and config, and how to stop it. */
interface Network {
  label: string;
  bootstrap: string[];
  /** Sets node i's (0 alice, 1 bob) overlay config. */
  configure(config: Config, i: number): void;
  stop(): Promise<void>;
}

async function startNetwork(backend: Backend, size: number): Promise<Network> {
  if (backend === 'opendht') {
    const net = await startOpenDht({ nodes: 3 });
    return {
      label: 'OpenDHT, 3 dhtnodes',
      bootstrap: [],
      configure: (c, i) => {
        c.overlay.backend = 'opendht';
        c.overlay.opendht.proxies = [net.proxyUrls[i]!];
      },
      stop: () => net.stop(),
    };
  }
  if (backend === 'multicast') {
    const port = await freePort();
    return {
      label: 'LAN multicast on 127.0.0.1',
      bootstrap: [],
      configure: (c) => {
        c.overlay.backend = 'multicast';
        c.overlay.multicast = { interface: '127.0.0.1', group: '239.255.80.83', port };
      },
      stop: async () => {},
    };
  }
  const testnet = await startTestnet({ nodes: size });
  return {
    label: `${size}-node testnet`,
    bootstrap: testnet.bootstrap.map((b) => `${b.host}:${b.port}`),
    configure: () => {},
    stop: () => testnet.destroy(),
  };
}

export async function run(): Promise<BenchResult[]> {
  const calls = Number(process.env.CALLS ?? 100);
  const size = Number(process.env.NODES ?? 20);
  const backend = (process.env.BACKEND ?? 'hyperdht') as Backend;
  if (!BACKENDS.includes(backend))
    throw new Error(`BACKEND must be one of ${BACKENDS.join(', ')}, not ${backend}`);
  const network = await startNetwork(backend, size);
  const dirs: string[] = [];
  const nodes: P2pSipNode[] = [];
  let bobPhone: RawPhone | undefined;
  let ua: UserAgent | undefined;
  try {
    const start = async (aor: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'p2psip-bench-'));
      dirs.push(dir);
      if ((await main(['init', '--home', dir, '--aor', aor], quiet)) !== 0)
        throw new Error('init failed');
      const config = loadConfig(dir);
      network.configure(config, nodes.length);
      writeConfig(dir, config);
      const node = await P2pSipNode.start({
        home: dir,
        sipHost: '127.0.0.1',
        sipPort: 0,
        bootstrap: network.bootstrap,
        log: () => {},
      });
      nodes.push(node);
      return node;
    };
    const alice = await start('alice@example.org');
    const bob = await start('bob@example.org');
    bobPhone = await RawPhone.open();
    const phone = bobPhone;
    phone.onRequest = (req, raw) => {
      if (req.method === 'INVITE')
        return [
          answer(raw, 180, 'Ringing', 'b', phone.port),
          answer(raw, 200, 'OK', 'b', phone.port),
        ];
      return req.method === 'ACK' ? [] : [answer(raw, 200, 'OK')];
    };
    phone.send(
      request({
        method: 'REGISTER',
        uri: 'sip:example.org',
        from: 'bob@example.org',
        to: 'bob@example.org',
        callId: 'bench-reg',
        port: phone.port,
        extra: ['Expires: 3600'],
      }),
      bob.info.sip.port,
    );
    await phone.finalFor('bench-reg', 'REGISTER');
    ua = await UserAgent.open({ aor: 'alice@example.org', node: alice.info.sip });
    const ringing: number[] = [];
    let failures = 0;
    // Wait until bob's online package is findable (publication is asynchronous).
    let firstRequest = Number.NaN;
    for (let i = 0; i < 100; i++) {
      const sent = performance.now();
      const probe = await ua.message('bob@example.org', 'probe');
      if (probe.final?.status === 200) {
        firstRequest = performance.now() - sent;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < calls; i++) {
      let t180: number | undefined;
      const out = await ua.call('bob@example.org', 0, (p) => {
        if (p.status === 180 && t180 === undefined) t180 = p.ms;
      });
      if (t180 === undefined || out.invite.final?.status !== 200 || out.bye?.final?.status !== 200)
        failures++;
      else ringing.push(t180);
    }
    const first = ringing[0] ?? Number.NaN;
    const rest = ringing.slice(1).sort((a, b) => a - b);
    const all = [...ringing].sort((a, b) => a - b);
    return [
      {
        name: `${backend}: INVITE→180, ${network.label}, ${calls} calls`,
        extra: {
          p50_ms: percentile(all, 50).toFixed(2),
          p99_ms: percentile(all, 99).toFixed(2),
          max_ms: (all.at(-1) ?? Number.NaN).toFixed(2),
          failures,
        },
      },
      {
        name: `${backend}: first request (lookup + tunnel handshake, MESSAGE→200)`,
        extra: { ms: firstRequest.toFixed(2) },
      },
      { name: `${backend}: first call (lookup, tunnel open)`, extra: { ms: first.toFixed(2) } },
      {
        name: `${backend}: later calls (lookup, tunnel reused)`,
        extra: { p50_ms: percentile(rest, 50).toFixed(2), p99_ms: percentile(rest, 99).toFixed(2) },
      },
    ];
  } finally {
    await ua?.close();
    await bobPhone?.close();
    for (const n of nodes) await n.stop();
    await network.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r.name, JSON.stringify(r.extra));
}
