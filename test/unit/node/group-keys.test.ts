/**
 * Group keys (issue 4 part 3): GroupKeys distributes one key per contact
 * group through tunnels (GROUP_KEY 0x14 / GROUP_ACK 0x15), SecretPublisher
 * publishes one record per group and epoch for the members that acked, and
 * SecretResolver tries a friend's group records before the pair records.
 *
 * Two kinds of tunnels: real ones (two TunnelEndpoints on a loopback
 * HyperDHT testnet) where "a handler never throws" matters — a throw would
 * close the tunnel — and in-process fake tunnels (a queue drained by
 * `settle()`, no timers) for the publishing tests with many members. Records
 * live in the memory backend with an injected clock; stores are real SQLite
 * files in a temp dir.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/crypto/bytes.js';
import { loadHyperDht } from '../../../src/dht/hyperdht.js';
import { Identity } from '../../../src/identity/identity.js';
import {
  decodeGroupAck,
  decodeGroupKey,
  encodeGroupAck,
  encodeGroupKey,
  GROUP_ACK_KIND,
  GROUP_KEY_KIND,
  GROUP_OUT_PREFIX,
  GroupKeys,
  MAX_GROUP_KEYS_PER_PUBLISHER,
  type OutgoingGroupKey,
} from '../../../src/node/group-keys.js';
import { PairSecrets } from '../../../src/node/pair-secrets.js';
import { KvSecretSeqs, SecretPublisher } from '../../../src/node/secret-publisher.js';
import { SecretResolver } from '../../../src/node/secret-resolver.js';
import {
  MemoryNetwork,
  MemorySecretRecords,
  PkOpTally,
  type SecretRecordService,
  startTestnet,
} from '../../../src/overlay/index.js';
import { encodePackage } from '../../../src/package/encode.js';
import {
  epochOf,
  groupEpochKeys,
  openRecord,
  PrivacyError,
  sealRecord,
} from '../../../src/privacy/index.js';
import { Store } from '../../../src/store/index.js';
import { type DhtKeyPair, type Tunnel, TunnelEndpoint } from '../../../src/tunnel/index.js';

const HOUR = 3600_000;
/** 2023-11-14 22:13:20 UTC: 1,200 s into epoch 472222. */
const START = 1_700_000_000_000;
const EPOCH = epochOf(START / 1000);
const LIMIT = { timeout: 30_000 };

// ---- fake tunnels ------------------------------------------------------------------

/** Frames in flight between fake tunnels, delivered by settle(). */
const inFlight: (() => void)[] = [];
/** Delivers every frame in flight, and those the handlers send in turn (bounded). */
function settle(): void {
  for (let i = 0; i < 100_000 && inFlight.length > 0; i++) inFlight.shift()!();
  assert.equal(inFlight.length, 0, 'frames still in flight');
}

/** Stands in for TunnelEndpoint.onControl. */
class FakeEndpoint {
  readonly handlers = new Map<number, (body: Uint8Array, t: Tunnel) => void>();
  onControl(kind: number, handler: (body: Uint8Array, t: Tunnel) => void): () => void {
    if (this.handlers.has(kind)) throw new RangeError(`kind ${kind} already handled`);
    this.handlers.set(kind, handler);
    return () => this.handlers.delete(kind);
  }
}

/** One end of an in-process tunnel: like a real one, a frame no handler takes or a throwing handler closes it. */
class FakeTunnel extends EventEmitter {
  isOpen = true;
  peer!: FakeTunnel;
  /** Every control frame this end sent. */
  readonly sent: { kind: number; body: Uint8Array }[] = [];
  constructor(readonly endpoint: FakeEndpoint) {
    super();
  }
  sendControl(kind: number, body: Uint8Array): void {
    if (!this.isOpen) throw new Error('closed');
    this.sent.push({ kind, body: body.slice() });
    const copy = body.slice();
    inFlight.push(() => this.peer.deliver(kind, copy));
  }
  deliver(kind: number, body: Uint8Array): void {
    if (!this.isOpen) return;
    const handler = this.endpoint.handlers.get(kind);
    try {
      if (!handler) throw new Error(`unknown control kind ${kind}`);
      handler(body, this as unknown as Tunnel);
    } catch {
      this.close();
    }
  }
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.emit('close');
    this.peer.close();
  }
}

/** Someone with an endpoint and a view of who is at the other end of each tunnel. */
interface Peer {
  aor: string;
  endpoint: FakeEndpoint;
  aors: Map<Tunnel, string>;
}

