/**
 * Rewriting SDP for a media relay: per stream, the connection address (`c=`),
 * the port (`m=`) and the RTCP port/address (`a=rtcp`, RFC 3605); plus the
 * small edits the relay needs (origin address, private attributes, ICE
 * lines). Pure: each function returns a new Sdp and only the lines it changes
 * are re-formatted; every other line stays byte for byte.
 *
 * Rules (docs/media.md):
 * - A stream with port 0 (rejected or disabled, RFC 3264 §6) is never touched:
 *   its port stays 0, and the callback is not asked about it.
 * - A stream's address lives where it was: its own `c=` lines are replaced by
 *   one `c=` with the new address. A stream that inherits the session `c=`
 *   changes the session line when every stream inheriting it wants the same
 *   new address; otherwise it gets its own `c=` inserted after `m=`/`i=`.
 * - `a=rtcp` is rewritten in place (keeping an address part, updated to the
 *   new address); when absent, one is added only if RTCP is not on port + 1,
 *   the default of RFC 3550 §11.
 * - Direction attributes (`sendonly`, `inactive`, … hold) and `a=rtcp-mux`
 *   are not touched.
 */

import { SdpError } from './errors.js';
import {
  type Connection,
  type Direction,
  direction,
  type Eol,
  effectiveConnection,
  formatConnection,
  formatMediaLine,
  formatOrigin,
  formatRtcp,
  isRtcpMux,
  type MediaLine,
  type MediaSection,
  mediaLine,
  origin,
  ownConnection,
  parseConnection,
  parseRtcp,
  type RtcpAttribute,
  rtcpAttribute,
  type Sdp,
  type SdpLine,
  splitAttribute,
} from './model.js';

/** What the rewrite callback sees of one stream (port ≠ 0). */
export interface StreamView {
  readonly index: number;
  readonly media: MediaLine;
  /** The `c=` in effect: the stream's own, else the session's; undefined if neither exists. */
  readonly connection: Connection | undefined;
  readonly rtcp: RtcpAttribute | undefined;
  readonly rtcpMux: boolean;
  readonly direction: Direction;
}

/** A new address for a stream: `IN <addrType> <address>`. */
export interface Address {
  readonly addrType: 'IP4' | 'IP6';
  readonly address: string;
}

/** What to change in one stream; an omitted field is kept. */
export interface StreamRewrite {
  readonly address?: Address;
  /** New `m=` port; 0 disables the stream. */
  readonly port?: number;
  /** New RTCP port. */
  readonly rtcpPort?: number;
}

/** The streams of `sdp` as the rewrite callback sees them, port-0 streams included. */
export function streams(sdp: Sdp): StreamView[] {
  return sdp.media.map((section, index) => ({
    index,
    media: mediaLine(section),
    connection: effectiveConnection(sdp, index),
    rtcp: rtcpAttribute(section),
    rtcpMux: isRtcpMux(section),
    direction: direction(sdp, index),
  }));
}

function assertPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${what} must be an integer in 0..65535, got ${port}`);
  }
}

function connectionFor(address: Address): Connection {
  const c: Connection = { netType: 'IN', addrType: address.addrType, address: address.address };
  // Validates the address the caller supplied (e.g. no spaces).
  parseConnection(formatConnection(c));
  return c;
}

/**
 * Rewrites addresses and ports stream by stream. `fn` is called for every
 * stream whose port is not 0 and returns what to change (or undefined).
 * Throws SdpError only for a rewrite that cannot be expressed (a bad address);
 * RangeError for a port outside 0..65535 (a caller bug).
 */
export function rewriteSdp(sdp: Sdp, fn: (stream: StreamView) => StreamRewrite | undefined): Sdp {
  const views = streams(sdp);
  const changes = views.map((v) => (v.media.port === 0 ? undefined : fn(v)));
  const eol = eolStyle(sdp);

  // Where does each new address go: the session c= or the stream's own?
  const sessionC = sdp.session.find((l) => l.type === 'c');
  const inheriting = views.filter(
    (v) => v.media.port !== 0 && ownConnection(sdp.media[v.index]!) === undefined,
  );
  const wanted = new Set(
    inheriting.map((v) => {
      const a = changes[v.index]?.address;
      return a ? formatConnection(connectionFor(a)) : sessionC?.value;
    }),
  );
  const onlyWanted = [...wanted][0];
  const rewriteSession = sessionC !== undefined && wanted.size === 1 && onlyWanted !== undefined;

  let session = sdp.session;
  if (rewriteSession && onlyWanted !== sessionC.value) {
    session = session.map((l) => (l === sessionC ? { ...l, value: onlyWanted } : l));
  }

  const media = sdp.media.map((section, i): MediaSection => {
    const change = changes[i];
    if (!change) return section;
    const view = views[i]!;
    let lines = [...section.lines];
    const newC = change.address ? connectionFor(change.address) : undefined;

    if (change.port !== undefined) {
      assertPort(change.port, 'port');
      const m: MediaLine = { ...view.media, port: change.port };
      lines[0] = { ...lines[0]!, value: formatMediaLine(m) };
    }

    if (newC) {
      const own = lines.findIndex((l) => l.type === 'c');
      if (own >= 0) {
        lines = lines.filter((l, j) => l.type !== 'c' || j === own);
        lines[own] = { ...lines[own]!, value: formatConnection(newC) };
      } else if (!rewriteSession) {
        let at = 1;
        while (lines[at]?.type === 'i') at++;
        lines = insertLine(lines, at, 'c', formatConnection(newC), eol);
      }
    }

    if (change.rtcpPort !== undefined) {
      assertPort(change.rtcpPort, 'rtcpPort');
      lines = rewriteRtcp(lines, change.rtcpPort, newC, change.port ?? view.media.port, eol);
    }
    return { lines };
  });

  return { session, media, trailer: sdp.trailer };
}

function rewriteRtcp(
  lines: SdpLine[],
  rtcpPort: number,
  newC: Connection | undefined,
  rtpPort: number,
  eol: Eol,
): SdpLine[] {
  let found = false;
  const out = lines.map((l) => {
    if (l.type !== 'a') return l;
    const a = splitAttribute(l.value);
    if (a.name !== 'rtcp') return l;
    found = true;
    const old = parseRtcp(a.value ?? '');
    const connection = old.connection ? (newC ?? old.connection) : undefined;
    const next: RtcpAttribute = connection ? { port: rtcpPort, connection } : { port: rtcpPort };
    return { ...l, value: `rtcp:${formatRtcp(next)}` };
  });
  if (found || rtcpPort === rtpPort + 1) return out;
  return insertLine(out, out.length, 'a', `rtcp:${rtcpPort}`, eol);
}

/** The line ending new lines get: the body's own (first line's), CRLF if it has none. */
function eolStyle(sdp: Sdp): Eol {
  const first = sdp.session[0]?.eol;
  return first === '\n' ? '\n' : '\r\n';
}

/**
 * Inserts a line at `at`. A line at the end of a body without a final line
 * ending takes over the "no ending" and the old last line gets one.
 */
function insertLine(
  lines: SdpLine[],
  at: number,
  type: string,
  value: string,
  eol: Eol,
): SdpLine[] {
  const out = [...lines];
  const prev = out[at - 1];
  if (at === out.length && prev && prev.eol === '') {
    out[at - 1] = { ...prev, eol };
    out.splice(at, 0, { type, value, eol: '' });
  } else {
    out.splice(at, 0, { type, value, eol });
  }
  return out;
}

function withMedia(sdp: Sdp, media: MediaSection[]): Sdp {
  return { session: sdp.session, media, trailer: sdp.trailer };
}

/**
 * Replaces the origin's address (`o=… IN IP4 <address>`): a relay must not
 * pass its softphone's address on. Other `o=` fields stay.
 */
export function setOriginAddress(sdp: Sdp, address: Address): Sdp {
  const o = origin(sdp);
  const value = formatOrigin({ ...o, addrType: address.addrType, address: address.address });
  connectionFor(address);
  return {
    ...sdp,
    session: sdp.session.map((l) => (l.type === 'o' ? { ...l, value } : l)),
  };
}

/**
 * Removes attribute lines, session and media level, for which `drop(name)`
 * is true. The last line keeps "no final line ending" if it had it.
 */
export function removeAttributes(sdp: Sdp, drop: (name: string) => boolean): Sdp {
  const keep = (lines: readonly SdpLine[]): SdpLine[] =>
    lines.filter((l) => l.type !== 'a' || !drop(splitAttribute(l.value).name));
  const session = keep(sdp.session);
  const media = sdp.media.map((m): MediaSection => ({ lines: keep(m.lines) }));
  return fixLastEol(sdp, { session, media, trailer: sdp.trailer });
}

/** If the original body ended without a line ending, the new last line ends without one too. */
function fixLastEol(before: Sdp, after: Sdp): Sdp {
  const lastBefore = lastLine(before);
  const lastAfter = lastLine(after);
  if (!lastBefore || !lastAfter || lastBefore.eol !== '' || lastAfter.eol === '') return after;
  const drop = (lines: readonly SdpLine[]): SdpLine[] =>
    lines.map((l) => (l === lastAfter ? { ...l, eol: '' as Eol } : l));
  // Any line that lost its "last" role but had no ending gets one.
  const mend = (lines: readonly SdpLine[]): SdpLine[] =>
    lines.map((l) => (l !== lastAfter && l.eol === '' ? { ...l, eol: eolStyle(before) } : l));
  return {
    session: drop(mend(after.session)),
    media: after.media.map((m) => ({ lines: drop(mend(m.lines)) })),
    trailer: after.trailer,
  };
}

function lastLine(sdp: Sdp): SdpLine | undefined {
  const m = sdp.media[sdp.media.length - 1];
  return m ? m.lines[m.lines.length - 1] : sdp.session[sdp.session.length - 1];
}

/**
 * Sets media attribute `name` of stream `index` to `value` (one line,
 * replacing any existing ones; appended at the section's end when new), or
 * removes it when `value` is null. `value` '' writes a flag (`a=name`).
 */
export function setMediaAttribute(
  sdp: Sdp,
  index: number,
  name: string,
  value: string | null,
): Sdp {
  const section = sdp.media[index];
  if (!section) throw new RangeError(`no media stream ${index}`);
  if (
    !/^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/.test(name) ||
    (value !== null && /[\0\r\n]/.test(value))
  ) {
    throw SdpError.badAttribute(`${name}:${value ?? ''}`);
  }
  const text = value === null || value === '' ? name : `${name}:${value}`;
  let replaced = false;
  const lines: SdpLine[] = [];
  for (const l of section.lines) {
    if (l.type === 'a' && splitAttribute(l.value).name === name) {
      if (value !== null && !replaced) lines.push({ ...l, value: text });
      replaced = true;
      continue;
    }
    lines.push(l);
  }
  let next = lines;
  if (value !== null && !replaced) next = insertLine(lines, lines.length, 'a', text, eolStyle(sdp));
  const media = sdp.media.map((m, i) => (i === index ? { lines: next } : m));
  return fixLastEol(sdp, withMedia(sdp, media));
}
