/**
 * What every backend does the same way: argument checks with typed errors,
 * the per-(publisher, key) identity, seq bookkeeping and find deadlines.
 * Keeping them here makes the backends agree on edge cases by construction.
 */

import { concatBytes, toHex, utf8 } from '../crypto/bytes.js';
import { ed25519PublicKey } from '../crypto/ed25519.js';
import { blake2b } from '../crypto/hash.js';
import { NS } from '../crypto/ns.js';
import { OverlayError } from './errors.js';
import {
  type FindOptions,
  KEY_BYTES,
  MAX_SEQ,
  MAX_TTL_SECONDS,
  MAX_VALUE_BYTES,
  MIN_TTL_SECONDS,
  type PublishOptions,
} from './lookup-service.js';

/** Longest `timeoutMs` a find accepts (10 minutes). */
export const MAX_FIND_TIMEOUT_MS = 600_000;

export function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) throw OverlayError.badKey(key);
}

export function checkValue(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength === 0) throw OverlayError.badValue(value);
  if (value.byteLength > MAX_VALUE_BYTES) {
    throw OverlayError.valueTooLarge(value.byteLength, MAX_VALUE_BYTES);
  }
}

export function checkPublishOptions(opts: PublishOptions): void {
  const { ttlSeconds, seq } = opts ?? ({} as PublishOptions);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS)
    throw OverlayError.badOption(
      'ttlSeconds',
      ttlSeconds,
      `an integer ${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS}`,
    );
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ)
    throw OverlayError.badOption('seq', seq, `an integer 0..${MAX_SEQ}`);
}

/** All argument checks of `publish`, in the order every backend applies them. */
export function checkPublish(key: unknown, value: unknown, opts: PublishOptions): void {
  checkKey(key);
  checkValue(value);
  checkPublishOptions(opts);
  checkSignal(opts.signal);
}

export function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs === undefined) return;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_FIND_TIMEOUT_MS)
    throw OverlayError.badOption('timeoutMs', timeoutMs, `an integer 1..${MAX_FIND_TIMEOUT_MS}`);
}

/** Throws OVERLAY_ABORTED if the signal has fired. */
export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw OverlayError.aborted(signal.reason);
}

export function keyHex(key: Uint8Array): string {
  return toHex(key);
}

/** Domain-separation label of the per-(publisher, key) seed (the NS table). */
export const PUBLISHER_LABEL = NS.overlayPublisher;

/**
 * The 32-byte Ed25519 seed a node publishes with under `key`: keyed
 * BLAKE2b-256(key = the node's local 32-byte overlay seed,
 * data = UTF-8(PUBLISHER_LABEL) ‖ 0x00 ‖ key). Deterministic, so the same node
 * replaces its own record after a restart (same seed); unlinkable across keys
 * without the local seed.
 */
export function publisherSeed(localSeed: Uint8Array, key: Uint8Array): Uint8Array {
  return blake2b(concatBytes(utf8(PUBLISHER_LABEL), new Uint8Array([0]), key), 32, localSeed);
}

/** The public publisher id under `key` (the Ed25519 public key of `publisherSeed`). */
export function publisherId(localSeed: Uint8Array, key: Uint8Array): Uint8Array {
  return ed25519PublicKey(publisherSeed(localSeed, key));
}

export function checkLocalSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.byteLength !== 32)
    throw OverlayError.badOption('seed', seed?.byteLength, 'a 32-byte Uint8Array');
}

/** The highest seq this instance used per key; a publish must go strictly higher. */
export class SeqBook {
  readonly #last = new Map<string, number>();

  /** Throws OVERLAY_SEQ_TOO_LOW unless `seq` is above the last one recorded for the key. */
  check(hex: string, seq: number): void {
    const last = this.#last.get(hex);
    if (last !== undefined && seq <= last) throw OverlayError.seqTooLow(seq, last);
  }

  /**
   * check + record: reserved before the network call, so a concurrent publish
   * with the same seq fails, and a failed publish still used its seq (the
   * network may have stored it).
   */
  reserve(hex: string, seq: number): void {
    this.check(hex, seq);
    this.record(hex, seq);
  }

  record(hex: string, seq: number): void {
    const last = this.#last.get(hex);
    if (last === undefined || seq > last) this.#last.set(hex, seq);
  }

  get(hex: string): number | undefined {
    return this.#last.get(hex);
  }
}

/**
 * Runs `work` under the caller's signal and a timeout: resolves with its
 * result, or rejects with OVERLAY_ABORTED / OVERLAY_TIMEOUT as soon as either
 * fires. `work` gets a signal that fires in both cases so it can stop early.
 */
export async function withDeadline<T>(
  opts: FindOptions | undefined,
  defaultTimeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const outer = opts?.signal;
  checkSignal(outer);
  const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
  checkTimeout(timeoutMs);
  const inner = new AbortController();
  let onAbort: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => {
      inner.abort();
      reject(OverlayError.aborted(outer?.reason));
    };
    outer?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      inner.abort();
      reject(OverlayError.timeout(timeoutMs));
    }, timeoutMs);
  });
  const running = work(inner.signal);
  running.catch(() => {}); // a late failure after the deadline won is not unhandled
  try {
    return await Promise.race([running, stop]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

/** Maps with at most `limit` calls in flight; results keep the input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