/** A fake tunnel between a and b, both ends identified. Returns [a's end, b's end]. */
function link(a: Peer, b: Peer): [Tunnel, Tunnel] {
  const ta = new FakeTunnel(a.endpoint);
  const tb = new FakeTunnel(b.endpoint);
  ta.peer = tb;
  tb.peer = ta;
  a.aors.set(ta as unknown as Tunnel, b.aor);
  b.aors.set(tb as unknown as Tunnel, a.aor);
  return [ta as unknown as Tunnel, tb as unknown as Tunnel];
}
const fake = (t: Tunnel) => t as unknown as FakeTunnel;
const framesOf = (t: Tunnel, kind: number) => fake(t).sent.filter((f) => f.kind === kind);

/** A member that acks every key it is sent and keeps nothing (for groups of 100). */
function bareMember(aor: string): Peer {
  const peer: Peer = { aor, endpoint: new FakeEndpoint(), aors: new Map() };
  peer.endpoint.onControl(GROUP_KEY_KIND, (body, t) =>
    t.sendControl(GROUP_ACK_KIND, encodeGroupAck(decodeGroupKey(body).id)),
  );
  return peer;
}

// ---- nodes ---------------------------------------------------------------------------

interface Node extends Peer {
  identity: Identity;
  store: Store;
  pairs: PairSecrets;
  groups: GroupKeys;
  publisher: SecretPublisher;
  resolver: SecretResolver;
  /** The same resolver without group keys (pair records only). */
  pairResolver: SecretResolver;
  tunnelKey: Uint8Array;
  lines: string[];
  changes: number;
  puts: number;
  pkg(online?: boolean): Uint8Array;
}

const seedOf = (n: number) => {
  const s = new Uint8Array(32).fill(n % 256);
  s[0] = Math.floor(n / 256);
  return s;
};

function world(t: TestContext) {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-groups-'));
  const stores: Store[] = [];
  const closers: (() => void)[] = [];
  t.after(() => {
    for (const c of closers) c();
    for (const s of stores) s.close();
    rmSync(base, { recursive: true, force: true });
    inFlight.length = 0;
  });
  const clock = { ms: START };
  const now = () => clock.ms;
  const network = new MemoryNetwork({ clock: { now, setTimeout: () => ({ cancel() {} }) } });
  let packageSeq = 0;

  const node = (
    aor: string,
    n: number,
    opts: {
      pkOps?: PkOpTally;
      endpoint?: Pick<TunnelEndpoint, 'onControl'>;
      epochSeconds?: number;
    } = {},
  ): Node => {
    const identity = Identity.fromSeed(aor, seedOf(n));
    const store = Store.open(join(base, aor));
    stores.push(store);
    store.setIdentity({ aor, seed: seedOf(n), publicKey: identity.publicKey });
    const pairs = new PairSecrets({
      store,
      identity,
      now,
      ...(opts.epochSeconds ? { epochSeconds: opts.epochSeconds } : {}),
      ...(opts.pkOps ? { pkOps: opts.pkOps } : {}),
    });
    const memory = new MemorySecretRecords(network, opts.pkOps ? { pkOps: opts.pkOps } : {});
    const endpoint = new FakeEndpoint();
    const aors = new Map<Tunnel, string>();
    const lines: string[] = [];
    const self = { aor, endpoint, aors, lines, changes: 0, puts: 0 } as Node;
    const records: SecretRecordService = {
      name: 'counting',
      addressOf: (seed) => memory.addressOf(seed),
      putSecret: (seed, value, o) => {
        self.puts++;
        return memory.putSecret(seed, value, o);
      },
      getSecret: (ref, o) => memory.getSecret(ref, o),
      close: () => memory.close(),
    };
    const groups = new GroupKeys({
      store,
      endpoint: opts.endpoint ?? endpoint,
      aorOf: (tn) => aors.get(tn),
      epochSeconds: pairs.epochSeconds,
      now,
      onChange: () => self.changes++,
      log: (level, msg) => lines.push(`${level} ${msg}`),
    });
    closers.push(() => groups.close());
    const tunnelKey = new Uint8Array(32).fill(100 + (n % 100));
    Object.assign(self, {
      identity,
      store,
      pairs,
      groups,
      tunnelKey,
      publisher: new SecretPublisher({
        records,
        pairs,
        friends: () => store.listContacts().map((c) => c.aor),
        groups: () => groups.publishable(),
        seqs: new KvSecretSeqs(store),
      }),
      resolver: new SecretResolver({
        records,
        pairs,
        seen: store,
        now,
        groupKeysOf: (a) => groups.groupKeysOf(a),
      }),
      pairResolver: new SecretResolver({ records, pairs, now }),
      pkg(online = true) {
        const created = Math.floor(now() / 1000);
        return encodePackage(
          {
            seq: ++packageSeq,
            created,
            expires: created + 3600,
            contacts: online ? [{ transport: 'hyperdht', key: tunnelKey }] : [],
          },
          identity,
        );
      },
    });
    return self;
  };
  const befriend = (a: Node, b: Node) => {
    a.store.addContact({ aor: b.aor, publicKey: b.identity.publicKey, source: 'card' });
    b.store.addContact({ aor: a.aor, publicKey: a.identity.publicKey, source: 'card' });
  };
  const group = (owner: Node, name: string, members: { aor: string }[]) => {
    owner.store.createGroup(name);
    owner.store.addGroupMembers(
      name,
      members.map((m) => m.aor),
    );
  };
  return { clock, network, node, befriend, group };
}

