/**
 * RatchetDriver (issue 4): the pair ratchet run over real tunnels — two
 * TunnelEndpoints on a loopback HyperDHT testnet, pair states in real stores
 * in a temp dir, an injected `aorOf` standing in for PeerIdentities. Lost,
 * delayed and tampered messages come from wrapping a tunnel's sendControl;
 * reply timeouts fire by hand (fake timers). No timed assertions: every wait
 * is for an event the step under test causes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { toHex } from '../../../src/crypto/bytes.js';
import { randomBytes } from '../../../src/crypto/random.js';
import { loadHyperDht } from '../../../src/dht/hyperdht.js';
import { Identity } from '../../../src/identity/identity.js';
import { PairSecrets } from '../../../src/node/pair-secrets.js';
import { RatchetDriver, RESET_AFTER_UNANSWERED } from '../../../src/node/ratchet-driver.js';
import { startTestnet } from '../../../src/overlay/testnet.js';
import {
  type EpochKeys,
  lookupKeys,
  type PairState,
  publishKeys,
  RATCHET_OFFER_KIND,
  RATCHET_REPLY_KIND,
} from '../../../src/privacy/index.js';
import { decodeOffer } from '../../../src/privacy/ratchet-messages.js';
import { Store } from '../../../src/store/index.js';
import { type DhtKeyPair, type Tunnel, TunnelEndpoint } from '../../../src/tunnel/index.js';

const testnet = await startTestnet({ nodes: 3 });

/** 2023-11-14 22:13:20 UTC: 1,200 s into epoch 472222 (pair states stay in one epoch). */
const START = 1_700_000_000_000;
const LIMIT = { timeout: 30_000 };
const keyPair = (): DhtKeyPair => loadHyperDht().keyPair();

// Two nodes' endpoints for the whole file; each test brings its own stores,
// drivers (closed after it) and tunnels (fresh dialling keys, closed after it).
const endpoint = () =>
  new TunnelEndpoint({ bootstrap: testnet.bootstrap, host: '127.0.0.1', accept: () => true });
const endpoints = { alice: endpoint(), bob: endpoint() };
after(async () => {
  await Promise.all([endpoints.alice.close(), endpoints.bob.close()]);
  await testnet.destroy();
});
const listenKeys = { alice: keyPair(), bob: keyPair() };
await endpoints.alice.listen(listenKeys.alice);
await endpoints.bob.listen(listenKeys.bob);

const seeds = { alice: 1, bob: 2, carol: 3 } as const;
type Name = keyof typeof seeds;
const identity = (name: Name) =>
  Identity.fromSeed(`${name}@example.org`, new Uint8Array(32).fill(seeds[name]));

