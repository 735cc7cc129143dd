/**
 * The contract between the SIP core (pure) and the sockets that live in
 * src/net/. The core never touches a socket: it sends and receives through
 * this interface, so transactions and the proxy are testable without I/O.
 */
import type { SipMessage } from './message/message.js';

/**
 * 'udp' and 'tcp' are sockets to local softphones (src/net/). 'tunnel' is a
 * Noise connection to a peer node (src/tunnel/): reliable, authenticated; its
 * `host` is the peer's public key (lowercase hex) and `port` is 0.
 */
export type TransportProtocol = 'udp' | 'tcp' | 'tunnel';

export interface TransportAddress {
  protocol: TransportProtocol;
  /** IP literal: "127.0.0.1" or "::1" (no brackets); for 'tunnel', the peer key in hex. */
  host: string;
  port: number;
}

/** A message received from the network, already parsed. */
export interface Inbound {
  message: SipMessage;
  /** Where the bytes came from (the connection's remote end for TCP). */
  source: TransportAddress;
  /** Our listening address that received it. */
  local: TransportAddress;
}

/** Sends messages; implemented by src/net/* and by in-memory fakes in tests. */
export interface MessageSender {
  /** Serialises and sends. TCP reuses a connection to (host, port) or an alias of it. */
  send(message: SipMessage, to: TransportAddress): Promise<void>;
}
