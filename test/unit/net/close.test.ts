/** TransportLayer.close(): every socket, connection and timer goes away. */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { NetError, NetErrorCode, TransportLayer } from '../../../src/net/index.js';
import { makeResponse, type SipRequest } from '../../../src/sip/message/index.js';
import { InboundQueue, request, requestText, within } from './helpers.js';

/** Active handle/request types, counted (the test runner's own are in both snapshots). */
function resources(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

test('close() leaves no open handles: UDP, listener, inbound and outbound TCP, idle timers', async () => {
  const before = resources();
  const qa = new InboundQueue();
  const qb = new InboundQueue();
  const a = await TransportLayer.listen({ port: 0, onMessage: qa.push });
  const b = await TransportLayer.listen({ port: 0, onMessage: qb.push });

  // UDP both ways, an outbound TCP connection a → b (inbound at b) with a response back.
  await a.send(request({ sentBy: `127.0.0.1:${a.port}` }), b.address('udp'));
  await b.sendResponse(makeResponse((await qb.next()).message as SipRequest, 200));
  await qa.next();
  await a.send(request({ transport: 'TCP', sentBy: `127.0.0.1:${a.port}` }), b.address('tcp'));
  await b.sendResponse(makeResponse((await qb.next()).message as SipRequest, 200));
  assert.equal((await qa.next()).source.protocol, 'tcp');

  // A raw client connected to `a` that stays connected through close().
  const client = net.connect({ host: '127.0.0.1', port: a.port });
  await within(new Promise((r) => client.once('connect', r)), 'connect');
  const clientClosed = new Promise((r) => client.once('close', r));
  client.write(requestText({ transport: 'TCP', callId: 'open' }));
  assert.equal((await qa.next()).message.get('Call-ID'), 'open');

  const during = resources();
  assert.ok((during.get('TCPSocketWrap') ?? 0) >= 3, 'connections were open');
  assert.ok((during.get('UDPWrap') ?? 0) >= 2, 'UDP sockets were open');

  await Promise.all([a.close(), b.close()]);
  await within(clientClosed, 'the client seeing the close');
  assert.deepEqual(resources(), before);

  // Closed means closed: sends reject, close() again is fine.
  await assert.rejects(
    a.send(request(), b.address('udp')),
    (e) => e instanceof NetError && e.code === NetErrorCode.Closed,
  );
  await a.close();
});

test('port 0 gives one port shared by UDP and TCP; a taken port is a BindFailed error', async () => {
  const layer = await TransportLayer.listen({ port: 0 });
  try {
    const udp = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind({ port: layer.port, address: '127.0.0.1', exclusive: true }, () => resolve(true));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    assert.equal(bound, false, 'the UDP port is ours');
    await assert.rejects(
      TransportLayer.listen({ port: layer.port }),
      (e) => e instanceof NetError && e.code === NetErrorCode.BindFailed,
    );
    await assert.rejects(
      TransportLayer.listen({ host: 'localhost', port: 0 }),
      (e) => e instanceof NetError && e.code === NetErrorCode.BadAddress,
    );
  } finally {
    await layer.close();
  }
});
