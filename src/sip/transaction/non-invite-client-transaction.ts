/**
 * Non-INVITE client transaction: RFC 3261 §17.1.2.
 *
 *   Trying     --Timer E-->        Trying      resend (UDP), E = min(2E, T2)
 *   Trying     --1xx-->            Proceeding  to TU
 *   Proceeding --Timer E-->        Proceeding  resend (UDP), E = T2
 *   Proceeding --1xx-->            Proceeding  to TU
 *   Trying|Proceeding --Timer F--> Terminated  timeout to TU
 *   Trying|Proceeding --200-699--> Completed   to TU; Timer K
 *   Completed  --any response-->   Completed   absorbed
 *   Completed  --Timer K-->        Terminated  (K = T4 UDP, 0 reliable)
 *   any        --transport error-> Terminated  error to TU
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { TransportAddress } from '../transport.js';
import {
  ClientTransaction,
  type ClientTransactionUser,
  type TransactionContext,
  TransactionState,
} from './transaction.js';

const S = TransactionState;

export class NonInviteClientTransaction extends ClientTransaction {
  readonly kind = 'non-invite-client' as const;
  private intervalE = 0;

  constructor(
    ctx: TransactionContext,
    id: string,
    request: SipRequest,
    destination: TransportAddress,
    user: ClientTransactionUser,
  ) {
    super(ctx, id, request, destination, user, S.Trying, {
      [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
      [S.Proceeding]: [S.Completed, S.Terminated],
      [S.Completed]: [S.Terminated],
    });
  }

  start(): void {
    const { t1 } = this.ctx.config;
    // §17.1.2.2: "The 'Trying' state is entered when the TU initiates a new
    // client transaction with a request. When entering this state, the client
    // transaction SHOULD set timer F to fire in 64*T1 seconds. The request
    // MUST be passed to the transport layer for transmission. If an
    // unreliable transport is in use, the client transaction MUST set timer E
    // to fire in T1 seconds."
    this.sendToNextHop(this.request);
    this.startTimer('F', 64 * t1, () => this.timerF());
    if (!this.reliable) {
      this.intervalE = t1;
      this.startTimer('E', t1, () => this.timerE());
    }
  }

  /**
   * "If timer E fires while still in this state, the timer is reset, but
   * this time with a value of MIN(2*T1, T2). [...] If Timer E fires while in
   * the 'Proceeding' state, the request MUST be passed to the transport layer
   * for retransmission, and timer E MUST be reset with a value of T2 seconds."
   */
  private timerE(): void {
    const { t2 } = this.ctx.config;
    if (this.state === S.Trying) this.intervalE = Math.min(2 * this.intervalE, t2);
    else if (this.state === S.Proceeding) this.intervalE = t2;
    else return;
    this.sendToNextHop(this.request);
    this.startTimer('E', this.intervalE, () => this.timerE());
  }

  /**
   * "If Timer F fires while the client transaction is still in the 'Trying'
   * state, the client transaction SHOULD inform the TU about the timeout, and
   * then it SHOULD enter the 'Terminated' state." Likewise in 'Proceeding'.
   */
  private timerF(): void {
    if (this.state !== S.Trying && this.state !== S.Proceeding) return;
    this.delegate.onTimeout(this);
    if (!this.isIn(S.Terminated)) this.stateTransition(S.Terminated);
  }

  receiveResponse(response: SipResponse): void {
    if (this.state !== S.Trying && this.state !== S.Proceeding) {
      // §17.1.2.2: "The 'Completed' state exists to buffer any additional
      // response retransmissions that may be received".
      return;
    }
    if (response.status < 200) {
      // "If a provisional response is received while in the 'Trying' state,
      // the response MUST be passed to the TU, and then the client
      // transaction SHOULD move to the 'Proceeding' state."
      if (this.state === S.Trying) this.stateTransition(S.Proceeding);
      this.delegate.onResponse(response, this);
      return;
    }
    // "If a final response (status codes 200-699) is received while in the
    // 'Trying' [or 'Proceeding'] state, the response MUST be passed to the
    // TU, and the client transaction MUST transition to the 'Completed'
    // state. [...] Once the client transaction enters the 'Completed' state,
    // it MUST set Timer K to fire in T4 seconds for unreliable transports,
    // and zero seconds for reliable transports."
    this.stopTimer('E');
    this.stopTimer('F');
    this.stateTransition(S.Completed);
    this.delegate.onResponse(response, this);
    if (this.isIn(S.Completed)) {
      this.terminateAfter('K', this.reliable ? 0 : this.ctx.config.t4);
    }
  }
}
