/**
 * Two p2psip nodes in-process on a private loopback HyperDHT network, with
 * raw UDP "softphones": the whole path (registrar → package in the DHT →
 * lookup → Noise tunnel → peer node → softphone) and the failure answers the
 * issue asks for (403 / 404 / 480 with reasons).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { fromHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/identity/identity.js';
import { openKey } from '../../src/identity/open-key.js';
import { P2pSipNode } from '../../src/node/node.js';
import { IDENTITY_CONTROL_KIND } from '../../src/node/peer-identity.js';
import { startTestnet, type Testnet } from '../../src/overlay/testnet.js';
import { encodePackage } from '../../src/package/encode.js';
import { verifyPackage } from '../../src/package/verify.js';
import { parseMessage, serializeMessage } from '../../src/sip/message/index.js';
import type { SipResponse } from '../../src/sip/message/message.js';
import { TunnelEndpoint } from '../../src/tunnel/endpoint.js';
import { answer, RawPhone, request } from '../helpers/raw-phone.js';

const dirs: string[] = [];
const nodes: P2pSipNode[] = [];
const phones: RawPhone[] = [];
let alice: P2pSipNode;
let bob: P2pSipNode;
let testnet: Testnet;
const logs: string[] = [];

async function home(aor: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'p2psip-e2e-'));
  dirs.push(dir);
  const code = await main(['init', '--home', dir, '--aor', aor], {
    stdout: () => {},
    stderr: (l) => logs.push(l),
  });
  assert.equal(code, 0);
  return dir;
}

async function phone(): Promise<RawPhone> {
  const p = await RawPhone.open();
  phones.push(p);
  return p;
}

async function register(
  p: RawPhone,
  aor: string,
  node: P2pSipNode,
  expires = 600,
): Promise<SipResponse> {
  const callId = `reg-${aor}-${p.port}-${expires}`;
  p.send(
    request({
      method: 'REGISTER',
      uri: `sip:${aor.split('@')[1]}`,
      from: aor,
      to: aor,
      callId,
      port: p.port,
      extra: [`Expires: ${expires}`],
    }),
    node.info.sip.port,
  );
  return p.finalFor(callId, 'REGISTER');
}

before(async () => {
  testnet = await startTestnet({ nodes: 5 });
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
  const log = (_l: string, m: string) => {
    logs.push(m);
    if (process.env.E2E_DEBUG) process.stderr.write(`[node] ${m}\n`);
  };
  alice = await P2pSipNode.start({
    home: await home('alice@example.org'),
    sipHost: '127.0.0.1',
    sipPort: 0,
    bootstrap,
    log,
  });
  bob = await P2pSipNode.start({
    home: await home('bob@example.org'),
    sipHost: '127.0.0.1',
    sipPort: 0,
    bootstrap,
    log,
  });
  nodes.push(alice, bob);
});

after(async () => {
  for (const p of phones) await p.close();
  for (const n of nodes) await n.stop();
  await testnet?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let bobPhone: RawPhone;
let alicePhone: RawPhone;

/** Alice's softphone sends an out-of-dialog request to `to` through alice's node. */
function fromAlice(method: string, to: string, callId: string, from = 'alice@example.org'): void {
  alicePhone.send(
    request({ method, uri: `sip:${to}`, from, to, callId, port: alicePhone.port }),
    alice.info.sip.port,
  );
}

