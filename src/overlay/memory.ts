/**
 * In-memory lookup backend for unit tests and single-process demos. Several
 * `MemoryLookup` instances on one `MemoryNetwork` see one store, like nodes on
 * one DHT. Lifetimes follow the network's injectable clock; a record past its
 * ttl is gone at the next read. Semantics match the HyperDHT backend (same
 * checks, same publisher ids for the same seed, a lower or equal seq from the
 * same publisher is ignored by the store as DHT nodes ignore it).
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

interface StoredRecord {
  value: Uint8Array;
  seq: number;
  publisher: Uint8Array;
  expiresAt: number;
}

export interface MemoryNetworkOptions {
  /** Time source for lifetimes; a ManualClock in tests. Default: the system clock. */
  clock?: Clock;
}

/** A secret record as a storing node holds it (memory-secret.ts). */
export interface StoredSecret {
  /** The record's 32-byte address (public key of its seed). */
  address: Uint8Array;
  value: Uint8Array;
  seq: number;
  expiresAt: number;
}

/** The shared store: key → publisher → record; and address → secret record. */
export class MemoryNetwork {
  readonly clock: Clock;
  readonly #records = new Map<string, Map<string, StoredRecord>>();
  readonly #secrets = new Map<string, StoredSecret>();

  constructor(opts: MemoryNetworkOptions = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Stores `record` unless the same publisher already holds an equal or higher seq. */
  put(key: string, record: StoredRecord): void {
    this.#prune(key);
    let byPublisher = this.#records.get(key);
    if (!byPublisher) this.#records.set(key, (byPublisher = new Map()));
    const id = keyHex(record.publisher);
    const existing = byPublisher.get(id);
    if (existing && existing.seq >= record.seq) return;
    byPublisher.set(id, record);
  }

  remove(key: string, publisher: Uint8Array): void {
    const byPublisher = this.#records.get(key);
    byPublisher?.delete(keyHex(publisher));
    if (byPublisher?.size === 0) this.#records.delete(key);
  }

  /** Live records under `key`. */
  get(key: string): StoredRecord[] {
    this.#prune(key);
    return [...(this.#records.get(key)?.values() ?? [])];
  }

  /** Live records in the whole store (what a bystander holding everything would see). */
  get size(): number {
    let n = 0;
    for (const key of [...this.#records.keys()]) n += this.get(key).length;
    return n;
  }

  /**
   * Stores a secret record as a HyperDHT node would: a lower seq is ignored,
   * and so is an equal seq with another value (hyperdht: SEQ_REUSED); an
   * equal seq with the same value is a refresh (new lifetime).
   */
  putSecret(record: StoredSecret): void {
    const hex = keyHex(record.address);
    const existing = this.getSecret(hex);
    if (existing && existing.seq > record.seq) return;
    if (
      existing &&
      existing.seq === record.seq &&
      Buffer.compare(existing.value, record.value) !== 0
    )
      return;
    this.#secrets.set(hex, record);
  }

  /** The live secret record at an address (hex), if any. */
  getSecret(addressHex: string): StoredSecret | undefined {
    const record = this.#secrets.get(addressHex);
    if (record && record.expiresAt <= this.clock.now()) {
      this.#secrets.delete(addressHex);
      return undefined;
    }
    return record;
  }

  /** Every live secret record (what a bystander holding the whole store sees). */
  secrets(): StoredSecret[] {
    return [...this.#secrets.keys()]
      .map((hex) => this.getSecret(hex))
      .filter((r): r is StoredSecret => r !== undefined);
  }

  #prune(key: string): void {
    const byPublisher = this.#records.get(key);
    if (!byPublisher) return;
    const now = this.clock.now();
    for (const [id, r] of byPublisher) if (r.expiresAt <= now) byPublisher.delete(id);
    if (byPublisher.size === 0) this.#records.delete(key);
  }
}

export interface MemoryLookupOptions {
  /** The node's local 32-byte overlay seed (publisher ids derive from it); random by default. */
  seed?: Uint8Array;
}

export class MemoryLookup implements LookupService {
  readonly name = 'memory';
  readonly #network: MemoryNetwork;
  readonly #seed: Uint8Array;
  readonly #seqs = new SeqBook();
  #closed = false;

  constructor(network: MemoryNetwork, opts: MemoryLookupOptions = {}) {
    if (opts.seed !== undefined) checkLocalSeed(opts.seed);
    this.#network = network;
    this.#seed = opts.seed ? opts.seed.slice() : randomBytes(32);
  }

  async publish(key: Uint8Array, value: Uint8Array, opts: PublishOptions): Promise<void> {
    this.#checkOpen();
    checkPublish(key, value, opts);
    const hex = keyHex(key);
    this.#seqs.reserve(hex, opts.seq);
    this.#network.put(hex, {
      value: value.slice(),
      seq: opts.seq,
      publisher: publisherId(this.#seed, key),
      expiresAt: this.#network.clock.now() + opts.ttlSeconds * 1000,
    });
    emit('publish', { backend: this.name, key, seq: opts.seq, bytes: value.byteLength, ms: 0 });
  }

  async withdraw(key: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkKey(key);
    this.#network.remove(keyHex(key), publisherId(this.#seed, key));
    emit('withdraw', { backend: this.name, key, expired: false });
  }

  async find(key: Uint8Array, opts: FindOptions = {}): Promise<FoundRecord[]> {
    this.#checkOpen();
    checkKey(key);
    checkTimeout(opts.timeoutMs);
    checkSignal(opts.signal);
    const found = this.#network.get(keyHex(key)).map((r) => ({
      value: r.value.slice(),
      seq: r.seq,
      publisher: r.publisher.slice(),
    }));
    emit('find', {
      backend: this.name,
      key,
      found: found.length,
      candidates: found.length,
      ms: 0,
    });
    return found;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw OverlayError.closed(this.name);
  }
}