/** Reply timers fired by hand. */
class FakeTimers {
  readonly #fns = new Map<number, () => void>();
  #id = 0;
  setTimeout = (fn: () => void): unknown => {
    this.#fns.set(++this.#id, fn);
    return this.#id;
  };
  clearTimeout = (handle: unknown): void => {
    this.#fns.delete(handle as number);
  };
  get armed(): number {
    return this.#fns.size;
  }
  fireAll(): void {
    for (const [id, fn] of [...this.#fns]) {
      this.#fns.delete(id);
      fn();
    }
  }
}

/** Every buffer of this class ever made: the random bytes drawn and the pending's copy (slice). */
const tracked: Uint8Array[] = [];
class Tracked extends Uint8Array {
  constructor(length: number) {
    super(length);
    tracked.push(this);
  }
}
const trackedRandom = (n: number) => {
  const b = new Tracked(n);
  b.set(randomBytes(n));
  return b;
};

interface Side {
  name: Name;
  aor: string;
  id: Identity;
  dir: string;
  store: Store;
  pairs: PairSecrets;
  /** What `aorOf` answers, per tunnel (the test plays PeerIdentities). */
  aors: Map<Tunnel, string>;
  driver: RatchetDriver;
  timers: FakeTimers;
  lines: string[];
  advanced: [string, number][];
  endpoint: TunnelEndpoint;
  listenKey: DhtKeyPair;
  /** Resolves once `pred` holds (checked now and after every log line or step). */
  until(pred: () => boolean): Promise<void>;
  state(peer: Side): PairState;
}

interface DriverOverrides {
  /** Wraps the driver's view of the pair states (to watch or fail `update`). */
  pairs?: (p: PairSecrets) => Pick<PairSecrets, 'stateFor' | 'update'>;
  minIntervalMs?: number;
  now?: () => number;
  random?: (n: number) => Uint8Array;
}

function world(t: TestContext, overrides: Partial<Record<Name, DriverOverrides>> = {}) {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-ratchet-'));
  const stores: Store[] = [];
  const tunnels: Tunnel[] = [];
  const drivers: RatchetDriver[] = [];
  t.after(async () => {
    for (const d of drivers) d.close();
    await Promise.all(tunnels.map((tn) => tn.close()));
    for (const s of stores) s.close();
    rmSync(base, { recursive: true, force: true });
  });
  const side = (name: 'alice' | 'bob'): Side => {
    const id = identity(name);
    const dir = join(base, name);
    const store = Store.open(dir, { create: true });
    stores.push(store);
    const pairs = new PairSecrets({ store, identity: id, now: () => START });
    const aors = new Map<Tunnel, string>();
    const timers = new FakeTimers();
    const waiters: { pred: () => boolean; resolve: () => void }[] = [];
    const check = () => {
      for (const w of [...waiters]) {
        if (w.pred()) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    };
    const lines: string[] = [];
    const advanced: [string, number][] = [];
    const o = overrides[name] ?? {};
    const driver = new RatchetDriver({
      endpoint: endpoints[name],
      pairs: o.pairs ? o.pairs(pairs) : pairs,
      identity: id,
      aorOf: (tn) => aors.get(tn),
      minIntervalMs: o.minIntervalMs ?? 0,
      timers,
      ...(o.now ? { now: o.now } : {}),
      ...(o.random ? { random: o.random } : {}),
      log: (level, msg) => {
        lines.push(`${level} ${msg}`);
        check();
      },
      onAdvanced: (aor, gen) => {
        advanced.push([aor, gen]);
        check();
      },
    });
    drivers.push(driver);
    return {
      name,
      aor: id.aor,
      id,
      dir,
      store,
      pairs,
      aors,
      driver,
      timers,
      lines,
      advanced,
      endpoint: endpoints[name],
      listenKey: listenKeys[name],
      until: (pred) =>
        pred() ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve })),
      state: (peer) => {
        const s = pairs.stateFor(peer.aor);
        assert.ok(s, `${name} has a pair state with ${peer.name}`);
        return s;
      },
    };
  };
  const alice = side('alice');
  const bob = side('bob');
  const carol = identity('carol');
  for (const [a, b] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    a.store.addContact({ aor: b.aor, publicKey: b.id.publicKey, source: 'card' });
    a.store.addContact({ aor: carol.aor, publicKey: carol.publicKey, source: 'card' });
  }

  /** A fresh tunnel opened by `from` to `to`, both ends identified (aorOf answers); closed after the test. */
  const link = async (from: Side, to: Side): Promise<{ out: Tunnel; in: Tunnel }> => {
    const dialling = keyPair();
    const hex = toHex(dialling.publicKey);
    const inbound = new Promise<Tunnel>((resolve) => {
      const onTunnel = (tn: Tunnel) => {
        if (tn.remoteKeyHex !== hex) return;
        to.endpoint.off('tunnel', onTunnel);
        resolve(tn);
      };
      to.endpoint.on('tunnel', onTunnel);
    });
    const out = await from.endpoint.connect(to.listenKey.publicKey, { keyPair: dialling });
    tunnels.push(out);
    const inTunnel = await inbound;
    tunnels.push(inTunnel);
    from.aors.set(out, to.aor);
    to.aors.set(inTunnel, from.aor);
    to.driver.identified(inTunnel, from.aor); // inbound: never offers
    return { out, in: inTunnel };
  };
  return { alice, bob, carol, link };
}

