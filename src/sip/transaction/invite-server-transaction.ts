/**
 * INVITE server transaction: RFC 3261 §17.2.1 with the "Accepted" state
 * RFC 6026 adds to it (why: docs/decisions/transactions.md).
 *
 *   (created)  --------------->    Proceeding  100 Trying now, or after tryingDelay
 *   Proceeding --INVITE-->         Proceeding  last provisional resent
 *   Proceeding --1xx from TU-->    Proceeding  sent
 *   Proceeding --2xx from TU-->    Accepted    sent; Timer L = 64*T1
 *   Proceeding --300-699 from TU-> Completed   sent; G = T1 (UDP), H = 64*T1
 *   Accepted   --2xx from TU-->    Accepted    sent (a downstream retransmission)
 *   Accepted   --INVITE-->         Accepted    absorbed
 *   Accepted   --ACK-->            Accepted    passed to the TU
 *   Accepted   --Timer L-->        Terminated
 *   Completed  --INVITE-->         Completed   final resent
 *   Completed  --Timer G-->        Completed   final resent, G = min(2G, T2)
 *   Completed  --Timer H-->        Terminated  timeout to TU
 *   Completed  --ACK-->            Confirmed   Timer I (T4 UDP, 0 reliable)
 *   Confirmed  --ACK|INVITE-->     Confirmed   absorbed
 *   Confirmed  --Timer I-->        Terminated
 *   any        --transport error-> Terminated  error to TU
 */

import type { SipRequest, SipResponse } from '../message/message.js';
import { makeResponse } from '../message/response.js';
import type { TransportAddress } from '../transport.js';
import { ServerTransaction, type TransactionContext, TransactionState } from './transaction.js';

const S = TransactionState;

export class InviteServerTransaction extends ServerTransaction {
  readonly kind = 'invite-server' as const;
  private intervalG = 0;

  constructor(ctx: TransactionContext, id: string, invite: SipRequest, source: TransportAddress) {
    super(ctx, id, invite, source, S.Proceeding, {
      [S.Proceeding]: [S.Accepted, S.Completed, S.Terminated],
      [S.Accepted]: [S.Terminated],
      [S.Completed]: [S.Confirmed, S.Terminated],
      [S.Confirmed]: [S.Terminated],
    });
  }

  /**
   * §17.2.1: "When a server transaction is constructed for a request, it
   * enters the 'Proceeding' state. The server transaction MUST generate a
   * 100 (Trying) response unless it knows that the TU will generate a
   * provisional or final response within 200 ms". §16.2 makes the 100 a MUST
   * for a stateful proxy; `tryingDelay` 0 sends it before the TU runs.
   */
  start(): void {
    const delay = this.ctx.config.tryingDelay;
    if (delay <= 0) this.sendTrying();
    else {
      this.startTimer('Trying', delay, () => {
        if (this.state === S.Proceeding && this.lastResponse === undefined) this.sendTrying();
      });
    }
  }

  private sendTrying(): void {
    this.sendResponse(makeResponse(this.request, 100));
  }

  receiveRequest(_retransmission: SipRequest): void {
    switch (this.state) {
      case S.Proceeding:
        // §17.2.1: "If a request retransmission is received while in the
        // 'Proceeding' state, the most recent provisional response that was
        // received from the TU MUST be passed to the transport layer for
        // retransmission."
        this.resendLastResponse();
        return;
      case S.Completed:
        // "while in the 'Completed' state, if a request retransmission is
        // received, the server SHOULD pass the response to the transport for
        // retransmission."
        this.resendLastResponse();
        return;
      default:
        // RFC 6026: "The purpose of the 'Accepted' state is to absorb
        // retransmissions of an accepted INVITE request." They are not passed
        // up to the TU. Confirmed absorbs them too.
        return;
    }
  }

