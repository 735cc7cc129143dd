import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import {
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
  parseMessage,
  topVia,
} from '../../../../src/sip/message/index.js';
import { crlf, throwsSip } from './helpers.js';

const msgWith = (...headers: string[]) =>
  parseMessage(crlf('OPTIONS sip:b@x SIP/2.0', ...headers, '', ''));

test('getVias: all values in order across lines and comma lists; topVia is the first', () => {
  const m = msgWith(
    'Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b',
    'To: <sip:x@y>',
    'v: SIP/2.0/UDP c:5070',
  );
  assert.deepEqual(
    getVias(m).map((v) => `${v.transport} ${v.host}`),
    ['UDP a', 'TCP b', 'UDP c'],
  );
  assert.equal(topVia(m)?.params.get('branch'), 'z9hG4bK1');
  assert.equal(topVia(msgWith('To: <sip:x@y>')), undefined);
  assert.deepEqual(getVias(msgWith()), []);
  throwsSip(
    () => getVias(msgWith('Via: SIP/2.0/UDP a', 'Via: junk')),
    SipErrorCode.BadHeaderValue,
    'Via',
  );
});

test('From/To/Call-ID/CSeq: parsed, missing → MissingHeader, malformed → error naming the header', () => {
  const m = msgWith(
    'From: "A" <sip:a@x>;tag=1',
    'To: sip:b@x',
    'Call-ID: abc@host',
    'CSeq: 7 OPTIONS',
  );
  assert.equal(getFrom(m).displayName, 'A');
  assert.equal(getFrom(m).params.get('tag'), '1');
  assert.equal(getTo(m).uri.user, 'b');
  assert.equal(getCallId(m), 'abc@host');
  assert.deepEqual(getCSeq(m), { seq: 7, method: 'OPTIONS' });
  const empty = msgWith();
  throwsSip(() => getFrom(empty), SipErrorCode.MissingHeader, 'From');
  throwsSip(() => getTo(empty), SipErrorCode.MissingHeader, 'To');
  throwsSip(() => getCallId(empty), SipErrorCode.MissingHeader, 'Call-ID');
  throwsSip(() => getCSeq(empty), SipErrorCode.MissingHeader, 'CSeq');
  throwsSip(() => getFrom(msgWith('From: Bell, A <sip:a@x>')), SipErrorCode.BadHeaderValue, 'From');
  throwsSip(() => getTo(msgWith('To: <sip:a@x y>')), SipErrorCode.BadUri, 'To');
  throwsSip(() => getCSeq(msgWith('CSeq: x')), SipErrorCode.BadHeaderValue, 'CSeq');
});

test('Call-ID = word [ "@" word ] (RFC 4475 intmeth value accepted)', () => {
  assert.equal(
    getCallId(msgWith(`Call-ID: intmeth.word%ZK-!.*_+'@word\`~)(><:\\/"][?}{`)),
    `intmeth.word%ZK-!.*_+'@word\`~)(><:\\/"][?}{`,
  );
  for (const bad of ['a b', '@a', 'a@', 'a@b@c', 'a;b', 'é']) {
    throwsSip(() => getCallId(msgWith(`Call-ID: ${bad}`)), SipErrorCode.BadHeaderValue, 'Call-ID');
  }
  throwsSip(() => getCallId(msgWith('Call-ID:')), SipErrorCode.BadHeaderValue, 'Call-ID');
});

test('Max-Forwards: digits 0..255 ("0068" is 68), > 255 ScalarOutOfRange, absent undefined', () => {
  assert.equal(getMaxForwards(msgWith('Max-Forwards: 0068')), 68);
  assert.equal(getMaxForwards(msgWith('Max-Forwards: 0')), 0);
  assert.equal(getMaxForwards(msgWith('Max-Forwards: 255')), 255);
  assert.equal(getMaxForwards(msgWith()), undefined);
  throwsSip(
    () => getMaxForwards(msgWith('Max-Forwards: 300')),
    SipErrorCode.ScalarOutOfRange,
    'Max-Forwards',
  );
  throwsSip(
    () => getMaxForwards(msgWith('Max-Forwards: -1')),
    SipErrorCode.BadHeaderValue,
    'Max-Forwards',
  );
  throwsSip(() => getMaxForwards(msgWith('Max-Forwards: 7 0')), SipErrorCode.BadHeaderValue);
});

test('Expires: delta-seconds 0..2^32-1; Content-Length accessor', () => {
  assert.equal(getExpires(msgWith('Expires: 4294967295')), 2 ** 32 - 1);
  assert.equal(getExpires(msgWith()), undefined);
  throwsSip(
    () => getExpires(msgWith('Expires: 4294967296')),
    SipErrorCode.ScalarOutOfRange,
    'Expires',
  );
  throwsSip(
    () => getExpires(msgWith(`Expires: 1${'0'.repeat(100)}`)),
    SipErrorCode.ScalarOutOfRange,
  );
  throwsSip(
    () => getExpires(msgWith('Expires: Thu, 01 Dec 1994 16:00:00 GMT')),
    SipErrorCode.BadHeaderValue,
  );
  assert.equal(getContentLength(msgWith('l: 0')), 0);
  assert.equal(getContentLength(msgWith()), undefined);
});

