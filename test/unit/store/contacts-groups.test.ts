/**
 * The store's contact additions (schema version 2): display names, the
 * per-contact privacy override, groups, the v1 → v2 migration, and
 * transactions that keep a caller's own error type.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DB_FILE, Store, StoreError, StoreErrorCode } from '../../../src/store/index.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { openTemp, storeError } from './temp-store.js';

const key = (n: number) => new Uint8Array(32).fill(n);

test('schema version 2: contacts keep a display name and a privacy override', (t) => {
  const store = openTemp(t);
  assert.ok(store.schemaVersion() >= 2);
  const bob = store.addContact({
    aor: 'bob@example.org',
    publicKey: key(1),
    source: 'card',
    displayName: 'Bob',
  });
  assert.equal(bob.displayName, 'Bob');
  assert.equal(bob.privacyMode, null);
  const changed = store.updateContact('bob@example.org', { privacyMode: 'paranoid' });
  assert.equal(changed.privacyMode, 'paranoid');
  assert.equal(changed.displayName, 'Bob', 'fields left out keep their value');
  const cleared = store.updateContact('bob@example.org', { displayName: null, privacyMode: null });
  assert.equal(cleared.displayName, null);
  assert.equal(cleared.privacyMode, null);
  assert.deepEqual(cleared.publicKey, key(1));
  for (const bad of [
    { privacyMode: 'loud' },
    { displayName: '' },
    { displayName: 'x'.repeat(65) },
  ]) {
    assert.throws(
      () => store.updateContact('bob@example.org', bad as never),
      storeError(StoreErrorCode.BadValue),
    );
  }
  assert.throws(
    () =>
      store.addContact({
        aor: 'c@x.org',
        publicKey: key(2),
        source: 'card',
        displayName: 'é'.repeat(33),
      }),
    storeError(StoreErrorCode.BadValue),
    '66 bytes of UTF-8',
  );
});

test('getIdentityPublic gives the AOR and key without the seed', (t) => {
  const store = openTemp(t);
  assert.equal(store.getIdentityPublic(), undefined);
  store.setIdentity({ aor: 'alice@example.org', seed: key(9), publicKey: key(8) });
  assert.deepEqual(store.getIdentityPublic(), { aor: 'alice@example.org', publicKey: key(8) });
});

test('groups: create (unique ignoring case), find ignoring case, members, delete', (t) => {
  let now = 1000;
  const store = openTemp(t, () => now);
  store.addContact({ aor: 'bob@example.org', publicKey: key(1), source: 'card' });
  store.addContact({ aor: 'carol@example.org', publicKey: key(2), source: 'learned' });
  const family = store.createGroup('Family');
  assert.deepEqual(family, { id: family.id, name: 'Family', createdAt: 1000, members: [] });
  assert.throws(() => store.createGroup('family'), storeError(StoreErrorCode.GroupExists));
  assert.equal(store.getGroup('FAMILY')?.id, family.id);
  for (const bad of ['', '-x', 'a b', 'x'.repeat(33), 'é']) {
    assert.throws(() => store.createGroup(bad), storeError(StoreErrorCode.BadValue), bad);
  }
  store.createGroup('band');
  assert.deepEqual(
    store.listGroups().map((g) => g.name),
    ['band', 'Family'],
  );

  now = 2000;
  assert.equal(store.addGroupMembers('family', ['carol@example.org', 'sip:bob@Example.org']), 2);
  assert.equal(store.addGroupMembers('family', ['bob@example.org']), 0, 'already a member');
  assert.deepEqual(store.getGroup('Family')!.members, ['bob@example.org', 'carol@example.org']);
  assert.throws(
    () => store.addGroupMembers('band', ['bob@example.org', 'dave@example.org']),
    storeError(StoreErrorCode.NotFound),
  );
  assert.deepEqual(store.getGroup('band')!.members, [], 'all or nothing: bob was not added either');
  assert.throws(
    () => store.addGroupMembers('nope', ['bob@example.org']),
    storeError(StoreErrorCode.NotFound),
  );

  assert.equal(store.removeGroupMembers('family', ['bob@example.org', 'dave@example.org']), 1);
  assert.deepEqual(store.getGroup('family')!.members, ['carol@example.org']);
  assert.equal(store.deleteContact('carol@example.org'), true);
  assert.deepEqual(store.getGroup('family')!.members, [], 'a deleted contact leaves its groups');

  store.addGroupMembers('band', ['bob@example.org']);
  assert.equal(store.deleteGroup('BAND'), true);
  assert.equal(store.deleteGroup('band'), false);
  assert.ok(store.getContact('bob@example.org'), 'deleting a group keeps its contacts');
  const again = store.createGroup('band');
  assert.ok(
    again.id > family.id && again.id !== family.id + 1,
    'a deleted group id is never reused',
  );
});

test('migration 1 → 2 (and later) keeps version-1 contacts (display name and privacy override start NULL)', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-store-v1-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const home = join(base, 'home');
  mkdirSync(home, { mode: 0o700 });
  const raw = new Database(join(home, DB_FILE));
  raw.exec(MIGRATIONS[0]!);
  raw.pragma('user_version = 1');
  raw
    .prepare(
      'INSERT INTO contacts (aor, public_key, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    )
    .run('bob@example.org', Buffer.from(key(3)), 'learned', 5, 6);
  raw.close();
  const store = Store.open(home);
  t.after(() => store.close());
  assert.equal(store.schemaVersion(), MIGRATIONS.length);
  assert.deepEqual(store.getContact('bob@example.org'), {
    aor: 'bob@example.org',
    publicKey: key(3),
    source: 'learned',
    displayName: null,
    privacyMode: null,
    createdAt: 5,
    updatedAt: 6,
  });
  store.createGroup('friends');
  assert.equal(store.addGroupMembers('friends', ['bob@example.org']), 1);
});

test("transaction: the caller's own error comes out unchanged after the rollback; SQLite's become StoreError", (t) => {
  const store = openTemp(t);
  class Mine extends Error {}
  const mine = new Mine('mine');
  assert.throws(
    () =>
      store.transaction(() => {
        store.addContact({ aor: 'bob@example.org', publicKey: key(1), source: 'card' });
        store.transaction(() => {
          throw mine;
        });
      }),
    (e) => e === mine,
  );
  assert.equal(store.getContact('bob@example.org'), undefined, 'rolled back');
  assert.throws(
    () =>
      store.transaction(
        () =>
          store.addContact({ aor: 'bob@example.org', publicKey: key(1), source: 'card' }) &&
          store.addContact({ aor: 'bob@example.org', publicKey: key(1), source: 'card' }),
      ),
    storeError(StoreErrorCode.ContactExists),
  );
  store.close();
  assert.throws(
    () => store.transaction(() => 1),
    (e) => e instanceof StoreError,
    'a closed database',
  );
});
