import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromHex, randomBytes, toBase64url, utf8 } from '../../../src/crypto/index.js';
import { Identity } from '../../../src/identity/index.js';
import {
  decodePackage,
  encodePackage,
  MAX_LIFETIME_SECONDS,
  MAX_PACKAGE_BYTES,
  type PackageContact,
  PackageError,
  PackageErrorCode,
  type PackageInput,
  verifyPackage,
} from '../../../src/package/index.js';

const SEED = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const alice = Identity.fromSeed('alice@example.org', SEED);
const T0 = 1700000000;

function input(over: Partial<PackageInput> = {}): PackageInput {
  return {
    seq: 7,
    created: T0,
    expires: T0 + 3600,
    contacts: [
      { transport: 'hyperdht', key: alice.publicKey },
      { transport: 'udp', addr: '127.0.0.1:49737' },
    ],
    ...over,
  };
}
const GOOD = encodePackage(input(), alice);
const GOOD_TEXT = Buffer.from(GOOD).toString('utf8');
const OK_OPTS = { expectedAor: 'alice@example.org', now: T0 + 10 };

function code(c: PackageErrorCode) {
  return (e: unknown) => e instanceof PackageError && e.code === c;
}
function text(s: string): Uint8Array {
  return utf8(s);
}

test('round trip: encode → decode → verify gives the fields back', () => {
  const fields = verifyPackage(GOOD, { ...OK_OPTS, expectedKey: alice.publicKey, lastSeq: 6 });
  assert.equal(fields.aor, 'alice@example.org');
  assert.deepEqual(fields.key, alice.publicKey);
  assert.equal(fields.seq, 7);
  assert.deepEqual(fields.contacts, input().contacts);
  assert.deepEqual(fields.extensions, []);
});

const ipv6 = fc.ipV6().map((a) => new URL(`http://[${a}]/`).hostname);
const contactArb: fc.Arbitrary<PackageContact> = fc.oneof(
  fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((key) => ({ transport: 'hyperdht' as const, key })),
  fc
    .tuple(
      fc.constantFrom('udp' as const, 'tcp' as const),
      fc.ipV4(),
      fc.integer({ min: 1, max: 65535 }),
    )
    .map(([transport, ip, port]) => ({ transport, addr: `${ip}:${port}` })),
  fc
    .tuple(
      fc.constantFrom('udp' as const, 'tcp' as const),
      ipv6,
      fc.integer({ min: 1, max: 65535 }),
    )
    .map(([transport, host, port]) => ({ transport, addr: `${host}:${port}` })),
);

test('property: any valid input round-trips and verifies', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-zA-Z0-9._+-]{1,40}$/),
      fc.stringMatching(/^[a-z0-9]{1,20}(\.[a-z0-9]{1,20}){0,3}$/),
      fc.nat(),
      fc.integer({ min: 0, max: 2 ** 33 }),
      fc.integer({ min: 1, max: MAX_LIFETIME_SECONDS }),
      fc.uniqueArray(contactArb, {
        maxLength: 4,
        selector: (c) =>
          JSON.stringify({ ...c, key: c.transport === 'hyperdht' ? [...c.key] : undefined }),
      }),
      (user, domain, seq, created, life, contacts) => {
        const id = Identity.fromSeed(`${user}@${domain}`, SEED);
        const bytes = encodePackage({ seq, created, expires: created + life, contacts }, id);
        assert.ok(bytes.length <= MAX_PACKAGE_BYTES);
        const f = verifyPackage(bytes, {
          expectedAor: `sip:${user}@${domain.toUpperCase()}`,
          now: created,
        });
        assert.equal(f.seq, seq);
        assert.equal(f.expires, created + life);
        assert.deepEqual(f.contacts, contacts);
      },
    ),
    { numRuns: 100 },
  );
});

