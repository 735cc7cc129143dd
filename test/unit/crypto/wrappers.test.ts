// Behaviour of the thin wrappers beyond the official vectors: strict codecs,
// the labelled forms, AEAD failure modes, X25519 from Ed25519, input asserts.

import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  blake2b,
  CryptoError,
  CryptoErrorCode,
  deriveKey,
  ed25519PublicKey,
  equalBytes,
  fromBase64url,
  fromHex,
  hkdfSha256,
  labelled,
  labelledHash,
  NS,
  openBox,
  randomBytes,
  sealBox,
  sha256,
  signLabelled,
  toBase64url,
  toHex,
  utf8,
  verifyLabelled,
  wipe,
  x25519PublicFromEd25519,
  x25519SecretFromEd25519Seed,
  x25519Shared,
} from '../../../src/crypto/index.js';

function code(err: unknown): string | undefined {
  return err instanceof CryptoError ? err.code : undefined;
}

test('sha256 matches node:crypto on random inputs', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      assert.equal(toHex(sha256(data)), createHash('sha256').update(data).digest('hex'));
    }),
    { numRuns: 200 },
  );
});

test('blake2b-512 matches node:crypto; digest length is honoured', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      assert.equal(toHex(blake2b(data, 64)), createHash('blake2b512').update(data).digest('hex'));
    }),
    { numRuns: 100 },
  );
  assert.equal(blake2b(utf8('x')).length, 32);
  assert.throws(() => blake2b(utf8('x'), 65), RangeError);
});

test('hkdfSha256 matches node:crypto hkdfSync on random inputs', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 80 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 1, max: 255 }),
      (ikm, salt, info, len) => {
        const node = new Uint8Array(hkdfSync('sha256', ikm, salt, info, len));
        assert.equal(toHex(hkdfSha256(ikm, salt, info, len)), toHex(node));
      },
    ),
    { numRuns: 100 },
  );
});

test('labelled() is label ‖ 0x00 ‖ data; labelled hash/derive/sign depend on the label', () => {
  assert.equal(
    Buffer.from(labelled(NS.openKey, utf8('a'))).toString('latin1'),
    'p2psip/v1/open-key\u0000a',
  );
  const data = utf8('alice@example.org');
  assert.notEqual(toHex(labelledHash(NS.openKey, data)), toHex(labelledHash(NS.packageSig, data)));
  assert.equal(toHex(labelledHash(NS.openKey, data)), toHex(blake2b(labelled(NS.openKey, data))));
  const ikm = randomBytes(32);
  assert.notEqual(toHex(deriveKey(NS.pairSecret, ikm)), toHex(deriveKey(NS.recordKey, ikm)));
  assert.notEqual(
    toHex(deriveKey(NS.pairSecret, ikm, { context: utf8('a') })),
    toHex(deriveKey(NS.pairSecret, ikm, { context: utf8('b') })),
  );
  assert.equal(deriveKey(NS.pairSecret, ikm, { length: 64 }).length, 64);

  const seed = randomBytes(32);
  const pub = ed25519PublicKey(seed);
  const sig = signLabelled(NS.packageSig, data, seed);
  assert.equal(verifyLabelled(NS.packageSig, sig, data, pub), true);
  assert.equal(
    verifyLabelled(NS.openKey, sig, data, pub),
    false,
    'a signature under one label is useless under another',
  );
});

test('NS labels are unique, versioned ASCII without NUL', () => {
  const values = Object.values(NS);
  assert.equal(new Set(values).size, values.length);
  for (const v of values) assert.match(v, /^p2psip\/v1\/[a-z0-9-]+$/);
});

test('hex and base64url codecs round-trip and are strict', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (data) => {
      assert.deepEqual(fromHex(toHex(data)), data);
      assert.deepEqual(fromBase64url(toBase64url(data)), data);
    }),
    { numRuns: 200 },
  );
  for (const bad of ['0', 'AB', 'zz', '0 1']) {
    assert.throws(
      () => fromHex(bad),
      (e) => code(e) === CryptoErrorCode.BadEncoding,
      bad,
    );
  }
  // 'AB' → one byte 0x00 with 4 non-zero unused bits: non-canonical. 'AA==': padding.
  for (const bad of ['AB', 'AA==', 'A', 'a+b/', 'AA AA', 'AA\n']) {
    assert.throws(
      () => fromBase64url(bad),
      (e) => code(e) === CryptoErrorCode.BadEncoding,
      bad,
    );
  }
});