const outKeys = (s: Store): OutgoingGroupKey[] =>
  s.listKv(GROUP_OUT_PREFIX).map((e) => JSON.parse(e.value) as OutgoingGroupKey);

/** alice with a group 'family' of bob and dave, carol a contact outside it; all friends of alice. */
function family(t: TestContext) {
  const w = world(t);
  const alice = w.node('alice@example.org', 1);
  const bob = w.node('bob@example.org', 2);
  const carol = w.node('carol@example.org', 3);
  const dave = w.node('dave@example.org', 4);
  for (const f of [bob, carol, dave]) w.befriend(alice, f);
  w.group(alice, 'family', [bob, dave]);
  return { w, alice, bob, carol, dave };
}

/** Opens a tunnel alice → member, identifies both ends and lets the key and ack travel. */
function handOver(publisher: Node, member: Peer): [Tunnel, Tunnel] {
  const ends = link(publisher, member);
  publisher.groups.identified(ends[0], member.aor);
  settle();
  return ends;
}

// ---- messages ------------------------------------------------------------------------

test('GROUP_KEY and GROUP_ACK byte for byte; malformed bodies are PRIVACY_MESSAGE_MALFORMED', () => {
  const id = new Uint8Array(16).fill(0x01);
  const key = new Uint8Array(32).fill(0x02);
  assert.equal(
    toHex(encodeGroupKey({ id, key, epochSeconds: 3600 })),
    `01${'01'.repeat(16)}${'02'.repeat(32)}00000e10`,
  );
  assert.equal(toHex(encodeGroupAck(id)), `01${'01'.repeat(16)}`);
  const malformed = (fn: () => unknown) =>
    assert.throws(fn, (e) => e instanceof PrivacyError && e.code === 'PRIVACY_MESSAGE_MALFORMED');
  const good = encodeGroupKey({ id, key, epochSeconds: 3600 });
  malformed(() => decodeGroupKey(good.subarray(0, 52)));
  malformed(() => decodeGroupKey(Uint8Array.of(2, ...good.subarray(1))));
  malformed(() => decodeGroupKey(Uint8Array.of(...good.subarray(0, 49), 0, 0, 0, 0)));
  malformed(() => decodeGroupAck(new Uint8Array(18)));
  malformed(() => decodeGroupAck(Uint8Array.of(0, ...id)));
});

test('property: decode ∘ encode is the identity; any other body decodes or throws PrivacyError only', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      (id, key, epochSeconds) => {
        assert.deepEqual(decodeGroupKey(encodeGroupKey({ id, key, epochSeconds })), {
          id,
          key,
          epochSeconds,
        });
        assert.deepEqual(decodeGroupAck(encodeGroupAck(id)), id);
      },
    ),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70 }), (body) => {
      for (const decode of [decodeGroupKey, decodeGroupAck]) {
        try {
          decode(body);
        } catch (e) {
          assert.ok(e instanceof PrivacyError, String(e));
        }
      }
    }),
  );
});

// ---- publisher side: keys, rotation ----------------------------------------------------

