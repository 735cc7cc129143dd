/**
 * Test doubles for the transaction layer: a manual clock implementing
 * TimerApi, a recording sender, message builders and a recording TU.
 */

import type { SipError } from '../../../../src/sip/errors.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../../src/sip/message/message.js';
import { parseMessage } from '../../../../src/sip/message/parse.js';
import { makeResponse } from '../../../../src/sip/message/response.js';
import type { TransactionError } from '../../../../src/sip/transaction/errors.js';
import type { TimerApi, TimerSettings } from '../../../../src/sip/transaction/timers.js';
import {
  type ClientTransaction,
  type ClientTransactionUser,
  type ServerTransaction,
  type TransactionSender,
  TransactionState,
} from '../../../../src/sip/transaction/transaction.js';
import {
  TransactionLayer,
  type TransactionUser,
} from '../../../../src/sip/transaction/transaction-layer.js';
import type {
  Inbound,
  TransportAddress,
  TransportProtocol,
} from '../../../../src/sip/transport.js';

interface Scheduled {
  id: number;
  at: number;
  callback: () => void;
}

/** A clock that only moves when told to. Timers due at the same instant run in creation order. */
export class ManualTimers implements TimerApi {
  now = 0;
  private nextId = 1;
  private queue: Scheduled[] = [];

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.queue.push({ id, at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((t) => t.id !== handle);
  }

  /** Number of armed timers. */
  get pending(): number {
    return this.queue.length;
  }

  /** Move the clock forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (let step = 0; step < 100_000; step++) {
      let next: Scheduled | undefined;
      for (const t of this.queue) {
        if (
          t.at <= target &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))
        )
          next = t;
      }
      if (next === undefined) {
        this.now = target;
        return;
      }
      const due = next;
      this.queue = this.queue.filter((t) => t !== due);
      this.now = due.at;
      due.callback();
    }
    throw new Error('ManualTimers.advance: too many timers (runaway schedule?)');
  }

  /** Move to an absolute time. */
  advanceTo(at: number): void {
    this.advance(at - this.now);
  }
}

export interface Sent {
  at: number;
  message: SipMessage;
  to: TransportAddress | 'via';
}

/** Records what the transactions send; `fail` makes every send reject. */
export class RecordingSender implements TransactionSender {
  sent: Sent[] = [];
  fail = false;
  constructor(protected readonly clock: ManualTimers) {}

  send(message: SipMessage, to: TransportAddress): Promise<void> {
    this.sent.push({ at: this.clock.now, message, to });
    return this.fail ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve();
  }

  /** Times at which messages matching `pred` were sent. */
  times(pred: (m: SipMessage) => boolean = () => true): number[] {
    return this.sent.filter((s) => pred(s.message)).map((s) => s.at);
  }

  requests(method?: string): SipRequest[] {
    return this.messages().filter(
      (m): m is SipRequest => m.kind === 'request' && (method === undefined || m.method === method),
    );
  }

  responses(status?: number): SipResponse[] {
    return this.messages().filter(
      (m): m is SipResponse =>
        m.kind === 'response' && (status === undefined || m.status === status),
    );
  }