/** Replaces a tunnel's sendControl; `fn` decides what goes out (null: dropped). Returns the original. */
function intercept(
  tunnel: Tunnel,
  fn: (kind: number, body: Uint8Array) => Uint8Array | null,
): (kind: number, body: Uint8Array) => void {
  const original = tunnel.sendControl.bind(tunnel);
  tunnel.sendControl = (kind, body) => {
    const out = fn(kind, body);
    if (out !== null) original(kind, out);
  };
  return original;
}

/** Resolves with the next SIP frame on `tunnel` (a frame after a control frame proves it was survived). */
function nextSip(tunnel: Tunnel): Promise<string> {
  return new Promise((resolve) =>
    tunnel.once('sip', (bytes) => resolve(Buffer.from(bytes).toString())),
  );
}

const hexes = (keys: EpochKeys[]) => keys.map((k) => toHex(k.lookupKey));

/** Both sides hold the same confirmed generation `gen`: one chain, matching lookup keys both ways. */
function assertInStep(a: Side, b: Side, gen: number): PairState {
  const sa = a.state(b);
  const sb = b.state(a);
  assert.equal(sa.current.gen, gen, `${a.name}'s generation`);
  assert.equal(sb.current.gen, gen, `${b.name}'s generation`);
  assert.equal(sa.previous, null, `${a.name} keeps no previous generation`);
  assert.equal(sb.previous, null, `${b.name} keeps no previous generation`);
  assert.equal(sa.epoch, sb.epoch);
  assert.equal(sa.current.chain, sb.current.chain, 'one chain on both sides');
  assert.deepEqual(hexes(lookupKeys(sa, sa.epoch)), hexes(publishKeys(sb, sb.epoch)));
  assert.deepEqual(hexes(lookupKeys(sb, sb.epoch)), hexes(publishKeys(sa, sa.epoch)));
  return sa;
}

/** The responder finished: its stored state is `gen` with no previous one kept. */
const finished = (s: Side, peer: Side, gen: number) => () => {
  const st = s.pairs.stateFor(peer.aor);
  return st?.current.gen === gen && st.previous === null;
};
const logged = (s: Side, re: RegExp) => () => s.lines.some((l) => re.test(l));

/** Runs one exchange alice → bob on `out` and waits until both stored generation `gen`. */
async function exchange(alice: Side, bob: Side, out: Tunnel, gen: number): Promise<void> {
  alice.driver.identified(out, bob.aor);
  await alice.until(() => alice.advanced.some(([aor, g]) => aor === bob.aor && g === gen));
  await bob.until(finished(bob, alice, gen));
}

/** alice's OFFER to bob is out and bob ignores it (he has not verified her): one pending OFFER, its secret tracked. */
async function offerIgnored(t: TestContext) {
  tracked.length = 0;
  const w = world(t, { alice: { random: trackedRandom } });
  const { out, in: inbound } = await w.link(w.alice, w.bob);
  w.bob.aors.delete(inbound);
  w.alice.driver.identified(out, w.bob.aor);
  assert.equal(w.alice.driver.pendingOffers, 1);
  return { ...w, out };
}

test(
  'an exchange advances both sides to generation 1, a second one to 2; the states are durable',
  LIMIT,
  async (t) => {
    const { alice, bob, link } = world(t);
    const gen0 = alice.state(bob);
    const first = await link(alice, bob);
    await exchange(alice, bob, first.out, 1);
    const g1 = assertInStep(alice, bob, 1);
    assert.notEqual(g1.current.chain, gen0.current.chain);
    assert.equal(alice.driver.pendingOffers, 0);
    assert.deepEqual(alice.advanced, [[bob.aor, 1]]);
    // The responder reports the new generation twice: stored (unconfirmed), then confirmed.
    assert.deepEqual(bob.advanced, [
      [alice.aor, 1],
      [alice.aor, 1],
    ]);

    const second = await link(alice, bob);
    await exchange(alice, bob, second.out, 2);
    const g2 = assertInStep(alice, bob, 2);
    assert.notEqual(g2.current.chain, g1.current.chain);

    // Durable: another handle on each store reads the same states.
    for (const [s, peer] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const again = Store.open(s.dir, { create: false });
      try {
        assert.deepEqual(again.getPairState(peer.aor), s.state(peer));
      } finally {
        again.close();
      }
    }
  },
);