test('size: one device with a 254-character AOR and five contacts stays ≤ 1000 bytes', () => {
  const aor = `${'u'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(61)}`;
  assert.equal(aor.length, 254);
  const id = Identity.fromSeed(aor, SEED);
  const v6 = '[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535';
  const bytes = encodePackage(
    {
      seq: Number.MAX_SAFE_INTEGER,
      created: T0,
      expires: T0 + MAX_LIFETIME_SECONDS,
      contacts: [
        { transport: 'hyperdht', key: id.publicKey },
        { transport: 'udp', addr: '255.255.255.255:65535' },
        { transport: 'tcp', addr: '255.255.255.255:65535' },
        { transport: 'udp', addr: v6 },
        { transport: 'tcp', addr: v6 },
      ],
    },
    id,
  );
  assert.ok(bytes.length <= 1000, `${bytes.length} bytes`);
  assert.equal(bytes.length, 860);
  assert.equal(GOOD.length, 387, 'typical size: one HyperDHT key + one UDP address');
  verifyPackage(bytes, { expectedAor: aor, now: T0 });
});

test('TOO_LARGE: encode refuses to sign more than 1000 bytes; decode refuses to parse them', () => {
  const aor = `${'u'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(61)}`;
  const id = Identity.fromSeed(aor, SEED);
  const contacts: PackageContact[] = Array.from({ length: 8 }, (_, i) => ({
    transport: 'tcp',
    addr: `[2001:db8:aaaa:bbbb:cccc:dddd:eeee:${(0xff00 + i).toString(16)}]:65535`,
  }));
  assert.throws(() => encodePackage(input({ contacts }), id), code(PackageErrorCode.TooLarge));
  assert.throws(
    () => verifyPackage(new Uint8Array(1001).fill(0x20), OK_OPTS),
    code(PackageErrorCode.TooLarge),
  );
  assert.throws(
    () => decodePackage(new Uint8Array(10 * 1024 * 1024)),
    code(PackageErrorCode.TooLarge),
  );
});

test('any changed byte of the signed part is refused; changed values give BAD_SIGNATURE', () => {
  const sigAt = GOOD_TEXT.indexOf('<sig>');
  // Positions inside values whose change keeps the package well formed.
  const strict = new Set<number>();
  for (const m of GOOD_TEXT.slice(0, sigAt).matchAll(/(aor|key|addr|seq)="([^"]*)"/g)) {
    const start = m.index + m[1]!.length + 2;
    const len = m[1] === 'key' ? m[2]!.length - 1 : m[2]!.length; // last base64url char has padding bits
    for (let i = 0; i < len; i++)
      if (/[a-zA-Z0-9]/.test(GOOD_TEXT[start + i]!)) strict.add(start + i);
  }
  assert.ok(strict.size > 100);
  let badSig = 0;
  for (let i = 0; i < sigAt; i++) {
    const ch = GOOD_TEXT[i]!;
    const alt = /[a-y]/.test(ch)
      ? String.fromCharCode(ch.charCodeAt(0) + 1)
      : /[0-8]/.test(ch)
        ? String(Number(ch) + 1)
        : ch === '9'
          ? '8'
          : ch === 'z'
            ? 'a'
            : ch === 'Z'
              ? 'A'
              : /[A-Y]/.test(ch)
                ? String.fromCharCode(ch.charCodeAt(0) + 1)
                : ch === '"'
                  ? "'"
                  : ch === '<'
                    ? ' '
                    : 'x';
    const mutated = text(GOOD_TEXT.slice(0, i) + alt + GOOD_TEXT.slice(i + 1));
    let caught: unknown;
    try {
      verifyPackage(mutated, OK_OPTS);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof PackageError, `byte ${i} (${ch}→${alt}) was accepted`);
    if (strict.has(i)) {
      assert.equal(
        caught.code,
        PackageErrorCode.BadSignature,
        `byte ${i} (${ch}→${alt}): ${caught.message}`,
      );
    } else {
      assert.ok(
        (
          [PackageErrorCode.BadSignature, PackageErrorCode.Malformed] as PackageErrorCode[]
        ).includes(caught.code),
      );
    }
    if (caught.code === PackageErrorCode.BadSignature) badSig++;
  }
  assert.ok(badSig >= strict.size);
});

