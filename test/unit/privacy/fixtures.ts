// Shared by the privacy tests: fixed identities, a complete ratchet exchange,
// and keys as hex for comparisons.
import { toHex } from '../../../src/crypto/index.js';
import { Identity } from '../../../src/identity/index.js';
import {
  type EpochKeys,
  initialPairState,
  type PairState,
  privacyErrorCode,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
} from '../../../src/privacy/index.js';

export const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

export const alice = Identity.fromSeed('alice@example.org', fill(32, 0xa1));
export const bob = Identity.fromSeed('bob@example.org', fill(32, 0xb0));
export const carol = Identity.fromSeed('carol@example.org', fill(32, 0xc0));

export const EPOCH = 472_222;
/** A tunnel's channel binding (hyperdht's handshake hash is 64 bytes). */
export const BINDING = fill(64, 0x5a);

let counter = 0;
/** Distinct 32-byte "random" inputs, deterministic so failures reproduce. */
export function rand(): Uint8Array {
  counter++;
  return Uint8Array.from({ length: 32 }, (_, i) => (counter * 31 + i * 7) & 0xff);
}

/** Both sides of a new alice–bob pair at `epoch`. */
export function newPair(epoch = EPOCH): { a: PairState; b: PairState } {
  return {
    a: initialPairState(alice, bob.publicKey, epoch),
    b: initialPairState(bob, alice.publicKey, epoch),
  };
}

/** A complete exchange, `from` offering to `to`; returns both new states and the messages. */
export function exchange(from: PairState, to: PairState, binding = BINDING) {
  const { message: offer, pending } = ratchetOffer(from, rand(), binding);
  const accepted = ratchetAccept(to, offer, rand(), binding);
  const confirmed = ratchetConfirm(pending, accepted.reply);
  const finished = ratchetFinish(accepted.state, confirmed.confirm);
  return {
    offerer: confirmed.state,
    responder: finished,
    offer,
    reply: accepted.reply,
    confirm: confirmed.confirm,
  };
}

export function keysHex(k: EpochKeys) {
  return {
    lookupKey: toHex(k.lookupKey),
    recordKey: toHex(k.recordKey),
    recordSeed: toHex(k.recordSeed),
    tunnelSeed: toHex(k.tunnelSeed),
  };
}

/** The PrivacyError code `fn` throws; a description if it throws anything else; undefined if it returns. */
export function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return privacyErrorCode(err) ?? `not a PrivacyError: ${String(err)}`;
  }
  return undefined;
}
