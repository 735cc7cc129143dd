/**
 * Character classes of the RFC 3261 §25.1 grammar as one lookup table, and the
 * small scanning helpers every parser in this folder shares. A table lookup per
 * character keeps the parsers linear and regex-free on the hot path.
 */

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const C_TOKEN = 1;
/** word (Call-ID) = token chars plus ( ) < > : \ " / [ ] ? { } */
export const C_WORD = 2;
/** unreserved = alphanum / mark; mark = - _ . ! ~ * ' ( ) */
export const C_UNRESERVED = 4;
/** user = unreserved / user-unreserved (& = + $ , ; ? /) */
export const C_USER = 8;
/** password = unreserved / & = + $ , */
export const C_PASSWORD = 16;
/** paramchar = unreserved / param-unreserved ([ ] / : & + $) */
export const C_PARAM = 32;
/** hname / hvalue = unreserved / hnv-unreserved ([ ] / ? : + $) */
export const C_HNV = 64;
/** hostname characters: alphanum / "-" / "." */
export const C_HOST = 128;
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export const C_SCHEME = 256;
export const C_DIGIT = 512;
export const C_HEX = 1024;

const TABLE = new Uint16Array(128);

function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) TABLE[chars.charCodeAt(i)]! |= flag;
}

const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGIT = '0123456789';
const ALNUM = ALPHA + DIGIT;
const MARK = "-_.!~*'()";
mark(ALNUM + "-.!%*_+`'~", C_TOKEN);
mark(ALNUM + '-.!%*_+`\'~()<>:\\"/[]?{}', C_WORD);
mark(ALNUM + MARK, C_UNRESERVED | C_USER | C_PASSWORD | C_PARAM | C_HNV);
mark('&=+$,;?/', C_USER);
mark('&=+$,', C_PASSWORD);
mark('[]/:&+$', C_PARAM);
mark('[]/?:+$', C_HNV);
mark(ALNUM + '-.', C_HOST);
mark(ALNUM + '+-.', C_SCHEME);
mark(DIGIT, C_DIGIT);
mark(DIGIT + 'abcdefABCDEF', C_HEX);

/** True when the UTF-16 code unit `c` is ASCII and in class `flag`. */
export function is(c: number, flag: number): boolean {
  return c < 128 && (TABLE[c]! & flag) !== 0;
}

/** True when `s` is non-empty and every character is in class `flag`. */
export function allOf(s: string, flag: number): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (TABLE[c]! & flag) === 0) return false;
  }
  return true;
}

export function isToken(s: string): boolean {
  return allOf(s, C_TOKEN);
}

/** SP or HTAB (the only whitespace SIP knows inside a line). */
export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Index of the first non-SP/HT character at or after `i` (≤ end). */
export function skipWs(s: string, i: number, end: number = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Trim SP/HT only (String.prototype.trim also eats NBSP, VT, FF, …). */
export function trimWs(s: string, start = 0, end: number = s.length): string {
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Index just past the token starting at `i` (i itself if none). */
export function scanToken(s: string, i: number, end: number = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (TABLE[c]! & C_TOKEN) === 0) break;
    i++;
  }
  return i;
}

/**
 * Index just past the quoted-string opening at `i` (s[i] === '"'), or -1 when
 * it is unterminated or holds a raw control character (qdtext excludes them;
 * quoted-pair may escape any octet but CR and LF). RFC 3261 §25.1.
 */
export function scanQuoted(s: string, i: number, end: number = s.length): number {
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      if (i + 1 >= end) return -1;
      const n = s.charCodeAt(i + 1);
      if (n === 0x0a || n === 0x0d) return -1;
      i += 2;
      continue;
    }
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return -1;
    i++;
  }
  return -1;
}

/** The content of a quoted-string (with or without its quotes), quoted-pairs resolved. */
export function unquote(s: string): string {
  let start = 0;
  let end = s.length;
  if (end >= 2 && s.charCodeAt(0) === 0x22 && s.charCodeAt(end - 1) === 0x22) {
    start = 1;
    end--;
  }
  const bs = s.indexOf('\\', start);
  if (bs === -1 || bs >= end) return s.slice(start, end);
  let out = '';
  for (let i = start; i < end; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < end) {
      out += s[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/**
 * Wrap `s` as a quoted-string, escaping `"` and `\` and control characters.
 * CR and LF cannot be carried by a quoted-string: they yield `undefined`.
 */
export function quote(s: string): string | undefined {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) return undefined;
    if (c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f) out += '\\';
    out += s[i];
  }
  return out + '"';
}

/** Parse 1*DIGIT in s[start,end); -1 if empty or not all digits; Infinity past 2^53. */
export function parseDigits(s: string, start = 0, end: number = s.length): number {
  if (start >= end) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : n;
}

/** ASCII lowercase, without allocating when `s` has no uppercase letter. */
export function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}

/** ASCII uppercase, without allocating when `s` has no lowercase letter. */
export function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return s.toUpperCase();
  }
  return s;
}