test('a changed signature gives BAD_SIGNATURE', () => {
  const sigAt = GOOD_TEXT.indexOf('<sig>') + 5;
  for (const i of [0, 10, 42, 84]) {
    const ch = GOOD_TEXT[sigAt + i]!;
    const alt = ch === 'A' ? 'B' : 'A';
    const mutated = text(GOOD_TEXT.slice(0, sigAt + i) + alt + GOOD_TEXT.slice(sigAt + i + 1));
    assert.throws(
      () => verifyPackage(mutated, OK_OPTS),
      code(PackageErrorCode.BadSignature),
      `sig char ${i}`,
    );
  }
  // A valid signature from another package.
  const other = Buffer.from(encodePackage(input({ seq: 8 }), alice)).toString();
  const swapped =
    GOOD_TEXT.slice(0, GOOD_TEXT.indexOf('<sig>')) + other.slice(other.indexOf('<sig>'));
  assert.throws(() => verifyPackage(text(swapped), OK_OPTS), code(PackageErrorCode.BadSignature));
});

test('AOR_MISMATCH and KEY_MISMATCH', () => {
  assert.throws(
    () => verifyPackage(GOOD, { ...OK_OPTS, expectedAor: 'bob@example.org' }),
    code(PackageErrorCode.AorMismatch),
  );
  // Someone else signs a package claiming alice's AOR with their own key: self-consistent,
  // so it verifies without a pinned key and is refused with one.
  const mallory = Identity.fromSeed('alice@example.org', randomBytes(32));
  const forged = encodePackage(input(), mallory);
  assert.equal(verifyPackage(forged, OK_OPTS).aor, 'alice@example.org');
  assert.throws(
    () => verifyPackage(forged, { ...OK_OPTS, expectedKey: alice.publicKey }),
    code(PackageErrorCode.KeyMismatch),
  );
  assert.throws(
    () => verifyPackage(GOOD, { ...OK_OPTS, expectedKey: mallory.publicKey }),
    code(PackageErrorCode.KeyMismatch),
  );
});

test('time: NOT_YET_VALID and EXPIRED with clock skew allowed at both ends', () => {
  const opts = { expectedAor: 'alice@example.org', skewSeconds: 120 };
  verifyPackage(GOOD, { ...opts, now: T0 - 120 });
  assert.throws(
    () => verifyPackage(GOOD, { ...opts, now: T0 - 121 }),
    code(PackageErrorCode.NotYetValid),
  );
  verifyPackage(GOOD, { ...opts, now: T0 + 3600 + 120 });
  assert.throws(
    () => verifyPackage(GOOD, { ...opts, now: T0 + 3600 + 121 }),
    code(PackageErrorCode.Expired),
  );
  assert.throws(
    () => verifyPackage(GOOD, { ...opts, now: T0 + 3601, skewSeconds: 0 }),
    code(PackageErrorCode.Expired),
  );
  assert.throws(
    () => verifyPackage(GOOD, { ...opts, now: Date.now() }),
    RangeError,
    'milliseconds are refused',
  );
});

test('REPLAYED: seq must be above the last accepted one', () => {
  assert.throws(
    () => verifyPackage(GOOD, { ...OK_OPTS, lastSeq: 7 }),
    code(PackageErrorCode.Replayed),
  );
  assert.throws(
    () => verifyPackage(GOOD, { ...OK_OPTS, lastSeq: 100 }),
    code(PackageErrorCode.Replayed),
  );
  assert.equal(verifyPackage(GOOD, { ...OK_OPTS, lastSeq: 6 }).seq, 7);
  assert.equal(verifyPackage(GOOD, { ...OK_OPTS, lastSeq: 0 }).seq, 7);
});

