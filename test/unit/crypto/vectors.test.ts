// Official vectors (test/vectors/*.json, byte-exact copies of the RFC / draft
// appendices) through our wrappers, each also checked against node:crypto
// where node has the primitive — two independent implementations must agree.

import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { test } from 'node:test';
import {
  aeadOpen,
  aeadSeal,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  fromHex,
  hkdfSha256,
  toHex,
  utf8,
} from '../../../src/crypto/index.js';
import ed from '../../vectors/ed25519-rfc8032.json' with { type: 'json' };
import hkdf from '../../vectors/hkdf-rfc5869.json' with { type: 'json' };
import xchacha from '../../vectors/xchacha20poly1305-draft.json' with { type: 'json' };

/** A node:crypto key object from a raw Ed25519 seed (PKCS#8 DER prefix + seed). */
function nodePrivateKey(seed: Uint8Array) {
  const prefix = fromHex('302e020100300506032b657004220420');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}
function nodePublicKey(pub: Uint8Array) {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub).toString('base64url') },
    format: 'jwk',
  });
}

for (const v of ed.vectors) {
  test(`Ed25519 RFC 8032 ${v.name}: public key, signature, verification`, () => {
    const seed = fromHex(v.secretKey);
    const msg = fromHex(v.message);
    assert.equal(toHex(ed25519PublicKey(seed)), v.publicKey);
    assert.equal(toHex(ed25519Sign(msg, seed)), v.signature);
    assert.equal(ed25519Verify(fromHex(v.signature), msg, fromHex(v.publicKey)), true);
    // node:crypto agrees on both sides.
    assert.equal(toHex(nodeSign(null, msg, nodePrivateKey(seed))), v.signature);
    assert.equal(
      nodeVerify(null, msg, nodePublicKey(fromHex(v.publicKey)), fromHex(v.signature)),
      true,
    );
  });
}

test('Ed25519 verify rejects a flipped bit in signature, message or key, and bad lengths', () => {
  const v = ed.vectors[1]!;
  const sig = fromHex(v.signature);
  const msg = fromHex(v.message);
  const pub = fromHex(v.publicKey);
  for (let i = 0; i < 64; i++) {
    const bad = sig.slice();
    bad[i]! ^= 0x01;
    assert.equal(ed25519Verify(bad, msg, pub), false, `signature byte ${i}`);
  }
  assert.equal(ed25519Verify(sig, fromHex('73'), pub), false);
  const badPub = pub.slice();
  badPub[0]! ^= 0x01;
  assert.equal(ed25519Verify(sig, msg, badPub), false);
  assert.equal(ed25519Verify(sig.subarray(0, 63), msg, pub), false);
  assert.equal(ed25519Verify(sig, msg, pub.subarray(0, 31)), false);
});

for (const v of hkdf.vectors) {
  test(`HKDF-SHA256 RFC 5869 ${v.name}, and node:crypto hkdfSync agrees`, () => {
    const okm = hkdfSha256(fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.length);
    assert.equal(toHex(okm), v.okm);
    const node = new Uint8Array(
      hkdfSync('sha256', fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.length),
    );
    assert.equal(toHex(node), v.okm);
  });
}

for (const v of xchacha.vectors) {
  test(`XChaCha20-Poly1305 draft ${v.name}: seal gives ciphertext ‖ tag, open inverts`, () => {
    const key = fromHex(v.key);
    const nonce = fromHex(v.nonce);
    const aad = fromHex(v.aad);
    const sealed = aeadSeal(key, nonce, utf8(v.plaintext), aad);
    assert.equal(toHex(sealed), v.ciphertext + v.tag);
    assert.equal(Buffer.from(aeadOpen(key, nonce, sealed, aad)).toString('utf8'), v.plaintext);
  });
}
