/**
 * Typed SDP errors: one class, a stable string `code`, a static factory per
 * condition (the src/sip/errors.ts habit). Nothing in src/sdp/ throws anything
 * else for bad input: the fuzz test in test/unit/sdp/ holds it to that.
 *
 * {@link sdpResponseFor} is the one mapping from error to SIP answer: a body
 * that is not SDP at all (syntax) → 400; SDP we can read but cannot carry
 * (no address to relay to, an answer without an offer) → 488 Not Acceptable
 * Here (RFC 3261 §21.4.26).
 */
import { sanitizeReason } from '../sip/errors.js';

/** Stable error codes. Append only: the proxy, scripts and logs depend on these strings. */
export const SdpErrorCode = {
  /** A line is not `<letter>=<text>`, holds NUL or a bare CR, or an empty line sits between lines. */
  BadSyntax: 'SDP_BAD_SYNTAX',
  /** The first line is not `v=0` (RFC 8866 §5.1). */
  BadVersion: 'SDP_BAD_VERSION',
  /** A mandatory line (`o=`) is missing. */
  MissingLine: 'SDP_MISSING_LINE',
  /** A line that may appear once (`v=`, `o=`, session `c=`) appears more than once. */
  DuplicateLine: 'SDP_DUPLICATE_LINE',
  /** `o=` is not `<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`. */
  BadOrigin: 'SDP_BAD_ORIGIN',
  /** `c=` is malformed (RFC 8866 §5.7). */
  BadConnection: 'SDP_BAD_CONNECTION',
  /** `m=` is malformed (RFC 8866 §5.14). */
  BadMedia: 'SDP_BAD_MEDIA',
  /** An attribute we interpret (`a=rtcp`, `a=x-p2psip-channel`) is malformed. */
  BadAttribute: 'SDP_BAD_ATTRIBUTE',
  /** Larger than MAX_SDP_BYTES or more than MAX_SDP_LINES lines. */
  TooLarge: 'SDP_TOO_LARGE',
  /** A stream in use has no `c=` at media or session level (RFC 8866 §5.7). */
  MissingConnection: 'SDP_MISSING_CONNECTION',
  /** Offer/answer out of order, or an answer whose streams do not match the offer (RFC 3264 §6). */
  OfferAnswer: 'SDP_OFFER_ANSWER',
} as const;
export type SdpErrorCode = (typeof SdpErrorCode)[keyof typeof SdpErrorCode];

export class SdpError extends Error {
  readonly code: SdpErrorCode;
  /** 1-based line number in the body, when the error is about one line. */
  readonly line: number | undefined;

  constructor(code: SdpErrorCode, message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'SdpError';
    this.code = code;
    this.line = line;
  }

  static badSyntax(msg: string, line?: number) {
    return new SdpError(SdpErrorCode.BadSyntax, msg, line);
  }
  static badVersion(found: string) {
    return new SdpError(
      SdpErrorCode.BadVersion,
      `SDP must start with v=0, found ${JSON.stringify(found.slice(0, 40))}`,
      1,
    );
  }
  static missingLine(type: string) {
    return new SdpError(SdpErrorCode.MissingLine, `missing ${type}= line`);
  }
  static duplicateLine(type: string, line: number) {
    return new SdpError(SdpErrorCode.DuplicateLine, `more than one ${type}= line`, line);
  }
  static badOrigin(value: string, line?: number) {
    return new SdpError(SdpErrorCode.BadOrigin, `malformed o=${clip(value)}`, line);
  }
  static badConnection(value: string, line?: number) {
    return new SdpError(SdpErrorCode.BadConnection, `malformed c=${clip(value)}`, line);
  }
  static badMedia(value: string, line?: number) {
    return new SdpError(SdpErrorCode.BadMedia, `malformed m=${clip(value)}`, line);
  }
  static badAttribute(value: string, line?: number) {
    return new SdpError(SdpErrorCode.BadAttribute, `malformed a=${clip(value)}`, line);
  }
  static tooLarge(what: string) {
    return new SdpError(SdpErrorCode.TooLarge, what);
  }
  static missingConnection(stream: number) {
    return new SdpError(
      SdpErrorCode.MissingConnection,
      `media stream ${stream} has no c= line at media or session level`,
    );
  }
  static offerAnswer(msg: string) {
    return new SdpError(SdpErrorCode.OfferAnswer, msg);
  }
}

function clip(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value).slice(1, -1);
}

const SYNTAX_CODES: ReadonlySet<SdpErrorCode> = new Set([
  SdpErrorCode.BadSyntax,
  SdpErrorCode.BadVersion,
  SdpErrorCode.MissingLine,
  SdpErrorCode.DuplicateLine,
  SdpErrorCode.BadOrigin,
  SdpErrorCode.BadConnection,
  SdpErrorCode.BadMedia,
  SdpErrorCode.BadAttribute,
]);

/**
 * What to answer a request whose SDP failed: 400 when the body is not
 * well-formed SDP, 513 when it is too large, 488 when it is SDP we cannot
 * carry. A response (200, 183) carrying such SDP cannot be answered; the
 * caller decides (docs/media.md: end the call with BYE/CANCEL).
 */
export function sdpResponseFor(err: SdpError): { status: number; reason: string } {
  if (err.code === SdpErrorCode.TooLarge) return { status: 513, reason: 'Message Too Large' };
  if (SYNTAX_CODES.has(err.code)) {
    return { status: 400, reason: sanitizeReason(`Bad Request (SDP: ${err.message})`) };
  }
  return { status: 488, reason: sanitizeReason(`Not Acceptable Here (${err.message})`) };
}

/** The code of an SdpError, else undefined. */
export function sdpErrorCode(err: unknown): SdpErrorCode | undefined {
  return err instanceof SdpError ? err.code : undefined;
}