test('Contact: lists across lines, quoted commas, "*" alone', () => {
  const m = msgWith('Contact: "Bell, A" <sip:a@x>;q=0.5, sip:b@y;expires=60', 'm: <sip:c@z>');
  const c = getContacts(m);
  assert.ok(Array.isArray(c));
  assert.deepEqual(
    c.map((na) => [na.displayName, na.uri.user, Object.fromEntries(na.params)]),
    [
      ['Bell, A', 'a', { q: '0.5' }],
      [undefined, 'b', { expires: '60' }],
      [undefined, 'c', {}],
    ],
  );
  assert.equal(getContacts(msgWith('Contact: *')), '*');
  assert.deepEqual(getContacts(msgWith()), []);
  throwsSip(
    () => getContacts(msgWith('Contact: *', 'Contact: <sip:a@b>')),
    SipErrorCode.BadHeaderValue,
    'Contact',
  );
  throwsSip(
    () => getContacts(msgWith('Contact: *, <sip:a@b>')),
    SipErrorCode.BadHeaderValue,
    'Contact',
  );
  throwsSip(
    () => getContacts(msgWith('Contact: sip:user@example.com?Route=x')),
    SipErrorCode.BadUri,
    'Contact',
  );
});

test('cache: repeated calls share the parsed view; editing headers is seen at once', () => {
  const m = msgWith(
    'Via: SIP/2.0/UDP a;branch=z9hG4bK1',
    'From: <sip:a@x>;tag=1',
    'CSeq: 1 OPTIONS',
  );
  assert.equal(topVia(m), topVia(m));
  assert.equal(getFrom(m), getFrom(m));
  m.prepend('Via', 'SIP/2.0/TCP proxy;branch=z9hG4bK2');
  assert.equal(topVia(m)?.host, 'proxy');
  assert.equal(getVias(m).length, 2);
  m.set('From', '<sip:other@x>;tag=9');
  assert.equal(getFrom(m).uri.user, 'other');
  const cseq = m.headers.find((h) => h.name === 'CSeq');
  assert.ok(cseq);
  cseq.value = '2 OPTIONS'; // mutating the line in place is seen too
  assert.equal(getCSeq(m).seq, 2);
  m.remove('Via');
  assert.equal(topVia(m), undefined);
});

test('the cache does not show in equality checks or JSON', () => {
  const a = msgWith('Via: SIP/2.0/UDP a', 'From: <sip:a@x>');
  const b = msgWith('Via: SIP/2.0/UDP a', 'From: <sip:a@x>');
  getVias(a);
  getFrom(a);
  assert.deepStrictEqual(a, b);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});

test('Route / Record-Route: name-addr lists across lines, in order; errors name the header', () => {
  const m = msgWith(
    'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
    'Route: <sip:[::1]:5070;lr;transport=tcp>',
    'Record-Route: <sip:p0.example.com;lr>;x=1',
  );
  assert.deepEqual(
    getRecordRoutes(m).map((na) => [
      na.uri.host,
      na.uri.params.has('lr'),
      Object.fromEntries(na.params),
    ]),
    [
      ['p2.example.com', true, {}],
      ['p1.example.com', true, {}],
      ['p0.example.com', true, { x: '1' }],
    ],
  );
  assert.deepEqual(
    getRoutes(m).map((na) => [na.uri.host, na.uri.port, na.uri.params.get('transport')]),
    [['[::1]', 5070, 'tcp']],
  );
  assert.deepEqual(getRoutes(msgWith()), []);
  throwsSip(
    () => getRecordRoutes(msgWith('Record-Route: <sip:a b>')),
    SipErrorCode.BadUri,
    'Record-Route',
  );
  throwsSip(() => getRoutes(msgWith('Route: <sip:a@b>;;')), SipErrorCode.BadHeaderValue, 'Route');
});

test('getList: items of a list header across lines', () => {
  const m = msgWith('Supported: replaces, 100rel', 'k: path,', 'Proxy-Require: foo');
  assert.deepEqual(getList(m, 'Supported'), ['replaces', '100rel', 'path']);
  assert.deepEqual(getList(m, 'proxy-require'), ['foo']);
  assert.deepEqual(getList(m, 'Require'), []);
});

test('accessors also work on a message-shaped object not built by the classes', () => {
  const real = msgWith('Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'CSeq: 4 OPTIONS');
  const lookalike = Object.assign(Object.create(Object.getPrototypeOf(real)), {
    kind: 'request',
    method: 'OPTIONS',
    uri: 'sip:b@x',
    version: 'SIP/2.0',
    headers: real.headers,
    body: real.body,
  }) as typeof real;
  assert.equal(topVia(lookalike)?.host, 'a');
  assert.equal(getCSeq(lookalike).seq, 4);
});