test(
  'commit order: each side stores before it sends; a failed store sends nothing',
  LIMIT,
  async (t) => {
    const events: string[] = [];
    let failing: Name | null = null;
    const watched =
      (name: Name) =>
      (p: PairSecrets): Pick<PairSecrets, 'stateFor' | 'update'> => ({
        stateFor: (aor) => p.stateFor(aor),
        update: (aor, state) => {
          if (failing === name) throw new Error('disk full');
          events.push(`${name} stores gen ${state.current.gen}`);
          p.update(aor, state);
        },
      });
    const { alice, bob, link } = world(t, {
      alice: { pairs: watched('alice') },
      bob: { pairs: watched('bob') },
    });
    const { out, in: inbound } = await link(alice, bob);
    const kinds = ['OFFER', 'REPLY', 'CONFIRM'];
    intercept(out, (kind, body) => {
      events.push(`alice sends ${kinds[kind - RATCHET_OFFER_KIND]}`);
      return body;
    });
    intercept(inbound, (kind, body) => {
      events.push(`bob sends ${kinds[kind - RATCHET_OFFER_KIND]}`);
      return body;
    });
    await exchange(alice, bob, out, 1);
    assert.deepEqual(events, [
      'alice sends OFFER',
      'bob stores gen 1',
      'bob sends REPLY',
      'alice stores gen 1',
      'alice sends CONFIRM',
      'bob stores gen 1',
    ]);

    events.length = 0;
    failing = 'bob';
    alice.driver.identified(out, bob.aor);
    await bob.until(
      logged(bob, /could not store the pair state with alice@example.org, REPLY not sent/),
    );
    failing = 'alice';
    alice.timers.fireAll();
    alice.driver.identified(out, bob.aor);
    await alice.until(logged(alice, /could not store .* CONFIRM not sent/));
    assert.deepEqual(events, [
      'alice sends OFFER',
      'alice sends OFFER',
      'bob stores gen 2',
      'bob sends REPLY',
    ]);
    assert.equal(alice.state(bob).current.gen, 1, 'alice stays on generation 1');
  },
);

test('crossed OFFERs on two tunnels converge on one generation', LIMIT, async (t) => {
  const { alice, bob, link } = world(t);
  const ab = await link(alice, bob);
  const ba = await link(bob, alice);
  const aliceWins = Buffer.compare(alice.id.publicKey, bob.id.publicKey) < 0;
  const [winner, loser] = aliceWins ? [alice, bob] : [bob, alice];
  alice.driver.identified(ab.out, bob.aor);
  bob.driver.identified(ba.out, alice.aor);
  assert.equal(alice.driver.pendingOffers, 1);
  assert.equal(bob.driver.pendingOffers, 1);
  await winner.until(logged(winner, /crossed OFFERs .*ours stands/));
  await loser.until(finished(loser, winner, 1));
  assertInStep(alice, bob, 1);
  assert.ok(loser.lines.some((l) => /crossed OFFERs .*theirs wins, ours dropped/.test(l)));
  assert.equal(alice.driver.pendingOffers, 0);
  assert.equal(bob.driver.pendingOffers, 0);
});

