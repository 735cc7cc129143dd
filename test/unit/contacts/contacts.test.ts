/**
 * Contact logic over a real Store (src/contacts/contacts.ts): cards pin
 * keys, a different key is a KEY_CONFLICT naming both fingerprints, learning
 * never overrides, a card confirms a learned key, groups.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCard, shortFingerprint } from '../../../src/contacts/card.js';
import { Contacts } from '../../../src/contacts/contacts.js';
import { ContactError, ContactErrorCode } from '../../../src/contacts/errors.js';
import { Identity } from '../../../src/identity/identity.js';
import { Store } from '../../../src/store/store.js';

function book(t: { after: (fn: () => void) => void }, now = () => 1000) {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-contacts-'));
  const store = Store.open(join(base, 'home'), { now });
  t.after(() => {
    store.close();
    rmSync(base, { recursive: true, force: true });
  });
  const me = Identity.fromSeed('me@example.org', new Uint8Array(32).fill(1));
  store.setIdentity(me.toRecord());
  return { store, contacts: new Contacts(store), me };
}

const code = (c: string) => (e: unknown) => {
  assert.ok(e instanceof ContactError, `not a ContactError: ${String(e)}`);
  assert.equal(e.code, c, e.message);
  return true;
};

const bob = Identity.fromSeed('bob@example.org', new Uint8Array(32).fill(2));
const bobNewPhone = Identity.fromSeed('bob@example.org', new Uint8Array(32).fill(3));
const carol = Identity.fromSeed('carol@example.org', new Uint8Array(32).fill(4));

test('a card adds a contact with source "card" and its display name; the same card again changes nothing', (t) => {
  const { contacts } = book(t);
  const card = createCard(bob, { name: 'Bob' });
  const first = contacts.addCard(`  ${card.text}\n`); // pasted with white space around
  assert.equal(first.outcome, 'added');
  assert.equal(first.contact.source, 'card');
  assert.equal(first.contact.displayName, 'Bob');
  assert.deepEqual(first.contact.publicKey, bob.publicKey);
  assert.equal(contacts.addCard(card).outcome, 'unchanged');
  const renamed = contacts.addCard(createCard(bob, { name: 'Bobby' }).text);
  assert.equal(renamed.outcome, 'updated');
  assert.equal(renamed.contact.displayName, 'Bobby');
  const entry = contacts.get('sip:bob@EXAMPLE.org')!;
  assert.equal(entry.fingerprint, shortFingerprint(bob.publicKey));
  assert.deepEqual(entry.groups, []);
});

test('a different key for a pinned AOR → CONTACT_KEY_CONFLICT naming both fingerprints; --force replaces', (t) => {
  const { contacts } = book(t);
  contacts.addCard(createCard(bob).text);
  const newCard = createCard(bobNewPhone).text;
  assert.throws(
    () => contacts.addCard(newCard),
    (e) => {
      code(ContactErrorCode.KeyConflict)(e);
      const msg = (e as Error).message;
      assert.ok(msg.includes(shortFingerprint(bob.publicKey)), msg);
      assert.ok(msg.includes(shortFingerprint(bobNewPhone.publicKey)), msg);
      assert.match(msg, /from a card/);
      return true;
    },
  );
  assert.deepEqual(contacts.get('bob@example.org')!.publicKey, bob.publicKey, 'nothing changed');
  const forced = contacts.addCard(newCard, { force: true });
  assert.equal(forced.outcome, 'replaced');
  assert.deepEqual(forced.previousKey, bob.publicKey);
  assert.deepEqual(contacts.get('bob@example.org')!.publicKey, bobNewPhone.publicKey);
});

test('learn: only an unknown AOR is learned; it never overrides a pinned key; a card confirms a learned key', (t) => {
  let now = 1000;
  const { contacts } = book(t, () => now);
  // A card is pinned first: learning a different key for it changes nothing.
  contacts.addCard(createCard(bob).text);
  const refused = contacts.learn('bob@example.org', bobNewPhone.publicKey);
  assert.equal(refused.outcome, 'pinned-differs');
  assert.deepEqual(contacts.get('bob@example.org')!.publicKey, bob.publicKey);
  assert.equal(contacts.get('bob@example.org')!.source, 'card');
  assert.equal(contacts.learn('bob@example.org', bob.publicKey).outcome, 'known');
  assert.equal(
    contacts.get('bob@example.org')!.source,
    'card',
    'learning does not downgrade a card',
  );

  const learned = contacts.learn('sip:carol@example.org', carol.publicKey);
  assert.equal(learned.outcome, 'learned');
  assert.equal(learned.contact!.source, 'learned');
  assert.equal(learned.contact!.displayName, null);
  // A later, different key for the learned AOR is refused too: first use pins it.
  assert.equal(contacts.learn('carol@example.org', bob.publicKey).outcome, 'pinned-differs');
  assert.deepEqual(contacts.get('carol@example.org')!.publicKey, carol.publicKey);
  // A card with another key conflicts with the learned key too, and says where it came from.
  const wrong = Identity.fromSeed('carol@example.org', new Uint8Array(32).fill(9));
  assert.throws(
    () => contacts.addCard(createCard(wrong).text),
    (e) => {
      code(ContactErrorCode.KeyConflict)(e);
      assert.match((e as Error).message, /learned on first use/);
      return true;
    },
  );
  // Her real card confirms the learned key: now "card", with its name; created date kept.
  now = 5000;
  const confirmed = contacts.addCard(createCard(carol, { name: 'Carol' }).text);
  assert.equal(confirmed.outcome, 'confirmed');
  assert.equal(confirmed.contact.source, 'card');
  assert.equal(confirmed.contact.displayName, 'Carol');
  assert.equal(confirmed.contact.createdAt, 1000);
  assert.equal(confirmed.contact.updatedAt, 5000);
  assert.deepEqual(
    contacts.list().map((c) => [c.aor, c.source]),
    [
      ['bob@example.org', 'card'],
      ['carol@example.org', 'card'],
    ],
  );
});

test('own card or own key → CONTACT_SELF; learn ignores them', (t) => {
  const { contacts, me } = book(t);
  assert.throws(() => contacts.addCard(createCard(me).text), code(ContactErrorCode.Self));
  const sameKeyOtherAor = Identity.fromSeed('alias@example.org', new Uint8Array(32).fill(1));
  assert.throws(
    () => contacts.addCard(createCard(sameKeyOtherAor).text),
    code(ContactErrorCode.Self),
  );
  assert.equal(contacts.learn('me@example.org', bob.publicKey).outcome, 'self');
  assert.equal(contacts.learn('other@example.org', me.publicKey).outcome, 'self');
  assert.deepEqual(contacts.list(), []);
});

test('bad input gives ContactError codes: a bad card, a bad AOR, unknown contacts', (t) => {
  const { contacts } = book(t);
  assert.throws(
    () => contacts.addCard('p2psip:bob@example.org'),
    code(ContactErrorCode.CardTruncated),
  );
  assert.throws(() => contacts.learn('not an aor', bob.publicKey), code(ContactErrorCode.BadAor));
  assert.throws(() => contacts.remove('nobody@example.org'), code(ContactErrorCode.NotFound));
  assert.throws(() => contacts.remove('nobody'), code(ContactErrorCode.BadAor));
});

test('groups: create, add and remove members, list, delete; removing a contact leaves its groups', (t) => {
  const { contacts } = book(t);
  contacts.addCard(createCard(bob).text);
  contacts.learn('carol@example.org', carol.publicKey);
  assert.equal(contacts.createGroup('family').name, 'family');
  assert.throws(() => contacts.createGroup('Family'), code(ContactErrorCode.GroupExists));
  assert.throws(() => contacts.createGroup('my family'), code(ContactErrorCode.BadGroupName));
  contacts.createGroup('band');
  assert.equal(contacts.addToGroup('family', ['bob@example.org', 'carol@example.org']), 2);
  assert.equal(contacts.addToGroup('band', ['bob@example.org']), 1);
  assert.throws(
    () => contacts.addToGroup('band', ['carol@example.org', 'dave@example.org']),
    code(ContactErrorCode.NotFound),
  );
  assert.deepEqual(contacts.get('carol@example.org')!.groups, ['family'], 'all or nothing');
  assert.throws(
    () => contacts.addToGroup('nope', ['bob@example.org']),
    code(ContactErrorCode.NotFound),
  );
  assert.deepEqual(contacts.get('bob@example.org')!.groups, ['band', 'family']);
  assert.deepEqual(
    contacts.listGroups().map((g) => [g.name, g.members]),
    [
      ['band', ['bob@example.org']],
      ['family', ['bob@example.org', 'carol@example.org']],
    ],
  );
  assert.equal(contacts.removeFromGroup('family', ['bob@example.org', 'dave@example.org']), 1);
  assert.equal(contacts.remove('carol@example.org').aor, 'carol@example.org');
  assert.deepEqual(contacts.listGroups().find((g) => g.name === 'family')!.members, []);
  assert.equal(contacts.deleteGroup('BAND').name, 'band');
  assert.throws(() => contacts.deleteGroup('band'), code(ContactErrorCode.NotFound));
  assert.deepEqual(contacts.get('bob@example.org')!.groups, []);
});
