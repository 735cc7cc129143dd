import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  IdentityError,
  IdentityErrorCode,
  isNormalAor,
  MAX_AOR_LENGTH,
  normalizeAor,
} from '../../../src/identity/index.js';

test('normalizeAor: strips sip:, lowercases the domain, keeps the user part', () => {
  const cases: Array<[string, string]> = [
    ['alice@example.org', 'alice@example.org'],
    ['sip:alice@example.org', 'alice@example.org'],
    ['SIP:Alice@Example.ORG', 'Alice@example.org'],
    ['bob.smith+home@sub-1.example.co.uk', 'bob.smith+home@sub-1.example.co.uk'],
    ['1001@192.0.2.7', '1001@192.0.2.7'],
    ["o'neil(x)@a.b", "o'neil(x)@a.b"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeAor(input), expected, input);
});

test('normalizeAor rejects junk with IDENTITY_BAD_AOR and a reason', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /missing "@"/],
    ['alice', /missing "@"/],
    ['alice@', /domain/],
    ['@example.org', /user part/],
    ['a@b@c.org', /more than one/],
    ['sips:alice@example.org', /unsupported scheme/],
    ['tel:+358@x.org', /unsupported scheme/],
    ['alice@example.org:5060', /port/],
    ['sip:alice@example.org;transport=udp', /parameters/],
    ['al ice@example.org', /character/],
    ['al%41ce@example.org', /character/],
    ['a&b@example.org', /character/],
    ['a<b@example.org', /character/],
    ['alice@exa_mple.org', /DNS name/],
    ['alice@-example.org', /DNS name/],
    ['alice@example..org', /DNS name/],
    ['alice@example.org.', /DNS name/],
    [' alice@example.org', /character/],
    ['alice@ex\u00e4mple.org', /DNS name/],
    [`${'u'.repeat(65)}@x.org`, /1\.\.64/],
    [
      `alice@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
      /domain must have/,
    ],
    [`${'u'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(62)}`, /longer than 254/],
  ];
  for (const [input, why] of bad) {
    assert.throws(
      () => normalizeAor(input),
      (e) =>
        e instanceof IdentityError && e.code === IdentityErrorCode.BadAor && why.test(e.message),
      input,
    );
  }
});

test('the longest accepted AOR is exactly MAX_AOR_LENGTH', () => {
  const aor = `${'u'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(61)}`;
  assert.equal(aor.length, MAX_AOR_LENGTH);
  assert.equal(normalizeAor(aor), aor);
});

test('normalizeAor is idempotent and never throws anything but IdentityError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      try {
        const n = normalizeAor(s);
        assert.equal(normalizeAor(n), n);
        assert.equal(isNormalAor(n), true);
      } catch (e) {
        assert.ok(e instanceof IdentityError, String(e));
      }
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z0-9._+-]{1,20}$/),
      fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}$/),
      (user, domain) => {
        const n = normalizeAor(`sip:${user}@${domain.toUpperCase()}`);
        assert.equal(n, `${user}@${domain}`);
      },
    ),
    { numRuns: 200 },
  );
});
