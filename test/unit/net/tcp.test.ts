/** TransportLayer over real TCP sockets on loopback. */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { test } from 'node:test';
import {
  type ConnectionMessage,
  NetError,
  NetErrorCode,
  TransportLayer,
} from '../../../src/net/index.js';
import { StreamFramer } from '../../../src/sip/framing.js';
import {
  makeResponse,
  parseMessage,
  type SipMessage,
  type SipRequest,
} from '../../../src/sip/message/index.js';
import { freePort } from '../../helpers/ports.js';
import { InboundQueue, Queue, request, requestText, within } from './helpers.js';

/** A raw TCP client that frames what it receives. */
async function tcpClient(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await within(new Promise((resolve) => socket.once('connect', resolve)), 'connect');
  const framer = new StreamFramer();
  const messages = new Queue<SipMessage>();
  let raw = '';
  socket.on('data', (chunk: Buffer) => {
    raw += chunk.toString('latin1');
    for (const bytes of framer.push(chunk)) messages.push(parseMessage(bytes, { datagram: false }));
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    port: socket.localPort as number,
    closed,
    raw: () => raw,
    next: (what = 'message') => messages.next(what),
  };
}

/** A TCP server that only counts the connections it gets (a softphone's listening port). */
async function countingServer(port: number) {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('TCP alias: a request to the advertised address reuses the connection the softphone opened', async () => {
  const inbound = new InboundQueue();
  const layer = await TransportLayer.listen({ port: 0, onMessage: inbound.push });
  // The "softphone" listens on `advertised` but connects from an ephemeral port.
  const advertised = await freePort();
  const phoneServer = await countingServer(advertised);
  const phone = await tcpClient(layer.port);
  try {
    assert.notEqual(phone.port, advertised);
    phone.socket.write(
      requestText({ method: 'REGISTER', transport: 'TCP', sentBy: `127.0.0.1:${advertised}` }),
    );
    const reg = await inbound.next();
    assert.deepEqual(reg.source, { protocol: 'tcp', host: '127.0.0.1', port: phone.port });

    // The response goes back on the same connection (§18.2.2).
    await layer.sendResponse(makeResponse(reg.message as SipRequest, 200, 'OK'));
    const res = await phone.next('the 200');
    assert.equal(res.kind === 'response' && res.status, 200);

    // A new request to the advertised address: over the existing connection.
    await layer.send(request({ method: 'INVITE', callId: 'in-1' }), {
      protocol: 'tcp',
      host: '127.0.0.1',
      port: advertised,
    });
    const invite = await phone.next('the INVITE on the registered connection');
    assert.equal(invite.kind === 'request' && invite.method, 'INVITE');
    assert.equal(invite.get('Call-ID'), 'in-1');
    assert.equal(phoneServer.connections(), 0, 'no new connection to the listening port');

    // Once that connection is gone (and the layer saw it go), the layer
    // connects to the advertised port.
    const layerSawClose = new Promise<void>((resolve) => {
      const sub = (m: unknown) => {
        const msg = m as ConnectionMessage;
        if (msg.event === 'close' && msg.remote.port === phone.port) {
          diagnostics.unsubscribe('p2psip:net:connection', sub);
          resolve();
        }
      };
      diagnostics.subscribe('p2psip:net:connection', sub);
    });
    phone.socket.destroy();
    await within(layerSawClose, 'the layer noticing the closed connection');
    await layer.send(request({ method: 'INVITE', callId: 'in-2' }), {
      protocol: 'tcp',
      host: '127.0.0.1',
      port: advertised,
    });
    await within(
      (async () => {
        for (let i = 0; i < 200 && phoneServer.connections() === 0; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
      'a connection to the listening port',
    );
    assert.equal(phoneServer.connections(), 1);
  } finally {
    phone.socket.destroy();
    await layer.close();
    await phoneServer.close();
  }
});

test('TCP framing over a real socket: messages split at odd places and CRLF pings (pong "\\r\\n")', async () => {
  const inbound = new InboundQueue();
  const layer = await TransportLayer.listen({ port: 0, onMessage: inbound.push });
  const c = await tcpClient(layer.port);
  try {
    const a = requestText({ transport: 'TCP', callId: 'one', body: 'hello' });
    const b = requestText({ transport: 'TCP', callId: 'two' });
    const stream = `${a}\r\n\r\n${b}`;
    const cuts = [1, 17, a.length - 2, a.length + 3, stream.length - 1];
    let prev = 0;
    for (const cut of [...cuts, stream.length]) {
      c.socket.write(stream.slice(prev, cut));
      prev = cut;
      await new Promise((r) => setImmediate(r));
    }
    const first = await inbound.next();
    const second = await inbound.next();
    assert.equal(first.message.get('Call-ID'), 'one');
    assert.equal(Buffer.from(first.message.body).toString(), 'hello');
    assert.equal(second.message.get('Call-ID'), 'two');
    // The ping between them got exactly one pong.
    assert.equal(c.raw(), '\r\n');
  } finally {
    c.socket.destroy();
    await layer.close();
  }
});

test('TCP: a body over maxMessageSize gets 513 and the connection is closed', async () => {
  const layer = await TransportLayer.listen({ port: 0, maxMessageSize: 2048 });
  const c = await tcpClient(layer.port);
  try {
    c.socket.write(
      requestText({ transport: 'TCP', sentBy: `127.0.0.1:${c.port}` }).replace(
        'Content-Length: 0',
        'Content-Length: 100000',
      ),
    );
    const res = await c.next('the 513');
    assert.equal(res.kind === 'response' && res.status, 513);
    await within(c.closed, 'the server closing the connection');
  } finally {
    c.socket.destroy();
    await layer.close();
  }
});

test('TCP: a request that frames but does not parse gets 400 and the connection stays open', async () => {
  const inbound = new InboundQueue();
  const layer = await TransportLayer.listen({ port: 0, onMessage: inbound.push });
  const c = await tcpClient(layer.port);
  try {
    const bad = requestText({ transport: 'TCP' }).replace('Max-Forwards: 70', 'Max-Forwards 70');
    c.socket.write(bad + requestText({ transport: 'TCP', callId: 'next' }));
    const res = await c.next('the 400');
    assert.equal(res.kind === 'response' && res.status, 400);
    assert.equal((await inbound.next()).message.get('Call-ID'), 'next');
    assert.ok(!c.socket.destroyed && c.socket.readyState === 'open');
  } finally {
    c.socket.destroy();
    await layer.close();
  }
});

test('TCP: idle connections are closed after tcpIdleTimeoutMs', async () => {
  const layer = await TransportLayer.listen({ port: 0, tcpIdleTimeoutMs: 100 });
  const c = await tcpClient(layer.port);
  try {
    await within(c.closed, 'the idle connection being closed');
  } finally {
    c.socket.destroy();
    await layer.close();
  }
});

test('TCP: send to a port nobody listens on rejects ConnectFailed', async () => {
  const layer = await TransportLayer.listen({ port: 0 });
  const port = await freePort();
  try {
    await assert.rejects(
      layer.send(request(), { protocol: 'tcp', host: '127.0.0.1', port }),
      (e) => e instanceof NetError && e.code === NetErrorCode.ConnectFailed,
    );
  } finally {
    await layer.close();
  }
});

test('TCP backpressure: a peer that does not read is dropped (WriteOverflow), not buffered forever', async () => {
  const layer = await TransportLayer.listen({ port: 0, tcpMaxWriteBuffer: 256 * 1024 });
  // A server that accepts and never reads.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    s.pause();
    sockets.add(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const big = request({ method: 'MESSAGE' });
    big.body = Buffer.alloc(60_000, 0x61);
    let error: unknown;
    // Kernel buffers absorb a few MB first; bounded at 64 MB.
    for (let i = 0; i < 1100 && error === undefined; i++) {
      layer.send(big, { protocol: 'tcp', host: '127.0.0.1', port }).catch((e: unknown) => {
        error ??= e;
      });
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(error instanceof NetError, `got ${String(error)}`);
    assert.equal(error.code, NetErrorCode.WriteOverflow);
  } finally {
    for (const s of sockets) s.destroy();
    await layer.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