test('MALFORMED: non-canonical or structurally wrong documents', () => {
  const sig = GOOD_TEXT.slice(GOOD_TEXT.indexOf('<sig>'));
  const head = GOOD_TEXT.slice(0, GOOD_TEXT.indexOf('<contact'));
  const k = toBase64url(alice.publicKey);
  const cases: Array<[string, string]> = [
    ['leading space', ` ${GOOD_TEXT}`],
    ['trailing newline', `${GOOD_TEXT}\n`],
    ['space between elements', GOOD_TEXT.replace('/><contact', '/> <contact')],
    [
      'attribute order',
      GOOD_TEXT.replace('seq="7" created', 'created').replace('expires=', 'seq="7" expires='),
    ],
    ['single quotes', GOOD_TEXT.replace('seq="7"', "seq='7'")],
    ['duplicate attribute', GOOD_TEXT.replace('seq="7"', 'seq="7" seq="7"')],
    ['extra attribute', GOOD_TEXT.replace('seq="7"', 'seq="7" x="1"')],
    ['missing attribute', GOOD_TEXT.replace(' seq="7"', '')],
    ['leading zero', GOOD_TEXT.replace('seq="7"', 'seq="07"')],
    ['negative seq', GOOD_TEXT.replace('seq="7"', 'seq="-7"')],
    ['huge seq', GOOD_TEXT.replace('seq="7"', 'seq="99999999999999999"')],
    ['wrong namespace', GOOD_TEXT.replace('urn:p2psip:reg:1', 'urn:p2psip:reg:2')],
    ['uppercase domain', GOOD_TEXT.replace('example.org', 'Example.org')],
    ['sip: in aor', GOOD_TEXT.replace('aor="', 'aor="sip:')],
    ['padded base64', GOOD_TEXT.replace(`key="${k}"`, `key="${k}="`)],
    ['short key', GOOD_TEXT.replace(`key="${k}"`, `key="${k.slice(4)}"`)],
    [
      'open/close contact',
      GOOD_TEXT.replace('addr="127.0.0.1:49737"/>', 'addr="127.0.0.1:49737"></contact>'),
    ],
    ['unknown element', GOOD_TEXT.replace('<sig>', '<note/><sig>')],
    ['unknown transport', GOOD_TEXT.replace('transport="udp"', 'transport="sctp"')],
    ['non-canonical ipv4', GOOD_TEXT.replace('127.0.0.1:', '127.000.0.1:')],
    ['host name address', GOOD_TEXT.replace('127.0.0.1:', 'localhost:')],
    ['port 0', GOOD_TEXT.replace(':49737', ':0')],
    [
      'duplicate contact',
      GOOD_TEXT.replace('<sig>', '<contact transport="udp" addr="127.0.0.1:49737"/><sig>'),
    ],
    ['ext before contact', `${head}<ext name="a" value="b"/>${GOOD_TEXT.slice(head.length)}`],
    ['no sig', GOOD_TEXT.replace(/<sig>.*<\/sig>/, '')],
    ['two sigs', GOOD_TEXT.replace('<sig>', `${sig.slice(0, -6)}<sig>`)],
    ['element inside sig', GOOD_TEXT.replace('<sig>', '<sig><b/>')],
    ['text in reg', GOOD_TEXT.replace('<contact', 'hello<contact')],
    ['two roots', `${GOOD_TEXT}<reg/>`],
    ['unclosed', GOOD_TEXT.slice(0, -6)],
    ['not XML', 'hello world'],
    ['empty', ''],
    ['expires before created', GOOD_TEXT.replace('expires="1700003600"', 'expires="1699999999"')],
    ['validity too long', GOOD_TEXT.replace('expires="1700003600"', 'expires="1800000000"')],
    ['XML declaration', `<?xml version="1.0"?>${GOOD_TEXT}`],
    ['comment', GOOD_TEXT.replace('<sig>', '<!-- hi --><sig>')],
    ['CDATA', GOOD_TEXT.replace('<sig>', '<sig><![CDATA[x]]>')],
    ['entity reference', GOOD_TEXT.replace('alice@', 'alice&amp;@')],
    ['character reference', GOOD_TEXT.replace('alice@', '&#97;lice@')],
    [
      'XXE',
      `<!DOCTYPE reg [<!ENTITY x SYSTEM "file:///etc/passwd">]>${GOOD_TEXT.replace('alice@', '&x;@')}`,
    ],
    [
      'billion laughs',
      `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${GOOD_TEXT.replace('alice@', '&b;@')}`,
    ],
  ];
  for (const [name, doc] of cases) {
    assert.throws(() => verifyPackage(text(doc), OK_OPTS), code(PackageErrorCode.Malformed), name);
  }
});

test('MALFORMED: bytes that are not UTF-8, a BOM, control characters, non-ASCII', () => {
  const bad: Array<[string, Uint8Array]> = [
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from(GOOD.subarray(0, 20)),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(GOOD.subarray(20)),
      ]),
    ],
    ['overlong encoding', Buffer.concat([Buffer.from([0xc0, 0xbc]), Buffer.from(GOOD)])],
    ['BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(GOOD)])],
    ['NUL', Buffer.concat([Buffer.from(GOOD), Buffer.from([0])])],
    ['tab', text(GOOD_TEXT.replace(' aor=', '\taor='))],
    ['non-ASCII aor', text(GOOD_TEXT.replace('alice@', 'alicé@'))],
  ];
  for (const [name, bytes] of bad) {
    assert.throws(() => verifyPackage(bytes, OK_OPTS), code(PackageErrorCode.Malformed), name);
  }
});

