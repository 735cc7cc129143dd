/**
 * LAN multicast lookup (issue 6; the seed's "Multicast … used for lookup"):
 * no infrastructure at all. Each node keeps its OWN records in memory and
 * answers queries for them; `find` asks the group and collects the answers.
 *
 *   publish(K, v, s):  records[K] = { v, s, publisher_K, expires }   — no traffic
 *   find(K):           QUERY(id, K) → group (TTL 1), twice in the window;
 *                      holders answer ANSWER(id, K, publisher, s, v) unicast
 *                      after 0..50 ms of jitter; collect for the whole window
 *                      (default 300 ms), at most one record per publisher
 *                      (highest seq), plus this node's own record.
 *   withdraw(K):       delete records[K]                               — no traffic
 *
 * Semantics differ from a DHT in two honest ways (docs/overlay.md):
 * - A record lives only while its publisher is up: a node that is off or
 *   asleep is not findable (on a LAN that is the truth anyway).
 * - `find` always waits its window (findWindowMs; a smaller `timeoutMs`
 *   shortens it, a larger one does not stretch it) and returns what came,
 *   so it never fails with OVERLAY_TIMEOUT: silence is [].
 *
 * Publisher ids are derived as for every backend (checks.ts: per (node seed,
 * key) Ed25519 key), so the same seed gives the same ids here as in HyperDHT.
 * Values are not signed (the contract: the caller verifies every candidate).
 */
import { randomBytes } from '../crypto/random.js';
import {
  checkKey,
  checkLocalSeed,
  checkPublish,
  checkSignal,
  checkTimeout,
  keyHex,
  publisherId,
  SeqBook,
} from './checks.js';
import { type Clock, systemClock } from './clock.js';
import { emit } from './diagnostics.js';
import { OverlayError } from './errors.js';
import type { FindOptions, FoundRecord, LookupService, PublishOptions } from './lookup-service.js';
import {
  MulticastEndpoint,
  type MulticastEndpointOptions,
  type MulticastStats,
} from './multicast-endpoint.js';
import { McType } from './multicast-wire.js';

/** After the first answer, the others get this long (ms): above the default 50 ms answer jitter. */
export const DEFAULT_SETTLE_MS = 80;

/** How long a find collects answers unless `timeoutMs` says otherwise. */
export const DEFAULT_FIND_WINDOW_MS = 300;
/** At most this many publishers per find (as HyperDHT's maxCandidates); later ones are dropped. */
export const DEFAULT_MULTICAST_MAX_CANDIDATES = 32;

/** Options of the services on an endpoint (shared by the lookup and the secret records). */
export interface MulticastServiceOptions {
  /** Time source of record lifetimes; a ManualClock in tests. Default: the system clock. */
  clock?: Clock;
  /** Default collection window of find / getSecret (ms), 1..600000. Default DEFAULT_FIND_WINDOW_MS. */
  findWindowMs?: number;
  /**
   * End a find this long after its first answer (ms) instead of at the end of
   * the window; null = always the whole window. Default DEFAULT_SETTLE_MS:
   * more than the answer jitter, so every holder's answer to the first query
   * copy is in.
   */
  settleMs?: number | null;
}

export interface MulticastLookupOptions extends MulticastServiceOptions {
  /** The node's local 32-byte overlay seed (publisher ids derive from it); random by default. */
  seed?: Uint8Array;
  /** Publishers kept per find. Default DEFAULT_MULTICAST_MAX_CANDIDATES. */
  maxCandidates?: number;
}

interface OwnRecord {
  value: Uint8Array;
  seq: number;
  publisher: Uint8Array;
  expiresAt: number;
}

/** What both multicast services do the same way: endpoint ownership, window, clock, closed state. */
export abstract class MulticastService {
  readonly name = 'multicast';
  protected readonly endpoint: MulticastEndpoint;
  protected readonly clock: Clock;
  protected readonly windowMs: number;
  /** After the first answer, how long the others get (ms); undefined = the whole window. */
  protected readonly settleMs: number | undefined;
  readonly #ownsEndpoint: boolean;
  readonly #queryType: typeof McType.Query | typeof McType.SecretQuery;
  #closed = false;

  protected constructor(
    endpoint: MulticastEndpoint,
    opts: MulticastServiceOptions,
    queryType: typeof McType.Query | typeof McType.SecretQuery,
    ownsEndpoint: boolean,
  ) {
    this.windowMs = opts.findWindowMs ?? DEFAULT_FIND_WINDOW_MS;
    this.settleMs = opts.settleMs === null ? undefined : (opts.settleMs ?? DEFAULT_SETTLE_MS);
    checkTimeout(this.windowMs);
    this.endpoint = endpoint;
    this.clock = opts.clock ?? systemClock;
    this.#ownsEndpoint = ownsEndpoint;
    this.#queryType = queryType;
  }

  /** Where this node's answers arrive (the endpoint's query socket). */
  get queryAddress(): { address: string; port: number } {
    return this.endpoint.queryAddress;
  }

  /** The endpoint's counters (malformed, rate-limited, unmatched, …). */
  get stats(): MulticastStats {
    return this.endpoint.stats;
  }

