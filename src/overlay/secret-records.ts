/**
 * The second, narrow contract of the overlay: SECRET records (issue 4,
 * docs/privacy.md "Where records live", docs/overlay.md "Secret records").
 *
 * A secret record has exactly one legitimate writer and is addressed by a
 * key only the pair of friends can derive: the writer holds a 32-byte record
 * SEED, the record lives at the Ed25519 public key of that seed (its
 * ADDRESS), and nothing is announced — an announcement would be signed per
 * storing node on every refresh and would group a publisher's records under
 * one announcer. Readers derive the same seed (or are given the address) and
 * read the one record there.
 *
 * Seq rules (per seed): a put must not go below the last seq this instance
 * used; the SAME seq is allowed only with the SAME value — that is a refresh,
 * which the HyperDHT backend re-puts with its cached signature (no
 * public-key operation). Across restarts the caller must keep seqs growing
 * itself (docs/privacy.md: count publications per epoch, persisted).
 *
 * Values are opaque, 1..MAX_VALUE_BYTES bytes (records from `sealRecord` are
 * exactly 1,000); empty values are refused — going offline is published as
 * an offline package of the same size, never as a visible tombstone.
 */
import { checkSignal, checkValue, keyHex } from './checks.js';
import { OverlayError } from './errors.js';
import { KEY_BYTES, MAX_SEQ } from './lookup-service.js';

/** Record seeds and addresses are 32 bytes. */
export const SECRET_SEED_BYTES = 32;
/**
 * The longest `ttlSeconds` of a secret put: 48 h, how long a HyperDHT node
 * keeps a mutable record it is not sent again. Past that, re-put.
 */
export const MAX_SECRET_TTL_SECONDS = 48 * 3600;

export interface SecretPutOptions {
  /** Version of the record under this seed: 0..MAX_SEQ, see the seq rules above. */
  seq: number;
  /**
   * The publisher re-puts within this many seconds (1..MAX_SECRET_TTL_SECONDS);
   * a backend may forget the record after it. The memory backend forgets it
   * exactly then (the strictest model); HyperDHT nodes keep it up to 48 h or
   * until churn loses it, whichever comes first — a re-put covers both.
   */
  ttlSeconds: number;
  signal?: AbortSignal;
}

export interface SecretGetOptions {
  signal?: AbortSignal;
  /** Give up after this long (ms) with OVERLAY_TIMEOUT; the backend has a default. */
  timeoutMs?: number;
}

/** Where to read: by the seed (the reader derives the address, one key generation, cached) or by the address. */
export type SecretRef = { seed: Uint8Array } | { address: Uint8Array };

/** The record found at an address: unauthenticated beyond the backend's own checks — open it before use. */
export interface SecretRecord {
  value: Uint8Array;
  seq: number;
}

export interface SecretRecordService {
  /** Backend name for logs ('memory', 'hyperdht'). */
  readonly name: string;
  /** The 32-byte public address of the record written under `seed` (cached per seed). */
  addressOf(seed: Uint8Array): Uint8Array;
  /**
   * Writes (or refreshes) the record under `seed`. Errors: OVERLAY_BAD_KEY
   * (seed), OVERLAY_BAD_VALUE, OVERLAY_VALUE_TOO_LARGE, OVERLAY_BAD_OPTION,
   * OVERLAY_SEQ_TOO_LOW, OVERLAY_CLOSED, OVERLAY_ABORTED, OVERLAY_BACKEND.
   */
  putSecret(seed: Uint8Array, value: Uint8Array, opts: SecretPutOptions): Promise<void>;
  /** The newest record at the address; undefined if none. */
  getSecret(ref: SecretRef, opts?: SecretGetOptions): Promise<SecretRecord | undefined>;
  /** Stops and releases what the backend owns; records stay in the network. Idempotent. */
  close(): Promise<void>;
}

// ---- public-key operation accounting -----------------------------------------

/**
 * What counts as a public-key operation (docs/privacy.md "Cost accounting"):
 * an Ed25519 key generation from a seed, a signature, a verification, an
 * X25519. Hashes, HKDF and the AEAD do not count.
 */
export type PkOp = 'keygen' | 'sign' | 'verify' | 'x25519';

/** Injected wherever public-key work happens, so benchmarks report it honestly. */
export interface PkOpCounter {
  add(op: PkOp, n?: number): void;
}

/** A PkOpCounter that tallies: `total`, per kind, and `reset()` between phases. */
export class PkOpTally implements PkOpCounter {
  readonly counts: Record<PkOp, number> = { keygen: 0, sign: 0, verify: 0, x25519: 0 };

