/**
 * The HTTP tap of the OpenDHT bystander audit (src/demo/http-tap.ts), in
 * front of a fake dhtnode proxy (a node:http server on 127.0.0.1 that
 * records what reaches it): requests forwarded byte for byte, answers
 * streamed back (chunked GET, /listen), each request logged as the
 * DhtRequestLogEntry the bystander checks read; bad input bounded.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../../src/crypto/bytes.js';
import { describeRequest, type HttpTap, startHttpTap } from '../../../src/demo/http-tap.js';
import { encodeLookupWrapper, encodeSecretWrapper } from '../../../src/overlay/opendht-wire.js';
import type { DhtRequestLogEntry } from '../../../src/overlay/testnet.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A fake proxy: `handle` answers; every request it received is in `seen`. */
async function fakeProxy(
  t: TestContext,
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void,
): Promise<{ url: URL; seen: Seen[]; closed: Seen[] }> {
  const seen: Seen[] = [];
  const closed: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(s);
      res.on('close', () => closed.push(s));
      handle(req, res, s.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const { port } = server.address() as { port: number };
  return { url: new URL(`http://127.0.0.1:${port}`), seen, closed };
}

async function tapFor(
  t: TestContext,
  target: URL,
  extra: { maxBodyBytes?: number; onEntry?: (e: DhtRequestLogEntry) => void } = {},
): Promise<{ tap: HttpTap; entries: DhtRequestLogEntry[] }> {
  const entries: DhtRequestLogEntry[] = [];
  const tap = await startHttpTap({
    target,
    node: 7,
    onEntry: extra.onEntry ?? ((e) => entries.push(e)),
    ...(extra.maxBodyBytes === undefined ? {} : { maxBodyBytes: extra.maxBodyBytes }),
  });
  t.after(() => tap.close());
  return { tap, entries };
}

const KEY = 'ab'.repeat(20);
const KEY_BYTES = Buffer.from(KEY, 'hex');
const echo = (_req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) =>
  res.writeHead(200, { 'content-type': 'application/json', 'x-proxy': 'fake' }).end(body);

function putBody(data: Uint8Array): string {
  return JSON.stringify({ data: Buffer.from(data).toString('base64'), type: 0, id: '42' });
}

test('a put of a secret wrapper: forwarded unchanged, logged as MUTABLE_PUT with the payload', async (t) => {
  const proxy = await fakeProxy(t, echo);
  const { tap, entries } = await tapFor(t, proxy.url);
  const payload = new Uint8Array(300).fill(9);
  const wrapper = encodeSecretWrapper(
    new Uint8Array(32).fill(1),
    new Uint8Array(32).fill(2),
    5,
    payload,
  );
  const body = putBody(wrapper);
  const res = await fetch(`${tap.url}/key/${KEY}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-proxy'), 'fake');
  assert.equal(await res.text(), body, 'the proxy answer comes back');
  assert.equal(proxy.seen.length, 1);
  const s = proxy.seen[0]!;
  assert.equal(s.method, 'POST');
  assert.equal(s.url, `/key/${KEY}`);
  assert.equal(s.body.toString(), body, 'the body reaches the proxy byte for byte');
  assert.equal(s.headers['content-type'], 'application/json');
  assert.equal(s.headers.host, proxy.url.host, 'Host names the proxy');
  assert.equal(entries.length, 1);
  const e = entries[0]!;
  assert.equal(e.node, 7);
  assert.equal(e.command, 'MUTABLE_PUT');
  assert.deepEqual(e.target, new Uint8Array(KEY_BYTES));
  assert.equal(e.from.host, '127.0.0.1');
  assert.ok(e.from.port > 0);
  assert.deepEqual(e.value, new Uint8Array(Buffer.from(body)));
  assert.deepEqual(e.stored, { publicKey: new Uint8Array(KEY_BYTES), seq: 5, value: payload });
  assert.equal(e.announcer, undefined);
});

test('a put of a lookup wrapper: payload stored, wire seq kept, the publisher id as announcer', async (t) => {
  const proxy = await fakeProxy(t, echo);
  const { tap, entries } = await tapFor(t, proxy.url);
  const publisher = new Uint8Array(32).fill(3);
  const payload = new TextEncoder().encode('<package aor="alice@example.org"/>');
  const wrapper = encodeLookupWrapper(
    new Uint8Array(32).fill(4),
    new Uint8Array(32).fill(5),
    publisher,
    8,
    1_900_000_000,
    payload,
  );
  await (await fetch(`${tap.url}/key/${KEY}`, { method: 'POST', body: putBody(wrapper) })).text();
  const e = entries[0]!;
  assert.equal(e.command, 'MUTABLE_PUT');
  assert.deepEqual(e.stored?.value, payload);
  assert.equal(e.stored?.seq, 8);
  assert.deepEqual(e.announcer, publisher);
});

test('data that is not our wrapper is logged as it is; a body that is not JSON is still forwarded', async (t) => {
  const proxy = await fakeProxy(t, echo);
  const { tap, entries } = await tapFor(t, proxy.url);
  const raw = new Uint8Array([0x7f, 1, 2, 3]);
  await (
    await fetch(`${tap.url}/key/${KEY.toUpperCase()}`, { method: 'POST', body: putBody(raw) })
  ).text();
  assert.deepEqual(entries[0]!.stored, {
    publicKey: new Uint8Array(KEY_BYTES),
    seq: 0,
    value: raw,
  });
  assert.deepEqual(entries[0]!.target, new Uint8Array(KEY_BYTES), 'upper-case hex is the same key');
  const res = await fetch(`${tap.url}/key/${KEY}`, { method: 'POST', body: '{not json' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '{not json');
  assert.equal(proxy.seen.length, 2);
  assert.equal(entries[1]!.command, 'MUTABLE_PUT');
  assert.equal(entries[1]!.stored, undefined, 'nothing parsed, nothing invented');
  assert.deepEqual(entries[1]!.value, new Uint8Array(Buffer.from('{not json')));
});

// A tap that buffered would never pass the first line alone: the timeout turns that hang into a failure.
test('a chunked GET is streamed: the first line arrives before the proxy has finished', {
  timeout: 10_000,
}, async (t) => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const proxy = await fakeProxy(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":"AQ=="}\n');
    // Only once the client has read the first line does the proxy finish.
    void released.then(() => res.end('{"data":"Ag=="}\n'));
  });
  const { tap, entries } = await tapFor(t, proxy.url);
  const res = await fetch(`${tap.url}/key/${KEY}?a=1`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < 100 && !text.includes('\n'); i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  assert.equal(text, '{"data":"AQ=="}\n', 'the first line came through alone');
  release();
  for (let i = 0; i < 100; i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  assert.equal(text, '{"data":"AQ=="}\n{"data":"Ag=="}\n');
  assert.equal(proxy.seen[0]!.url, `/key/${KEY}?a=1`, 'the query goes along');
  assert.equal(entries[0]!.command, 'MUTABLE_GET');
  assert.deepEqual(entries[0]!.target, new Uint8Array(KEY_BYTES));
  assert.equal(entries[0]!.value, null);
});

test('a /listen counts as a get; cancelling it ends the upstream request; close() ends open streams', async (t) => {
  const proxy = await fakeProxy(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":"AQ=="}\n');
  });
  const { tap, entries } = await tapFor(t, proxy.url);
  const ac = new AbortController();
  const first = await fetch(`${tap.url}/key/${KEY}/listen`, { signal: ac.signal });
  const r1 = first.body!.getReader();
  assert.equal(new TextDecoder().decode((await r1.read()).value), '{"data":"AQ=="}\n');
  assert.equal(entries[0]!.command, 'MUTABLE_GET');
  assert.deepEqual(entries[0]!.target, new Uint8Array(KEY_BYTES));
  ac.abort();
  for (let i = 0; i < 200 && proxy.closed.length < 1; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(proxy.closed.length, 1, 'the proxy saw the listen end');

  const second = await fetch(`${tap.url}/key/${KEY}/listen`);
  const r2 = second.body!.getReader();
  await r2.read();
  await tap.close();
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 100; i++) if ((await r2.read()).done) throw new Error('ended cleanly');
    })(),
    'a stream cut by close() does not end as a complete response',
  );
  for (let i = 0; i < 200 && proxy.closed.length < 2; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(proxy.closed.length, 2, 'close() ended the upstream listen too');
  await tap.close(); // idempotent
});

test('other paths and methods: HTTP_<METHOD>, with the key as target when the path names one', async (t) => {
  const proxy = await fakeProxy(t, echo);
  const { tap, entries } = await tapFor(t, proxy.url);
  await (await fetch(`${tap.url}/`)).text();
  await (await fetch(`${tap.url}/key/${KEY}`, { method: 'DELETE' })).text();
  await (await fetch(`${tap.url}/key/${KEY}/listen`, { method: 'POST', body: 'x' })).text();
  await (await fetch(`${tap.url}/key/abc`)).text();
  assert.deepEqual(
    entries.map((e) => [e.command, e.target ? toHex(e.target) : null]),
    [
      ['HTTP_GET', null],
      ['HTTP_DELETE', KEY],
      ['HTTP_POST', KEY],
      ['HTTP_GET', null],
    ],
  );
  assert.equal(proxy.seen.length, 4, 'all forwarded');
});

test('a body over the limit is answered 413 and not forwarded; the entry holds the first bytes', async (t) => {
  const proxy = await fakeProxy(t, echo);
  const { tap, entries } = await tapFor(t, proxy.url, { maxBodyBytes: 16 });
  const res = await fetch(`${tap.url}/key/${KEY}`, { method: 'POST', body: 'y'.repeat(5000) });
  assert.equal(res.status, 413);
  await res.text();
  assert.equal(proxy.seen.length, 0);
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.value?.length, 16);
  // The tap still serves.
  const ok = await fetch(`${tap.url}/key/${KEY}`, { method: 'POST', body: 'z'.repeat(16) });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'z'.repeat(16));
});

test('a malformed request gets 400, an unreachable proxy 502, a throwing onEntry changes nothing', async (t) => {
  const proxy = await fakeProxy(t, echo);
  const { tap } = await tapFor(t, proxy.url, {
    onEntry: () => {
      throw new Error('log full');
    },
  });
  const port = Number(new URL(tap.url).port);
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write('NOT HTTP AT ALL\r\n\r\n');
  let reply = '';
  socket.setEncoding('utf8').on('data', (d: string) => (reply += d));
  await once(socket, 'close');
  assert.match(reply, /^HTTP\/1\.1 400 /);
  const res = await fetch(`${tap.url}/key/${KEY}`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 200, 'still forwarded although onEntry threw');
  assert.equal(await res.text(), '{}');

  // A proxy that is gone: a port that was just free.
  const gone = http.createServer();
  gone.listen(0, '127.0.0.1');
  await once(gone, 'listening');
  const gonePort = (gone.address() as { port: number }).port;
  await new Promise((r) => gone.close(r));
  const { tap: dead } = await tapFor(t, new URL(`http://127.0.0.1:${gonePort}`));
  const bad = await fetch(`${dead.url}/key/${KEY}`);
  assert.equal(bad.status, 502);
  assert.match(await bad.text(), /did not answer/);
});

test('startHttpTap refuses a target that is not http:', async () => {
  await assert.rejects(
    startHttpTap({ target: new URL('https://127.0.0.1:1'), onEntry: () => {} }),
    /http: URL/,
  );
});

test('property: describeRequest never throws and only keyed POSTs store anything', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'SUBSCRIBE'),
      fc.oneof(
        fc.string(),
        fc.uint8Array({ minLength: 20, maxLength: 20 }).map((k) => `/key/${toHex(k)}`),
        fc.uint8Array({ minLength: 20, maxLength: 20 }).map((k) => `/key/${toHex(k)}/listen?x`),
      ),
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }).map((b) => new TextEncoder().encode(putBody(b))),
        fc.string().map((s) => new TextEncoder().encode(JSON.stringify({ data: s }))),
      ),
      (method, url, body) => {
        const e = describeRequest(0, method, url, body, { host: '127.0.0.1', port: 1 });
        if (e.stored) {
          assert.equal(e.command, 'MUTABLE_PUT');
          assert.equal(e.stored.publicKey.length, 20);
        }
        if (e.target) assert.equal(e.target.length, 20);
        assert.equal(e.value?.length ?? 0, body.length);
      },
    ),
    { numRuns: 500 },
  );
});
