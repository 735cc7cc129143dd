/**
 * SDP parser (RFC 8866 §5, §9) and serializer, pure. The parser splits the
 * body into lines, keeps each one as it came (see ./model.ts), and validates
 * the lines a proxy must understand to relay media — `v=`, `o=`, `c=`, `m=`,
 * `a=rtcp` — so that everything read later from the model is known good.
 * Everything else (unknown attributes, `b=`, `t=`, ICE, crypto, even unknown
 * type letters) passes through untouched.
 *
 * Lenient where real clients differ from the grammar and a proxy loses
 * nothing by tolerating it: bare LF line ends, a missing final CRLF, trailing
 * blank lines, runs of spaces between fields, lines in an unusual order, no
 * `s=`/`t=`. Strict where a mistake would misdirect media: the fields above.
 * Every failure is an {@link SdpError}; nothing else is thrown for any input.
 */
import { SdpError } from './errors.js';
import {
  type Eol,
  type MediaSection,
  parseConnection,
  parseMediaLine,
  parseOrigin,
  parseRtcp,
  type Sdp,
  type SdpLine,
  splitAttribute,
} from './model.js';

/** Largest SDP body accepted (bytes). Voice offers are well under 2 KiB. */
export const MAX_SDP_BYTES = 65_536;
/** Most lines accepted. */
export const MAX_SDP_LINES = 2_000;

/** Bytes → binary string (one char per byte) and back: any charset round trips. */
export function bytesToBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function binaryToBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/**
 * Parses an SDP body. Bytes are taken as they are; a string is first encoded
 * as UTF-8 (so `parseSdp(text)` and `parseSdp(utf8(text))` agree).
 */
export function parseSdp(input: Uint8Array | string): Sdp {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  if (bytes.length > MAX_SDP_BYTES) {
    throw SdpError.tooLarge(`SDP of ${bytes.length} bytes exceeds ${MAX_SDP_BYTES}`);
  }
  const text = bytesToBinary(bytes);
  const { lines, trailer } = splitLines(text);
  if (lines.length > MAX_SDP_LINES) {
    throw SdpError.tooLarge(`SDP of ${lines.length} lines exceeds ${MAX_SDP_LINES}`);
  }

  const first = lines[0];
  if (first?.type !== 'v' || first.value !== '0') {
    throw SdpError.badVersion(first ? `${first.type}=${first.value}` : '');
  }

  const session: SdpLine[] = [];
  const media: SdpLine[][] = [];
  let originSeen = false;
  let sessionConnectionSeen = false;
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.type === 'm') {
      parseMediaLine(line.value, n);
      media.push([line]);
      return;
    }
    const current = media[media.length - 1];
    if (line.type === 'v' && i > 0) throw SdpError.duplicateLine('v', n);
    if (line.type === 'o') {
      if (current || originSeen) throw SdpError.duplicateLine('o', n);
      parseOrigin(line.value, n);
      originSeen = true;
    }
    if (line.type === 'c') {
      parseConnection(line.value, n);
      if (!current) {
        if (sessionConnectionSeen) throw SdpError.duplicateLine('c', n);
        sessionConnectionSeen = true;
      }
    }
    if (line.type === 'a') {
      const attr = splitAttribute(line.value);
      if (attr.name === 'rtcp') parseRtcp(attr.value ?? '', n);
    }
    (current ?? session).push(line);
  });
  if (!originSeen) throw SdpError.missingLine('o');

  return {
    session,
    media: media.map((l): MediaSection => ({ lines: l })),
    trailer,
  };
}

function splitLines(text: string): { lines: SdpLine[]; trailer: string } {
  const lines: SdpLine[] = [];
  let pos = 0;
  let n = 0;
  while (pos < text.length) {
    n++;
    if (n > MAX_SDP_LINES + 1) break;
    const lf = text.indexOf('\n', pos);
    const end = lf < 0 ? text.length : lf;
    const crlf = lf > pos && text.charCodeAt(lf - 1) === 13;
    const content = text.slice(pos, crlf ? end - 1 : end);
    const eol: Eol = lf < 0 ? '' : crlf ? '\r\n' : '\n';
    if (content.length === 0) {
      // Blank lines are tolerated only at the very end (some UAs add one).
      const rest = text.slice(pos);
      if (!/^(?:\r?\n)*$/.test(rest)) throw SdpError.badSyntax('empty line', n);
      return { lines, trailer: rest };
    }
    lines.push(parseLine(content, eol, n));
    pos = lf < 0 ? text.length : lf + 1;
  }
  return { lines, trailer: '' };
}

function parseLine(content: string, eol: Eol, n: number): SdpLine {
  const type = content.charAt(0);
  if (!/^[a-z]$/.test(type) || content.charAt(1) !== '=') {
    throw SdpError.badSyntax(
      `not a <type>=<value> line: ${JSON.stringify(content.slice(0, 40))}`,
      n,
    );
  }
  const value = content.slice(2);
  // RFC 8866 §9: text is any byte but NUL, CR and LF.
  if (/[\0\r]/.test(value)) throw SdpError.badSyntax('NUL or bare CR in a line', n);
  return { type, value, eol };
}

/** The body as bytes, exactly as parsed where nothing was rewritten. */
export function serializeSdp(sdp: Sdp): Uint8Array {
  return binaryToBytes(sdpToBinary(sdp));
}

/** The body as a binary string (one char per byte). */
export function sdpToBinary(sdp: Sdp): string {
  let out = '';
  for (const l of sdp.session) out += `${l.type}=${l.value}${l.eol}`;
  for (const m of sdp.media) for (const l of m.lines) out += `${l.type}=${l.value}${l.eol}`;
  return out + sdp.trailer;
}

/** The body as readable text (UTF-8 decoded), for logs and tests. */
export function sdpToText(sdp: Sdp): string {
  return new TextDecoder().decode(serializeSdp(sdp));
}