test('distribution over fake tunnels: key sent once to each member, ack recorded durably, the member stores it', (t) => {
  const { alice, bob, carol } = family(t);
  const [toBob] = handOver(alice, bob);
  const [out] = outKeys(alice.store);
  assert.ok(out);
  assert.equal(out.name, 'family');
  assert.deepEqual(Object.keys(out.members).sort(), ['bob@example.org', 'dave@example.org']);
  assert.deepEqual(out.acked, ['bob@example.org']);
  assert.equal(alice.changes, 1);
  // bob holds alice's key; nobody else's.
  assert.deepEqual(bob.groups.groupKeysOf('alice@example.org').map(toHex), [out.key]);
  assert.deepEqual(bob.groups.groupKeysOf('carol@example.org'), []);
  // The message carried exactly that id and key and our epoch length.
  const [frame] = framesOf(toBob, GROUP_KEY_KIND);
  assert.deepEqual(decodeGroupKey(frame!.body), {
    id: fromHex(out.id),
    key: fromHex(out.key),
    epochSeconds: 3600,
  });
  // A second tunnel to bob carries the key again, once (a member that lost
  // its keys gets them back); carol (no member) gets none.
  const [again] = handOver(alice, bob);
  assert.equal(framesOf(again, GROUP_KEY_KIND).length, 1);
  const [toCarol] = handOver(alice, carol);
  assert.equal(framesOf(toCarol, GROUP_KEY_KIND).length, 0);
  assert.deepEqual(alice.groups.groupsFor('bob@example.org'), [{ name: 'family', acked: true }]);
  assert.deepEqual(alice.groups.groupsFor('dave@example.org'), [{ name: 'family', acked: false }]);
  assert.deepEqual(alice.groups.groupsFor('carol@example.org'), []);
  // Durable: a new service on the same store publishes the same key for bob.
  const fresh = new GroupKeys({
    store: alice.store,
    endpoint: new FakeEndpoint(),
    aorOf: () => undefined,
    epochSeconds: 3600,
  });
  t.after(() => fresh.close());
  assert.deepEqual(
    fresh.publishable().map((g) => ({ id: g.id, key: toHex(g.key), members: g.members })),
    [{ id: out.id, key: out.key, members: ['bob@example.org'] }],
  );
});

test('removing a member: new key (pushed to the remaining members on open tunnels), old record a decoy, the removed member reads nothing new', async (t) => {
  const { w, alice, bob, dave } = family(t);
  const [toBob] = handOver(alice, bob);
  const [toDave] = handOver(alice, dave);
  const [old] = outKeys(alice.store);
  assert.deepEqual(old!.acked, ['bob@example.org', 'dave@example.org']);
  const first = await alice.publisher.publish(alice.pkg());
  assert.deepEqual(
    {
      groups: first.groups,
      grouped: first.grouped,
      friends: first.friends,
      records: first.records,
    },
    { groups: 1, grouped: 2, friends: 1, records: 2 }, // the group record + carol's pair record
  );

  alice.store.removeGroupMembers('family', ['dave@example.org']);
  const changesBefore = alice.changes;
  const sync = alice.groups.sync();
  assert.deepEqual(sync.rotated, ['family']);
  assert.ok(alice.changes > changesBefore, 'onChange fired');
  settle(); // the new key went to bob on his open tunnel, and his ack came back
  const [now] = outKeys(alice.store);
  assert.notEqual(now!.id, old!.id);
  assert.notEqual(now!.key, old!.key);
  assert.deepEqual(Object.keys(now!.members), ['bob@example.org']);
  assert.deepEqual(now!.acked, ['bob@example.org']);
  assert.equal(framesOf(toBob, GROUP_KEY_KIND).length, 2);
  assert.equal(framesOf(toDave, GROUP_KEY_KIND).length, 1, 'dave got only the old key');
  assert.deepEqual(
    bob.groups.groupKeysOf('alice@example.org').map(toHex),
    [now!.key, old!.key],
    'newest first',
  );

  const second = await alice.publisher.refresh();
  assert.equal(second?.retired, 1);
  assert.deepEqual(
    { groups: second?.groups, grouped: second?.grouped, friends: second?.friends },
    { groups: 1, grouped: 1, friends: 2 }, // bob by the group; carol and dave by pair records
  );
  const oldKeys = groupEpochKeys(fromHex(old!.key), EPOCH);
  const newKeys = groupEpochKeys(fromHex(now!.key), EPOCH);
  const records = new MemorySecretRecords(w.network);
  // The old group's record is now a decoy no key opens; the new one opens with the new key only.
  const decoy = await records.getSecret({ seed: oldKeys.recordSeed });
  assert.ok(decoy);
  assert.throws(() => openRecord(decoy.value, oldKeys.recordKey), /record/);
  const fresh = await records.getSecret({ seed: newKeys.recordSeed });
  assert.ok(fresh);
  assert.ok(openRecord(fresh.value, newKeys.recordKey).length > 0);
  assert.throws(
    () => openRecord(fresh.value, oldKeys.recordKey),
    (e) => e instanceof PrivacyError,
  );
  // dave (still a contact) finds alice through his pair record; bob through the new group record.
  const viaDave = await dave.resolver.resolve('alice@example.org');
  assert.equal(viaDave.ok && viaDave.group, undefined);
  assert.equal(viaDave.ok && viaDave.peerKey, toHex(alice.tunnelKey));
  const viaBob = await bob.resolver.resolve('alice@example.org');
  assert.equal(viaBob.ok && viaBob.group, true);
  // Next epoch: nothing at all under the old key.
  w.clock.ms += HOUR;
  await alice.publisher.refresh();
  const next = groupEpochKeys(fromHex(old!.key), EPOCH + 1);
  assert.equal(await records.getSecret({ seed: next.recordSeed }), undefined);
  const viaBobNext = await bob.resolver.resolve('alice@example.org');
  assert.equal(viaBobNext.ok && viaBobNext.group, true);
  assert.equal(viaBobNext.ok && viaBobNext.epoch, EPOCH + 1);
});

