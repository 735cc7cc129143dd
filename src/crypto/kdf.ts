/** HKDF-SHA256 (RFC 5869) from @noble/hashes, and the labelled form p2psip uses. */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from './bytes.js';
import { labelled, type NsLabel } from './ns.js';

/** Plain RFC 5869 HKDF-SHA256. `length` ≤ 255·32 bytes. */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Uint8Array {
  assertBytes('hkdf ikm', ikm);
  if (salt !== undefined) assertBytes('hkdf salt', salt);
  assertBytes('hkdf info', info);
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError(`hkdf: output length ${length} not in 1..8160`);
  }
  return hkdf(sha256, ikm, salt, info, length);
}

/**
 * HKDF-SHA256 with info = UTF-8(label) ‖ 0x00 ‖ context: every derived key in
 * p2psip is bound to one NS label (and to its context, e.g. two AORs in a fixed order).
 */
export function deriveKey(
  label: NsLabel,
  ikm: Uint8Array,
  opts: { salt?: Uint8Array; context?: Uint8Array; length?: number } = {},
): Uint8Array {
  const context = opts.context ?? new Uint8Array(0);
  assertBytes('kdf context', context);
  return hkdfSha256(ikm, opts.salt, labelled(label, context), opts.length ?? 32);
}
