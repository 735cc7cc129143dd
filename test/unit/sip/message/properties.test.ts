/**
 * Property tests (fast-check):
 *  (a) serialize ∘ parse is the identity on generated valid messages, and the
 *      structured views parse back to the values they were generated from;
 *  (a') the same message written "messily" (compact names, odd case, LWS
 *      before the colon, folded values, bare LF line ends) parses to the same
 *      model;
 *  (b) random mutations of valid messages make parseMessage and every
 *      accessor throw nothing but SipError, and whatever still parses is a
 *      fixpoint of serialize → parse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SipError } from '../../../../src/sip/errors.js';
import {
  COMPACT_FORMS,
  type CSeq,
  canonicalHeaderName,
  formatCSeq,
  formatNameAddr,
  formatUri,
  formatVia,
  getCallId,
  getContacts,
  getContentLength,
  getCSeq,
  getExpires,
  getFrom,
  getList,
  getMaxForwards,
  getRecordRoutes,
  getRoutes,
  getTo,
  getVias,
  type HeaderField,
  makeResponse,
  type NameAddr,
  parseMessage,
  parseNameAddr,
  parseRequestUri,
  parseUri,
  parseVia,
  type SipMessage,
  SipRequest,
  SipResponse,
  type SipUri,
  serializeMessage,
  splitList,
  topVia,
  type Via,
} from '../../../../src/sip/message/index.js';

// ---- generators -------------------------------------------------------------

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";
const charsOf = (chars: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
const token = charsOf(TOKEN_CHARS, 1, 10);
const lowerToken = token.map((t) => t.toLowerCase());
const alnum = charsOf('abcdefghijklmnopqrstuvwxyz0123456789', 1, 8);

const hostname = fc
  .tuple(fc.array(alnum, { maxLength: 3 }), charsOf('abcdefghijklmnopqrstuvwxyz', 1, 6))
  .map(([labels, top]) => [...labels, top].join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const ipv6ref = fc.ipV6().map((a) => `[${a.toLowerCase()}]`);
const host = fc.oneof(hostname, ipv4, ipv6ref);
const port = fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined });

/** Any Unicode text without CR/LF (lone surrogates excluded: they are not UTF-8). */
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
const paramValue = fc.oneof(
  token,
  text.map((t) => JSON.stringify(t.replace(/[\\"\x00-\x1f\x7f]/g, ''))),
);
const params = (value: fc.Arbitrary<string>) =>
  fc.uniqueArray(fc.tuple(lowerToken, fc.option(value, { nil: null })), {
    maxLength: 3,
    selector: ([k]) => k,
  });

const sipUri: fc.Arbitrary<SipUri> = fc
  .record({
    scheme: fc.constantFrom('sip', 'sips'),
    user: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), {
      nil: undefined,
    }),
    password: fc.option(text, { nil: undefined }),
    host,
    port,
    params: params(text.filter((t) => t !== '')),
    headers: fc.uniqueArray(fc.tuple(token, text), { maxLength: 2, selector: ([k]) => k }),
  })
  .map((r) => {
    const u: SipUri = {
      scheme: r.scheme,
      host: r.host,
      params: new Map(r.params),
      headers: new Map(r.headers),
    };
    if (r.port !== undefined) u.port = r.port;
    if (r.user !== undefined) {
      u.user = r.user;
      if (r.password !== undefined) u.password = r.password;
    }
    return u;
  });
const telUri: fc.Arbitrary<SipUri> = charsOf('0123456789-', 1, 12).map((n) => ({
  scheme: 'tel',
  host: '',
  params: new Map(),
  headers: new Map(),
  opaque: `+${n}`,
}));
const anyUri = fc.oneof({ weight: 4, arbitrary: sipUri }, { weight: 1, arbitrary: telUri });

const nameAddr: fc.Arbitrary<NameAddr> = fc
  .record({
    displayName: fc.option(text, { nil: undefined }),
    uri: anyUri,
    params: params(paramValue),
  })
  .map((r) => {
    const na: NameAddr = { uri: r.uri, params: new Map(r.params) };
    if (r.displayName !== undefined) na.displayName = r.displayName;
    return na;
  });

const via: fc.Arbitrary<Via> = fc
  .record({
    transport: fc.constantFrom('UDP', 'TCP', 'TLS', 'SCTP', 'WS'),
    host,
    port,
    branch: token.map((t) => `z9hG4bK${t}`),
    rport: fc.option(fc.option(fc.integer({ min: 0, max: 65535 }).map(String), { nil: null }), {
      nil: undefined,
    }),
    received: fc.option(
      fc.oneof(
        ipv4,
        fc.ipV6().map((a) => a.toLowerCase()),
      ),
      { nil: undefined },
    ),
    extra: params(token).map((ps) =>
      ps.filter(([k]) => !['branch', 'rport', 'received', 'ttl', 'maddr'].includes(k)),
    ),
  })
  .map((r) => {
    const p = new Map<string, string | null>([['branch', r.branch]]);
    if (r.rport !== undefined) p.set('rport', r.rport);
    if (r.received !== undefined) p.set('received', r.received);
    for (const [k, v] of r.extra) p.set(k, v);
    const v: Via = { protocol: 'SIP/2.0', transport: r.transport, host: r.host, params: p };
    if (r.port !== undefined) v.port = r.port;
    return v;
  });

const cseq: fc.Arbitrary<CSeq> = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), token)
  .map(([seq, method]) => ({ seq, method }));