  /**
   * An ACK the layer matched to this transaction. Returns true when the
   * transaction absorbed it, false when the TU must handle it (an ACK in the
   * Accepted state belongs to a 2xx: RFC 6026 passes it up to the TU).
   */
  receiveAck(_ack: SipRequest): boolean {
    switch (this.state) {
      case S.Completed:
        // §17.2.1: "If an ACK is received while the server transaction is in
        // the 'Completed' state, the server transaction MUST transition to the
        // 'Confirmed' state. As Timer G is ignored in this state, any
        // retransmissions of the response will cease." [...] "When this state
        // is entered, timer I is set to fire in T4 seconds for unreliable
        // transports, and zero seconds for reliable transports."
        this.stopTimer('G');
        this.stopTimer('H');
        this.stateTransition(S.Confirmed);
        this.terminateAfter('I', this.reliable ? 0 : this.ctx.config.t4);
        return true;
      case S.Accepted:
        return false;
      default:
        // Confirmed: "absorb any additional ACK messages". An ACK before any
        // final response (Proceeding) acknowledges nothing: dropped.
        return true;
    }
  }

  respond(response: SipResponse): boolean {
    const status = response.status;
    const { t1 } = this.ctx.config;
    if (this.state === S.Accepted) {
      // RFC 6026: "While in the 'Accepted' state, if the TU passes a 2xx
      // response, the server transaction MUST pass the response to the
      // transport layer for transmission." It never retransmits one itself.
      if (status < 200 || status >= 300) return false;
      this.sendResponse(response);
      return true;
    }
    if (this.state !== S.Proceeding) return false;
    this.stopTimer('Trying');
    if (status < 200) {
      // "The TU passes any number of provisional responses to the server
      // transaction. So long as the server transaction is in the 'Proceeding'
      // state, each of these MUST be passed to the transport layer for
      // transmission."
      this.sendResponse(response);
    } else if (status < 300) {
      // RFC 6026 (updating §17.2.1): "If, while in the 'Proceeding' state,
      // the TU passes a 2xx response to the server transaction, the server
      // transaction MUST pass this response to the transport layer for
      // transmission. It is not retransmitted by the server transaction;
      // retransmissions of 2xx responses are handled by the TU. The server
      // transaction MUST then transition to the 'Accepted' state."
      // Timer L = 64*T1.
      this.stateTransition(S.Accepted);
      this.startTimer('L', 64 * t1, () => this.timerL());
      this.sendResponse(response);
    } else {
      // §17.2.1: "While in the 'Proceeding' state, if the TU passes a
      // response with status code from 300 to 699 to the server transaction,
      // the response MUST be passed to the transport layer for transmission,
      // and the state machine MUST enter the 'Completed' state. For
      // unreliable transports, timer G is set to fire in T1 seconds, and is
      // not set to fire for reliable transports. [...] When the 'Completed'
      // state is entered, timer H MUST be set to fire in 64*T1 seconds for all
      // transports."
      this.stateTransition(S.Completed);
      if (!this.reliable) {
        this.intervalG = t1;
        this.startTimer('G', t1, () => this.timerG());
      }
      this.startTimer('H', 64 * t1, () => this.timerH());
      this.sendResponse(response);
    }
    return true;
  }

  /**
   * "If timer G fires, the response is passed to the transport layer once
   * more for retransmission, and timer G is set to fire in MIN(2*T1, T2)
   * seconds. From then on, when timer G fires, the response is passed to the
   * transport again for transmission, and timer G is reset with a value that
   * doubles, unless that value exceeds T2, in which case it is reset with the
   * value of T2."
   */
  private timerG(): void {
    if (this.state !== S.Completed) return;
    this.resendLastResponse();
    this.intervalG = Math.min(2 * this.intervalG, this.ctx.config.t2);
    this.startTimer('G', this.intervalG, () => this.timerG());
  }

  /**
   * "If timer H fires while in the 'Completed' state, it implies that the ACK
   * was never received. In this case, the server transaction MUST transition
   * to the 'Terminated' state, and MUST indicate to the TU that a transaction
   * failure has occurred."
   */
  private timerH(): void {
    if (this.state !== S.Completed) return;
    this.delegate.onTimeout?.(this);
    if (this.isIn(S.Completed)) this.stateTransition(S.Terminated);
  }

  /**
   * RFC 6026: "If Timer L fires while the INVITE server transaction is
   * in the 'Accepted' state, the transaction MUST transition to the
   * 'Terminated' state."
   */
  private timerL(): void {
    if (this.state === S.Accepted) this.stateTransition(S.Terminated);
  }
}