test('a crossed OFFER that arrives after the exchange completed is ignored', LIMIT, async (t) => {
  const { alice, bob, link } = world(t);
  const aliceWins = Buffer.compare(alice.id.publicKey, bob.id.publicKey) < 0;
  const [winner, loser] = aliceWins ? [alice, bob] : [bob, alice];
  const wl = await link(winner, loser);
  const lw = await link(loser, winner);
  let held: Uint8Array | null = null;
  const send = intercept(lw.out, (kind, body) => {
    if (kind !== RATCHET_OFFER_KIND) return body;
    held = body; // the loser's OFFER is slow
    return null;
  });
  loser.driver.identified(lw.out, winner.aor);
  winner.driver.identified(wl.out, loser.aor);
  await loser.until(finished(loser, winner, 1));
  assertInStep(alice, bob, 1);
  assert.ok(held, 'the loser offered');
  send(RATCHET_OFFER_KIND, held);
  await winner.until(logged(winner, /crossed OFFER came after our exchange: ignored/));
  // Answering it would have built a generation on 0 and left the loser behind.
  assertInStep(alice, bob, 1);
  assert.equal(winner.advanced.length, 1);
});

test(
  'a lost REPLY: both still find each other, and the next exchange brings them in step',
  LIMIT,
  async (t) => {
    const { alice, bob, link } = world(t);
    const { out, in: inbound } = await link(alice, bob);
    const send = intercept(inbound, (kind, body) => (kind === RATCHET_REPLY_KIND ? null : body));
    alice.driver.identified(out, bob.aor);
    await bob.until(() => bob.advanced.length === 1);
    assert.equal(alice.driver.pendingOffers, 1);
    alice.timers.fireAll(); // no REPLY within the timeout
    assert.equal(alice.driver.pendingOffers, 0);
    assert.ok(alice.lines.some((l) => /no REPLY from bob@example.org/.test(l)));

    const sa = alice.state(bob);
    const sb = bob.state(alice);
    assert.equal(sa.current.gen, 0);
    assert.equal(sb.current.gen, 1);
    assert.equal(sb.previous?.gen, 0, 'bob keeps generation 0 until alice confirms');
    const meets = (pub: EpochKeys[], look: EpochKeys[]) =>
      hexes(pub).some((k) => hexes(look).includes(k));
    assert.ok(meets(publishKeys(sa, sa.epoch), lookupKeys(sb, sb.epoch)), 'bob finds alice');
    assert.ok(meets(publishKeys(sb, sb.epoch), lookupKeys(sa, sa.epoch)), 'alice finds bob');

    inbound.sendControl = send;
    alice.driver.identified(out, bob.aor);
    await alice.until(() => alice.advanced.length === 1);
    await bob.until(finished(bob, alice, 1));
    const after = assertInStep(alice, bob, 1);
    assert.notEqual(after.current.chain, sb.current.chain, 'a new generation 1, built on 0 again');
  },
);

test(
  'an unidentified peer or a non-contact is ignored and the tunnel stays open',
  LIMIT,
  async (t) => {
    const { alice, bob, link } = world(t);
    const { out, in: inbound } = await link(alice, bob);
    const gen0 = alice.state(bob);

    bob.aors.delete(inbound); // bob has not verified alice's IDENTITY
    alice.driver.identified(out, bob.aor);
    await bob.until(logged(bob, /OFFER from a peer that has not identified itself: ignored/));
    const sip1 = nextSip(inbound);
    out.sendSip(new TextEncoder().encode('after the OFFER'));
    assert.equal(await sip1, 'after the OFFER');
    alice.timers.fireAll();

    bob.aors.set(inbound, 'dave@example.org'); // identified, but not bob's contact
    alice.driver.identified(out, bob.aor);
    await bob.until(logged(bob, /dave@example.org is not a contact: ignored/));
    const sip2 = nextSip(inbound);
    out.sendSip(new TextEncoder().encode('still open'));
    assert.equal(await sip2, 'still open');

    assert.ok(out.isOpen && inbound.isOpen);
    assert.equal(bob.store.getPairState(alice.aor), undefined, 'bob created no state');
    assert.deepEqual(alice.state(bob), gen0);
    assert.deepEqual(bob.advanced, []);
  },
);