/** Free text header values: trimmed, no CR/LF, may be empty. */
const freeValue = fc
  .string({ unit: 'grapheme', maxLength: 30 })
  .map((s) => s.replace(/[\r\n]/g, '').replace(/^[ \t]+|[ \t]+$/g, ''));

const KNOWN_FREE = [
  'Subject',
  'User-Agent',
  'Allow',
  'Supported',
  'Content-Type',
  'Date',
  'Warning',
  'Accept',
];
/** Unknown extension names: canonical as written and not a compact form. */
const unknownName = token.filter(
  (n) => n.length > 1 && canonicalHeaderName(n) === n && !KNOWN_FREE.includes(n),
);

interface Generated {
  message: SipMessage;
  vias: Via[];
  from: NameAddr;
  to: NameAddr;
  cseq: CSeq;
  contacts: NameAddr[];
}

const generated: fc.Arbitrary<Generated> = fc
  .record({
    request: fc.boolean(),
    method: fc.oneof(
      fc.constantFrom('INVITE', 'ACK', 'BYE', 'REGISTER', 'MESSAGE', 'OPTIONS'),
      token,
    ),
    ruri: anyUri,
    status: fc.integer({ min: 100, max: 699 }),
    reason: fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)),
    viaLines: fc.array(fc.array(via, { minLength: 1, maxLength: 3 }), {
      minLength: 1,
      maxLength: 3,
    }),
    from: nameAddr,
    to: nameAddr,
    callId: fc.tuple(token, fc.option(token)).map(([a, b]) => (b === null ? a : `${a}@${b}`)),
    cseq,
    contacts: fc.array(nameAddr, { maxLength: 3 }),
    extra: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...KNOWN_FREE), unknownName), freeValue), {
      maxLength: 6,
    }),
    body: fc.uint8Array({ maxLength: 300 }),
    clPosition: fc.nat(),
    order: fc.array(fc.nat(), { minLength: 32, maxLength: 32 }),
  })
  .map((r) => {
    const structured: HeaderField[] = [
      ...r.viaLines.map((vs) => ({ name: 'Via', value: vs.map(formatVia).join(', ') })),
      { name: 'From', value: formatNameAddr(r.from) },
      { name: 'To', value: formatNameAddr(r.to) },
      { name: 'Call-ID', value: r.callId },
      { name: 'CSeq', value: formatCSeq(r.cseq) },
    ];
    if (r.contacts.length > 0) {
      structured.push({
        name: 'Contact',
        value: r.contacts.map((c) => formatNameAddr(c)).join(', '),
      });
    }
    // Shuffle the non-Via headers among the Vias' relative order (Via order is kept).
    const others = [
      ...structured.slice(r.viaLines.length),
      ...r.extra.map(([name, value]) => ({ name, value })),
    ];
    const headers: HeaderField[] = structured.slice(0, r.viaLines.length);
    others.forEach((h, i) => {
      headers.splice((r.order[i % 32] ?? 0) % (headers.length + 1), 0, h);
    });
    headers.splice(r.clPosition % (headers.length + 1), 0, {
      name: 'Content-Length',
      value: String(r.body.length),
    });
    const message = r.request
      ? new SipRequest(r.method, formatUri(r.ruri), headers, r.body)
      : new SipResponse(r.status, r.reason, headers, r.body);
    const vias = headers.filter((h) => h.name === 'Via').flatMap((h) => parseVia(h.value));
    return { message, vias, from: r.from, to: r.to, cseq: r.cseq, contacts: r.contacts };
  });

