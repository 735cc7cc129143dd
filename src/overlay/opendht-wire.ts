/**
 * What p2psip puts into OpenDHT, byte by byte (docs/overlay.md "OpenDHT").
 *
 * OpenDHT stores MANY values per key, from anyone, unsigned (we use the REST
 * proxy's plain `data` values), and keeps each for the lifetime of its value
 * type. So every value we put is a small signed wrapper that carries what
 * OpenDHT does not: who wrote it, its version, and (for lookup records) until
 * when it is valid. Readers verify the signature and keep the newest wrapper
 * per writer; anything that does not decode or verify is someone else's and
 * is skipped.
 *
 * One domain-separation label, NS.opendht, with a tag byte per use:
 *
 *   DHT key of a lookup key K       BLAKE2b-160(labelled(NS.opendht, 0x01 ‖ K))
 *   DHT key of a secret address A   BLAKE2b-160(labelled(NS.opendht, 0x02 ‖ A))
 *   lookup wrapper signature        Ed25519(labelled(NS.opendht, 0x03 ‖ K ‖ head ‖ payload))
 *   secret wrapper signature        Ed25519(labelled(NS.opendht, 0x04 ‖ A ‖ head ‖ payload))
 *
 * Lookup wrapper (kind 0x01), 113..1113 bytes:
 *   kind 0x01 | publisher 32 | wire seq u64 BE | expires u64 BE (unix s) | signature 64 | payload
 *   wire seq = 2·seq for a record, 2·seq + 1 for a tombstone (empty payload,
 *   expires 0): the HyperDHT trick, so a withdrawal beats the record it buries
 *   and any later publish beats the tombstone.
 * Secret wrapper (kind 0x02), 74..1073 bytes:
 *   kind 0x02 | seq u64 BE | signature 64 | payload (1..1000 bytes)
 *   No time in it, so a refresh (same seq, same value) re-puts the same bytes
 *   with the signature already made: no public-key operation.
 *
 * The signed message binds the 32-byte key (not just the DHT key the proxy
 * sees), so a wrapper copied under another key does not verify there.
 */
import { concatBytes, toHex } from '../crypto/bytes.js';
import { ed25519Sign, ed25519Verify } from '../crypto/ed25519.js';
import { blake2b } from '../crypto/hash.js';
import { labelled, NS } from '../crypto/ns.js';
import { KEY_BYTES, MAX_SEQ, MAX_VALUE_BYTES } from './lookup-service.js';
import { SeedCache } from './secret-records.js';

/** Tag bytes under NS.opendht (append only). */
export const OpenDhtTag = {
  lookupKey: 0x01,
  secretKey: 0x02,
  lookupSig: 0x03,
  secretSig: 0x04,
} as const;

/** Wrapper kinds: the first byte of every value we put. */
export const WRAPPER_LOOKUP = 0x01;
export const WRAPPER_SECRET = 0x02;

const SIG = 64;
/** kind | publisher | wire seq | expires */
const LOOKUP_HEAD = 1 + 32 + 8 + 8;
/** kind | seq */
const SECRET_HEAD = 1 + 8;
export const LOOKUP_OVERHEAD = LOOKUP_HEAD + SIG;
export const SECRET_OVERHEAD = SECRET_HEAD + SIG;
/** The largest value we ever put (before base64): far below the proxy's 64,000-byte limit. */
export const MAX_WIRE_BYTES = LOOKUP_OVERHEAD + MAX_VALUE_BYTES;
/** What dhtnode 2.4.12 accepts per value (65,536 → 502; shared/notes/opendht.md). */
export const PROXY_VALUE_LIMIT = 64_000;

/**
 * Value types of dhtnode 2.4.12 and how long a storing node keeps a value of
 * each after its last put. Only types with the default store policy (any
 * bytes) are used.
 */
export const OpenDhtValueType = {
  /** "ICE candidates": 1 minute. */
  short: { type: 5, lifetimeMs: 60_000 },
  /** "User data", the default: 10 minutes. */
  userData: { type: 0, lifetimeMs: 600_000 },
  /** "Certificate trust request": 7 days. */
  week: { type: 4, lifetimeMs: 7 * 24 * 3600_000 },
} as const;
export type OpenDhtValueTypeInfo = (typeof OpenDhtValueType)[keyof typeof OpenDhtValueType];

/** The 40-hex OpenDHT key (InfoHash) of a 32-byte lookup key or secret address. */
export function dhtKeyOf(
  tag: typeof OpenDhtTag.lookupKey | typeof OpenDhtTag.secretKey,
  key: Uint8Array,
): string {
  return toHex(blake2b(labelled(NS.opendht, concatBytes(new Uint8Array([tag]), key)), 20));
}

/** A decoded lookup wrapper (signature not yet checked). */
export interface LookupWrapper {
  publisher: Uint8Array;
  /** 2·seq, or 2·seq + 1 for a tombstone. */
  wireSeq: number;
  /** Unix seconds after which readers hide the record; 0 in a tombstone. */
  expires: number;
  signature: Uint8Array;
  payload: Uint8Array;
  /** The encoded bytes (what was put). */
  bytes: Uint8Array;
}

export function isTombstone(w: { wireSeq: number }): boolean {
  return w.wireSeq % 2 === 1;
}

