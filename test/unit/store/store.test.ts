import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import {
  DB_FILE,
  SCHEMA_VERSION,
  Store,
  StoreError,
  StoreErrorCode,
  writeFileAtomic,
} from '../../../src/store/index.js';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-store-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  return join(base, 'home');
}

function isStoreError(code: string) {
  return (e: unknown) => e instanceof StoreError && e.code === code;
}

const KEY = new Uint8Array(32).fill(7);
const SEED = new Uint8Array(32).fill(1);

test('open creates home 0700 and p2psip.db 0600 (also -wal/-shm) with WAL, synchronous=FULL, schema version', (t) => {
  const home = tempHome(t);
  const store = Store.open(home);
  try {
    store.setKv('x', '1'); // makes SQLite create -wal and -shm
    assert.equal(statSync(home).mode & 0o777, 0o700);
    for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) {
      assert.equal(statSync(join(home, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
    assert.deepEqual(store.durability(), { journalMode: 'wal', synchronous: 2 });
  } finally {
    store.close();
  }
});

test('an existing home with loose permissions is tightened', (t) => {
  const home = tempHome(t);
  mkdirSync(home, { mode: 0o755 });
  Store.open(home).close();
  assert.equal(statSync(home).mode & 0o777, 0o700);
});

test('identity: set, get, refuse to overwrite unless replace', (t) => {
  const store = Store.open(tempHome(t), { now: () => 1234 });
  t.after(() => store.close());
  assert.equal(store.getIdentity(), undefined);
  store.setIdentity({ aor: 'sip:alice@EXAMPLE.org', seed: SEED, publicKey: KEY });
  const got = store.getIdentity()!;
  assert.equal(got.aor, 'alice@example.org');
  assert.deepEqual(got.seed, SEED);
  assert.deepEqual(got.publicKey, KEY);
  assert.equal(got.createdAt, 1234);
  assert.throws(
    () => store.setIdentity({ aor: 'bob@example.org', seed: KEY, publicKey: SEED }),
    isStoreError(StoreErrorCode.IdentityExists),
  );
  assert.equal(store.getIdentity()!.aor, 'alice@example.org', 'refused write changed nothing');
  store.setIdentity({ aor: 'bob@example.org', seed: KEY, publicKey: SEED }, { replace: true });
  assert.equal(store.getIdentity()!.aor, 'bob@example.org');
  assert.throws(
    () =>
      store.setIdentity(
        { aor: 'x@y.org', seed: new Uint8Array(31), publicKey: KEY },
        { replace: true },
      ),
    isStoreError(StoreErrorCode.BadValue),
  );
});

test('kv and counters', (t) => {
  const store = Store.open(tempHome(t));
  t.after(() => store.close());
  assert.equal(store.getKv('a'), undefined);
  store.setKv('a', 'one');
  store.setKv('a', 'two');
  assert.equal(store.getKv('a'), 'two');
  assert.equal(store.deleteKv('a'), true);
  assert.equal(store.deleteKv('a'), false);
  assert.equal(store.getCounter('seq'), 0);
  assert.equal(store.incrementCounter('seq'), 1);
  assert.equal(store.incrementCounter('seq', 10), 11);
  assert.equal(store.getCounter('seq'), 11);
  assert.throws(() => store.incrementCounter('seq', 0), isStoreError(StoreErrorCode.BadValue));
  store.setKv('bad', 'not a number');
  assert.throws(() => store.incrementCounter('bad'), isStoreError(StoreErrorCode.BadValue));
  assert.equal(store.getKv('bad'), 'not a number', 'failed increment left the value alone');
  assert.throws(() => store.setKv('', 'x'), isStoreError(StoreErrorCode.BadValue));
});

test('contacts: add (pinned, no silent replace), get, list, update, delete', (t) => {
  let now = 100;
  const store = Store.open(tempHome(t), { now: () => now });
  t.after(() => store.close());
  const bob = store.addContact({ aor: 'sip:bob@Example.org', publicKey: KEY, source: 'card' });
  assert.deepEqual(bob, {
    aor: 'bob@example.org',
    publicKey: KEY,
    source: 'card',
    displayName: null,
    privacyMode: null,
    createdAt: 100,
    updatedAt: 100,
  });
  assert.throws(
    () => store.addContact({ aor: 'bob@example.org', publicKey: SEED, source: 'learned' }),
    isStoreError(StoreErrorCode.ContactExists),
  );
  assert.deepEqual(store.getContact('bob@example.org')!.publicKey, KEY);
  store.addContact({ aor: 'alice@example.org', publicKey: SEED, source: 'learned' });
  assert.deepEqual(
    store.listContacts().map((c) => c.aor),
    ['alice@example.org', 'bob@example.org'],
  );
  now = 200;
  const updated = store.updateContact('bob@example.org', { publicKey: SEED });
  assert.deepEqual(updated.publicKey, SEED);
  assert.equal(updated.source, 'card');
  assert.equal(updated.createdAt, 100);
  assert.equal(updated.updatedAt, 200);
  assert.throws(
    () => store.updateContact('carol@example.org', { source: 'card' }),
    isStoreError(StoreErrorCode.NotFound),
  );
  assert.equal(store.deleteContact('bob@example.org'), true);
  assert.equal(store.deleteContact('bob@example.org'), false);
  assert.equal(store.getContact('bob@example.org'), undefined);
  for (const bad of [
    { aor: 'nope', publicKey: KEY, source: 'card' },
    { aor: 'x@y.org', publicKey: new Uint8Array(33), source: 'card' },
    { aor: 'x@y.org', publicKey: KEY, source: 'guess' },
  ]) {
    assert.throws(() => store.addContact(bad as never), isStoreError(StoreErrorCode.BadValue));
  }
});

test('call log: append, list newest first, page backwards, validation', (t) => {
  const store = Store.open(tempHome(t), { now: () => 5 });
  t.after(() => store.close());
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(
      store.appendCall({
        direction: i % 2 ? 'in' : 'out',
        peer: `p${i}@x.org`,
        outcome: 'answered',
        durationMs: i,
      }),
    );
  }
  assert.deepEqual(ids, [1, 2, 3, 4, 5]);
  const all = store.listCalls();
  assert.deepEqual(
    all.map((c) => c.peer),
    ['p4@x.org', 'p3@x.org', 'p2@x.org', 'p1@x.org', 'p0@x.org'],
  );
  assert.deepEqual(all[0], {
    id: 5,
    at: 5,
    direction: 'out',
    peer: 'p4@x.org',
    outcome: 'answered',
    durationMs: 4,
    callId: null,
  });
  assert.deepEqual(
    store.listCalls({ limit: 2, beforeId: 4 }).map((c) => c.id),
    [3, 2],
  );
  assert.throws(
    () => store.appendCall({ direction: 'sideways' as never, peer: 'p', outcome: 'missed' }),
    isStoreError(StoreErrorCode.BadValue),
  );
  assert.throws(
    () => store.appendCall({ direction: 'in', peer: 'p', outcome: 'exploded' as never }),
    isStoreError(StoreErrorCode.BadValue),
  );
  assert.throws(() => store.listCalls({ limit: 0 }), isStoreError(StoreErrorCode.BadValue));
  assert.equal(store.listCalls().length, 5, 'rejected writes added nothing');
});

test('transaction: all or nothing', (t) => {
  const store = Store.open(tempHome(t));
  t.after(() => store.close());
  assert.throws(() =>
    store.transaction(() => {
      store.incrementCounter('seq');
      store.appendCall({ direction: 'in', peer: 'p@x.org', outcome: 'missed' });
      throw new Error('boom');
    }),
  );
  assert.equal(store.getCounter('seq'), 0);
  assert.equal(store.listCalls().length, 0);
});

test('data survives close and reopen', (t) => {
  const home = tempHome(t);
  const a = Store.open(home);
  a.setIdentity({ aor: 'alice@example.org', seed: SEED, publicKey: KEY });
  a.incrementCounter('seq');
  a.addContact({ aor: 'bob@example.org', publicKey: KEY, source: 'card' });
  a.close();
  const b = Store.open(home);
  t.after(() => b.close());
  assert.equal(b.getIdentity()!.aor, 'alice@example.org');
  assert.equal(b.getCounter('seq'), 1);
  assert.equal(b.listContacts().length, 1);
  assert.equal(b.integrityOk(), true);
});

test('a file that is not a database → STORE_CORRUPT, and the file is left byte-for-byte intact', (t) => {
  const home = tempHome(t);
  mkdirSync(home, { mode: 0o700 });
  const path = join(home, DB_FILE);
  const junk = Buffer.from("this is not SQLite, but it is somebody's data\n".repeat(200));
  writeFileSync(path, junk, { mode: 0o600 });
  assert.throws(() => Store.open(home), isStoreError(StoreErrorCode.Corrupt));
  assert.deepEqual(readFileSync(path), junk);
  assert.deepEqual(readdirSync(home).sort(), [DB_FILE]);
});

test('a newer schema → STORE_SCHEMA_TOO_NEW, untouched', (t) => {
  const home = tempHome(t);
  Store.open(home).close();
  const raw = new Database(join(home, DB_FILE));
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => Store.open(home), isStoreError(StoreErrorCode.SchemaTooNew));
  const check = new Database(join(home, DB_FILE), { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  check.close();
});

test('migrations run from version 0 and are recorded', (t) => {
  const home = tempHome(t);
  mkdirSync(home, { mode: 0o700 });
  new Database(join(home, DB_FILE)).close(); // an empty version-0 database
  const store = Store.open(home);
  t.after(() => store.close());
  assert.equal(store.schemaVersion(), SCHEMA_VERSION);
  store.appendCall({ direction: 'in', peer: 'p@x.org', outcome: 'missed' });
});

test('home errors: a file in the way → STORE_BAD_HOME; create:false on a missing home → STORE_NO_HOME', (t) => {
  const home = tempHome(t);
  assert.throws(() => Store.open(home, { create: false }), isStoreError(StoreErrorCode.NoHome));
  assert.equal(existsSync(home), false, 'create:false created nothing');
  mkdirSync(home);
  assert.throws(() => Store.open(home, { create: false }), isStoreError(StoreErrorCode.NoHome));
  const file = join(home, 'plain-file');
  writeFileSync(file, 'x');
  assert.throws(() => Store.open(file), isStoreError(StoreErrorCode.BadHome));
});

test('writeFileAtomic replaces content, sets the mode and leaves no temporary file', (t) => {
  const home = tempHome(t);
  mkdirSync(home);
  const path = join(home, 'f.json');
  writeFileAtomic(path, 'old\n');
  writeFileAtomic(path, 'new\n', 0o644);
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(home), ['f.json']);
  assert.throws(() => writeFileAtomic(join(home, 'missing-dir', 'f'), 'x'));
  assert.deepEqual(readdirSync(home), ['f.json']);
});
