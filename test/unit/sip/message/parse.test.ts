import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import { parseMessage, SipRequest, SipResponse } from '../../../../src/sip/message/index.js';
import { crlf, throwsSip } from './helpers.js';

const BASE = [
  'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1',
  'From: <sip:a@example.org>;tag=1',
  'To: <sip:b@example.org>',
  'Call-ID: c1',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
];

test('request: start line, headers in order, body', () => {
  const msg = parseMessage(
    crlf('OPTIONS sip:b@example.org SIP/2.0', ...BASE, 'Content-Length: 5', '', 'hello'),
  );
  assert.ok(msg instanceof SipRequest);
  assert.equal(msg.method, 'OPTIONS');
  assert.equal(msg.uri, 'sip:b@example.org');
  assert.equal(msg.version, 'SIP/2.0');
  assert.deepEqual(
    msg.headers.map((h) => h.name),
    ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length'],
  );
  assert.equal(msg.get('call-id'), 'c1');
  assert.deepEqual([...msg.body], [...Buffer.from('hello')]);
});

test('response: status, reason with spaces and UTF-8, empty reason (RFC 4475 noreason)', () => {
  const r = parseMessage(crlf('SIP/2.0 486 Busy  Here — ü', ...BASE, '', ''));
  assert.ok(r instanceof SipResponse);
  assert.equal(r.status, 486);
  assert.equal(r.reason, 'Busy  Here — ü');
  const e = parseMessage(crlf('SIP/2.0 100 ', ...BASE, '', '')) as SipResponse;
  assert.equal(e.reason, '');
  assert.equal(e.status, 100);
  assert.equal((parseMessage(crlf('sip/2.0 200 OK', '', '')) as SipResponse).version, 'SIP/2.0');
});

test('method is case-sensitive and kept; version compared case-insensitively', () => {
  const m = parseMessage(crlf('invite sip:b@example.org sip/2.0', '', '')) as SipRequest;
  assert.equal(m.method, 'invite');
  assert.equal(m.version, 'SIP/2.0');
});

test('compact forms and any case are canonicalised; unknown names kept verbatim', () => {
  const msg = parseMessage(
    crlf(
      'OPTIONS sip:b@x SIP/2.0',
      'v: SIP/2.0/UDP h',
      'I: id',
      'f: <sip:a@x>',
      't: <sip:b@x>',
      'VIA: SIP/2.0/TCP h2',
      'cSeQ: 1 OPTIONS',
      'l: 0',
      'm: <sip:c@x>',
      'X-Custom-HeAder: 1',
      'k: path',
      '',
      '',
    ),
  );
  assert.deepEqual(
    msg.headers.map((h) => h.name),
    [
      'Via',
      'Call-ID',
      'From',
      'To',
      'Via',
      'CSeq',
      'Content-Length',
      'Contact',
      'X-Custom-HeAder',
      'Supported',
    ],
  );
});

test('folding: continuation lines join with one SP; HCOLON allows whitespace before ":"', () => {
  const msg = parseMessage(
    crlf(
      'INVITE sip:b@x SIP/2.0',
      'TO :',
      ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
      'Subject  \t: a',
      '\t  b  ',
      '   ',
      ' c',
      'cseq: 0009',
      '  INVITE',
      's :',
      'Empty:',
      'NewFangledHeader:   newfangled value',
      ' continued newfangled value',
      'l: 0',
      '',
      '',
    ),
  );
  assert.deepEqual(msg.headers, [
    { name: 'To', value: 'sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n' },
    { name: 'Subject', value: 'a b c' },
    { name: 'CSeq', value: '0009 INVITE' },
    { name: 'Subject', value: '' },
    { name: 'Empty', value: '' },
    { name: 'NewFangledHeader', value: 'newfangled value continued newfangled value' },
    { name: 'Content-Length', value: '0' },
  ]);
});

test('bare LF line ends are accepted; leading CRLFs before the start line are ignored', () => {
  const lf = parseMessage(
    Buffer.from(
      '\r\n\r\nOPTIONS sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nSubject: a\n b\nContent-Length: 2\n\nhi',
    ),
  );
  assert.equal((lf as SipRequest).method, 'OPTIONS');
  assert.deepEqual(lf.headers, [
    { name: 'Via', value: 'SIP/2.0/UDP h' },
    { name: 'Subject', value: 'a b' },
    { name: 'Content-Length', value: '2' },
  ]);
  assert.equal(Buffer.from(lf.body).toString(), 'hi');
  const mixed = parseMessage(Buffer.from('OPTIONS sip:b@x SIP/2.0\r\nA: 1\n\r\nxy'));
  assert.equal(Buffer.from(mixed.body).toString(), 'xy');
});

