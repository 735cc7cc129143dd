/**
 * Encrypted fixed-size records: what a secret lookup key points at. Every
 * record has the same length whatever package it carries, so DHT nodes see
 * only equal-sized random-looking values.
 *
 *   record  = version (0x01) ‖ nonce (24) ‖ XChaCha20-Poly1305(recordKey, nonce,
 *                                               aad = version, padded)
 *   padded  = u16be(package length) ‖ package ‖ 0x00 … (to size − 41 bytes)
 *
 * Default size 1,000 bytes (the overlay's value limit): padded = 959 bytes,
 * a package of at most 957 bytes (the largest one in docs/protocol.md is 860);
 * record / padded = 1000 / 959 ≈ 1.043 ≤ 1.05.
 */
import {
  AEAD_KEY_LENGTH,
  AEAD_NONCE_LENGTH,
  AEAD_TAG_LENGTH,
  aeadOpen,
  aeadSeal,
} from '../crypto/aead.js';
import { concatBytes } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { PrivacyError } from './errors.js';

export const RECORD_VERSION = 1;
/** Every v1 record is this long: one size for all, so records cannot be told apart by length. */
export const RECORD_SIZE = 1000;
/** version + nonce + tag. */
export const RECORD_OVERHEAD = 1 + AEAD_NONCE_LENGTH + AEAD_TAG_LENGTH;
const LENGTH_PREFIX = 2;
/** The smallest size option: room for a one-byte package. */
export const MIN_RECORD_SIZE = RECORD_OVERHEAD + LENGTH_PREFIX + 1;

/** The largest package a record of `size` bytes carries. */
export function maxPackageBytes(size = RECORD_SIZE): number {
  return size - RECORD_OVERHEAD - LENGTH_PREFIX;
}

/**
 * Seals a package into a record of exactly `size` bytes. `nonce` is for
 * golden vectors only; by default it is 24 fresh random bytes.
 */
export function sealRecord(
  packageBytes: Uint8Array,
  recordKey: Uint8Array,
  opts: { size?: number; nonce?: Uint8Array } = {},
): Uint8Array {
  const size = checkSize(opts.size);
  checkKey(recordKey);
  if (!(packageBytes instanceof Uint8Array) || packageBytes.length === 0) {
    throw PrivacyError.badArgument('package', 'a non-empty Uint8Array');
  }
  const max = maxPackageBytes(size);
  if (packageBytes.length > max) throw PrivacyError.packageTooLarge(packageBytes.length, max);
  const nonce = opts.nonce ?? randomBytes(AEAD_NONCE_LENGTH);
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_LENGTH) {
    throw PrivacyError.badArgument('nonce', `${AEAD_NONCE_LENGTH} bytes`);
  }
  const padded = new Uint8Array(size - RECORD_OVERHEAD);
  new DataView(padded.buffer).setUint16(0, packageBytes.length);
  padded.set(packageBytes, LENGTH_PREFIX);
  const header = concatBytes(Uint8Array.of(RECORD_VERSION), nonce);
  return concatBytes(header, aeadSeal(recordKey, nonce, padded, header.subarray(0, 1)));
}

/**
 * A record no key opens that looks like any sealed one: the version byte,
 * then random bytes (a sealed record is the version, a random nonce and
 * ciphertext). Written over a record that must no longer be readable, e.g.
 * a retired generation's (src/node/privacy.ts).
 */
export function decoyRecord(size = RECORD_SIZE): Uint8Array {
  checkSize(size);
  return concatBytes(Uint8Array.of(RECORD_VERSION), randomBytes(size - 1));
}

/**
 * The package inside a record: PRIVACY_RECORD_MALFORMED for a wrong size,
 * version, length prefix or non-zero padding; PRIVACY_RECORD_AUTH if it does
 * not open with this key.
 */
export function openRecord(
  record: Uint8Array,
  recordKey: Uint8Array,
  opts: { size?: number } = {},
): Uint8Array {
  const size = checkSize(opts.size);
  checkKey(recordKey);
  if (!(record instanceof Uint8Array) || record.length !== size) {
    throw PrivacyError.recordMalformed(`expected exactly ${size} bytes`);
  }
  if (record[0] !== RECORD_VERSION)
    throw PrivacyError.recordMalformed(`unknown version ${record[0]}`);
  let padded: Uint8Array;
  try {
    padded = aeadOpen(
      recordKey,
      record.subarray(1, 1 + AEAD_NONCE_LENGTH),
      record.subarray(1 + AEAD_NONCE_LENGTH),
      record.subarray(0, 1),
    );
  } catch {
    throw PrivacyError.recordAuth();
  }
  const length = new DataView(padded.buffer, padded.byteOffset).getUint16(0);
  if (length === 0 || length > padded.length - LENGTH_PREFIX) {
    throw PrivacyError.recordMalformed(`length prefix ${length} out of range`);
  }
  if (padded.subarray(LENGTH_PREFIX + length).some((b) => b !== 0)) {
    throw PrivacyError.recordMalformed('padding is not zero');
  }
  return padded.slice(LENGTH_PREFIX, LENGTH_PREFIX + length);
}

function checkSize(size: number | undefined): number {
  const s = size ?? RECORD_SIZE;
  if (!Number.isInteger(s) || s < MIN_RECORD_SIZE || s > RECORD_SIZE) {
    throw PrivacyError.badArgument('record size', `an integer ${MIN_RECORD_SIZE}..${RECORD_SIZE}`);
  }
  return s;
}

function checkKey(key: unknown): void {
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_LENGTH) {
    throw PrivacyError.badArgument('record key', `${AEAD_KEY_LENGTH} bytes`);
  }
}
