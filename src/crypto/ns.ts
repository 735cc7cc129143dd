/**
 * The ONE table of domain-separation labels (like hyperdht's
 * `lib/constants.js` NS). Every signature, KDF label, hash and handshake
 * prologue in p2psip takes its label from here, so no two uses of a key or
 * hash can ever be confused with each other.
 *
 * How a label is applied (docs/protocol.md, "Domain separation"):
 *   labelled(label, data) = UTF-8(label) ‖ 0x00 ‖ data
 * Labels are ASCII without NUL, so the 0x00 ends the label unambiguously.
 *
 * Rules: append only; never change or reuse a value (it would silently break
 * every signature and lookup key made with it); bump `v1` → `v2` for a new
 * meaning. Entries marked "reserved" are allocated for the named issue so that
 * parallel work does not invent its own strings.
 */
import { concatBytes, utf8 } from './bytes.js';

export const NS = {
  /** Hash: the open (well-known) lookup key of an AOR. src/identity/open-key.ts */
  openKey: 'p2psip/v1/open-key',
  /** Signature: the registration package. src/package/ */
  packageSig: 'p2psip/v1/package-sig',
  /** Reserved (issue 4): KDF info for pairwise secrets from X25519 of identity keys. */
  pairSecret: 'p2psip/v1/pair-secret',
  /** Reserved (issue 4): KDF info for per-friend, per-epoch secret lookup keys. */
  secretKey: 'p2psip/v1/secret-key',
  /** Reserved (issue 4): KDF info for AEAD keys of encrypted padded records. */
  recordKey: 'p2psip/v1/record-key',
  /** Reserved (issue 4): KDF info for ratchet steps of pairwise secrets. */
  ratchet: 'p2psip/v1/ratchet',
  /** Keyed hash: the per-(publisher, lookup key) seed a node announces and writes with. src/overlay/checks.ts */
  overlayPublisher: 'p2psip/v1/overlay-publisher',
  /** Reserved (tunnel): Noise handshake prologue of node-to-node connections. */
  tunnelPrologue: 'p2psip/v1/tunnel-prologue',
  /** KDF info: the generation-0 chain secret of one epoch, from the static pair secret. src/privacy/chain.ts */
  pairEpoch: 'p2psip/v1/pair-epoch',
  /** KDF info: the one-way step of a chain secret from one epoch to the next. src/privacy/chain.ts */
  epochStep: 'p2psip/v1/epoch-step',
  /** KDF info: the per-generation key that tags ratchet messages. src/privacy/chain.ts */
  ratchetConfirm: 'p2psip/v1/ratchet-confirm',
  /** KDF info (16-byte output): the tags of the ratchet's OFFER, REPLY and CONFIRM. src/privacy/ratchet-messages.ts */
  ratchetTag: 'p2psip/v1/ratchet-tag',
  /** KDF info: Ed25519 seed of the key pair a secret record is written under. src/privacy/keys.ts */
  recordSeed: 'p2psip/v1/record-seed',
  /** KDF info: Ed25519 seed of the per-friend, per-epoch tunnel key (secret mode). src/privacy/keys.ts */
  tunnelSeed: 'p2psip/v1/tunnel-seed',
  /** KDF info: Ed25519 seed of a node's per-epoch tunnel key shared by all friends. src/privacy/keys.ts */
  nodeTunnelSeed: 'p2psip/v1/node-tunnel-seed',
  /** KDF info: the per-epoch secret of a group key. src/privacy/group.ts */
  groupEpoch: 'p2psip/v1/group-epoch',
  /** Signature: a contact card, by the identity key over the card text before `&sig=`. src/contacts/card.ts */
  contactCard: 'p2psip/v1/contact-card',
  /** Tagged hash + signature: OpenDHT keys (BLAKE2b-160) and signed value wrappers, one tag byte per use. src/overlay/opendht-wire.ts */
  opendht: 'p2psip/v1/opendht',
} as const;

export type NsLabel = (typeof NS)[keyof typeof NS];

/** UTF-8(label) ‖ 0x00 ‖ data: the input every labelled operation signs, hashes or derives from. */
export function labelled(label: NsLabel, data: Uint8Array): Uint8Array {
  return concatBytes(utf8(label), new Uint8Array([0]), data);
}

/** The label as bytes, for APIs that take a separate info / prologue argument (HKDF, Noise). */
export function labelBytes(label: NsLabel): Uint8Array {
  return utf8(label);
}
