/**
 * Via (RFC 3261 §20.42, grammar §25.1): one header line may hold several
 * comma-separated via-parms; sent-protocol allows LWS around "/", sent-by
 * around ":" and parameters around ";" and "=".
 */
import { SipError } from '../errors.js';
import { C_HOST, is, lower, parseDigits, scanToken, skipWs, upper } from './chars.js';
import { isHost, isIPv4, isIPv6 } from './host.js';
import { formatParams, parseParams } from './params.js';
import type { Via } from './types.js';

const H = 'Via';

/** Parse every via-parm of one Via header value. Throws SipError BadHeaderValue. */
export function parseVia(value: string): Via[] {
  const s = value;
  const end = s.length;
  const out: Via[] = [];
  let i = skipWs(s, 0, end);
  for (;;) {
    const nameStart = i;
    const nameEnd = scanToken(s, i, end);
    if (nameEnd === i) throw SipError.badHeaderValue(H, 'missing sent-protocol');
    i = slash(s, nameEnd, end);
    const verEnd = scanToken(s, i, end);
    if (verEnd === i) throw SipError.badHeaderValue(H, 'missing protocol version');
    const proto = `${upper(s.slice(nameStart, nameEnd))}/${upper(s.slice(i, verEnd))}`;
    i = slash(s, verEnd, end);
    const trEnd = scanToken(s, i, end);
    if (trEnd === i) throw SipError.badHeaderValue(H, 'missing transport');
    const transport = upper(s.slice(i, trEnd));
    i = skipWs(s, trEnd, end);
    if (i === trEnd) throw SipError.badHeaderValue(H, 'missing whitespace before sent-by');

    // sent-by = host [ COLON port ]
    let hostEnd = i;
    if (s.charCodeAt(i) === 0x5b) {
      hostEnd = s.indexOf(']', i) + 1;
      if (hostEnd === 0) throw SipError.badHeaderValue(H, 'unterminated IPv6 reference');
    } else while (hostEnd < end && is(s.charCodeAt(hostEnd), C_HOST)) hostEnd++;
    if (!isHost(s, i, hostEnd)) throw SipError.badHeaderValue(H, 'malformed sent-by host');
    const via: Via = {
      protocol: proto,
      transport,
      host: lower(s.slice(i, hostEnd)),
      params: new Map(),
    };
    i = skipWs(s, hostEnd, end);
    if (i < end && s.charCodeAt(i) === 0x3a) {
      const p = skipWs(s, i + 1, end);
      let q = p;
      while (q < end && s.charCodeAt(q) >= 0x30 && s.charCodeAt(q) <= 0x39) q++;
      const port = parseDigits(s, p, q);
      if (port < 0 || port > 65535) throw SipError.badHeaderValue(H, 'bad sent-by port');
      via.port = port;
      i = q;
    }
    i = parseParams(s, i, end, via.params, H);
    checkParams(via.params);
    out.push(via);
    if (i >= end) return out;
    i = skipWs(s, i + 1, end); // past ","
    if (i >= end) throw SipError.badHeaderValue(H, 'empty value after ","');
  }
}

/** SLASH = SWS "/" SWS; returns the index after it. */
function slash(s: string, i: number, end: number): number {
  i = skipWs(s, i, end);
  if (s.charCodeAt(i) !== 0x2f) throw SipError.badHeaderValue(H, 'malformed sent-protocol');
  return skipWs(s, i + 1, end);
}

/** via-ttl, via-maddr, via-received, rport (RFC 3581) have their own value grammar. */
function checkParams(params: Map<string, string | null>): void {
  const ttl = params.get('ttl');
  if (ttl !== undefined) {
    const n = ttl === null ? -1 : parseDigits(ttl);
    if (n < 0 || n > 255) throw SipError.badHeaderValue(H, 'bad ttl');
  }
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null) {
    const n = parseDigits(rport);
    if (n < 0 || n > 65535) throw SipError.badHeaderValue(H, 'bad rport');
  }
  const received = params.get('received');
  if (received !== undefined) {
    if (received === null) throw SipError.badHeaderValue(H, 'received without value');
    const ok =
      isIPv4(received) ||
      isIPv6(received) ||
      (received.startsWith('[') &&
        received.endsWith(']') &&
        isIPv6(received, 1, received.length - 1));
    if (!ok) throw SipError.badHeaderValue(H, 'received is not an IP address');
  }
  const maddr = params.get('maddr');
  if (maddr !== undefined && (maddr === null || !isHost(maddr))) {
    throw SipError.badHeaderValue(H, 'bad maddr');
  }
  const branch = params.get('branch');
  if (branch === null) throw SipError.badHeaderValue(H, 'branch without value');
}

/** Render one via-parm: `SIP/2.0/UDP host:port;params`. */
export function formatVia(v: Via): string {
  if (!isHost(v.host)) throw SipError.badHeaderValue(H, `malformed host ${JSON.stringify(v.host)}`);
  if (scanToken(v.transport, 0) !== v.transport.length || v.transport === '') {
    throw SipError.badHeaderValue(H, 'bad transport');
  }
  let out = `${v.protocol}/${v.transport} ${v.host}`;
  if (v.port !== undefined) {
    if (!Number.isInteger(v.port) || v.port < 0 || v.port > 65535) {
      throw SipError.badHeaderValue(H, 'bad port');
    }
    out += ':' + v.port;
  }
  return out + formatParams(v.params, H);
}
