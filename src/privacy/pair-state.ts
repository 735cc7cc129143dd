/**
 * The durable state of one pair of friends: a plain JSON-safe object (bytes
 * as unpadded base64url), state in → state out, nothing kept anywhere else.
 * The node stores it per contact and must write the state a function returns
 * before it sends the message that function produced (docs/privacy.md,
 * "Commit order"), so a crash can lose a step but never half of one.
 *
 * Epochs are integers, `epochOf(unixSeconds, epochSeconds)`; both sides of a
 * pair use the same epoch length. The state is always AT one epoch: it can
 * derive keys for that epoch and a little ahead, and has forgotten the
 * chains of every earlier one.
 */
import { fromBase64url, toBase64url } from '../crypto/bytes.js';
import { NS } from '../crypto/ns.js';
import type { Identity } from '../identity/identity.js';
import { advanceChain, confirmKey, isU32, pairContext, rootChain, SECRET_BYTES } from './chain.js';
import { PrivacyError } from './errors.js';

export const PAIR_STATE_VERSION = 1;
/** Default epoch: an hour (the "about an hour"). */
export const DEFAULT_EPOCH_SECONDS = 3600;
export const MIN_EPOCH_SECONDS = 300;
export const MAX_EPOCH_SECONDS = 7 * 86400;
/**
 * The most epochs one call may step a chain forward: 65,536 HKDF steps
 * (≈ 0.85 s at the 12.8 µs per step measured on the 2-core test machine;
 * 7.5 years of one-hour epochs). A state further behind is EPOCH_TOO_FAR and
 * the pair starts again from first contact.
 */
export const MAX_EPOCH_SKIP = 65_536;

/** One generation of the chain, as stored. */
export interface ChainSlot {
  /** 0 = derived from the identity keys alone; +1 per completed ratchet. */
  gen: number;
  /** The chain secret at the state's epoch (base64url, 32 bytes). */
  chain: string;
  /** This generation's tag key (base64url, 32 bytes); does not change with the epoch. */
  confirm: string;
}

export interface PairState {
  v: 1;
  /** Our Ed25519 identity public key (base64url). */
  self: string;
  /** The friend's Ed25519 identity public key (base64url). */
  peer: string;
  epochSeconds: number;
  /** The epoch every chain in this state is at. */
  epoch: number;
  /**
   * The static pair secret. Anyone holding either identity key can compute it,
   * so keeping it adds nothing for a key thief; it lets a pair that fell out of
   * step ratchet again from generation 0.
   */
  root: string;
  current: ChainSlot;
  /**
   * The generation before `current` while the peer is not yet known to hold
   * `current` (we answered an OFFER and no CONFIRM came yet); null once it is.
   */
  previous: ChainSlot | null;
}

/** A slot with its bytes decoded, at some epoch. */
export interface Slot {
  gen: number;
  chain: Uint8Array;
  confirm: Uint8Array;
}

/** The epoch of a Unix time in seconds. */
export function epochOf(unixSeconds: number, epochSeconds = DEFAULT_EPOCH_SECONDS): number {
  checkEpochSeconds(epochSeconds, PrivacyError.badArgument);
  if (!Number.isSafeInteger(unixSeconds) || unixSeconds < 0 || unixSeconds >= 1e11) {
    throw PrivacyError.badArgument('unixSeconds', 'whole seconds 0..1e11 (not milliseconds)');
  }
  return Math.floor(unixSeconds / epochSeconds);
}

/**
 * The state of a new pair at `epoch`, from the static X25519 agreement of the
 * two identity keys: both friends compute it with no message exchanged.
 */
export function initialPairState(
  identity: Identity,
  peerKey: Uint8Array,
  epoch: number,
  opts: { epochSeconds?: number } = {},
): PairState {
  const epochSeconds = opts.epochSeconds ?? DEFAULT_EPOCH_SECONDS;
  checkEpochSeconds(epochSeconds, PrivacyError.badArgument);
  checkEpoch(epoch, 'epoch');
  if (!(peerKey instanceof Uint8Array) || peerKey.length !== 32) {
    throw PrivacyError.badArgument('peer key', 'a 32-byte Ed25519 public key');
  }
  const self = identity.publicKey;
  if (Buffer.compare(self, peerKey) === 0) {
    throw PrivacyError.badArgument('peer key', 'a key other than our own');
  }
  const pair = pairContext(self, peerKey);
  let root: Uint8Array;
  try {
    root = identity.agree(NS.pairSecret, peerKey, pair);
  } catch {
    throw PrivacyError.badArgument('peer key', 'a valid Ed25519 public key');
  }
  const state: PairState = {
    v: PAIR_STATE_VERSION,
    self: toBase64url(self),
    peer: toBase64url(peerKey),
    epochSeconds,
    epoch,
    root: toBase64url(root),
    current: storeSlot(rootSlot(root, pair, epoch)),
    previous: null,
  };
  root.fill(0);
  return state;
}

