/**
 * Typed tunnel errors: one class, a stable string `code`, a static factory per
 * condition (the hyperdht `lib/errors.js` habit). The proxy maps them to SIP
 * answers: PEER_NOT_FOUND / CONNECT_TIMEOUT / REJECTED → 480, CLOSED → retry
 * once with a fresh tunnel, the rest → 500.
 */

/** Stable error codes. Append only: the proxy, scripts and logs depend on these strings. */
export const TunnelErrorCode = {
  /** Nobody is listening on the key (no announcement found in the DHT). */
  PeerNotFound: 'TUNNEL_PEER_NOT_FOUND',
  /** Our own connect timeout (`connectTimeoutMs`) ran out before the tunnel was ready. */
  ConnectTimeout: 'TUNNEL_CONNECT_TIMEOUT',
  /**
   * The peer was found but never answered the handshake: in practice its accept
   * policy refused our key (a refusal is silent by design, so this is a best guess).
   */
  Rejected: 'TUNNEL_REJECTED',
  /** The tunnel or the endpoint is closed (or closed while we waited). */
  Closed: 'TUNNEL_CLOSED',
  /** A frame is larger than the limit (sending, or announced by the peer). */
  FrameTooLarge: 'TUNNEL_FRAME_TOO_LARGE',
  /** The peer broke the framing or hello protocol (unknown type, bad hello, no common version). */
  Protocol: 'TUNNEL_PROTOCOL',
  /** Any other connect failure reported by the DHT (hole punching failed, …); see `cause`. */
  ConnectFailed: 'TUNNEL_CONNECT_FAILED',
  /** The tunnel stayed idle (no frames, no holders) for `idleTimeoutMs`; a normal close. */
  Idle: 'TUNNEL_IDLE',
} as const;
export type TunnelErrorCode = (typeof TunnelErrorCode)[keyof typeof TunnelErrorCode];

export class TunnelError extends Error {
  readonly code: TunnelErrorCode;

  constructor(code: TunnelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TunnelError';
    this.code = code;
  }

  static peerNotFound(cause?: unknown) {
    return new TunnelError(TunnelErrorCode.PeerNotFound, 'no peer is listening on that key', {
      cause,
    });
  }
  static connectTimeout(ms: number) {
    return new TunnelError(TunnelErrorCode.ConnectTimeout, `tunnel not ready within ${ms} ms`);
  }
  static rejected(cause?: unknown) {
    return new TunnelError(
      TunnelErrorCode.Rejected,
      'peer found but it did not accept the connection',
      { cause },
    );
  }
  static closed(what = 'tunnel') {
    return new TunnelError(TunnelErrorCode.Closed, `${what} is closed`);
  }
  static frameTooLarge(size: number, max: number) {
    return new TunnelError(
      TunnelErrorCode.FrameTooLarge,
      `frame payload of ${size} bytes exceeds the limit of ${max}`,
    );
  }
  static protocol(msg: string) {
    return new TunnelError(TunnelErrorCode.Protocol, msg);
  }
  static connectFailed(cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new TunnelError(TunnelErrorCode.ConnectFailed, `connect failed: ${detail}`, { cause });
  }
  static idle(ms: number) {
    return new TunnelError(TunnelErrorCode.Idle, `idle for ${ms} ms`);
  }
}

/** The code of a TunnelError, else undefined (for tests and callers that switch on codes). */
export function tunnelErrorCode(err: unknown): TunnelErrorCode | undefined {
  return err instanceof TunnelError ? err.code : undefined;
}
