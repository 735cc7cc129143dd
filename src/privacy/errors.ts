/**
 * Typed errors of the privacy core: one class, a stable string `code`, a
 * static factory per condition (the hyperdht `lib/errors.js` habit, as in
 * src/overlay/errors.ts). Every malformed, forged or out-of-step input to a
 * privacy function ends here, never as a TypeError or a CryptoError, so the
 * node can switch on `code` and log without guessing.
 */

/** Stable error codes. Append only: the node, scripts and logs depend on these strings. */
export const PrivacyErrorCode = {
  /** A caller passed a value of the wrong type, length or range (a programming error). */
  BadArgument: 'PRIVACY_BAD_ARGUMENT',
  /** A stored pair state does not have the v1 shape (wrong field, length or range). */
  StateMalformed: 'PRIVACY_STATE_MALFORMED',
  /** An epoch the state has already moved past: its secrets are forgotten on purpose. */
  EpochPast: 'PRIVACY_EPOCH_PAST',
  /** An epoch further ahead than the state may step or derive in one call. */
  EpochTooFar: 'PRIVACY_EPOCH_TOO_FAR',
  /** The peer's epoch differs from ours by more than one (a clock is wrong). */
  EpochSkew: 'PRIVACY_EPOCH_SKEW',
  /** The peer uses another epoch length, so no epoch key of ours can ever match its keys. */
  EpochLengthMismatch: 'PRIVACY_EPOCH_LENGTH_MISMATCH',
  /** A ratchet message has the wrong length, version or field values. */
  MessageMalformed: 'PRIVACY_MESSAGE_MALFORMED',
  /** No tag of a ratchet message verifies: not from our peer, or tampered with. */
  MessageAuth: 'PRIVACY_MESSAGE_AUTH',
  /** A reply or confirm that answers nothing we are waiting for. */
  UnexpectedMessage: 'PRIVACY_UNEXPECTED_MESSAGE',
  /** A package too large for the fixed-size record. */
  PackageTooLarge: 'PRIVACY_PACKAGE_TOO_LARGE',
  /** A record of the wrong size or version, or with a bad length prefix or padding. */
  RecordMalformed: 'PRIVACY_RECORD_MALFORMED',
  /** A record that does not open with this key: another pair's, or tampered with. */
  RecordAuth: 'PRIVACY_RECORD_AUTH',
} as const;
export type PrivacyErrorCode = (typeof PrivacyErrorCode)[keyof typeof PrivacyErrorCode];

export class PrivacyError extends Error {
  readonly code: PrivacyErrorCode;

  constructor(code: PrivacyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrivacyError';
    this.code = code;
  }

  static badArgument(what: string, expected: string) {
    return new PrivacyError(PrivacyErrorCode.BadArgument, `${what}: expected ${expected}`);
  }
  static stateMalformed(field: string, expected: string) {
    return new PrivacyError(
      PrivacyErrorCode.StateMalformed,
      `pair state: ${field} must be ${expected}`,
    );
  }
  static epochPast(epoch: number, at: number) {
    return new PrivacyError(
      PrivacyErrorCode.EpochPast,
      `epoch ${epoch} is before the state's epoch ${at}; its secrets are forgotten`,
    );
  }
  static epochTooFar(epoch: number, at: number, max: number) {
    return new PrivacyError(
      PrivacyErrorCode.EpochTooFar,
      `epoch ${epoch} is more than ${max} epochs after the state's epoch ${at}`,
    );
  }
  static epochSkew(theirs: number, ours: number) {
    return new PrivacyError(
      PrivacyErrorCode.EpochSkew,
      `peer is at epoch ${theirs}, we are at ${ours}: more than one epoch apart`,
    );
  }
  static epochLengthMismatch(theirs: number, ours: number) {
    return new PrivacyError(
      PrivacyErrorCode.EpochLengthMismatch,
      `peer uses ${theirs}-second epochs, we use ${ours}`,
    );
  }
  static messageMalformed(what: string, why: string) {
    return new PrivacyError(PrivacyErrorCode.MessageMalformed, `${what}: ${why}`);
  }
  static messageAuth(what: string) {
    return new PrivacyError(PrivacyErrorCode.MessageAuth, `${what}: no tag verifies`);
  }
  static unexpectedMessage(what: string, why: string) {
    return new PrivacyError(PrivacyErrorCode.UnexpectedMessage, `${what}: ${why}`);
  }
  static packageTooLarge(size: number, max: number) {
    return new PrivacyError(
      PrivacyErrorCode.PackageTooLarge,
      `package of ${size} bytes does not fit a record (at most ${max})`,
    );
  }
  static recordMalformed(why: string) {
    return new PrivacyError(PrivacyErrorCode.RecordMalformed, `record: ${why}`);
  }
  static recordAuth() {
    return new PrivacyError(
      PrivacyErrorCode.RecordAuth,
      'record does not open with this key (another pair, or tampered with)',
    );
  }
}

/** The code of a PrivacyError, else undefined (for tests and callers that switch on codes). */
export function privacyErrorCode(err: unknown): PrivacyErrorCode | undefined {
  return err instanceof PrivacyError ? err.code : undefined;
}
