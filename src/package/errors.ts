/**
 * Typed registration-package errors. Verification of bytes from the network
 * throws only PackageError, whatever the bytes are (fuzzed in the tests).
 */

/** Stable error codes. Append only. */
export const PackageErrorCode = {
  /** The signature does not verify under the package's own key. */
  BadSignature: 'PACKAGE_BAD_SIGNATURE',
  /** The package is for another AOR than the one looked up. */
  AorMismatch: 'PACKAGE_AOR_MISMATCH',
  /** The package is signed by another key than the one pinned for the AOR. */
  KeyMismatch: 'PACKAGE_KEY_MISMATCH',
  /** Past its `expires` time (plus the allowed clock skew). */
  Expired: 'PACKAGE_EXPIRED',
  /** `created` is in the future (beyond the allowed clock skew). */
  NotYetValid: 'PACKAGE_NOT_YET_VALID',
  /** `seq` is not above the last accepted sequence number: an old or replayed package. */
  Replayed: 'PACKAGE_REPLAYED',
  /** Not a canonical v1 package: bad XML, unknown element, non-canonical form, bad field. */
  Malformed: 'PACKAGE_MALFORMED',
  /** More bytes than a package may have. */
  TooLarge: 'PACKAGE_TOO_LARGE',
} as const;
export type PackageErrorCode = (typeof PackageErrorCode)[keyof typeof PackageErrorCode];

export class PackageError extends Error {
  readonly code: PackageErrorCode;

  constructor(code: PackageErrorCode, message: string) {
    super(message);
    this.name = 'PackageError';
    this.code = code;
  }

  static badSignature() {
    return new PackageError(PackageErrorCode.BadSignature, 'signature does not verify');
  }
  static aorMismatch(expected: string, actual: string) {
    return new PackageError(
      PackageErrorCode.AorMismatch,
      `package is for ${actual}, expected ${expected}`,
    );
  }
  static keyMismatch(aor: string) {
    return new PackageError(
      PackageErrorCode.KeyMismatch,
      `package for ${aor} is signed by an unexpected key`,
    );
  }
  static expired(expires: number, now: number) {
    return new PackageError(PackageErrorCode.Expired, `expired at ${expires} (now ${now})`);
  }
  static notYetValid(created: number, now: number) {
    return new PackageError(
      PackageErrorCode.NotYetValid,
      `created at ${created}, in the future (now ${now})`,
    );
  }
  static replayed(seq: number, lastSeq: number) {
    return new PackageError(
      PackageErrorCode.Replayed,
      `seq ${seq} is not above the last accepted ${lastSeq}`,
    );
  }
  static malformed(why: string) {
    return new PackageError(PackageErrorCode.Malformed, `malformed package: ${why}`);
  }
  static tooLarge(size: number, max: number) {
    return new PackageError(
      PackageErrorCode.TooLarge,
      `package is ${size} bytes, the limit is ${max}`,
    );
  }
}
