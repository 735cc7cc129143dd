/**
 * Call set-up latency through the whole path: INVITE sent by alice's
 * softphone → alice's node → HyperDHT lookup → Noise tunnel → bob's node →
 * bob's softphone → 180 back at alice. A private 20-node HyperDHT testnet on
 * 127.0.0.1, both nodes in this process, bob's softphone a raw UDP socket
 * that answers 180 then 200; alice is the built-in user agent (ACK, BYE).
 *
 *   npm run bench -- call-setup          (CALLS=200 NODES=20 to change)
 *
 * The first call pays the DHT lookup and the tunnel handshake; later calls
 * reuse the tunnel but still look the callee up (no lookup cache yet), so
 * "first call" and "later calls" are reported apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { P2pSipNode } from '../src/node/node.js';
import { startTestnet } from '../src/overlay/testnet.js';
import { UserAgent } from '../src/ua/user-agent.js';
import { answer, RawPhone, request } from '../test/helpers/raw-phone.js';
import type { BenchResult } from './index.js';

const quiet = { stdout: () => {}, stderr: () => {} };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(): Promise<BenchResult[]> {
  const calls = Number(process.env.CALLS ?? 100);
  const size = Number(process.env.NODES ?? 20);
  const testnet = await startTestnet({ nodes: size });
  const dirs: string[] = [];
  const nodes: P2pSipNode[] = [];
  let bobPhone: RawPhone | undefined;
  let ua: UserAgent | undefined;
  try {
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
    const start = async (aor: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'p2psip-bench-'));
      dirs.push(dir);
      if ((await main(['init', '--home', dir, '--aor', aor], quiet)) !== 0)
        throw new Error('init failed');
      const node = await P2pSipNode.start({
        home: dir,
        sipHost: '127.0.0.1',
        sipPort: 0,
        bootstrap,
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
    for (let i = 0; i < 100; i++) {
      const probe = await ua.message('bob@example.org', 'probe');
      if (probe.final?.status === 200) break;
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
        name: `INVITE→180, ${size}-node testnet, ${calls} calls`,
        extra: {
          p50_ms: percentile(all, 50).toFixed(2),
          p99_ms: percentile(all, 99).toFixed(2),
          max_ms: (all.at(-1) ?? Number.NaN).toFixed(2),
          failures,
        },
      },
      { name: 'first call (lookup + tunnel handshake)', extra: { ms: first.toFixed(2) } },
      {
        name: 'later calls (lookup, tunnel reused)',
        extra: { p50_ms: percentile(rest, 50).toFixed(2), p99_ms: percentile(rest, 99).toFixed(2) },
      },
    ];
  } finally {
    await ua?.close();
    await bobPhone?.close();
    for (const n of nodes) await n.stop();
    await testnet.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r.name, JSON.stringify(r.extra));
}
