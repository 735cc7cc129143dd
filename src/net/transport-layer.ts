/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581): UDP and TCP on one
 * host:port, parsed inbound messages up as `Inbound`, messages down through
 * `MessageSender.send` and `sendResponse`. Everything above it (transactions,
 * the proxy) sees SipMessage objects only.
 *
 * Inbound, per message:
 *   bytes → (TCP: StreamFramer) → parseMessage → requests: stamp received/rport
 *   on the top Via (§18.2.1, RFC 3581 §4), alias the TCP connection under the
 *   advertised address → onMessage(inbound).
 * A request that fails to parse is answered here (400/505/513/… from
 * `responseFor`) when the parser got far enough to know its Via, From, To,
 * Call-ID and CSeq (`SipError.partial`); anything else is dropped. Both are
 * reported on the `p2psip:net:malformed` diagnostics channel.
 *
 * Addresses are IP literals only: this layer does no DNS (RFC 3263 is for
 * whoever picks the next hop; on this project's paths it is always an IP).
 */
import { isIP } from 'node:net';
import { responseFor, SipError } from '../sip/errors.js';
import { DEFAULT_MAX_HEADER_SIZE, DEFAULT_MAX_MESSAGE_SIZE } from '../sip/framing.js';
import {
  makeResponse,
  parseMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  serializeMessage,
  topVia,
  type Via,
} from '../sip/message/index.js';
import type { Inbound, MessageSender, TransportAddress } from '../sip/transport.js';
import { channels, publish } from './diagnostics.js';
import { NetError } from './errors.js';
import { type TcpConnection, TcpTransport } from './tcp-transport.js';
import { UdpTransport } from './udp-transport.js';
import {
  bareHost,
  responseDestination,
  type SocketProtocol,
  stampTopVia,
  updateTopVia,
  viaProtocol,
} from './via-routing.js';

export interface TransportLayerOptions {
  /** IP literal to bind, "127.0.0.1" (default) or "::1". */
  host?: string;
  /** Port for both UDP and TCP (default 5060). 0 picks one free port for both. */
  port?: number;
  /** Serve UDP (default true). */
  udp?: boolean;
  /** Serve TCP (default true). */
  tcp?: boolean;
  /** Called for every parsed inbound message. May be set later on the instance. */
  onMessage?: (inbound: Inbound) => void;
  /** Answer unparseable requests with 400/505/513 where possible (default true). */
  answerMalformed?: boolean;
  /** Largest message accepted (default 65536 bytes). */
  maxMessageSize?: number;
  /** Largest header block on a stream (default 65536 bytes). */
  maxHeaderSize?: number;
  /** TCP connections without traffic are closed after this long (default 300 000 ms). */
  tcpIdleTimeoutMs?: number;
  /** Unsent bytes tolerated on one TCP connection before it is dropped (default 1 MiB). */
  tcpMaxWriteBuffer?: number;
  /** Inbound TCP connections at once (default 1024). */
  tcpMaxConnections?: number;
  /**
   * RFC 3261 §18.1.1: a request larger than 1300 bytes (path MTU unknown)
   * MUST go over a congestion-controlled transport. Off by default (see
   * `send`): our peers are local softphones on loopback (MTU 64 KiB), some of
   * which listen on UDP only. When on, such a request is sent over TCP to the
   * same address with its top Via transport changed to TCP, and falls back to
   * UDP if the connection is refused or reset, as §18.1.1 says.
   */
  largeRequestsOverTcp?: boolean;
}

/** RFC 3261 §18.1.1: the size above which a request SHOULD NOT go over UDP when the MTU is unknown. */
export const UDP_SIZE_THRESHOLD = 1300;

/** How many times `port: 0` retries to find a port free for both UDP and TCP. */
const SHARED_PORT_ATTEMPTS = 20;

export class TransportLayer implements MessageSender {
  /** Inbound message handler; exceptions it throws are caught and reported (p2psip:net:error). */
  onMessage: (inbound: Inbound) => void;
  readonly host: string;
  private readonly udp: UdpTransport | undefined;
  private readonly tcp: TcpTransport | undefined;
  private readonly opts: Required<Omit<TransportLayerOptions, 'onMessage'>>;
  private closing: Promise<void> | undefined;

  private constructor(
    opts: Required<Omit<TransportLayerOptions, 'onMessage'>>,
    onMessage: ((inbound: Inbound) => void) | undefined,
    udp: UdpTransport | undefined,
    tcp: TcpTransport | undefined,
  ) {
    this.opts = opts;
    this.host = bareHost(opts.host);
    this.onMessage = onMessage ?? (() => {});
    this.udp = udp;
    this.tcp = tcp;
  }

  /** Binds the sockets; rejects NetError BindFailed / BadAddress. */
  static async listen(options: TransportLayerOptions = {}): Promise<TransportLayer> {
    const opts: Required<Omit<TransportLayerOptions, 'onMessage'>> = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 5060,
      udp: options.udp ?? true,
      tcp: options.tcp ?? true,
      answerMalformed: options.answerMalformed ?? true,
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
      tcpIdleTimeoutMs: options.tcpIdleTimeoutMs ?? 300_000,
      tcpMaxWriteBuffer: options.tcpMaxWriteBuffer ?? 1024 * 1024,
      tcpMaxConnections: options.tcpMaxConnections ?? 1024,
      largeRequestsOverTcp: options.largeRequestsOverTcp ?? false,
    };
    if (isIP(bareHost(opts.host)) === 0) {
      throw NetError.badAddress(`not an IP literal: ${opts.host}`);
    }
    if (!opts.udp && !opts.tcp) throw NetError.badAddress('neither UDP nor TCP enabled');
    // Handlers are bound late: the sockets exist before the layer object.
    let layer: TransportLayer | undefined;
    const onDatagram = (data: Buffer, from: { host: string; port: number }) =>
      layer?.receive(data, { protocol: 'udp', ...from }, undefined);
    const tcpHandlers = {
      onMessage: (bytes: Uint8Array, conn: TcpConnection) =>
        layer?.receive(bytes, { protocol: 'tcp', ...conn.remote }, conn),
      onFramingError: (err: SipError, conn: TcpConnection) =>
        layer?.malformed(err, { protocol: 'tcp', ...conn.remote }, conn, true),
    };
    const tcpOpts = {
      idleTimeoutMs: opts.tcpIdleTimeoutMs,
      maxHeaderSize: opts.maxHeaderSize,
      maxMessageSize: opts.maxMessageSize,
      maxWriteBuffer: opts.tcpMaxWriteBuffer,
      maxConnections: opts.tcpMaxConnections,
    };

    // One port number for both protocols: softphones advertise a single port.
    const attempts = opts.port === 0 && opts.udp && opts.tcp ? SHARED_PORT_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      const tcp = opts.tcp
        ? await TcpTransport.listen(opts.host, opts.port, tcpOpts, tcpHandlers)
        : undefined;
      try {
        const udp = opts.udp
          ? await UdpTransport.bind(opts.host, tcp?.port ?? opts.port, onDatagram)
          : undefined;
        layer = new TransportLayer(opts, options.onMessage, udp, tcp);
        return layer;
      } catch (err) {
        await tcp?.close();
        if (attempt >= attempts) throw err;
      }
    }
  }

  /** The bound port (the same for UDP and TCP). */
  get port(): number {
    return (this.udp?.port ?? this.tcp?.port) as number;
  }

  /** Our listening address for `protocol`, as it belongs in Via sent-by and Contact. */
  address(protocol: SocketProtocol): TransportAddress {
    return { protocol, host: this.host, port: this.port };
  }

  /**
   * Serialises and sends `message` to `to`. TCP reuses the open connection to
   * that address or to an alias of it (the connection a softphone registered
   * over), and opens one otherwise. Rejects NetError (or SipError when the
   * message cannot be serialised).
   */
  async send(message: SipMessage, to: TransportAddress): Promise<void> {
    if (this.closing) throw NetError.closed();
    if (to.protocol !== 'udp' && to.protocol !== 'tcp') {
      throw NetError.unsupportedTransport(to.protocol);
    }
    if (isIP(bareHost(to.host)) === 0) throw NetError.badAddress(`not an IP literal: ${to.host}`);
    const bytes = serializeMessage(message);
    if (to.protocol === 'tcp') return this.requireTcp().send(bytes, to.host, to.port);
    if (
      this.opts.largeRequestsOverTcp &&
      this.tcp !== undefined &&
      message.kind === 'request' &&
      bytes.length > UDP_SIZE_THRESHOLD
    ) {
      return this.sendLargeRequest(message, to);
    }
    return this.requireUdp().send(bytes, to.host, to.port);
  }

  /**
   * Sends a response where its top Via says (RFC 3261 §18.2.2, RFC 3581 §4).
   * TCP: the connection the request came on if still open (found by
   * received:rport, or the alias of the advertised address), else a new
   * connection to received (or sent-by host) and the sent-by port. UDP: to
   * received/rport, or sent-by. Rejects NetError NoVia / UnsupportedTransport.
   */
  async sendResponse(res: SipResponse): Promise<void> {
    if (this.closing) throw NetError.closed();
    const via = topVia(res);
    if (via === undefined) throw NetError.noVia();
    const protocol = viaProtocol(via);
    if (protocol === undefined) throw NetError.unsupportedTransport(via.transport);
    const to = responseDestination(via, protocol);
    if (protocol === 'tcp') {
      const received = via.params.get('received');
      const rport = via.params.get('rport');
      const exact = received && rport ? this.tcp?.connection(received, Number(rport)) : undefined;
      if (exact !== undefined) return exact.write(serializeMessage(res));
    }
    return this.send(res, to);
  }

  /** Closes every socket, connection and timer; resolves when all are closed. */
  close(): Promise<void> {
    this.closing ??= Promise.all([this.udp?.close(), this.tcp?.close()]).then(() => {});
    return this.closing;
  }

  // ---- inbound -------------------------------------------------------------

  private receive(bytes: Uint8Array, source: TransportAddress, conn: TcpConnection | undefined) {
    if (this.closing) return;
    // A datagram of CR/LF only is a keep-alive (RFC 5626 §3.5.1 uses STUN on
    // UDP, but some clients send CRLF); nothing to parse or answer.
    if (conn === undefined && onlyCrLf(bytes)) return;
    let msg: SipMessage;
    try {
      msg = parseMessage(bytes, {
        datagram: conn === undefined,
        maxSize: this.opts.maxMessageSize,
      });
      if (msg.kind === 'request') this.stamp(msg, source, conn);
    } catch (err) {
      if (err instanceof SipError) this.malformed(err, source, conn, false);
      else this.report('handler', err, source);
      return;
    }
    const local = this.address(source.protocol as SocketProtocol);
    try {
      this.onMessage({ message: msg, source, local });
    } catch (err) {
      this.report('handler', err, source);
    }
  }

  /** §18.2.1 / RFC 3581 stamping; over TCP, alias the connection under the advertised address. */
  private stamp(req: SipRequest, source: TransportAddress, conn: TcpConnection | undefined) {
    const via = stampTopVia(req, source);
    if (conn !== undefined && this.tcp !== undefined && viaProtocol(via) === 'tcp') {
      const advertised = responseDestination(via, 'tcp');
      const self = advertised.host === this.host && advertised.port === this.port;
      if (isIP(advertised.host) !== 0 && !self) {
        this.tcp.alias(conn, advertised.host, advertised.port);
      }
    }
  }

  /**
   * A message that did not frame or parse. Requests whose partial message has
   * what a response needs get one (never ACK: RFC 3261 §17.2.1 — ACKs are not
   * answered); the rest is dropped. Over TCP the answer goes back on the same
   * connection; a framing error then closes it (done by the TCP transport).
   */
  private malformed(
    err: SipError,
    source: TransportAddress,
    conn: TcpConnection | undefined,
    closing: boolean,
  ): void {
    let answered = false;
    const partial = err.partial;
    if (this.opts.answerMalformed && partial?.kind === 'request' && partial.method !== 'ACK') {
      const verdict = responseFor(err, true);
      const answer =
        verdict.verdict === 'reject' && verdict.status !== undefined
          ? errorAnswer(partial, source, verdict.status, verdict.reason)
          : undefined;
      if (answer !== undefined) {
        answered = true;
        let sent: Promise<void>;
        if (conn !== undefined) sent = conn.write(answer.bytes);
        else {
          const to = responseDestination(answer.via, 'udp');
          sent = this.requireUdp().send(answer.bytes, to.host, to.port);
        }
        sent.catch((error: unknown) => this.report('answer', error, source));
      }
    }
    publish(channels.malformed, () => ({
      code: err.code,
      message: err.message,
      source,
      answered,
      closed: closing,
    }));
  }

  // ---- outbound ------------------------------------------------------------

  /** RFC 3261 §18.1.1: large request over TCP, with its top Via saying so; UDP if refused. */
  private async sendLargeRequest(req: SipRequest, to: TransportAddress): Promise<void> {
    const index = req.headers.findIndex((h) => h.name === 'Via');
    const original = req.headers[index];
    if (original === undefined || topVia(req)?.transport !== 'UDP') {
      return this.requireUdp().send(serializeMessage(req), to.host, to.port);
    }
    updateTopVia(req, (top) => {
      top.transport = 'TCP';
      return true;
    });
    try {
      await this.requireTcp().send(serializeMessage(req), to.host, to.port);
    } catch (err) {
      // "…if the attempt to establish the connection generates either an ICMP
      // Protocol Not Supported, or results in a TCP reset, the element SHOULD
      // retry the request, using UDP."
      if (!(err instanceof NetError) || err.code !== 'NET_CONNECT_FAILED') throw err;
      req.headers[index] = original;
      await this.requireUdp().send(serializeMessage(req), to.host, to.port);
    }
  }

  private requireUdp(): UdpTransport {
    if (this.udp === undefined) throw NetError.unsupportedTransport('UDP');
    return this.udp;
  }

  private requireTcp(): TcpTransport {
    if (this.tcp === undefined) throw NetError.unsupportedTransport('TCP');
    return this.tcp;
  }

  private report(where: string, error: unknown, remote: TransportAddress): void {
    publish(channels.error, () => ({ where, error, remote }));
  }
}

/**
 * The serialised error response to a partial request, and its stamped top
 * Via; undefined when the request lacks what a response needs (Via, From,
 * To, Call-ID, CSeq) or they are too broken to copy.
 */
function errorAnswer(
  req: SipRequest,
  source: TransportAddress,
  status: number,
  reason: string | undefined,
): { bytes: Buffer; via: Via } | undefined {
  for (const h of ['From', 'To', 'Call-ID', 'CSeq']) if (!req.has(h)) return undefined;
  try {
    const via = stampTopVia(req, source);
    return { bytes: serializeMessage(makeResponse(req, status, reason)), via };
  } catch {
    return undefined; // no usable Via, or a To we cannot tag
  }
}

function onlyCrLf(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}
