import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import { formatVia, parseVia, type Via } from '../../../../src/sip/message/index.js';
import { throwsSip } from './helpers.js';

test('parseVia: a typical value', () => {
  const [v, ...rest] = parseVia('SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1e4a;rport');
  assert.equal(rest.length, 0);
  assert.deepEqual(v, {
    protocol: 'SIP/2.0',
    transport: 'UDP',
    host: '127.0.0.1',
    port: 5062,
    params: new Map<string, string | null>([
      ['branch', 'z9hG4bK1e4a'],
      ['rport', null],
    ]),
  } satisfies Via);
});

test('parseVia: LWS around / : ; = and several values on one line (RFC 4475 wsinv)', () => {
  const vias = parseVia(
    'SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.0.2.111   ; branch= z9hG4bK30239',
  );
  assert.equal(vias.length, 2);
  assert.equal(vias[0]?.transport, 'TCP');
  assert.equal(vias[0]?.host, 'spindle.example.com');
  assert.equal(vias[0]?.params.get('branch'), 'z9hG4bK9ikj8');
  assert.equal(vias[1]?.host, '192.0.2.111');
  assert.equal(vias[1]?.params.get('branch'), 'z9hG4bK30239');
  const [p] = parseVia('sip/2.0/tcp Host.Example.COM : 5061');
  assert.equal(p?.protocol, 'SIP/2.0');
  assert.equal(p?.transport, 'TCP');
  assert.equal(p?.host, 'host.example.com');
  assert.equal(p?.port, 5061);
});

test('parseVia: IPv6 sent-by, received/rport values, unknown params kept', () => {
  const [v] = parseVia(
    'SIP/2.0/UDP [2001:db8::9]:5060;received=2001:db8::1;rport=5061;ttl=16;maddr=[::1];Foo=Bar;flag',
  );
  assert.equal(v?.host, '[2001:db8::9]');
  assert.equal(v?.port, 5060);
  assert.deepEqual(
    [...(v?.params ?? [])],
    [
      ['received', '2001:db8::1'],
      ['rport', '5061'],
      ['ttl', '16'],
      ['maddr', '[::1]'],
      ['foo', 'Bar'],
      ['flag', null],
    ],
  );
  assert.equal(parseVia('SIP/2.0/UDP [::1]').at(0)?.port, undefined);
  assert.equal(
    parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en').at(0)?.transport,
    'UNKNOWN',
  );
});

test('parseVia: malformed values throw BadHeaderValue naming Via', () => {
  for (const bad of [
    '',
    'SIP/2.0/UDP 192.0.2.15;;,;,,', // RFC 4475 badinv01
    'SIP/2.0/UDP',
    'SIP/2.0 UDP host',
    'SIP/2.0/UDPhost',
    'SIP/2.0/UDP host:',
    'SIP/2.0/UDP host:99999',
    'SIP/2.0/UDP host:5060x',
    'SIP/2.0/UDP ho_st',
    'SIP/2.0/UDP [::1',
    'SIP/2.0/UDP host;branch',
    'SIP/2.0/UDP host;received=example.com',
    'SIP/2.0/UDP host;rport=70000',
    'SIP/2.0/UDP host;ttl=256',
    'SIP/2.0/UDP host,',
    'SIP/2.0/UDP host,,SIP/2.0/UDP h2',
    'SIP/2.0/UDP host junk',
  ]) {
    throwsSip(() => parseVia(bad), SipErrorCode.BadHeaderValue, 'Via');
  }
});

test('formatVia renders and round-trips; refuses what would not parse', () => {
  const v: Via = {
    protocol: 'SIP/2.0',
    transport: 'TCP',
    host: '[::1]',
    port: 5060,
    params: new Map<string, string | null>([
      ['branch', 'z9hG4bKabc'],
      ['rport', null],
    ]),
  };
  const text = formatVia(v);
  assert.equal(text, 'SIP/2.0/TCP [::1]:5060;branch=z9hG4bKabc;rport');
  assert.deepEqual(parseVia(text), [v]);
  throwsSip(() => formatVia({ ...v, host: 'a b' }), SipErrorCode.BadHeaderValue);
  throwsSip(() => formatVia({ ...v, port: -1 }), SipErrorCode.BadHeaderValue);
  throwsSip(
    () => formatVia({ ...v, params: new Map([['branch', 'x\r\nTo: y']]) }),
    SipErrorCode.BadHeaderValue,
  );
});
