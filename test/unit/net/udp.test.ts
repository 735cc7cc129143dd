/** TransportLayer over real UDP sockets on loopback. */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import diagnostics from 'node:diagnostics_channel';
import { test } from 'node:test';
import {
  type MalformedMessage,
  NetError,
  NetErrorCode,
  TransportLayer,
} from '../../../src/net/index.js';
import {
  makeResponse,
  parseMessage,
  type SipRequest,
  serializeMessage,
  topVia,
} from '../../../src/sip/message/index.js';
import { InboundQueue, Queue, request, requestText } from './helpers.js';

async function udpClient(host = '127.0.0.1') {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const received = new Queue<Buffer>();
  socket.on('message', received.push);
  return {
    socket,
    port: socket.address().port,
    next: (what = 'datagram') => received.next(what),
  };
}

for (const host of ['127.0.0.1', '::1'] as const) {
  test(`UDP round trip on ${host}: request in (stamped), response out per rport`, async () => {
    const inbound = new InboundQueue();
    const layer = await TransportLayer.listen({ host, port: 0, onMessage: inbound.push });
    const client = await udpClient(host);
    try {
      assert.ok(layer.port > 0);
      assert.deepEqual(layer.address('udp'), { protocol: 'udp', host, port: layer.port });
      // sent-by names a port nobody listens on: only rport can bring the answer back.
      const sentBy = host === '::1' ? '[::1]:9' : '127.0.0.1:9';
      client.socket.send(requestText({ sentBy, viaParams: ';rport' }), layer.port, host);
      const inb = await inbound.next();
      assert.deepEqual(inb.source, { protocol: 'udp', host, port: client.port });
      assert.deepEqual(inb.local, { protocol: 'udp', host, port: layer.port });
      const req = inb.message as SipRequest;
      assert.equal(req.method, 'OPTIONS');
      assert.equal(topVia(req)?.params.get('rport'), String(client.port));
      assert.equal(topVia(req)?.params.get('received'), host);

      await layer.sendResponse(makeResponse(req, 200, 'OK'));
      const res = parseMessage(await client.next('the 200'));
      assert.equal(res.kind === 'response' && res.status, 200);
      assert.equal(res.get('Call-ID'), 'c1@test');

      // And a request out to the client's address.
      await layer.send(request({ method: 'MESSAGE', body: 'hi' }), {
        protocol: 'udp',
        host,
        port: client.port,
      });
      const out = parseMessage(await client.next('the MESSAGE'));
      assert.equal(out.kind === 'request' && out.method, 'MESSAGE');
      assert.equal(Buffer.from(out.body).toString(), 'hi');
    } finally {
      client.socket.close();
      await layer.close();
    }
  });
}

