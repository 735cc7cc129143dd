/**
 * Contact cards (src/contacts/card.ts): golden vectors cross-checked with
 * node:crypto's Ed25519, round trips, and every rejection with its code.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CARD_SCHEME,
  checkDisplayName,
  createCard,
  MAX_CARD_LENGTH,
  parseCard,
  shortFingerprint,
} from '../../../src/contacts/card.js';
import { ContactError, ContactErrorCode } from '../../../src/contacts/errors.js';
import { fromHex, toBase64url, toHex, utf8 } from '../../../src/crypto/bytes.js';
import { labelled, NS } from '../../../src/crypto/ns.js';
import { Identity } from '../../../src/identity/identity.js';

interface Vector {
  name: string;
  seed: string;
  publicKey: string;
  aor: string;
  displayName?: string;
  card: string;
  signedText: string;
  signature: string;
}
const VECTORS = (
  JSON.parse(readFileSync(new URL('./card-v1.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;
const V0 = VECTORS[0]!;
const V1 = VECTORS[1]!;
const GOOD = V1.card;

function code(c: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ContactError, `not a ContactError: ${String(e)}`);
    assert.equal(e.code, c, e.message);
    return true;
  };
}

function identityOf(v: Vector): Identity {
  return Identity.fromSeed(v.aor, fromHex(v.seed));
}

test('golden vectors: createCard gives the exact text; node:crypto signs the same bytes identically', () => {
  assert.equal(VECTORS.length, 3);
  for (const v of VECTORS) {
    const card = createCard(
      identityOf(v),
      v.displayName === undefined ? {} : { name: v.displayName },
    );
    assert.equal(card.text, v.card, v.name);
    assert.equal(card.text, `${v.signedText}&sig=${toBase64url(fromHex(v.signature))}`);
    // An independent Ed25519 (OpenSSL via node:crypto) over labelled(NS.contactCard, signed text).
    const message = labelled(NS.contactCard, utf8(v.signedText));
    const der = Buffer.concat([
      Buffer.from('302e020100300506032b657004220420', 'hex'),
      fromHex(v.seed),
    ]);
    const sk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    assert.equal(sign(null, message, sk).toString('hex'), v.signature, v.name);
    const spki = Buffer.concat([
      Buffer.from('302a300506032b6570032100', 'hex'),
      fromHex(v.publicKey),
    ]);
    const pk = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    assert.ok(verify(null, message, pk, fromHex(v.signature)));
    const parsed = parseCard(v.card);
    assert.equal(parsed.aor, v.aor);
    assert.equal(toHex(parsed.publicKey), v.publicKey);
    assert.equal(parsed.name, v.displayName);
    assert.equal(toHex(parsed.signature), v.signature);
    assert.equal(parsed.text, v.card);
  }
  assert.equal(NS.contactCard, 'p2psip/v1/contact-card');
});

const userChar = fc.constantFrom(..."abcXYZ019-_.!~*'()=+$,;?/");
const aorArb = fc
  .tuple(
    fc.array(userChar, { minLength: 1, maxLength: 64 }),
    fc.stringMatching(/^[a-z0-9]{1,20}(\.[a-z0-9]{1,20}){0,3}$/),
  )
  .map(([user, domain]) => `${user.join('')}@${domain}`);
/** Any string checkDisplayName accepts (most random strings are filtered out by its rules). */
const nameArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .map((s) => s.normalize('NFC'))
  .filter((s) => {
    try {
      checkDisplayName(s);
      return true;
    } catch {
      return false;
    }
  });

