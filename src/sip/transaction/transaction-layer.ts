/**
 * The transaction layer (RFC 3261 §17): files every live transaction under
 * its matching key, routes inbound messages to them, creates server
 * transactions for new requests and hands the rest to the transaction user.
 *
 *   transport --receive(inbound)--> TransactionLayer
 *     request, matches a server transaction --> tx.receiveRequest / receiveAck
 *     request, new (not ACK)                 --> new server tx --> user.onRequest(tx, inbound)
 *     ACK matching nothing (ACK for a 2xx)   --> user.onAck(inbound)
 *     response, matches a client transaction --> tx.receiveResponse
 *     response matching nothing              --> user.onStrayResponse(inbound)
 *     unmatchable (bad Via, CSeq, …)         --> user.onMalformed(inbound, error)
 *   TU --sendRequest(req, dest, delegate)--> new client transaction
 *
 * Pure: the transport is a {@link TransactionSender}, time a {@link TimerApi}.
 */
import { SipError } from '../errors.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Inbound, TransportAddress } from '../transport.js';
import { TransactionError } from './errors.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import {
  clientKeyOfRequest,
  clientKeyOfResponse,
  inviteAckKey,
  isRfc3261Branch,
  serverKey,
  toTag,
} from './matching.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import {
  resolveTimers,
  systemTimers,
  type TimerApi,
  type TimerConfig,
  type TimerSettings,
} from './timers.js';
import {
  ClientTransaction,
  type ClientTransactionUser,
  type ServerTransaction,
  type Transaction,
  type TransactionContext,
  type TransactionSender,
} from './transaction.js';

/** The layer's own TU: the proxy core. */
export interface TransactionUser {
  /**
   * A request that created a server transaction. Set `tx.delegate` here if
   * you want its timeout / transport-error / terminated callbacks.
   */
  onRequest(tx: ServerTransaction, inbound: Inbound): void;
  /**
   * An ACK no server transaction absorbed: the end-to-end ACK for a 2xx
   * (§17.1.1.3; also one matching an RFC 6026 Accepted transaction). A proxy
   * forwards it (§16.4, §16.11).
   */
  onAck?(inbound: Inbound): void;
  /**
   * A response matching no client transaction. RFC 3261 §16.7 had a proxy
   * forward it statelessly; RFC 6026 updates §16.7 so that it is not
   * forwarded, since the Accepted states now catch every legitimate 2xx
   * retransmission. The TU decides (docs/decisions/transactions.md).
   */
  onStrayResponse?(inbound: Inbound): void;
  /** A message the layer cannot match (missing/malformed Via, CSeq, From, To, Call-ID). */
  onMalformed?(inbound: Inbound, error: SipError): void;
}

export interface TransactionLayerOptions extends TimerSettings {
  sender: TransactionSender;
  user: TransactionUser;
  /** Defaults to the process timers; tests pass a manual clock. */
  timers?: TimerApi;
}

