/**
 * Schema version 3: the durable pair state per contact (pair_secrets) —
 * typed get/put/delete, checked on the way in and out, gone with its contact
 * and when the contact's pinned key changes, and the v2 → v3 migration.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Identity } from '../../../src/identity/identity.js';
import { advanceToEpoch, initialPairState, type PairState } from '../../../src/privacy/index.js';
import { DB_FILE, Store, StoreErrorCode } from '../../../src/store/index.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { openTemp, storeError } from './temp-store.js';

const alice = Identity.fromSeed('alice@example.org', new Uint8Array(32).fill(1));
const bob = Identity.fromSeed('bob@example.org', new Uint8Array(32).fill(2));
const carol = Identity.fromSeed('carol@example.org', new Uint8Array(32).fill(3));
const EPOCH = 472_222;

function withBob(store: Store): PairState {
  store.addContact({ aor: bob.aor, publicKey: bob.publicKey, source: 'card' });
  return initialPairState(alice, bob.publicKey, EPOCH);
}

test('pair state: put, get back equal, replace, delete', (t) => {
  const store = openTemp(t);
  assert.equal(store.schemaVersion(), 3);
  const state = withBob(store);
  assert.equal(store.getPairState(bob.aor), undefined);
  store.putPairState(bob.aor, state);
  assert.deepEqual(store.getPairState('bob@EXAMPLE.org'), state);
  const later = advanceToEpoch(state, EPOCH + 5);
  store.putPairState(bob.aor, later);
  assert.deepEqual(store.getPairState(bob.aor), later);
  assert.equal(store.deletePairState(bob.aor), true);
  assert.equal(store.deletePairState(bob.aor), false);
  assert.equal(store.getPairState(bob.aor), undefined);
});

test('pair state: refused for a non-contact, a malformed state, or a state of another key', (t) => {
  const store = openTemp(t);
  const state = withBob(store);
  assert.throws(
    () => store.putPairState(carol.aor, initialPairState(alice, carol.publicKey, EPOCH)),
    storeError(StoreErrorCode.NotFound),
  );
  assert.throws(
    () => store.putPairState(bob.aor, { ...state, epoch: -1 }),
    storeError(StoreErrorCode.BadValue),
  );
  assert.throws(
    () => store.putPairState(bob.aor, initialPairState(alice, carol.publicKey, EPOCH)),
    (e: unknown) => storeError(StoreErrorCode.BadValue)(e) && /pinned key/.test(String(e)),
  );
  assert.equal(store.getPairState(bob.aor), undefined);
});

test('pair state: goes with its contact; a re-pinned key deletes it; other changes keep it', (t) => {
  const store = openTemp(t);
  const state = withBob(store);
  store.putPairState(bob.aor, state);
  store.updateContact(bob.aor, { displayName: 'Bob', privacyMode: 'paranoid', source: 'learned' });
  store.updateContact(bob.aor, { publicKey: bob.publicKey }); // the same key again
  assert.deepEqual(store.getPairState(bob.aor), state);
  store.updateContact(bob.aor, { publicKey: carol.publicKey });
  assert.equal(store.getPairState(bob.aor), undefined);
  // The old state cannot come back under the new key.
  assert.throws(() => store.putPairState(bob.aor, state), storeError(StoreErrorCode.BadValue));
  store.updateContact(bob.aor, { publicKey: bob.publicKey });
  store.putPairState(bob.aor, state);
  assert.equal(store.deleteContact(bob.aor), true);
  store.addContact({ aor: bob.aor, publicKey: bob.publicKey, source: 'card' });
  assert.equal(store.getPairState(bob.aor), undefined);
});

test('pair state: a stored value that no longer parses is STORE_BAD_VALUE naming the contact', (t) => {
  const store = openTemp(t);
  withBob(store);
  const raw = new Database(store.path);
  t.after(() => raw.close());
  raw
    .prepare('INSERT INTO pair_secrets (aor, state, updated_at) VALUES (?, ?, ?)')
    .run(bob.aor, '{"v":1}', 1);
  assert.throws(
    () => store.getPairState(bob.aor),
    (e: unknown) => storeError(StoreErrorCode.BadValue)(e) && String(e).includes(bob.aor),
  );
});

test('migration 2 → 3 keeps contacts and starts with no pair state', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-store-v2-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const home = join(base, 'home');
  mkdirSync(home, { mode: 0o700 });
  const raw = new Database(join(home, DB_FILE));
  raw.exec(MIGRATIONS[0]!);
  raw.exec(MIGRATIONS[1]!);
  raw.pragma('user_version = 2');
  raw
    .prepare(
      'INSERT INTO contacts (aor, public_key, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    )
    .run(bob.aor, Buffer.from(bob.publicKey), 'card', 5, 6);
  raw.close();
  const store = Store.open(home);
  t.after(() => store.close());
  assert.equal(store.schemaVersion(), 3);
  assert.deepEqual(store.getContact(bob.aor)?.publicKey, bob.publicKey);
  assert.equal(store.getPairState(bob.aor), undefined);
  store.putPairState(bob.aor, initialPairState(alice, bob.publicKey, EPOCH));
  assert.equal(store.getPairState(bob.aor)?.epoch, EPOCH);
});
