/**
 * A scriptable "softphone" on a raw UDP socket (127.0.0.1): sends exactly the
 * bytes a test writes and exposes every message it receives, so tests can
 * check what a node does on the wire. Closed by the caller (`close()`).
 */
import dgram from 'node:dgram';
import { parseMessage } from '../../src/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message/message.js';

export class RawPhone {
  readonly received: SipMessage[] = [];
  readonly #socket: dgram.Socket;
  readonly port: number;
  #waiters: Array<{ pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  /** Auto-reply to requests (e.g. answer INVITE); return the raw responses to send. */
  onRequest: ((req: SipRequest, raw: string) => string[]) | undefined;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    this.port = socket.address().port;
    socket.on('message', (buf, rinfo) => {
      let msg: SipMessage;
      try {
        msg = parseMessage(buf);
      } catch {
        return;
      }
      this.received.push(msg);
      if (msg.kind === 'request' && this.onRequest) {
        for (const out of this.onRequest(msg, buf.toString('latin1'))) {
          socket.send(Buffer.from(out, 'latin1'), rinfo.port, rinfo.address);
        }
      }
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(msg)) return true;
        w.resolve(msg);
        return false;
      });
    });
  }

  static async open(): Promise<RawPhone> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawPhone(socket);
  }

  send(text: string, port: number): void {
    this.#socket.send(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'), port, '127.0.0.1');
  }

  /** The first message (already received or future) matching `pred`; rejects after `ms`. */
  waitFor(pred: (m: SipMessage) => boolean, ms = 10_000, what = 'message'): Promise<SipMessage> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** The final response to the request whose Call-ID and CSeq method are given. */
  async finalFor(callId: string, method: string, ms = 10_000): Promise<SipResponse> {
    const m = await this.waitFor(
      (x) =>
        x.kind === 'response' &&
        x.status >= 200 &&
        x.get('Call-ID') === callId &&
        (x.get('CSeq') ?? '').endsWith(method),
      ms,
      `final response to ${method} ${callId}`,
    );
    return m as SipResponse;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** `text` with every character that is not a SIP token character replaced by '-'. */
function token(text: string): string {
  return text.replace(/[^A-Za-z0-9.!%*_+`'~-]/g, '-');
}

/** A request as a softphone writes it (CRLF added by send). */
export function request(o: {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq?: number;
  port: number;
  extra?: string[];
  body?: string;
}): string {
  const lines = [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.port};branch=z9hG4bK-${token(o.callId)}-${o.cseq ?? 1}-${o.method};rport`,
    'Max-Forwards: 70',
    `From: <sip:${o.from}>;tag=t-${token(o.callId)}`,
    `To: <sip:${o.to}>`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${o.method}`,
    `Contact: <sip:${o.from.split('@')[0]}@127.0.0.1:${o.port}>`,
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(o.body ?? '', 'latin1')}`,
    '',
    o.body ?? '',
  ];
  return lines.join('\n');
}

/** A response to `raw` (a request as received), echoing Via/From/To/Call-ID/CSeq/Record-Route. */
export function answer(
  raw: string,
  status: number,
  reason: string,
  toTag = 'callee',
  port?: number,
): string {
  const lines = raw.split('\r\n');
  const pick = (name: string) =>
    lines.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const to = pick('To')[0] ?? 'To: <sip:unknown@invalid>';
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...pick('Via'),
    ...(status > 100 && status < 300 ? pick('Record-Route') : []),
    ...pick('From'),
    to.includes('tag=') ? to : `${to};tag=${toTag}`,
    ...pick('Call-ID'),
    ...pick('CSeq'),
    ...(port ? [`Contact: <sip:callee@127.0.0.1:${port}>`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
