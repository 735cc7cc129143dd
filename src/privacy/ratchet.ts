/**
 * The pair ratchet: three tunnel control messages that mix a fresh ephemeral
 * X25519 agreement into the pair's chain, so that after two friends have
 * talked once the identity keys alone no longer give their lookup keys.
 *
 *   A (offerer)                                    B (responder)
 *   ratchetOffer(state, rand)  → OFFER, pending
 *                              ── OFFER ──▶        ratchetAccept(state, OFFER, rand) → REPLY, state'
 *                                                  (B stores state' BEFORE sending REPLY)
 *   ratchetConfirm(pending, REPLY) → state', CONFIRM ◀── REPLY ──
 *   (A stores state' BEFORE sending CONFIRM)
 *                              ── CONFIRM ──▶      ratchetFinish(state', CONFIRM) → state''
 *
 * B keeps the generation it started from (`previous`) until CONFIRM (or a
 * later OFFER from A built on the new generation) shows A holds the new one;
 * while it does, B publishes under both and looks up with the new one first.
 * An OFFER names every base the offerer holds (current, previous,
 * generation 0), so one exchange finds a common base: a lost OFFER, lost
 * REPLY, lost CONFIRM or a crash on either side before its store write is
 * repaired by the next exchange. docs/privacy.md "State machine" has the
 * case table.
 *
 * Pure: randomness comes in as bytes, nothing is stored or sent here.
 */
import {
  confirmKey,
  ephemeralPublic,
  MAX_U32,
  mixChain,
  rootChain,
  SECRET_BYTES,
  stepChain,
} from './chain.js';
import { PrivacyError } from './errors.js';
import {
  bytes,
  type PairState,
  pairOf,
  rootSlot,
  type Slot,
  slotAt,
  storeSlot,
} from './pair-state.js';
import {
  checkBinding,
  confirmTagValid,
  decodeConfirm,
  decodeOffer,
  decodeReply,
  encodeConfirm,
  encodeOffer,
  encodeReply,
  type Offer,
  offerTagValid,
  type Parties,
  replyHead,
  replyTagValid,
  transcript,
} from './ratchet-messages.js';

/** Peers may be one epoch apart (a clock just past a boundary); more is EPOCH_SKEW. */
export const MAX_EPOCH_DRIFT = 1;

/**
 * What the offerer keeps in memory until the REPLY: the state it offered from,
 * the ephemeral secret and the bases it named. Never store it (an ephemeral
 * secret on disk would undo the point of the ratchet); drop it when the
 * tunnel closes or after a timeout, and call {@link wipePending}.
 */
export interface PendingOffer {
  state: PairState;
  offer: Uint8Array;
  binding: Uint8Array;
  ephemeralSecret: Uint8Array;
  /** The bases named in the OFFER, at `state.epoch`. */
  candidates: Slot[];
}

/**
 * Starts a ratchet: an OFFER body (control kind 0x11) and the pending
 * exchange. `randomness` is 32 fresh random bytes (the ephemeral X25519
 * secret); `binding` is the tunnel's handshake hash. `reset` names only
 * generation 0: for a pair whose last OFFER went unanswered although the
 * tunnel stayed up (the peer holds a generation of the same number with
 * another secret — only possible after restoring an old backup).
 */
export function ratchetOffer(
  state: PairState,
  randomness: Uint8Array,
  binding: Uint8Array,
  opts: { reset?: boolean } = {},
): { message: Uint8Array; pending: PendingOffer } {
  checkRandomness(randomness);
  checkBinding(binding);
  const candidates = ownBases(state).filter((s) => s.gen < MAX_U32 && (!opts.reset || s.gen === 0));
  const ephemeralSecret = randomness.slice();
  const message = encodeOffer(
    {
      epochSeconds: state.epochSeconds,
      epoch: state.epoch,
      ephemeral: ephemeralPublic(ephemeralSecret),
      gens: candidates.map((s) => s.gen),
    },
    candidates.map((s) => s.confirm),
    parties(state, 'out', binding),
  );
  return {
    message,
    pending: { state, offer: message, binding: binding.slice(), ephemeralSecret, candidates },
  };
}

