import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registrar } from '../../../src/proxy/registrar.js';
import { getContacts, parseMessage } from '../../../src/sip/message/index.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import type { TransportAddress } from '../../../src/sip/transport.js';

const flow: TransportAddress = { protocol: 'udp', host: '127.0.0.1', port: 5062 };

function register(opts: {
  to?: string;
  contact?: string;
  expires?: string;
  cseq?: number;
  callId?: string;
}): SipRequest {
  const lines = [
    'REGISTER sip:example.org SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1;rport',
    'Max-Forwards: 70',
    `To: <sip:${opts.to ?? 'alice@example.org'}>`,
    `From: <sip:${opts.to ?? 'alice@example.org'}>;tag=abc`,
    `Call-ID: ${opts.callId ?? 'reg-1'}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    `Contact: ${opts.contact ?? '<sip:alice-dev@127.0.0.1:5062>'}`,
  ];
  if (opts.expires !== undefined) lines.push(`Expires: ${opts.expires}`);
  lines.push('Content-Length: 0', '', '');
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('REGISTER binds the contact with the header expiry and answers 200 listing it', () => {
  const c = clock();
  const r = new Registrar({ aor: 'alice@example.org', now: c.now });
  const out = r.register(register({ expires: '120' }), flow);
  assert.equal(out.response.status, 200);
  assert.equal(out.changed, true);
  assert.equal(r.bindings().length, 1);
  assert.deepEqual(r.bindings()[0]!.flow, flow);
  const listed = getContacts(out.response);
  assert.ok(listed !== '*' && listed.length === 1);
  assert.equal(listed[0]!.params.get('expires'), '120');
});

test('the Contact expires parameter wins over the Expires header (RFC 3261 §10.3 step 6)', () => {
  const c = clock();
  const r = new Registrar({ aor: 'alice@example.org', now: c.now });
  r.register(register({ contact: '<sip:a@127.0.0.1:5062>;expires=300', expires: '100' }), flow);
  assert.equal(r.nextExpiry(), 300_000);
});

test('a binding lapses when its expiry passes', () => {
  const c = clock();
  const r = new Registrar({ aor: 'alice@example.org', now: c.now });
  r.register(register({ expires: '60' }), flow);
  c.advance(59_000);
  assert.equal(r.registered, true);
  c.advance(2_000);
  assert.equal(r.registered, false);
});

test('refresh keeps one binding; expires=0 unregisters', () => {
  const c = clock();
  const r = new Registrar({ aor: 'alice@example.org', now: c.now });
  r.register(register({ expires: '60', cseq: 1 }), flow);
  const refresh = r.register(register({ expires: '60', cseq: 2 }), flow);
  assert.equal(refresh.changed, false);
  assert.equal(r.bindings().length, 1);
  const un = r.register(register({ expires: '0', cseq: 3 }), flow);
  assert.equal(un.response.status, 200);
  assert.equal(un.changed, true);
  assert.equal(r.registered, false);
});

test('Contact: * with Expires: 0 removes every binding; without Expires: 0 it is a 400', () => {
  const r = new Registrar({ aor: 'alice@example.org' });
  r.register(register({ cseq: 1 }), flow);
  assert.equal(r.register(register({ contact: '*', cseq: 2 }), flow).response.status, 400);
  assert.equal(
    r.register(register({ contact: '*', expires: '0', cseq: 3 }), flow).response.status,
    200,
  );
  assert.equal(r.registered, false);
});

test('a foreign AOR gets 403 and binds nothing', () => {
  const r = new Registrar({ aor: 'alice@example.org' });
  const out = r.register(register({ to: 'mallory@example.org' }), flow);
  assert.equal(out.response.status, 403);
  assert.match(out.response.reason, /alice@example\.org/);
  assert.equal(r.registered, false);
});

test('too brief an interval gets 423 with Min-Expires', () => {
  const r = new Registrar({ aor: 'alice@example.org', minExpires: 60 });
  const out = r.register(register({ expires: '10' }), flow);
  assert.equal(out.response.status, 423);
  assert.equal(out.response.get('Min-Expires'), '60');
});

test('an out-of-order REGISTER (same Call-ID, lower CSeq) fails and leaves the binding', () => {
  const c = clock();
  const r = new Registrar({ aor: 'alice@example.org', now: c.now });
  r.register(register({ expires: '600', cseq: 5 }), flow);
  const stale = r.register(register({ expires: '0', cseq: 4 }), flow);
  assert.equal(stale.response.status, 500);
  assert.equal(r.registered, true);
});

test('the AOR user part is case-sensitive, the host is not', () => {
  const r = new Registrar({ aor: 'alice@Example.ORG' });
  assert.equal(r.register(register({ to: 'alice@EXAMPLE.org' }), flow).response.status, 200);
  assert.equal(
    r.register(register({ to: 'Alice@example.org', callId: 'x' }), flow).response.status,
    403,
  );
});
