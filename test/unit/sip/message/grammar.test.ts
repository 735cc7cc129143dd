import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import {
  formatCSeq,
  isHost,
  isIPv4,
  isIPv6,
  parseCSeq,
  quote,
  splitList,
  unquote,
} from '../../../../src/sip/message/index.js';
import { throwsSip } from './helpers.js';

test('splitList: plain items are trimmed, empty ones dropped', () => {
  assert.deepEqual(splitList(' INVITE ,ACK,\tBYE , , '), ['INVITE', 'ACK', 'BYE']);
  assert.deepEqual(splitList(''), []);
  assert.deepEqual(splitList('  '), []);
  assert.deepEqual(splitList('one'), ['one']);
});

test('splitList: commas inside quoted strings (with escapes) and <> do not split', () => {
  assert.deepEqual(splitList('"Bell, A." <sip:a@x>, <sip:b@y;p=1,2>'), [
    '"Bell, A." <sip:a@x>',
    '<sip:b@y;p=1,2>',
  ]);
  // \" does not end the quoted string; \\ followed by " does.
  assert.deepEqual(splitList('"a\\", b" <sip:a@x>,c'), ['"a\\", b" <sip:a@x>', 'c']);
  assert.deepEqual(splitList('"a\\\\", b'), ['"a\\\\"', 'b']);
});

test('quote/unquote: escapes round-trip; CR/LF cannot be quoted', () => {
  assert.equal(quote('J "R" \\'), '"J \\"R\\" \\\\"');
  assert.equal(unquote('"J \\"R\\" \\\\"'), 'J "R" \\');
  assert.equal(unquote('plain'), 'plain');
  assert.equal(unquote(quote('BEL:\x07 NUL:\x00 DEL:\x7f') ?? ''), 'BEL:\x07 NUL:\x00 DEL:\x7f');
  assert.equal(quote('a\r\nb'), undefined);
});

test('hosts: IPv4, IPv6, hostnames', () => {
  for (const ok of ['192.0.2.1', '0.0.0.0', '255.255.255.255']) assert.ok(isIPv4(ok), ok);
  for (const no of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.4 ', '']) {
    assert.ok(!isIPv4(no), no);
  }
  for (const ok of [
    '::1',
    '::',
    '2001:db8::1',
    'fe80::1:2:3:4',
    '1:2:3:4:5:6:7:8',
    '::ffff:192.0.2.1',
  ]) {
    assert.ok(isIPv6(ok), ok);
  }
  for (const no of [
    '1:2:3:4:5:6:7:8:9',
    '2001:db8:::1',
    '1::2::3',
    'g::1',
    '12345::',
    '1.2.3.4::',
    ':1:2',
  ]) {
    assert.ok(!isIPv6(no), no);
  }
  for (const ok of ['example.com', 'a', 'example.com.', 'a-b.c1', '[::1]', '192.0.2.1']) {
    assert.ok(isHost(ok), ok);
  }
  for (const no of [
    '',
    '-a.com',
    'a-.com',
    'a..b',
    '.a',
    'a_b.com',
    '1.2.3.999',
    '[::1',
    '[1.2.3.4]',
    'a b',
  ]) {
    assert.ok(!isHost(no), no);
  }
});

test('CSeq: LWS between number and method, leading zeros, range 0..2^31-1', () => {
  assert.deepEqual(parseCSeq('0009 \t INVITE'), { seq: 9, method: 'INVITE' });
  assert.deepEqual(parseCSeq(' 2147483647 ACK '), { seq: 2 ** 31 - 1, method: 'ACK' });
  assert.deepEqual(parseCSeq('0 INVITE'), { seq: 0, method: 'INVITE' });
  throwsSip(() => parseCSeq('2147483648 INVITE'), SipErrorCode.ScalarOutOfRange, 'CSeq');
  throwsSip(() => parseCSeq('36893488147419103232 REGISTER'), SipErrorCode.ScalarOutOfRange);
  throwsSip(() => parseCSeq('INVITE'), SipErrorCode.BadHeaderValue, 'CSeq');
  throwsSip(() => parseCSeq('12'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseCSeq('12INVITE'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseCSeq('-1 INVITE'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseCSeq('1 INVITE BYE'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseCSeq('1 IN<VITE'), SipErrorCode.BadHeaderValue);
  assert.equal(formatCSeq({ seq: 7, method: 'BYE' }), '7 BYE');
  throwsSip(() => formatCSeq({ seq: 2 ** 31, method: 'BYE' }), SipErrorCode.ScalarOutOfRange);
  throwsSip(() => formatCSeq({ seq: 1, method: 'B YE' }), SipErrorCode.BadHeaderValue);
});