// ---- helpers ------------------------------------------------------------------

/** Plain comparable form of a message (bodies as byte arrays). */
function plain(m: SipMessage) {
  const start =
    m.kind === 'request' ? [m.method, m.uri, m.version] : [m.status, m.reason, m.version];
  return { kind: m.kind, start, headers: m.headers.map((h) => ({ ...h })), body: [...m.body] };
}

/** Run `fn`; anything thrown must be a SipError. */
function onlySipError(what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof SipError)) {
      throw new Error(`${what} threw a non-SipError: ${String(err)}`, { cause: err });
    }
  }
}

// ---- (a) identity -------------------------------------------------------------------

test('(a) serialize → parse → serialize is the identity; views parse back to the generated values', () => {
  fc.assert(
    fc.property(generated, (g) => {
      const bytes = serializeMessage(g.message);
      const parsed = parseMessage(bytes);
      assert.deepEqual(plain(parsed), plain(g.message));
      assert.ok(serializeMessage(parsed).equals(bytes));
      assert.deepEqual(getVias(parsed), g.vias);
      assert.deepEqual(getFrom(parsed), g.from);
      assert.deepEqual(getTo(parsed), g.to);
      assert.deepEqual(getCSeq(parsed), g.cseq);
      assert.deepEqual(getContacts(parsed), g.contacts);
      assert.equal(getContentLength(parsed), g.message.body.length);
      if (parsed instanceof SipRequest)
        assert.deepEqual(parseUri(parsed.uri), parseUri((g.message as SipRequest).uri));
    }),
    { numRuns: 400 },
  );
});

test('(a) URI, name-addr and Via formatters are inverted by their parsers', () => {
  fc.assert(
    fc.property(anyUri, nameAddr, fc.array(via, { minLength: 1, maxLength: 3 }), (u, na, vs) => {
      assert.deepEqual(parseUri(formatUri(u)), u);
      assert.deepEqual(parseNameAddr(formatNameAddr(na)), na);
      assert.deepEqual(parseVia(vs.map(formatVia).join(' ,\t')), vs);
      const listed = [na, na].map((x) => formatNameAddr(x)).join(' , ');
      assert.deepEqual(
        splitList(listed).map((item) => parseNameAddr(item)),
        [na, na],
      );
    }),
    { numRuns: 400 },
  );
});

// ---- (a') messy rendering -----------------------------------------------------------

const LONG_TO_COMPACT = new Map(Object.entries(COMPACT_FORMS).map(([c, long]) => [long, c]));

interface Style {
  compact: boolean[];
  upper: boolean[];
  preColon: string[];
  postColon: string[];
  fold: number[];
  lf: boolean[];
}

const ws = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });
const style: fc.Arbitrary<Style> = fc.record({
  compact: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  upper: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  preColon: fc.array(ws, { minLength: 40, maxLength: 40 }),
  postColon: fc.array(ws, { minLength: 40, maxLength: 40 }),
  fold: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  lf: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
});

/** Write `m` as an odd but valid sender would. */
function messy(m: SipMessage, s: Style): Buffer {
  const eol = (i: number) => (s.lf[i % 40] ? '\n' : '\r\n');
  let out =
    m.kind === 'request'
      ? `${m.method} ${m.uri} sip/2.0${eol(39)}`
      : `Sip/2.0 ${m.status} ${m.reason}${eol(39)}`;
  m.headers.forEach((h, i) => {
    const k = i % 40;
    let name = h.name;
    const compact = LONG_TO_COMPACT.get(name);
    if (compact && s.compact[k]) name = s.upper[k] ? compact.toUpperCase() : compact;
    else if (
      canonicalHeaderName(name.toUpperCase()) === name &&
      canonicalHeaderName(name.toLowerCase()) === name
    ) {
      // A well-known name: header names are case-insensitive (RFC 3261 §7.3.1).
      name = s.upper[k] ? name.toUpperCase() : name.toLowerCase();
    }
    let value = h.value;
    // Fold at a single SP between two non-blank characters, if there is one.
    const spaces = [...value.matchAll(/(?<=[^ \t]) (?=[^ \t])/g)].map((x) => x.index);
    if (spaces.length > 0) {
      const at = spaces[(s.fold[k] ?? 0) % spaces.length] ?? 0;
      value = `${value.slice(0, at)}${s.preColon[k]}${eol(k + 1)} ${s.postColon[k]}${value.slice(at + 1)}`;
    }
    out += `${name}${s.preColon[k]}:${s.postColon[k]}${value}${eol(k)}`;
  });
  return Buffer.concat([Buffer.from(`${out}\r\n`), m.body]);
}

