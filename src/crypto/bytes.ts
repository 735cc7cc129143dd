/**
 * Byte helpers: strict hex / base64url codecs, constant-time comparison,
 * wiping, concatenation and the tiny input asserts the other wrappers use.
 *
 * Decoders are strict on purpose: a value that decodes must re-encode to the
 * exact same text, so one byte string has exactly one textual form (signed
 * documents depend on that).
 */
import { timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors.js';

/** Throws CRYPTO_BAD_LENGTH unless `value` is a Uint8Array (of `length` bytes, if given). */
export function assertBytes(
  what: string,
  value: unknown,
  length?: number,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw CryptoError.notBytes(what, value);
  if (length !== undefined && value.length !== length) {
    throw CryptoError.badLength(what, length, value.length);
  }
}

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX = /^(?:[0-9a-f]{2})*$/;

/** Strict hex: lowercase, even length, nothing else. */
export function fromHex(text: string, what = 'hex'): Uint8Array {
  if (!HEX.test(text)) throw CryptoError.badEncoding(what, 'not lowercase hex of even length');
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Base64url without padding (RFC 4648 §5). */
export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url: alphabet only, no padding, no whitespace, and canonical
 * (unused trailing bits zero), checked by re-encoding.
 */
export function fromBase64url(text: string, what = 'base64url'): Uint8Array {
  if (!B64URL.test(text) || text.length % 4 === 1) {
    throw CryptoError.badEncoding(what, 'not unpadded base64url');
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) {
    throw CryptoError.badEncoding(what, 'non-canonical base64url');
  }
  return new Uint8Array(bytes);
}

/** Constant-time equality for equal-length inputs; different lengths are simply unequal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Overwrites secret material in place. */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 encoding of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