  /** Stops answering; closes the endpoint if this service opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.endpoint.setResponder(this.#queryType, undefined);
    if (this.#ownsEndpoint) await this.endpoint.close();
  }

  protected checkOpen(): void {
    if (this.#closed || this.endpoint.closed) throw OverlayError.closed(this.name);
  }

  /** The checks every find/get makes before asking; returns the endpoint's ask options. */
  protected checkAsk(opts: FindOptions): {
    windowMs: number;
    signal: AbortSignal | undefined;
    settleMs: number | undefined;
  } {
    this.checkOpen();
    checkTimeout(opts.timeoutMs);
    checkSignal(opts.signal);
    // A caller's time limit caps the window; it does not stretch it: the
    // proxy passes its whole lookup budget (seconds), a LAN answers in ms.
    return {
      windowMs: Math.min(opts.timeoutMs ?? this.windowMs, this.windowMs),
      signal: opts.signal,
      settleMs: this.settleMs,
    };
  }
}

export class MulticastLookup extends MulticastService implements LookupService {
  readonly #seed: Uint8Array;
  readonly #maxCandidates: number;
  readonly #seqs = new SeqBook();
  readonly #records = new Map<string, OwnRecord>();

  /** Opens its own endpoint (closed with the service). */
  static async open(
    opts: MulticastEndpointOptions & MulticastLookupOptions,
  ): Promise<MulticastLookup> {
    checkLookupOptions(opts);
    return onOwnEndpoint(opts, (endpoint) => new MulticastLookup(endpoint, opts, true));
  }

  /** On a shared endpoint (e.g. with MulticastSecretRecords); close() leaves the endpoint open. */
  constructor(
    endpoint: MulticastEndpoint,
    opts: MulticastLookupOptions = {},
    ownsEndpoint = false,
  ) {
    checkLookupOptions(opts);
    super(endpoint, opts, McType.Query, ownsEndpoint);
    this.#seed = opts.seed ? opts.seed.slice() : randomBytes(32);
    this.#maxCandidates = opts.maxCandidates ?? DEFAULT_MULTICAST_MAX_CANDIDATES;
    endpoint.setResponder(McType.Query, (query) => {
      const own = this.#live(keyHex(query.key));
      return own
        ? [
            {
              type: McType.Answer,
              queryId: query.queryId,
              key: query.key,
              publisher: own.publisher,
              seq: own.seq,
              value: own.value,
            },
          ]
        : [];
    });
  }

  async publish(key: Uint8Array, value: Uint8Array, opts: PublishOptions): Promise<void> {
    this.checkOpen();
    checkPublish(key, value, opts);
    const hex = keyHex(key);
    this.#seqs.reserve(hex, opts.seq);
    this.#records.set(hex, {
      value: value.slice(),
      seq: opts.seq,
      publisher: publisherId(this.#seed, key),
      expiresAt: this.clock.now() + opts.ttlSeconds * 1000,
    });
    emit('publish', { backend: this.name, key, seq: opts.seq, bytes: value.byteLength, ms: 0 });
  }

  async withdraw(key: Uint8Array): Promise<void> {
    this.checkOpen();
    checkKey(key);
    this.#records.delete(keyHex(key));
    emit('withdraw', { backend: this.name, key, expired: false });
  }

  async find(key: Uint8Array, opts: FindOptions = {}): Promise<FoundRecord[]> {
    checkKey(key);
    const ask = this.checkAsk(opts);
    const started = performance.now();
    const found = new Map<string, FoundRecord>();
    const own = this.#live(keyHex(key));
    if (own) found.set(keyHex(own.publisher), { ...own });
    let offered = 0;
    await this.endpoint.ask(McType.Query, key, ask, (answer) => {
      if (answer.type !== McType.Answer) return;
      offered++;
      const id = keyHex(answer.publisher);
      const known = found.get(id);
      if (known ? answer.seq <= known.seq : found.size >= this.#maxCandidates) return;
      found.set(id, { value: answer.value, seq: answer.seq, publisher: answer.publisher });
    });
    const records = [...found.values()].map((r) => ({
      value: r.value.slice(),
      seq: r.seq,
      publisher: r.publisher.slice(),
    }));
    emit('find', {
      backend: this.name,
      key,
      found: records.length,
      candidates: offered,
      ms: performance.now() - started,
    });
    return records;
  }

  /** This node's live record under a key (hex); an expired one is dropped on the way. */
  #live(hex: string): OwnRecord | undefined {
    const record = this.#records.get(hex);
    if (record && record.expiresAt <= this.clock.now()) {
      this.#records.delete(hex);
      emit('withdraw', { backend: this.name, key: Buffer.from(hex, 'hex'), expired: true });
      return undefined;
    }
    return record;
  }
}

/** Opens an endpoint for a service that owns it; closes it again if the service cannot be made. */
export async function onOwnEndpoint<S>(
  opts: MulticastEndpointOptions,
  make: (endpoint: MulticastEndpoint) => S,
): Promise<S> {
  const endpoint = await MulticastEndpoint.open(opts);
  try {
    return make(endpoint);
  } catch (err) {
    await endpoint.close();
    throw err;
  }
}

function checkLookupOptions(opts: MulticastLookupOptions): void {
  if (opts.seed !== undefined) checkLocalSeed(opts.seed);
  const max = opts.maxCandidates;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 1024))
    throw OverlayError.badOption('maxCandidates', max, 'an integer 1..1024');
}