test('deleting a contact or re-pinning its key also replaces the key; a new member keeps it; deleting the group drops it and retires its record', async (t) => {
  const { alice, bob, carol, dave } = family(t);
  handOver(alice, bob);
  const id0 = outKeys(alice.store)[0]!.id;
  alice.store.addGroupMembers('family', ['carol@example.org']);
  assert.deepEqual(alice.groups.sync().grown, ['family']);
  assert.equal(outKeys(alice.store)[0]!.id, id0, 'a new member gets the same key');
  assert.deepEqual(outKeys(alice.store)[0]!.acked, ['bob@example.org']);

  alice.store.updateContact('dave@example.org', { publicKey: carol.identity.publicKey });
  assert.deepEqual(alice.groups.sync().rotated, ['family']);
  const id1 = outKeys(alice.store)[0]!.id;
  assert.notEqual(id1, id0);
  alice.store.updateContact('dave@example.org', { publicKey: dave.identity.publicKey });
  alice.groups.sync();
  alice.store.deleteContact('carol@example.org');
  assert.deepEqual(alice.groups.sync().rotated, ['family']);
  assert.deepEqual(Object.keys(outKeys(alice.store)[0]!.members).sort(), [
    'bob@example.org',
    'dave@example.org',
  ]);

  handOver(alice, bob);
  const report = await alice.publisher.publish(alice.pkg());
  assert.equal(report.groups, 1);
  alice.store.deleteGroup('family');
  const sync = alice.groups.sync();
  assert.equal(sync.dropped, 1);
  assert.deepEqual(outKeys(alice.store), []);
  const after = await alice.publisher.refresh();
  assert.deepEqual({ groups: after?.groups, retired: after?.retired }, { groups: 0, retired: 1 });
  const r = await bob.resolver.resolve('alice@example.org');
  assert.equal(r.ok && r.group, undefined, 'bob is back on his pair record');
});

test('a member removed before it ever connected never gets a key, even before anything synced', (t) => {
  const { alice, dave } = family(t);
  alice.groups.sync(); // the first key, made for bob and dave
  const first = outKeys(alice.store)[0]!;
  alice.store.removeGroupMembers('family', ['dave@example.org']);
  const [toDave] = handOver(alice, dave);
  assert.equal(framesOf(toDave, GROUP_KEY_KIND).length, 0);
  assert.notEqual(outKeys(alice.store)[0]!.id, first.id, 'identified() synced: a new key');
  assert.deepEqual(dave.groups.groupKeysOf('alice@example.org'), []);
});

// ---- publishing: one record for N members, refresh cost -----------------------------

