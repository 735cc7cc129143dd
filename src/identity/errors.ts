/** Typed identity errors: one class, stable string codes, a factory per condition. */

/** Stable error codes. Append only. */
export const IdentityErrorCode = {
  /** The text is not an AOR this project accepts (see ./aor.ts for the grammar). */
  BadAor: 'IDENTITY_BAD_AOR',
  /** A stored public key does not belong to the stored seed: the record is corrupt. */
  KeyMismatch: 'IDENTITY_KEY_MISMATCH',
  /** The identity's seed was wiped; it cannot sign or agree any more. */
  Wiped: 'IDENTITY_WIPED',
} as const;
export type IdentityErrorCode = (typeof IdentityErrorCode)[keyof typeof IdentityErrorCode];

export class IdentityError extends Error {
  readonly code: IdentityErrorCode;

  constructor(code: IdentityErrorCode, message: string) {
    super(message);
    this.name = 'IdentityError';
    this.code = code;
  }

  static badAor(input: string, why: string) {
    const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input;
    return new IdentityError(
      IdentityErrorCode.BadAor,
      `invalid AOR ${JSON.stringify(shown)}: ${why}`,
    );
  }
  static keyMismatch(aor: string) {
    return new IdentityError(
      IdentityErrorCode.KeyMismatch,
      `stored public key of ${aor} does not match its seed (corrupt identity record)`,
    );
  }
  static wiped(aor: string) {
    return new IdentityError(IdentityErrorCode.Wiped, `identity of ${aor} was wiped`);
  }
}
