import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  responseDestination,
  stampTopVia,
  updateTopVia,
  viaProtocol,
} from '../../../src/net/via-routing.js';
import { SipError, SipErrorCode } from '../../../src/sip/errors.js';
import { parseVia, type SipRequest, topVia, type Via } from '../../../src/sip/message/index.js';
import { request } from './helpers.js';

const src = { host: '127.0.0.1', port: 40000 };

function stamped(sentBy: string, viaParams = '', source = src): { req: SipRequest; via: string } {
  const req = request({ sentBy, viaParams });
  stampTopVia(req, source);
  return { req, via: req.get('Via') as string };
}

test('§18.2.1: received is added only when sent-by differs from the source address', () => {
  assert.doesNotMatch(stamped('127.0.0.1:5070').via, /received/);
  assert.match(stamped('127.0.0.2:5070').via, /;received=127\.0\.0\.1$/);
  assert.match(stamped('alice.example.org').via, /;received=127\.0\.0\.1$/, 'a domain name');
});

test('RFC 3581: an empty rport gets the source port, and received is added even if equal', () => {
  const { via } = stamped('127.0.0.1:5070', ';rport');
  assert.match(via, /;rport=40000;received=127\.0\.0\.1$/);
  const v = parseVia(via)[0] as Via;
  assert.equal(v.params.get('rport'), '40000');
  // An rport that already has a value is left alone.
  assert.match(stamped('127.0.0.1:5070', ';rport=1234').via, /;rport=1234$/);
});

test('IPv6: "[::1]" sent-by equals source ::1; another source is stamped without brackets', () => {
  assert.doesNotMatch(stamped('[::1]:5070', '', { host: '::1', port: 1 }).via, /received/);
  const { via } = stamped('[::1]:5070', ';rport', { host: '::1', port: 7 });
  assert.match(via, /;rport=7;received=::1$/);
  assert.equal(parseVia(via)[0]?.params.get('received'), '::1');
});

test('only the top Via value changes; the other values and lines are kept', () => {
  const req = request({ sentBy: '192.0.2.1:5070' });
  const first = req.get('Via') as string;
  req.set('Via', `${first} , SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK-second`);
  req.append('Via', 'SIP/2.0/TCP 192.0.2.3;branch=z9hG4bK-third');
  stampTopVia(req, src);
  const lines = req.getLines('Via');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0] as string,
    /^SIP\/2\.0\/UDP 192\.0\.2\.1:5070;branch=[^,]+;received=127\.0\.0\.1, /,
  );
  assert.match(lines[0] as string, /SIP\/2\.0\/UDP 192\.0\.2\.2;branch=z9hG4bK-second$/);
  assert.equal(lines[1], 'SIP/2.0/TCP 192.0.2.3;branch=z9hG4bK-third');
  assert.equal(topVia(req)?.params.get('received'), '127.0.0.1', 'the accessor sees the change');
});

test('no Via or a malformed top Via is a SipError', () => {
  const req = request();
  req.remove('Via');
  assert.throws(
    () => stampTopVia(req, src),
    (e) => e instanceof SipError && e.code === SipErrorCode.MissingHeader,
  );
  req.set('Via', 'SIP/2.0/UDP');
  assert.throws(() => stampTopVia(req, src), SipError);
  const untouched = request();
  const before = untouched.get('Via');
  updateTopVia(untouched, () => false);
  assert.equal(untouched.get('Via'), before, 'no rewrite when nothing changed');
});

const via = (text: string) => parseVia(text)[0] as Via;

test('§18.2.2 / RFC 3581: where a UDP response goes', () => {
  const cases: Array<[string, string, number]> = [
    ['SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa', '127.0.0.1', 5070],
    ['SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa', '127.0.0.1', 5060],
    ['SIP/2.0/UDP a.example;branch=z9hG4bKa;received=127.0.0.2', '127.0.0.2', 5060],
    ['SIP/2.0/UDP 127.0.0.1:5070;rport=40000;received=127.0.0.2', '127.0.0.2', 40000],
    // rport without received: RFC 3581 asks for both; sent-by port then.
    ['SIP/2.0/UDP 127.0.0.1:5070;rport=40000', '127.0.0.1', 5070],
    // Unfilled rport (never stamped): sent-by.
    ['SIP/2.0/UDP 127.0.0.1:5070;rport', '127.0.0.1', 5070],
    ['SIP/2.0/UDP 127.0.0.1:5070;maddr=127.0.0.9;received=127.0.0.2;rport=1', '127.0.0.9', 5070],
    ['SIP/2.0/UDP [::1]:5070;branch=z9hG4bKa', '::1', 5070],
    ['SIP/2.0/UDP [::1]:5070;rport=9;received=::2', '::2', 9],
  ];
  for (const [text, host, port] of cases) {
    assert.deepEqual(responseDestination(via(text), 'udp'), { protocol: 'udp', host, port }, text);
  }
});

test('§18.2.2: a TCP response falls back to received (or sent-by host) and the sent-by port', () => {
  const cases: Array<[string, string, number]> = [
    ['SIP/2.0/TCP 127.0.0.1:5070;rport=40000;received=127.0.0.1', '127.0.0.1', 5070],
    ['SIP/2.0/TCP host.example;received=127.0.0.2', '127.0.0.2', 5060],
    ['SIP/2.0/TCP [::1]:5070', '::1', 5070],
  ];
  for (const [text, host, port] of cases) {
    assert.deepEqual(responseDestination(via(text), 'tcp'), { protocol: 'tcp', host, port }, text);
  }
});

test('viaProtocol: UDP and TCP only', () => {
  assert.equal(viaProtocol(via('SIP/2.0/UDP h')), 'udp');
  assert.equal(viaProtocol(via('SIP/2.0/tcp h')), 'tcp');
  assert.equal(viaProtocol(via('SIP/2.0/TLS h')), undefined);
  assert.equal(viaProtocol(via('SIP/2.0/WS h')), undefined);
});
