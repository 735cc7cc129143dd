/**
 * OpenDHT lookup backend, through a dhtnode REST proxy (issue 6; mapping and
 * reasons in docs/overlay.md "OpenDHT"). A user points a node at any
 * dhtnode proxy, or several (failover).
 *
 * OpenDHT keeps many values per key, from anyone, unsigned, each for the
 * lifetime of its value type, and cannot delete. So:
 *
 *   publish(K, v, seq s):  put W = sign(P, K ‖ P ‖ 2s ‖ expires ‖ v)  at dhtKey(K)
 *                          (a fresh value id; type by ttl; re-put in the background)
 *   find(K):               get dhtKey(K) → decode → per publisher the highest
 *                          wire seq whose signature verifies → drop tombstones
 *                          and expired records
 *   withdraw(K):           put the tombstone sign(P, K ‖ P ‖ 2s+1 ‖ 0 ‖ empty)
 *
 * P = the per-(node, K) Ed25519 key of checks.ts, so `publisher` ids are the
 * same as HyperDHT's for one seed. The signature is what stops a hostile
 * writer (anyone can put under K) from hiding our record behind a forged
 * higher-seq wrapper with our publisher id: wrappers that do not verify are
 * dropped before the highest seq is chosen.
 */
import { randomBytes } from '../crypto/random.js';
import {
  checkKey,
  checkLocalSeed,
  checkPublish,
  checkSignal,
  keyHex,
  publisherId,
  publisherSeed,
  SeqBook,
  withDeadline,
} from './checks.js';
import { type Clock, systemClock, type Timer } from './clock.js';
import { emit } from './diagnostics.js';
import { OverlayError } from './errors.js';
import type { FindOptions, FoundRecord, LookupService, PublishOptions } from './lookup-service.js';
import { freshValueId, OpenDhtProxy, type OpenDhtProxyOptions } from './opendht-proxy.js';
import {
  decodeLookupWrapper,
  dhtKeyOf,
  encodeLookupWrapper,
  isTombstone,
  type LookupWrapper,
  OpenDhtTag,
  OpenDhtValueType,
  type OpenDhtValueTypeInfo,
  VerifiedWrappers,
  verifyLookupWrapper,
} from './opendht-wire.js';

/** Re-put live records at half the 10-minute lifetime of a type-0 value. */
export const OPENDHT_REFRESH_INTERVAL_MS = 5 * 60 * 1000;
/** How long a find may take unless the caller says otherwise. */
export const OPENDHT_FIND_TIMEOUT_MS = 10_000;
/**
 * Readers hide a record this long after the expiry its publisher signed
 * (clock skew between nodes). Expiry matters for records nobody withdraws: a
 * crashed publisher's, or an old wrapper someone re-puts (OpenDHT lets anyone
 * put any bytes again, signed or not).
 */
export const OPENDHT_EXPIRY_GRACE_MS = 60_000;

export interface OpenDhtLookupOptions extends OpenDhtProxyOptions {
  /** The node's 32-byte local overlay seed (keep it across restarts); random by default. */
  seed?: Uint8Array;
  /** Time source for refresh/expiry timers and expiry checks (a ManualClock in tests). */
  clock?: Clock;
  /** Default find deadline (ms). Default OPENDHT_FIND_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Re-put interval of live records, 1 ms..10 min (a type-0 value lives 10 min). */
  refreshIntervalMs?: number;
}

/** The value type a record of this ttl is put with (docs/overlay.md "OpenDHT", lifetimes). */
export function lookupValueType(ttlSeconds: number): OpenDhtValueTypeInfo {
  return ttlSeconds * 1000 <= OpenDhtValueType.short.lifetimeMs
    ? OpenDhtValueType.short
    : OpenDhtValueType.userData;
}

interface Publication {
  key: Uint8Array;
  dhtKey: string;
  seq: number;
  /** The signed wrapper and the value id it is (re-)put under. */
  bytes: Uint8Array;
  id: string;
  type: number;
  expiresAt: number;
  timers: Timer[];
}

export class OpenDhtLookup implements LookupService {
  readonly name = 'opendht';
  readonly proxy: OpenDhtProxy;
  readonly #seed: Uint8Array;
  readonly #clock: Clock;
  readonly #findTimeoutMs: number;
  readonly #refreshIntervalMs: number;
  readonly #seqs = new SeqBook();
  /** The last wire seq we put per key (odd = withdrawn), so a second withdraw puts nothing. */
  readonly #lastWire = new Map<string, number>();
  readonly #publications = new Map<string, Publication>();
  readonly #background = new Set<Promise<void>>();
  readonly #verified = new VerifiedWrappers();
  #closed = false;