test("(a') compact names, any case, LWS around the colon, folding and bare LFs parse to the same model", () => {
  fc.assert(
    fc.property(generated, style, (g, s) => {
      const parsed = parseMessage(messy(g.message, s));
      assert.deepEqual(plain(parsed), plain(g.message));
    }),
    { numRuns: 300 },
  );
});

// ---- (b) mutations ------------------------------------------------------------------

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number };

const INTERESTING = [
  0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x3c, 0x3e, 0x22, 0x5c, 0x25, 0x40, 0x3d, 0x2f, 0x5b,
  0x5d, 0x00, 0xff, 0xc3,
];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
      fc
        .array(fc.constantFrom(...INTERESTING), { minLength: 1, maxLength: 4 })
        .map((a) => Uint8Array.from(a)),
      fc
        .constantFrom(
          '\r\n',
          '\r\n ',
          ': ',
          ';;',
          ',',
          '<',
          '"',
          'Content-Length: 99\r\n',
          '\r\n\r\n',
        )
        .map((t) => Buffer.from(t)),
    ),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 60 }),
  }),
);

function mutate(input: Buffer, ms: Mutation[]): Buffer {
  let b = input;
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = m.byte;
        }
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at)]);
        break;
    }
  }
  return b;
}

function exerciseAccessors(m: SipMessage): void {
  const accessors: [string, () => unknown][] = [
    ['getVias', () => getVias(m)],
    ['topVia', () => topVia(m)],
    ['getFrom', () => getFrom(m)],
    ['getTo', () => getTo(m)],
    ['getCallId', () => getCallId(m)],
    ['getCSeq', () => getCSeq(m)],
    ['getMaxForwards', () => getMaxForwards(m)],
    ['getContacts', () => getContacts(m)],
    ['getExpires', () => getExpires(m)],
    ['getContentLength', () => getContentLength(m)],
    ['getRoutes', () => getRoutes(m)],
    ['getRecordRoutes', () => getRecordRoutes(m)],
    ['getList', () => getList(m, 'Supported')],
    ['parseRequestUri', () => m instanceof SipRequest && parseRequestUri(m.uri)],
    ['makeResponse', () => m instanceof SipRequest && serializeMessage(makeResponse(m, 200))],
  ];
  for (const [name, fn] of accessors) onlySipError(name, fn);
}

test('(b) mutated messages: parseMessage and every accessor throw only SipError; what parses is a fixpoint', () => {
  const seeds = fc.oneof(
    generated.map((g) => serializeMessage(g.message)),
    fc
      .constantFrom(
        'INVITE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:5062;branch=z9hG4bK1;rport\r\nMax-Forwards: 70\r\nRoute: <sip:p1.example.org;lr>, <sip:[::1]:5070;lr>\r\nSupported: replaces, 100rel\r\nTo: <sip:bob@example.org>\r\nFrom: "Alice" <sip:alice@example.org>;tag=7c41\r\nCall-ID: 5a3e9c1d\r\nCSeq: 22153 INVITE\r\nContact: <sip:alice@127.0.0.1:5062;transport=udp>;expires=60\r\nContent-Type: application/sdp\r\nContent-Length: 10\r\n\r\nv=0\r\ns=-\r\n',
      )
      .map((t) => Buffer.from(t)),
  );
  fc.assert(
    fc.property(
      seeds,
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      (seed, ms, datagram) => {
        const input = mutate(seed, ms);
        let parsed: SipMessage | undefined;
        try {
          parsed = parseMessage(input, { datagram });
        } catch (err) {
          if (!(err instanceof SipError)) throw err;
          if (err.partial) exerciseAccessors(err.partial);
          return;
        }
        exerciseAccessors(parsed);
        // Whatever parses serialises, and serialize → parse is then stable.
        const once = serializeMessage(parsed);
        const again = parseMessage(once, { datagram });
        assert.ok(serializeMessage(again).equals(once));
      },
    ),
    { numRuns: 1000 },
  );
});

test('(b) arbitrary bytes never throw anything but SipError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      onlySipError('parseMessage', () => exerciseAccessors(parseMessage(bytes)));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
      onlySipError('parseUri', () => parseUri(s));
      onlySipError('parseNameAddr', () => parseNameAddr(s));
      onlySipError('parseVia', () => parseVia(s));
      onlySipError('splitList', () => splitList(s));
    }),
    { numRuns: 500 },
  );
});
