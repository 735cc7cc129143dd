/**
 * What the four RFC 3261 §17 state machines share: the state with its one
 * `stateTransition` path, named timers that all stop on termination, and
 * sending with transport errors reported to the transaction user (TU).
 *
 * Upward calls go through small delegate interfaces: {@link ClientTransactionUser}
 * and {@link ServerTransactionUser}. Pure: no sockets, time through {@link TimerApi}.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { MessageSender, TransportAddress } from '../transport.js';
import { TransactionError } from './errors.js';
import type { TimerApi, TimerConfig, TimerHandle, TimerName } from './timers.js';

export enum TransactionState {
  Calling = 'Calling',
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  /** RFC 6026: after a 2xx to an INVITE (client Timer M, server Timer L). */
  Accepted = 'Accepted',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

export type TransactionKind =
  | 'invite-client'
  | 'non-invite-client'
  | 'invite-server'
  | 'non-invite-server';

/**
 * Sends messages. `sendResponse`, when present (src/net TransportLayer), routes
 * a response by its top Via (RFC 3261 §18.2.2, RFC 3581); without it a server
 * transaction sends to the address the request came from.
 */
export interface TransactionSender extends MessageSender {
  sendResponse?(response: SipResponse): Promise<void>;
}

/** What the transaction layer gives each transaction. */
export interface TransactionContext {
  readonly sender: TransactionSender;
  readonly timers: TimerApi;
  readonly config: TimerConfig;
  /** Called once, when the transaction enters Terminated: the layer forgets it. */
  terminated(tx: Transaction): void;
}

/** The TU of a client transaction (e.g. one branch of a proxy's response context). */
export interface ClientTransactionUser {
  /** Every response the machine passes up (1xx, final, RFC 6026 2xx retransmissions). */
  onResponse(response: SipResponse, tx: ClientTransaction): void;
  /** Timer B or F fired: no final response. A proxy treats it as 408 (§16.7). */
  onTimeout(tx: ClientTransaction): void;
  /** The request (or ACK) could not be sent. A proxy treats it as 503 (§16.9). */
  onTransportError(error: TransactionError, tx: ClientTransaction): void;
  onTerminated?(tx: ClientTransaction): void;
}

/** The TU of a server transaction; set `tx.delegate` in `onRequest`. */
export interface ServerTransactionUser {
  /** Timer H fired: the ACK for a non-2xx final response never came (§17.2.1). */
  onTimeout?(tx: ServerTransaction): void;
  /** A response could not be sent (§17.2.4). */
  onTransportError?(error: TransactionError, tx: ServerTransaction): void;
  onTerminated?(tx: ServerTransaction): void;
}

type Transitions = Readonly<Partial<Record<TransactionState, readonly TransactionState[]>>>;

export abstract class Transaction {
  abstract readonly kind: TransactionKind;
  /** The matching key the layer files this transaction under. */
  readonly id: string;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  /** Reliable transports (TCP, tunnel) get no retransmissions and zero-length D, I, J, K. */
  readonly reliable: boolean;
  protected readonly ctx: TransactionContext;
  private current: TransactionState;
  private readonly transitions: Transitions;
  private readonly running = new Map<TimerName, TimerHandle>();

  protected constructor(
    ctx: TransactionContext,
    id: string,
    request: SipRequest,
    reliable: boolean,
    initial: TransactionState,
    transitions: Transitions,
  ) {
    this.ctx = ctx;
    this.id = id;
    this.request = request;
    this.reliable = reliable;
    this.current = initial;
    this.transitions = transitions;
  }

  get state(): TransactionState {
    return this.current;
  }

  /**
   * A fresh read of the state, for checks after a TU callback (which may have
   * moved or disposed the transaction; TypeScript would keep the narrowed type).
   */
  protected isIn(state: TransactionState): boolean {
    return this.current === state;
  }

  /** Timers currently armed, for inspection and tests. */
  get activeTimers(): TimerName[] {
    return [...this.running.keys()];
  }

  /** The one place the state changes. Entering Terminated stops every timer. */
  protected stateTransition(next: TransactionState): void {
    const allowed = this.transitions[this.current];
    if (allowed === undefined || !allowed.includes(next)) {
      throw TransactionError.invalidState(this.kind, this.current, next);
    }
    this.current = next;
    if (next === TransactionState.Terminated) {
      // §17.1.1.2 / §17.2.1: "Once the transaction is in the Terminated
      // state, it MUST be destroyed immediately."
      this.stopAllTimers();
      this.ctx.terminated(this);
      this.notifyTerminated();
    }
  }

