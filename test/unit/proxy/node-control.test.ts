/**
 * The node-control step (src/proxy/steps/node-control.ts) through the whole
 * proxy chain: a MESSAGE from our softphone to sip:privacy@p2psip.invalid
 * switches or asks the privacy mode; anything else there is refused, and
 * says why.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Origin } from '../../../src/proxy/ports.js';
import { SipProxy } from '../../../src/proxy/proxy.js';
import { Registrar } from '../../../src/proxy/registrar.js';
import type { ProxyEnv } from '../../../src/proxy/step.js';
import type { NodeControl } from '../../../src/proxy/steps/node-control.js';
import { parseMessage } from '../../../src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import type { TransportAddress } from '../../../src/sip/transport.js';

const ALICE = 'alice@example.org';
const ALICE_KEY = 'a'.repeat(64);
const BOB_KEY = 'b'.repeat(64);
const phone: TransportAddress = { protocol: 'udp', host: '127.0.0.1', port: 5062 };
const local: Origin = { kind: 'local', flow: phone };

function request(opts: {
  method?: string;
  user?: string;
  from?: string;
  body?: string;
}): SipRequest {
  const method = opts.method ?? 'MESSAGE';
  const body = opts.body ?? '';
  const text = [
    `${method} sip:${opts.user ?? 'privacy'}@p2psip.invalid SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-ctl1;rport',
    'Max-Forwards: 70',
    `From: <sip:${opts.from ?? ALICE}>;tag=f1`,
    `To: <sip:${opts.user ?? 'privacy'}@p2psip.invalid>`,
    'Call-ID: ctl-1',
    `CSeq: 1 ${method}`,
    ...(method === 'INVITE' ? ['Contact: <sip:alice@127.0.0.1:5062>'] : []),
    ...(body ? ['Content-Type: text/plain'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

function harness(withControl = true) {
  const modes = ['open', 'relaxed', 'paranoid'] as const;
  let mode = 'open';
  const set: string[] = [];
  const control: NodeControl = {
    privacyMode: () => mode,
    setPrivacyMode: async (m) => {
      if (!(modes as readonly string[]).includes(m)) throw new TypeError(`bad mode ${m}`);
      set.push(m);
      mode = m;
    },
    privacyModes: modes,
  };
  const forwarded: SipRequest[] = [];
  const env: ProxyEnv = {
    aor: ALICE,
    route: { localHost: '127.0.0.1', localPort: 5070, tunnelKeys: new Set([ALICE_KEY]) },
    registrar: new Registrar({ aor: ALICE }),
    resolver: {
      resolve: async () => {
        throw new Error('node control must never look anything up');
      },
    },
    onBindingsChanged: () => {},
    ...(withControl ? { control } : {}),
    log: () => {},
  };
  const proxy = new SipProxy({
    env,
    transactions: {
      sendRequest: (r) => forwarded.push(r),
      sendStateless: (r) => forwarded.push(r),
    },
  });
  const send = async (req: SipRequest, origin: Origin = local): Promise<SipResponse> => {
    const responses: SipResponse[] = [];
    await proxy.onRequest(req, origin, { respond: (r) => responses.push(r) });
    assert.equal(responses.length, 1, 'one final answer');
    assert.equal(forwarded.length, 0, 'nothing forwarded');
    return responses[0]!;
  };
  return { send, set, mode: () => mode };
}

test('MESSAGE "paranoid" switches the mode and answers 200 "OK (privacy mode paranoid)"', async () => {
  const h = harness();
  const res = await h.send(request({ body: 'paranoid' }));
  assert.equal(res.status, 200);
  assert.equal(res.reason, 'OK (privacy mode paranoid)');
  assert.deepEqual(h.set, ['paranoid']);
  assert.equal(h.mode(), 'paranoid');
});

test('the word is trimmed and case-folded (a softphone may send "Relaxed\\r\\n")', async () => {
  const h = harness();
  const res = await h.send(request({ body: '  Relaxed\r\n' }));
  assert.equal(res.status, 200);
  assert.equal(res.reason, 'OK (privacy mode relaxed)');
  assert.deepEqual(h.set, ['relaxed']);
});

test('an empty body or "?" asks: 200 with the mode in force, nothing switched', async () => {
  const h = harness();
  await h.send(request({ body: 'relaxed' }));
  for (const body of ['', '?']) {
    const res = await h.send(request({ body }));
    assert.equal(res.status, 200);
    assert.equal(res.reason, 'OK (privacy mode relaxed)');
  }
  assert.deepEqual(h.set, ['relaxed']);
});

test('a word that is not a mode is 488 with the accepted words and a Warning; the mode stays', async () => {
  const h = harness();
  const res = await h.send(request({ body: 'invisible' }));
  assert.equal(res.status, 488);
  assert.equal(res.reason, 'Not Acceptable Here (say open, relaxed, paranoid)');
  const warning = res.get('Warning') ?? '';
  assert.match(warning, /^399 p2psip "/);
  // reject() turns the word's quotes into ' inside the quoted Warning text.
  assert.equal(
    warning,
    `399 p2psip "'invisible' is not a privacy mode; send one of open, relaxed, paranoid (or nothing to ask)"`,
  );
  assert.deepEqual(h.set, []);
  assert.equal(h.mode(), 'open');
});

test('from a peer through a tunnel: 403, settings are local only', async () => {
  const h = harness();
  const peer: Origin = { kind: 'tunnel', peerKey: BOB_KEY, peerAor: 'bob@example.org' };
  const res = await h.send(request({ from: 'bob@example.org', body: 'open' }), peer);
  assert.equal(res.status, 403);
  assert.equal(res.reason, 'Forbidden (node settings are local only)');
  assert.deepEqual(h.set, []);
});

test('a method other than MESSAGE is 405 with Allow: MESSAGE', async () => {
  const h = harness();
  for (const method of ['INVITE', 'OPTIONS', 'SUBSCRIBE']) {
    const res = await h.send(request({ method }));
    assert.equal(res.status, 405, method);
    assert.equal(res.reason, 'Method Not Allowed (send a MESSAGE)');
    assert.equal(res.get('Allow'), 'MESSAGE');
  }
  assert.deepEqual(h.set, []);
});

test('an unknown setting, or a node without controls, is 404 naming it', async () => {
  const h = harness();
  const res = await h.send(request({ user: 'presence', body: 'away' }));
  assert.equal(res.status, 404);
  assert.equal(res.reason, 'Not Found (the node has no setting "presence")');
  const bare = harness(false);
  const res2 = await bare.send(request({ body: 'paranoid' }));
  assert.equal(res2.status, 404);
  assert.equal(res2.reason, 'Not Found (the node has no setting "privacy")');
  assert.deepEqual(h.set, []);
});