test('equalBytes and wipe', () => {
  assert.equal(equalBytes(utf8('abc'), utf8('abc')), true);
  assert.equal(equalBytes(utf8('abc'), utf8('abd')), false);
  assert.equal(equalBytes(utf8('abc'), utf8('ab')), false);
  const secret = randomBytes(32);
  wipe(secret);
  assert.deepEqual(secret, new Uint8Array(32));
});

test('sealBox/openBox round trip; any change or wrong key/aad → CRYPTO_AUTH_FAILED', () => {
  const key = randomBytes(32);
  const aad = utf8('record 7');
  const box = sealBox(key, utf8('hello'), aad);
  assert.equal(box.length, 24 + 5 + 16);
  assert.equal(Buffer.from(openBox(key, box, aad)).toString(), 'hello');
  for (let i = 0; i < box.length; i++) {
    const bad = box.slice();
    bad[i]! ^= 0x80;
    assert.throws(
      () => openBox(key, bad, aad),
      (e) => code(e) === CryptoErrorCode.AuthFailed,
      `byte ${i}`,
    );
  }
  assert.throws(
    () => openBox(randomBytes(32), box, aad),
    (e) => code(e) === CryptoErrorCode.AuthFailed,
  );
  assert.throws(
    () => openBox(key, box, utf8('record 8')),
    (e) => code(e) === CryptoErrorCode.AuthFailed,
  );
  assert.throws(
    () => openBox(key, box.subarray(0, 30), aad),
    (e) => code(e) === CryptoErrorCode.AuthFailed,
  );
  assert.notEqual(
    toHex(sealBox(key, utf8('hello'), aad)),
    toHex(box),
    'fresh random nonce each time',
  );
});

test('X25519 from Ed25519 identities: both sides derive the same secret', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const ab = x25519Shared(
    x25519SecretFromEd25519Seed(a),
    x25519PublicFromEd25519(ed25519PublicKey(b)),
  );
  const ba = x25519Shared(
    x25519SecretFromEd25519Seed(b),
    x25519PublicFromEd25519(ed25519PublicKey(a)),
  );
  assert.equal(toHex(ab), toHex(ba));
  const c = randomBytes(32);
  const ac = x25519Shared(
    x25519SecretFromEd25519Seed(a),
    x25519PublicFromEd25519(ed25519PublicKey(c)),
  );
  assert.notEqual(toHex(ab), toHex(ac));
  // A low-order point (all zeros) is refused, not turned into a zero secret.
  assert.throws(
    () => x25519Shared(x25519SecretFromEd25519Seed(a), new Uint8Array(32)),
    (e) => code(e) === CryptoErrorCode.BadPoint,
  );
});

test('Ed25519 → X25519 conversion equals libsodium crypto_sign_ed25519_{pk,sk}_to_curve25519', () => {
  const sodium = createRequire(import.meta.url)('sodium-native');
  for (let i = 0; i < 5; i++) {
    const seed = randomBytes(32);
    const pub = ed25519PublicKey(seed);
    const xPub = Buffer.alloc(32);
    sodium.crypto_sign_ed25519_pk_to_curve25519(xPub, Buffer.from(pub));
    assert.equal(toHex(x25519PublicFromEd25519(pub)), xPub.toString('hex'));
    const xSec = Buffer.alloc(32);
    sodium.crypto_sign_ed25519_sk_to_curve25519(xSec, Buffer.concat([seed, pub]));
    assert.equal(toHex(x25519SecretFromEd25519Seed(seed)), xSec.toString('hex'));
  }
});

test('length asserts name the input', () => {
  assert.throws(
    () => ed25519PublicKey(new Uint8Array(31)),
    (e) => {
      return (
        code(e) === CryptoErrorCode.BadLength &&
        /seed: expected 32 bytes, got 31/.test((e as Error).message)
      );
    },
  );
  assert.throws(
    () => sealBox(new Uint8Array(16), utf8('x')),
    (e) => code(e) === CryptoErrorCode.BadLength,
  );
  assert.throws(
    () => sha256('text' as unknown as Uint8Array),
    (e) => code(e) === CryptoErrorCode.BadLength,
  );
  assert.equal(fromHex(toHex(fromHex('00ff'))).length, 2);
});