test('two layers talk: request A → B, response B → A, over one shared UDP/TCP port each', async () => {
  const qa = new InboundQueue();
  const qb = new InboundQueue();
  const a = await TransportLayer.listen({ port: 0, onMessage: qa.push });
  const b = await TransportLayer.listen({ port: 0, onMessage: qb.push });
  try {
    const req = request({ sentBy: `127.0.0.1:${a.port}` });
    await a.send(req, b.address('udp'));
    const got = await qb.next();
    assert.deepEqual(got.source, { protocol: 'udp', host: '127.0.0.1', port: a.port });
    // sent-by equals the source: nothing to stamp (§18.2.1).
    assert.equal(got.message.get('Via'), req.get('Via'));
    await b.sendResponse(makeResponse(got.message as SipRequest, 202));
    const res = await qa.next();
    assert.equal(res.message.kind === 'response' && res.message.status, 202);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a malformed request is answered 400 per its Via; a hopeless datagram is dropped', async () => {
  const inbound = new InboundQueue();
  const layer = await TransportLayer.listen({ port: 0, onMessage: inbound.push });
  const client = await udpClient();
  const reports: MalformedMessage[] = [];
  const sub = (m: unknown) => reports.push(m as MalformedMessage);
  diagnostics.subscribe('p2psip:net:malformed', sub);
  try {
    const bad = requestText({ sentBy: `127.0.0.1:${client.port}` }).replace(
      'Max-Forwards: 70',
      'Max-Forwards 70',
    );
    client.socket.send(bad, layer.port, '127.0.0.1');
    const res = parseMessage(await client.next('the 400'));
    assert.ok(res.kind === 'response');
    assert.equal(res.status, 400);
    assert.match(res.reason, /header line without ":"/);
    assert.match(res.get('To') ?? '', /;tag=/, 'a To tag is added (§8.2.6.2)');

    client.socket.send('garbage that is not SIP\r\n\r\n', layer.port, '127.0.0.1');
    client.socket.send('\r\n\r\n', layer.port, '127.0.0.1'); // a keep-alive: silently ignored
    // A malformed ACK is never answered (§17): the next thing the client gets is the 200 below.
    client.socket.send(
      requestText({ method: 'ACK', sentBy: `127.0.0.1:${client.port}` }).replace(
        'Max-Forwards: 70',
        'Max-Forwards 70',
      ),
      layer.port,
      '127.0.0.1',
    );
    client.socket.send(requestText({ callId: 'after' }), layer.port, '127.0.0.1');
    const ok = await inbound.next();
    assert.equal(ok.message.get('Call-ID'), 'after');
    assert.equal(inbound.all.length, 1, 'neither the garbage, the keep-alive nor the ACK came up');
    assert.deepEqual(
      reports.map((r) => [r.code, r.answered]),
      [
        ['SIP_BAD_HEADER', true],
        ['SIP_BAD_START_LINE', false],
        ['SIP_BAD_HEADER', false],
      ],
    );
  } finally {
    diagnostics.unsubscribe('p2psip:net:malformed', sub);
    client.socket.close();
    await layer.close();
  }
});

test('a datagram over maxMessageSize is dropped as TooLarge', async () => {
  const inbound = new InboundQueue();
  const layer = await TransportLayer.listen({
    port: 0,
    maxMessageSize: 1000,
    onMessage: inbound.push,
  });
  const client = await udpClient();
  const reports: MalformedMessage[] = [];
  const sub = (m: unknown) => reports.push(m as MalformedMessage);
  diagnostics.subscribe('p2psip:net:malformed', sub);
  try {
    client.socket.send(requestText({ body: 'x'.repeat(1000) }), layer.port, '127.0.0.1');
    client.socket.send(requestText({ callId: 'small' }), layer.port, '127.0.0.1');
    assert.equal((await inbound.next()).message.get('Call-ID'), 'small');
    assert.deepEqual(
      reports.map((r) => r.code),
      ['SIP_TOO_LARGE'],
    );
  } finally {
    diagnostics.unsubscribe('p2psip:net:malformed', sub);
    client.socket.close();
    await layer.close();
  }
});

test('send refuses what UDP cannot carry and addresses that are not IP literals', async () => {
  const layer = await TransportLayer.listen({ port: 0 });
  try {
    const huge = request();
    huge.body = Buffer.alloc(70_000, 0x78);
    await assert.rejects(
      layer.send(huge, { protocol: 'udp', host: '127.0.0.1', port: 9 }),
      (e) => e instanceof NetError && e.code === NetErrorCode.DatagramTooLarge,
    );
    await assert.rejects(
      layer.send(request(), { protocol: 'udp', host: 'localhost', port: 9 }),
      (e) => e instanceof NetError && e.code === NetErrorCode.BadAddress,
    );
    await assert.rejects(
      layer.send(request(), { protocol: 'tunnel', host: 'ab'.repeat(32), port: 0 }),
      (e) => e instanceof NetError && e.code === NetErrorCode.UnsupportedTransport,
    );
    const res = makeResponse(request(), 200);
    res.set('Via', 'SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKx');
    await assert.rejects(
      layer.sendResponse(res),
      (e) => e instanceof NetError && e.code === NetErrorCode.UnsupportedTransport,
    );
    res.remove('Via');
    await assert.rejects(
      layer.sendResponse(res),
      (e) => e instanceof NetError && e.code === NetErrorCode.NoVia,
    );
  } finally {
    await layer.close();
  }
});

test('RFC 3261 §18.1.1 (option): a request over 1300 bytes goes over TCP, or UDP when TCP is refused', async () => {
  const qa = new InboundQueue();
  const qb = new InboundQueue();
  const a = await TransportLayer.listen({
    port: 0,
    largeRequestsOverTcp: true,
    onMessage: qa.push,
  });
  const b = await TransportLayer.listen({ port: 0, onMessage: qb.push });
  const udpOnly = await udpClient();
  try {
    const big = () => request({ sentBy: `127.0.0.1:${a.port}`, body: 'x'.repeat(1400) });
    await a.send(big(), b.address('udp'));
    const got = await qb.next();
    assert.equal(got.source.protocol, 'tcp');
    assert.equal(topVia(got.message)?.transport, 'TCP', 'the top Via says TCP');

    await a.send(request({ sentBy: `127.0.0.1:${a.port}` }), b.address('udp'));
    assert.equal((await qb.next()).source.protocol, 'udp', 'small requests stay on UDP');

    // Nobody listens on TCP at the UDP-only client's port: connection refused → UDP.
    const req = big();
    await a.send(req, { protocol: 'udp', host: '127.0.0.1', port: udpOnly.port });
    const raw = parseMessage(await udpOnly.next('the large request over UDP'));
    assert.equal(topVia(raw)?.transport, 'UDP');
    assert.equal(Buffer.from(raw.body).length, 1400);
    assert.equal(topVia(req)?.transport, 'UDP', 'the Via is restored on the fallback');
    assert.equal(serializeMessage(req).length > 1300, true);
  } finally {
    udpOnly.socket.close();
    await Promise.all([a.close(), b.close()]);
  }
});
