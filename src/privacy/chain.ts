/**
 * The chain secrets of a pair: byte-level derivations only (no state shape,
 * no messages). docs/privacy.md "Derivations" gives the same formulas.
 *
 *   root            = Identity.agree(NS.pairSecret, peer, lo ‖ hi)           (static, no message)
 *   C₀(e)           = HKDF(ikm = root, info = "p2psip/v1/pair-epoch" ‖ 0 ‖ lo ‖ hi ‖ u32be(e))
 *   C_g(e+1)        = HKDF(ikm = C_g(e), info = "p2psip/v1/epoch-step" ‖ 0 ‖ u32be(e+1))   (g ≥ 1)
 *   C_{g'}(E)       = HKDF(salt = C_base(E), ikm = X25519(eph, peerEph),
 *                          info = "p2psip/v1/ratchet" ‖ 0 ‖ lo ‖ hi ‖ transcript)
 *   confirm_g       = HKDF(ikm = C_g(E at creation) (root for g = 0),
 *                          info = "p2psip/v1/ratchet-confirm" ‖ 0 ‖ u32be(g))
 *
 * lo / hi are the two Ed25519 identity keys in byte order, so both sides
 * compute the same bytes. Generation 0 is a function of the epoch alone
 * (any epoch is computable from root, so it can start at any epoch); every
 * later generation only goes forward, one epoch at a time, and the step
 * cannot be undone.
 */
import { concatBytes } from '../crypto/bytes.js';
import { deriveKey } from '../crypto/kdf.js';
import { NS } from '../crypto/ns.js';
import { x25519Shared } from '../crypto/x25519.js';
import { PrivacyError } from './errors.js';

export const SECRET_BYTES = 32;
/** Largest epoch and generation number: both travel as u32be. */
export const MAX_U32 = 0xffff_ffff;

export function isU32(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_U32;
}

/** u32 big-endian. */
export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** The two identity keys in byte order (lo ‖ hi): the same on both sides of a pair. */
export function pairContext(a: Uint8Array, b: Uint8Array): Uint8Array {
  return Buffer.compare(a, b) <= 0 ? concatBytes(a, b) : concatBytes(b, a);
}

/** C₀(e): the generation-0 chain secret of epoch `epoch`. */
export function rootChain(root: Uint8Array, pair: Uint8Array, epoch: number): Uint8Array {
  return deriveKey(NS.pairEpoch, root, { context: concatBytes(pair, u32be(epoch)) });
}

/** C(e+1) from C(e): one one-way step. `nextEpoch` is e+1. */
export function stepChain(chain: Uint8Array, nextEpoch: number): Uint8Array {
  return deriveKey(NS.epochStep, chain, { context: u32be(nextEpoch) });
}

/** The chain of a generation ≥ 1 moved from epoch `from` to epoch `to` (≥ from). */
export function advanceChain(chain: Uint8Array, from: number, to: number): Uint8Array {
  let c = chain;
  for (let e = from + 1; e <= to; e++) c = stepChain(c, e);
  return c;
}

/** The tag key of generation `gen`; `origin` is root for generation 0, else the chain at creation. */
export function confirmKey(origin: Uint8Array, gen: number): Uint8Array {
  return deriveKey(NS.ratchetConfirm, origin, { context: u32be(gen) });
}

/** The new chain of a ratchet: the old chain keys HKDF, the fresh Diffie-Hellman output is mixed in. */
export function mixChain(
  baseChain: Uint8Array,
  ephemeralSecret: Uint8Array,
  peerEphemeral: Uint8Array,
  pair: Uint8Array,
  transcript: Uint8Array,
): Uint8Array {
  const dh = x25519Agree(ephemeralSecret, peerEphemeral);
  try {
    return deriveKey(NS.ratchet, dh, { salt: baseChain, context: concatBytes(pair, transcript) });
  } finally {
    dh.fill(0);
  }
}

const BASE_POINT = new Uint8Array(32);
BASE_POINT[0] = 9;

/**
 * The X25519 public key of an ephemeral secret: X25519(secret, 9), the
 * definition of the public key in RFC 7748 §6.1, through the one wrapper.
 */
export function ephemeralPublic(secret: Uint8Array): Uint8Array {
  return x25519Agree(secret, BASE_POINT);
}

/** X25519 with a peer's ephemeral key; a low-order point is a malformed message, not a crash. */
function x25519Agree(secret: Uint8Array, peer: Uint8Array): Uint8Array {
  try {
    return x25519Shared(secret, peer);
  } catch {
    throw PrivacyError.messageMalformed('ephemeral key', 'not a usable X25519 public key');
  }
}
