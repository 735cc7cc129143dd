/**
 * Typed errors of the lookup layer: one class, a stable string `code`, a
 * static factory per condition (the hyperdht `lib/errors.js` habit). Callers
 * switch on `code`, never on messages.
 */

/** Stable error codes. Append only: the proxy, scripts and logs depend on these strings. */
export const OverlayErrorCode = {
  /** A lookup key is not a 32-byte Uint8Array. */
  BadKey: 'OVERLAY_BAD_KEY',
  /** A value is not a non-empty Uint8Array. */
  BadValue: 'OVERLAY_BAD_VALUE',
  /** A value is larger than `MAX_VALUE_BYTES`. */
  ValueTooLarge: 'OVERLAY_VALUE_TOO_LARGE',
  /** An option is out of range (ttlSeconds, seq, timeoutMs, …). */
  BadOption: 'OVERLAY_BAD_OPTION',
  /** A publish reused or lowered the seq this publisher last used under the key. */
  SeqTooLow: 'OVERLAY_SEQ_TOO_LOW',
  /** A HyperDHT backend was asked to start without an explicit bootstrap list. */
  NoBootstrap: 'OVERLAY_NO_BOOTSTRAP',
  /** The service was closed (before or during the call). */
  Closed: 'OVERLAY_CLOSED',
  /** The caller's AbortSignal fired. */
  Aborted: 'OVERLAY_ABORTED',
  /** `find` did not finish within its `timeoutMs`. */
  Timeout: 'OVERLAY_TIMEOUT',
  /** The underlying network operation failed; see `cause`. */
  Backend: 'OVERLAY_BACKEND',
} as const;
export type OverlayErrorCode = (typeof OverlayErrorCode)[keyof typeof OverlayErrorCode];

export class OverlayError extends Error {
  readonly code: OverlayErrorCode;

  constructor(code: OverlayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OverlayError';
    this.code = code;
  }

  static badKey(actual: unknown) {
    const what = actual instanceof Uint8Array ? `${actual.byteLength} bytes` : describeType(actual);
    return new OverlayError(OverlayErrorCode.BadKey, `lookup key: expected 32 bytes, got ${what}`);
  }
  static badValue(actual: unknown) {
    const what = actual instanceof Uint8Array ? 'an empty value' : describeType(actual);
    return new OverlayError(
      OverlayErrorCode.BadValue,
      `value: expected a non-empty Uint8Array, got ${what}`,
    );
  }
  static valueTooLarge(size: number, max: number) {
    return new OverlayError(
      OverlayErrorCode.ValueTooLarge,
      `value of ${size} bytes exceeds the limit of ${max}`,
    );
  }
  static badOption(name: string, value: unknown, expected: string) {
    return new OverlayError(
      OverlayErrorCode.BadOption,
      `${name}: expected ${expected}, got ${String(value)}`,
    );
  }
  static seqTooLow(seq: number, last: number) {
    return new OverlayError(
      OverlayErrorCode.SeqTooLow,
      `seq ${seq} is not higher than the last seq ${last} published under this key`,
    );
  }
  static noBootstrap() {
    return new OverlayError(
      OverlayErrorCode.NoBootstrap,
      'HyperDHT lookup: an explicit bootstrap list is required ' +
        "(pass { network: 'public' } to join the public network on purpose)",
    );
  }
  static closed(name: string) {
    return new OverlayError(OverlayErrorCode.Closed, `lookup service ${name} is closed`);
  }
  static aborted(reason?: unknown) {
    return new OverlayError(OverlayErrorCode.Aborted, 'lookup aborted', { cause: reason });
  }
  static timeout(ms: number) {
    return new OverlayError(OverlayErrorCode.Timeout, `find did not finish within ${ms} ms`);
  }
  static backend(operation: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new OverlayError(OverlayErrorCode.Backend, `${operation} failed: ${detail}`, { cause });
  }
}

/** The code of an OverlayError, else undefined (for tests and callers that switch on codes). */
export function overlayErrorCode(err: unknown): OverlayErrorCode | undefined {
  return err instanceof OverlayError ? err.code : undefined;
}

function describeType(v: unknown): string {
  return v === null ? 'null' : typeof v;
}
