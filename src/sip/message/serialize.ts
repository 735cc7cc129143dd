/**
 * serializeMessage: SipMessage → bytes (RFC 3261 §7). Start line, header lines
 * in order as `Name: value` with canonical long names, Content-Length always
 * recomputed from the body (kept at its position, appended if absent; extra
 * Content-Length lines dropped), the empty line, the body.
 *
 * Refuses (SipError) anything that would not parse back as the same message:
 * CR/LF inside a value or reason (header injection), non-token names or
 * methods, a status outside 100-699.
 */
import { SipError } from '../errors.js';
import { isToken } from './chars.js';
import { canonicalHeaderName, type SipMessage } from './message.js';

export function serializeMessage(msg: SipMessage): Buffer {
  let head: string;
  if (msg.kind === 'request') {
    if (!isToken(msg.method))
      throw SipError.badStartLine(`malformed method ${JSON.stringify(msg.method)}`);
    if (msg.uri === '' || /[\s<>"]/.test(msg.uri)) {
      throw SipError.badUri(`malformed Request-URI ${JSON.stringify(msg.uri)}`);
    }
    checkVersion(msg.version);
    head = `${msg.method} ${msg.uri} ${msg.version}\r\n`;
  } else {
    if (!Number.isInteger(msg.status) || msg.status < 100 || msg.status > 699) {
      throw SipError.badStartLine(`status ${msg.status} out of range`);
    }
    if (hasCrLf(msg.reason)) throw SipError.badStartLine('CR or LF in reason phrase');
    checkVersion(msg.version);
    head = `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  }
  const bodyLen = msg.body.length;
  let lengthDone = false;
  for (const h of msg.headers) {
    const name = wireName(h.name);
    if (name === 'Content-Length') {
      if (!lengthDone) head += `Content-Length: ${bodyLen}\r\n`;
      lengthDone = true;
      continue;
    }
    if (hasCrLf(h.value)) throw SipError.badHeaderValue(name, 'CR or LF in value');
    head += `${name}: ${h.value}\r\n`;
  }
  if (!lengthDone) head += `Content-Length: ${bodyLen}\r\n`;
  head += '\r\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + bodyLen);
  out.write(head, 0, headLen, 'utf8');
  out.set(msg.body, headLen);
  return out;
}

/** Names as held → canonical, validated as tokens; bounded so odd input cannot grow it. */
const NAMES = new Map<string, string>();
function wireName(held: string): string {
  let name = NAMES.get(held);
  if (name === undefined) {
    name = canonicalHeaderName(held);
    if (!isToken(name)) throw SipError.badHeader(`malformed header name ${JSON.stringify(name)}`);
    if (NAMES.size < 1024) NAMES.set(held, name);
  }
  return name;
}

function hasCrLf(s: string): boolean {
  return s.indexOf('\r') !== -1 || s.indexOf('\n') !== -1;
}

function checkVersion(v: string): void {
  if (v === '' || /[\s]/.test(v))
    throw SipError.badStartLine(`malformed version ${JSON.stringify(v)}`);
}
