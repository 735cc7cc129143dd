/**
 * Secret publishing and resolving (issue 4 part 2a) with the memory
 * backends: two identities that are contacts of each other, a third party,
 * an injected clock; pair states in real stores.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { toHex } from '../../../src/crypto/bytes.js';
import { Identity } from '../../../src/identity/identity.js';
import { openKey } from '../../../src/identity/open-key.js';
import { PairSecrets } from '../../../src/node/pair-secrets.js';
import { PackageResolver } from '../../../src/node/resolver.js';
import { KvSecretSeqs, SecretPublisher } from '../../../src/node/secret-publisher.js';
import { SecretResolver } from '../../../src/node/secret-resolver.js';
import {
  MemoryLookup,
  MemoryNetwork,
  MemorySecretRecords,
  PkOpTally,
} from '../../../src/overlay/index.js';
import { encodePackage } from '../../../src/package/encode.js';
import {
  epochOf,
  lookupKeys,
  RECORD_SIZE,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
  sealRecord,
} from '../../../src/privacy/index.js';
import { Store } from '../../../src/store/index.js';

const HOUR = 3600_000;
/** 2023-11-14 22:13:20 UTC: 1,200 s into epoch 472222. */
const START = 1_700_000_000_000;

interface Node {
  identity: Identity;
  store: Store;
  pairs: PairSecrets;
  records: MemorySecretRecords;
  publisher: SecretPublisher;
  resolver: SecretResolver;
  tunnelKey: Uint8Array;
  pkg(online?: boolean): Uint8Array;
}

function world(t: { after: (fn: () => void) => void }) {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-secret-'));
  const stores: Store[] = [];
  t.after(() => {
    for (const s of stores) s.close();
    rmSync(base, { recursive: true, force: true });
  });
  const clock = { ms: START };
  const now = () => clock.ms;
  const network = new MemoryNetwork({ clock: { now, setTimeout: () => ({ cancel() {} }) } });
  let packageSeq = 0;
  const node = (aor: string, n: number, opts: { pkOps?: PkOpTally } = {}): Node => {
    const identity = Identity.fromSeed(aor, new Uint8Array(32).fill(n));
    const store = Store.open(join(base, aor));
    stores.push(store);
    store.setIdentity({ aor, seed: new Uint8Array(32).fill(n), publicKey: identity.publicKey });
    const pairs = new PairSecrets({
      store,
      identity,
      now,
      ...(opts.pkOps ? { pkOps: opts.pkOps } : {}),
    });
    const records = new MemorySecretRecords(network, opts.pkOps ? { pkOps: opts.pkOps } : {});
    const tunnelKey = new Uint8Array(32).fill(100 + n);
    const self: Node = {
      identity,
      store,
      pairs,
      records,
      tunnelKey,
      publisher: new SecretPublisher({
        records,
        pairs,
        friends: () => store.listContacts().map((c) => c.aor),
        seqs: new KvSecretSeqs(store),
      }),
      resolver: new SecretResolver({ records, pairs, seen: store, now }),
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
    };
    return self;
  };
  const befriend = (a: Node, b: Node) => {
    a.store.addContact({ aor: b.identity.aor, publicKey: b.identity.publicKey, source: 'card' });
    b.store.addContact({ aor: a.identity.aor, publicKey: a.identity.publicKey, source: 'card' });
  };
  return { clock, network, node, befriend };
}

/** A world with alice and bob, contacts of each other. */
function aliceAndBob(t: { after: (fn: () => void) => void }) {
  const w = world(t);
  const alice = w.node('alice@example.org', 1);
  const bob = w.node('bob@example.org', 2);
  w.befriend(alice, bob);
  return { w, alice, bob };
}

test('alice publishes for bob; bob resolves alice by her secret records, not by the open key', async (t) => {
  const { w, alice, bob } = aliceAndBob(t);
  const report = await alice.publisher.publish(alice.pkg());
  assert.deepEqual(
    { records: report.records, sealed: report.sealed, failed: report.failed },
    { records: 1, sealed: 1, failed: [] },
  );
  const found = await bob.resolver.resolve('alice@example.org');
  assert.deepEqual(found, {
    ok: true,
    peerKey: toHex(alice.tunnelKey),
    aor: 'alice@example.org',
    epoch: epochOf(START / 1000),
    generation: 0,
  });
  // Nothing was published under alice's open key: an open lookup finds nothing.
  const open = new PackageResolver({
    lookup: new MemoryLookup(w.network),
    store: bob.store,
    log: () => {},
  });
  const openResult = await open.resolve('alice@example.org');
  assert.equal(openResult.ok, false);
  assert.equal(w.network.size, 0);
});

