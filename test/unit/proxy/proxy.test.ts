import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientTxHandlers, Origin, Resolution } from '../../../src/proxy/ports.js';
import { SipProxy } from '../../../src/proxy/proxy.js';
import { Registrar } from '../../../src/proxy/registrar.js';
import type { ProxyEnv } from '../../../src/proxy/step.js';
import {
  getVias,
  makeResponse,
  parseMessage,
  serializeMessage,
} from '../../../src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import type { TransportAddress } from '../../../src/sip/transport.js';

const ALICE_KEY = 'a'.repeat(64);
const BOB_KEY = 'b'.repeat(64);
const phone: TransportAddress = { protocol: 'udp', host: '127.0.0.1', port: 5062 };
const local: Origin = { kind: 'local', flow: phone };

function req(text: string): SipRequest {
  return parseMessage(Buffer.from(text.replace(/\n/g, '\r\n'))) as SipRequest;
}

function invite(
  opts: { from?: string; to?: string; uri?: string; branch?: string; route?: string } = {},
) {
  return req(
    `INVITE ${opts.uri ?? 'sip:bob@example.org'} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=${opts.branch ?? 'z9hG4bK-inv1'};rport
Max-Forwards: 70
${opts.route ? `Route: ${opts.route}\n` : ''}From: <sip:${opts.from ?? 'alice@example.org'}>;tag=f1
To: <sip:${opts.to ?? 'bob@example.org'}>
Call-ID: call-1
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:5062>
Content-Length: 0

`,
  );
}

function harness(resolution: Resolution = { ok: true, peerKey: BOB_KEY, aor: 'bob@example.org' }) {
  const sent: Array<{ req: SipRequest; dest: TransportAddress; h: ClientTxHandlers }> = [];
  const stateless: Array<{ req: SipRequest; dest: TransportAddress }> = [];
  const logs: string[] = [];
  const registrar = new Registrar({ aor: 'alice@example.org' });
  const env: ProxyEnv = {
    aor: 'alice@example.org',
    route: { localHost: '127.0.0.1', localPort: 5070, tunnelKeys: new Set([ALICE_KEY]) },
    registrar,
    resolver: { resolve: async () => resolution },
    onBindingsChanged: () => logs.push('bindings-changed'),
    log: (_l, m) => logs.push(m),
  };
  const proxy = new SipProxy({
    env,
    transactions: {
      sendRequest: (r, dest, h) => sent.push({ req: r, dest, h }),
      sendStateless: (r, dest) => stateless.push({ req: r, dest }),
    },
  });
  const responses: SipResponse[] = [];
  const serverTx = { respond: (r: SipResponse) => responses.push(r) };
  return { proxy, env, sent, stateless, responses, serverTx, logs, registrar };
}

test('an INVITE from the softphone to a remote AOR goes to the resolved peer through the tunnel', async () => {
  const h = harness();
  await h.proxy.onRequest(invite(), local, h.serverTx);
  assert.equal(h.sent.length, 1);
  const { req: out, dest } = h.sent[0]!;
  assert.deepEqual(dest, { protocol: 'tunnel', host: BOB_KEY, port: 0 });
  assert.equal(out.get('Max-Forwards'), '69');
  const vias = getVias(out);
  assert.equal(vias.length, 2);
  assert.equal(vias[0]!.transport, 'TUNNEL');
  assert.ok(vias[0]!.params.get('branch')!.startsWith('z9hG4bK'));
  // RFC 5658 double Record-Route: tunnel-facing on top, local-facing below.
  assert.deepEqual(out.getLines('Record-Route'), [
    `<sip:${ALICE_KEY}@p2p.invalid;lr>`,
    '<sip:127.0.0.1:5070;transport=udp;lr>',
  ]);
  // The original request is untouched (the proxy forwards a copy).
  assert.equal(getVias(invite()).length, 1);
});

test('responses are relayed upstream without our Via; 100 is not relayed', async () => {
  const h = harness();
  const inv = invite();
  await h.proxy.onRequest(inv, local, h.serverTx);
  const { req: out, h: handlers } = h.sent[0]!;
  handlers.onResponse(makeResponse(out, 100, 'Trying'));
  handlers.onResponse(makeResponse(out, 180, 'Ringing', { toTag: 't1' }));
  handlers.onResponse(makeResponse(out, 200, 'OK', { toTag: 't1' }));
  assert.deepEqual(
    h.responses.map((r) => r.status),
    [180, 200],
  );
  for (const r of h.responses) {
    assert.equal(getVias(r).length, 1);
    assert.equal(getVias(r)[0]!.params.get('branch'), 'z9hG4bK-inv1');
  }
});

