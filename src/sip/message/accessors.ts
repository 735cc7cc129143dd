/**
 * Structured views of the headers every SIP element reads (RFC 3261 §8.1.1,
 * §20). `msg.headers` stays the single source of truth: each accessor parses
 * the raw value on demand and caches the result per header line (in a private
 * field of the message), keyed by the HeaderField object and checked against
 * its current value, so a changed or replaced line is parsed afresh. Returned views are shared between callers:
 * treat them as read-only and change a message through `msg.set()` & co.
 *
 * Malformed values throw SipError naming the header (`detail.header`).
 */
import { SipError } from '../errors.js';
import { C_WORD, is, parseDigits, trimWs } from './chars.js';
import { parseCSeq } from './cseq.js';
import { splitList } from './list.js';
import { type HeaderField, headerViews, type SipMessage } from './message.js';
import { parseNameAddr } from './name-addr.js';
import type { CSeq, NameAddr, Via } from './types.js';
import { parseVia } from './via.js';

function cached<T>(msg: SipMessage, h: HeaderField, kind: number, parse: (v: string) => T): T {
  const views = headerViews(msg);
  const e = views.get(h);
  if (e !== undefined && e.raw === h.value && e.kind === kind) return e.value as T;
  const value = parse(h.value);
  views.set(h, { raw: h.value, kind, value });
  return value;
}

const K_VIA = 1;
const K_FROM = 2;
const K_TO = 3;
const K_CSEQ = 4;
const K_CONTACT = 5;
const K_ROUTE = 6;
const K_RECORD_ROUTE = 7;

function first(msg: SipMessage, name: string): HeaderField | undefined {
  for (const h of msg.headers) if (h.name === name) return h;
  return undefined;
}

function required(msg: SipMessage, name: string): HeaderField {
  const h = first(msg, name);
  if (h === undefined) throw SipError.missingHeader(name);
  return h;
}

/** Every Via value in order, across header lines (RFC 3261 §7.3.1). */
export function getVias(msg: SipMessage): Via[] {
  const out: Via[] = [];
  for (const h of msg.headers) if (h.name === 'Via') out.push(...cached(msg, h, K_VIA, parseVia));
  return out;
}

/** The top Via (first value of the first Via line), or undefined when there is none. */
export function topVia(msg: SipMessage): Via | undefined {
  const h = first(msg, 'Via');
  return h === undefined ? undefined : cached(msg, h, K_VIA, parseVia)[0];
}

const parseFrom = (v: string) => parseNameAddr(v, 'From');
const parseTo = (v: string) => parseNameAddr(v, 'To');

/** From (first line). Throws MissingHeader when absent. */
export function getFrom(msg: SipMessage): NameAddr {
  return cached(msg, required(msg, 'From'), K_FROM, parseFrom);
}

/** To (first line). Throws MissingHeader when absent. */
export function getTo(msg: SipMessage): NameAddr {
  return cached(msg, required(msg, 'To'), K_TO, parseTo);
}

/** Call-ID = word [ "@" word ] (RFC 3261 §25.1). Throws MissingHeader / BadHeaderValue. */
export function getCallId(msg: SipMessage): string {
  const v = required(msg, 'Call-ID').value;
  let at = -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x40 && at === -1 && i > 0 && i < v.length - 1) at = i;
    else if (!is(c, C_WORD)) throw SipError.badHeaderValue('Call-ID', 'invalid character');
  }
  if (v.length === 0) throw SipError.badHeaderValue('Call-ID', 'empty value');
  return v;
}

/** CSeq (first line). Throws MissingHeader / BadHeaderValue / ScalarOutOfRange. */
export function getCSeq(msg: SipMessage): CSeq {
  return cached(msg, required(msg, 'CSeq'), K_CSEQ, parseCSeq);
}

function digitsHeader(msg: SipMessage, name: string, max: number): number | undefined {
  const h = first(msg, name);
  if (h === undefined) return undefined;
  const v = trimWs(h.value);
  const n = parseDigits(v);
  if (n < 0) throw SipError.badHeaderValue(name, 'not a number');
  if (n > max) throw SipError.scalarOutOfRange(name, v);
  return n;
}

/** Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 §20.22; "0068" is 68). Undefined when absent. */
export function getMaxForwards(msg: SipMessage): number | undefined {
  return digitsHeader(msg, 'Max-Forwards', 255);
}

/** Expires = delta-seconds, 0..2^32-1 (RFC 3261 §20.19). Undefined when absent. */
export function getExpires(msg: SipMessage): number | undefined {
  return digitsHeader(msg, 'Expires', 2 ** 32 - 1);
}

/** Content-Length (first line) as a number; undefined when absent; BadContentLength when malformed. */
export function getContentLength(msg: SipMessage): number | undefined {
  const h = first(msg, 'Content-Length');
  if (h === undefined) return undefined;
  const n = parseDigits(trimWs(h.value));
  if (n < 0)
    throw SipError.badContentLength(`Content-Length ${JSON.stringify(h.value)} is not 1*DIGIT`);
  return n;
}

function parseContactLine(v: string): NameAddr[] | '*' {
  const items = splitList(v);
  if (items.includes('*')) {
    if (items.length > 1) throw SipError.badHeaderValue('Contact', '"*" mixed with other contacts');
    return '*';
  }
  return items.map((item) => parseNameAddr(item, 'Contact'));
}

/**
 * Every Contact value across lines, or '*' (RFC 3261 §10.2.2: alone, the
 * wildcard of a REGISTER removing all bindings). [] when there is none.
 */
export function getContacts(msg: SipMessage): NameAddr[] | '*' {
  const out: NameAddr[] = [];
  let star = false;
  let lines = 0;
  for (const h of msg.headers) {
    if (h.name !== 'Contact') continue;
    lines++;
    const v = cached(msg, h, K_CONTACT, parseContactLine);
    if (v === '*') star = true;
    else out.push(...v);
  }
  if (star) {
    if (lines > 1 || out.length > 0)
      throw SipError.badHeaderValue('Contact', '"*" mixed with other contacts');
    return '*';
  }
  return out;
}

const parseRouteLine = (v: string) => splitList(v).map((item) => parseNameAddr(item, 'Route'));
const parseRecordRouteLine = (v: string) =>
  splitList(v).map((item) => parseNameAddr(item, 'Record-Route'));

function nameAddrList(
  msg: SipMessage,
  name: string,
  kind: number,
  parse: (v: string) => NameAddr[],
): NameAddr[] {
  const out: NameAddr[] = [];
  for (const h of msg.headers) if (h.name === name) out.push(...cached(msg, h, kind, parse));
  return out;
}

/** Every Route value in order, across lines (RFC 3261 §20.34). [] when there is none. */
export function getRoutes(msg: SipMessage): NameAddr[] {
  return nameAddrList(msg, 'Route', K_ROUTE, parseRouteLine);
}

/** Every Record-Route value in order, across lines (RFC 3261 §20.30). [] when there is none. */
export function getRecordRoutes(msg: SipMessage): NameAddr[] {
  return nameAddrList(msg, 'Record-Route', K_RECORD_ROUTE, parseRecordRouteLine);
}

/**
 * All items of a list header across its lines (RFC 3261 §7.3.1), e.g. the
 * option-tags of Require / Proxy-Require / Supported or the methods of Allow.
 */
export function getList(msg: SipMessage, name: string): string[] {
  return msg.getLines(name).flatMap(splitList);
}