/**
 * Answers a peer's OFFER: the REPLY body (control kind 0x12) and our new
 * state, which must be stored before the REPLY is sent. The new generation
 * is built on the first base in the OFFER we hold too; we keep that base as
 * `previous` until the peer confirms.
 */
export function ratchetAccept(
  state: PairState,
  message: Uint8Array,
  randomness: Uint8Array,
  binding: Uint8Array,
): { reply: Uint8Array; state: PairState } {
  checkRandomness(randomness);
  checkBinding(binding);
  const offer = decodeOffer(message);
  const base = matchBase(state, offer, parties(state, 'in', binding));
  if (offer.epochSeconds !== state.epochSeconds) {
    throw PrivacyError.epochLengthMismatch(offer.epochSeconds, state.epochSeconds);
  }
  if (Math.abs(offer.epoch - state.epoch) > MAX_EPOCH_DRIFT) {
    throw PrivacyError.epochSkew(offer.epoch, state.epoch);
  }
  const epoch = Math.max(offer.epoch, state.epoch);
  const from = moveSlot(state, base, state.epoch, epoch);
  const head = {
    epoch,
    baseGen: from.gen,
    newGen: from.gen + 1,
    ephemeral: ephemeralPublic(randomness),
  };
  const next = newSlot(
    from,
    randomness,
    offer.ephemeral,
    state,
    transcriptOf(binding, offer, head),
  );
  const reply = encodeReply(head, next.confirm, offer.body, parties(state, 'out', binding));
  return {
    reply,
    state: { ...state, epoch, current: storeSlot(next), previous: storeSlot(from) },
  };
}

/**
 * Completes our OFFER with the peer's REPLY: our new state (store it first)
 * and the CONFIRM body (control kind 0x13) to send. The REPLY's tag proves
 * the peer derived (and, by the commit order, stored) the same generation,
 * so we keep no previous one.
 */
export function ratchetConfirm(
  pending: PendingOffer,
  message: Uint8Array,
): { state: PairState; confirm: Uint8Array } {
  const reply = decodeReply(message);
  const { state } = pending;
  const base = pending.candidates.find((s) => s.gen === reply.baseGen);
  if (base === undefined) {
    throw PrivacyError.unexpectedMessage(
      'ratchet REPLY',
      `we offered no generation ${reply.baseGen}`,
    );
  }
  if (reply.epoch < state.epoch || reply.epoch > state.epoch + MAX_EPOCH_DRIFT) {
    throw PrivacyError.epochSkew(reply.epoch, state.epoch);
  }
  const from = moveSlot(state, base, state.epoch, reply.epoch);
  const t = transcriptOf(pending.binding, { body: pending.offer }, reply);
  const next = newSlot(from, pending.ephemeralSecret, reply.ephemeral, state, t);
  if (!replyTagValid(reply, next.confirm, pending.offer, parties(state, 'in', pending.binding))) {
    throw PrivacyError.messageAuth('ratchet REPLY');
  }
  const confirm = encodeConfirm(next.gen, next.confirm, parties(state, 'out', new Uint8Array(0)));
  return {
    state: { ...state, epoch: reply.epoch, current: storeSlot(next), previous: null },
    confirm,
  };
}

/**
 * The responder's last step: the peer's CONFIRM shows it holds our current
 * generation, so the previous one is dropped. A repeated CONFIRM for the
 * current generation is accepted and changes nothing.
 */
