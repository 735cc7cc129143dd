/**
 * The lookup service: what the proxy needs from a DHT (or any other place where
 * nodes can find each other's records). ONE contract; every backend (memory,
 * HyperDHT; OpenDHT and LAN multicast next) implements it and runs the shared
 * compliance suite in test/unit/overlay/compliance.ts. Design notes and the
 * HyperDHT mapping: docs/overlay.md.
 *
 * The layer stores OPAQUE bytes. It does not look inside values and it does
 * NOT authenticate them: anyone may write under a well-known key, so every
 * record `find` returns is a candidate that the caller must verify (signature
 * of a registration package, AEAD of a secret-key record) before trusting it.
 */

/** Lookup keys are exactly 32 bytes (a labelled hash of an AOR, or a derived secret key). */
export const KEY_BYTES = 32;

/**
 * The largest value a backend accepts. HyperDHT replies carry node lists too,
 * and a 1,854-byte get already failed in a 33-node network; 1000 bytes also
 * keeps every reply in one unfragmented datagram on real paths.
 */
export const MAX_VALUE_BYTES = 1000;

/** Bounds of `PublishOptions.ttlSeconds`: one second to seven days. */
export const MIN_TTL_SECONDS = 1;
export const MAX_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Bound of `PublishOptions.seq` (2^48 − 1): room for a millisecond clock for
 * thousands of years, and small enough that backends can map it into their own
 * sequence space (HyperDHT uses 2·seq and 2·seq + 1, still a safe integer).
 */
export const MAX_SEQ = 2 ** 48 - 1;

export interface PublishOptions {
  /**
   * How long the record should stay findable, in seconds (integer,
   * MIN_TTL_SECONDS..MAX_TTL_SECONDS). The backend keeps it alive that long
   * (HyperDHT re-announces in the background) and withdraws it afterwards.
   */
  ttlSeconds: number;
  /**
   * Version of this publisher's record under this key: integer 0..MAX_SEQ,
   * strictly higher than the last one this publisher used under the key
   * (refresh = publish again with a higher seq). It must also be higher across
   * restarts: use a clock (e.g. Date.now()) or a persisted counter.
   */
  seq: number;
  signal?: AbortSignal;
}

export interface FindOptions {
  signal?: AbortSignal;
  /** Give up after this long (ms) with OVERLAY_TIMEOUT; the backend has a default. */
  timeoutMs?: number;
}

/** One candidate found under a key: the current record of one publisher. */
export interface FoundRecord {
  /** The bytes as published. Unauthenticated: verify before use. */
  value: Uint8Array;
  /** The seq it was published with. */
  seq: number;
  /**
   * Opaque id of the (publisher, key) pair: stable across refreshes, so a
   * newer record of the same publisher replaces the older one; different
   * under different keys, so records of one publisher are not linkable.
   * 32 bytes (HyperDHT: the announcer's public key).
   */
  publisher: Uint8Array;
}

export interface LookupService {
  /** Backend name for logs and diagnostics ('memory', 'hyperdht', …). */
  readonly name: string;
  /**
   * Publishes (or refreshes) this node's record under `key`. Several
   * publishers can hold records under one key at once; a publisher has at
   * most one (the one with the highest seq). Errors: OVERLAY_BAD_KEY,
   * OVERLAY_BAD_VALUE, OVERLAY_VALUE_TOO_LARGE, OVERLAY_BAD_OPTION,
   * OVERLAY_SEQ_TOO_LOW, OVERLAY_CLOSED, OVERLAY_ABORTED, OVERLAY_BACKEND.
   */
  publish(key: Uint8Array, value: Uint8Array, opts: PublishOptions): Promise<void>;
  /** Removes this node's record under `key` (a no-op if there is none). */
  withdraw(key: Uint8Array): Promise<void>;
  /**
   * All current records under `key`, at most one per publisher, in no
   * particular order; [] if none. Values are unverified (see the file comment).
   */
  find(key: Uint8Array, opts?: FindOptions): Promise<FoundRecord[]>;
  /**
   * Stops background work and releases what the backend owns. Records already
   * published are not withdrawn (call `withdraw` first for that); they vanish
   * when their lifetime in the network runs out. Idempotent.
   */
  close(): Promise<void>;
}
