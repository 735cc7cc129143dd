/** Hash wrappers: SHA-256 and BLAKE2b from @noble/hashes, plus the labelled hash. */
import { blake2b as nobleBlake2b } from '@noble/hashes/blake2.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from './bytes.js';
import { labelled, type NsLabel } from './ns.js';

export function sha256(data: Uint8Array): Uint8Array {
  assertBytes('sha256 input', data);
  return nobleSha256(data);
}

/** BLAKE2b with a digest length of 1..64 bytes (default 32), optionally keyed. */
export function blake2b(data: Uint8Array, length = 32, key?: Uint8Array): Uint8Array {
  assertBytes('blake2b input', data);
  if (!Number.isInteger(length) || length < 1 || length > 64) {
    throw new RangeError(`blake2b: digest length ${length} not in 1..64`);
  }
  if (key !== undefined) assertBytes('blake2b key', key);
  return nobleBlake2b(data, key === undefined ? { dkLen: length } : { dkLen: length, key });
}

/**
 * BLAKE2b-256 of `labelled(label, data)`. BLAKE2b because it is what HyperDHT
 * and libsodium (`crypto_generichash`) use, so other implementations can
 * compute our lookup keys with the library they already have.
 */
export function labelledHash(label: NsLabel, data: Uint8Array): Uint8Array {
  return blake2b(labelled(label, data), 32);
}
