/** CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number is below 2^31. */
import { SipError } from '../errors.js';
import { isToken, isWsp, parseDigits, scanToken, skipWs, trimWs } from './chars.js';
import type { CSeq } from './types.js';

export const MAX_CSEQ = 2 ** 31 - 1;

/** Parse a CSeq value. Throws BadHeaderValue, or ScalarOutOfRange past 2^31-1. */
export function parseCSeq(value: string): CSeq {
  const s = trimWs(value);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === 0) throw SipError.badHeaderValue('CSeq', 'missing sequence number');
  if (i === s.length || !isWsp(s.charCodeAt(i))) {
    throw SipError.badHeaderValue('CSeq', 'expected whitespace and a method after the number');
  }
  const seq = parseDigits(s, 0, i);
  if (seq > MAX_CSEQ) throw SipError.scalarOutOfRange('CSeq', s.slice(0, i));
  const m = skipWs(s, i);
  if (scanToken(s, m) !== s.length || m === s.length) {
    throw SipError.badHeaderValue('CSeq', 'malformed method');
  }
  return { seq, method: s.slice(m) };
}

export function formatCSeq(c: CSeq): string {
  if (!Number.isInteger(c.seq) || c.seq < 0 || c.seq > MAX_CSEQ) {
    throw SipError.scalarOutOfRange('CSeq', String(c.seq));
  }
  if (!isToken(c.method)) throw SipError.badHeaderValue('CSeq', 'malformed method');
  return `${c.seq} ${c.method}`;
}
