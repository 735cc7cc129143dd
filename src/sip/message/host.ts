/**
 * host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1), validated
 * without regular expressions and without node:net (the SIP core has no I/O).
 */
import { C_HEX, C_HOST, is } from './chars.js';

/** dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading-zero checks beyond 3 digits. */
export function isIPv4(s: string, start = 0, end: number = s.length): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 0x2e : s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else return false;
  }
  return parts === 4;
}

/** RFC 4291 text form (the IPv6address rule of RFC 3261 §25.1), brackets excluded. */
export function isIPv6(s: string, start = 0, end: number = s.length): boolean {
  const len = end - start;
  if (len < 2 || len > 45) return false;
  const text = s.slice(start, end);
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return false;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? '' : text.slice(dbl + 2);
  const parts = [...(head ? head.split(':') : []), ...(tail ? tail.split(':') : [])];
  // An embedded IPv4 address may only end the address (not "1.2.3.4::").
  const v4Allowed = dbl === -1 || tail !== '';
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (v4Allowed && i === parts.length - 1 && p.includes('.')) {
      if (!isIPv4(p)) return false;
      groups += 2;
      continue;
    }
    if (p.length === 0 || p.length > 4) return false;
    for (let j = 0; j < p.length; j++) if (!is(p.charCodeAt(j), C_HEX)) return false;
    groups++;
  }
  return dbl === -1 ? groups === 8 : groups <= 7;
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ]: labels of alphanum and
 * inner "-". A name of digits and dots only must be a valid IPv4 address
 * (toplabel starts with ALPHA), so "1.2.3.999" is rejected.
 */
export function isHostname(s: string, start = 0, end: number = s.length): boolean {
  if (start >= end) return false;
  let labelStart = start;
  let allNumeric = true;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 0x2e : s.charCodeAt(i);
    if (c === 0x2e) {
      if (i === labelStart) {
        // Empty label: only allowed as the trailing "." of an FQDN.
        if (i === end && i > start) break;
        return false;
      }
      if (s.charCodeAt(labelStart) === 0x2d || s.charCodeAt(i - 1) === 0x2d) return false;
      labelStart = i + 1;
    } else if (!is(c, C_HOST)) return false;
    else if (c < 0x30 || c > 0x39) {
      if (c !== 0x2d) allNumeric = false;
    }
  }
  return allNumeric ? isIPv4(s, start, s.charCodeAt(end - 1) === 0x2e ? end - 1 : end) : true;
}

/** Any host form; IPv6 only as a bracketed reference. */
export function isHost(s: string, start = 0, end: number = s.length): boolean {
  if (start < end && s.charCodeAt(start) === 0x5b) {
    return s.charCodeAt(end - 1) === 0x5d && isIPv6(s, start + 1, end - 1);
  }
  return isHostname(s, start, end);
}