test('a third party holding only the open key finds nothing, and has no secret state', async (t) => {
  const { w, alice } = aliceAndBob(t);
  const carol = w.node('carol@example.org', 3);
  await alice.publisher.publish(alice.pkg());
  assert.deepEqual(await new MemoryLookup(w.network).find(openKey('alice@example.org')), []);
  const r = await carol.resolver.resolve('alice@example.org');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'NO_SECRET_STATE');
  // Even as a contact of alice (her pinned key), carol has no pair with alice
  // that alice published for: nothing is found.
  carol.store.addContact({
    aor: alice.identity.aor,
    publicKey: alice.identity.publicKey,
    source: 'card',
  });
  const r2 = await carol.resolver.resolve('alice@example.org');
  assert.equal(!r2.ok && r2.code, 'RECORD_NOT_FOUND');
  assert.equal(!r2.ok && r2.status, 480);
});

test('after an epoch change bob still finds alice (new keys, new record); the pair state moved forward', async (t) => {
  const { w, alice, bob } = aliceAndBob(t);
  await alice.publisher.publish(alice.pkg());
  const firstEpoch = epochOf(START / 1000);
  const address1 = w.network.secrets()[0]!.address;
  w.clock.ms += HOUR;
  const report = await alice.publisher.refresh();
  assert.equal(report?.sealed, 1);
  const found = await bob.resolver.resolve('alice@example.org');
  assert.equal(found.ok && found.epoch, firstEpoch + 1);
  const addresses = w.network.secrets().map((r) => toHex(r.address));
  assert.equal(addresses.length, 2);
  assert.ok(addresses.includes(toHex(address1)));
  // Stored at epochOf(now − grace): the new epoch once the grace has passed.
  assert.equal(alice.store.getPairState('bob@example.org')?.epoch, firstEpoch + 1);
});

test('near an epoch boundary: alice also pre-publishes the next epoch; bob a little ahead still finds her', async (t) => {
  const { w, alice, bob } = aliceAndBob(t);
  const e = epochOf(START / 1000);
  w.clock.ms = (e + 1) * HOUR - 60_000; // one minute before the next epoch
  const report = await alice.publisher.publish(alice.pkg());
  assert.deepEqual(report.epochs, [e, e + 1]);
  assert.equal(report.records, 2);
  w.clock.ms = (e + 1) * HOUR + 30_000;
  const found = await bob.resolver.resolve('alice@example.org');
  assert.equal(found.ok && found.epoch, e + 1);
});

test('records of different friends and epochs: all 1,000 bytes, unrelated addresses, nothing under lookup keys', async (t) => {
  const w = world(t);
  const alice = w.node('alice@example.org', 1);
  const friends = [2, 3, 4].map((n) => w.node(`f${n}@example.org`, n));
  for (const f of friends) w.befriend(alice, f);
  const seen = new Map<string, Uint8Array>();
  const collect = () => {
    for (const r of w.network.secrets()) seen.set(toHex(r.address), r.value);
  };
  await alice.publisher.publish(alice.pkg());
  collect();
  w.clock.ms += HOUR;
  await alice.publisher.refresh();
  collect();
  w.clock.ms += HOUR;
  await alice.publisher.publish(alice.pkg(false)); // offline: same size
  collect();
  // The first epoch's records outlived their ttl (two epochs): only 2 × 3 are live.
  assert.equal(w.network.secrets().length, 6);
  assert.equal(seen.size, 9, 'addresses repeat across friends or epochs');
  const values = [...seen.values()];
  assert.ok(values.every((v) => v.byteLength === RECORD_SIZE));
  assert.equal(new Set(values.map((v) => toHex(v.subarray(0, 64)))).size, 9);
  assert.equal(w.network.size, 0);
  // Every friend finds alice offline now (480, NO_SOFTPHONE), not missing.
  for (const f of friends) {
    const r = await f.resolver.resolve('alice@example.org');
    assert.equal(!r.ok && r.code, 'NO_SOFTPHONE');
  }
});

