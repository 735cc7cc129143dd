/**
 * The narrow interfaces the proxy needs from the rest of the node. The
 * composition root (src/node/) adapts the transaction layer, the lookup
 * service and the tunnel to these, so the proxy can be read — and tested —
 * on its own.
 */
import type { HeaderField, SipRequest, SipResponse } from '../sip/message/message.js';
import type { TransportAddress } from '../sip/transport.js';
import type { Side } from './routing.js';

/** Where a request came from, as far as the proxy is concerned. */
export type Origin =
  /** One of the node's own softphones, over UDP/TCP. */
  | { kind: 'local'; flow: TransportAddress }
  /**
   * A peer node through a tunnel whose Noise handshake authenticated
   * `peerKey` (hex; where replies go). `peerAor` and `identityKey` are what
   * its IDENTITY frame proved (they differ from `peerKey` when we dialled the
   * peer's per-epoch tunnel key); `localKey` is our key the tunnel reached
   * (identity or epoch key: the one to Record-Route with).
   */
  | {
      kind: 'tunnel';
      peerKey: string;
      peerAor: string | undefined;
      identityKey?: string;
      localKey?: string;
    };

/** Where the proxy sends a request. */
export type Target =
  | { kind: 'local'; flow: TransportAddress; requestUri?: string }
  /** `localKey`: our key to Record-Route with (one the peer may dial back); default the identity key. */
  | { kind: 'tunnel'; peerKey: string; aor?: string; localKey?: string };

/** A server transaction as the proxy sees it. */
export interface ServerTx {
  respond(res: SipResponse): void;
}

export interface ClientTxHandlers {
  onResponse(res: SipResponse): void;
  /** Timer B / F fired with no final response. */
  onTimeout(): void;
  /** The request could not be sent (tunnel down, socket error). */
  onTransportError(err: Error): void;
}

export interface TransactionPort {
  /** Starts a client transaction (the request carries our new top Via). */
  sendRequest(req: SipRequest, dest: TransportAddress, handlers: ClientTxHandlers): void;
  /** Sends without a transaction: ACK for 2xx (RFC 3261 §16.11 stateless forwarding). */
  sendStateless(req: SipRequest, dest: TransportAddress): void;
}

/** The result of looking a callee up in the lookup service(s). */
export type Resolution =
  | {
      ok: true;
      peerKey: string;
      aor: string;
      localKey?: string;
      /** The peer's DHT node address from its package (a `udp` contact), a connect hint. */
      hint?: { host: string; port: number };
    }
  | { ok: false; status: number; reason: string; warning?: string };

export interface Resolver {
  resolve(aor: string, signal?: AbortSignal): Promise<Resolution>;
}

/**
 * Media between the node's softphone and the peer node (issue 5,
 * docs/media.md): the node rewrites the SDP of what it forwards so that
 * RTP goes through its relay and the tunnel.
 */
export interface MediaPort {
  /**
   * A request about to be forwarded (our copy): rewrite its SDP in place. A
   * Rejection when its media cannot be relayed (answered instead of forwarded).
   */
  request(req: SipRequest, from: Side, to: Side): Promise<Rejection | undefined>;
  /**
   * A response about to be relayed upstream; `request` is the request as we
   * forwarded it, `from` the side the response came from. Rewrites its SDP
   * in place; false when its media cannot be relayed.
   */
  response(res: SipResponse, request: SipRequest, from: Side, to: Side): Promise<boolean>;
}

/** A final answer the chain gives instead of forwarding. */
export interface Rejection {
  status: number;
  reason: string;
  headers?: HeaderField[];
}