  constructor(opts: OpenDhtLookupOptions) {
    if (opts?.seed !== undefined) checkLocalSeed(opts.seed);
    this.proxy = new OpenDhtProxy(opts);
    this.#seed = opts.seed ? opts.seed.slice() : randomBytes(32);
    this.#clock = opts.clock ?? systemClock;
    this.#findTimeoutMs = opts.timeoutMs ?? OPENDHT_FIND_TIMEOUT_MS;
    if (!Number.isInteger(this.#findTimeoutMs) || this.#findTimeoutMs < 1)
      throw OverlayError.badOption('timeoutMs', opts.timeoutMs, 'a positive integer');
    const refresh = opts.refreshIntervalMs ?? OPENDHT_REFRESH_INTERVAL_MS;
    if (!Number.isInteger(refresh) || refresh < 1 || refresh > OpenDhtValueType.userData.lifetimeMs)
      throw OverlayError.badOption(
        'refreshIntervalMs',
        refresh,
        `an integer 1..${OpenDhtValueType.userData.lifetimeMs}`,
      );
    this.#refreshIntervalMs = refresh;
  }

  async publish(key: Uint8Array, value: Uint8Array, opts: PublishOptions): Promise<void> {
    this.#checkOpen();
    checkPublish(key, value, opts);
    const hex = keyHex(key);
    this.#seqs.reserve(hex, opts.seq);
    const started = performance.now();
    const expiresAt = this.#clock.now() + opts.ttlSeconds * 1000;
    const pub: Publication = {
      key: key.slice(),
      dhtKey: dhtKeyOf(OpenDhtTag.lookupKey, key),
      seq: opts.seq,
      bytes: this.#wrap(key, 2 * opts.seq, Math.ceil(expiresAt / 1000), value),
      id: freshValueId(),
      type: lookupValueType(opts.ttlSeconds).type,
      expiresAt,
      timers: [],
    };
    await this.#put(pub.dhtKey, pub, 'publish', opts.signal);
    this.#lastWire.set(hex, Math.max(this.#lastWire.get(hex) ?? -1, 2 * pub.seq));
    const current = this.#publications.get(hex);
    if (current && current.seq > pub.seq) return; // a newer publish finished first
    if (current) cancel(current);
    this.#publications.set(hex, pub);
    this.#schedule(hex, pub);
    emit('publish', {
      backend: this.name,
      key: pub.key,
      seq: pub.seq,
      bytes: value.byteLength,
      ms: performance.now() - started,
    });
  }

  async withdraw(key: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    await this.#withdraw(key, false);
  }

  async find(key: Uint8Array, opts: FindOptions = {}): Promise<FoundRecord[]> {
    this.#checkOpen();
    checkKey(key);
    const started = performance.now();
    const { found, candidates } = await withDeadline(opts, this.#findTimeoutMs, async (signal) => {
      const wrappers = await this.#read(key, signal);
      const now = this.#clock.now();
      const found: FoundRecord[] = [];
      for (const w of wrappers.values()) {
        if (isTombstone(w) || w.expires * 1000 + OPENDHT_EXPIRY_GRACE_MS < now) continue;
        found.push({
          value: w.payload.slice(),
          seq: Math.floor(w.wireSeq / 2),
          publisher: w.publisher.slice(),
        });
      }
      return { found, candidates: wrappers.size };
    });
    this.#checkOpen();
    emit('find', {
      backend: this.name,
      key,
      found: found.length,
      candidates,
      ms: performance.now() - started,
    });
    return found;
  }

  /** Resolves when the background refreshes and expiries in flight have finished. */
  async whenIdle(): Promise<void> {
    for (let round = 0; round < 100 && this.#background.size > 0; round++) {
      await Promise.allSettled([...this.#background]);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pub of this.#publications.values()) cancel(pub);
    this.#publications.clear();
    this.proxy.close();
    await this.whenIdle();
  }

  /**
   * The current wrapper of every publisher under `key`: per publisher, the
   * highest wire seq whose signature verifies (tombstones included). Wrappers
   * are verified newest first, so a publisher costs one verification plus one
   * per forgery above its real record — once: verdicts are cached.
   */
  async #read(key: Uint8Array, signal?: AbortSignal): Promise<Map<string, LookupWrapper>> {
    const values = await this.proxy.get(dhtKeyOf(OpenDhtTag.lookupKey, key), signal);
    const byPublisher = new Map<string, LookupWrapper[]>();
    const seen = new Set<string>();
    for (const v of values) {
      const w = decodeLookupWrapper(v.data);
      if (!w) continue;
      const bytesHex = keyHex(w.bytes);
      if (seen.has(bytesHex)) continue; // the same wrapper under another value id
      seen.add(bytesHex);
      const pub = keyHex(w.publisher);
      const list = byPublisher.get(pub) ?? [];
      list.push(w);
      byPublisher.set(pub, list);
    }
    const current = new Map<string, LookupWrapper>();
    for (const [pub, list] of byPublisher) {
      list.sort((x, y) => y.wireSeq - x.wireSeq);
      const valid = list.find((w) =>
        this.#verified.check(key, w.bytes, () => verifyLookupWrapper(key, w)),
      );
      if (valid) current.set(pub, valid);
    }
    return current;
  }

  async #withdraw(key: Uint8Array, expired: boolean): Promise<void> {
    const hex = keyHex(key);
    const pub = this.#publications.get(hex);
    if (pub) cancel(pub);
    this.#publications.delete(hex);
    const wire = await this.#tombstoneSeq(key, hex);
    if (wire !== null) {
      const tombstone = {
        bytes: this.#wrap(key, wire, 0, new Uint8Array(0)),
        id: freshValueId(),
        // Outlives every record we put (types 5 and 0), however recently refreshed.
        type: OpenDhtValueType.userData.type,
      };
      await this.#put(dhtKeyOf(OpenDhtTag.lookupKey, key), tombstone, 'withdraw');
      this.#lastWire.set(hex, wire);
    }
    emit('withdraw', { backend: this.name, key, expired });
  }

  /**
   * The wire seq of the tombstone that buries our record (2·s + 1), or null
   * if there is nothing to bury. After a restart we do not know s: read our
   * own current wrapper first.
   */
  async #tombstoneSeq(key: Uint8Array, hex: string): Promise<number | null> {
    const last = this.#lastWire.get(hex);
    if (last !== undefined) return last % 2 === 1 ? null : last + 1;
    const reserved = this.#seqs.get(hex);
    if (reserved !== undefined) return 2 * reserved + 1; // a publish that failed may have landed
    const own = (await this.#read(key)).get(keyHex(publisherId(this.#seed, key)));
    if (!own) return null;
    this.#seqs.record(hex, Math.floor(own.wireSeq / 2));
    this.#lastWire.set(hex, own.wireSeq);
    return isTombstone(own) ? null : own.wireSeq + 1;
  }

  async #put(
    dhtKey: string,
    v: { bytes: Uint8Array; id: string; type: number },
    operation: string,
    signal?: AbortSignal,
  ): Promise<void> {
    checkSignal(signal);
    try {
      await this.proxy.put(dhtKey, { data: v.bytes, id: v.id, type: v.type }, signal);
    } catch (err) {
      this.#checkOpen();
      if (err instanceof OverlayError) throw err;
      throw OverlayError.backend(operation, err);
    }
    this.#checkOpen();
  }

  #wrap(key: Uint8Array, wireSeq: number, expires: number, payload: Uint8Array): Uint8Array {
    const seed = publisherSeed(this.#seed, key);
    return encodeLookupWrapper(key, seed, publisherId(this.#seed, key), wireSeq, expires, payload);
  }

  #schedule(hex: string, pub: Publication): void {
    const untilExpiry = Math.max(0, pub.expiresAt - this.#clock.now());
    pub.timers.push(
      this.#clock.setTimeout(() => {
        if (this.#publications.get(hex) !== pub) return;
        this.#inBackground(pub.key, 'expire', this.#withdraw(pub.key, true));
      }, untilExpiry),
    );
    if (untilExpiry > this.#refreshIntervalMs) this.#scheduleRefresh(hex, pub);
  }

  /** Re-puts the same wrapper under the same value id: storing nodes restart its lifetime. */
  #scheduleRefresh(hex: string, pub: Publication): void {
    pub.timers.push(
      this.#clock.setTimeout(() => {
        if (this.#publications.get(hex) !== pub) return;
        const refresh = this.#put(pub.dhtKey, pub, 'refresh').then(() =>
          emit('refresh', { backend: this.name, key: pub.key, seq: pub.seq }),
        );
        this.#inBackground(pub.key, 'refresh', refresh);
        // Failed or not, try again next interval while the record should live.
        if (pub.expiresAt - this.#clock.now() > this.#refreshIntervalMs) {
          this.#scheduleRefresh(hex, pub);
        }
      }, this.#refreshIntervalMs),
    );
  }

  #inBackground(key: Uint8Array, operation: string, work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      emit('error', { backend: this.name, key, operation, error });
    });
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  #checkOpen(): void {
    if (this.#closed) throw OverlayError.closed(this.name);
  }
}

/** The OpenDHT lookup backend (the factory the composition root calls). */
export function createOpenDhtLookup(opts: OpenDhtLookupOptions): OpenDhtLookup {
  return new OpenDhtLookup(opts);
}

function cancel(pub: Publication): void {
  for (const t of pub.timers) t.cancel();
  pub.timers.length = 0;
}
