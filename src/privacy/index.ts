/**
 * The privacy core (issue 4): pair secrets and their ratchet, secret lookup
 * keys, encrypted fixed-size records, group keys. Pure — no sockets, timers
 * or store: state in, state out. Design and formats: docs/privacy.md.
 */
export * from './errors.js';
export * from './group.js';
export * from './keys.js';
export {
  advanceToEpoch,
  type ChainSlot,
  checkPairState,
  DEFAULT_EPOCH_SECONDS,
  epochOf,
  initialPairState,
  MAX_EPOCH_SECONDS,
  MAX_EPOCH_SKIP,
  MIN_EPOCH_SECONDS,
  PAIR_STATE_VERSION,
  type PairState,
} from './pair-state.js';
export {
  MAX_EPOCH_DRIFT,
  ownOfferWins,
  type PendingOffer,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
  wipePending,
} from './ratchet.js';
export {
  CONFIRM_BYTES,
  MAX_BINDING_BYTES,
  RATCHET_CONFIRM_KIND,
  RATCHET_OFFER_KIND,
  RATCHET_REPLY_KIND,
  RATCHET_VERSION,
  REPLY_BYTES,
} from './ratchet-messages.js';
export * from './record.js';
