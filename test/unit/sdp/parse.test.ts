// SDP parser/serializer: real offers parse and round trip byte for byte;
// every documented error code is reachable and maps to the right SIP answer;
// properties: parse∘serialize is the identity on generated SDP, and mutated
// SDP either parses (and still round trips) or throws SdpError — nothing else.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  attributeValues,
  binaryToBytes,
  direction,
  effectiveConnection,
  isRtcpMux,
  MAX_SDP_BYTES,
  mediaLine,
  origin,
  parseSdp,
  rewriteSdp,
  rtcpAttribute,
  SdpError,
  SdpErrorCode,
  sdpErrorCode,
  sdpResponseFor,
  sdpToText,
  serializeSdp,
  streams,
} from '../../../src/sdp/index.js';
import { BARESIP_OFFER, crlf, LINPHONE_OFFER } from './fixtures.js';

test('a baresip offer parses into session + one audio stream and round trips byte for byte', () => {
  const sdp = parseSdp(BARESIP_OFFER);
  assert.equal(sdp.media.length, 1);
  assert.deepEqual(origin(sdp), {
    username: '-',
    sessionId: '1871524407',
    sessionVersion: '3142290329',
    netType: 'IN',
    addrType: 'IP4',
    address: '127.0.0.1',
  });
  const m = mediaLine(sdp.media[0]!);
  assert.deepEqual(m, {
    media: 'audio',
    port: 10128,
    proto: 'RTP/AVP',
    formats: ['0', '8', '101'],
  });
  assert.deepEqual(effectiveConnection(sdp, 0), {
    netType: 'IN',
    addrType: 'IP4',
    address: '127.0.0.1',
  });
  assert.equal(direction(sdp, 0), 'sendrecv');
  assert.equal(isRtcpMux(sdp.media[0]!), false);
  assert.equal(rtcpAttribute(sdp.media[0]!), undefined);
  assert.deepEqual(attributeValues(sdp.media[0]!.lines, 'rtpmap'), [
    '0 PCMU/8000',
    '8 PCMA/8000',
    '101 telephone-event/8000',
  ]);
  assert.equal(sdpToText(sdp), BARESIP_OFFER);
});

test('IPv6, media-level c=, a=rtcp with address, rtcp-mux and directions are read', () => {
  const sdp = parseSdp(LINPHONE_OFFER);
  const [audio, video] = streams(sdp);
  assert.equal(audio?.connection?.addrType, 'IP6');
  assert.equal(audio?.connection?.address, '::1');
  assert.deepEqual(audio?.rtcp, {
    port: 7079,
    connection: { netType: 'IN', addrType: 'IP6', address: '::1' },
  });
  assert.equal(audio?.rtcpMux, true);
  assert.equal(audio?.direction, 'sendrecv');
  assert.equal(video?.direction, 'recvonly');
  assert.equal(video?.rtcpMux, false);
  assert.equal(sdpToText(sdp), LINPHONE_OFFER);
});

test('session-level direction applies to streams without their own; media level wins', () => {
  const sdp = parseSdp(
    crlf([
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=sendonly',
      'm=audio 4000 RTP/AVP 0',
      'm=audio 4002 RTP/AVP 0',
      'a=inactive',
    ]),
  );
  assert.equal(direction(sdp, 0), 'sendonly');
  assert.equal(direction(sdp, 1), 'inactive');
});

test('tolerated: bare LF, no final line end, trailing blank lines, multicast c=, port/count, no s=/t=', () => {
  const bodies = [
    'v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nm=audio 5004 RTP/AVP 0\n',
    'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm=audio 5004 RTP/AVP 0',
    'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm=audio 5004 RTP/AVP 0\r\n\r\n',
    'v=0\r\no=- 1 1 IN IP4 224.2.1.1\r\nc=IN IP4 224.2.1.1/127/3\r\nm=video 49170/2 RTP/AVP 31\r\n',
    'v=0\r\no=- 1 1 IN IP6 host.example.org\r\nc=IN IP6 FF15::101/3\r\nm=audio 0 RTP/AVP\r\n',
    'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nz=unknown\r\nx=whatever\r\nm=audio 5004 RTP/AVP 0\r\n',
  ];
  for (const body of bodies) assert.equal(sdpToText(parseSdp(body)), body, body);
  const multicast = parseSdp(bodies[3]!);
  assert.deepEqual(effectiveConnection(multicast, 0), {
    netType: 'IN',
    addrType: 'IP4',
    address: '224.2.1.1',
    ttl: 127,
    count: 3,
  });
  assert.equal(mediaLine(multicast.media[0]!).portCount, 2);
});

