/**
 * The SDP model (RFC 8866, formerly RFC 4566): the body as its lines, in
 * order, each kept exactly as received (value and line ending), split into the
 * session part and one section per `m=` line. The raw lines are the only
 * source of truth; the typed views (`Origin`, `Connection`, `MediaLine`,
 * `RtcpAttribute`) are parsed from them on demand by the functions below.
 * That is what makes serialize(parse(x)) = x byte for byte, unknown lines and
 * odd spacing included: nothing is re-formatted unless it is rewritten.
 *
 * Text is held as "binary strings" (one char per byte, latin1): SDP may carry
 * any charset in `i=`/`s=` (`a=charset`), and a proxy must pass it unchanged.
 * Addresses, ports and attribute names are ASCII, so they read normally.
 */
import { SdpError } from './errors.js';

/** The line ending a line had: CRLF (RFC 8866), bare LF (tolerated), or none (last line). */
export type Eol = '\r\n' | '\n' | '';

export interface SdpLine {
  /** The type letter, `a`–`z`. */
  readonly type: string;
  /** Everything after `=`, unchanged. */
  readonly value: string;
  readonly eol: Eol;
}

export interface MediaSection {
  /** `lines[0]` is the `m=` line; the rest belong to this media description. */
  readonly lines: readonly SdpLine[];
}

export interface Sdp {
  /** Session-level lines, `v=` first. */
  readonly session: readonly SdpLine[];
  readonly media: readonly MediaSection[];
  /** Blank lines after the last line (tolerated, kept for the round trip); usually ''. */
  readonly trailer: string;
}

/** `o=` (RFC 8866 §5.2). */
export interface Origin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

/** `c=` (RFC 8866 §5.7). `ttl` only for IP4 multicast; `count` for multicast groups. */
export interface Connection {
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
  readonly ttl?: number;
  readonly count?: number;
}

/** `m=` (RFC 8866 §5.14). */
export interface MediaLine {
  readonly media: string;
  readonly port: number;
  /** `<port>/<number of ports>`; undefined when absent. */
  readonly portCount?: number;
  readonly proto: string;
  readonly formats: readonly string[];
}

/** `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605). */
export interface RtcpAttribute {
  readonly port: number;
  readonly connection?: Connection;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
const DIGITS = /^[0-9]{1,20}$/;
const IP4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const FQDN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/;
const IP6 = /^[0-9A-Fa-f:.]{2,45}$/;

function fields(value: string): string[] {
  return value.split(/[ \t]+/).filter((f) => f.length > 0);
}

function smallInt(text: string, max: number): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** True for an IPv4 dotted quad. */
export function isIp4(address: string): boolean {
  return IP4.test(address);
}

/** True for something shaped like an IPv6 address (hex groups, colons, optional dotted tail). */
export function isIp6(address: string): boolean {
  return IP6.test(address) && address.includes(':');
}

/** The unspecified address: `c=IN IP4 0.0.0.0` is RFC 2543 hold (RFC 3264 §8.4). */
export function isUnspecifiedAddress(address: string): boolean {
  return address === '0.0.0.0' || /^[0:]+$/.test(address);
}

function validAddress(addrType: string, address: string): boolean {
  if (addrType === 'IP4') return isIp4(address) || (FQDN.test(address) && /[A-Za-z]/.test(address));
  if (addrType === 'IP6') return isIp6(address) || (FQDN.test(address) && /[A-Za-z]/.test(address));
  return TOKEN.test(address) || isIp6(address);
}

export function parseOrigin(value: string, line?: number): Origin {
  const f = fields(value);
  if (f.length !== 6) throw SdpError.badOrigin(value, line);
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!DIGITS.test(sessionId) || !DIGITS.test(sessionVersion))
    throw SdpError.badOrigin(value, line);
  if (!TOKEN.test(netType) || !TOKEN.test(addrType) || !validAddress(addrType, address)) {
    throw SdpError.badOrigin(value, line);
  }
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

export function formatOrigin(o: Origin): string {
  return `${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`;
}

export function parseConnection(value: string, line?: number): Connection {
  const f = fields(value);
  if (f.length !== 3) throw SdpError.badConnection(value, line);
  const [netType, addrType, spec] = f as [string, string, string];
  if (!TOKEN.test(netType) || !TOKEN.test(addrType)) throw SdpError.badConnection(value, line);
  if (addrType !== 'IP4' && addrType !== 'IP6') {
    if (!validAddress(addrType, spec)) throw SdpError.badConnection(value, line);
    return { netType, addrType, address: spec };
  }
  const parts = spec.split('/');
  const address = parts[0] ?? '';
  if (!validAddress(addrType, address)) throw SdpError.badConnection(value, line);
  // IP4: addr[/ttl[/count]]; IP6: addr[/count] (RFC 8866 §5.7).
  const maxParts = addrType === 'IP4' ? 3 : 2;
  if (parts.length > maxParts) throw SdpError.badConnection(value, line);
  const numbers = parts.slice(1).map((p) => smallInt(p, 65535));
  if (numbers.some((n) => n === undefined)) throw SdpError.badConnection(value, line);
  if (addrType === 'IP4') {
    const [ttl, count] = numbers as number[];
    if (ttl !== undefined && ttl > 255) throw SdpError.badConnection(value, line);
    if (count !== undefined && count < 1) throw SdpError.badConnection(value, line);
    return {
      netType,
      addrType,
      address,
      ...(ttl === undefined ? {} : { ttl }),
      ...(count === undefined ? {} : { count }),
    };
  }
  const [count] = numbers as number[];
  if (count !== undefined && count < 1) throw SdpError.badConnection(value, line);
  return { netType, addrType, address, ...(count === undefined ? {} : { count }) };
}

export function formatConnection(c: Connection): string {
  let spec = c.address;
  if (c.ttl !== undefined) spec += `/${c.ttl}`;
  if (c.count !== undefined) spec += `/${c.count}`;
  return `${c.netType} ${c.addrType} ${spec}`;
}

export function parseMediaLine(value: string, line?: number): MediaLine {
  const f = fields(value);
  if (f.length < 3) throw SdpError.badMedia(value, line);
  const [media, portSpec, proto, ...formats] = f as [string, string, string, ...string[]];
  if (!TOKEN.test(media) || !/^[A-Za-z0-9/._+-]+$/.test(proto))
    throw SdpError.badMedia(value, line);
  const [portText, countText, extra] = portSpec.split('/');
  const port = smallInt(portText ?? '', 65535);
  if (port === undefined || extra !== undefined) throw SdpError.badMedia(value, line);
  let portCount: number | undefined;
  if (countText !== undefined) {
    portCount = smallInt(countText, 65535);
    if (portCount === undefined || portCount < 1) throw SdpError.badMedia(value, line);
  }
  // At least one format, except on a rejected stream where some UAs leave them out.
  if (formats.length === 0 && port !== 0) throw SdpError.badMedia(value, line);
  return { media, port, ...(portCount === undefined ? {} : { portCount }), proto, formats };
}

export function formatMediaLine(m: MediaLine): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  return [m.media, port, m.proto, ...m.formats].join(' ');
}

