/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 * `"Display" <uri>;p=v`, `Token Token <uri>;p`, or `uri;p` where, in the
 * addr-spec form, everything after the first ";" is a header parameter.
 */
import { SipError } from '../errors.js';
import { isWsp, quote, scanQuoted, scanToken, skipWs, unquote } from './chars.js';
import { formatParams, parseParams } from './params.js';
import type { NameAddr } from './types.js';
import { formatUri, parseUriIn } from './uri.js';

/** Parse one name-addr or addr-spec with its parameters. Throws SipError (BadHeaderValue / BadUri). */
export function parseNameAddr(value: string, header = 'name-addr'): NameAddr {
  const s = value;
  let end = s.length;
  while (end > 0 && isWsp(s.charCodeAt(end - 1))) end--;
  let i = skipWs(s, 0, end);
  if (i >= end) throw SipError.badHeaderValue(header, 'empty value');
  let displayName: string | undefined;

  if (s.charCodeAt(i) === 0x22) {
    const q = scanQuoted(s, i, end);
    if (q === -1) throw SipError.badHeaderValue(header, 'malformed quoted display name');
    displayName = unquote(s.slice(i, q));
    // RFC 4475 §3.1.1.6 (lwsdisp): LWS between the display name and "<" is optional.
    i = skipWs(s, q, end);
    if (s.charCodeAt(i) !== 0x3c)
      throw SipError.badHeaderValue(header, 'expected "<" after display name');
  } else {
    const lt = s.indexOf('<', i);
    if (lt === -1 || lt >= end) return parseAddrSpec(s, i, end, header);
    if (lt > i) {
      // display-name = *(token LWS): RFC 4475 §3.1.2.15 (baddn) rejects other characters.
      const tokens: string[] = [];
      let j = i;
      while (j < lt) {
        const t = scanToken(s, j, lt);
        if (t === j) throw SipError.badHeaderValue(header, 'non-token characters in display name');
        tokens.push(s.slice(j, t));
        j = skipWs(s, t, lt);
      }
      displayName = tokens.join(' ');
    }
    i = lt;
  }

  const gt = s.indexOf('>', i);
  if (gt === -1 || gt >= end) throw SipError.badHeaderValue(header, 'missing ">"');
  // No trimming inside <>: RFC 4475 §3.1.2.14 (badaspec) rejects spaces there.
  const uri = parseUriIn(s, i + 1, gt, header);
  const params = new Map<string, string | null>();
  const stop = parseParams(s, gt + 1, end, params, header);
  if (stop !== end) throw SipError.badHeaderValue(header, 'unexpected ","');
  const na: NameAddr = { uri, params };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

function parseAddrSpec(s: string, i: number, end: number, header: string): NameAddr {
  let uriEnd = s.indexOf(';', i);
  if (uriEnd === -1 || uriEnd > end) uriEnd = end;
  let j = uriEnd;
  while (j > i && isWsp(s.charCodeAt(j - 1))) j--;
  // RFC 3261 §20.10: a URI with ",", "?" or ";" must be enclosed in <>
  // (RFC 4475 §3.1.2.13 regbadct).
  for (let k = i; k < j; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x2c || c === 0x3f) {
      throw SipError.badUri(`URI with "${s[k]}" must be enclosed in <> (${header})`, header);
    }
  }
  const uri = parseUriIn(s, i, j, header);
  const params = new Map<string, string | null>();
  const stop = parseParams(s, uriEnd, end, params, header);
  if (stop !== end) throw SipError.badHeaderValue(header, 'unexpected ","');
  return { uri, params };
}

/** Render as name-addr (`"Display" <uri>;params`); the <> form is valid wherever addr-spec is. */
export function formatNameAddr(na: NameAddr, header = 'name-addr'): string {
  let out = '';
  if (na.displayName !== undefined) {
    const q = quote(na.displayName);
    if (q === undefined) throw SipError.badHeaderValue(header, 'display name contains CR or LF');
    out = q + ' ';
  }
  return out + '<' + formatUri(na.uri) + '>' + formatParams(na.params, header);
}