test('REGISTER binds the softphone and publishes a verifiable package under the open key', async () => {
  bobPhone = await phone();
  alicePhone = await phone();
  // Bob's softphone answers like an auto-answering UA.
  bobPhone.onRequest = (req, raw) => {
    if (req.method === 'INVITE')
      return [
        answer(raw, 180, 'Ringing', 'b1', bobPhone.port),
        answer(raw, 200, 'OK', 'b1', bobPhone.port),
      ];
    if (req.method === 'ACK') return [];
    return [answer(raw, 200, 'OK')];
  };
  const reg = await register(bobPhone, 'bob@example.org', bob);
  assert.equal(reg.status, 200, reg.reason);
  assert.equal((await register(alicePhone, 'alice@example.org', alice)).status, 200);
  const lookup = testnet.createLookup();
  let verified = false;
  for (let i = 0; i < 50 && !verified; i++) {
    for (const rec of await lookup.find(openKey('bob@example.org'))) {
      const f = verifyPackage(rec.value, {
        expectedAor: 'bob@example.org',
        now: Math.floor(Date.now() / 1000),
      });
      if (f.contacts.length > 0) verified = true;
    }
    if (!verified) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(verified, "bob's online package is in the DHT");
  await lookup.close();
});

test("MESSAGE from alice reaches bob's softphone with its body, and the 200 comes back", async () => {
  alicePhone.send(
    request({
      method: 'MESSAGE',
      uri: 'sip:bob@example.org',
      from: 'alice@example.org',
      to: 'bob@example.org',
      callId: 'im-1',
      port: alicePhone.port,
      extra: ['Content-Type: text/plain'],
      body: 'hello bob',
    }),
    alice.info.sip.port,
  );
  const res = await alicePhone.finalFor('im-1', 'MESSAGE');
  assert.equal(res.status, 200);
  const got = await bobPhone.waitFor((m) => m.kind === 'request' && m.method === 'MESSAGE');
  assert.equal(Buffer.from(got.body).toString(), 'hello bob');
  assert.equal(got.get('From')?.includes('alice@example.org'), true);
});

test('INVITE / 180 / 200 / ACK / BYE through the tunnel, in-dialog requests following Record-Route', async () => {
  fromAlice('INVITE', 'bob@example.org', 'call-1');
  const ok = await alicePhone.finalFor('call-1', 'INVITE');
  assert.equal(ok.status, 200);
  assert.ok(
    alicePhone.received.some(
      (m) => m.kind === 'response' && m.status === 180 && m.get('Call-ID') === 'call-1',
    ),
  );
  const rr = ok.getLines('Record-Route');
  assert.equal(rr.length, 4, 'double Record-Route at both nodes');
  const route = [...rr].reverse().map((r) => `Route: ${r}`);
  const toTag = 'To: <sip:bob@example.org>;tag=b1';
  const inDialog = (method: string, cseq: number) =>
    request({
      method,
      uri: `sip:callee@127.0.0.1:${bobPhone.port}`,
      from: 'alice@example.org',
      to: 'bob@example.org',
      callId: 'call-1',
      cseq,
      port: alicePhone.port,
      extra: route,
    }).replace('To: <sip:bob@example.org>', toTag);
  alicePhone.send(inDialog('ACK', 1), alice.info.sip.port);
  await bobPhone.waitFor(
    (m) => m.kind === 'request' && m.method === 'ACK' && m.get('Call-ID') === 'call-1',
    10_000,
    'ACK at bob',
  );
  alicePhone.send(inDialog('BYE', 2), alice.info.sip.port);
  assert.equal((await alicePhone.finalFor('call-1', 'BYE')).status, 200);
  // Both nodes logged the call durably.
  const out = alice.recentCalls().find((c) => c.callId === 'call-1');
  const inc = bob.recentCalls().find((c) => c.callId === 'call-1');
  assert.deepEqual(
    [out?.direction, out?.peer, out?.outcome],
    ['out', 'bob@example.org', 'answered'],
  );
  assert.deepEqual(
    [inc?.direction, inc?.peer, inc?.outcome],
    ['in', 'alice@example.org', 'answered'],
  );
  // Bob's node kept the verified caller as a contact learned on first use, key pinned.
  const learned = bob.contact('alice@example.org');
  assert.equal(learned?.source, 'learned');
  assert.equal(Buffer.from(learned?.publicKey ?? []).toString('hex'), alice.info.publicKey);
});

test('REGISTER for a foreign AOR gets 403', async () => {
  const p = await phone();
  const res = await register(p, 'mallory@example.org', alice);
  assert.equal(res.status, 403);
});

test('a local softphone sending as someone else gets 403', async () => {
  fromAlice('MESSAGE', 'bob@example.org', 'spoof-local', 'carol@example.org');
  assert.equal((await alicePhone.finalFor('spoof-local', 'MESSAGE')).status, 403);
});

test('an unknown callee gets 404 with a reason, not a timeout', async () => {
  fromAlice('INVITE', 'nobody@example.org', 'unknown-1');
  const res = await alicePhone.finalFor('unknown-1', 'INVITE', 20_000);
  assert.equal(res.status, 404);
  assert.match(res.reason, /nobody@example\.org/);
});

test("a From that is not the tunnel peer's identity gets 403 from the callee's node", async () => {
  const mallory = Identity.generate('mallory@example.org');
  const endpoint = new TunnelEndpoint({
    bootstrap: testnet.bootstrap,
    host: '127.0.0.1',
    accept: () => false,
  });
  endpoint.onControl(IDENTITY_CONTROL_KIND, () => {}); // bob's node introduces itself too
  try {
    const tunnel = await endpoint.connect(fromHex(bob.info.publicKey), {
      keyPair: mallory.hyperdhtKeyPair(),
    });
    tunnel.on('close', () => logs.push(`rogue tunnel closed: ${tunnel.closeReason?.message}`));
    const now = Math.floor(Date.now() / 1000);
    tunnel.sendControl(
      IDENTITY_CONTROL_KIND,
      encodePackage({ seq: 1, created: now, expires: now + 600, contacts: [] }, mallory),
    );
    const reply = new Promise<SipResponse>((resolve) => {
      endpoint.on('sip', (bytes) => {
        const m = parseMessage(bytes);
        if (m.kind === 'response' && m.status >= 200) resolve(m);
      });
    });
    const invite = parseMessage(
      Buffer.from(
        request({
          method: 'INVITE',
          uri: 'sip:bob@example.org',
          from: 'alice@example.org',
          to: 'bob@example.org',
          callId: 'spoof-tunnel',
          port: 9,
        })
          .replace(/\n/g, '\r\n')
          .replace('Via: SIP/2.0/UDP 127.0.0.1:9', 'Via: SIP/2.0/TUNNEL p2p.invalid'),
      ),
    );
    tunnel.sendSip(serializeMessage(invite));
    const res = await reply;
    assert.equal(res.status, 403);
    assert.equal(
      bobPhone.received.some((m) => m.get('Call-ID') === 'spoof-tunnel'),
      false,
      "nothing reached bob's phone",
    );
  } finally {
    await endpoint.close();
  }
});

test('forged packages are ignored: a tampered copy beside the real one, and a lone forgery → 404', async () => {
  const lookup = testnet.createLookup();
  try {
    const now = Math.floor(Date.now() / 1000);
    const eve = Identity.generate('bob@example.org'); // a different key claiming bob: self-consistent
    const forged = encodePackage(
      {
        seq: 99,
        created: now,
        expires: now + 600,
        contacts: [{ transport: 'hyperdht', key: eve.publicKey }],
      },
      eve,
    );
    const tampered = Buffer.from(forged);
    tampered[tampered.indexOf('seq="99"') + 5] = 0x38; // seq 99 → 98 breaks the signature
    await lookup.publish(openKey('bob@example.org'), tampered, { ttlSeconds: 600, seq: 1 });
    const dave = Identity.generate('dave@example.org');
    const daveForged = Buffer.from(
      encodePackage(
        {
          seq: 5,
          created: now,
          expires: now + 600,
          contacts: [{ transport: 'hyperdht', key: dave.publicKey }],
        },
        dave,
      ),
    );
    daveForged[daveForged.length - 20]! ^= 1; // corrupt the signature
    await lookup.publish(openKey('dave@example.org'), daveForged, { ttlSeconds: 600, seq: 1 });

    alicePhone.send(
      request({
        method: 'MESSAGE',
        uri: 'sip:bob@example.org',
        from: 'alice@example.org',
        to: 'bob@example.org',
        callId: 'after-forgery',
        port: alicePhone.port,
      }),
      alice.info.sip.port,
    );
    assert.equal((await alicePhone.finalFor('after-forgery', 'MESSAGE')).status, 200);
    alicePhone.send(
      request({
        method: 'MESSAGE',
        uri: 'sip:dave@example.org',
        from: 'alice@example.org',
        to: 'dave@example.org',
        callId: 'dave-1',
        port: alicePhone.port,
      }),
      alice.info.sip.port,
    );
    const res = await alicePhone.finalFor('dave-1', 'MESSAGE');
    assert.equal(res.status, 404);
    assert.match(res.reason, /no valid registration/);
  } finally {
    await lookup.withdraw(openKey('bob@example.org'));
    await lookup.close();
  }
});

test('a package pointing at a node that is not there → 480 within the connect timeout', async () => {
  const lookup = testnet.createLookup();
  try {
    const now = Math.floor(Date.now() / 1000);
    const zoe = Identity.generate('zoe@example.org');
    await lookup.publish(
      openKey('zoe@example.org'),
      encodePackage(
        {
          seq: 1,
          created: now,
          expires: now + 600,
          contacts: [{ transport: 'hyperdht', key: zoe.publicKey }],
        },
        zoe,
      ),
      { ttlSeconds: 600, seq: 1 },
    );
    alicePhone.send(
      request({
        method: 'INVITE',
        uri: 'sip:zoe@example.org',
        from: 'alice@example.org',
        to: 'zoe@example.org',
        callId: 'zoe-1',
        port: alicePhone.port,
      }),
      alice.info.sip.port,
    );
    const res = await alicePhone.finalFor('zoe-1', 'INVITE', 30_000);
    assert.equal(res.status, 480);
    assert.match(res.reason, /zoe@example\.org/);
  } finally {
    await lookup.close();
  }
});

test('after the softphone unregisters, callers get 480 "no softphone registered"', async () => {
  assert.equal((await register(bobPhone, 'bob@example.org', bob, 0)).status, 200);
  let res: SipResponse | undefined;
  for (let i = 0; i < 30; i++) {
    const callId = `after-unreg-${i}`;
    alicePhone.send(
      request({
        method: 'MESSAGE',
        uri: 'sip:bob@example.org',
        from: 'alice@example.org',
        to: 'bob@example.org',
        callId,
        port: alicePhone.port,
      }),
      alice.info.sip.port,
    );
    res = await alicePhone.finalFor(callId, 'MESSAGE');
    if (res.status === 480) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(res?.status, 480);
  assert.match(res?.reason ?? '', /no softphone registered/);
});
