/**
 * The transport layer against a real SIP tool: sipp sends OPTIONS over UDP and
 * TCP to a TransportLayer on 127.0.0.1, answered by a tiny stateless
 * responder; then raw malformed requests get their 400 (UDP) or 400 and a
 * closed connection (TCP, missing Content-Length).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { TransportLayer } from '../../src/net/index.js';
import {
  makeResponse,
  parseMessage,
  type SipMessage,
  type SipResponse,
  topVia,
} from '../../src/sip/message/index.js';
import type { Inbound } from '../../src/sip/transport.js';
import { describeSipp, runSipp, SIPP_NOT_FOUND, sippFixture } from '../helpers/sipp.js';
import { within } from '../unit/net/helpers.js';

let layer: TransportLayer;
const seen: Inbound[] = [];
const sendErrors: unknown[] = [];

before(async () => {
  layer = await TransportLayer.listen({ host: '127.0.0.1', port: 0 });
  // A stateless OPTIONS responder (RFC 3261 §11.2).
  layer.onMessage = (inbound) => {
    seen.push(inbound);
    const req = inbound.message;
    if (req.kind !== 'request' || req.method !== 'OPTIONS') return;
    const res = makeResponse(req, 200, 'OK', {
      headers: [
        { name: 'Allow', value: 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE' },
        { name: 'Accept', value: 'application/sdp' },
        { name: 'Supported', value: '' },
      ],
    });
    layer.sendResponse(res).catch((err: unknown) => sendErrors.push(err));
  };
});

after(async () => {
  await layer.close();
});

for (const transport of ['u1', 't1'] as const) {
  const protocol = transport === 'u1' ? 'udp' : 'tcp';
  test(`sipp sends 5 OPTIONS over ${protocol.toUpperCase()} and gets 5 × 200`, async () => {
    seen.length = 0;
    const r = await runSipp({
      scenario: sippFixture('options-uac.xml'),
      transport,
      target: `127.0.0.1:${layer.port}`,
      calls: 5,
      timeoutSec: 20,
    });
    assert.equal(r.code, 0, describeSipp(r));
    assert.equal(r.successful, 5, describeSipp(r));
    assert.equal(r.failed, 0, describeSipp(r));
    const options = seen.filter((i) => i.message.kind === 'request');
    assert.equal(options.length, 5);
    assert.deepEqual(sendErrors, []);
    for (const i of options) {
      assert.equal(i.source.protocol, protocol);
      assert.equal(i.local.port, layer.port);
      // The scenario sends ";rport": RFC 3581 filled it with the source port.
      const via = topVia(i.message);
      assert.equal(via?.params.get('rport'), String(i.source.port));
      assert.equal(via?.params.get('received'), '127.0.0.1');
    }
  });
}

test('without sipp installed the helper fails with what to install (never a skip)', async () => {
  await assert.rejects(
    runSipp({ builtin: 'uac', bin: 'sipp-not-installed-here', target: '127.0.0.1:9' }),
    (e) => e instanceof Error && e.message === SIPP_NOT_FOUND,
  );
  assert.equal(SIPP_NOT_FOUND, 'sipp not found: apt-get install sip-tester');
});

const MALFORMED =
  'OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK-bad1;rport\r\n' +
  'From: <sip:alice@127.0.0.1>;tag=a1\r\n' +
  'To: <sip:bob@127.0.0.1>\r\n' +
  'Call-ID: malformed-1@test\r\n' +
  'CSeq: 7 OPTIONS\r\n' +
  'Max-Forwards: 70\r\n' +
  'This line has no colon\r\n' +
  'Content-Length: 0\r\n\r\n';

test('a malformed OPTIONS over UDP gets 400 with the reason, sent back per rport', async () => {
  const client = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    const port = client.address().port;
    const reply = new Promise<Buffer>((resolve) => client.once('message', resolve));
    client.send(MALFORMED.replace('{PORT}', '9'), layer.port, '127.0.0.1');
    const res = asResponse(parseMessage(await within(reply, 'the 400 over UDP')));
    assert.equal(res.status, 400);
    assert.match(res.reason, /^Bad Request \(header line without ":"/);
    assert.equal(res.get('Call-ID'), 'malformed-1@test');
    assert.equal(res.get('CSeq'), '7 OPTIONS');
    // Reached us though sent-by says port 9: rport was honoured and stamped.
    assert.equal(topVia(res)?.params.get('rport'), String(port));
  } finally {
    client.close();
  }
});

test('over TCP, a request without Content-Length gets 400 and the connection is closed', async () => {
  const socket = net.connect({ host: '127.0.0.1', port: layer.port });
  try {
    let data = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const request = MALFORMED.replace('UDP', 'TCP')
      .replace('{PORT}', String(socket.localPort))
      .replace('This line has no colon\r\n', '')
      .replace('Content-Length: 0\r\n', '');
    socket.write(request);
    await within(closed, 'the server closing the connection');
    const res = asResponse(parseMessage(data, { datagram: false }));
    assert.equal(res.status, 400);
    assert.match(res.reason, /Content-Length missing/);
    assert.equal(res.get('Call-ID'), 'malformed-1@test');
  } finally {
    socket.destroy();
  }
});

function asResponse(m: SipMessage): SipResponse {
  assert.equal(m.kind, 'response');
  return m as SipResponse;
}
