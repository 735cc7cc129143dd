/** Sockets for SIP: UDP and TCP transports behind one TransportLayer (RFC 3261 §18, RFC 3581). */
export * from './diagnostics.js';
export * from './errors.js';
export { TcpConnection, TcpTransport } from './tcp-transport.js';
export * from './transport-layer.js';
export { MAX_DATAGRAM, UdpTransport } from './udp-transport.js';
export * from './via-routing.js';
