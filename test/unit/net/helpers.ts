/** Small helpers for the socket tests (test/unit/net, test/integration). */
import { parseMessage, type SipRequest } from '../../../src/sip/message/index.js';
import type { Inbound } from '../../../src/sip/transport.js';

/** Guards a wait so a lost packet fails the test instead of hanging it (not a speed check). */
export async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Items in arrival order; `next()` waits (bounded) for the next one. */
export class Queue<T> {
  readonly all: T[] = [];
  private waiting: Array<(x: T) => void> = [];
  private read = 0;

  readonly push = (x: T): void => {
    this.all.push(x);
    const w = this.waiting.shift();
    if (w) {
      this.read++;
      w(x);
    }
  };

  next(what = 'inbound message'): Promise<T> {
    if (this.read < this.all.length) return Promise.resolve(this.all[this.read++] as T);
    return within(new Promise<T>((resolve) => this.waiting.push(resolve)), what);
  }
}

/** Inbound messages from a TransportLayer (pass `queue.push` as onMessage). */
export class InboundQueue extends Queue<Inbound> {}

export interface RequestSpec {
  method?: string;
  /** Via transport and sent-by, e.g. 'UDP', '127.0.0.1:5070'. */
  transport?: string;
  sentBy?: string;
  /** Extra Via params after the branch, e.g. ';rport'. */
  viaParams?: string;
  callId?: string;
  body?: string;
}

/** A well-formed request as raw text (CRLF line ends, correct Content-Length). */
export function requestText(spec: RequestSpec = {}): string {
  const method = spec.method ?? 'OPTIONS';
  const body = spec.body ?? '';
  return (
    `${method} sip:bob@127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/${spec.transport ?? 'UDP'} ${spec.sentBy ?? '127.0.0.1:5070'};branch=z9hG4bK-${Math.random().toString(36).slice(2)}${spec.viaParams ?? ''}\r\n` +
    'From: <sip:alice@127.0.0.1>;tag=a1\r\n' +
    'To: <sip:bob@127.0.0.1>\r\n' +
    `Call-ID: ${spec.callId ?? 'c1@test'}\r\n` +
    `CSeq: 1 ${method}\r\n` +
    'Max-Forwards: 70\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

/** The same request as a SipRequest. */
export function request(spec: RequestSpec = {}): SipRequest {
  return parseMessage(Buffer.from(requestText(spec))) as SipRequest;
}
