/** Shared helpers for the SIP message tests. */
import assert from 'node:assert/strict';
import { SipError, type SipErrorCode } from '../../../../src/sip/errors.js';

/** Build a message from lines joined with CRLF (the last element is the body). */
export function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'));
}

/** Assert that `fn` throws a SipError with `code` (and, if given, detail.header); returns it. */
export function throwsSip(fn: () => unknown, code: SipErrorCode, header?: string): SipError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SipError, `expected SipError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (header !== undefined) assert.equal(caught.detail?.header, header);
  return caught;
}
