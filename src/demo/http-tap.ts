/**
 * An HTTP tap in front of a dhtnode REST proxy, for the bystander audit over
 * OpenDHT (issue 6): a node's `overlay.opendht.proxies` points at the tap,
 * the tap forwards every request to the real proxy unchanged and streams the
 * answer back, and it turns each request into the same DhtRequestLogEntry a
 * logging HyperDHT testnet node produces (src/overlay/testnet.ts), so
 * src/overlay/bystander.ts checks both alike.
 *
 *   POST /key/<40 hex>          → MUTABLE_PUT, target = the key, stored = {
 *                                   publicKey: the key (20 bytes),
 *                                   seq: the wrapper's (wire) seq, else 0,
 *                                   value: the payload our node published }
 *   GET  /key/<40 hex>[/listen] → MUTABLE_GET, target = the key
 *   anything else               → HTTP_<METHOD> (target set if the path names a key)
 *   value                       = the raw request body, from = the client's socket address
 *
 * Why the wrapper is opened: OpenDHT values are our signed wrappers
 * (src/overlay/opendht-wire.ts); the audit's checks are about what our node
 * published (the record, its size), so `stored.value` is the wrapper's
 * payload. Nothing the bystander sees is dropped from the checks: a lookup
 * wrapper's publisher id goes into `announcer` (the writer's key, as for a
 * HyperDHT ANNOUNCE), the rest is a tag, seq, expiry and signature. Data
 * that is not one of our wrappers is kept as it is. A `/listen` is a get
 * that stays open, so it counts as MUTABLE_GET: it names the key just the same.
 *
 * Bounds: a request body over 1 MiB is answered 413 (and logged, truncated)
 * without being forwarded; a malformed request gets a 400 from Node's parser;
 * a body that is not JSON or not base64 is forwarded and logged with what
 * could be parsed. A throwing `onEntry` is ignored. close() destroys every
 * client and upstream socket, including open `/listen` streams.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { fromHex } from '../crypto/bytes.js';
import { decodeLookupWrapper, decodeSecretWrapper } from '../overlay/opendht-wire.js';
import type { DhtRequestLogEntry } from '../overlay/testnet.js';

/** The largest request body read and forwarded (1 MiB; dhtnode takes ≤ 64,000-byte values). */
export const TAP_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpTapOptions {
  /** The dhtnode proxy's base URL (http:). */
  target: URL;
  /** Called once per request, after its body was read and before it is forwarded. */
  onEntry: (entry: DhtRequestLogEntry) => void;
  /** `node` of every entry (default 0): which tap saw it. */
  node?: number;
  /** Default TAP_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

export interface HttpTap {
  /** The tap's base URL, http://127.0.0.1:PORT: use it as the proxy URL. */
  url: string;
  /** Stops listening and destroys every socket. Idempotent. */
  close(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

export async function startHttpTap(opts: HttpTapOptions): Promise<HttpTap> {
  const target = opts.target;
  if (target.protocol !== 'http:')
    throw new TypeError(`http tap: the target must be an http: URL, not ${target.href}`);
  const max = opts.maxBodyBytes ?? TAP_MAX_BODY_BYTES;
  if (!Number.isInteger(max) || max < 0)
    throw new TypeError(`http tap: maxBodyBytes must be a non-negative integer, not ${max}`);
  const node = opts.node ?? 0;
  const agent = new http.Agent({ keepAlive: true });
  const upstreams = new Set<http.ClientRequest>();
  const sockets = new Set<Socket>();
  let closed = false;

  const emit = (entry: DhtRequestLogEntry) => {
    try {
      opts.onEntry(entry);
    } catch {
      // The log is the caller's: its failure must not stop the traffic.
    }
  };

  const server = http.createServer((req, res) => {
    const from = { host: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      if (size + chunk.length > max) {
        tooLarge = true;
        chunks.push(chunk.subarray(0, max - size));
        emit(describeRequest(node, method, req.url ?? '/', Buffer.concat(chunks), from));
        res.writeHead(413, { connection: 'close', 'content-type': 'text/plain' });
        res.end(`http tap: request body over ${max} bytes\n`, () => req.socket.destroy());
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) return;
      const body = Buffer.concat(chunks);
      emit(describeRequest(node, method, req.url ?? '/', body, from));
      forward(req, res, body);
    });
  });

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    if (closed) {
      res.writeHead(503, { connection: 'close' }).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers))
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    headers['host'] = target.host;
    if (body.length > 0 || req.headers['content-length'] !== undefined)
      headers['content-length'] = String(body.length);
    else delete headers['content-length'];
    const up = http.request({
      agent,
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port === '' ? 80 : Number(target.port),
      method: req.method,
      path: targetPath(target, req.url ?? '/'),
      headers,
    });
    upstreams.add(up);
    up.on('close', () => upstreams.delete(up));
    up.on('response', (upRes) => {
      const back: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upRes.headers))
        if (!HOP_BY_HOP.has(name) && value !== undefined) back[name] = value;
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, back);
      upRes.on('error', () => res.destroy());
      upRes.pipe(res);
    });
    up.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(502, { 'content-type': 'text/plain' })
          .end(`http tap: the proxy did not answer (${err.message})\n`);
    });
    // The client went away (e.g. a /listen cancelled): so does the upstream request.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  };

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !closed)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        server.close(() => resolve());
        for (const up of upstreams) up.destroy();
        agent.destroy();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** The upstream path: the target's path prefix + the request's path and query. */
