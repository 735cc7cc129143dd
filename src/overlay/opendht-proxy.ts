/**
 * A client of dhtnode's REST proxy (OpenDHT 2.4.12, `dhtnode --proxyserver`),
 * the two calls the backends need:
 *
 *   POST /key/<40 hex>   {"data":"<base64>","type":N,"id":"<uint64>"}  → {"data","id","type"}
 *   GET  /key/<40 hex>   → one JSON value per line (chunked)
 *
 * Several proxy URLs can be given: each call tries them in turn, starting at
 * the last one that answered, and fails (OVERLAY_BACKEND, every proxy's reason
 * in the message) only when all have failed. Every response is bounded in
 * size (`maxResponseBytes`) and every request in time (`requestTimeoutMs`
 * per proxy), so a broken or hostile proxy costs a typed error, never a crash
 * or a hang. Uses Node's global fetch (undici); no dependency.
 *
 * What the proxy returns is checked strictly where only the proxy could be
 * at fault (not JSON, not UTF-8, bad base64: OVERLAY_BACKEND) and leniently
 * where another writer could be (a JSON value without `data`, e.g. an
 * OpenDHT-encrypted value: skipped).
 */
import { randomBytes } from '../crypto/random.js';
import { OverlayError } from './errors.js';

/** Per request and proxy; a find has its own overall deadline on top. */
export const OPENDHT_REQUEST_TIMEOUT_MS = 5_000;
/**
 * Largest response read (4 MiB). Anyone can add values under a key; a key
 * flooded past this fails with OVERLAY_BACKEND rather than being read without
 * bound (docs/overlay.md "OpenDHT", limits).
 */
export const OPENDHT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface OpenDhtProxyOptions {
  /** One or more proxy base URLs (http: or https:), e.g. http://127.0.0.1:8081; tried in order. */
  proxyUrls: readonly string[];
  requestTimeoutMs?: number;
  maxResponseBytes?: number;
}

/** A value as the proxy returns it. */
export interface ProxyValue {
  data: Uint8Array;
  id?: string;
  type?: number;
}

/** A value to put: our bytes, the OpenDHT value type, and a uint64 id (decimal). */
export interface PutValue {
  data: Uint8Array;
  type: number;
  id: string;
}

export class OpenDhtProxy {
  /** The proxy base URLs, normalised (no trailing slash). */
  readonly urls: readonly string[];
  readonly #requestTimeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #closing = new AbortController();
  #preferred = 0;

