/**
 * X25519 agreement from Ed25519 identity keys (for issue 4's pairwise
 * secrets): the birational map Edwards → Montgomery from @noble/curves
 * (`ed25519.utils.toMontgomery*`, the same map as libsodium's
 * `crypto_sign_ed25519_*_to_curve25519`). The raw shared secret must always
 * go through `deriveKey()` (./kdf.ts) with an NS label before use.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { assertBytes } from './bytes.js';
import { PUBLIC_KEY_LENGTH, SEED_LENGTH } from './ed25519.js';
import { CryptoError } from './errors.js';

/** The X25519 public key that corresponds to an Ed25519 public key. */
export function x25519PublicFromEd25519(edPublicKey: Uint8Array): Uint8Array {
  assertBytes('ed25519 public key', edPublicKey, PUBLIC_KEY_LENGTH);
  try {
    return ed25519.utils.toMontgomery(edPublicKey);
  } catch (err) {
    throw CryptoError.badPoint(`not an Ed25519 public key: ${(err as Error).message}`);
  }
}

/** The X25519 secret key that corresponds to an Ed25519 seed. */
export function x25519SecretFromEd25519Seed(seed: Uint8Array): Uint8Array {
  assertBytes('ed25519 seed', seed, SEED_LENGTH);
  return ed25519.utils.toMontgomerySecret(seed);
}

/** X25519(secret, public): 32 bytes; throws CRYPTO_BAD_POINT for low-order public keys. */
export function x25519Shared(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  assertBytes('x25519 secret key', secretKey, 32);
  assertBytes('x25519 public key', publicKey, 32);
  try {
    return x25519.getSharedSecret(secretKey, publicKey);
  } catch (err) {
    throw CryptoError.badPoint(`x25519: ${(err as Error).message}`);
  }
}
