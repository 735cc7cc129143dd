/**
 * Typed socket-layer errors: one class, a stable string `code`, a static
 * factory per condition. SIP-level problems (malformed messages, framing) are
 * SipError; these are about addresses, sockets and connections.
 */

/** Stable error codes. Append only: callers, scripts and logs depend on these strings. */
export const NetErrorCode = {
  /** Not an IP literal we can bind or send to, or a protocol this layer does not carry. */
  BadAddress: 'NET_BAD_ADDRESS',
  /** The response's top Via names a transport we do not serve (TLS, SCTP, WS, …). */
  UnsupportedTransport: 'NET_UNSUPPORTED_TRANSPORT',
  /** A response to route has no Via. */
  NoVia: 'NET_NO_VIA',
  /** Binding a listening socket failed (port in use, …); see `cause`. */
  BindFailed: 'NET_BIND_FAILED',
  /** A TCP connection could not be opened (refused, reset, timed out); see `cause`. */
  ConnectFailed: 'NET_CONNECT_FAILED',
  /** The connection closed before the bytes were handed to the kernel. */
  ConnectionClosed: 'NET_CONNECTION_CLOSED',
  /** The peer does not read: too many bytes queued on its connection, which was closed. */
  WriteOverflow: 'NET_WRITE_OVERFLOW',
  /** A datagram larger than UDP can carry. */
  DatagramTooLarge: 'NET_DATAGRAM_TOO_LARGE',
  /** The UDP socket reported a send error; see `cause`. */
  SendFailed: 'NET_SEND_FAILED',
  /** The transport layer is closed (or closing). */
  Closed: 'NET_CLOSED',
} as const;
export type NetErrorCode = (typeof NetErrorCode)[keyof typeof NetErrorCode];

export class NetError extends Error {
  readonly code: NetErrorCode;

  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetError';
    this.code = code;
  }

  static badAddress(what: string) {
    return new NetError(NetErrorCode.BadAddress, what);
  }
  static unsupportedTransport(transport: string) {
    return new NetError(
      NetErrorCode.UnsupportedTransport,
      `transport ${JSON.stringify(transport)} is not served (UDP and TCP only)`,
    );
  }
  static noVia() {
    return new NetError(NetErrorCode.NoVia, 'response has no Via to route by');
  }
  static bindFailed(where: string, cause: unknown) {
    return new NetError(NetErrorCode.BindFailed, `cannot bind ${where}`, { cause });
  }
  static connectFailed(where: string, cause: unknown) {
    return new NetError(NetErrorCode.ConnectFailed, `cannot connect to ${where}`, { cause });
  }
  static connectionClosed(where: string, cause?: unknown) {
    return new NetError(NetErrorCode.ConnectionClosed, `connection to ${where} closed`, { cause });
  }
  static writeOverflow(where: string, queued: number) {
    return new NetError(
      NetErrorCode.WriteOverflow,
      `${queued} bytes queued for ${where}, which does not read: connection closed`,
    );
  }
  static datagramTooLarge(size: number) {
    return new NetError(NetErrorCode.DatagramTooLarge, `datagram of ${size} bytes is too large`);
  }
  static sendFailed(where: string, cause: unknown) {
    return new NetError(NetErrorCode.SendFailed, `cannot send to ${where}`, { cause });
  }
  static closed() {
    return new NetError(NetErrorCode.Closed, 'transport layer is closed');
  }
}