test('round trip: any AOR, key and display name parse back to the same fields and text', () => {
  fc.assert(
    fc.property(
      aorArb,
      fc.option(nameArb, { nil: undefined }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (aor, name, seed) => {
        const id = Identity.fromSeed(aor, seed);
        const card = createCard(id, name === undefined ? {} : { name });
        assert.match(card.text, /^[\x21-\x7e]+$/, 'printable ASCII, no spaces');
        assert.ok(card.text.length <= 730);
        const back = parseCard(card.text);
        assert.equal(back.aor, aor);
        assert.equal(back.name, name);
        assert.deepEqual(back.publicKey, id.publicKey);
        assert.equal(back.text, card.text);
        assert.equal(
          createCard(id, name === undefined ? {} : { name }).text,
          card.text,
          'deterministic',
        );
      },
    ),
    { numRuns: 150 },
  );
});

test('the longest card is 730 characters (all-"?" user, longest domain, 64 escaped name bytes)', () => {
  const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(61)}`;
  const aor = `${'?'.repeat(64)}@${domain}`;
  assert.equal(aor.length, 254);
  const name = `${'€'.repeat(21)}!`;
  assert.equal(utf8(name).length, 64);
  const card = createCard(Identity.fromSeed(aor, new Uint8Array(32).fill(9)), { name });
  assert.equal(card.text.length, 730);
  assert.ok(card.text.length < MAX_CARD_LENGTH);
  assert.equal(parseCard(card.text).name, name);
});

test('tampered cards: any change to the AOR, key, name or signature → CONTACT_CARD_BAD_SIGNATURE', () => {
  const other = createCard(Identity.fromSeed('alice@example.org', new Uint8Array(32).fill(5)), {
    name: 'Alice Liddell',
  });
  const otherKey = other.text.match(/key=([^&]+)/)![1]!;
  const sigAt = GOOD.indexOf('&sig=') + 5;
  const tampered = [
    GOOD.replace('alice@', 'alicf@'),
    GOOD.replace('example.org', 'example.com'),
    GOOD.replace(/key=[^&]+/, `key=${otherKey}`), // a valid key that did not sign
    GOOD.replace('Alice%20Liddell', 'Alice%20Lidell'),
    GOOD.replace('&name=Alice%20Liddell', ''), // a name dropped
    GOOD.replace(/&sig=.*/, other.text.slice(other.text.indexOf('&sig='))), // another key's signature
    `${GOOD.slice(0, sigAt + 10)}${GOOD[sigAt + 10] === 'A' ? 'B' : 'A'}${GOOD.slice(sigAt + 11)}`,
    V0.card.replace('&sig=', '&name=Mallory&sig='), // a name added to a card without one
  ];
  for (const t of tampered) {
    assert.notEqual(t, GOOD);
    assert.throws(() => parseCard(t), code(ContactErrorCode.CardBadSignature), t);
  }
});

test('truncated cards: every cut after "p2psip:" → CONTACT_CARD_TRUNCATED; before it → not a card', () => {
  for (let n = 0; n < GOOD.length; n++) {
    const cut = GOOD.slice(0, n);
    const expected =
      n >= CARD_SCHEME.length ? ContactErrorCode.CardTruncated : ContactErrorCode.CardMalformed;
    assert.throws(() => parseCard(cut), code(expected), cut);
  }
  // What a shell leaves of an unquoted card: it ends the command at the first "&".
  assert.throws(
    () => parseCard(GOOD.slice(0, GOOD.indexOf('&'))),
    code(ContactErrorCode.CardTruncated),
  );
});

test('other versions → CONTACT_CARD_UNSUPPORTED_VERSION, before their fields are judged', () => {
  for (const v of ['2', '0', '10']) {
    assert.throws(
      () => parseCard(GOOD.replace('v=1', `v=${v}`)),
      code(ContactErrorCode.CardUnsupportedVersion),
    );
  }
  // A future version may have other fields and no sig at all: still "unsupported", not "truncated".
  assert.throws(
    () => parseCard('p2psip:alice@example.org?v=2&pk=xyz&proof=abc'),
    code(ContactErrorCode.CardUnsupportedVersion),
  );
  assert.throws(() => parseCard(GOOD.replace('v=1', 'v=01')), code(ContactErrorCode.CardMalformed));
  assert.throws(
    () => parseCard(GOOD.replace('v=1', 'v=one')),
    code(ContactErrorCode.CardMalformed),
  );
});

test('non-canonical spellings of valid fields → CONTACT_CARD_NON_CANONICAL', () => {
  const keyPart = GOOD.match(/&key=[^&]+/)![0];
  const cases: [string, string][] = [
    ['scheme in capitals', GOOD.replace('p2psip:', 'P2PSIP:')],
    ['escaped unreserved character in the AOR', GOOD.replace('alice@', '%61lice@')],
    ['domain not lowercase', GOOD.replace('example.org', 'Example.org')],
    ['sip: inside the AOR', GOOD.replace('p2psip:', 'p2psip:sip:')],
    ['lowercase hex in an escape', GOOD.replace('%20', '%2b')],
    ['"+" for a space', GOOD.replace('%20', '+')],
    ['escaped unreserved character in the name', GOOD.replace('Alice', '%41lice')],
    ['fields out of order', GOOD.replace(`?v=1${keyPart}`, `?${keyPart.slice(1)}&v=1`)],
    [
      'name before key',
      GOOD.replace(`${keyPart}&name=Alice%20Liddell`, `&name=Alice%20Liddell${keyPart}`),
    ],
  ];
  const vq = VECTORS[2]!.card;
  cases.push(['lowercase %3f in the AOR', vq.replace('%3F', '%3f')]);
  for (const [why, text] of cases) {
    assert.notEqual(text, GOOD, why);
    assert.throws(() => parseCard(text), code(ContactErrorCode.CardNonCanonical), why);
  }
});

test('malformed cards → CONTACT_CARD_MALFORMED; too long → CONTACT_CARD_TOO_LONG', () => {
  const cases: [string, string][] = [
    ['another scheme', GOOD.replace('p2psip:', 'sip:')],
    ['a space', GOOD.replace('Alice%20', 'Alice ')],
    ['a trailing newline', `${GOOD}\n`],
    ['non-ASCII', GOOD.replace('Alice', 'Alicé')],
    ['unknown field', GOOD.replace('&sig=', '&x=1&sig=')],
    ['duplicate field', GOOD.replace('&sig=', '&name=Bob&sig=')],
    ['field without "="', GOOD.replace('&name=Alice%20Liddell', '&name')],
    ['no key', GOOD.replace(/&key=[^&]+/, '')],
    ['key of 31 bytes', GOOD.replace(/key=[^&]+/, `key=${toBase64url(new Uint8Array(31))}`)],
    ['key not base64url', GOOD.replace(/key=[^&]+/, `key=${'+'.repeat(43)}`)],
    [
      'key with non-zero padding bits',
      GOOD.replace(/key=([^&]+)/, (_, k: string) => `key=${k.slice(0, -1)}h`),
    ],
    ['no AOR', GOOD.replace('alice@example.org', '')],
    ['not an AOR', GOOD.replace('alice@example.org', 'alice')],
    ['a % escape that is not UTF-8', GOOD.replace('Alice%20', 'Alice%FF')],
    ['a bad % escape', GOOD.replace('Alice%20', 'Alice%2')],
    ['a control character in the name', GOOD.replace('Alice%20', 'Alice%07')],
    ['a bidi override in the name', GOOD.replace('Alice%20', 'Alice%E2%80%AE')],
    ['a name of white space', GOOD.replace('Alice%20Liddell', '%20')],
    ['an empty name', GOOD.replace('Alice%20Liddell', '')],
    ['a name longer than 64 bytes', GOOD.replace('Alice%20Liddell', 'x'.repeat(65))],
    ['text after the signature', `${GOOD}&x=1`],
    ['a signature with a bad character', GOOD.replace(/.$/, '=')],
    ['a 87-character signature', `${GOOD}A`],
  ];
  for (const [why, text] of cases) {
    assert.throws(() => parseCard(text), code(ContactErrorCode.CardMalformed), why);
  }
  // A raw "?" in the user part starts the query (RFC 3986): the rest is no field.
  const raw = VECTORS[2]!.card.replace('what%3Fnow', 'what?now');
  assert.throws(() => parseCard(raw), code(ContactErrorCode.CardMalformed));
  assert.throws(
    () => parseCard(`${GOOD}${'A'.repeat(MAX_CARD_LENGTH)}`),
    code(ContactErrorCode.CardTooLong),
  );
  assert.throws(() => parseCard(42 as unknown as string), code(ContactErrorCode.CardMalformed));
});

test('display names: the rules createCard enforces too', () => {
  for (const ok of ['Bob', 'Zoë & Co', '山田 太郎', 'x'.repeat(64), '🙂']) {
    assert.equal(checkDisplayName(ok), ok);
  }
  const bad = [
    '',
    ' Bob',
    'Bob ',
    'Bo\nb',
    'Bo\u202eb',
    'Bo\u200bb',
    'x'.repeat(65),
    'e\u0301',
    '\ud800',
  ];
  for (const b of bad) {
    assert.throws(
      () => checkDisplayName(b),
      code(ContactErrorCode.CardMalformed),
      JSON.stringify(b),
    );
  }
  assert.throws(
    () => createCard(identityOf(V0), { name: ' padded' }),
    code(ContactErrorCode.CardMalformed),
  );
});

test('shortFingerprint is the first 16 hex characters of the key', () => {
  assert.equal(shortFingerprint(fromHex(V0.publicKey)), V0.publicKey.slice(0, 16));
});

const SNIPPETS = [
  '&',
  '=',
  '?',
  '%',
  '%3F',
  '%00',
  '&sig=',
  '&v=2',
  'v=1',
  'p2psip:',
  ' ',
  'é',
  '\u0000',
  '\ud800',
  '#',
];

test('fuzz: mutations of a valid card throw only ContactError, and only the card itself is accepted', () => {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('replace' as const),
      at: fc.nat(),
      ch: fc.integer({ min: 0x20, max: 0x7e }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      ch: fc.integer({ min: 0, max: 0xffff }),
    }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 20 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat(),
      snippet: fc.constantFrom(...SNIPPETS),
    }),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...VECTORS.map((v) => v.card)),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (card, mutations) => {
        let t = card;
        for (const m of mutations) {
          const at = t.length === 0 ? 0 : m.at % t.length;
          if (m.kind === 'replace')
            t = t.slice(0, at) + String.fromCharCode(m.ch) + t.slice(at + 1);
          else if (m.kind === 'insert')
            t = t.slice(0, at) + String.fromCharCode(m.ch) + t.slice(at);
          else if (m.kind === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
          else if (m.kind === 'truncate') t = t.slice(0, at);
          else t = t.slice(0, at) + m.snippet + t.slice(at);
        }
        try {
          parseCard(t);
          assert.equal(t, card, `a mutated card was accepted: ${t}`);
        } catch (e) {
          assert.ok(e instanceof ContactError, `not a ContactError: ${String(e)}`);
          assert.notEqual(t, card);
        }
      },
    ),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      for (const t of [s, `p2psip:${s}`, `${GOOD.slice(0, GOOD.indexOf('&sig='))}${s}`]) {
        assert.throws(
          () => parseCard(t),
          (e) => e instanceof ContactError,
        );
      }
    }),
    { numRuns: 500 },
  );
});