test('a refresh within the epoch does no public-key operation, no seal, and re-puts the same bytes', async (t) => {
  const w = world(t);
  const pkOps = new PkOpTally();
  const alice = w.node('alice@example.org', 1, { pkOps });
  const friends = [2, 3, 4].map((n) => w.node(`f${n}@example.org`, n));
  for (const f of friends) w.befriend(alice, f);
  await alice.publisher.publish(alice.pkg());
  // First use: one X25519 per new pair (privacy side), one key generation per record (backend).
  assert.deepEqual(pkOps.counts, { keygen: 3, sign: 0, verify: 0, x25519: 3 });
  const before = w.network.secrets().map((r) => Buffer.from(r.value).toString('hex'));
  pkOps.reset();
  w.clock.ms += 10 * 60_000;
  const report = await alice.publisher.refresh();
  assert.deepEqual(
    { records: report?.records, sealed: report?.sealed, refreshed: report?.refreshed },
    { records: 3, sealed: 0, refreshed: 3 },
  );
  assert.equal(pkOps.total, 0);
  assert.deepEqual(
    w.network.secrets().map((r) => Buffer.from(r.value).toString('hex')),
    before,
  );
  // A new package within the epoch: sealed again, still no PK op in memory (the
  // HyperDHT backend would sign once per record).
  await alice.publisher.publish(alice.pkg());
  assert.equal(pkOps.total, 0);
});

test('a restarted publisher (same store) goes on with a higher seq within the epoch', async (t) => {
  const { w, alice, bob } = aliceAndBob(t);
  await alice.publisher.publish(alice.pkg());
  const again = new SecretPublisher({
    records: new MemorySecretRecords(w.network),
    pairs: alice.pairs,
    friends: () => ['bob@example.org'],
    seqs: new KvSecretSeqs(alice.store),
  });
  await again.publish(alice.pkg(false));
  assert.equal(w.network.secrets()[0]!.seq, 2);
  const r = await bob.resolver.resolve('alice@example.org');
  assert.equal(!r.ok && r.code, 'NO_SOFTPHONE');
});

test('failure reasons: not found, does not open, package invalid', async (t) => {
  const { w, bob } = aliceAndBob(t);
  const mallory = w.node('mallory@example.org', 9);
  const nf = await bob.resolver.resolve('alice@example.org');
  assert.equal(!nf.ok && nf.code, 'RECORD_NOT_FOUND');

  // Whoever holds the record seed (here: bob's view of it) writes garbage.
  const state = bob.pairs.stateFor('alice@example.org')!;
  const keys = lookupKeys(state, epochOf(START / 1000))[0]!;
  const writer = new MemorySecretRecords(w.network);
  await writer.putSecret(keys.recordSeed, new Uint8Array(RECORD_SIZE).fill(1), {
    seq: 1,
    ttlSeconds: 3600,
  });
  const unreadable = await bob.resolver.resolve('alice@example.org');
  assert.equal(!unreadable.ok && unreadable.code, 'RECORD_UNREADABLE');
  assert.equal(!unreadable.ok && unreadable.status, 404);

  // A record that opens but carries someone else's package.
  await writer.putSecret(keys.recordSeed, sealRecord(mallory.pkg(), keys.recordKey), {
    seq: 2,
    ttlSeconds: 3600,
  });
  const invalid = await bob.resolver.resolve('alice@example.org');
  assert.equal(!invalid.ok && invalid.code, 'PACKAGE_INVALID');
  assert.match((!invalid.ok && invalid.warning) || '', /PACKAGE_AOR_MISMATCH/);
});

test('through a ratchet: bob (unconfirmed) publishes under both generations; alice finds him before and after confirming', async (t) => {
  const { alice, bob } = aliceAndBob(t);
  const binding = new Uint8Array(64).fill(0x40);
  const offer = ratchetOffer(
    alice.pairs.stateFor('bob@example.org')!,
    new Uint8Array(32).fill(0x11),
    binding,
  );
  const accepted = ratchetAccept(
    bob.pairs.stateFor('alice@example.org')!,
    offer.message,
    new Uint8Array(32).fill(0x22),
    binding,
  );
  bob.pairs.update('alice@example.org', accepted.state);
  const report = await bob.publisher.publish(bob.pkg());
  assert.equal(report.records, 2);
  const before = await alice.resolver.resolve('bob@example.org');
  assert.equal(before.ok && before.generation, 0);
  const confirmed = ratchetConfirm(offer.pending, accepted.reply);
  alice.pairs.update('bob@example.org', confirmed.state);
  const after = await alice.resolver.resolve('bob@example.org');
  assert.equal(after.ok && after.generation, 1);
  bob.pairs.update('alice@example.org', ratchetFinish(accepted.state, confirmed.confirm));
  assert.equal((await bob.publisher.refresh())?.records, 1);
});