function targetPath(target: URL, url: string): string {
  const base = target.pathname.replace(/\/+$/, '');
  return `${base}${url.startsWith('/') ? url : `/${url}`}`;
}

const KEY_PATH = /^\/key\/([0-9a-fA-F]{40})(\/[^?]*)?$/;

/** The log entry of one request (pure; exported for the unit test). */
export function describeRequest(
  node: number,
  method: string,
  url: string,
  body: Uint8Array,
  from: { host: string; port: number },
): DhtRequestLogEntry {
  const path = url.split('?')[0] ?? '';
  const m = KEY_PATH.exec(path);
  const entry: DhtRequestLogEntry = {
    node,
    command: `HTTP_${method.toUpperCase()}`,
    target: null,
    value: body.length > 0 ? new Uint8Array(body) : null,
    from,
  };
  if (!m) return entry;
  const target = fromHex(m[1]!.toLowerCase());
  entry.target = target;
  const rest = m[2] ?? '';
  if (method === 'GET' && (rest === '' || rest === '/listen')) entry.command = 'MUTABLE_GET';
  else if (method === 'POST' && rest === '') {
    entry.command = 'MUTABLE_PUT';
    const data = putData(body);
    if (data) Object.assign(entry, unwrap(target, data));
  }
  return entry;
}

/** The base64-decoded `data` of a put's JSON body, if there is one. */
function putData(body: Uint8Array): Uint8Array | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const data = (json as Record<string, unknown>)['data'];
  if (typeof data !== 'string') return undefined;
  return new Uint8Array(Buffer.from(data, 'base64'));
}

/** What a put stores: our wrapper's payload (and publisher), or the data as it is. */
function unwrap(
  target: Uint8Array,
  data: Uint8Array,
): Pick<DhtRequestLogEntry, 'stored' | 'announcer'> {
  const lookup = decodeLookupWrapper(data);
  if (lookup)
    return {
      stored: { publicKey: target, seq: lookup.wireSeq, value: lookup.payload.slice() },
      announcer: lookup.publisher.slice(),
    };
  const secret = decodeSecretWrapper(data);
  if (secret)
    return { stored: { publicKey: target, seq: secret.seq, value: secret.payload.slice() } };
  return { stored: { publicKey: target, seq: 0, value: data } };
}
