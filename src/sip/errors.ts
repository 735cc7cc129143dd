/**
 * Typed SIP errors. Every failure the parser or the request validator can
 * detect has a stable string `code`; {@link responseFor} maps each code, in
 * this one place, to the response RFC 3261 calls for (or to "drop" for things
 * that cannot be answered, such as unparseable responses).
 */
import type { SipMessage } from './message/message.js';

/** Stable error codes. Append only: scripts and logs depend on these strings. */
export const SipErrorCode = {
  /** Start line is not a Request-Line or Status-Line. RFC 3261 §7.1, §7.2. */
  BadStartLine: 'SIP_BAD_START_LINE',
  /** SIP-Version is not SIP/2.0. RFC 3261 §8.2.2 → 505. */
  BadVersion: 'SIP_BAD_VERSION',
  /** A header line cannot be parsed (no colon, bad name). */
  BadHeader: 'SIP_BAD_HEADER',
  /** A header value that the node must understand is malformed. */
  BadHeaderValue: 'SIP_BAD_HEADER_VALUE',
  /** A URI (Request-URI, From/To/Contact) is malformed. */
  BadUri: 'SIP_BAD_URI',
  /** Content-Length missing on a stream, negative, non-numeric or repeated with different values. */
  BadContentLength: 'SIP_BAD_CONTENT_LENGTH',
  /** Body is shorter than Content-Length says (datagram), RFC 3261 §18.3. */
  TruncatedBody: 'SIP_TRUNCATED_BODY',
  /** Message exceeds a configured size limit. */
  TooLarge: 'SIP_TOO_LARGE',
  /** A required header (To, From, Call-ID, CSeq, Via, Max-Forwards) is missing. RFC 3261 §8.1.1. */
  MissingHeader: 'SIP_MISSING_HEADER',
  /** A header that must appear once appears more than once. */
  DuplicateHeader: 'SIP_DUPLICATE_HEADER',
  /** CSeq method differs from the Request-Line method. RFC 3261 §8.1.1.5. */
  CSeqMismatch: 'SIP_CSEQ_MISMATCH',
  /** A scalar (CSeq number, Max-Forwards, Expires, status code) is out of range. */
  ScalarOutOfRange: 'SIP_SCALAR_OUT_OF_RANGE',
  /** Request-URI scheme is not supported (p2psip routes sip/sips only; tel: has no route). RFC 3261 §8.2.2.1 → 416. */
  UnsupportedUriScheme: 'SIP_UNSUPPORTED_URI_SCHEME',
  /** Max-Forwards reached 0 on a request that must be forwarded. RFC 3261 §16.3 → 483. */
  TooManyHops: 'SIP_TOO_MANY_HOPS',
  /** Proxy-Require lists an extension we do not support. RFC 3261 §16.3 → 420. */
  BadExtension: 'SIP_BAD_EXTENSION',
  /** A response cannot be answered; it is dropped. */
  BadResponse: 'SIP_BAD_RESPONSE',
} as const;
export type SipErrorCode = (typeof SipErrorCode)[keyof typeof SipErrorCode];

/** What a node does with a message that failed a check. */
export interface ErrorResponse {
  /** "reject" = answer with `status`; "drop" = discard silently (responses, hopeless garbage). */
  readonly verdict: 'reject' | 'drop';
  readonly status?: number;
  readonly reason?: string;
}

export class SipError extends Error {
  readonly code: SipErrorCode;
  /** Extra data for the response, e.g. Unsupported header values for 420. */
  readonly detail: { header?: string; unsupported?: string[] } | undefined;
  /**
   * The message as far as it could be parsed (start line and header lines
   * split) when the failure came later, e.g. a bad Content-Length: enough for
   * the caller to still answer 400 with the right Via/From/To/Call-ID/CSeq.
   */
  partial?: SipMessage;

  constructor(code: SipErrorCode, message: string, detail?: SipError['detail']) {
    super(message);
    this.name = 'SipError';
    this.code = code;
    this.detail = detail;
  }

