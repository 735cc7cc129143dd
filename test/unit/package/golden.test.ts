// Golden vectors (test/vectors/package-v1.json, also printed in
// docs/protocol.md): a fixed seed and fixed fields give exactly these bytes.
// The signature is checked with node:crypto and with sodium (HyperDHT's
// library) over the documented signing input, independently of our code.
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fromHex, toHex, utf8 } from '../../../src/crypto/index.js';
import { Identity, openKey } from '../../../src/identity/index.js';
import {
  decodePackage,
  encodePackage,
  type PackageContact,
  verifyPackage,
} from '../../../src/package/index.js';
import golden from '../../vectors/package-v1.json' with { type: 'json' };

const require = createRequire(import.meta.url);

function contacts(
  list: Array<{ transport: string; key?: string; addr?: string }>,
): PackageContact[] {
  return list.map((c) =>
    c.transport === 'hyperdht'
      ? { transport: 'hyperdht', key: fromHex(c.key!) }
      : { transport: c.transport as 'udp' | 'tcp', addr: c.addr! },
  );
}

for (const v of golden.vectors) {
  test(`golden package: ${v.name}`, () => {
    const id = Identity.fromSeed(v.aor, fromHex(v.seed));
    assert.equal(id.publicKeyHex, v.publicKey);
    assert.equal(toHex(openKey(v.aor)), v.openKey);

    const bytes = encodePackage({ ...v.fields, contacts: contacts(v.fields.contacts) }, id);
    assert.equal(Buffer.from(bytes).toString('utf8'), v.package, 'exact bytes');
    assert.equal(bytes.length, v.size);

    const decoded = decodePackage(utf8(v.package));
    assert.equal(Buffer.from(decoded.signedBytes).toString('utf8'), v.signedText);
    assert.equal(toHex(decoded.signature), v.signature);
    assert.equal(decoded.fields.seq, v.fields.seq);
    assert.deepEqual(decoded.fields.contacts, contacts(v.fields.contacts));
    assert.deepEqual(decoded.fields.extensions, v.fields.extensions);

    // The signing input is label ‖ 0x00 ‖ signed text, as documented.
    const input = Buffer.from(v.signingInputHex, 'hex');
    assert.equal(input.toString('latin1'), `p2psip/v1/package-sig\u0000${v.signedText}`);
    const jwk = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: Buffer.from(v.publicKey, 'hex').toString('base64url'),
    };
    const pub = createPublicKey({ key: jwk, format: 'jwk' });
    assert.equal(
      nodeVerify(null, input, pub, Buffer.from(v.signature, 'hex')),
      true,
      'node:crypto',
    );
    const sodium = require('sodium-native');
    assert.equal(
      sodium.crypto_sign_verify_detached(
        Buffer.from(v.signature, 'hex'),
        input,
        Buffer.from(v.publicKey, 'hex'),
      ),
      true,
      'sodium',
    );

    const fields = verifyPackage(utf8(v.package), {
      expectedAor: v.aor,
      expectedKey: fromHex(v.publicKey),
      now: v.fields.created + 60,
    });
    assert.equal(fields.aor, v.aor);
  });
}

test('docs/protocol.md prints the same golden vectors', () => {
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  for (const v of golden.vectors) {
    assert.ok(doc.includes(v.package), `${v.name}: package bytes`);
    assert.ok(doc.includes(v.openKey), `${v.name}: open key`);
  }
  const first = golden.vectors[0]!;
  for (const s of [first.seed, first.publicKey, first.signature, first.signedText])
    assert.ok(doc.includes(s), s);
});