  private messages(): SipMessage[] {
    return this.sent.map((s) => s.message);
  }
}

/** A sender with Via-routed responses, like the src/net TransportLayer. */
export class ViaRoutingSender extends RecordingSender {
  sendResponse(response: SipResponse): Promise<void> {
    this.sent.push({ at: this.clock.now, message: response, to: 'via' });
    return Promise.resolve();
  }
}

export const PEER: TransportAddress = { protocol: 'udp', host: '127.0.0.1', port: 5062 };
export const LOCAL: TransportAddress = { protocol: 'udp', host: '127.0.0.1', port: 5060 };

export interface RequestSpec {
  method?: string;
  branch?: string;
  /** Full Via value; overrides `branch`. */
  via?: string;
  uri?: string;
  cseq?: number;
  fromTag?: string;
  toTag?: string;
  callId?: string;
  routes?: string[];
}

/** Build a request by parsing text, so tests use the real parser. */
export function request(spec: RequestSpec = {}): SipRequest {
  const method = spec.method ?? 'INVITE';
  const via = spec.via ?? `SIP/2.0/UDP 127.0.0.1:5062;branch=${spec.branch ?? 'z9hG4bKaaaa'}`;
  const lines = [
    `${method} ${spec.uri ?? 'sip:bob@127.0.0.1:5060'} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    ...(spec.routes ?? []).map((r) => `Route: ${r}`),
    `From: <sip:alice@127.0.0.1>;tag=${spec.fromTag ?? 'ftag'}`,
    `To: <sip:bob@127.0.0.1>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId ?? 'call-1@127.0.0.1'}`,
    `CSeq: ${spec.cseq ?? 1} ${method}`,
    'Contact: <sip:alice@127.0.0.1:5062>',
    'Content-Length: 0',
    '',
    '',
  ];
  const msg = parseMessage(Buffer.from(lines.join('\r\n')));
  if (msg.kind !== 'request') throw new Error('not a request');
  return msg;
}

/** A response to `req` with a fixed To tag (so retransmissions are identical). */
export function response(req: SipRequest, status: number, toTag = 'uas-tag'): SipResponse {
  return makeResponse(req, status, undefined, { toTag });
}

export function inbound(
  message: SipMessage,
  protocol: TransportProtocol = 'udp',
  source: TransportAddress = PEER,
): Inbound {
  return {
    message,
    source: { ...source, protocol },
    local: { ...LOCAL, protocol },
  };
}

/** A client-transaction TU that records what reaches it. */
export class RecordingClientUser implements ClientTransactionUser {
  responses: SipResponse[] = [];
  timeouts = 0;
  transportErrors: TransactionError[] = [];
  terminated = 0;
  onResponse(r: SipResponse): void {
    this.responses.push(r);
  }
  onTimeout(): void {
    this.timeouts++;
  }
  onTransportError(e: TransactionError): void {
    this.transportErrors.push(e);
  }
  onTerminated(_tx: ClientTransaction): void {
    this.terminated++;
  }
}

/** The layer's TU, recording everything; `onNewRequest` lets a test answer. */
export class RecordingUser implements TransactionUser {
  requests: ServerTransaction[] = [];
  acks: Inbound[] = [];
  stray: Inbound[] = [];
  malformed: SipError[] = [];
  onNewRequest: ((tx: ServerTransaction, inbound: Inbound) => void) | undefined;
  onRequest(tx: ServerTransaction, inb: Inbound): void {
    this.requests.push(tx);
    this.onNewRequest?.(tx, inb);
  }
  onAck(inb: Inbound): void {
    this.acks.push(inb);
  }
  onStrayResponse(inb: Inbound): void {
    this.stray.push(inb);
  }
  onMalformed(_inb: Inbound, err: SipError): void {
    this.malformed.push(err);
  }
}

/** Let rejected sends settle (transport errors are reported asynchronously). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The layer keeps no timers once everything is gone. */
export function idle(layer: TransactionLayer, clock: ManualTimers): boolean {
  const c = layer.counts();
  return c.client === 0 && c.server === 0 && clock.pending === 0;
}

export interface Harness {
  clock: ManualTimers;
  sender: RecordingSender;
  user: RecordingUser;
  layer: TransactionLayer;
}

/** A layer on a manual clock with a recording sender and TU. */
export function setup(
  settings: TimerSettings = {},
  sender?: (c: ManualTimers) => RecordingSender,
): Harness {
  const clock = new ManualTimers();
  const s = sender ? sender(clock) : new RecordingSender(clock);
  const user = new RecordingUser();
  const layer = new TransactionLayer({ ...settings, sender: s, user, timers: clock });
  return { clock, sender: s, user, layer };
}

/**
 * What a proxy TU does with a CANCEL (§9.2, §16.10): find the INVITE server
 * transaction, answer it 487 if it is still pending, answer the CANCEL 200 —
 * or 481 when nothing matches.
 */
export function answerCancel(layer: TransactionLayer, cancelTx: ServerTransaction): void {
  const invite = layer.findInviteForCancel(cancelTx.request);
  if (invite === undefined) {
    cancelTx.respond(response(cancelTx.request, 481));
    return;
  }
  if (invite.state === TransactionState.Proceeding) invite.respond(response(invite.request, 487));
  cancelTx.respond(response(cancelTx.request, 200));
}
