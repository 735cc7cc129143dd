import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { aeadSeal } from '../../../src/crypto/index.js';
import {
  MIN_RECORD_SIZE,
  maxPackageBytes,
  openRecord,
  PrivacyError,
  PrivacyErrorCode,
  RECORD_OVERHEAD,
  RECORD_SIZE,
  sealRecord,
} from '../../../src/privacy/index.js';
import packages from '../../vectors/package-v1.json' with { type: 'json' };
import { code, fill } from './fixtures.js';

const key = fill(32, 0x42);

test('v1 records are 1,000 bytes and carry packages up to 957 bytes (the largest real one is 860)', () => {
  assert.equal(RECORD_SIZE, 1000);
  assert.equal(RECORD_OVERHEAD, 41);
  assert.equal(maxPackageBytes(), 957);
  for (const v of packages.vectors) {
    const pkg = new TextEncoder().encode(v.package);
    const rec = sealRecord(pkg, key);
    assert.equal(rec.length, RECORD_SIZE);
    assert.deepEqual(openRecord(rec, key), pkg);
  }
  const biggest = fill(860, 0x3c);
  assert.deepEqual(openRecord(sealRecord(biggest, key), key), biggest);
});

test('ciphertext ≤ 1.05 × the padded plaintext', () => {
  const padded = RECORD_SIZE - RECORD_OVERHEAD; // u16 length ‖ package ‖ zero pad
  const ratio = sealRecord(fill(387, 1), key).length / padded;
  assert.ok(ratio <= 1.05, `ratio ${ratio}`);
  assert.equal(padded, 959);
});

test('every package size gives the same record length (fast-check, sizes 1..957)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: maxPackageBytes() }), (pkg) => {
      const rec = sealRecord(pkg, key);
      assert.equal(rec.length, RECORD_SIZE);
      assert.deepEqual(openRecord(rec, key), pkg);
      return true;
    }),
    { numRuns: 100 },
  );
});

test('a package too large, an empty one or a bad key or size is refused', () => {
  assert.equal(
    code(() => sealRecord(fill(958, 1), key)),
    PrivacyErrorCode.PackageTooLarge,
  );
  assert.equal(
    code(() => sealRecord(new Uint8Array(0), key)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => sealRecord(fill(10, 1), fill(31, 1))),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => sealRecord(fill(10, 1), key, { size: 1001 })),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => sealRecord(fill(10, 1), key, { size: MIN_RECORD_SIZE - 1 })),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => sealRecord(fill(10, 1), key, { nonce: fill(12, 0) })),
    PrivacyErrorCode.BadArgument,
  );
  // A smaller size works both ways (and is then the only size the reader accepts).
  const small = sealRecord(fill(10, 1), key, { size: 100 });
  assert.equal(small.length, 100);
  assert.deepEqual(openRecord(small, key, { size: 100 }), fill(10, 1));
  assert.equal(
    code(() => openRecord(small, key)),
    PrivacyErrorCode.RecordMalformed,
  );
});

test('fresh nonces: sealing the same package twice gives different records', () => {
  const pkg = fill(100, 7);
  assert.notDeepEqual(sealRecord(pkg, key), sealRecord(pkg, key));
});

test('another key is PRIVACY_RECORD_AUTH', () => {
  const rec = sealRecord(fill(100, 7), key);
  assert.equal(
    code(() => openRecord(rec, fill(32, 0x43))),
    PrivacyErrorCode.RecordAuth,
  );
});

test('fuzz: every mutated record is refused with a PrivacyError', () => {
  const rec = sealRecord(fill(387, 0x61), key);
  fc.assert(
    fc.property(
      fc.nat(RECORD_SIZE - 1),
      fc.integer({ min: 1, max: 255 }),
      fc.constantFrom('flip', 'cut', 'grow'),
      (at, xor, kind) => {
        let bad: Uint8Array;
        if (kind === 'cut') bad = rec.slice(0, at);
        else if (kind === 'grow') bad = Uint8Array.from([...rec, xor]);
        else {
          bad = rec.slice();
          bad[at]! ^= xor;
        }
        try {
          openRecord(bad, key);
          return false;
        } catch (err) {
          return err instanceof PrivacyError;
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('authentic but malformed plaintexts (bad length prefix, non-zero padding) are PRIVACY_RECORD_MALFORMED', () => {
  const nonce = fill(24, 1);
  const seal = (padded: Uint8Array) =>
    Uint8Array.from([1, ...nonce, ...aeadSeal(key, nonce, padded, Uint8Array.of(1))]);
  const padded = new Uint8Array(RECORD_SIZE - RECORD_OVERHEAD);
  assert.equal(
    code(() => openRecord(seal(padded), key)),
    PrivacyErrorCode.RecordMalformed,
    'length 0',
  );
  padded[0] = 0x04; // length 1024 > 957
  assert.equal(
    code(() => openRecord(seal(padded), key)),
    PrivacyErrorCode.RecordMalformed,
    'too long',
  );
  padded[0] = 0;
  padded[1] = 3;
  padded[500] = 1; // a byte after the package that is not zero
  assert.equal(
    code(() => openRecord(seal(padded), key)),
    PrivacyErrorCode.RecordMalformed,
    'padding',
  );
  padded[500] = 0;
  assert.equal(openRecord(seal(padded), key).length, 3);
  const v2 = sealRecord(fill(3, 1), key);
  v2[0] = 2;
  assert.equal(
    code(() => openRecord(v2, key)),
    PrivacyErrorCode.RecordMalformed,
    'version',
  );
});