test('non-UTF-8 bytes in i=/s= (a=charset) pass through unchanged', () => {
  const head = new TextEncoder().encode('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=');
  const tail = new TextEncoder().encode('\r\nc=IN IP4 192.0.2.1\r\nm=audio 5004 RTP/AVP 0\r\n');
  const body = new Uint8Array([...head, 0xe9, 0x80, 0xff, 0x01, ...tail]);
  assert.deepEqual(serializeSdp(parseSdp(body)), body);
});

const BAD: [string, string, SdpErrorCode][] = [
  ['empty body', '', SdpErrorCode.BadVersion],
  ['v=1', 'v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n', SdpErrorCode.BadVersion],
  ['o= first', 'o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n', SdpErrorCode.BadVersion],
  ['second v=', 'v=0\r\nv=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n', SdpErrorCode.DuplicateLine],
  ['no o=', 'v=0\r\ns=-\r\n', SdpErrorCode.MissingLine],
  [
    'two o=',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\no=- 1 1 IN IP4 1.2.3.4\r\n',
    SdpErrorCode.DuplicateLine,
  ],
  [
    'o= in media',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\no=- 1 1 IN IP4 1.2.3.4\r\n',
    SdpErrorCode.DuplicateLine,
  ],
  ['o= 5 fields', 'v=0\r\no=- 1 1 IN IP4\r\n', SdpErrorCode.BadOrigin],
  ['o= sess-id not digits', 'v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n', SdpErrorCode.BadOrigin],
  ['o= bad IP4', 'v=0\r\no=- 1 1 IN IP4 1.2.3.999\r\n', SdpErrorCode.BadOrigin],
  [
    'two session c=',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n',
    SdpErrorCode.DuplicateLine,
  ],
  ['c= two fields', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n', SdpErrorCode.BadConnection],
  [
    'c= bad IP6',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP6 1.2.3.4\r\n',
    SdpErrorCode.BadConnection,
  ],
  [
    'c= ttl > 255',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 224.0.0.1/300\r\n',
    SdpErrorCode.BadConnection,
  ],
  [
    'c= IP6 with ttl and count',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP6 ff15::1/3/4\r\n',
    SdpErrorCode.BadConnection,
  ],
  [
    'm= port 65536',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 65536 RTP/AVP 0\r\n',
    SdpErrorCode.BadMedia,
  ],
  [
    'm= port -1',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n',
    SdpErrorCode.BadMedia,
  ],
  [
    'm= no format',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP\r\n',
    SdpErrorCode.BadMedia,
  ],
  [
    'm= port/0',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 4000/0 RTP/AVP 0\r\n',
    SdpErrorCode.BadMedia,
  ],
  [
    'a=rtcp no port',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:x\r\n',
    SdpErrorCode.BadAttribute,
  ],
  [
    'a=rtcp 3 fields',
    'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4\r\n',
    SdpErrorCode.BadAttribute,
  ],
  ['not type=value', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nhello\r\n', SdpErrorCode.BadSyntax],
  ['upper-case type', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nA=x\r\n', SdpErrorCode.BadSyntax],
  ['blank line in the middle', 'v=0\r\n\r\no=- 1 1 IN IP4 1.2.3.4\r\n', SdpErrorCode.BadSyntax],
  ['NUL in a value', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\0b\r\n', SdpErrorCode.BadSyntax],
  ['bare CR in a value', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\rb\r\n', SdpErrorCode.BadSyntax],
];

test('each malformed body throws SdpError with its code', () => {
  for (const [what, body, code] of BAD) {
    assert.throws(
      () => parseSdp(body),
      (err: unknown) => err instanceof SdpError && err.code === code,
      `${what}: expected ${code}`,
    );
  }
});

test('too large: bytes and lines', () => {
  const big = `v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=${'x'.repeat(MAX_SDP_BYTES)}\r\n`;
  assert.equal(sdpErrorCode(catchErr(() => parseSdp(big))), SdpErrorCode.TooLarge);
  const many = `v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n${'a=x\r\n'.repeat(2_500)}`;
  assert.equal(sdpErrorCode(catchErr(() => parseSdp(many))), SdpErrorCode.TooLarge);
});

test('sdpResponseFor: syntax → 400, too large → 513, cannot relay → 488; one line, bounded', () => {
  const syntax = sdpResponseFor(catchErr(() => parseSdp('v=0\r\no=x\r\n')) as SdpError);
  assert.equal(syntax.status, 400);
  assert.match(syntax.reason, /^Bad Request \(SDP: line 2: malformed o=x\)$/);
  assert.equal(sdpResponseFor(SdpError.tooLarge('big')).status, 513);
  const missing = sdpResponseFor(SdpError.missingConnection(0));
  assert.equal(missing.status, 488);
  assert.match(missing.reason, /^Not Acceptable Here/);
  assert.equal(sdpResponseFor(SdpError.offerAnswer('answer without offer')).status, 488);
  const evil = sdpResponseFor(SdpError.badSyntax(`a\r\nb${'z'.repeat(500)}`));
  assert.doesNotMatch(evil.reason, /[\r\n]/);
  assert.ok(evil.reason.length <= 200);
  // Every code is covered by the mapping (an unmapped one would be 488 by default: check 400s).
  for (const code of Object.values(SdpErrorCode)) {
    const r = sdpResponseFor(new SdpError(code, 'x'));
    assert.ok([400, 488, 513].includes(r.status), code);
  }
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

// ---- Properties ------------------------------------------------------------

const text = (min = 0) =>
  fc
    .array(fc.integer({ min: 1, max: 255 }), { minLength: min, maxLength: 30 })
    .map((codes) => String.fromCharCode(...codes.filter((c) => c !== 10 && c !== 13)))
    .filter((s) => s.length >= min);
const token = fc.stringMatching(/^[A-Za-z0-9_.+-]{1,10}$/);
const ip4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const ip6 = fc.constantFrom('::1', '::', 'fe80::1', '2001:db8::7', 'FF15::101', '::ffff:127.0.0.1');
const addr = fc.oneof(
  ip4.map((a) => ['IP4', a] as const),
  ip6.map((a) => ['IP6', a] as const),
  fc.constant(['IP4', 'host.example.org'] as const),
);
const connection = addr.chain(([t, a]) =>
  fc
    .constantFrom('', '/127', '/127/2')
    .map((suffix) => `IN ${t} ${a}${t === 'IP4' ? suffix : suffix === '/127/2' ? '/2' : ''}`),
);
const origin_ = fc
  .tuple(token, fc.bigInt(0n, 2n ** 63n), fc.bigInt(0n, 2n ** 63n), addr)
  .map(([u, id, v, [t, a]]) => `${u} ${id} ${v} IN ${t} ${a}`);
const otherLine = fc.oneof(
  fc
    .tuple(fc.constantFrom('i', 'u', 'e', 'p', 'b', 't', 'r', 'z', 'k', 'x', 's'), text(0))
    .map(([t, v]) => `${t}=${v}`),
  fc
    .tuple(fc.stringMatching(/^[a-qs-z][a-z0-9-]{0,12}$/), fc.option(text(0)))
    .map(([n, v]) => (v === null ? `a=${n}` : `a=${n}:${v}`)),
  fc.constantFrom('a=sendrecv', 'a=sendonly', 'a=recvonly', 'a=inactive', 'a=rtcp-mux'),
  fc
    .tuple(fc.nat(65535), fc.option(connection))
    .map(([p, c]) => (c === null ? `a=rtcp:${p}` : `a=rtcp:${p} ${c}`)),
);
const mLine = fc
  .tuple(
    fc.constantFrom('audio', 'video', 'image', 'application'),
    fc.nat(65535),
    fc.option(fc.integer({ min: 1, max: 4 })),
    fc.constantFrom('RTP/AVP', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVPF', 'udptl', 'TCP/MSRP'),
    fc.array(fc.stringMatching(/^[0-9a-z*]{1,3}$/), { minLength: 1, maxLength: 5 }),
  )
  .map(([m, p, n, proto, f]) => `m=${m} ${n === null ? p : `${p}/${n}`} ${proto} ${f.join(' ')}`);
const section = fc
  .tuple(mLine, fc.option(connection), fc.array(otherLine, { maxLength: 6 }))
  .map(([m, c, rest]) => [m, ...(c === null ? [] : [`c=${c}`]), ...rest]);
const sdpLines = fc
  .tuple(
    origin_,
    fc.option(connection),
    fc.array(otherLine, { maxLength: 6 }),
    fc.array(section, { maxLength: 4 }),
  )
  .map(([o, c, rest, media]) => [
    'v=0',
    `o=${o}`,
    ...(c === null ? [] : [`c=${c}`]),
    ...rest,
    ...media.flat(),
  ]);
/** A generated body: lines joined with random CRLF/LF, maybe no final end, maybe blank lines after. */
const sdpBody = fc
  .tuple(
    sdpLines,
    fc.array(fc.constantFrom('\r\n', '\n'), { minLength: 80, maxLength: 80 }),
    fc.constantFrom('', '\r\n', '\n', '\r\n\r\n'),
    fc.boolean(),
  )
  .map(([lines, eols, trailer, openEnd]) => {
    let out = lines.map((l, i) => l + eols[i % eols.length]).join('');
    if (openEnd) out = out.replace(/\r?\n$/, '');
    else out += trailer;
    return binaryToBytes(out);
  });

test('property: serialize(parse(x)) = x for generated SDP', () => {
  fc.assert(
    fc.property(sdpBody, (body) => {
      const sdp = parseSdp(body);
      assert.deepEqual(serializeSdp(sdp), body);
    }),
    { numRuns: 400 },
  );
});

/** One random edit of a byte string. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    snippet: fc.constantFrom(
      '\r\n',
      '\n',
      '=',
      ' ',
      '/',
      ':',
      'm=',
      'c=',
      'a=rtcp:',
      '0',
      '99999',
      'IP6',
      '\0',
      '\r',
    ),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(body: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let b = [...body];
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    if (e.kind === 'delete') b.splice(at, e.len);
    else if (e.kind === 'insert') b.splice(at, 0, ...e.bytes);
    else if (e.kind === 'flip') b[Math.min(at, b.length - 1)] = e.byte;
    else if (e.kind === 'truncate') b = b.slice(0, at);
    else b.splice(at, 0, ...binaryToBytes(e.snippet));
  }
  return new Uint8Array(b);
}

test('fuzz: mutated SDP parses (and round trips, and rewrites) or throws SdpError — nothing else', () => {
  const seeds = [BARESIP_OFFER, LINPHONE_OFFER].map((s) => new TextEncoder().encode(s));
  const counts = { parsed: 0, rejected: 0 };
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(...seeds), sdpBody),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (body, edits) => {
        const input = mutate(body, edits);
        let sdp: ReturnType<typeof parseSdp>;
        try {
          sdp = parseSdp(input);
        } catch (err) {
          if (!(err instanceof SdpError)) throw err;
          counts.rejected++;
          return;
        }
        counts.parsed++;
        assert.deepEqual(serializeSdp(sdp), input);
        // Everything read from a parsed body is known good: views and a rewrite never throw.
        streams(sdp);
        const out = rewriteSdp(sdp, (s) => ({
          address: { addrType: 'IP4', address: '127.0.0.1' },
          port: 40000 + s.index * 2,
          rtcpPort: 40001 + s.index * 2,
        }));
        parseSdp(serializeSdp(out));
      },
    ),
    { numRuns: 1500 },
  );
  // The fuzz is only meaningful if both outcomes happen often.
  assert.ok(counts.parsed > 100 && counts.rejected > 100, JSON.stringify(counts));
});
