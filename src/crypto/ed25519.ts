/**
 * Ed25519 (RFC 8032) from @noble/curves. Secret keys are the 32-byte seed;
 * `verify` is strict RFC 8032 / FIPS 186-5 (`zip215: false`): non-canonical
 * encodings are rejected, as libsodium (HyperDHT) rejects them, so a signature
 * valid here is valid there. Signatures over protocol data go through
 * `signLabelled` / `verifyLabelled` with a label from ./ns.ts.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { assertBytes } from './bytes.js';
import { labelled, type NsLabel } from './ns.js';

export const SEED_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** The public key of a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  assertBytes('ed25519 seed', seed, SEED_LENGTH);
  return ed25519.getPublicKey(seed);
}

/** Pure Ed25519 signature of `message` (deterministic). */
export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  assertBytes('ed25519 message', message);
  assertBytes('ed25519 seed', seed, SEED_LENGTH);
  return ed25519.sign(message, seed);
}

/**
 * Verifies a pure Ed25519 signature. Returns false — never throws — for a bad
 * signature, a malformed public key or wrong lengths of sig/key, because to a
 * verifier those are all "not signed by this key".
 */
export function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  assertBytes('ed25519 message', message);
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Signs `labelled(label, message)`. */
export function signLabelled(label: NsLabel, message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed25519Sign(labelled(label, message), seed);
}

/** Verifies a signature made by {@link signLabelled} under the same label. */
export function verifyLabelled(
  label: NsLabel,
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  return ed25519Verify(signature, labelled(label, message), publicKey);
}