/** Encodes and signs a lookup wrapper with the per-(publisher, key) seed. */
export function encodeLookupWrapper(
  key: Uint8Array,
  seed: Uint8Array,
  publisher: Uint8Array,
  wireSeq: number,
  expires: number,
  payload: Uint8Array,
): Uint8Array {
  const head = new Uint8Array(LOOKUP_HEAD);
  const view = new DataView(head.buffer);
  head[0] = WRAPPER_LOOKUP;
  head.set(publisher, 1);
  view.setBigUint64(33, BigInt(wireSeq));
  view.setBigUint64(41, BigInt(expires));
  const signature = ed25519Sign(lookupMessage(key, head, payload), seed);
  return concatBytes(head, signature, payload);
}

/** Decodes a lookup wrapper; undefined for anything that is not one (someone else's value). */
export function decodeLookupWrapper(bytes: Uint8Array): LookupWrapper | undefined {
  if (bytes.byteLength < LOOKUP_OVERHEAD || bytes.byteLength > MAX_WIRE_BYTES) return undefined;
  if (bytes[0] !== WRAPPER_LOOKUP) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wireSeq = safeU64(view, 33);
  const expires = safeU64(view, 41);
  if (wireSeq === undefined || expires === undefined || wireSeq > 2 * MAX_SEQ + 1) return undefined;
  const payload = bytes.subarray(LOOKUP_OVERHEAD);
  // A tombstone and only a tombstone is empty.
  if ((wireSeq % 2 === 1) !== (payload.byteLength === 0)) return undefined;
  return {
    publisher: bytes.subarray(1, 33),
    wireSeq,
    expires,
    signature: bytes.subarray(LOOKUP_HEAD, LOOKUP_OVERHEAD),
    payload,
    bytes,
  };
}

/** True if the wrapper was signed by its publisher key for this lookup key. */
export function verifyLookupWrapper(key: Uint8Array, w: LookupWrapper): boolean {
  return ed25519Verify(
    w.signature,
    lookupMessage(key, w.bytes.subarray(0, LOOKUP_HEAD), w.payload),
    w.publisher,
  );
}

/** A decoded secret wrapper (signature not yet checked). */
export interface SecretWrapper {
  seq: number;
  signature: Uint8Array;
  payload: Uint8Array;
  bytes: Uint8Array;
}

export function encodeSecretWrapper(
  address: Uint8Array,
  seed: Uint8Array,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const head = new Uint8Array(SECRET_HEAD);
  head[0] = WRAPPER_SECRET;
  new DataView(head.buffer).setBigUint64(1, BigInt(seq));
  const signature = ed25519Sign(secretMessage(address, head, payload), seed);
  return concatBytes(head, signature, payload);
}

export function decodeSecretWrapper(bytes: Uint8Array): SecretWrapper | undefined {
  if (bytes.byteLength <= SECRET_OVERHEAD || bytes.byteLength > SECRET_OVERHEAD + MAX_VALUE_BYTES)
    return undefined;
  if (bytes[0] !== WRAPPER_SECRET) return undefined;
  const seq = safeU64(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 1);
  if (seq === undefined || seq > MAX_SEQ) return undefined;
  return {
    seq,
    signature: bytes.subarray(SECRET_HEAD, SECRET_OVERHEAD),
    payload: bytes.subarray(SECRET_OVERHEAD),
    bytes,
  };
}

export function verifySecretWrapper(address: Uint8Array, w: SecretWrapper): boolean {
  return ed25519Verify(
    w.signature,
    secretMessage(address, w.bytes.subarray(0, SECRET_HEAD), w.payload),
    address,
  );
}

/** Verification results remembered per reader (4,096 wrappers ≈ 300 KB). */
export const VERIFIED_CACHE_SIZE = 4096;

/**
 * The verdicts on wrappers already checked, keyed by BLAKE2b-256(key ‖ wrapper
 * bytes): the same bytes under the same key always verify the same way, so a
 * repeated find of an unchanged record costs no Ed25519 verification (≈ 1.7 ms
 * in pure JS on this machine, most of a find). Bounded, least recently used
 * first out.
 */
export class VerifiedWrappers {
  readonly #cache: SeedCache<boolean>;

  constructor(limit = VERIFIED_CACHE_SIZE) {
    this.#cache = new SeedCache(limit);
  }

  /** The cached verdict, else `verify()` (remembered). */
  check(key: Uint8Array, bytes: Uint8Array, verify: () => boolean): boolean {
    const id = toHex(blake2b(concatBytes(key, bytes), 32));
    const known = this.#cache.get(id);
    if (known !== undefined) return known;
    const ok = verify();
    this.#cache.set(id, ok);
    return ok;
  }
}

function lookupMessage(key: Uint8Array, head: Uint8Array, payload: Uint8Array): Uint8Array {
  if (key.byteLength !== KEY_BYTES) throw new RangeError('lookup key: 32 bytes expected');
  return labelled(
    NS.opendht,
    concatBytes(new Uint8Array([OpenDhtTag.lookupSig]), key, head, payload),
  );
}

function secretMessage(address: Uint8Array, head: Uint8Array, payload: Uint8Array): Uint8Array {
  if (address.byteLength !== KEY_BYTES) throw new RangeError('secret address: 32 bytes expected');
  return labelled(
    NS.opendht,
    concatBytes(new Uint8Array([OpenDhtTag.secretSig]), address, head, payload),
  );
}

function safeU64(view: DataView, offset: number): number | undefined {
  const v = view.getBigUint64(offset);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}
