/**
 * Loose routing between softphone and peer node (RFC 3261 §16.4, §16.6
 * step 4, RFC 5658 double Record-Route). Pure.
 *
 * A node sits between two different "sides": its local softphones (UDP/TCP on
 * loopback) and peer nodes (tunnels, addressed by public key). A URI that a
 * local softphone can use is useless to the peer node and vice versa, so a node
 * that Record-Routes inserts two entries (RFC 5658 §3.2): the top one names it
 * as seen from the side the request leaves on, the second as seen from the side
 * it came in on. A caller's node A and callee's node B then yield the route set
 *
 *     Record-Route: <B-local>, <B-tunnel>, <A-tunnel>, <A-local>
 *
 * which the callee's softphone uses top-down (first hop B-local) and the
 * caller's bottom-up (first hop A-local). A node pops every leading Route
 * entry that is its own; the next entry (another node's tunnel URI) or, with
 * none left, the Request-URI decides the next hop.
 */

import { formatNameAddr, getRoutes } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/message.js';
import type { SipUri } from '../sip/message/types.js';
import type { TransportAddress } from '../sip/transport.js';

/** The host of every tunnel URI: `sip:<64 hex key>@p2p.invalid;lr`. RFC 6761 reserves .invalid. */
export const TUNNEL_HOST = 'p2p.invalid';

/** Which side of the node a hop is on. */
export type Side =
  | { kind: 'local'; flow: TransportAddress }
  /** `localKey`: our key the peer reached us at (default: the first of `tunnelKeys`). */
  | { kind: 'tunnel'; peerKey: string; localKey?: string };

export interface NodeRouteIdentity {
  /** Our SIP listener as local softphones reach it, e.g. {udp, 127.0.0.1, 5070}. */
  localHost: string;
  localPort: number;
  /** Public keys (hex) peers reach us by: the identity key first, then per-epoch tunnel keys. */
  tunnelKeys: ReadonlySet<string>;
}

/** `sip:<key>@p2p.invalid;lr` — a route hop "through the tunnel to key". */
export function tunnelUri(keyHex: string): string {
  return `sip:${keyHex}@${TUNNEL_HOST};lr`;
}

/** The public key a tunnel URI names, or undefined if it is not one. */
export function tunnelKeyOf(uri: SipUri): string | undefined {
  if (uri.host !== TUNNEL_HOST || !uri.user || !/^[0-9a-f]{64}$/.test(uri.user)) return undefined;
  return uri.user;
}

/** Our Record-Route / Route URI as seen from one side. */
export function ownUri(id: NodeRouteIdentity, side: Side, tunnelKey?: string): string {
  if (side.kind === 'tunnel') {
    const key = tunnelKey ?? side.localKey ?? [...id.tunnelKeys][0];
    if (!key) throw new Error('no tunnel key to record-route with');
    return tunnelUri(key);
  }
  const host = id.localHost.includes(':') ? `[${id.localHost}]` : id.localHost;
  return `sip:${host}:${id.localPort};transport=${side.flow.protocol === 'tcp' ? 'tcp' : 'udp'};lr`;
}

/** True when a Route URI names this node (either side). */
export function isOwnUri(id: NodeRouteIdentity, uri: SipUri): boolean {
  const key = tunnelKeyOf(uri);
  if (key) return id.tunnelKeys.has(key);
  const host = id.localHost.includes(':') ? `[${id.localHost}]` : id.localHost;
  return uri.host === host.toLowerCase() && (uri.port ?? 5060) === id.localPort;
}

/**
 * RFC 5658 double Record-Route: the two entries to insert (top first) when a
 * request goes from `incoming` to `outgoing`. When both sides are the same kind
 * a single entry suffices.
 */
export function recordRouteEntries(
  id: NodeRouteIdentity,
  incoming: Side,
  outgoing: Side,
  tunnelKey?: string,
): string[] {
  const out = `<${ownUri(id, outgoing, tunnelKey)}>`;
  const inn = `<${ownUri(id, incoming, tunnelKey)}>`;
  return out === inn ? [out] : [out, inn];
}

/**
 * RFC 3261 §16.4: "If the first value in the Route header field indicates
 * this proxy, the proxy MUST remove that value from the request." With double
 * Record-Route the next value may be ours too; remove it as well. Returns the
 * number of entries removed.
 */
export function popOwnRoutes(id: NodeRouteIdentity, req: SipRequest): number {
  const routes = getRoutes(req);
  let n = 0;
  while (n < routes.length && isOwnUri(id, routes[n]!.uri)) n++;
  if (n > 0) {
    req.remove('Route');
    for (const r of routes.slice(n)) req.append('Route', formatNameAddr(r));
  }
  return n;
}

/** The URI of the first Route value, if any. */
export function topRoute(req: SipRequest): SipUri | undefined {
  return getRoutes(req)[0]?.uri;
}

/** RFC 3261 §16.6 step 3: decrement Max-Forwards, adding 70 when absent. */
export function decrementMaxForwards(req: SipRequest): void {
  const raw = req.get('Max-Forwards');
  // "If the copy does not contain a Max-Forwards header field, the proxy MUST
  // add one with a field value, which SHOULD be 70."
  req.set('Max-Forwards', raw === undefined ? '70' : String(Math.max(0, Number(raw) - 1)));
}
