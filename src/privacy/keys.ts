/**
 * Per friend, epoch and direction (publisher → reader): the keys a secret
 * record and a secret-mode connection use. All HKDF-SHA256 from the chain
 * secret of that epoch, one NS label each, with
 *   context = publisher identity key ‖ reader identity key ‖ u32be(epoch)   (68 bytes)
 *
 *   lookupKey  "p2psip/v1/secret-key"   32 B  the key given to the LookupService
 *   recordKey  "p2psip/v1/record-key"   32 B  XChaCha20-Poly1305 key of the record (./record.ts)
 *   recordSeed "p2psip/v1/record-seed"  32 B  Ed25519 seed of the key pair the record is
 *                                             written under (HyperDHT mutable record)
 *   tunnelSeed "p2psip/v1/tunnel-seed"  32 B  Ed25519 seed of the key the publisher listens
 *                                             on for this reader, and the reader dials
 *
 * No public-key operation happens here; turning a seed into a key pair (and
 * signing with it) is the backend's, once per epoch (docs/privacy.md "Cost").
 */
import { concatBytes } from '../crypto/bytes.js';
import { deriveKey } from '../crypto/kdf.js';
import { NS } from '../crypto/ns.js';
import { SECRET_BYTES, u32be } from './chain.js';
import { PrivacyError } from './errors.js';
import { bytes, type ChainSlot, checkEpoch, type PairState, slotAt } from './pair-state.js';

/** Records we publish for the peer (`to-peer`) or the peer publishes for us (`from-peer`). */
export type Direction = 'to-peer' | 'from-peer';

/**
 * How far past the state's epoch keys may be derived without advancing it:
 * a state held one epoch back for a grace period still derives the current
 * epoch and pre-publishes the next.
 */
export const MAX_KEYS_AHEAD = 2;

export interface RecordKeys {
  lookupKey: Uint8Array;
  recordKey: Uint8Array;
  recordSeed: Uint8Array;
}

export interface ChainKeys extends RecordKeys {
  tunnelSeed: Uint8Array;
}

export interface EpochKeys extends ChainKeys {
  epoch: number;
  generation: number;
  direction: Direction;
}

/** The four keys of one chain secret at `epoch`, for records from `publisher` to `reader`. */
export function deriveChainKeys(
  chain: Uint8Array,
  publisher: Uint8Array,
  reader: Uint8Array,
  epoch: number,
): ChainKeys {
  const context = concatBytes(publisher, reader, u32be(epoch));
  return {
    lookupKey: deriveKey(NS.secretKey, chain, { context }),
    recordKey: deriveKey(NS.recordKey, chain, { context }),
    recordSeed: deriveKey(NS.recordSeed, chain, { context }),
    tunnelSeed: deriveKey(NS.tunnelSeed, chain, { context }),
  };
}

/**
 * The keys of one generation of a pair at `epoch`. Refuses an epoch before
 * the state's (EPOCH_PAST: those chains are gone) and more than
 * {@link MAX_KEYS_AHEAD} after it (EPOCH_TOO_FAR: advance the state instead).
 */
export function pairEpochKeys(
  state: PairState,
  epoch: number,
  direction: Direction,
  which: 'current' | 'previous' = 'current',
): EpochKeys {
  const slot = which === 'current' ? state.current : state.previous;
  if (slot === null) throw PrivacyError.badArgument('which', 'a generation the state holds');
  return keysOf(state, slot, epoch, direction);
}

/**
 * The records to publish for the peer at `epoch`: under the current
 * generation, and also under the previous one while the peer has not
 * confirmed the current (it may still be on the previous).
 */
export function publishKeys(state: PairState, epoch: number): EpochKeys[] {
  return slotsOf(state).map((slot) => keysOf(state, slot, epoch, 'to-peer'));
}

/** The keys to look the peer's record up with at `epoch`, in order: current, then previous. */
export function lookupKeys(state: PairState, epoch: number): EpochKeys[] {
  return slotsOf(state).map((slot) => keysOf(state, slot, epoch, 'from-peer'));
}

/**
 * The alternative to per-friend tunnel keys: one tunnel key per node and
 * epoch, from the node's local 32-byte secret, handed to friends only inside
 * their encrypted records (docs/privacy.md "Tunnel keys").
 */
export function nodeTunnelSeed(localSeed: Uint8Array, epoch: number): Uint8Array {
  if (!(localSeed instanceof Uint8Array) || localSeed.length !== SECRET_BYTES) {
    throw PrivacyError.badArgument('local seed', `${SECRET_BYTES} bytes`);
  }
  checkEpoch(epoch, 'epoch');
  return deriveKey(NS.nodeTunnelSeed, localSeed, { context: u32be(epoch) });
}

function slotsOf(state: PairState): ChainSlot[] {
  return state.previous === null ? [state.current] : [state.current, state.previous];
}

function keysOf(state: PairState, slot: ChainSlot, epoch: number, direction: Direction): EpochKeys {
  checkEpoch(epoch, 'epoch');
  if (direction !== 'to-peer' && direction !== 'from-peer') {
    throw PrivacyError.badArgument('direction', "'to-peer' or 'from-peer'");
  }
  if (epoch < state.epoch) throw PrivacyError.epochPast(epoch, state.epoch);
  if (epoch > state.epoch + MAX_KEYS_AHEAD) {
    throw PrivacyError.epochTooFar(epoch, state.epoch, MAX_KEYS_AHEAD);
  }
  const { chain } = slotAt(state, slot, epoch);
  const self = bytes(state.self);
  const peer = bytes(state.peer);
  const [publisher, reader] = direction === 'to-peer' ? [self, peer] : [peer, self];
  try {
    return {
      epoch,
      generation: slot.gen,
      direction,
      ...deriveChainKeys(chain, publisher, reader, epoch),
    };
  } finally {
    chain.fill(0);
  }
}