test('encode refuses invalid fields with PACKAGE_MALFORMED naming the field', () => {
  const cases: Array<[Partial<PackageInput>, RegExp]> = [
    [{ seq: -1 }, /seq/],
    [{ seq: 1.5 }, /seq/],
    [{ created: Date.now(), expires: Date.now() + 1000 }, /created: expected Unix seconds/],
    [{ expires: T0 }, /expires/],
    [{ expires: T0 + MAX_LIFETIME_SECONDS + 1 }, /expires/],
    [{ contacts: [{ transport: 'udp', addr: '127.0.0.1' }] }, /contacts\[0\]\.addr/],
    [{ contacts: [{ transport: 'tcp', addr: '[::0001]:5060' }] }, /contacts\[0\]\.addr/],
    [{ contacts: [{ transport: 'hyperdht', key: new Uint8Array(31) }] }, /contacts\[0\]\.key/],
    [{ contacts: [{ transport: 'ws', addr: '127.0.0.1:1' } as never] }, /transport/],
    [{ extensions: [{ name: 'Bad', value: 'x' }] }, /extensions\[0\]\.name/],
    [{ extensions: [{ name: 'a', value: 'x&y' }] }, /extensions\[0\]\.value/],
    [
      {
        extensions: [
          { name: 'b', value: '' },
          { name: 'a', value: '' },
        ],
      },
      /sorted/,
    ],
  ];
  for (const [over, why] of cases) {
    assert.throws(
      () => encodePackage(input(over), alice),
      (e) =>
        e instanceof PackageError && e.code === PackageErrorCode.Malformed && why.test(e.message),
      JSON.stringify(over),
    );
  }
});

test('extensions are signed and returned; an empty contact list is allowed (unregistered)', () => {
  const bytes = encodePackage(
    input({
      contacts: [],
      extensions: [
        { name: 'device', value: 'desk phone' },
        { name: 'ua', value: 'baresip 3' },
      ],
    }),
    alice,
  );
  const f = verifyPackage(bytes, OK_OPTS);
  assert.deepEqual(f.contacts, []);
  assert.deepEqual(f.extensions, [
    { name: 'device', value: 'desk phone' },
    { name: 'ua', value: 'baresip 3' },
  ]);
  const tampered = Buffer.from(bytes).toString().replace('desk phone', 'desk phonf');
  assert.throws(() => verifyPackage(text(tampered), OK_OPTS), code(PackageErrorCode.BadSignature));
});

const SNIPPETS = [
  '<',
  '>',
  '"',
  "'",
  '=',
  '/',
  ' ',
  '&amp;',
  '&x;',
  '<!DOCTYPE r>',
  '<?x?>',
  '<![CDATA[a]]>',
  '<ext name="a" value="b"/>',
  '<contact transport="udp" addr="1.2.3.4:5"/>',
  '</reg>',
  '<reg>',
  '<sig>',
  '</sig>',
  'é',
  '\u0000',
  '\uffff',
  '\ud800',
];

test('fuzz: random mutations of a valid package never throw anything but PackageError', () => {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
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
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      let b = Buffer.from(GOOD);
      for (const m of mutations) {
        const at = b.length === 0 ? 0 : m.at % b.length;
        if (m.kind === 'flip') {
          if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        } else if (m.kind === 'insert')
          b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
        else if (m.kind === 'delete')
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        else if (m.kind === 'truncate') b = b.subarray(0, at);
        else b = Buffer.concat([b.subarray(0, at), Buffer.from(m.snippet), b.subarray(at)]);
      }
      const same = b.equals(Buffer.from(GOOD));
      try {
        verifyPackage(new Uint8Array(b), OK_OPTS);
        assert.ok(same, `a mutated package was accepted: ${b.toString('latin1')}`);
      } catch (e) {
        assert.ok(e instanceof PackageError, `not a PackageError: ${String(e)}`);
        assert.ok(!same);
      }
    }),
    { numRuns: 2000 },
  );
});
