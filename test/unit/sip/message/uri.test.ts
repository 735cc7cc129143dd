import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import {
  formatUri,
  parseRequestUri,
  parseUri,
  type SipUri,
} from '../../../../src/sip/message/index.js';
import { throwsSip } from './helpers.js';

test('parseUri: full SIP URI with password, port, params and headers', () => {
  const u = parseUri(
    'sip:alice:secret@Example.COM:5070;transport=TCP;lr;maddr=239.255.255.1?subject=hi&priority=urgent',
  );
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'alice');
  assert.equal(u.password, 'secret');
  assert.equal(u.host, 'example.com');
  assert.equal(u.port, 5070);
  assert.deepEqual(
    [...u.params],
    [
      ['transport', 'TCP'],
      ['lr', null],
      ['maddr', '239.255.255.1'],
    ],
  );
  assert.deepEqual(
    [...u.headers],
    [
      ['subject', 'hi'],
      ['priority', 'urgent'],
    ],
  );
  assert.equal(u.opaque, undefined);
});

test('parseUri: scheme and host are lowercased, user and param values keep case', () => {
  const u = parseUri('SIPS:Bob@HOST.Example.org;Transport=TLS');
  assert.equal(u.scheme, 'sips');
  assert.equal(u.user, 'Bob');
  assert.equal(u.host, 'host.example.org');
  assert.deepEqual([...u.params], [['transport', 'TLS']]);
});

test('parseUri: IPv6 references with and without port', () => {
  const a = parseUri('sip:[::1]:5060');
  assert.equal(a.host, '[::1]');
  assert.equal(a.port, 5060);
  assert.equal(a.user, undefined);
  const b = parseUri('sip:bob@[2001:DB8::1];transport=udp');
  assert.equal(b.host, '[2001:db8::1]');
  assert.equal(b.port, undefined);
  throwsSip(() => parseUri('sip:[::1'), SipErrorCode.BadUri);
  throwsSip(() => parseUri('sip:[::g]'), SipErrorCode.BadUri);
  throwsSip(() => parseUri('sip:::1'), SipErrorCode.BadUri);
});

test('parseUri: %-escapes are decoded (UTF-8), NUL included (RFC 4475 escnull, esc01)', () => {
  assert.equal(parseUri('sip:%75se%72@example.com').user, 'user');
  assert.equal(parseUri('sip:null-%00-null@example.com').user, 'null-\x00-null');
  assert.equal(parseUri('sip:%C3%A9t%C3%A9@example.com').user, 'été');
  const u = parseUri('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
  assert.equal(u.user, 'caller');
  assert.deepEqual(
    [...u.params],
    [
      ['lr', null],
      ['name', 'value%41'],
    ],
  );
  throwsSip(() => parseUri('sip:a%4@example.com'), SipErrorCode.BadUri);
  throwsSip(() => parseUri('sip:a%zz@example.com'), SipErrorCode.BadUri);
});

test('parseUri: user part may hold ; ? / , (semiuri, intmeth); the first @ ends the userinfo', () => {
  const u = parseUri('sip:user;par=u%40example.net@example.com');
  assert.equal(u.user, 'user;par=u@example.net');
  assert.equal(u.host, 'example.com');
  assert.equal(u.params.size, 0);
  const w = parseUri(
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
  );
  assert.equal(w.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(w.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
});

test('parseUri: other schemes are kept opaque, scheme lowercased', () => {
  assert.deepEqual(parseUri('TEL:+1-212-555-0101;phone-context=example.com'), {
    scheme: 'tel',
    host: '',
    params: new Map(),
    headers: new Map(),
    opaque: '+1-212-555-0101;phone-context=example.com',
  });
  assert.equal(parseUri('soap.beep://192.0.2.103:3002').opaque, '//192.0.2.103:3002');
  assert.equal(formatUri(parseUri('http://www.example.com/a?b')), 'http://www.example.com/a?b');
  throwsSip(() => parseUri('tel:'), SipErrorCode.BadUri);
  throwsSip(() => parseUri('tel:+1 212'), SipErrorCode.BadUri);
});

test('parseUri: malformed input throws BadUri', () => {
  for (const bad of [
    '',
    'sip',
    'sip:',
    ':foo',
    '1sip:a@b',
    '<sip:user@example.com>',
    ' sip:user@example.com',
    'sip:user@example.com ',
    'sip:us er@example.com',
    'sip:@example.com',
    'sip:user@',
    'sip:user@example.com:',
    'sip:user@example.com:65536',
    'sip:user@example.com:50a',
    'sip:user@exa<mple.com',
    'sip:user@example.com;',
    'sip:user@example.com;=v',
    'sip:user@example.com?',
    'sip:user@example.com?=v',
    'sip:a@b@c',
    'sip:é@example.com',
  ]) {
    throwsSip(() => parseUri(bad), SipErrorCode.BadUri);
  }
  assert.equal(parseUri('sip:example.com:0').port, 0);
  assert.equal(parseUri('sip:example.com:65535').port, 65535);
});

test('parseUri: a repeated parameter keeps its first value', () => {
  assert.deepEqual([...parseUri('sip:a@b;x=1;X=2').params], [['x', '1']]);
});

test('parseRequestUri: no headers component in a Request-URI (RFC 4475 escruri)', () => {
  throwsSip(
    () => parseRequestUri('sip:user@example.com?Route=%3Csip:example.com%3E'),
    SipErrorCode.BadUri,
  );
  assert.equal(parseRequestUri('sip:user@example.com;lr').host, 'example.com');
  assert.equal(parseRequestUri('tel:+15551234?x').opaque, '+15551234?x');
});

test('formatUri escapes what the grammar needs and parses back to the same URI', () => {
  const u: SipUri = {
    scheme: 'sip',
    user: 'a b:c@d\x00é',
    password: 'p@ss:w;rd',
    host: '[::1]',
    port: 5060,
    params: new Map<string, string | null>([
      ['transport', 'udp'],
      ['lr', null],
      ['x y', 'a;b=c'],
    ]),
    headers: new Map([['Subject', 'hello world&more']]),
  };
  const text = formatUri(u);
  assert.equal(
    text,
    'sip:a%20b%3Ac%40d%00%C3%A9:p%40ss%3Aw%3Brd@[::1]:5060;transport=udp;lr;x%20y=a%3Bb%3Dc?Subject=hello%20world%26more',
  );
  assert.deepEqual(parseUri(text), u);
  assert.equal(formatUri(parseUri('sip:bob@example.com')), 'sip:bob@example.com');
  throwsSip(() => formatUri({ ...u, host: 'bad host' }), SipErrorCode.BadUri);
  throwsSip(() => formatUri({ ...u, port: 70000 }), SipErrorCode.BadUri);
});
