/**
 * Issue 6 end to end: two in-process nodes whose lookup service is not (only)
 * HyperDHT, with the built-in user agent as softphones — a call and a
 * MESSAGE each way.
 *
 * - OpenDHT: five dhtnodes on loopback; alice and bob each through their own
 *   proxy; one dhtnode that neither uses is killed mid-test and calls still
 *   connect.
 * - LAN multicast only: no infrastructure at all; the two nodes share no DHT
 *   network either (each HyperDHT node is alone: bootstrap []), so the call
 *   connects by the DHT address in the package. Open and paranoid mode.
 * - HyperDHT + OpenDHT at once: publish to both; with every dhtnode gone,
 *   lookups still succeed through HyperDHT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { type Config, loadConfig, writeConfig } from '../../src/config/config.js';
import { P2pSipNode } from '../../src/node/node.js';
import { startTestnet } from '../../src/overlay/testnet.js';
import { UserAgent } from '../../src/ua/user-agent.js';
import { startOpenDht } from '../helpers/opendht.js';
import { freePort } from '../helpers/ports.js';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const quiet = { stdout: () => {}, stderr: () => {} };

interface Pair {
  alice: P2pSipNode;
  bob: P2pSipNode;
  alicePhone: UserAgent;
  bobPhone: UserAgent;
  logs: string[];
}

async function card(dir: string): Promise<string> {
  const out: string[] = [];
  await main(['contacts', 'export', '--home', dir, '--json', '--no-qr'], {
    stdout: (l) => out.push(l),
    stderr: () => {},
  });
  return (JSON.parse(out.join('')) as { card: string }).card;
}

/** Two nodes with `configure` applied to each config (i = 0 alice, 1 bob), cards exchanged. */
/** Teardown in reverse order of setup (node:test runs `after` hooks in registration order). */
function stack(t: TestContext): (fn: () => unknown) => void {
  const fns: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => fns.push(fn);
}

async function pair(
  t: TestContext,
  onTeardown: (fn: () => unknown) => void,
  configure: (config: Config, i: number) => void,
  bootstrap: (i: number) => string[],
): Promise<Pair> {
  const logs: string[] = [];
  const dirs = [ALICE, BOB].map(() => mkdtempSync(join(tmpdir(), 'p2psip-backends-')));
  onTeardown(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  for (const [i, aor] of [ALICE, BOB].entries()) {
    assert.equal(await main(['init', '--home', dirs[i]!, '--aor', aor], quiet), 0);
    const config = loadConfig(dirs[i]!);
    configure(config, i);
    writeConfig(dirs[i]!, config);
  }
  assert.equal(await main(['contacts', 'add', '--home', dirs[0]!, await card(dirs[1]!)], quiet), 0);
  assert.equal(await main(['contacts', 'add', '--home', dirs[1]!, await card(dirs[0]!)], quiet), 0);
  const log = (_l: string, m: string) => {
    logs.push(m);
    if (process.env.E2E_DEBUG)
      process.stderr.write(`[node] ${new Date().toISOString().slice(17, 23)} ${m}\n`);
  };
  const nodes: P2pSipNode[] = [];
  for (const [i, dir] of dirs.entries())
    nodes.push(
      await P2pSipNode.start({
        home: dir,
        sipHost: '127.0.0.1',
        sipPort: 0,
        bootstrap: bootstrap(i),
        log,
      }),
    );
  const [alice, bob] = nodes as [P2pSipNode, P2pSipNode];
  const alicePhone = await UserAgent.open({ aor: ALICE, node: alice.info.sip, autoAnswer: true });
  const bobPhone = await UserAgent.open({ aor: BOB, node: bob.info.sip, autoAnswer: true });
  onTeardown(async () => {
    await alicePhone.close();
    await bobPhone.close();
    for (const n of nodes) await n.stop();
  });
  assert.equal((await alicePhone.register(600)).final?.status, 200);
  assert.equal((await bobPhone.register(600)).final?.status, 200);
  return { alice, bob, alicePhone, bobPhone, logs };
}

/** A call and a MESSAGE each way; bounded retries while publication settles. */
async function talk(p: Pair, what: string): Promise<void> {
  for (const [from, to] of [
    [p.alicePhone, BOB],
    [p.bobPhone, ALICE],
  ] as const) {
    let status: number | undefined;
    for (let i = 0; i < 5 && status !== 200; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 300));
      status = (await from.call(to, 50)).invite.final?.status;
    }
    assert.equal(status, 200, `${what}: call to ${to}\n${p.logs.join('\n')}`);
    const m = await from.message(to, `hello over ${what}`);
    assert.equal(m.final?.status, 200, `${what}: MESSAGE to ${to}\n${p.logs.join('\n')}`);
  }
}

test('OpenDHT, five dhtnodes: call and MESSAGE both ways through two proxies; one dhtnode killed mid-test, still', async (t) => {
  const later = stack(t);
  const net = await startOpenDht({ nodes: 5 });
  later(() => net.stop());
  const p = await pair(
    t,
    later,
    (c, i) => {
      c.overlay.backend = 'opendht';
      c.overlay.opendht.proxies = [net.proxyUrls[i]!];
    },
    () => [],
  );
  await talk(p, 'opendht');
  await net.kill(4);
  await talk(p, 'opendht with one dhtnode killed');
  await p.alice.setMode('paranoid');
  await p.bob.setMode('paranoid');
  await talk(p, 'opendht, paranoid');
  assert.ok(p.logs.some((l) => /found by secret lookup \(paranoid mode\)/.test(l)));
});

test('LAN multicast only, no DHT network in common: call and MESSAGE, open then paranoid', async (t) => {
  const later = stack(t);
  const port = await freePort();
  const p = await pair(
    t,
    later,
    (c) => {
      c.overlay.backend = 'multicast';
      c.overlay.multicast = { interface: '127.0.0.1', group: '239.255.80.83', port };
    },
    () => [],
  );
  await talk(p, 'multicast');
  await p.alice.setMode('paranoid');
  await p.bob.setMode('paranoid');
  await talk(p, 'multicast, paranoid');
});

test('HyperDHT + OpenDHT at once: published to both; with every dhtnode gone, HyperDHT still finds the callee', async (t) => {
  const later = stack(t);
  const testnet = await startTestnet({ nodes: 3 });
  later(() => testnet.destroy());
  const net = await startOpenDht({ nodes: 3 });
  later(() => net.stop());
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
  const p = await pair(
    t,
    later,
    (c, i) => {
      c.overlay.backend = ['hyperdht', 'opendht'];
      c.overlay.opendht.proxies = [net.proxyUrls[i]!];
    },
    () => bootstrap,
  );
  await talk(p, 'hyperdht+opendht');
  await net.stop();
  await talk(p, 'hyperdht+opendht with OpenDHT down');
});
