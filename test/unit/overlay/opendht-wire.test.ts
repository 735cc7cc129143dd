/**
 * The OpenDHT wire format (src/overlay/opendht-wire.ts) and the proxy's reply
 * parsing, without a network: round trips, every tampered byte refused,
 * sizes against the proxy's limit, the type-by-ttl mapping.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { concatBytes } from '../../../src/crypto/bytes.js';
import { ed25519PublicKey } from '../../../src/crypto/ed25519.js';
import { blake2b } from '../../../src/crypto/hash.js';
import { labelled, NS } from '../../../src/crypto/ns.js';
import {
  lookupValueType,
  MAX_SEQ,
  MAX_VALUE_BYTES,
  secretValueType,
} from '../../../src/overlay/index.js';
import { freshValueId, parseValues } from '../../../src/overlay/opendht-proxy.js';
import {
  decodeLookupWrapper,
  decodeSecretWrapper,
  dhtKeyOf,
  encodeLookupWrapper,
  encodeSecretWrapper,
  LOOKUP_OVERHEAD,
  MAX_WIRE_BYTES,
  OpenDhtTag,
  PROXY_VALUE_LIMIT,
  SECRET_OVERHEAD,
  VerifiedWrappers,
  verifyLookupWrapper,
  verifySecretWrapper,
} from '../../../src/overlay/opendht-wire.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

test('opendht wire: DHT keys are 40 hex, BLAKE2b-160 of the tagged label, different for lookup keys and secret addresses', () => {
  const k = bytes(32);
  const lookup = dhtKeyOf(OpenDhtTag.lookupKey, k);
  const secret = dhtKeyOf(OpenDhtTag.secretKey, k);
  assert.match(lookup, /^[0-9a-f]{40}$/);
  assert.notEqual(lookup, secret);
  const expected = blake2b(labelled(NS.opendht, concatBytes(new Uint8Array([1]), k)), 20);
  assert.equal(lookup, Buffer.from(expected).toString('hex'));
  assert.equal(NS.opendht, 'p2psip/v1/opendht');
});

test('opendht wire: a lookup wrapper round-trips and verifies only under its key and publisher', () => {
  const seed = bytes(32);
  const pub = ed25519PublicKey(seed);
  const k = bytes(32);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: MAX_VALUE_BYTES }),
      fc.integer({ min: 0, max: MAX_SEQ }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      (payload, seq, expires) => {
        const encoded = encodeLookupWrapper(k, seed, pub, 2 * seq, expires, payload);
        assert.equal(encoded.byteLength, LOOKUP_OVERHEAD + payload.byteLength);
        const w = decodeLookupWrapper(encoded)!;
        assert.deepEqual(w.payload, payload);
        assert.equal(w.wireSeq, 2 * seq);
        assert.equal(w.expires, expires);
        assert.deepEqual(w.publisher, pub);
        assert.equal(verifyLookupWrapper(k, w), true);
        assert.equal(verifyLookupWrapper(bytes(32), w), false, 'verified under another key');
      },
    ),
    { numRuns: 40 },
  );
});

test('opendht wire: any single changed byte of a wrapper is refused (decode or signature)', () => {
  const seed = bytes(32);
  const k = bytes(32);
  const lookup = encodeLookupWrapper(k, seed, ed25519PublicKey(seed), 10, 1_900_000_000, bytes(40));
  const secret = encodeSecretWrapper(ed25519PublicKey(seed), seed, 5, bytes(40));
  fc.assert(
    fc.property(fc.nat(lookup.byteLength - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const l = lookup.slice();
      l[at]! ^= xor;
      const w = decodeLookupWrapper(l);
      assert.ok(w === undefined || !verifyLookupWrapper(k, w), `lookup byte ${at}`);
      if (at < secret.byteLength) {
        const s = secret.slice();
        s[at]! ^= xor;
        const sw = decodeSecretWrapper(s);
        assert.ok(
          sw === undefined || !verifySecretWrapper(ed25519PublicKey(seed), sw),
          `secret byte ${at}`,
        );
      }
    }),
    { numRuns: 300 },
  );
});

test('opendht wire: malformed wrappers do not decode', () => {
  const seed = bytes(32);
  const pub = ed25519PublicKey(seed);
  const k = bytes(32);
  // A tombstone is empty, and only a tombstone is.
  assert.equal(
    decodeLookupWrapper(encodeLookupWrapper(k, seed, pub, 3, 0, new Uint8Array(1))),
    undefined,
  );
  assert.equal(
    decodeLookupWrapper(encodeLookupWrapper(k, seed, pub, 2, 0, new Uint8Array(0))),
    undefined,
  );
  assert.ok(decodeLookupWrapper(encodeLookupWrapper(k, seed, pub, 3, 0, new Uint8Array(0))));
  // Too short, too long, wrong kind, seq beyond range.
  const ok = encodeLookupWrapper(k, seed, pub, 2, 0, new Uint8Array(5));
  assert.equal(decodeLookupWrapper(ok.subarray(0, LOOKUP_OVERHEAD - 1)), undefined);
  assert.equal(decodeLookupWrapper(concatBytes(ok, new Uint8Array(MAX_VALUE_BYTES))), undefined);
  assert.equal(decodeLookupWrapper(concatBytes(new Uint8Array([2]), ok.subarray(1))), undefined);
  assert.equal(
    decodeLookupWrapper(encodeLookupWrapper(k, seed, pub, 2 * MAX_SEQ + 2, 0, new Uint8Array(1))),
    undefined,
  );
  const secret = encodeSecretWrapper(pub, seed, 1, new Uint8Array(1));
  assert.equal(decodeSecretWrapper(secret.subarray(0, SECRET_OVERHEAD)), undefined, 'empty');
  assert.equal(decodeSecretWrapper(ok), undefined, 'a lookup wrapper is not a secret one');
  assert.equal(decodeLookupWrapper(secret), undefined, 'a secret wrapper is not a lookup one');
});

test('opendht wire: verdicts are cached per (key, bytes), good and bad, least recently used out', () => {
  const cache = new VerifiedWrappers(2);
  let calls = 0;
  const verdict = (ok: boolean) => () => {
    calls++;
    return ok;
  };
  const [k1, k2] = [bytes(32), bytes(32)];
  const w = bytes(120);
  assert.equal(cache.check(k1, w, verdict(true)), true);
  assert.equal(cache.check(k1, w, verdict(false)), true, 'not remembered');
  assert.equal(calls, 1);
  assert.equal(cache.check(k2, w, verdict(false)), false, 'another key is another question');
  assert.equal(cache.check(k2, w, verdict(true)), false);
  assert.equal(calls, 2);
  cache.check(k1, bytes(120), verdict(true)); // evicts (k1, w), the least recently used
  assert.equal(cache.check(k1, w, verdict(false)), false, 'asked again after eviction');
  assert.equal(calls, 4);
});

test('opendht wire: the largest value we put stays far below the proxy limit', () => {
  assert.equal(MAX_WIRE_BYTES, 113 + MAX_VALUE_BYTES);
  const seed = bytes(32);
  const biggest = encodeLookupWrapper(
    bytes(32),
    seed,
    ed25519PublicKey(seed),
    2 * MAX_SEQ,
    2 ** 40,
    bytes(MAX_VALUE_BYTES),
  );
  assert.equal(biggest.byteLength, MAX_WIRE_BYTES);
  assert.ok(Buffer.from(biggest).toString('base64').length < PROXY_VALUE_LIMIT);
});

test('opendht: value types by ttl — 1 min, 10 min (lookups refresh), 7 days for long secrets', () => {
  assert.equal(lookupValueType(1).type, 5);
  assert.equal(lookupValueType(60).type, 5);
  assert.equal(lookupValueType(61).type, 0);
  assert.equal(lookupValueType(7 * 24 * 3600).type, 0);
  assert.equal(secretValueType(60).type, 5);
  assert.equal(secretValueType(600).type, 0);
  assert.equal(secretValueType(601).type, 4);
  assert.ok(secretValueType(48 * 3600).lifetimeMs >= 48 * 3600_000);
});

test('opendht proxy: reply lines are parsed strictly where only the proxy can be at fault', () => {
  assert.deepEqual(parseValues('{"data":"aGk=","id":"7","type":0}\n\n{"data":"","id":8}\n'), [
    { data: new Uint8Array([0x68, 0x69]), id: '7', type: 0 },
    { data: new Uint8Array(0), id: '8' },
  ]);
  // Not plain values (encrypted, expiry notices): skipped.
  assert.deepEqual(parseValues('{"cypher":"AAAA","id":"1"}\n{"expired":true}\n'), []);
  for (const bad of ['nope', '[1]', '"text"', '{"data":"a"}', '{"data":"AB=="}', '{"data":5}x']) {
    assert.throws(() => parseValues(bad), Error, bad);
  }
});

test('opendht proxy: fresh value ids are non-zero uint64 decimals', () => {
  const ids = new Set(Array.from({ length: 200 }, () => freshValueId()));
  assert.equal(ids.size, 200);
  for (const id of ids) {
    assert.match(id, /^[1-9][0-9]{0,19}$/);
    assert.ok(BigInt(id) < 2n ** 64n);
  }
});