  constructor(opts: OpenDhtProxyOptions) {
    this.urls = checkProxyUrls(opts?.proxyUrls);
    this.#requestTimeoutMs = intOption(
      'requestTimeoutMs',
      opts.requestTimeoutMs,
      OPENDHT_REQUEST_TIMEOUT_MS,
    );
    this.#maxResponseBytes = intOption(
      'maxResponseBytes',
      opts.maxResponseBytes,
      OPENDHT_MAX_RESPONSE_BYTES,
    );
  }

  /** Puts one value under the 40-hex key; resolves when the proxy says it is stored. */
  async put(hexKey: string, value: PutValue, signal?: AbortSignal): Promise<void> {
    const data = Buffer.from(value.data).toString('base64');
    const body = JSON.stringify({ data, type: value.type, id: value.id });
    await this.#failover('opendht put', signal, async (base, s) => {
      const text = await this.#request(`${base}/key/${hexKey}`, s, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      // dhtnode echoes the stored value: anything else is not a proxy that stored ours.
      const reply = parseJson(text.trim());
      if (!isRecord(reply) || reply['data'] !== data || String(reply['id']) !== value.id)
        throw new Error('put: the proxy did not echo the stored value');
    });
  }

  /** Every value the DHT has under the 40-hex key (unverified; possibly from anyone). */
  async get(hexKey: string, signal?: AbortSignal): Promise<ProxyValue[]> {
    return this.#failover('opendht get', signal, async (base, s) =>
      parseValues(await this.#request(`${base}/key/${hexKey}`, s, { method: 'GET' })),
    );
  }

  /** Aborts requests in flight; later calls fail with OVERLAY_BACKEND. */
  close(): void {
    this.#closing.abort();
  }

  async #failover<T>(
    operation: string,
    signal: AbortSignal | undefined,
    attempt: (base: string, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const reasons: string[] = [];
    for (let i = 0; i < this.urls.length; i++) {
      if (signal?.aborted) throw OverlayError.aborted(signal.reason);
      if (this.#closing.signal.aborted) break;
      const index = (this.#preferred + i) % this.urls.length;
      const base = this.urls[index] as string;
      // One controller per request, fed by the timeout, close() and the
      // caller: not AbortSignal.any, which keeps every composite alive as
      // long as the long-lived close signal (nodejs/node#55351, #64476).
      const local = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        local.abort();
      }, this.#requestTimeoutMs);
      const onAbort = () => local.abort();
      this.#closing.signal.addEventListener('abort', onAbort, { once: true });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const result = await attempt(base, local.signal);
        this.#preferred = index;
        return result;
      } catch (err) {
        if (signal?.aborted) throw OverlayError.aborted(signal.reason);
        reasons.push(
          `${base}: ${timedOut ? `no answer within ${this.#requestTimeoutMs} ms` : describe(err)}`,
        );
      } finally {
        clearTimeout(timer);
        this.#closing.signal.removeEventListener('abort', onAbort);
        signal?.removeEventListener('abort', onAbort);
      }
    }
    if (this.#closing.signal.aborted) reasons.push('client closed');
    throw OverlayError.backend(operation, new Error(reasons.join('; ')));
  }

  async #request(url: string, signal: AbortSignal, init: RequestInit): Promise<string> {
    const res = await fetch(url, { ...init, signal, redirect: 'error' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`HTTP ${res.status}`);
    }
    return readBounded(res, this.#maxResponseBytes);
  }
}

/** A fresh OpenDHT value id: a random non-zero uint64, in decimal (the proxy's form). */
export function freshValueId(): string {
  for (;;) {
    const id = new DataView(randomBytes(8).buffer).getBigUint64(0);
    if (id !== 0n) return id.toString();
  }
}

/** Parses a GET body: one JSON value per line. Throws on anything only a broken proxy sends. */
export function parseValues(text: string): ProxyValue[] {
  const out: ProxyValue[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const v = parseJson(line);
    if (!isRecord(v)) throw new Error('a value line that is not a JSON object');
    const data = v['data'];
    if (typeof data !== 'string') continue; // not a plain value (e.g. encrypted): not ours
    const value: ProxyValue = { data: strictBase64(data) };
    if (typeof v['id'] === 'string' || typeof v['id'] === 'number') value.id = String(v['id']);
    if (typeof v['type'] === 'number') value.type = v['type'];
    out.push(value);
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function strictBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new Error('a value whose data is not base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text)
    throw new Error('a value whose data is not canonical base64');
  return new Uint8Array(bytes);
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`not JSON: ${JSON.stringify(line.slice(0, 60))}`);
  }
}

async function readBounded(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`response of ${declared} bytes exceeds the limit of ${max}`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new Error(`response exceeds the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new Error('response is not UTF-8');
  }
}

function checkProxyUrls(urls: unknown): string[] {
  if (!Array.isArray(urls) || urls.length === 0)
    throw OverlayError.badOption('proxyUrls', urls, 'a non-empty list of http(s) URLs');
  return urls.map((u: unknown) => {
    let url: URL;
    try {
      url = new URL(String(u));
    } catch {
      throw OverlayError.badOption('proxyUrls', u, 'an http(s) URL');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
      throw OverlayError.badOption('proxyUrls', u, 'an http(s) URL without query or fragment');
    return url.href.replace(/\/+$/, '');
  });
}

function intOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw OverlayError.badOption(name, value, 'a positive integer');
  return value;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail === undefined ? err.message : `${err.message} (${String(detail)})`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