test('body: binary bytes intact; datagram without Content-Length runs to the end', () => {
  const bin = Buffer.from([0, 1, 2, 13, 10, 13, 10, 255, 128]);
  const msg = parseMessage(
    Buffer.concat([
      crlf('MESSAGE sip:b@x SIP/2.0', 'Content-Type: application/octet-stream', '', ''),
      bin,
    ]),
  );
  assert.deepEqual([...msg.body], [...bin]);
  // The body is a copy: changing the input afterwards does not change the message.
  const input = crlf('MESSAGE sip:b@x SIP/2.0', 'l: 3', '', 'abc');
  const m2 = parseMessage(input);
  input.fill(0);
  assert.equal(Buffer.from(m2.body).toString(), 'abc');
});

test('Content-Length on a datagram: extra octets ignored, short body is TruncatedBody', () => {
  const m = parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'Content-Length: 3', '', 'abcdef'));
  assert.equal(Buffer.from(m.body).toString(), 'abc');
  const e = throwsSip(
    () => parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', ...BASE, 'Content-Length: 9', '', 'abc')),
    SipErrorCode.TruncatedBody,
  );
  assert.equal(e.partial?.get('Call-ID'), 'c1');
  // Same value twice is fine; different values are not (RFC 4475 mcl01).
  assert.equal(
    parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'l: 2', 'Content-Length: 02', '', 'ab')).body
      .length,
    2,
  );
  throwsSip(
    () => parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'l: 2', 'Content-Length: 3', '', 'abc')),
    SipErrorCode.BadContentLength,
  );
});

test('malformed Content-Length values are BadContentLength, with the partial message', () => {
  for (const v of ['-999', 'abc', '1 2', '0x10', '', '+5']) {
    const e = throwsSip(
      () => parseMessage(crlf('INVITE sip:b@x SIP/2.0', ...BASE, `Content-Length: ${v}`, '', '')),
      SipErrorCode.BadContentLength,
    );
    assert.ok(e.partial instanceof SipRequest, v);
    assert.equal(e.partial.get('CSeq'), '1 OPTIONS');
    assert.equal(e.detail?.header, 'Content-Length');
  }
});

test('stream messages (datagram: false): Content-Length required and exact', () => {
  const ok = parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'l: 2', '', 'ab'), { datagram: false });
  assert.equal(ok.body.length, 2);
  throwsSip(
    () =>
      parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'Via: SIP/2.0/TCP h', '', ''), {
        datagram: false,
      }),
    SipErrorCode.BadContentLength,
  );
  throwsSip(
    () => parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'l: 1', '', 'ab'), { datagram: false }),
    SipErrorCode.BadContentLength,
  );
  throwsSip(
    () => parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', 'l: 3', '', 'ab'), { datagram: false }),
    SipErrorCode.TruncatedBody,
  );
});

test('Request-Line: exactly one SP between elements (RFC 4475 lwsstart, trws, lwsruri)', () => {
  for (const line of [
    'INVITE  sip:user@example.com  SIP/2.0',
    'OPTIONS sip:remote-target@example.com SIP/2.0  ',
    'INVITE sip:user@example.com; lr SIP/2.0',
    'INVITE\tsip:user@example.com SIP/2.0',
    ' INVITE sip:user@example.com SIP/2.0',
  ]) {
    const e = throwsSip(() => parseMessage(crlf(line, ...BASE, '', '')), SipErrorCode.BadStartLine);
    assert.ok(e.partial instanceof SipRequest, line);
    assert.equal(e.partial.get('Via'), BASE[0]?.slice(5));
  }
});

test('start lines that cannot be read at all throw BadStartLine without a partial', () => {
  for (const line of [
    '',
    'INVITE',
    'INVITE sip:a@b',
    'IN<VITE sip:a@b SIP/2.0',
    'SIP/2.0 20 OK',
    'SIP/2.0 2000 OK',
    'SIP/2.0 700 X',
    'SIP/2.0 099 X',
    'SIP/2.0 abc OK',
    'SIP/2.0',
  ]) {
    const e = throwsSip(
      () => parseMessage(crlf(line, 'Via: SIP/2.0/UDP h', '', '')),
      SipErrorCode.BadStartLine,
    );
    assert.equal(e.partial, undefined, line);
  }
  throwsSip(() => parseMessage(Buffer.from('\r\n\r\n')), SipErrorCode.BadStartLine);
  throwsSip(() => parseMessage(new Uint8Array(0)), SipErrorCode.BadStartLine);
});

