/**
 * Typed media-relay errors (one class, stable string codes, a factory per
 * condition). Malformed SDP is an SdpError (src/sdp/errors.ts), not one of
 * these; {@link mediaResponseFor} maps these to what the proxy answers when
 * setting up media for a request fails.
 */
import { SdpError, sdpResponseFor } from '../sdp/errors.js';

/** Stable error codes. Append only. */
export const MediaErrorCode = {
  /** The relay or the session is closed (BYE, CANCEL, idle timeout, shutdown). */
  Closed: 'MEDIA_CLOSED',
  /** No UDP port could be bound on the relay host. */
  NoPorts: 'MEDIA_NO_PORTS',
  /** Too many sessions, or every channel id is in use. */
  Exhausted: 'MEDIA_EXHAUSTED',
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }

  static closed(what = 'media relay') {
    return new MediaError(MediaErrorCode.Closed, `${what} is closed`);
  }
  static noPorts(host: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new MediaError(MediaErrorCode.NoPorts, `cannot bind UDP on ${host}: ${detail}`, {
      cause,
    });
  }
  static exhausted(what: string) {
    return new MediaError(MediaErrorCode.Exhausted, `${what} exhausted`);
  }
}

/** The code of a MediaError, else undefined. */
export function mediaErrorCode(err: unknown): MediaErrorCode | undefined {
  return err instanceof MediaError ? err.code : undefined;
}

/**
 * What the proxy answers a request (INVITE, re-INVITE, UPDATE, PRACK, ACK
 * excepted) whose media could not be set up: the SDP's own mapping for
 * SdpError (400/488/513), 503 with Retry-After-worthy exhaustion, 500 for the
 * rest. Anything else is a bug and maps to 500 too.
 */
export function mediaResponseFor(err: unknown): { status: number; reason: string } {
  if (err instanceof SdpError) return sdpResponseFor(err);
  if (err instanceof MediaError && err.code === MediaErrorCode.Exhausted) {
    return { status: 503, reason: 'Service Unavailable (media relay full)' };
  }
  return { status: 500, reason: 'Server Internal Error (media relay)' };
}