test('one group of 100 acked members: 1 record per epoch instead of 100; a refresh does 0 PK ops', async (t) => {
  const w = world(t);
  const pkOps = new PkOpTally();
  const alice = w.node('alice@example.org', 1, { pkOps });
  const members: Peer[] = [];
  for (let i = 0; i < 100; i++) {
    const aor = `m${i}@example.org`;
    const id = Identity.fromSeed(aor, seedOf(1000 + i));
    alice.store.addContact({ aor, publicKey: id.publicKey, source: 'card' });
    members.push(bareMember(aor));
  }
  w.group(alice, 'club', members);

  // Before any ack: per-friend records, one per member.
  const before = await alice.publisher.publish(alice.pkg());
  assert.deepEqual(
    { records: before.records, groups: before.groups, friends: before.friends },
    { records: 100, groups: 0, friends: 100 },
  );
  assert.equal(alice.puts, 100);

  for (const m of members) handOver(alice, m);
  assert.equal(outKeys(alice.store)[0]!.acked.length, 100);
  assert.equal(alice.changes, 100);

  pkOps.reset();
  alice.puts = 0;
  const grouped = await alice.publisher.refresh();
  assert.deepEqual(
    {
      records: grouped?.records,
      sealed: grouped?.sealed,
      groups: grouped?.groups,
      grouped: grouped?.grouped,
      friends: grouped?.friends,
    },
    { records: 1, sealed: 1, groups: 1, grouped: 100, friends: 0 },
  );
  assert.equal(alice.puts, 1);
  // One key generation for the group's record seed; no pair work at all.
  assert.deepEqual(pkOps.counts, { keygen: 1, sign: 0, verify: 0, x25519: 0 });

  pkOps.reset();
  alice.puts = 0;
  w.clock.ms += 10 * 60_000;
  const refresh = await alice.publisher.refresh();
  assert.deepEqual(
    { records: refresh?.records, sealed: refresh?.sealed, refreshed: refresh?.refreshed },
    { records: 1, sealed: 0, refreshed: 1 },
  );
  assert.equal(alice.puts, 1);
  assert.equal(pkOps.total, 0);

  // Next epoch: one new record (one key generation), still not 100.
  pkOps.reset();
  alice.puts = 0;
  w.clock.ms += HOUR;
  const next = await alice.publisher.refresh();
  assert.deepEqual({ records: next?.records, sealed: next?.sealed }, { records: 1, sealed: 1 });
  assert.deepEqual(pkOps.counts, { keygen: 1, sign: 0, verify: 0, x25519: 0 });
});

// ---- lookup ----------------------------------------------------------------------------

test('a member finds the publisher through the group record; a non-member contact through its pair record', async (t) => {
  const { alice, bob, carol } = family(t);
  handOver(alice, bob);
  const report = await alice.publisher.publish(alice.pkg());
  // bob by the group record; carol and dave (no ack yet) by pair records.
  assert.deepEqual(
    { records: report.records, groups: report.groups, friends: report.friends },
    { records: 3, groups: 1, friends: 2 },
  );
  const viaGroup = await bob.resolver.resolve('alice@example.org');
  assert.deepEqual(viaGroup, {
    ok: true,
    peerKey: toHex(alice.tunnelKey),
    aor: 'alice@example.org',
    epoch: EPOCH,
    generation: 0,
    group: true,
  });
  // There is no per-friend record for bob: his pair records alone find nothing.
  const pairOnly = await bob.pairResolver.resolve('alice@example.org');
  assert.equal(!pairOnly.ok && pairOnly.code, 'RECORD_NOT_FOUND');
  const viaPair = await carol.resolver.resolve('alice@example.org');
  assert.deepEqual(viaPair, {
    ok: true,
    peerKey: toHex(alice.tunnelKey),
    aor: 'alice@example.org',
    epoch: EPOCH,
    generation: 0,
  });
  // Offline: the group record says so too (same size, NO_SOFTPHONE).
  await alice.publisher.publish(alice.pkg(false));
  const offline = await bob.resolver.resolve('alice@example.org');
  assert.equal(!offline.ok && offline.code, 'NO_SOFTPHONE');
});

test('a member who overwrites the group record with his own package: the others get PACKAGE_INVALID, never his node', async (t) => {
  const { w, alice, bob, dave } = family(t);
  handOver(alice, bob);
  handOver(alice, dave);
  await alice.publisher.publish(alice.pkg());
  const key = bob.groups.groupKeysOf('alice@example.org')[0]!;
  const keys = groupEpochKeys(key, EPOCH);
  const writer = new MemorySecretRecords(w.network);
  await writer.putSecret(keys.recordSeed, sealRecord(bob.pkg(), keys.recordKey), {
    seq: 99,
    ttlSeconds: 3600,
  });
  const r = await dave.resolver.resolve('alice@example.org');
  assert.equal(!r.ok && r.code, 'PACKAGE_INVALID');
  assert.match((!r.ok && r.warning) || '', /PACKAGE_AOR_MISMATCH/);
});

// ---- refusals -------------------------------------------------------------------------

