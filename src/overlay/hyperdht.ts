/**
 * HyperDHT lookup backend (the default). HyperDHT has two primitives and we
 * need both (docs/overlay.md, "The HyperDHT mapping"):
 *
 *   - announce(topic, keyPair) / lookup(topic): many announcers per topic, but
 *     an announcement carries no payload;
 *   - mutablePut(keyPair, value, { seq }) / mutableGet(publicKey): a signed
 *     payload, but ONE writer per record (stored at hash(publicKey)).
 *
 * So a node publishes under lookup key K with its own per-(node, K) key pair
 * P = keyPair(publisherSeed(localSeed, K)): it mutablePuts the value under P,
 * then announces P on topic K. `find(K)` = lookup(K) → the announcers →
 * mutableGet of each (in parallel, bounded). Nobody but the holder of P can
 * overwrite P's record; anyone can add a candidate of their own (the caller
 * verifies every value).
 *
 * Seq mapping: HyperDHT ignores a put whose seq is not higher than the stored
 * one, so the caller's seq s is stored as 2·s and a withdrawal as a tombstone
 * (empty value) at 2·s + 1: a later publish s' > s (2·s' ≥ 2·s + 2) beats it.
 *
 * Lifetimes: announcements live 20 min on a DHT node, records 48 h. The backend
 * keeps each live publication alive (re-put + re-announce every
 * `refreshIntervalMs`, default 10 min) until its ttl runs out, then withdraws
 * it. The caller only republishes when the value changes.
 */
import { randomBytes } from '../crypto/random.js';
import {
  checkKey,
  checkLocalSeed,
  checkPublish,
  checkSignal,
  keyHex,
  mapBounded,
  publisherSeed,
  SeqBook,
  withDeadline,
} from './checks.js';
import { type Clock, systemClock, type Timer } from './clock.js';
import { emit } from './diagnostics.js';
import { OverlayError } from './errors.js';
import {
  type BootstrapNode,
  type DhtKeyPair,
  loadHyperDht,
  type OverlayDht,
  toBuffer,
} from './hyperdht-api.js';
import type { FindOptions, FoundRecord, LookupService, PublishOptions } from './lookup-service.js';

/** Re-announce well inside HyperDHT's 20-minute announcement lifetime. */
export const DEFAULT_REFRESH_INTERVAL_MS = 10 * 60 * 1000;
/** How long a find may take unless the caller says otherwise. */
export const DEFAULT_FIND_TIMEOUT_MS = 10_000;
/** At most this many announcers are read per find (a DHT node returns ≤ 20 per topic). */
export const DEFAULT_MAX_CANDIDATES = 32;
/** mutableGets in flight per find. */
export const FIND_CONCURRENCY = 8;

export interface HyperDhtLookupOptions {
  /**
   * Use this DHT node (shared with the tunnel); the backend does not destroy
   * it on close. Otherwise the backend creates and owns one from `bootstrap`.
   */
  dht?: OverlayDht;
  /**
   * REQUIRED unless `dht` is given or `network: 'public'`: the bootstrap nodes
   * of the private network ([] for a network of one). hyperdht itself would
   * fall back to the public bootstrap nodes; we never do that implicitly.
   */
  bootstrap?: readonly BootstrapNode[];
  /** 'public' joins the public HyperDHT network (an explicit user choice); needs no bootstrap. */
  network?: 'private' | 'public';
  /** Address to bind an owned node to ('127.0.0.1' in tests). */
  host?: string;
  port?: number;
  /** Passed to an owned node: true = never store records for others. Default: hyperdht's adaptive mode. */
  ephemeral?: boolean;
  /** The node's 32-byte local overlay seed (keep it across restarts); random by default. */
  seed?: Uint8Array;
  refreshIntervalMs?: number;
  findTimeoutMs?: number;
  maxCandidates?: number;
  /** Time source for refresh and expiry timers (a ManualClock in tests). */
  clock?: Clock;
}

