/**
 * SIP transactions (RFC 3261 §17, RFC 6026): four state machines, the
 * matching rules and the layer that joins them. Pure: no sockets, injected timers.
 */
export { createAck, createCancel } from './ack-cancel.js';
export * from './errors.js';
export { InviteClientTransaction } from './invite-client-transaction.js';
export { InviteServerTransaction } from './invite-server-transaction.js';
export {
  clientKeyOfRequest,
  clientKeyOfResponse,
  inviteAckKey,
  isRfc3261Branch,
  serverKey,
} from './matching.js';
export { NonInviteClientTransaction } from './non-invite-client-transaction.js';
export { NonInviteServerTransaction } from './non-invite-server-transaction.js';
export * from './timers.js';
export * from './transaction.js';
export * from './transaction-layer.js';