test('refusals: GROUP_KEY from a non-contact, an unidentified peer, another epoch length, malformed; stale or foreign acks', (t) => {
  const { w, alice, bob, carol } = family(t);
  const mallory = w.node('mallory@example.org', 9);
  w.befriend(bob, carol);
  // mallory is not bob's contact.
  const [m2b] = link(mallory, bob);
  m2b.sendControl(
    GROUP_KEY_KIND,
    encodeGroupKey({ id: new Uint8Array(16), key: new Uint8Array(32).fill(9), epochSeconds: 3600 }),
  );
  // carol is a contact but sends junk, then a key for 600-second epochs.
  const [c2b, b2c] = link(carol, bob);
  c2b.sendControl(GROUP_KEY_KIND, new Uint8Array(10));
  c2b.sendControl(
    GROUP_KEY_KIND,
    encodeGroupKey({ id: new Uint8Array(16), key: new Uint8Array(32).fill(3), epochSeconds: 600 }),
  );
  // An unidentified peer.
  const [u2b, b2u] = link(carol, bob);
  bob.aors.delete(b2u);
  u2b.sendControl(
    GROUP_KEY_KIND,
    encodeGroupKey({ id: new Uint8Array(16), key: new Uint8Array(32).fill(4), epochSeconds: 3600 }),
  );
  settle();
  for (const tn of [m2b, c2b, u2b])
    assert.equal(tn.isOpen, true, 'a refusal never closes the tunnel');
  assert.equal(framesOf(b2c, GROUP_ACK_KIND).length, 0, 'nothing acked');
  assert.deepEqual(bob.groups.groupKeysOf('carol@example.org'), []);
  assert.deepEqual(bob.groups.groupKeysOf('mallory@example.org'), []);
  assert.deepEqual(bob.store.listKv('group.in:'), []);
  for (const re of [
    /GROUP_KEY from mallory@example.org, not a contact: ignored/,
    /GROUP_KEY: .*PRIVACY|GROUP_KEY: GROUP_KEY: expected 53 bytes/,
    /GROUP_KEY from carol@example.org for 600-second epochs, ours are 3600: ignored/,
    /GROUP_KEY from a peer that has not identified itself: ignored/,
  ])
    assert.ok(
      bob.lines.some((l) => re.test(l)),
      `logged ${re}: ${bob.lines.join(' | ')}`,
    );

  // Acks alice ignores: a stale id, a non-member's ack of the current id, junk.
  handOver(alice, bob);
  const current = outKeys(alice.store)[0]!;
  const [c2a] = link(carol, alice);
  c2a.sendControl(GROUP_ACK_KIND, encodeGroupAck(fromHex(current.id)));
  c2a.sendControl(GROUP_ACK_KIND, encodeGroupAck(new Uint8Array(16).fill(7)));
  c2a.sendControl(GROUP_ACK_KIND, Uint8Array.of(1, 2, 3));
  settle();
  assert.equal(c2a.isOpen, true);
  assert.deepEqual(outKeys(alice.store)[0]!.acked, ['bob@example.org']);
  assert.ok(
    alice.lines.some((l) =>
      /GROUP_ACK from carol@example.org, not a member of group family/.test(l),
    ),
  );
  assert.ok(alice.lines.some((l) => /for a key that is not current: ignored/.test(l)));
  assert.ok(alice.lines.some((l) => /^warn GROUP_ACK: .*expected 17 bytes/.test(l)));
  // identified() for an AOR the tunnel's peer is not: nothing sent.
  const [a2c] = link(alice, carol);
  alice.groups.identified(a2c, 'dave@example.org');
  assert.equal(framesOf(a2c, GROUP_KEY_KIND).length, 0);
});

test(`a member keeps at most ${MAX_GROUP_KEYS_PER_PUBLISHER} keys per publisher, the newest; none once the publisher is no contact`, (t) => {
  const { w, alice, bob } = family(t);
  const [a2b] = link(alice, bob);
  const ids: string[] = [];
  for (let i = 0; i < MAX_GROUP_KEYS_PER_PUBLISHER + 2; i++) {
    w.clock.ms += 1000;
    const id = new Uint8Array(16).fill(i + 1);
    ids.push(toHex(id));
    a2b.sendControl(
      GROUP_KEY_KIND,
      encodeGroupKey({ id, key: new Uint8Array(32).fill(i + 1), epochSeconds: 3600 }),
    );
    settle();
  }
  const kept = bob.groups.groupKeysOf('alice@example.org').map((k) => k[0]);
  assert.deepEqual(kept, [6, 5, 4, 3]);
  assert.equal(bob.store.listKv('group.in:').length, MAX_GROUP_KEYS_PER_PUBLISHER);
  assert.equal(framesOf(fake(a2b).peer as unknown as Tunnel, GROUP_ACK_KIND).length, ids.length);
  // Not a contact any more: none of its keys is used.
  bob.store.deleteContact('alice@example.org');
  assert.deepEqual(bob.groups.groupKeysOf('alice@example.org'), []);
});

