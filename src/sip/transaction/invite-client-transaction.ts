/**
 * INVITE client transaction: RFC 3261 §17.1.1 with the "Accepted" state
 * RFC 6026 adds to it (§17.1.1.2 as updated by RFC 6026).
 *
 *   Calling    --Timer A-->        Calling     resend INVITE (UDP), A doubles
 *   Calling    --1xx-->            Proceeding  to TU; A and B stop
 *   Calling    --Timer B-->        Terminated  timeout to TU
 *   Calling|Proceeding --2xx-->    Accepted    to TU; Timer M = 64*T1
 *   Calling|Proceeding --300-699-> Completed   ACK sent, to TU; Timer D
 *   Accepted   --2xx-->            Accepted    to TU (retransmission, RFC 6026)
 *   Completed  --300-699-->        Completed   ACK resent, not to TU
 *   Accepted   --Timer M-->        Terminated
 *   Completed  --Timer D-->        Terminated  (D = 32 s UDP, 0 reliable)
 *   any        --transport error-> Terminated  error to TU
 */

import type { SipRequest, SipResponse } from '../message/message.js';
import type { TransportAddress } from '../transport.js';
import { createAck } from './ack-cancel.js';
import {
  ClientTransaction,
  type ClientTransactionUser,
  type TransactionContext,
  TransactionState,
} from './transaction.js';

const S = TransactionState;

export class InviteClientTransaction extends ClientTransaction {
  readonly kind = 'invite-client' as const;
  /** The ACK sent for the non-2xx final response, resent for its retransmissions. */
  private ack: SipRequest | undefined;
  private intervalA = 0;

  constructor(
    ctx: TransactionContext,
    id: string,
    invite: SipRequest,
    destination: TransportAddress,
    user: ClientTransactionUser,
  ) {
    super(ctx, id, invite, destination, user, S.Calling, {
      [S.Calling]: [S.Proceeding, S.Accepted, S.Completed, S.Terminated],
      [S.Proceeding]: [S.Accepted, S.Completed, S.Terminated],
      [S.Accepted]: [S.Terminated],
      [S.Completed]: [S.Terminated],
    });
  }

  start(): void {
    const { t1 } = this.ctx.config;
    // §17.1.1.2: "The initial state, 'calling', MUST be entered when the TU
    // initiates a new client transaction with an INVITE request. The client
    // transaction MUST pass the request to the transport layer for
    // transmission. If an unreliable transport is being used, the client
    // transaction MUST start timer A with a value of T1."
    this.sendToNextHop(this.request);
    if (!this.reliable) {
      this.intervalA = t1;
      this.startTimer('A', t1, () => this.timerA());
    }
    // "For any transport, the client transaction MUST start timer B with a
    // value of 64*T1 seconds."
    this.startTimer('B', 64 * t1, () => this.timerB());
  }

  /**
   * "When timer A fires, the client transaction MUST retransmit the request
   * by passing it to the transport layer, and MUST reset the timer with a
   * value of 2*T1. [...] These retransmissions SHOULD only be done while the
   * client transaction is in the 'calling' state."
   */
  private timerA(): void {
    if (this.state !== S.Calling) return;
    this.sendToNextHop(this.request);
    this.intervalA *= 2;
    this.startTimer('A', this.intervalA, () => this.timerA());
  }

  /**
   * "If the client transaction is still in the 'Calling' state when timer B
   * fires, the client transaction SHOULD inform the TU that a timeout has
   * occurred. The client transaction MUST NOT generate an ACK."
   */
  private timerB(): void {
    if (this.state !== S.Calling) return;
    this.delegate.onTimeout(this);
    if (this.isIn(S.Calling)) this.stateTransition(S.Terminated);
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case S.Calling:
      case S.Proceeding:
        if (status < 200) {
          // "If the client transaction receives a provisional response while
          // in the 'Calling' state, it transitions to the 'Proceeding' state.
          // In the 'Proceeding' state, the client transaction SHOULD NOT
          // retransmit the request any longer. Furthermore, the provisional
          // response MUST be passed to the TU."
          // Timer B stops too: from here the TU's Timer C (§16.6 step 11)
          // bounds the wait, and CANCEL ends it.
          if (this.state === S.Calling) {
            this.stopTimer('A');
            this.stopTimer('B');
            this.stateTransition(S.Proceeding);
          }
          this.delegate.onResponse(response, this);
        } else if (status < 300) {
          // RFC 6026 (updating §17.1.1.2): a 2xx in 'Calling' or 'Proceeding'
          // moves the machine to 'Accepted' and is passed up to the TU; Timer
          // M (64*T1) bounds how long 2xx retransmissions are caught.
          this.stopTimer('A');
          this.stopTimer('B');
          this.stateTransition(S.Accepted);
          this.startTimer('M', 64 * this.ctx.config.t1, () => this.timerM());
          this.delegate.onResponse(response, this);
        } else {
          // §17.1.1.2: "When in either the 'Calling' or 'Proceeding' states,
          // reception of a response with status code from 300-699 MUST cause
          // the client transaction to transition to 'Completed'. The client
          // transaction MUST pass the received response up to the TU, and
          // the client transaction MUST generate an ACK request, even if the
          // transport is reliable [...]. The client transaction SHOULD start
          // timer D when it enters the 'Completed' state, with a value of at
          // least 32 seconds for unreliable transports, and a value of zero
          // seconds for reliable transports."
          this.stopTimer('A');
          this.stopTimer('B');
          this.stateTransition(S.Completed);
          this.ack = createAck(this.request, response);
          this.sendToNextHop(this.ack);
          this.delegate.onResponse(response, this);
          if (this.isIn(S.Completed)) {
            this.terminateAfter('D', this.reliable ? 0 : this.ctx.config.timerD);
          }
        }
        return;
      case S.Accepted:
        // RFC 6026: "A 2xx response received while in the 'Accepted'
        // state MUST be passed to the TU and the machine remains in the
        // 'Accepted' state. The client transaction MUST NOT generate an ACK
        // to any 2xx response on its own."
        if (status >= 200 && status < 300) this.delegate.onResponse(response, this);
        return;
      case S.Completed:
        // §17.1.1.2: "Any retransmissions of the final response that are
        // received while in the 'Completed' state MUST cause the ACK to be
        // re-passed to the transport layer for retransmission, but the newly
        // received response MUST NOT be passed up to the TU."
        if (status >= 300 && this.ack !== undefined) this.sendToNextHop(this.ack);
        return;
      default:
        return;
    }
  }

  /**
   * RFC 6026: "If timer M fires while the client transaction is in the
   * 'Accepted' state, the client transaction MUST move to the 'Terminated' state."
   */
  private timerM(): void {
    if (this.state === S.Accepted) this.stateTransition(S.Terminated);
  }
}
