/**
 * Header parameters: *( SEMI generic-param ), generic-param = token [ EQUAL
 * gen-value ], gen-value = token / host / quoted-string (RFC 3261 §25.1).
 * SEMI and EQUAL allow whitespace on both sides. Names are lowercased; values
 * are kept as written (a quoted-string keeps its quotes: use `unquote`).
 */
import { SipError } from '../errors.js';
import { C_TOKEN, is, lower, scanQuoted, scanToken, skipWs } from './chars.js';

/** token chars plus ":" "[" "]" (host values such as received=2001:db8::1 or [::1]). */
function isValueChar(c: number): boolean {
  return is(c, C_TOKEN) || c === 0x3a || c === 0x5b || c === 0x5d;
}

/**
 * Parse parameters from s[i] up to `end` or a top-level "," (whose index is
 * returned; `end` otherwise). Throws BadHeaderValue naming `header`.
 */
export function parseParams(
  s: string,
  i: number,
  end: number,
  params: Map<string, string | null>,
  header: string,
): number {
  for (;;) {
    i = skipWs(s, i, end);
    if (i >= end) return end;
    const c = s.charCodeAt(i);
    if (c === 0x2c) return i;
    if (c !== 0x3b) throw SipError.badHeaderValue(header, `unexpected ${JSON.stringify(s[i])}`);
    i = skipWs(s, i + 1, end);
    const nameEnd = scanToken(s, i, end);
    if (nameEnd === i) throw SipError.badHeaderValue(header, 'empty parameter');
    const name = lower(s.slice(i, nameEnd));
    let value: string | null = null;
    i = skipWs(s, nameEnd, end);
    if (i < end && s.charCodeAt(i) === 0x3d) {
      i = skipWs(s, i + 1, end);
      let j: number;
      if (s.charCodeAt(i) === 0x22) {
        j = scanQuoted(s, i, end);
        if (j === -1) throw SipError.badHeaderValue(header, `bad quoted value of ${name}`);
      } else {
        j = i;
        while (j < end && isValueChar(s.charCodeAt(j))) j++;
      }
      if (j === i) throw SipError.badHeaderValue(header, `empty value of parameter ${name}`);
      value = s.slice(i, j);
      i = j;
    } else i = nameEnd;
    if (!params.has(name)) params.set(name, value);
  }
}

/** Render parameters as ";name" / ";name=value", refusing anything that would not parse back. */
export function formatParams(params: ReadonlyMap<string, string | null>, header: string): string {
  let out = '';
  for (const [name, value] of params) {
    if (scanToken(name, 0) !== name.length || name.length === 0) {
      throw SipError.badHeaderValue(header, `bad parameter name ${JSON.stringify(name)}`);
    }
    out += ';' + name;
    if (value === null) continue;
    let ok = value.length > 0;
    if (ok && value.charCodeAt(0) === 0x22) ok = scanQuoted(value, 0) === value.length;
    else for (let k = 0; ok && k < value.length; k++) ok = isValueChar(value.charCodeAt(k));
    if (!ok) throw SipError.badHeaderValue(header, `bad value of parameter ${name}`);
    out += '=' + value;
  }
  return out;
}
