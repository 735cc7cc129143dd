/**
 * Secret records on HyperDHT (docs/privacy.md "Where records live"):
 *
 *   put:  P = keyPair(seed);  mutablePut(P, value, { seq })      — no announce
 *   get:  mutableGet(P.publicKey, { latest: true })
 *
 * The record sits at hash(P.publicKey) on the ~20 nodes closest to it; only
 * the holder of the seed can write it (nodes verify the signature on put,
 * readers on get). The seq is stored as given (no tombstones, so no 2·s
 * mapping as in hyperdht.ts).
 *
 * Public-key work, all counted on `pkOps`:
 * - keygen: once per seed (the key pair is cached), on put and on a get by seed;
 * - sign: once per NEW (seq, value). A refresh — the same seq and value again —
 *   re-puts with the signature the first put returned (hyperdht's
 *   `signMutable` option), so it costs no public-key operation. Storing nodes
 *   accept it: lib/persistent.js `onmutableput` refuses only a lower seq or
 *   an equal seq with another value, and re-stores an identical one (a fresh
 *   48 h lifetime).
 * NOT counted (inside hyperdht, not observable from here): on a get,
 * hyperdht verifies the signature of every reply that carries the record
 * (≈ one per storing node that answers, at most ~20) — the reader's cost.
 *
 * The backend never creates a DHT node: it runs on the node's shared one
 * (the same `dht` as HyperDhtLookup and the tunnel) and does not destroy it.
 */
import { checkSignal, withDeadline } from './checks.js';
import { OverlayError } from './errors.js';
import { DEFAULT_FIND_TIMEOUT_MS } from './hyperdht.js';
import { type DhtKeyPair, type DhtMutableRecord, loadHyperDht, toBuffer } from './hyperdht-api.js';
import {
  checkSecretPut,
  checkSecretSeq,
  type LastPut,
  noPkOps,
  type PkOpCounter,
  refAddress,
  type SecretBackendOptions,
  type SecretGetOptions,
  type SecretPutOptions,
  type SecretRecord,
  type SecretRecordService,
  type SecretRef,
  SeedEntries,
} from './secret-records.js';

/** hyperdht's hook to supply a signature instead of signing (index.js `mutablePut`). */
export type SignMutable = (seq: number, value: Buffer, keyPair: DhtKeyPair) => Promise<Uint8Array>;

/** The slice of a HyperDHT node this backend uses (a `HyperDht` from src/dht satisfies it). */
export interface SecretDht {
  readonly destroyed: boolean;
  fullyBootstrapped(): Promise<void>;
  /** Resolves to `{ seq, signature, … }` (hyperdht 6.x); read defensively. */
  mutablePut(
    keyPair: DhtKeyPair,
    value: Buffer,
    opts: { seq: number; signMutable?: SignMutable },
  ): Promise<unknown>;
  mutableGet(publicKey: Buffer, opts?: { latest?: boolean }): Promise<DhtMutableRecord | null>;
}

export interface HyperDhtSecretRecordsOptions extends SecretBackendOptions {
  /** The node's DHT (shared; not destroyed by close()). */
  dht: SecretDht;
  /** Default get deadline (ms). Default DEFAULT_FIND_TIMEOUT_MS. */
  getTimeoutMs?: number;
}

interface SeedEntry {
  keyPair: DhtKeyPair;
  last?: LastPut & { signature?: Uint8Array };
}

export class HyperDhtSecretRecords implements SecretRecordService {
  readonly name = 'hyperdht';
  readonly #dht: SecretDht;
  readonly #pkOps: PkOpCounter;
  readonly #seeds: SeedEntries<SeedEntry>;
  readonly #getTimeoutMs: number;
  #closed = false;

  constructor(opts: HyperDhtSecretRecordsOptions) {
    if (!opts?.dht) throw OverlayError.badOption('dht', opts?.dht, 'a HyperDHT node');
    this.#dht = opts.dht;
    this.#pkOps = opts.pkOps ?? noPkOps;
    this.#seeds = new SeedEntries((seed) => ({ keyPair: loadHyperDht().keyPair(seed) }), opts);
    const t = opts.getTimeoutMs ?? DEFAULT_FIND_TIMEOUT_MS;
    if (!Number.isInteger(t) || t < 1)
      throw OverlayError.badOption('getTimeoutMs', t, 'a positive integer');
    this.#getTimeoutMs = t;
  }

  addressOf(seed: Uint8Array): Uint8Array {
    return new Uint8Array(this.#seeds.of(seed).keyPair.publicKey);
  }

  async putSecret(seed: Uint8Array, value: Uint8Array, opts: SecretPutOptions): Promise<void> {
    this.#checkOpen();
    checkSecretPut(seed, value, opts);
    const entry = this.#seeds.of(seed);
    const kind = checkSecretSeq(entry.last, opts.seq, value);
    const cached = kind === 'refresh' ? entry.last?.signature : undefined;
    // Reserved before the network call, like SeqBook: a failed put still used its seq.
    if (kind === 'new') entry.last = { seq: opts.seq, value: value.slice() };
    await this.#ready();
    checkSignal(opts.signal);
    let result: unknown;
    try {
      result = await this.#dht.mutablePut(entry.keyPair, toBuffer(value), {
        seq: opts.seq,
        ...(cached ? { signMutable: async () => cached } : {}),
      });
    } catch (err) {
      throw OverlayError.backend('secret put', err);
    } finally {
      if (!cached) this.#pkOps.add('sign');
    }
    const signature = (result as { signature?: unknown } | null)?.signature;
    if (entry.last?.seq === opts.seq && signature instanceof Uint8Array && signature.length === 64)
      entry.last.signature = new Uint8Array(signature);
  }

  async getSecret(ref: SecretRef, opts: SecretGetOptions = {}): Promise<SecretRecord | undefined> {
    this.#checkOpen();
    const address = refAddress(ref, (seed) => this.#seeds.of(seed).keyPair.publicKey);
    return withDeadline(opts, this.#getTimeoutMs, async (signal) => {
      await this.#ready();
      if (signal.aborted) throw OverlayError.aborted(signal.reason);
      let got: DhtMutableRecord | null;
      try {
        got = await this.#dht.mutableGet(toBuffer(address), { latest: true });
      } catch (err) {
        throw OverlayError.backend('secret get', err);
      }
      if (!got || got.value.byteLength === 0) return undefined;
      return { value: new Uint8Array(got.value), seq: got.seq };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #ready(): Promise<void> {
    await this.#dht.fullyBootstrapped();
    this.#checkOpen();
  }

  #checkOpen(): void {
    if (this.#closed) throw OverlayError.closed(this.name);
  }
}
