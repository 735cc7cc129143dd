/**
 * The UDP socket (RFC 3261 §18.1.1, §18.2): one bound socket both receives
 * and sends, so responses and requests leave from the port softphones know
 * (symmetric signalling; RFC 3581 relies on it). Knows nothing of SIP: it
 * hands datagrams up and sends bytes.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { channels, publish } from './diagnostics.js';
import { NetError } from './errors.js';
import { bareHost } from './via-routing.js';

/** Largest UDP payload over IPv4 (65535 − 8 UDP − 20 IP header bytes). */
export const MAX_DATAGRAM = 65507;

export type DatagramHandler = (data: Buffer, from: { host: string; port: number }) => void;

export class UdpTransport {
  readonly host: string;
  readonly port: number;
  private readonly socket: dgram.Socket;
  private closed = false;

  private constructor(socket: dgram.Socket, host: string, port: number) {
    this.socket = socket;
    this.host = host;
    this.port = port;
  }

  /** Binds host:port (port 0 = ephemeral; read `.port`). Rejects NetError BindFailed / BadAddress. */
  static bind(host: string, port: number, onDatagram: DatagramHandler): Promise<UdpTransport> {
    const bare = bareHost(host);
    const family = isIP(bare);
    if (family === 0) return Promise.reject(NetError.badAddress(`not an IP literal: ${host}`));
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error) => {
        socket.close();
        reject(NetError.bindFailed(`udp ${host}:${port}`, err));
      };
      socket.once('error', onBindError);
      socket.bind({ address: bare, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        const t = new UdpTransport(socket, bare, socket.address().port);
        socket.on('message', (data, rinfo) =>
          onDatagram(data, { host: rinfo.address, port: rinfo.port }),
        );
        // After binding, errors are per-send (reported to the sender) or
        // transient; they must not crash the process.
        socket.on('error', (error) =>
          publish(channels.error, () => ({
            where: 'socket',
            error,
            remote: { protocol: 'udp', host: t.host, port: t.port },
          })),
        );
        resolve(t);
      });
    });
  }

  /** Sends one datagram; resolves when the kernel took it. */
  send(bytes: Uint8Array, host: string, port: number): Promise<void> {
    if (this.closed) return Promise.reject(NetError.closed());
    if (bytes.length > MAX_DATAGRAM) return Promise.reject(NetError.datagramTooLarge(bytes.length));
    const to = bareHost(host);
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, port, to, (err) => {
        if (err) reject(NetError.sendFailed(`udp ${to}:${port}`, err));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