test('a tampered OFFER is refused: nothing sent, no state changed', LIMIT, async (t) => {
  const { alice, bob, link } = world(t);
  const { out, in: inbound } = await link(alice, bob);
  const before = bob.state(alice);
  let replies = 0;
  intercept(inbound, (kind, body) => {
    if (kind === RATCHET_REPLY_KIND) replies++;
    return body;
  });
  intercept(out, (kind, body) => {
    if (kind !== RATCHET_OFFER_KIND) return body;
    const bad = body.slice();
    bad[bad.length - 1]! ^= 1; // the last tag byte
    return bad;
  });
  alice.driver.identified(out, bob.aor);
  await bob.until(
    logged(bob, /OFFER from alice@example.org refused, nothing sent: PRIVACY_MESSAGE_AUTH/),
  );
  const sip = nextSip(inbound);
  out.sendSip(new TextEncoder().encode('after the bad OFFER'));
  await sip;
  assert.equal(replies, 0);
  assert.deepEqual(bob.store.getPairState(alice.aor), before);
  assert.deepEqual(bob.advanced, []);
  assert.equal(alice.driver.pendingOffers, 1, 'alice waits for a REPLY that will not come');
});

test('a message on a tunnel whose peer is another contact touches no state', LIMIT, async (t) => {
  const { alice, bob, carol, link } = world(t);
  const { out, in: inbound } = await link(alice, bob);
  const bobWithCarol = bob.pairs.stateFor(carol.aor);
  const bobWithAlice = bob.state(alice);
  const aliceWithCarol = alice.pairs.stateFor(carol.aor);
  const aliceWithBob = alice.state(bob);

  // bob takes the tunnel's peer for carol: alice's OFFER does not verify under carol's pair.
  bob.aors.set(inbound, carol.aor);
  alice.driver.identified(out, bob.aor);
  await bob.until(
    logged(bob, /OFFER from carol@example.org refused, nothing sent: PRIVACY_MESSAGE_AUTH/),
  );
  assert.deepEqual(bob.store.getPairState(carol.aor), bobWithCarol);
  assert.deepEqual(bob.store.getPairState(alice.aor), bobWithAlice);
  alice.timers.fireAll();

  // alice takes the tunnel's peer for carol once her OFFER to bob is out: bob's REPLY answers nothing.
  bob.aors.set(inbound, alice.aor);
  alice.driver.identified(out, bob.aor);
  alice.aors.set(out, carol.aor);
  await alice.until(logged(alice, /REPLY from carol@example.org answers no OFFER of ours/));
  assert.deepEqual(alice.store.getPairState(carol.aor), aliceWithCarol);
  assert.deepEqual(alice.store.getPairState(bob.aor), aliceWithBob);
  assert.deepEqual(alice.advanced, []);
});

test(
  'a reply timeout wipes the pending OFFER; after two unanswered the next OFFER resets',
  LIMIT,
  async (t) => {
    tracked.length = 0;
    const { alice, bob, link } = world(t, { alice: { random: trackedRandom } });
    const first = await link(alice, bob);
    await exchange(alice, bob, first.out, 1);
    const g1 = assertInStep(alice, bob, 1);

    const { out, in: inbound } = await link(alice, bob);
    const gens: number[][] = [];
    intercept(out, (kind, body) => {
      if (kind === RATCHET_OFFER_KIND) gens.push(decodeOffer(body).gens);
      return body;
    });
    bob.aors.delete(inbound); // bob ignores alice's OFFERs
    for (let i = 1; i <= RESET_AFTER_UNANSWERED; i++) {
      tracked.length = 0;
      alice.driver.identified(out, bob.aor);
      assert.equal(alice.driver.pendingOffers, 1);
      assert.equal(tracked.length, 2, 'the random bytes drawn and the pending copy');
      assert.ok(
        tracked[1]!.some((b) => b !== 0),
        'the pending holds an ephemeral secret',
      );
      assert.ok(
        tracked[0]!.every((b) => b === 0),
        'the drawn bytes are wiped at once',
      );
      await bob.until(() => bob.lines.filter((l) => /not identified itself/.test(l)).length === i);
      alice.timers.fireAll();
      assert.equal(alice.driver.pendingOffers, 0);
      assert.ok(
        tracked[1]!.every((b) => b === 0),
        'the timeout wiped the ephemeral secret',
      );
    }
    assert.ok(alice.lines.some((l) => /the next OFFER is a reset/.test(l)));

    bob.aors.set(inbound, alice.aor);
    alice.driver.identified(out, bob.aor);
    await alice.until(() => alice.advanced.length === 2);
    await bob.until(() => bob.advanced.length === 4); // accepted, then confirmed
    assert.deepEqual(gens, [[1, 0], [1, 0], [0]], 'the third OFFER names generation 0 only');
    const reset = assertInStep(alice, bob, 1);
    assert.notEqual(reset.current.chain, g1.current.chain);

    // Success clears the count: the next OFFER names the current generation again.
    alice.driver.identified(out, bob.aor);
    await bob.until(finished(bob, alice, 2));
    assert.deepEqual(gens.at(-1), [1, 0]);
  },
);

