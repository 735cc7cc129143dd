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
 * - The pair secret advances when the nodes talk; a thief of alice's identity
 *   key computes only generation-0 keys, which find nothing.
 * - Rotation: after an epoch change (the nodes' privacy clock moved) calls
 *   still connect, under new keys.
 * - Out of step (a REPLY lost: bob one generation ahead of alice): both still
 *   find each other after one refresh, and their next talk brings them back
 *   in step.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { loadConfig, writeConfig } from '../../src/config/config.js';
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { createHyperDht } from '../../src/dht/hyperdht.js';
import { Identity } from '../../src/identity/identity.js';
import { openKey } from '../../src/identity/open-key.js';
import type { PrivacyMode } from '../../src/node/modes.js';
import { P2pSipNode } from '../../src/node/node.js';
import { HyperDhtLookup } from '../../src/overlay/hyperdht.js';
import { HyperDhtSecretRecords } from '../../src/overlay/hyperdht-secret.js';
import { startTestnet, type Testnet } from '../../src/overlay/testnet.js';
import { PrivacyErrorCode, privacyErrorCode } from '../../src/privacy/errors.js';
import { type EpochKeys, publishKeys } from '../../src/privacy/keys.js';
import {
  advanceToEpoch,
  epochOf,
  initialPairState,
  type PairState,
} from '../../src/privacy/pair-state.js';
import { ratchetAccept, ratchetOffer } from '../../src/privacy/ratchet.js';
import { openRecord } from '../../src/privacy/record.js';
import { Store } from '../../src/store/store.js';
import { type CallEnded, type CallEvent, UserAgent } from '../../src/ua/user-agent.js';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const dirs: string[] = [];
const logs: string[] = [];
let testnet: Testnet;
let alice: P2pSipNode;
let bob: P2pSipNode;
let alicePhone: UserAgent;
let homes: string[] = [];
/** The nodes' privacy (epoch) clock: wall clock + a shift the rotation test moves. */
let shift = 0;
const clock = () => Date.now() + shift;
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
  const opts = {
    sipHost: '127.0.0.1',
    sipPort: 0,
    bootstrap,
    log,
    tunnelIdleMs: 300,
    now: clock,
    ratchetIntervalMs: 0,
    privacyRefreshMs: 0,
  };
  homes = [a, b];
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

/** A pair state as stored in a node's home (read through a second connection). */
function stateIn(dir: string, peer: string): PairState {
  const store = Store.open(dir, { create: false });
  try {
    const state = store.getPairState(peer);
    assert.ok(state, `no pair state with ${peer} in ${dir}`);
    return state;
  } finally {
    store.close();
  }
}

function putState(dir: string, peer: string, state: PairState): void {
  const store = Store.open(dir, { create: false });
  try {
    store.putPairState(peer, state);
  } finally {
    store.close();
  }
}

/** Alice's secret record keys for bob (what bob looks up) under `state`, this epoch. */
function recordKeysFor(state: PairState): EpochKeys[] {
  const epoch = epochOf(Math.floor(clock() / 1000), state.epochSeconds);
  return publishKeys(advanceToEpoch(state, Math.max(epoch, state.epoch)), epoch);
}

function recordSeedsFor(state: PairState): Uint8Array[] {
  return recordKeysFor(state).map((k) => k.recordSeed);
}

test('talking advanced the pair: a thief of alice’s identity key derives only generation 0, under which nothing opens', async () => {
  const fromAlice = stateIn(homes[0]!, BOB);
  const fromBob = stateIn(homes[1]!, ALICE);
  assert.ok(
    fromAlice.current.gen >= 1,
    `alice's pair with bob at generation ${fromAlice.current.gen}`,
  );
  assert.equal(fromAlice.current.gen, fromBob.current.gen);
  assert.equal(fromAlice.current.chain, fromBob.current.chain, 'both sides hold the same secret');
  // The thief: alice's seed (from a backup) and bob's public key.
  const store = Store.open(homes[0]!, { create: false });
  let thief: PairState;
  try {
    const id = Identity.fromRecord(store.getIdentity()!);
    thief = initialPairState(id, fromHex(bob.info.publicKey), fromAlice.epoch, {
      epochSeconds: fromAlice.epochSeconds,
    });
  } finally {
    store.close();
  }
  const real = recordSeedsFor(fromAlice).map((k) => toHex(k));
  const guessed = recordSeedsFor(thief).map((k) => toHex(k));
  for (const g of guessed) assert.ok(!real.includes(g), 'the thief cannot compute the current key');
  const dht = createHyperDht({ bootstrap: testnet.bootstrap, host: '127.0.0.1', ephemeral: true });
  const records = new HyperDhtSecretRecords({ dht });
  try {
    // Generation 0's record of this epoch was published before the pair
    // talked; the node overwrote it with random bytes when the pair advanced.
    for (const k of recordKeysFor(thief)) {
      const found = await records.getSecret({ seed: k.recordSeed });
      if (found)
        assert.throws(
          () => openRecord(found.value, k.recordKey),
          (err: unknown) => privacyErrorCode(err) === PrivacyErrorCode.RecordAuth,
        );
    }
    const found = await Promise.all(
      recordSeedsFor(fromAlice).map((seed) => records.getSecret({ seed })),
    );
    assert.ok(
      found.some((r) => r?.value.length === 1000),
      'the real key finds alice’s record for bob',
    );
  } finally {
    await records.close();
    await dht.destroy();
  }
});

test('rotation: one epoch later the friends still reach each other, under new keys', async () => {
  const before = recordSeedsFor(stateIn(homes[0]!, BOB)).map((k) => toHex(k));
  shift += 3600_000;
  await alice.tickPrivacy();
  await bob.tickPrivacy();
  const after = recordSeedsFor(stateIn(homes[0]!, BOB)).map((k) => toHex(k));
  for (const k of after) assert.ok(!before.includes(k), 'new epoch, new record keys');
  await new Promise((r) => setTimeout(r, 400)); // let the old tunnels idle out
  const ab = await callUntilAnswered(alicePhone, BOB, 50);
  assert.equal(ab.invite.final?.status, 200, logs.join('\n'));
  const ba = await callUntilAnswered(bobPhone, ALICE, 50);
  assert.equal(ba.invite.final?.status, 200, logs.join('\n'));
});

test('out of step (REPLY lost: bob a generation ahead): reachable both ways after one refresh, in step after they talk', async () => {
  await new Promise((r) => setTimeout(r, 400)); // no tunnel open: the next call dials afresh
  const a0 = stateIn(homes[0]!, BOB);
  const b0 = stateIn(homes[1]!, ALICE);
  // An exchange whose REPLY never reached alice: bob stored g+1 (keeping g), alice still at g.
  const binding = new Uint8Array(64).fill(0x5a);
  const offer = ratchetOffer(a0, new Uint8Array(32).fill(1), binding);
  const accepted = ratchetAccept(b0, offer.message, new Uint8Array(32).fill(2), binding);
  putState(homes[1]!, ALICE, accepted.state);
  assert.equal(accepted.state.current.gen, a0.current.gen + 1);
  await alice.tickPrivacy();
  await bob.tickPrivacy(); // one refresh: bob publishes under g+1 and g
  const ba = await callUntilAnswered(bobPhone, ALICE, 50);
  assert.equal(ba.invite.final?.status, 200, `bob → alice out of step\n${logs.join('\n')}`);
  await new Promise((r) => setTimeout(r, 400));
  const ab = await callUntilAnswered(alicePhone, BOB, 50);
  assert.equal(ab.invite.final?.status, 200, `alice → bob out of step\n${logs.join('\n')}`);
  // Alice dialled: her OFFER named g, bob built on his kept g — in step again.
  let a1 = stateIn(homes[0]!, BOB);
  let b1 = stateIn(homes[1]!, ALICE);
  for (let i = 0; i < 20 && (a1.current.chain !== b1.current.chain || b1.previous !== null); i++) {
    await new Promise((r) => setTimeout(r, 100));
    a1 = stateIn(homes[0]!, BOB);
    b1 = stateIn(homes[1]!, ALICE);
  }
  assert.equal(a1.current.chain, b1.current.chain, 'same secret again');
  assert.equal(b1.previous, null, 'bob confirmed');
  assert.ok(a1.current.gen > a0.current.gen);
});

test('groups: alice puts bob in a group; after they talk he holds its key and finds her through the one group record', async () => {
  assert.equal(
    await main(['contacts', 'group', 'create', 'family', '--home', homes[0]!], quiet),
    0,
  );
  assert.equal(
    await main(['contacts', 'group', 'add', 'family', BOB, '--home', homes[0]!], quiet),
    0,
  );
  await new Promise((r) => setTimeout(r, 400)); // fresh tunnels for the next talk
  await alice.tickPrivacy(); // the group gets its key
  const ab = await callUntilAnswered(alicePhone, BOB, 50); // the tunnel carries the key, bob acks
  assert.equal(ab.invite.final?.status, 200, logs.join('\n'));
  let grouped = '';
  for (let i = 0; i < 30 && !grouped; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await alice.tickPrivacy();
    grouped = logs.find((l) => /1 group record\(s\) for 1 of them/.test(l)) ?? '';
  }
  assert.ok(grouped, `alice publishes one group record for bob\n${logs.join('\n')}`);
  await new Promise((r) => setTimeout(r, 400));
  const ba = await callUntilAnswered(bobPhone, ALICE, 50);
  assert.equal(
    ba.invite.final?.status,
    200,
    `bob finds alice by the group record\n${logs.join('\n')}`,
  );
});
