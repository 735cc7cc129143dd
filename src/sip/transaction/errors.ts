/**
 * Typed transaction errors: one class, a stable string `code`, a static
 * factory per condition. Timeouts (Timers B, F, H) are not errors: they reach
 * the TU through its `onTimeout` callback.
 */

/** Stable error codes. Append only: callers and logs depend on these strings. */
export const TransactionErrorCode = {
  /** The transport could not send a request or response (RFC 3261 §17.1.4, §17.2.4). */
  Transport: 'SIP_TX_TRANSPORT_ERROR',
  /** A request cannot start a client transaction (ACK, or no RFC 3261 branch). */
  BadRequest: 'SIP_TX_BAD_REQUEST',
  /** A client transaction with the same branch and method already exists. */
  Duplicate: 'SIP_TX_DUPLICATE',
  /** The transaction layer was closed. */
  Closed: 'SIP_TX_CLOSED',
  /** A state machine was asked for a transition it does not have (a bug). */
  InvalidState: 'SIP_TX_INVALID_STATE',
} as const;
export type TransactionErrorCode = (typeof TransactionErrorCode)[keyof typeof TransactionErrorCode];

export class TransactionError extends Error {
  readonly code: TransactionErrorCode;

  constructor(code: TransactionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransactionError';
    this.code = code;
  }

  static transport(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new TransactionError(TransactionErrorCode.Transport, `transport error: ${why}`, {
      cause,
    });
  }
  static badRequest(msg: string) {
    return new TransactionError(TransactionErrorCode.BadRequest, msg);
  }
  static duplicate(key: string) {
    return new TransactionError(
      TransactionErrorCode.Duplicate,
      `a client transaction ${JSON.stringify(key)} already exists`,
    );
  }
  static closed() {
    return new TransactionError(TransactionErrorCode.Closed, 'transaction layer closed');
  }
  static invalidState(kind: string, from: string, to: string) {
    return new TransactionError(
      TransactionErrorCode.InvalidState,
      `${kind}: no transition ${from} -> ${to}`,
    );
  }
}