/**
 * The state moved forward to `epoch`: each chain of generation ≥ 1 is hashed
 * forward once per epoch and the old values are dropped, so the result cannot
 * produce any earlier epoch's keys. Cost: one HKDF per epoch skipped and slot.
 */
export function advanceToEpoch(state: PairState, epoch: number): PairState {
  checkEpoch(epoch, 'epoch');
  if (epoch < state.epoch) throw PrivacyError.epochPast(epoch, state.epoch);
  if (epoch === state.epoch) return state;
  if (epoch - state.epoch > MAX_EPOCH_SKIP) {
    throw PrivacyError.epochTooFar(epoch, state.epoch, MAX_EPOCH_SKIP);
  }
  return {
    ...state,
    epoch,
    current: storeSlot(slotAt(state, state.current, epoch)),
    previous: state.previous === null ? null : storeSlot(slotAt(state, state.previous, epoch)),
  };
}

/**
 * A stored slot decoded and moved forward to `epoch` (≥ state.epoch) without
 * changing the state: how keys a little ahead of the state are derived.
 */
export function slotAt(state: PairState, slot: ChainSlot, epoch: number): Slot {
  const chain =
    slot.gen === 0
      ? rootChain(bytes(state.root), pairOf(state), epoch)
      : advanceChain(bytes(slot.chain), state.epoch, epoch);
  return { gen: slot.gen, chain, confirm: bytes(slot.confirm) };
}

/** Generation 0 at `epoch`: always computable from the root. */
export function rootSlot(root: Uint8Array, pair: Uint8Array, epoch: number): Slot {
  return { gen: 0, chain: rootChain(root, pair, epoch), confirm: confirmKey(root, 0) };
}

/** lo ‖ hi of the state's two identity keys. */
export function pairOf(state: PairState): Uint8Array {
  return pairContext(bytes(state.self), bytes(state.peer));
}

export function storeSlot(slot: Slot): ChainSlot {
  return { gen: slot.gen, chain: toBase64url(slot.chain), confirm: toBase64url(slot.confirm) };
}

/** A field of a checked state, decoded. */
export function bytes(text: string): Uint8Array {
  return fromBase64url(text);
}

/**
 * Checks that a value read from storage is a v1 pair state (every field,
 * every length, every range) and returns it typed; PRIVACY_STATE_MALFORMED otherwise.
 */
export function checkPairState(value: unknown): PairState {
  const bad = PrivacyError.stateMalformed;
  if (typeof value !== 'object' || value === null) throw bad('the state', 'an object');
  const s = value as Record<string, unknown>;
  const keys = ['v', 'self', 'peer', 'epochSeconds', 'epoch', 'root', 'current', 'previous'];
  if (Object.keys(s).sort().join() !== [...keys].sort().join()) {
    throw bad('the state', `an object with exactly ${keys.join(', ')}`);
  }
  if (s.v !== PAIR_STATE_VERSION) throw bad('v', String(PAIR_STATE_VERSION));
  checkSecretText(s.self, 'self');
  checkSecretText(s.peer, 'peer');
  if (s.self === s.peer) throw bad('peer', 'different from self');
  checkEpochSeconds(s.epochSeconds, bad);
  if (!isU32(s.epoch)) throw bad('epoch', 'an integer 0..2^32-1');
  checkSecretText(s.root, 'root');
  checkSlot(s.current, 'current');
  if (s.previous !== null) checkSlot(s.previous, 'previous');
  return value as PairState;
}

function checkSlot(value: unknown, field: string): void {
  const bad = PrivacyError.stateMalformed;
  if (typeof value !== 'object' || value === null) throw bad(field, 'an object');
  const slot = value as Record<string, unknown>;
  if (Object.keys(slot).sort().join() !== 'chain,confirm,gen') {
    throw bad(field, 'an object with exactly gen, chain, confirm');
  }
  if (!isU32(slot.gen)) throw bad(`${field}.gen`, 'an integer 0..2^32-1');
  checkSecretText(slot.chain, `${field}.chain`);
  checkSecretText(slot.confirm, `${field}.confirm`);
}

function checkSecretText(value: unknown, field: string): void {
  let ok = false;
  if (typeof value === 'string') {
    try {
      ok = fromBase64url(value).length === SECRET_BYTES;
    } catch {
      ok = false;
    }
  }
  if (!ok) throw PrivacyError.stateMalformed(field, 'canonical base64url of 32 bytes');
}

function checkEpochSeconds(
  value: unknown,
  fail: (what: string, expected: string) => PrivacyError,
): void {
  if (
    !Number.isInteger(value) ||
    (value as number) < MIN_EPOCH_SECONDS ||
    (value as number) > MAX_EPOCH_SECONDS
  ) {
    throw fail('epochSeconds', `an integer ${MIN_EPOCH_SECONDS}..${MAX_EPOCH_SECONDS}`);
  }
}

/** Throws PRIVACY_BAD_ARGUMENT unless `epoch` is an integer 0..2^32-1. */
export function checkEpoch(epoch: unknown, what: string): asserts epoch is number {
  if (!isU32(epoch)) throw PrivacyError.badArgument(what, 'an integer 0..2^32-1');
}
