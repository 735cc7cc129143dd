/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) from @noble/ciphers, for
 * issue 4's encrypted records. 24-byte nonces are safe to pick at random, so
 * `sealBox` does that and prepends the nonce.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { assertBytes, concatBytes } from './bytes.js';
import { CryptoError } from './errors.js';
import { randomBytes } from './random.js';

export const AEAD_KEY_LENGTH = 32;
export const AEAD_NONCE_LENGTH = 24;
export const AEAD_TAG_LENGTH = 16;

const EMPTY = new Uint8Array(0);

/** The cipher for one (key, nonce, aad), after checking every input's type and length. */
function cipher(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array) {
  assertBytes('aead key', key, AEAD_KEY_LENGTH);
  assertBytes('aead nonce', nonce, AEAD_NONCE_LENGTH);
  assertBytes('aead data', data);
  assertBytes('aead aad', aad);
  return xchacha20poly1305(key, nonce, aad);
}

/** ciphertext ‖ tag. */
export function aeadSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
) {
  return cipher(key, nonce, plaintext, aad).encrypt(plaintext);
}

/** The plaintext, or CRYPTO_AUTH_FAILED. */
export function aeadOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array = EMPTY,
) {
  const c = cipher(key, nonce, sealed, aad);
  if (sealed.length < AEAD_TAG_LENGTH) throw CryptoError.authFailed();
  try {
    return c.decrypt(sealed);
  } catch {
    throw CryptoError.authFailed();
  }
}

/** nonce(24, random) ‖ ciphertext ‖ tag. */
export function sealBox(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
): Uint8Array {
  const nonce = randomBytes(AEAD_NONCE_LENGTH);
  return concatBytes(nonce, aeadSeal(key, nonce, plaintext, aad));
}

/** Opens a {@link sealBox} output; CRYPTO_AUTH_FAILED if anything was changed. */
export function openBox(key: Uint8Array, box: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  assertBytes('aead box', box);
  if (box.length < AEAD_NONCE_LENGTH + AEAD_TAG_LENGTH) throw CryptoError.authFailed();
  return aeadOpen(key, box.subarray(0, AEAD_NONCE_LENGTH), box.subarray(AEAD_NONCE_LENGTH), aad);
}
