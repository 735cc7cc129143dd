/**
 * The privacy side of two in-process nodes on a private loopback HyperDHT
 * network (issue 4): friends holding each other's card, in paranoid mode,
 * with the built-in user agent as softphones.
 *
 * - In-dialog requests after the tunnel closed: the Record-Route names keys
 *   each side can dial back (the callee's epoch key it was reached at, the
 *   caller's current epoch key), not the identity keys a paranoid node does
 *   not listen on.
 * - Mode switching at run time takes effect at once (open record withdrawn).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { loadConfig, writeConfig } from '../../src/config/config.js';
import { createHyperDht } from '../../src/dht/hyperdht.js';
import { openKey } from '../../src/identity/open-key.js';
import type { PrivacyMode } from '../../src/node/modes.js';
import { P2pSipNode } from '../../src/node/node.js';
import { HyperDhtLookup } from '../../src/overlay/hyperdht.js';
import { startTestnet, type Testnet } from '../../src/overlay/testnet.js';
import { type CallEnded, type CallEvent, UserAgent } from '../../src/ua/user-agent.js';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const dirs: string[] = [];
const logs: string[] = [];
let testnet: Testnet;
let alice: P2pSipNode;
let bob: P2pSipNode;
let alicePhone: UserAgent;
let bobPhone: UserAgent;

const quiet = { stdout: () => {}, stderr: (l: string) => logs.push(l) };

async function home(aor: string, mode: PrivacyMode): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'p2psip-privacy-'));
  dirs.push(dir);
  assert.equal(await main(['init', '--home', dir, '--aor', aor], quiet), 0);
  const config = loadConfig(dir);
  config.privacy.mode = mode;
  writeConfig(dir, config);
  return dir;
}

async function card(dir: string): Promise<string> {
  const out: string[] = [];
  await main(['contacts', 'export', '--home', dir, '--json', '--no-qr'], {
    stdout: (l) => out.push(l),
    stderr: () => {},
  });
  return (JSON.parse(out.join('')) as { card: string }).card;
}

before(async () => {
  testnet = await startTestnet({ nodes: 4 });
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
  const [a, b] = [await home(ALICE, 'paranoid'), await home(BOB, 'paranoid')];
  assert.equal(await main(['contacts', 'add', '--home', a, await card(b)], quiet), 0);
  assert.equal(await main(['contacts', 'add', '--home', b, await card(a)], quiet), 0);
  const log = (_l: string, m: string) => {
    logs.push(m);
    if (process.env.E2E_DEBUG) process.stderr.write(`[node] ${m}\n`);
  };
  // Tunnels idle for 300 ms close: in-dialog requests then need a fresh one.
  const opts = { sipHost: '127.0.0.1', sipPort: 0, bootstrap, log, tunnelIdleMs: 300 };
  alice = await P2pSipNode.start({ home: a, ...opts });
  bob = await P2pSipNode.start({ home: b, ...opts });
  alicePhone = await UserAgent.open({ aor: ALICE, node: alice.info.sip, autoAnswer: true });
  bobPhone = await UserAgent.open({ aor: BOB, node: bob.info.sip, autoAnswer: true });
  assert.equal((await alicePhone.register(600)).final?.status, 200);
  assert.equal((await bobPhone.register(600)).final?.status, 200);
});

after(async () => {
  await alicePhone?.close();
  await bobPhone?.close();
  await alice?.stop();
  await bob?.stop();
  await testnet?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A call attempt, retried while the callee's records may still be on their way (bounded). */
async function callUntilAnswered(
  from: UserAgent,
  to: string,
  holdMs: number,
): Promise<Awaited<ReturnType<UserAgent['call']>>> {
  let last: Awaited<ReturnType<UserAgent['call']>> | undefined;
  for (let i = 0; i < 5; i++) {
    last = await from.call(to, holdMs);
    if ((last.invite.final?.status ?? 0) < 300 && last.invite.final) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  return last!;
}

test('paranoid: the caller hangs up after every tunnel went idle and closed; the BYE re-dials the recorded epoch key', async () => {
  const call = await callUntilAnswered(alicePhone, BOB, 1_200);
  assert.equal(call.invite.final?.status, 200, logs.join('\n'));
  assert.equal(call.bye?.final?.status, 200, `BYE after the tunnel closed\n${logs.join('\n')}`);
  assert.ok(
    logs.some((l) => /found by secret lookup \(paranoid mode\)/.test(l)),
    'the callee was found by its secret record',
  );
});

test('paranoid: the callee hangs up after the tunnel closed; its BYE reaches the caller through the caller’s epoch key', async () => {
  const ended = new Promise<CallEnded>((resolve) =>
    alicePhone.once('ended', (e) => resolve(e as CallEnded)),
  );
  const hung = new Promise<number | undefined>((resolve) => {
    bobPhone.once('established', (e: CallEvent) => {
      setTimeout(() => {
        void bobPhone.hangup(e.callId).then((o) => resolve(o?.final?.status));
      }, 900);
    });
  });
  const call = await callUntilAnswered(alicePhone, BOB, 5_000);
  assert.equal(call.invite.final?.status, 200, logs.join('\n'));
  assert.equal(await hung, 200, `bob's BYE after the tunnel closed\n${logs.join('\n')}`);
  assert.equal((await ended).by, 'remote');
  assert.equal(call.bye, undefined, 'alice did not need to hang up');
});

test('switching to open publishes the open record at once; back to paranoid withdraws it', async () => {
  const dht = createHyperDht({ bootstrap: testnet.bootstrap, host: '127.0.0.1', ephemeral: true });
  const reader = new HyperDhtLookup({ dht, seed: new Uint8Array(32).fill(7) });
  try {
    assert.deepEqual(await reader.find(openKey(BOB)), [], 'paranoid: no open record');
    await bob.setMode('open');
    assert.equal(bob.mode, 'open');
    assert.equal((await reader.find(openKey(BOB))).length, 1, 'open: the record is there');
    await bob.setMode('paranoid');
    assert.deepEqual(await reader.find(openKey(BOB)), [], 'paranoid again: withdrawn');
    // And bob is still reachable by his friend.
    const call = await callUntilAnswered(alicePhone, BOB, 50);
    assert.equal(call.invite.final?.status, 200, logs.join('\n'));
  } finally {
    await reader.close();
    await dht.destroy();
  }
});