test('a spoofed From from the local softphone is refused with 403', async () => {
  const h = harness();
  await h.proxy.onRequest(invite({ from: 'mallory@example.org' }), local, h.serverTx);
  assert.equal(h.sent.length, 0);
  assert.equal(h.responses[0]!.status, 403);
});

test("a From that is not the tunnel peer's verified AOR is refused with 403", async () => {
  const h = harness();
  const origin: Origin = { kind: 'tunnel', peerKey: BOB_KEY, peerAor: 'bob@example.org' };
  await h.proxy.onRequest(
    invite({ from: 'carol@example.org', to: 'alice@example.org', uri: 'sip:alice@example.org' }),
    origin,
    h.serverTx,
  );
  assert.equal(h.responses[0]!.status, 403);
  assert.match(h.responses[0]!.get('Warning') ?? '', /verified identity/);
});

test('a call from a peer to our user with no softphone registered gets 480 saying why', async () => {
  const h = harness();
  const origin: Origin = { kind: 'tunnel', peerKey: BOB_KEY, peerAor: 'bob@example.org' };
  await h.proxy.onRequest(
    invite({ from: 'bob@example.org', to: 'alice@example.org', uri: 'sip:alice@example.org' }),
    origin,
    h.serverTx,
  );
  assert.equal(h.responses[0]!.status, 480);
  assert.match(h.responses[0]!.reason, /no softphone registered/);
});

test('a call from a peer reaches the registered softphone at its Contact', async () => {
  const h = harness();
  h.registrar.register(
    req(`REGISTER sip:example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-r1
Max-Forwards: 70
From: <sip:alice@example.org>;tag=r
To: <sip:alice@example.org>
Call-ID: reg
CSeq: 1 REGISTER
Contact: <sip:alice-dev@127.0.0.1:5062;transport=udp>
Expires: 600
Content-Length: 0

`),
    phone,
  );
  const origin: Origin = { kind: 'tunnel', peerKey: BOB_KEY, peerAor: 'bob@example.org' };
  await h.proxy.onRequest(
    invite({ from: 'bob@example.org', to: 'alice@example.org', uri: 'sip:alice@example.org' }),
    origin,
    h.serverTx,
  );
  assert.equal(h.sent.length, 1);
  assert.equal(h.sent[0]!.req.uri, 'sip:alice-dev@127.0.0.1:5062;transport=udp');
  assert.deepEqual(h.sent[0]!.dest, phone);
  assert.deepEqual(h.sent[0]!.req.getLines('Record-Route'), [
    '<sip:127.0.0.1:5070;transport=udp;lr>',
    `<sip:${ALICE_KEY}@p2p.invalid;lr>`,
  ]);
});

test("an unknown callee gets the resolver's answer (404 with reason)", async () => {
  const h = harness({
    ok: false,
    status: 404,
    reason: 'Not Found (no record for bob@example.org)',
  });
  await h.proxy.onRequest(invite(), local, h.serverTx);
  assert.equal(h.responses[0]!.status, 404);
  assert.match(h.responses[0]!.reason, /no record/);
});

test('a tunnel failure becomes 480 with a Warning', async () => {
  const h = harness();
  await h.proxy.onRequest(invite(), local, h.serverTx);
  h.sent[0]!.h.onTransportError(new Error('PEER_NOT_FOUND'));
  assert.equal(h.responses[0]!.status, 480);
  assert.match(h.responses[0]!.get('Warning') ?? '', /PEER_NOT_FOUND/);
});