test(
  'a tunnel that closes wipes the pending OFFER and does not count as unanswered',
  LIMIT,
  async (t) => {
    const { alice, out } = await offerIgnored(t);
    assert.equal(alice.timers.armed, 1);
    await out.close();
    assert.equal(alice.driver.pendingOffers, 0);
    assert.equal(alice.timers.armed, 0, 'its timer is gone too');
    assert.ok(tracked.every((b) => b.every((x) => x === 0)));
    assert.ok(!alice.lines.some((l) => /no REPLY/.test(l)));
  },
);

test(
  'offers only on outbound tunnels, to contacts, once per minimum interval',
  LIMIT,
  async (t) => {
    const clock = { ms: 5_000_000 };
    const { alice, bob, carol, link } = world(t, {
      alice: { minIntervalMs: 60_000, now: () => clock.ms },
      bob: { minIntervalMs: 60_000, now: () => clock.ms },
    });
    const { out, in: inbound } = await link(alice, bob);
    const offers = { alice: 0, bob: 0 };
    intercept(out, (kind, body) => {
      if (kind === RATCHET_OFFER_KIND) offers.alice++;
      return body;
    });
    intercept(inbound, (kind, body) => {
      if (kind === RATCHET_OFFER_KIND) offers.bob++;
      return body;
    });
    bob.driver.identified(inbound, alice.aor); // inbound: bob does not offer
    alice.aors.set(out, 'dave@example.org');
    alice.driver.identified(out, 'dave@example.org'); // not a contact
    alice.aors.set(out, carol.aor);
    alice.driver.identified(out, bob.aor); // the tunnel's peer is not bob
    assert.deepEqual(offers, { alice: 0, bob: 0 });
    alice.aors.set(out, bob.aor);

    await exchange(alice, bob, out, 1);
    assert.equal(offers.alice, 1);
    clock.ms += 59_999;
    alice.driver.identified(out, bob.aor);
    assert.equal(offers.alice, 1, 'within the interval: no OFFER');
    clock.ms += 1;
    await exchange(alice, bob, out, 2);
    assert.equal(offers.alice, 2);
    assert.equal(offers.bob, 0);
  },
);

test(
  'close() removes the handlers and wipes pending OFFERs; a closed driver offers nothing',
  LIMIT,
  async (t) => {
    const { alice, bob, out } = await offerIgnored(t);
    alice.driver.close();
    assert.equal(alice.driver.pendingOffers, 0);
    assert.equal(alice.timers.armed, 0);
    assert.ok(tracked.every((b) => b.every((x) => x === 0)));
    let sent = 0;
    intercept(out, (_kind, body) => {
      sent++;
      return body;
    });
    alice.driver.identified(out, bob.aor);
    assert.equal(sent, 0);
    // The kinds are free again: registering them would throw while a driver held them.
    for (const kind of [0x11, 0x12, 0x13]) {
      const off = endpoints.alice.onControl(kind, () => {});
      off();
    }
    assert.throws(() => endpoints.bob.onControl(0x11, () => {}), /already has a handler/);
  },
);