export function ratchetFinish(state: PairState, message: Uint8Array): PairState {
  const msg = decodeConfirm(message);
  if (msg.gen !== state.current.gen) {
    throw PrivacyError.unexpectedMessage(
      'ratchet CONFIRM',
      `confirms generation ${msg.gen}, ours is ${state.current.gen}`,
    );
  }
  if (
    !confirmTagValid(msg, bytes(state.current.confirm), parties(state, 'in', new Uint8Array(0)))
  ) {
    throw PrivacyError.messageAuth('ratchet CONFIRM');
  }
  return state.previous === null ? state : { ...state, previous: null };
}

/**
 * When both sides sent an OFFER on one tunnel: true if ours stands (our
 * identity key sorts first) and the peer's must be ignored; false if we drop
 * our pending offer and accept theirs. Both sides reach opposite answers.
 */
export function ownOfferWins(state: PairState): boolean {
  return Buffer.compare(bytes(state.self), bytes(state.peer)) < 0;
}

/** Overwrites the ephemeral secret of a pending offer (after use or when abandoned). */
export function wipePending(pending: PendingOffer): void {
  pending.ephemeralSecret.fill(0);
}

// ---- helpers --------------------------------------------------------------

/** The bases we hold, most preferred first: current, previous, generation 0. */
function ownBases(state: PairState): Slot[] {
  const out = [slotAt(state, state.current, state.epoch)];
  if (state.previous !== null) out.push(slotAt(state, state.previous, state.epoch));
  if (!out.some((s) => s.gen === 0))
    out.push(rootSlot(bytes(state.root), pairOf(state), state.epoch));
  return out;
}

/**
 * The base of the new generation: the first generation named in the OFFER
 * that we hold. Its tag must verify (else MESSAGE_AUTH: no falling through
 * to a later candidate, so a corrupted tag cannot downgrade the base); it
 * covers every byte of the OFFER, because each tag covers the tags after it
 * and the candidates before it are ones we do not hold.
 */
function matchBase(state: PairState, offer: Offer, p: Parties): Slot {
  const ours = ownBases(state);
  for (let i = 0; i < offer.gens.length; i++) {
    const slot = ours.find((s) => s.gen === offer.gens[i]);
    if (slot === undefined) continue;
    if (offerTagValid(offer, i, slot.confirm, p)) return slot;
    throw PrivacyError.messageAuth('ratchet OFFER');
  }
  throw PrivacyError.messageAuth('ratchet OFFER');
}

/** A base slot moved from epoch `from` to `to` (to − from ≤ MAX_EPOCH_DRIFT). */
function moveSlot(state: PairState, slot: Slot, from: number, to: number): Slot {
  if (to === from) return slot;
  const chain =
    slot.gen === 0 ? rootChain(bytes(state.root), pairOf(state), to) : stepChain(slot.chain, to);
  return { ...slot, chain };
}

function newSlot(
  base: Slot,
  ephemeralSecret: Uint8Array,
  peerEphemeral: Uint8Array,
  state: PairState,
  t: Uint8Array,
): Slot {
  const gen = base.gen + 1;
  const chain = mixChain(base.chain, ephemeralSecret, peerEphemeral, pairOf(state), t);
  return { gen, chain, confirm: confirmKey(chain, gen) };
}

function transcriptOf(
  binding: Uint8Array,
  offer: { body: Uint8Array },
  head: { epoch: number; baseGen: number; newGen: number; ephemeral: Uint8Array },
): Uint8Array {
  return transcript(binding, offer.body, replyHead(head));
}

function parties(state: PairState, direction: 'in' | 'out', binding: Uint8Array): Parties {
  const self = bytes(state.self);
  const peer = bytes(state.peer);
  return direction === 'out'
    ? { sender: self, receiver: peer, binding }
    : { sender: peer, receiver: self, binding };
}

function checkRandomness(randomness: unknown): asserts randomness is Uint8Array {
  if (!(randomness instanceof Uint8Array) || randomness.length !== SECRET_BYTES) {
    throw PrivacyError.badArgument('randomness', `${SECRET_BYTES} fresh random bytes`);
  }
}