/** Splits an attribute value into name and value (`rtcp-mux` → value undefined). */
export function splitAttribute(value: string): { name: string; value: string | undefined } {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value, value: undefined };
  return { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

export function parseRtcp(value: string, line?: number): RtcpAttribute {
  const f = fields(value);
  const port = smallInt(f[0] ?? '', 65535);
  if (port === undefined || (f.length !== 1 && f.length !== 4)) {
    throw SdpError.badAttribute(`rtcp:${value}`, line);
  }
  if (f.length === 1) return { port };
  let connection: Connection;
  try {
    connection = parseConnection(f.slice(1).join(' '));
  } catch {
    throw SdpError.badAttribute(`rtcp:${value}`, line);
  }
  return { port, connection };
}

export function formatRtcp(r: RtcpAttribute): string {
  return r.connection ? `${r.port} ${formatConnection(r.connection)}` : `${r.port}`;
}

// ---- Views over a parsed Sdp (inputs were validated by parseSdp) ----------

/** The values of attribute `name` among `lines` (undefined value for a flag such as `rtcp-mux`). */
export function attributeValues(lines: readonly SdpLine[], name: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const l of lines) {
    if (l.type !== 'a') continue;
    const a = splitAttribute(l.value);
    if (a.name === name) out.push(a.value);
  }
  return out;
}

export function hasAttribute(lines: readonly SdpLine[], name: string): boolean {
  return attributeValues(lines, name).length > 0;
}

export function origin(sdp: Sdp): Origin {
  const line = sdp.session.find((l) => l.type === 'o');
  if (!line) throw SdpError.missingLine('o');
  return parseOrigin(line.value);
}

export function sessionConnection(sdp: Sdp): Connection | undefined {
  const line = sdp.session.find((l) => l.type === 'c');
  return line ? parseConnection(line.value) : undefined;
}

export function mediaLine(section: MediaSection): MediaLine {
  return parseMediaLine(section.lines[0]?.value ?? '');
}

/** The section's own first `c=`, if any. */
export function ownConnection(section: MediaSection): Connection | undefined {
  const line = section.lines.find((l) => l.type === 'c');
  return line ? parseConnection(line.value) : undefined;
}

/** The connection that applies to stream `index`: its own `c=`, else the session's. */
export function effectiveConnection(sdp: Sdp, index: number): Connection | undefined {
  const section = sdp.media[index];
  if (!section) return undefined;
  return ownConnection(section) ?? sessionConnection(sdp);
}

export function rtcpAttribute(section: MediaSection): RtcpAttribute | undefined {
  const value = attributeValues(section.lines, 'rtcp')[0];
  return value === undefined ? undefined : parseRtcp(value);
}

export function isRtcpMux(section: MediaSection): boolean {
  return hasAttribute(section.lines, 'rtcp-mux');
}

function directionOf(lines: readonly SdpLine[]): Direction | undefined {
  let found: Direction | undefined;
  for (const l of lines) {
    if (l.type === 'a' && (DIRECTIONS as readonly string[]).includes(l.value)) {
      found = l.value as Direction;
    }
  }
  return found;
}

/** Direction of stream `index`: media level, else session level, else sendrecv (RFC 3264 §5.1). */
export function direction(sdp: Sdp, index: number): Direction {
  const section = sdp.media[index];
  return (section && directionOf(section.lines)) ?? directionOf(sdp.session) ?? 'sendrecv';
}
