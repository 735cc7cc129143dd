/**
 * Typed errors of the crypto wrappers. One class, a stable string `code`, a
 * static factory per condition (the hyperdht `lib/errors.js` habit).
 */

/** Stable error codes. Append only: callers and logs depend on these strings. */
export const CryptoErrorCode = {
  /** An input has the wrong length (key, seed, nonce, signature). */
  BadLength: 'CRYPTO_BAD_LENGTH',
  /** A text encoding (hex, base64url) is invalid or not canonical. */
  BadEncoding: 'CRYPTO_BAD_ENCODING',
  /** AEAD authentication failed: wrong key, nonce, associated data or tampered ciphertext. */
  AuthFailed: 'CRYPTO_AUTH_FAILED',
  /** A Diffie-Hellman input is invalid (e.g. a low-order point). */
  BadPoint: 'CRYPTO_BAD_POINT',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }

  static badLength(what: string, expected: number, actual: number) {
    return new CryptoError(
      CryptoErrorCode.BadLength,
      `${what}: expected ${expected} bytes, got ${actual}`,
    );
  }
  static notBytes(what: string, actual: unknown) {
    return new CryptoError(
      CryptoErrorCode.BadLength,
      `${what}: expected a Uint8Array, got ${actual === null ? 'null' : typeof actual}`,
    );
  }
  static badEncoding(what: string, msg: string) {
    return new CryptoError(CryptoErrorCode.BadEncoding, `${what}: ${msg}`);
  }
  static authFailed() {
    return new CryptoError(CryptoErrorCode.AuthFailed, 'AEAD authentication failed');
  }
  static badPoint(msg: string) {
    return new CryptoError(CryptoErrorCode.BadPoint, msg);
  }
}