interface Publication {
  topic: Buffer;
  key: Uint8Array;
  keyPair: DhtKeyPair;
  value: Buffer;
  seq: number;
  expiresAt: number;
  timers: Timer[];
}

export class HyperDhtLookup implements LookupService {
  readonly name = 'hyperdht';
  /** The DHT node in use (owned or shared). */
  readonly dht: OverlayDht;
  readonly #owned: boolean;
  readonly #seed: Uint8Array;
  readonly #clock: Clock;
  readonly #refreshIntervalMs: number;
  readonly #findTimeoutMs: number;
  readonly #maxCandidates: number;
  readonly #seqs = new SeqBook();
  readonly #publications = new Map<string, Publication>();
  readonly #background = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: HyperDhtLookupOptions) {
    if (opts.seed !== undefined) checkLocalSeed(opts.seed);
    this.#seed = opts.seed ? opts.seed.slice() : randomBytes(32);
    this.#clock = opts.clock ?? systemClock;
    this.#refreshIntervalMs = positiveInt(
      'refreshIntervalMs',
      opts.refreshIntervalMs,
      DEFAULT_REFRESH_INTERVAL_MS,
    );
    this.#findTimeoutMs = positiveInt('findTimeoutMs', opts.findTimeoutMs, DEFAULT_FIND_TIMEOUT_MS);
    this.#maxCandidates = positiveInt('maxCandidates', opts.maxCandidates, DEFAULT_MAX_CANDIDATES);
    if (opts.dht) {
      this.dht = opts.dht;
      this.#owned = false;
      return;
    }
    this.dht = createOwnedDht(opts);
    this.#owned = true;
  }

  async publish(key: Uint8Array, value: Uint8Array, opts: PublishOptions): Promise<void> {
    this.#checkOpen();
    checkPublish(key, value, opts);
    const hex = keyHex(key);
    this.#seqs.reserve(hex, opts.seq);
    const started = performance.now();
    const pub: Publication = {
      topic: toBuffer(key),
      key: key.slice(),
      keyPair: this.#keyPair(key),
      value: toBuffer(value),
      seq: opts.seq,
      expiresAt: this.#clock.now() + opts.ttlSeconds * 1000,
      timers: [],
    };
    await this.#ready();
    checkSignal(opts.signal);
    await this.#store(pub, 'publish');
    this.#checkOpen();
    const current = this.#publications.get(hex);
    if (current && current.seq > pub.seq) return; // a newer publish finished first
    if (current) cancel(current);
    this.#publications.set(hex, pub);
    this.#schedule(hex, pub);
    emit('publish', {
      backend: this.name,
      key: pub.key,
      seq: pub.seq,
      bytes: pub.value.byteLength,
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
    const { found, candidates } = await withDeadline(opts, this.#findTimeoutMs, (signal) =>
      this.#find(key, signal),
    );
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
    await this.whenIdle();
    if (this.#owned && !this.dht.destroyed) await this.dht.destroy();
  }

  async #find(
    key: Uint8Array,
    signal: AbortSignal,
  ): Promise<{ found: FoundRecord[]; candidates: number }> {
    await this.#ready();
    if (signal.aborted) throw OverlayError.aborted(signal.reason); // too late: nobody listens
    const announcers = new Map<string, Buffer>();
    const query = this.dht.lookup(toBuffer(key));
    const stop = () => query.destroy();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const reply of query) {
        for (const peer of reply.peers) {
          if (announcers.size >= this.#maxCandidates) break;
          announcers.set(keyHex(peer.publicKey), toBuffer(peer.publicKey));
        }
      }
    } catch (err) {
      if (signal.aborted) throw err; // withDeadline has already answered
      throw OverlayError.backend('lookup', err);
    } finally {
      signal.removeEventListener('abort', stop);
    }
    const records = await mapBounded(
      [...announcers.values()],
      FIND_CONCURRENCY,
      async (pk): Promise<FoundRecord | null> => {
        if (signal.aborted) return null;
        const got = await this.dht.mutableGet(pk, { latest: true }).catch(() => null);
        // An empty value is a tombstone (a withdrawn record).
        if (!got || got.value.byteLength === 0) return null;
        return {
          value: new Uint8Array(got.value),
          seq: Math.floor(got.seq / 2),
          publisher: new Uint8Array(pk),
        };
      },
    );
    const found = records.filter((r): r is FoundRecord => r !== null);
    return { found, candidates: announcers.size };
  }

  /** mutablePut, then announce: whoever sees the announcement can already read the value. */
  async #store(pub: Publication, operation: string): Promise<void> {
    try {
      await this.dht.mutablePut(pub.keyPair, pub.value, { seq: 2 * pub.seq });
      await this.dht.announce(pub.topic, pub.keyPair).finished();
    } catch (err) {
      throw OverlayError.backend(operation, err);
    }
  }

  async #withdraw(key: Uint8Array, expired: boolean): Promise<void> {
    const hex = keyHex(key);
    const pub = this.#publications.get(hex);
    if (pub) cancel(pub);
    this.#publications.delete(hex);
    const keyPair = pub?.keyPair ?? this.#keyPair(key);
    await this.#ready();
    try {
      const tombstoneSeq = await this.#tombstoneSeq(hex, keyPair);
      await Promise.all([
        tombstoneSeq === null
          ? null
          : this.dht.mutablePut(keyPair, Buffer.alloc(0), { seq: tombstoneSeq }),
        this.dht.unannounce(toBuffer(key), keyPair),
      ]);
    } catch (err) {
      throw OverlayError.backend('withdraw', err);
    }
    emit('withdraw', { backend: this.name, key, expired });
  }

  /**
   * The seq of the tombstone that buries our record: 2·s + 1 for the last seq
   * s we used. After a restart we do not know s: read our own record first.
   */
  async #tombstoneSeq(hex: string, keyPair: DhtKeyPair): Promise<number | null> {
    const last = this.#seqs.get(hex);
    if (last !== undefined) return 2 * last + 1;
    const own = await this.dht.mutableGet(keyPair.publicKey, { latest: true });
    if (!own || own.value.byteLength === 0) return null;
    this.#seqs.record(hex, Math.floor(own.seq / 2));
    return own.seq + 1;
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

  #scheduleRefresh(hex: string, pub: Publication): void {
    pub.timers.push(
      this.#clock.setTimeout(() => {
        if (this.#publications.get(hex) !== pub) return;
        const refresh = this.#store(pub, 'refresh').then(() =>
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

  #keyPair(key: Uint8Array): DhtKeyPair {
    return loadHyperDht().keyPair(publisherSeed(this.#seed, key));
  }

  async #ready(): Promise<void> {
    await this.dht.fullyBootstrapped();
    this.#checkOpen();
  }

  #checkOpen(): void {
    if (this.#closed) throw OverlayError.closed(this.name);
  }
}

function createOwnedDht(opts: HyperDhtLookupOptions): OverlayDht {
  const network = opts.network ?? 'private';
  if (network === 'public') {
    if (opts.bootstrap !== undefined)
      throw OverlayError.badOption('bootstrap', 'a list', "none with network 'public'");
  } else if (network !== 'private') {
    throw OverlayError.badOption('network', network, "'private' or 'public'");
  } else if (!Array.isArray(opts.bootstrap)) {
    throw OverlayError.noBootstrap();
  }
  const HyperDHT = loadHyperDht();
  return new HyperDHT({
    // Omitted only for the explicit public network: hyperdht then uses its public nodes.
    ...(network === 'private' ? { bootstrap: [...(opts.bootstrap ?? [])] } : {}),
    ...(opts.host === undefined ? {} : { host: opts.host }),
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.ephemeral === undefined ? {} : { ephemeral: opts.ephemeral }),
  });
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw OverlayError.badOption(name, value, 'a positive integer');
  return value;
}

function cancel(pub: Publication): void {
  for (const t of pub.timers) t.cancel();
  pub.timers.length = 0;
}