  add(op: PkOp, n = 1): void {
    this.counts[op] += n;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  reset(): void {
    for (const k of Object.keys(this.counts) as PkOp[]) this.counts[k] = 0;
  }
}

/** Counts nothing (the default). */
export const noPkOps: PkOpCounter = { add() {} };

// ---- shared checks -------------------------------------------------------------

/** A seed or address: 32 bytes (OVERLAY_BAD_KEY otherwise). */
export function checkSecretKey(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== KEY_BYTES)
    throw OverlayError.badKey(bytes);
}

export function checkSecretPutOptions(opts: SecretPutOptions): void {
  const { seq, ttlSeconds } = opts ?? ({} as SecretPutOptions);
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ)
    throw OverlayError.badOption('seq', seq, `an integer 0..${MAX_SEQ}`);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_SECRET_TTL_SECONDS)
    throw OverlayError.badOption(
      'ttlSeconds',
      ttlSeconds,
      `an integer 1..${MAX_SECRET_TTL_SECONDS}`,
    );
}

/** All argument checks of `putSecret`, in the order every backend applies them. */
export function checkSecretPut(seed: unknown, value: unknown, opts: SecretPutOptions): void {
  checkSecretKey(seed);
  checkValue(value);
  checkSecretPutOptions(opts);
  checkSignal(opts.signal);
}

/** The address bytes of a ref (checked). */
export function refAddress(
  ref: SecretRef,
  addressOf: (seed: Uint8Array) => Uint8Array,
): Uint8Array {
  if (ref !== null && typeof ref === 'object' && 'seed' in ref) {
    checkSecretKey(ref.seed);
    return addressOf(ref.seed);
  }
  const address = (ref as { address?: unknown } | null)?.address;
  checkSecretKey(address);
  return address;
}

/** The last put per seed: what a same-seq refresh must match. */
export interface LastPut {
  seq: number;
  value: Uint8Array;
}

/**
 * The seq rule: lower → OVERLAY_SEQ_TOO_LOW; equal with another value →
 * OVERLAY_SEQ_TOO_LOW (a reused seq); equal with the same value → 'refresh'.
 */
export function checkSecretSeq(
  last: LastPut | undefined,
  seq: number,
  value: Uint8Array,
): 'new' | 'refresh' {
  if (last === undefined || seq > last.seq) return 'new';
  if (seq === last.seq && Buffer.compare(last.value, value) === 0) return 'refresh';
  if (seq === last.seq)
    throw new OverlayError(
      OverlayError.seqTooLow(seq, last.seq).code,
      `seq ${seq} was already used under this record seed with another value`,
    );
  throw OverlayError.seqTooLow(seq, last.seq);
}

/**
 * A bounded map from hex seed to whatever a backend caches per seed (key
 * pair, last put): the least recently used go first once `limit` is reached, so a node
 * with many friends over many epochs does not grow without bound. Seeds of a
 * past epoch are never used again.
 */
export class SeedCache<V> {
  readonly #limit: number;
  readonly #entries = new Map<string, V>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The entry, now the most recently used. */
  get(hex: string): V | undefined {
    const value = this.#entries.get(hex);
    if (value !== undefined) {
      this.#entries.delete(hex);
      this.#entries.set(hex, value);
    }
    return value;
  }

  set(hex: string, value: V): void {
    this.#entries.delete(hex);
    this.#entries.set(hex, value);
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * What a backend keeps per seed (its key pair or address, the last put),
 * created on first use with one key generation counted on `pkOps`.
 */
export class SeedEntries<E> {
  readonly #cache: SeedCache<E>;
  readonly #make: (seed: Uint8Array) => E;
  readonly #pkOps: PkOpCounter;

  constructor(make: (seed: Uint8Array) => E, opts: SecretBackendOptions) {
    this.#make = make;
    this.#pkOps = opts.pkOps ?? noPkOps;
    this.#cache = new SeedCache(opts.cacheSize ?? DEFAULT_SEED_CACHE);
  }

  /** The entry of a (checked) seed. */
  of(seed: Uint8Array): E {
    checkSecretKey(seed);
    const hex = keyHex(seed);
    let entry = this.#cache.get(hex);
    if (entry === undefined) {
      this.#pkOps.add('keygen');
      entry = this.#make(seed);
      this.#cache.set(hex, entry);
    }
    return entry;
  }
}

/** Per-seed cache size: four epochs' worth of records for 4,096 friends. */
export const DEFAULT_SEED_CACHE = 16_384;

/** Options every secret backend takes. */
export interface SecretBackendOptions {
  /** Counts the backend's public-key operations (benchmarks, tests). */
  pkOps?: PkOpCounter;
  /** Per-seed cache size (key pairs, last puts). Default DEFAULT_SEED_CACHE. */
  cacheSize?: number;
}
