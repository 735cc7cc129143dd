/**
 * Via processing at the transport layer, pure (no sockets), so the RFC rules
 * are unit-tested on their own:
 *
 * - stampTopVia: RFC 3261 §18.2.1 (received) and RFC 3581 §4 (rport) on every
 *   inbound request;
 * - responseDestination: RFC 3261 §18.2.2 and RFC 3581 §4, where a response
 *   goes, read from its top Via.
 */
import { isIP } from 'node:net';
import { SipError } from '../sip/errors.js';
import {
  formatVia,
  parseVia,
  type SipMessage,
  type SipRequest,
  type Via,
} from '../sip/message/index.js';
import type { TransportAddress } from '../sip/transport.js';

/** The socket protocols this layer serves. */
export type SocketProtocol = 'udp' | 'tcp';

/** RFC 3261 §18.1.1 / §19.1.2: the default SIP port for UDP and TCP. */
export const DEFAULT_SIP_PORT = 5060;

/** "[::1]" → "::1"; lowercase (IPv6 hex, hostnames). */
export function bareHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.toLowerCase();
}

/** Table key for a remote address: bare lowercase host and port. */
export function addressKey(host: string, port: number): string {
  return `${bareHost(host)}|${port}`;
}

/** 'udp' / 'tcp' for a Via transport we serve; undefined for TLS, SCTP, WS, … */
export function viaProtocol(via: Via): SocketProtocol | undefined {
  if (via.transport === 'UDP') return 'udp';
  if (via.transport === 'TCP') return 'tcp';
  return undefined;
}

/**
 * Stamps the top Via of an inbound request with where it really came from,
 * rewriting that header line in `req` when something changed. Returns the
 * stamped top Via. Throws SipError (MissingHeader, BadHeaderValue) when the
 * request has no Via or its first Via line does not parse.
 */
export function stampTopVia(req: SipRequest, source: { host: string; port: number }): Via {
  const src = bareHost(source.host);
  return updateTopVia(req, (top) => {
    let changed = false;
    // RFC 3261 §18.2.1: "If the host portion of the "sent-by" parameter
    // contains a domain name, or if it contains an IP address that differs
    // from the packet source address, the server MUST add a "received"
    // parameter to that Via header field value."
    if (bareHost(top.host) !== src) {
      top.params.set('received', src);
      changed = true;
    }
    // RFC 3581 §4: "If the request has an rport parameter with no value, it
    // MUST set the value of the parameter to the source port of the request"
    // and then add "received" even when it equals the sent-by host.
    if (top.params.has('rport') && top.params.get('rport') === null) {
      top.params.set('rport', String(source.port));
      top.params.set('received', src);
      changed = true;
    }
    return changed;
  });
}

/**
 * Lets `update` change a fresh copy of the top Via of `msg`; when it returns
 * true, the first Via header line is rewritten with it (other values on that
 * line are kept, re-formatted). Returns the (possibly updated) top Via.
 * Throws SipError when there is no Via or the first Via line does not parse.
 */
export function updateTopVia(msg: SipMessage, update: (top: Via) => boolean): Via {
  const index = msg.headers.findIndex((h) => h.name === 'Via');
  const line = msg.headers[index];
  if (line === undefined) throw SipError.missingHeader('Via');
  // Fresh objects (not the accessor cache, whose views are shared).
  const vias = parseVia(line.value);
  const top = vias[0];
  if (top === undefined) throw SipError.badHeaderValue('Via', 'empty value');
  if (update(top)) msg.headers[index] = { name: 'Via', value: vias.map(formatVia).join(', ') };
  return top;
}

/**
 * Where a response goes, from its top Via, for the given protocol
 * (RFC 3261 §18.2.2, RFC 3581 §4). For a reliable protocol this is the
 * address to connect to when the request's connection is gone; the caller
 * tries that connection first.
 *
 * - UDP: `maddr` if present (port from sent-by or 5060); otherwise `received`
 *   with `rport` when both are there (RFC 3581); otherwise `received` (or the
 *   sent-by host) with the sent-by port (or 5060).
 * - TCP: `received` (or the sent-by host) with the sent-by port (or 5060).
 */
export function responseDestination(via: Via, protocol: SocketProtocol): TransportAddress {
  const sentByPort = via.port ?? DEFAULT_SIP_PORT;
  const received = via.params.get('received') ?? undefined;
  const host = bareHost(received ?? via.host);
  if (protocol === 'tcp') return { protocol, host, port: sentByPort };
  const maddr = via.params.get('maddr');
  if (maddr) return { protocol, host: bareHost(maddr), port: sentByPort };
  const rport = via.params.get('rport');
  const port = received !== undefined && rport ? Number(rport) : sentByPort;
  return { protocol, host, port };
}

/** True for "127.0.0.1", "::1", "[::1]"; false for host names. */
export function isIpLiteral(host: string): boolean {
  return isIP(bareHost(host)) !== 0;
}
