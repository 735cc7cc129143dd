/**
 * Comma-separated header values (RFC 3261 §7.3.1): commas inside a
 * quoted-string (with backslash escapes) or inside <...> do not separate.
 */
import { trimWs } from './chars.js';

/** Split a list header value into trimmed, non-empty items. */
export function splitList(value: string): string[] {
  if (value.indexOf(',') === -1) {
    const only = trimWs(value);
    return only === '' ? [] : [only];
  }
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) {
      const item = trimWs(value, start, i);
      if (item !== '') out.push(item);
      start = i + 1;
    }
  }
  const last = trimWs(value, start, value.length);
  if (last !== '') out.push(last);
  return out;
}
