/**
 * In-memory secret records (the SecretRecordService for unit tests and
 * single-process demos), on the same `MemoryNetwork` as `MemoryLookup`.
 * Semantics match the HyperDHT backend: the address of a seed is the same
 * Ed25519 public key, the store keeps the highest seq, and a record is gone
 * after its ttl (the strictest reading of the contract, so a publisher that
 * forgets to re-put is caught in tests).
 *
 * Public-key work: one key generation per seed (the address), cached; a put
 * signs nothing (nobody here would verify it), so `pkOps` sees only keygens.
 */
import { ed25519PublicKey } from '../crypto/ed25519.js';
import { checkSignal, checkTimeout, keyHex } from './checks.js';
import { OverlayError } from './errors.js';
import type { MemoryNetwork } from './memory.js';
import {
  checkSecretPut,
  checkSecretSeq,
  type LastPut,
  refAddress,
  type SecretBackendOptions,
  type SecretGetOptions,
  type SecretPutOptions,
  type SecretRecord,
  type SecretRecordService,
  type SecretRef,
  SeedEntries,
} from './secret-records.js';

interface SeedEntry {
  address: Uint8Array;
  last?: LastPut;
}

export class MemorySecretRecords implements SecretRecordService {
  readonly name = 'memory';
  readonly #network: MemoryNetwork;
  readonly #seeds: SeedEntries<SeedEntry>;
  #closed = false;

  constructor(network: MemoryNetwork, opts: SecretBackendOptions = {}) {
    this.#network = network;
    this.#seeds = new SeedEntries((seed) => ({ address: ed25519PublicKey(seed) }), opts);
  }

  addressOf(seed: Uint8Array): Uint8Array {
    return this.#seeds.of(seed).address.slice();
  }

  async putSecret(seed: Uint8Array, value: Uint8Array, opts: SecretPutOptions): Promise<void> {
    this.#checkOpen();
    checkSecretPut(seed, value, opts);
    const entry = this.#seeds.of(seed);
    checkSecretSeq(entry.last, opts.seq, value);
    entry.last = { seq: opts.seq, value: value.slice() };
    this.#network.putSecret({
      address: entry.address,
      value: value.slice(),
      seq: opts.seq,
      expiresAt: this.#network.clock.now() + opts.ttlSeconds * 1000,
    });
  }

  async getSecret(ref: SecretRef, opts: SecretGetOptions = {}): Promise<SecretRecord | undefined> {
    this.#checkOpen();
    const address = refAddress(ref, (seed) => this.#seeds.of(seed).address);
    checkTimeout(opts.timeoutMs);
    checkSignal(opts.signal);
    const found = this.#network.getSecret(keyHex(address));
    return found && { value: found.value.slice(), seq: found.seq };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw OverlayError.closed(this.name);
  }
}