test('CANCEL before any provisional: 200 to CANCEL, CANCEL downstream after the 180', async () => {
  const h = harness();
  await h.proxy.onRequest(invite(), local, h.serverTx);
  const cancelResponses: SipResponse[] = [];
  h.proxy.onCancel(
    req(`CANCEL sip:bob@example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-inv1;rport
Max-Forwards: 70
From: <sip:alice@example.org>;tag=f1
To: <sip:bob@example.org>
Call-ID: call-1
CSeq: 1 CANCEL
Content-Length: 0

`),
    { respond: (r) => cancelResponses.push(r) },
  );
  assert.equal(cancelResponses[0]!.status, 200);
  assert.equal(h.sent.length, 1, 'no CANCEL before a provisional (RFC 3261 §9.1)');
  const fwd = h.sent[0]!;
  fwd.h.onResponse(makeResponse(fwd.req, 180, 'Ringing', { toTag: 'x' }));
  assert.equal(h.sent.length, 2);
  const cancel = h.sent[1]!.req;
  assert.equal(cancel.method, 'CANCEL');
  assert.equal(getVias(cancel)[0]!.params.get('branch'), getVias(fwd.req)[0]!.params.get('branch'));
  fwd.h.onResponse(makeResponse(fwd.req, 487, 'Request Terminated', { toTag: 'x' }));
  assert.equal(h.responses.at(-1)!.status, 487);
});

test('a CANCEL matching nothing gets 481', () => {
  const h = harness();
  const out: SipResponse[] = [];
  h.proxy.onCancel(invite({ branch: 'z9hG4bK-none' }), { respond: (r) => out.push(r) });
  assert.equal(out[0]!.status, 481);
});

test('an in-dialog request from the softphone follows the Route set into the tunnel', async () => {
  const h = harness();
  const bye = req(`BYE sip:bob@127.0.0.1:6000 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-bye;rport
Max-Forwards: 70
Route: <sip:127.0.0.1:5070;transport=udp;lr>, <sip:${ALICE_KEY}@p2p.invalid;lr>, <sip:${BOB_KEY}@p2p.invalid;lr>, <sip:127.0.0.1:6070;lr>
From: <sip:alice@example.org>;tag=f1
To: <sip:bob@example.org>;tag=t1
Call-ID: call-1
CSeq: 2 BYE
Content-Length: 0

`);
  await h.proxy.onRequest(bye, local, h.serverTx);
  assert.equal(h.sent.length, 1);
  assert.deepEqual(h.sent[0]!.dest, { protocol: 'tunnel', host: BOB_KEY, port: 0 });
  assert.deepEqual(h.sent[0]!.req.getLines('Route'), [
    `<sip:${BOB_KEY}@p2p.invalid;lr>`,
    '<sip:127.0.0.1:6070;lr>',
  ]);
  assert.equal(
    h.sent[0]!.req.getLines('Record-Route').length,
    0,
    'in-dialog requests are not Record-Routed',
  );
  assert.ok(serializeMessage(h.sent[0]!.req).length > 0);
});

test('the chain starts with the RFC checks: Max-Forwards 0 → 483, Proxy-Require unknown → 420', async () => {
  const h = harness();
  const zero = invite();
  zero.set('Max-Forwards', '0');
  await h.proxy.onRequest(zero, local, h.serverTx);
  const ext = invite({ branch: 'z9hG4bK-ext' });
  ext.append('Proxy-Require', 'foo-ext');
  await h.proxy.onRequest(ext, local, h.serverTx);
  assert.deepEqual(
    h.responses.map((r) => r.status),
    [483, 420],
  );
  assert.equal(h.responses[1]!.get('Unsupported'), 'foo-ext');
  assert.equal(h.sent.length, 0);
});

test('Timer C: a ringing INVITE with no final answer is cancelled downstream and answered 408', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = harness();
  const proxy = new SipProxy({
    env: h.env,
    timerCMs: 181_000,
    transactions: {
      sendRequest: (r, dest, handlers) => h.sent.push({ req: r, dest, h: handlers }),
      sendStateless: () => {},
    },
  });
  await proxy.onRequest(invite({ branch: 'z9hG4bK-timerc' }), local, h.serverTx);
  const fwd = h.sent[0]!;
  fwd.h.onResponse(makeResponse(fwd.req, 180, 'Ringing', { toTag: 'x' }));
  t.mock.timers.tick(180_000);
  fwd.h.onResponse(makeResponse(fwd.req, 180, 'Ringing', { toTag: 'x' })); // resets Timer C
  t.mock.timers.tick(180_000);
  assert.equal(h.sent.length, 1, 'no CANCEL while Timer C runs');
  t.mock.timers.tick(1_001);
  assert.equal(h.sent[1]?.req.method, 'CANCEL');
  assert.equal(h.responses.at(-1)?.status, 408);
});