  protected abstract notifyTerminated(): void;
  protected abstract notifyTransportError(error: TransactionError): void;

  /** Arm (or re-arm) a named timer. */
  protected startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.stopTimer(name);
    const handle = this.ctx.timers.setTimeout(() => {
      this.running.delete(name);
      fire();
    }, ms);
    this.running.set(name, handle);
  }

  protected stopTimer(name: TimerName): void {
    const handle = this.running.get(name);
    if (handle === undefined) return;
    this.running.delete(name);
    this.ctx.timers.clearTimeout(handle);
  }

  private stopAllTimers(): void {
    for (const name of [...this.running.keys()]) this.stopTimer(name);
  }

  /**
   * Timers D, I, J and K only wait out retransmissions; over reliable
   * transports their value is zero, so the machine terminates at once.
   */
  protected terminateAfter(name: TimerName, ms: number): void {
    if (ms <= 0) this.stateTransition(TransactionState.Terminated);
    else this.startTimer(name, ms, () => this.stateTransition(TransactionState.Terminated));
  }

  /**
   * Hand a message to the transport. A failure (thrown or rejected) is a
   * transport error: §17.1.4 / §17.2.4 — inform the TU and terminate.
   */
  protected transmit(send: () => Promise<void>): void {
    let sending: Promise<void>;
    try {
      sending = send();
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.catch((err: unknown) => {
      if (this.current === TransactionState.Terminated) return;
      this.notifyTransportError(TransactionError.transport(err));
      if (!this.isIn(TransactionState.Terminated))
        this.stateTransition(TransactionState.Terminated);
    });
  }

  /** Stop silently (the layer is closing): timers cleared, no TU callbacks. */
  dispose(): void {
    this.stopAllTimers();
    this.current = TransactionState.Terminated;
  }
}

export abstract class ClientTransaction extends Transaction {
  /** Where the request goes (the next hop). */
  readonly destination: TransportAddress;
  delegate: ClientTransactionUser;

  protected constructor(
    ctx: TransactionContext,
    id: string,
    request: SipRequest,
    destination: TransportAddress,
    user: ClientTransactionUser,
    initial: TransactionState,
    transitions: Transitions,
  ) {
    super(ctx, id, request, destination.protocol !== 'udp', initial, transitions);
    this.destination = destination;
    this.delegate = user;
  }

  /** Send the request and arm the timers. Called once by the layer after filing it. */
  abstract start(): void;

  /** A response the layer matched to this transaction (§17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  protected sendToNextHop(message: SipRequest): void {
    this.transmit(() => this.ctx.sender.send(message, this.destination));
  }

  protected notifyTerminated(): void {
    this.delegate.onTerminated?.(this);
  }

  protected notifyTransportError(error: TransactionError): void {
    this.delegate.onTransportError(error, this);
  }
}

export abstract class ServerTransaction extends Transaction {
  /** Where the request came from (responses go back there without `sendResponse`). */
  readonly source: TransportAddress;
  delegate: ServerTransactionUser = {};
  /** The most recent response sent, resent for retransmitted requests. */
  lastResponse: SipResponse | undefined;

  protected constructor(
    ctx: TransactionContext,
    id: string,
    request: SipRequest,
    source: TransportAddress,
    initial: TransactionState,
    transitions: Transitions,
  ) {
    super(ctx, id, request, source.protocol !== 'udp', initial, transitions);
    this.source = source;
  }

  /** Arm whatever the machine does on creation. Called once by the layer. */
  abstract start(): void;

  /**
   * Send a response from the TU. Returns false when the machine discards it
   * (a second final response, anything after Terminated).
   */
  abstract respond(response: SipResponse): boolean;

  /** A retransmission of the request the layer matched to this transaction (§17.2.3). */
  abstract receiveRequest(request: SipRequest): void;

  protected sendResponse(response: SipResponse): void {
    this.lastResponse = response;
    this.resendLastResponse();
  }

  protected resendLastResponse(): void {
    const response = this.lastResponse;
    if (response === undefined) return;
    const sender = this.ctx.sender;
    this.transmit(() =>
      sender.sendResponse ? sender.sendResponse(response) : sender.send(response, this.source),
    );
  }

  protected notifyTerminated(): void {
    this.delegate.onTerminated?.(this);
  }

  protected notifyTransportError(error: TransactionError): void {
    this.delegate.onTransportError?.(error, this);
  }
}