  static badStartLine(msg: string) {
    return new SipError(SipErrorCode.BadStartLine, msg);
  }
  static badVersion(version: string) {
    return new SipError(
      SipErrorCode.BadVersion,
      `unsupported SIP version ${JSON.stringify(version)}`,
    );
  }
  static badHeader(msg: string, header?: string) {
    return new SipError(SipErrorCode.BadHeader, msg, header ? { header } : undefined);
  }
  static badHeaderValue(header: string, msg: string) {
    return new SipError(SipErrorCode.BadHeaderValue, `${header}: ${msg}`, { header });
  }
  static badUri(msg: string, header?: string) {
    return new SipError(SipErrorCode.BadUri, msg, header ? { header } : undefined);
  }
  static badContentLength(msg: string) {
    return new SipError(SipErrorCode.BadContentLength, msg, { header: 'Content-Length' });
  }
  static truncatedBody(expected: number, actual: number) {
    return new SipError(
      SipErrorCode.TruncatedBody,
      `Content-Length ${expected} but only ${actual} body bytes`,
      { header: 'Content-Length' },
    );
  }
  static tooLarge(msg: string) {
    return new SipError(SipErrorCode.TooLarge, msg);
  }
  static missingHeader(header: string) {
    return new SipError(SipErrorCode.MissingHeader, `missing ${header} header`, { header });
  }
  static duplicateHeader(header: string) {
    return new SipError(SipErrorCode.DuplicateHeader, `more than one ${header} header`, { header });
  }
  static cseqMismatch(method: string, cseqMethod: string) {
    return new SipError(
      SipErrorCode.CSeqMismatch,
      `CSeq method ${cseqMethod} does not match request method ${method}`,
      { header: 'CSeq' },
    );
  }
  static scalarOutOfRange(header: string, value: string) {
    return new SipError(SipErrorCode.ScalarOutOfRange, `${header} value ${value} out of range`, {
      header,
    });
  }
  static unsupportedUriScheme(scheme: string) {
    return new SipError(SipErrorCode.UnsupportedUriScheme, `unsupported URI scheme ${scheme}`);
  }
  static tooManyHops() {
    return new SipError(SipErrorCode.TooManyHops, 'Max-Forwards exhausted');
  }
  static badExtension(unsupported: string[]) {
    return new SipError(
      SipErrorCode.BadExtension,
      `unsupported extension(s) ${unsupported.join(', ')}`,
      {
        header: 'Proxy-Require',
        unsupported,
      },
    );
  }
  static badResponse(msg: string) {
    return new SipError(SipErrorCode.BadResponse, msg);
  }
}

const TABLE: Record<SipErrorCode, { status: number; reason: string }> = {
  SIP_BAD_START_LINE: { status: 400, reason: 'Bad Request' },
  SIP_BAD_VERSION: { status: 505, reason: 'Version Not Supported' },
  SIP_BAD_HEADER: { status: 400, reason: 'Bad Request' },
  SIP_BAD_HEADER_VALUE: { status: 400, reason: 'Bad Request' },
  SIP_BAD_URI: { status: 400, reason: 'Bad Request' },
  SIP_BAD_CONTENT_LENGTH: { status: 400, reason: 'Bad Request' },
  SIP_TRUNCATED_BODY: { status: 400, reason: 'Bad Request' },
  SIP_TOO_LARGE: { status: 513, reason: 'Message Too Large' },
  SIP_MISSING_HEADER: { status: 400, reason: 'Bad Request' },
  SIP_DUPLICATE_HEADER: { status: 400, reason: 'Bad Request' },
  SIP_CSEQ_MISMATCH: { status: 400, reason: 'Bad Request' },
  SIP_SCALAR_OUT_OF_RANGE: { status: 400, reason: 'Bad Request' },
  SIP_UNSUPPORTED_URI_SCHEME: { status: 416, reason: 'Unsupported URI Scheme' },
  SIP_TOO_MANY_HOPS: { status: 483, reason: 'Too Many Hops' },
  SIP_BAD_EXTENSION: { status: 420, reason: 'Bad Extension' },
  SIP_BAD_RESPONSE: { status: 0, reason: '' },
};

/**
 * The one mapping from error to action. Requests get the RFC's response code
 * with a reason phrase that names the problem; responses are never answered
 * (RFC 3261 §18.1.2: a malformed response is discarded).
 */
export function responseFor(err: SipError, isRequest: boolean): ErrorResponse {
  if (!isRequest || err.code === SipErrorCode.BadResponse) return { verdict: 'drop' };
  const entry = TABLE[err.code];
  const reason = entry.status === 400 ? `Bad Request (${err.message})` : entry.reason;
  return { verdict: 'reject', status: entry.status, reason: sanitizeReason(reason) };
}

/** Keep reason phrases to printable UTF-8 on one line. */
export function sanitizeReason(reason: string): string {
  return reason.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 200);
}
