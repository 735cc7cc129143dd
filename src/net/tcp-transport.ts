/**
 * TCP for SIP (RFC 3261 §18): a listening socket, a table of connections
 * (inbound and outbound alike) keyed by remote ip:port, Content-Length
 * framing per connection (src/sip/framing.ts), RFC 5626 CRLF ping/pong, idle
 * timeout, bounded write queues. Knows nothing of SIP beyond framing: it hands
 * framed messages up and writes bytes.
 *
 * Aliases: softphones connect from an ephemeral port but advertise their
 * listening port (Via sent-by, Contact). The layer above calls `alias()` so
 * the connection is also found under that advertised address, and a request
 * sent there reuses the connection instead of opening a new one (baresip
 * expects requests on its own connection; RFC 5923 describes the same idea
 * with an explicit ";alias" Via parameter, which we do not require).
 */
import net from 'node:net';
import type { SipError } from '../sip/errors.js';
import { StreamFramer } from '../sip/framing.js';
import { channels, publish } from './diagnostics.js';
import { NetError } from './errors.js';
import { addressKey, bareHost } from './via-routing.js';

export interface TcpOptions {
  /** Close a connection after this long without traffic either way. */
  idleTimeoutMs: number;
  maxHeaderSize: number;
  maxMessageSize: number;
  /** Bytes queued unsent on one connection beyond which the peer is deemed stuck and dropped. */
  maxWriteBuffer: number;
  /** Inbound connections accepted at once. */
  maxConnections: number;
}

export interface TcpHandlers {
  /** One framed message (header block + exactly Content-Length body bytes). */
  onMessage(bytes: Uint8Array, conn: TcpConnection): void;
  /**
   * The stream broke framing (no/bad Content-Length, too large). The handler
   * may `conn.write()` an error response; the connection is then closed once
   * that is flushed.
   */
  onFramingError(err: SipError, conn: TcpConnection): void;
}

interface PendingWrite {
  reject(err: Error): void;
}

const PONG = Buffer.from('\r\n');

/** One TCP connection, inbound or outbound. */
export class TcpConnection {
  readonly remote: { host: string; port: number };
  readonly direction: 'inbound' | 'outbound';
  /** Keys of the connection table that point here (its address and aliases). */
  readonly keys = new Set<string>();
  /** Resolves when the socket is fully closed. */
  readonly closed: Promise<void>;
  private readonly socket: net.Socket;
  private readonly maxWriteBuffer: number;
  private readonly pending = new Set<PendingWrite>();
  private closeCause: Error | undefined;
  private isOpen = true;

  constructor(
    socket: net.Socket,
    remote: { host: string; port: number },
    direction: 'inbound' | 'outbound',
    maxWriteBuffer: number,
  ) {
    this.socket = socket;
    this.remote = remote;
    this.direction = direction;
    this.maxWriteBuffer = maxWriteBuffer;
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isOpen = false;
        const cause = this.closeCause;
        const err =
          cause instanceof NetError ? cause : NetError.connectionClosed(this.where(), cause);
        for (const p of this.pending) p.reject(err);
        this.pending.clear();
        resolve();
      });
    });
  }

  /** True until the connection starts closing. */
  get open(): boolean {
    return this.isOpen && !this.socket.destroyed && this.socket.writable;
  }

  /**
   * Queues bytes (synchronously, so a write before `end()` goes out before
   * the FIN); resolves when they are handed to the kernel. A peer that lets
   * more than `maxWriteBuffer` bytes pile up is disconnected (WriteOverflow).
   */
  write(bytes: Uint8Array): Promise<void> {
    if (!this.open) return Promise.reject(NetError.connectionClosed(this.where()));
    const queued = this.socket.writableLength + bytes.length;
    if (queued > this.maxWriteBuffer) {
      const err = NetError.writeOverflow(this.where(), queued);
      this.destroy(err);
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const p: PendingWrite = { reject };
      this.pending.add(p);
      this.socket.write(bytes, (err) => {
        if (!this.pending.delete(p)) return; // already rejected by close
        if (err) reject(NetError.connectionClosed(this.where(), err));
        else resolve();
      });
    });
  }

  /** Closes after queued bytes are flushed. */
  end(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.socket.end(() => this.socket.destroy());
  }

  /** Closes at once; pending writes reject with NetError ConnectionClosed (cause: `cause`). */
  destroy(cause?: Error): void {
    this.isOpen = false;
    this.closeCause ??= cause;
    this.socket.destroy();
  }

  /** "tcp 127.0.0.1:5080" */
  where(): string {
    return `tcp ${this.remote.host}:${this.remote.port}`;
  }

  /** Sends a CRLF pong; best effort (the ping's sender retries). */
  pong(): void {
    if (this.open && this.socket.writableLength < this.maxWriteBuffer) this.socket.write(PONG);
  }
}

export class TcpTransport {
  readonly host: string;
  readonly port: number;
  private readonly server: net.Server;
  private readonly opts: TcpOptions;
  private readonly handlers: TcpHandlers;
  /** remote ip|port (and aliases) → connection. */
  private readonly table = new Map<string, TcpConnection>();
  /** Every live connection (a connection may have lost all its keys to newer ones). */
  private readonly conns = new Set<TcpConnection>();
  private closing = false;

