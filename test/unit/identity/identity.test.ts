import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { inspect } from 'node:util';
import {
  ed25519Verify,
  fromHex,
  labelled,
  NS,
  toHex,
  utf8,
  verifyLabelled,
} from '../../../src/crypto/index.js';
import {
  Identity,
  IdentityError,
  IdentityErrorCode,
  openKey,
} from '../../../src/identity/index.js';

const require = createRequire(import.meta.url);

const SEED = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

test('hyperdhtKeyPair matches require("hyperdht").keyPair(seed): same public key, seed ‖ pub layout', () => {
  const DHT = require('hyperdht');
  const id = Identity.fromSeed('alice@example.org', SEED);
  const ours = id.hyperdhtKeyPair();
  const theirs = DHT.keyPair(Buffer.from(SEED));
  assert.ok(Buffer.isBuffer(ours.publicKey) && Buffer.isBuffer(ours.secretKey));
  assert.equal(ours.publicKey.toString('hex'), theirs.publicKey.toString('hex'));
  assert.equal(ours.secretKey.toString('hex'), theirs.secretKey.toString('hex'));
  assert.equal(ours.secretKey.length, 64);
  assert.equal(toHex(ours.secretKey.subarray(0, 32)), toHex(SEED));
  assert.equal(toHex(ours.secretKey.subarray(32)), id.publicKeyHex);
});

test("Identity.sign is labelled Ed25519, verifiable by sodium (HyperDHT's library)", () => {
  const sodium = require('sodium-native');
  const id = Identity.fromSeed('alice@example.org', SEED);
  const msg = utf8('hello');
  const sig = id.sign(NS.packageSig, msg);
  assert.equal(verifyLabelled(NS.packageSig, sig, msg, id.publicKey), true);
  assert.equal(
    ed25519Verify(sig, msg, id.publicKey),
    false,
    'the label is part of the signed bytes',
  );
  const signed = Buffer.from(labelled(NS.packageSig, msg));
  assert.equal(
    sodium.crypto_sign_verify_detached(Buffer.from(sig), signed, Buffer.from(id.publicKey)),
    true,
  );
});

test('openKey: golden value, equal to sodium crypto_generichash, same for every spelling of an AOR', () => {
  const sodium = require('sodium-native');
  const expected = '73a945b22461339f3bb7ea00fbb2c60645ea4289a97703487739fc75ff2a883c';
  assert.equal(toHex(openKey('alice@example.org')), expected);
  assert.equal(toHex(openKey('SIP:alice@EXAMPLE.org')), expected);
  const out = Buffer.alloc(32);
  sodium.crypto_generichash(out, Buffer.from('p2psip/v1/open-key\u0000alice@example.org'));
  assert.equal(out.toString('hex'), expected);
  assert.notEqual(toHex(openKey('Alice@example.org')), expected, 'user parts are case-sensitive');
  assert.throws(() => openKey('not an aor'), IdentityError);
});

test('generate gives distinct keys; fromRecord round trip; corrupt record → IDENTITY_KEY_MISMATCH', () => {
  const a = Identity.generate('alice@example.org');
  const b = Identity.generate('alice@example.org');
  assert.notEqual(a.publicKeyHex, b.publicKeyHex);
  const rec = a.toRecord();
  assert.equal(Identity.fromRecord(rec).publicKeyHex, a.publicKeyHex);
  assert.throws(
    () => Identity.fromRecord({ ...rec, publicKey: b.publicKey }),
    (e) => e instanceof IdentityError && e.code === IdentityErrorCode.KeyMismatch,
  );
  assert.throws(() => Identity.generate('nope'), IdentityError);
});

test('the seed does not leak through JSON, inspect or enumeration', () => {
  const id = Identity.fromSeed('alice@example.org', SEED);
  const seedHex = toHex(SEED);
  assert.deepEqual(JSON.parse(JSON.stringify(id)), {
    aor: 'alice@example.org',
    publicKey: id.publicKeyHex,
  });
  assert.ok(!inspect(id, { showHidden: true, depth: 5 }).includes(seedHex));
  assert.ok(!inspect(id).includes('0, 1, 2, 3'));
  assert.deepEqual(Object.keys(id), ['aor']);
  // Mutating returned keys does not change the identity.
  id.publicKey.fill(0);
  assert.notEqual(id.publicKeyHex, '00'.repeat(32));
});

test('agree: both sides derive the same key; label and context separate keys', () => {
  const a = Identity.generate('alice@example.org');
  const b = Identity.generate('bob@example.org');
  const ctx = utf8('alice@example.org\u0000bob@example.org');
  const ab = a.agree(NS.pairSecret, b.publicKey, ctx);
  assert.equal(toHex(ab), toHex(b.agree(NS.pairSecret, a.publicKey, ctx)));
  assert.equal(ab.length, 32);
  assert.notEqual(toHex(ab), toHex(a.agree(NS.recordKey, b.publicKey, ctx)));
  assert.notEqual(toHex(ab), toHex(a.agree(NS.pairSecret, b.publicKey)));
});

test('after wipe() the identity refuses to sign', () => {
  const id = Identity.generate('alice@example.org');
  id.wipe();
  for (const use of [
    () => id.sign(NS.packageSig, utf8('x')),
    () => id.hyperdhtKeyPair(),
    () => id.toRecord(),
    () => id.agree(NS.pairSecret, Identity.generate('b@x.org').publicKey),
  ]) {
    assert.throws(use, (e) => e instanceof IdentityError && e.code === IdentityErrorCode.Wiped);
  }
});