export class TransactionLayer {
  readonly config: TimerConfig;
  private readonly ctx: TransactionContext;
  private readonly user: TransactionUser;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** RFC 2543 INVITE transactions by the key their ACK will have (§17.2.3). */
  private readonly legacyInvites = new Map<string, InviteServerTransaction>();
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    this.config = resolveTimers(options);
    this.user = options.user;
    this.ctx = {
      sender: options.sender,
      timers: options.timers ?? systemTimers,
      config: this.config,
      terminated: (tx) => this.forget(tx),
    };
  }

  /** Live transactions, for observability and tests. */
  counts(): { client: number; server: number } {
    return { client: this.clients.size, server: this.servers.size };
  }

  /** Feed one inbound message (the transport calls this). */
  receive(inbound: Inbound): void {
    if (this.closed) return;
    const msg = inbound.message;
    if (msg.kind === 'response') this.receiveResponse(inbound, msg);
    else this.receiveRequest(inbound, msg);
  }

  private receiveResponse(inbound: Inbound, response: SipResponse): void {
    const key = this.guard(inbound, () => clientKeyOfResponse(response));
    if (key === null) return;
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx !== undefined) tx.receiveResponse(response);
    else this.user.onStrayResponse?.(inbound);
  }

  private receiveRequest(inbound: Inbound, request: SipRequest): void {
    if (request.method === 'ACK') {
      const tx = this.guard(inbound, () => this.matchAck(request));
      if (tx === null) return;
      if (tx === undefined || !tx.receiveAck(request)) this.user.onAck?.(inbound);
      return;
    }
    const keys = this.guard(inbound, () => ({
      key: serverKey(request),
      ackKey: request.method === 'INVITE' ? inviteAckKey(request) : undefined,
    }));
    if (keys === null) return;
    const existing = this.servers.get(keys.key);
    if (existing !== undefined) {
      existing.receiveRequest(request);
      return;
    }
    let tx: ServerTransaction;
    if (request.method === 'INVITE') {
      const invite = new InviteServerTransaction(this.ctx, keys.key, request, inbound.source);
      if (keys.ackKey !== undefined) this.legacyInvites.set(keys.ackKey, invite);
      tx = invite;
    } else {
      tx = new NonInviteServerTransaction(this.ctx, keys.key, request, inbound.source);
    }
    this.servers.set(keys.key, tx);
    tx.start();
    this.user.onRequest(tx, inbound);
  }

  /** The INVITE server transaction an ACK belongs to (§17.2.3), if any. */
  private matchAck(ack: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey(ack);
    const tx = this.servers.get(key);
    if (tx instanceof InviteServerTransaction) return tx;
    const legacy = this.legacyInvites.get(key);
    // RFC 2543: "... and the To tag of the ACK matches the To tag of the
    // response sent by the server transaction."
    if (legacy?.lastResponse !== undefined && toTag(legacy.lastResponse) === toTag(ack)) {
      return legacy;
    }
    return undefined;
  }

  /** Run a matching step; a SipError goes to `onMalformed` and yields null. */
  private guard<T>(inbound: Inbound, step: () => T): T | null {
    try {
      return step();
    } catch (err) {
      if (!(err instanceof SipError)) throw err;
      this.user.onMalformed?.(inbound, err);
      return null;
    }
  }

  /**
   * Start a client transaction: send `request` to `destination` and
   * retransmit it as §17.1 says. The request's top Via must carry an RFC 3261
   * branch (§8.1.1.7: the branch "MUST begin with the characters z9hG4bK");
   * the TU (the proxy, §16.6 step 8) adds that Via. ACKs are never sent this
   * way: the ACK for a non-2xx is the INVITE transaction's, the ACK for a 2xx
   * is end to end (send it with the sender directly).
   */
  sendRequest(
    request: SipRequest,
    destination: TransportAddress,
    user: ClientTransactionUser,
  ): ClientTransaction {
    if (this.closed) throw TransactionError.closed();
    if (request.method === 'ACK') {
      throw TransactionError.badRequest('an ACK does not start a client transaction (§17.1.1.3)');
    }
    let key: string;
    try {
      key = clientKeyOfRequest(request);
    } catch (err) {
      if (err instanceof SipError) throw TransactionError.badRequest(err.message);
      throw err;
    }
    const branch = key.slice(0, key.indexOf('\n'));
    if (!isRfc3261Branch(branch)) {
      throw TransactionError.badRequest('top Via branch must start with z9hG4bK (§8.1.1.7)');
    }
    if (this.clients.has(key)) throw TransactionError.duplicate(key);
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(this.ctx, key, request, destination, user)
        : new NonInviteClientTransaction(this.ctx, key, request, destination, user);
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * The INVITE server transaction a CANCEL cancels (§9.2), found by matching
   * the CANCEL as if its method were INVITE. The TU answers the INVITE with
   * 487 when it is still in Proceeding, and the CANCEL with 200 — or the
   * CANCEL with 481 when nothing matches.
   */
  findInviteForCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    let key: string;
    try {
      key = serverKey(cancel, 'INVITE');
    } catch (err) {
      if (err instanceof SipError) return undefined;
      throw err;
    }
    const tx = this.servers.get(key);
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Stop every timer and forget every transaction, without TU callbacks. */
  close(): void {
    this.closed = true;
    for (const tx of this.clients.values()) tx.dispose();
    for (const tx of this.servers.values()) tx.dispose();
    this.clients.clear();
    this.servers.clear();
    this.legacyInvites.clear();
  }

  private forget(tx: Transaction): void {
    if (tx instanceof ClientTransaction) {
      if (this.clients.get(tx.id) === tx) this.clients.delete(tx.id);
      return;
    }
    if (this.servers.get(tx.id) === tx) this.servers.delete(tx.id);
    if (tx instanceof InviteServerTransaction) {
      const ackKey = inviteAckKey(tx.request);
      if (ackKey !== undefined && this.legacyInvites.get(ackKey) === tx) {
        this.legacyInvites.delete(ackKey);
      }
    }
  }
}