  private constructor(
    server: net.Server,
    host: string,
    port: number,
    opts: TcpOptions,
    handlers: TcpHandlers,
  ) {
    this.server = server;
    this.host = host;
    this.port = port;
    this.opts = opts;
    this.handlers = handlers;
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on host:port (0 = ephemeral; read `.port`). Rejects NetError BindFailed / BadAddress. */
  static listen(
    host: string,
    port: number,
    opts: TcpOptions,
    handlers: TcpHandlers,
  ): Promise<TcpTransport> {
    const bare = bareHost(host);
    if (net.isIP(bare) === 0) {
      return Promise.reject(NetError.badAddress(`not an IP literal: ${host}`));
    }
    const server = net.createServer({ noDelay: true });
    server.maxConnections = opts.maxConnections;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        server.close();
        reject(NetError.bindFailed(`tcp ${host}:${port}`, err));
      };
      server.once('error', onError);
      server.listen({ host: bare, port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (error) => publish(channels.error, () => ({ where: 'socket', error })));
        const addr = server.address() as net.AddressInfo;
        resolve(new TcpTransport(server, bare, addr.port, opts, handlers));
      });
    });
  }

  /** The open connection known under host:port (its remote address or an alias), if any. */
  connection(host: string, port: number): TcpConnection | undefined {
    const conn = this.table.get(addressKey(host, port));
    return conn?.open ? conn : undefined;
  }

  /** Also find `conn` under host:port from now on (replacing an older connection there). */
  alias(conn: TcpConnection, host: string, port: number): void {
    if (!conn.open) return;
    const key = addressKey(host, port);
    const old = this.table.get(key);
    if (old === conn) return;
    old?.keys.delete(key);
    this.table.set(key, conn);
    conn.keys.add(key);
  }

  /** Writes to the connection for host:port, opening one if there is none. */
  send(bytes: Uint8Array, host: string, port: number): Promise<void> {
    if (this.closing) return Promise.reject(NetError.closed());
    const conn = this.connection(host, port) ?? this.connect(host, port);
    return conn.write(bytes);
  }

  /** Closes the listener and every connection; resolves when all are closed. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const all = [...this.conns];
    for (const c of all) c.destroy(NetError.closed());
    await Promise.all([serverClosed, ...all.map((c) => c.closed)]);
    this.table.clear();
  }

  private accept(socket: net.Socket): void {
    if (this.closing || socket.remoteAddress === undefined || socket.remotePort === undefined) {
      socket.destroy();
      return;
    }
    const remote = { host: bareHost(socket.remoteAddress), port: socket.remotePort };
    this.track(new TcpConnection(socket, remote, 'inbound', this.opts.maxWriteBuffer), socket);
  }

  private connect(host: string, port: number): TcpConnection {
    const remote = { host: bareHost(host), port };
    if (net.isIP(remote.host) === 0) throw NetError.badAddress(`not an IP literal: ${host}`);
    const socket = net.connect({ host: remote.host, port, noDelay: true });
    const conn = new TcpConnection(socket, remote, 'outbound', this.opts.maxWriteBuffer);
    socket.once('error', (err) => conn.destroy(NetError.connectFailed(conn.where(), err)));
    this.track(conn, socket);
    return conn;
  }

  /** Registers a connection: table entry, framing, idle timeout, cleanup on close. */
  private track(conn: TcpConnection, socket: net.Socket): void {
    this.conns.add(conn);
    const key = addressKey(conn.remote.host, conn.remote.port);
    this.table.get(key)?.keys.delete(key);
    this.table.set(key, conn);
    conn.keys.add(key);
    const remote = { protocol: 'tcp' as const, ...conn.remote };
    publish(channels.connection, () => ({ event: 'open', direction: conn.direction, remote }));

    const framer = new StreamFramer({
      maxHeaderSize: this.opts.maxHeaderSize,
      maxMessageSize: this.opts.maxMessageSize,
    });
    socket.on('data', (chunk: Buffer) => {
      const messages = framer.push(chunk);
      for (const m of messages) this.handlers.onMessage(m, conn);
      // RFC 5626 §4.4.1: a double-CRLF ping is answered with a single CRLF.
      for (let i = 0; i < framer.pings; i++) conn.pong();
      if (framer.error !== undefined) {
        socket.pause(); // the stream position is lost: read nothing more
        this.handlers.onFramingError(framer.error, conn);
        conn.end();
      }
    });
    socket.setTimeout(this.opts.idleTimeoutMs, () => conn.destroy());
    socket.on('error', (error) => {
      conn.destroy(error);
      publish(channels.error, () => ({ where: 'socket', error, remote }));
    });
    socket.once('close', () => {
      for (const k of conn.keys) if (this.table.get(k) === conn) this.table.delete(k);
      conn.keys.clear();
      this.conns.delete(conn);
      publish(channels.connection, () => ({ event: 'close', direction: conn.direction, remote }));
    });
  }
}
