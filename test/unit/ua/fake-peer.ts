/**
 * The other end of a UserAgent in unit tests: one UDP socket on 127.0.0.1
 * that plays the node (registrar, proxy) or the remote phone. It records
 * every message, sends messages the test builds, and waits (bounded) for the
 * ones the test expects. The test closes it.
 */
import dgram from 'node:dgram';
import { parseMessage, serializeMessage } from '../../../src/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/sip/message/message.js';

export class FakePeer {
  readonly received: SipMessage[] = [];
  readonly port: number;
  readonly #socket: dgram.Socket;
  readonly #waiting = new Set<() => void>();
  /** Where the last message came from (replies go there by default). */
  #lastFrom = 0;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    this.port = socket.address().port;
    socket.on('message', (buf, rinfo) => {
      this.received.push(parseMessage(buf));
      this.#lastFrom = rinfo.port;
      for (const wake of [...this.#waiting]) wake();
    });
  }

  static async open(): Promise<FakePeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new FakePeer(socket);
  }

  /** Sends `msg` to `port` on 127.0.0.1 (default: whoever spoke last). */
  send(msg: SipMessage, port = this.#lastFrom): void {
    this.#socket.send(serializeMessage(msg), port, '127.0.0.1');
  }

  /** The `n`th (1-based) received message matching `pred`; rejects after `ms`. */
  waitFor(pred: (m: SipMessage) => boolean, what: string, n = 1, ms = 5000): Promise<SipMessage> {
    const find = () => this.received.filter(pred)[n - 1];
    const seen = find();
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(wake);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const wake = () => {
        const m = find();
        if (!m) return;
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve(m);
      };
      this.#waiting.add(wake);
    });
  }

  request(method: string, n = 1): Promise<SipRequest> {
    return this.waitFor(
      (m) => m.kind === 'request' && m.method === method,
      `${method} #${n}`,
      n,
    ) as Promise<SipRequest>;
  }

  response(status: number, method: string, n = 1): Promise<SipResponse> {
    return this.waitFor(
      (m) =>
        m.kind === 'response' && m.status === status && m.get('CSeq')?.endsWith(method) === true,
      `${status} to ${method} #${n}`,
      n,
    ) as Promise<SipResponse>;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