// ---- real tunnels --------------------------------------------------------------------

const testnet = await startTestnet({ nodes: 3 });
const endpoint = () =>
  new TunnelEndpoint({ bootstrap: testnet.bootstrap, host: '127.0.0.1', accept: () => true });
const endpoints = { alice: endpoint(), bob: endpoint() };
const keyPair = (): DhtKeyPair => loadHyperDht().keyPair();
const listenKeys = { alice: keyPair(), bob: keyPair() };
after(async () => {
  await Promise.all([endpoints.alice.close(), endpoints.bob.close()]);
  await testnet.destroy();
});
await endpoints.alice.listen(listenKeys.alice);
await endpoints.bob.listen(listenKeys.bob);

/** A real tunnel alice → bob: [alice's end, bob's end]. Closed after the test. */
async function realLink(t: TestContext): Promise<[Tunnel, Tunnel]> {
  const dialling = keyPair();
  const hex = toHex(dialling.publicKey);
  const inbound = new Promise<Tunnel>((resolve) => {
    const onTunnel = (tn: Tunnel) => {
      if (tn.remoteKeyHex !== hex) return;
      endpoints.bob.off('tunnel', onTunnel);
      resolve(tn);
    };
    endpoints.bob.on('tunnel', onTunnel);
  });
  const out = await endpoints.alice.connect(listenKeys.bob.publicKey, { keyPair: dialling });
  const inTunnel = await inbound;
  t.after(() => Promise.all([out.close(), inTunnel.close()]));
  return [out, inTunnel];
}

function nextSip(tunnel: Tunnel): Promise<string> {
  return new Promise((resolve) =>
    tunnel.once('sip', (bytes) => resolve(Buffer.from(bytes).toString())),
  );
}

/** Resolves once `pred` holds, checked after each log line of `node`. */
function until(node: Node, pred: () => boolean): Promise<void> {
  if (pred()) return Promise.resolve();
  return new Promise((resolve) => {
    const push = node.lines.push.bind(node.lines);
    node.lines.push = (...items: string[]) => {
      const n = push(...items);
      if (pred()) {
        node.lines.push = push;
        resolve();
      }
      return n;
    };
  });
}

test(
  'over real tunnels: key and ack travel, the ack is durable; frames from an unidentified peer and bad frames leave the tunnel open',
  LIMIT,
  async (t) => {
    const w = world(t);
    const alice = w.node('alice@example.org', 1, { endpoint: endpoints.alice });
    const bob = w.node('bob@example.org', 2, { endpoint: endpoints.bob });
    w.befriend(alice, bob);
    w.group(alice, 'family', [bob]);
    const [out, inbound] = await realLink(t);
    alice.aors.set(out, bob.aor);
    bob.aors.set(inbound, alice.aor);
    alice.groups.identified(out, bob.aor);
    await until(alice, () => outKeys(alice.store)[0]?.acked.length === 1);
    const [stored] = outKeys(alice.store);
    assert.deepEqual(stored!.acked, ['bob@example.org']);
    assert.deepEqual(bob.groups.groupKeysOf('alice@example.org').map(toHex), [stored!.key]);
    // Durable: another handle on alice's store reads the ack.
    const again = Store.open(alice.store.homeDir, { create: false });
    try {
      assert.deepEqual(
        again.listKv(GROUP_OUT_PREFIX).map((e) => (JSON.parse(e.value) as OutgoingGroupKey).acked),
        [['bob@example.org']],
      );
    } finally {
      again.close();
    }

    // bob sends alice junk and an ack from a tunnel alice has not identified: logged, still open.
    alice.aors.delete(out);
    inbound.sendControl(GROUP_ACK_KIND, new Uint8Array(3));
    inbound.sendControl(GROUP_KEY_KIND, new Uint8Array(53));
    await until(
      alice,
      () => alice.lines.filter((l) => /not identified itself/.test(l)).length === 2,
    );
    alice.aors.set(out, bob.aor);
    inbound.sendControl(GROUP_ACK_KIND, new Uint8Array(3));
    await until(alice, () =>
      alice.lines.some((l) => /^warn GROUP_ACK: .*expected 17 bytes/.test(l)),
    );
    const sip = nextSip(out);
    inbound.sendSip(new TextEncoder().encode('still open'));
    assert.equal(await sip, 'still open');
    assert.equal(out.isOpen, true);
  },
);