test('SIP version other than 2.0 → BadVersion (505) with the partial message (badvers)', () => {
  const e = throwsSip(
    () => parseMessage(crlf('OPTIONS sip:t.watson@example.org SIP/7.0', ...BASE, '', '')),
    SipErrorCode.BadVersion,
  );
  assert.equal((e.partial as SipRequest).version, 'SIP/7.0');
  throwsSip(() => parseMessage(crlf('SIP/3.0 200 OK', ...BASE, '', '')), SipErrorCode.BadVersion);
  throwsSip(
    () => parseMessage(crlf('OPTIONS sip:a@b HTTP/1.1', '', '')),
    SipErrorCode.BadStartLine,
  );
});

test('Request-URI must be an absolute URI without <> (RFC 4475 ltgtruri)', () => {
  const e = throwsSip(
    () => parseMessage(crlf('INVITE <sip:user@example.com> SIP/2.0', ...BASE, '', '')),
    SipErrorCode.BadUri,
  );
  assert.equal((e.partial as SipRequest).uri, '<sip:user@example.com>');
  throwsSip(
    () => parseMessage(crlf('INVITE user@example.com SIP/2.0', '', '')),
    SipErrorCode.BadUri,
  );
  throwsSip(
    () => parseMessage(crlf('INVITE sip:us"er@example.com SIP/2.0', '', '')),
    SipErrorCode.BadUri,
  );
  assert.equal(
    (
      parseMessage(
        crlf('OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0', '', ''),
      ) as SipRequest
    ).uri,
    'nobodyKnowsThisScheme:totallyopaquecontent',
  );
});

test('malformed header lines → BadHeader; the other headers are still in the partial message', () => {
  for (const bad of ['NoColonHere', 'Bad Name: x', ': empty name', 'Bad\x01: x', 'Via: a\rb']) {
    const e = throwsSip(
      () => parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', ...BASE, bad, 'l: 0', '', '')),
      SipErrorCode.BadHeader,
    );
    assert.deepEqual(
      e.partial?.headers.map((h) => h.name),
      ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length'],
      JSON.stringify(bad),
    );
  }
  throwsSip(
    () => parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', ' folded-start: x', '', '')),
    SipErrorCode.BadHeader,
  );
  throwsSip(
    () => parseMessage(Buffer.from('OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n')),
    SipErrorCode.BadHeader,
  );
  throwsSip(
    () => parseMessage(Buffer.from('OPTIONS sip:b@x SIP/2.0\rVia: x\r\n\r\n')),
    SipErrorCode.BadStartLine,
  );
});

test('limits: maxSize and maxHeaders → TooLarge', () => {
  const msg = crlf('OPTIONS sip:b@x SIP/2.0', ...BASE, '', '');
  assert.ok(parseMessage(msg, { maxSize: msg.length }));
  throwsSip(() => parseMessage(msg, { maxSize: msg.length - 1 }), SipErrorCode.TooLarge);
  assert.equal(parseMessage(msg, { maxHeaders: BASE.length }).headers.length, BASE.length);
  const e = throwsSip(() => parseMessage(msg, { maxHeaders: 3 }), SipErrorCode.TooLarge);
  assert.equal(e.partial?.headers.length, 3);
  throwsSip(() => parseMessage(Buffer.alloc(70000, 0x41)), SipErrorCode.TooLarge);
});

test('accepts a Uint8Array that is not a Buffer, at an offset', () => {
  const src = crlf('xxOPTIONS sip:b@x SIP/2.0', 'l: 2', '', 'ab');
  const view = new Uint8Array(src.buffer, src.byteOffset + 2, src.length - 2);
  const m = parseMessage(view) as SipRequest;
  assert.equal(m.method, 'OPTIONS');
  assert.equal(Buffer.from(m.body).toString(), 'ab');
});

test('UTF-8 header values are decoded', () => {
  const m = parseMessage(
    crlf('MESSAGE sip:b@x SIP/2.0', 'From: "Zoë Ångström" <sip:z@x>', 'l: 0', '', ''),
  );
  assert.equal(m.get('From'), '"Zoë Ångström" <sip:z@x>');
});