test('KvSecretSeqs: 1, 2, … per epoch, durable across instances, old epochs dropped', (t) => {
  const w = world(t);
  const alice = w.node('alice@example.org', 1);
  const seqs = new KvSecretSeqs(alice.store);
  assert.deepEqual([seqs.next(10), seqs.next(10), seqs.next(11)], [1, 2, 1]);
  assert.equal(new KvSecretSeqs(alice.store).next(10), 3);
  seqs.next(13);
  assert.deepEqual(JSON.parse(alice.store.getKv('secret.seq')!), { 13: 1 });
});

test('a re-pinned contact key starts a new pair (the old state is gone with the old key)', (t) => {
  const w = world(t);
  const alice = w.node('alice@example.org', 1);
  const bob = w.node('bob@example.org', 2);
  const other = Identity.fromSeed('bob@example.org', new Uint8Array(32).fill(7));
  w.befriend(alice, bob);
  const first = alice.pairs.stateFor('bob@example.org')!;
  alice.store.updateContact('bob@example.org', { publicKey: other.publicKey });
  const second = alice.pairs.stateFor('bob@example.org')!;
  assert.notEqual(second.root, first.root);
  assert.equal(alice.pairs.stateFor('nobody@example.org'), undefined);
});

test('groups option: a group record replaces its members’ pair records; a failing group list falls back to pair records for everyone and retires nothing', async (t) => {
  const w = world(t);
  const alice = w.node('alice@example.org', 1);
  const friends = [2, 3, 4].map((n) => w.node(`f${n}@example.org`, n));
  for (const f of friends) w.befriend(alice, f);
  const key = new Uint8Array(32).fill(0x44);
  let list: () => { id: string; key: Uint8Array; members: string[] }[] = () => [
    { id: 'g1', key, members: ['sip:f2@EXAMPLE.org', 'f3@example.org'] }, // compared in normal form
    { id: 'empty', key: new Uint8Array(32).fill(0x45), members: [] },
  ];
  const lines: string[] = [];
  const publisher = new SecretPublisher({
    records: alice.records,
    pairs: alice.pairs,
    friends: () => alice.store.listContacts().map((c) => c.aor),
    groups: () => list(),
    seqs: new KvSecretSeqs(alice.store),
    log: (level, msg) => lines.push(`${level} ${msg}`),
  });
  const grouped = await publisher.publish(alice.pkg());
  assert.deepEqual(
    {
      records: grouped.records,
      groups: grouped.groups,
      grouped: grouped.grouped,
      friends: grouped.friends,
      failed: grouped.failed,
    },
    { records: 2, groups: 1, grouped: 2, friends: 1, failed: [] },
  );
  // f4 by its pair record; f2 has none (its pair lookup finds nothing).
  assert.equal((await friends[2]!.resolver.resolve('alice@example.org')).ok, true);
  const f2 = await friends[0]!.resolver.resolve('alice@example.org');
  assert.equal(!f2.ok && f2.code, 'RECORD_NOT_FOUND');

  list = () => {
    throw new Error('store busy');
  };
  const fallback = await publisher.refresh();
  assert.deepEqual(
    { records: fallback?.records, groups: fallback?.groups, retired: fallback?.retired },
    { records: 3, groups: 0, retired: 0 },
  );
  assert.ok(lines.some((l) => /^warn secret records: group list failed.*store busy/.test(l)));
  assert.equal((await friends[0]!.resolver.resolve('alice@example.org')).ok, true);

  // Listed again without g1: its record is overwritten with a decoy.
  list = () => [];
  const retired = await publisher.refresh();
  assert.equal(retired?.retired, 1);

  // Members that are not among friends() are no readers: no group record for them.
  list = () => [{ id: 'g2', key, members: ['stranger@example.org'] }];
  const strangers = await publisher.refresh();
  assert.deepEqual(
    { groups: strangers?.groups, records: strangers?.records, friends: strangers?.friends },
    { groups: 0, records: 3, friends: 3 },
  );
});
