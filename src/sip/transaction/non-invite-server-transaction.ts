/**
 * Non-INVITE server transaction: RFC 3261 §17.2.2. No automatic 100 Trying:
 * §16.2 says a stateful proxy SHOULD NOT send one for non-INVITE requests.
 *
 *   (created)  --------------->    Trying
 *   Trying     --request-->        Trying      discarded
 *   Trying     --1xx from TU-->    Proceeding  sent
 *   Proceeding --1xx from TU-->    Proceeding  sent
 *   Proceeding --request-->        Proceeding  last provisional resent
 *   Trying|Proceeding --200-699 from TU--> Completed  sent; Timer J
 *   Completed  --request-->        Completed   final resent
 *   Completed  --response from TU-> Completed  discarded
 *   Completed  --Timer J-->        Terminated  (J = 64*T1 UDP, 0 reliable)
 *   any        --transport error-> Terminated  error to TU
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { TransportAddress } from '../transport.js';
import { ServerTransaction, type TransactionContext, TransactionState } from './transaction.js';

const S = TransactionState;

export class NonInviteServerTransaction extends ServerTransaction {
  readonly kind = 'non-invite-server' as const;

  constructor(ctx: TransactionContext, id: string, request: SipRequest, source: TransportAddress) {
    super(ctx, id, request, source, S.Trying, {
      [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
      [S.Proceeding]: [S.Completed, S.Terminated],
      [S.Completed]: [S.Terminated],
    });
  }

  /** §17.2.2: "The state machine is initialized in the 'Trying' state". Nothing to send. */
  start(): void {}

  receiveRequest(_retransmission: SipRequest): void {
    // §17.2.2: "Once in the 'Trying' state, any further request
    // retransmissions are discarded." [...] "If a retransmission of the
    // request is received while in the 'Proceeding' state, the most recently
    // sent provisional response MUST be passed to the transport layer for
    // retransmission." [...] "While in the 'Completed' state, the server
    // transaction MUST pass the final response to the transport layer for
    // retransmission whenever a retransmission of the request is received."
    if (this.state === S.Proceeding || this.state === S.Completed) this.resendLastResponse();
  }

  respond(response: SipResponse): boolean {
    // "Any other final responses passed by the TU to the server transaction
    // MUST be discarded while in the 'Completed' state."
    if (this.state !== S.Trying && this.state !== S.Proceeding) return false;
    if (response.status < 200) {
      // "While in the 'Trying' state, if the TU passes a provisional response
      // to the server transaction, the server transaction MUST enter the
      // 'Proceeding' state. The response MUST be passed to the transport
      // layer for transmission. Any further provisional responses that are
      // received from the TU while in the 'Proceeding' state MUST be passed
      // to the transport layer for transmission."
      if (this.state === S.Trying) this.stateTransition(S.Proceeding);
      this.sendResponse(response);
      return true;
    }
    // "If the TU passes a final response (status codes 200-699) to the server
    // while in the 'Proceeding' [or 'Trying'] state, the transaction MUST
    // enter the 'Completed' state, and the response MUST be passed to the
    // transport layer for transmission. When the server transaction enters
    // the 'Completed' state, it MUST set Timer J to fire in 64*T1 seconds for
    // unreliable transports, and zero seconds for reliable transports."
    this.stateTransition(S.Completed);
    this.sendResponse(response);
    this.terminateAfter('J', this.reliable ? 0 : 64 * this.ctx.config.t1);
    return true;
  }
}
