/**
 * Secret records on OpenDHT, through a dhtnode REST proxy (docs/overlay.md
 * "OpenDHT"; contract in secret-records.ts):
 *
 *   address A = Ed25519 public key of the record seed (as in HyperDHT)
 *   put:  put W = sign(seed, A ‖ seq ‖ value) at dhtKey(A)   (fresh value id per new seq)
 *   get:  get dhtKey(A) → the highest seq whose signature verifies under A
 *
 * A refresh (same seq, same value) re-puts the same signed bytes under the
 * same value id: no public-key operation, and the storing nodes restart the
 * value's lifetime instead of storing a copy. The value type is chosen so the
 * DHT keeps the record at least `ttlSeconds` without any background work
 * (secretValueType); a node with many friends then costs the DHT nothing
 * between its own re-puts.
 *
 * Public-key work, all counted on `pkOps`: keygen once per seed (cached),
 * sign once per NEW (seq, value), and on a get one verify per wrapper tried
 * (newest first, normally one) that this instance has not verified before
 * (verdicts are cached) — unlike HyperDHT, where the DHT library verifies
 * and we cannot count it.
 */
import { ed25519PublicKey } from '../crypto/ed25519.js';
import { withDeadline } from './checks.js';
import { OverlayError } from './errors.js';
import { OPENDHT_FIND_TIMEOUT_MS } from './opendht.js';
import { freshValueId, OpenDhtProxy, type OpenDhtProxyOptions } from './opendht-proxy.js';
import {
  decodeSecretWrapper,
  dhtKeyOf,
  encodeSecretWrapper,
  OpenDhtTag,
  OpenDhtValueType,
  type OpenDhtValueTypeInfo,
  type SecretWrapper,
  VerifiedWrappers,
  verifySecretWrapper,
} from './opendht-wire.js';
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

export interface OpenDhtSecretRecordsOptions extends SecretBackendOptions, OpenDhtProxyOptions {
  /** Default get deadline (ms). Default OPENDHT_FIND_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * The value type of a secret put: the shortest whose lifetime covers the ttl
 * (1 min, 10 min, else 7 days — the longest ttl is 48 h).
 */
export function secretValueType(ttlSeconds: number): OpenDhtValueTypeInfo {
  const ms = ttlSeconds * 1000;
  if (ms <= OpenDhtValueType.short.lifetimeMs) return OpenDhtValueType.short;
  if (ms <= OpenDhtValueType.userData.lifetimeMs) return OpenDhtValueType.userData;
  return OpenDhtValueType.week;
}

interface SeedEntry {
  seed: Uint8Array;
  address: Uint8Array;
  dhtKey: string;
  last?: LastPut & { bytes?: Uint8Array; id?: string };
}

export class OpenDhtSecretRecords implements SecretRecordService {
  readonly name = 'opendht';
  readonly proxy: OpenDhtProxy;
  readonly #pkOps: PkOpCounter;
  readonly #seeds: SeedEntries<SeedEntry>;
  readonly #getTimeoutMs: number;
  readonly #verified = new VerifiedWrappers();
  #closed = false;

  constructor(opts: OpenDhtSecretRecordsOptions) {
    this.proxy = new OpenDhtProxy(opts);
    this.#pkOps = opts.pkOps ?? noPkOps;
    this.#seeds = new SeedEntries((seed) => {
      const address = ed25519PublicKey(seed);
      return { seed: seed.slice(), address, dhtKey: dhtKeyOf(OpenDhtTag.secretKey, address) };
    }, opts);
    const t = opts.timeoutMs ?? OPENDHT_FIND_TIMEOUT_MS;
    if (!Number.isInteger(t) || t < 1)
      throw OverlayError.badOption('timeoutMs', t, 'a positive integer');
    this.#getTimeoutMs = t;
  }

  addressOf(seed: Uint8Array): Uint8Array {
    return this.#seeds.of(seed).address.slice();
  }

  async putSecret(seed: Uint8Array, value: Uint8Array, opts: SecretPutOptions): Promise<void> {
    this.#checkOpen();
    checkSecretPut(seed, value, opts);
    const entry = this.#seeds.of(seed);
    const kind = checkSecretSeq(entry.last, opts.seq, value);
    let last = entry.last;
    if (kind === 'new' || !last?.bytes || !last.id) {
      // Reserved before the network call: a failed put still used its seq.
      const bytes = encodeSecretWrapper(entry.address, entry.seed, opts.seq, value);
      this.#pkOps.add('sign');
      last = { seq: opts.seq, value: value.slice(), bytes, id: freshValueId() };
      entry.last = last;
    }
    const { bytes, id } = last as { bytes: Uint8Array; id: string };
    try {
      await this.proxy.put(
        entry.dhtKey,
        { data: bytes, id, type: secretValueType(opts.ttlSeconds).type },
        opts.signal,
      );
    } catch (err) {
      this.#checkOpen();
      throw err instanceof OverlayError ? err : OverlayError.backend('secret put', err);
    }
    this.#checkOpen();
  }

  async getSecret(ref: SecretRef, opts: SecretGetOptions = {}): Promise<SecretRecord | undefined> {
    this.#checkOpen();
    const address = refAddress(ref, (seed) => this.#seeds.of(seed).address);
    const found = await withDeadline(opts, this.#getTimeoutMs, async (signal) => {
      const values = await this.proxy.get(dhtKeyOf(OpenDhtTag.secretKey, address), signal);
      const wrappers = values
        .map((v) => decodeSecretWrapper(v.data))
        .filter((w): w is SecretWrapper => w !== undefined)
        .sort((x, y) => y.seq - x.seq);
      const valid = wrappers.find((w) =>
        this.#verified.check(address, w.bytes, () => {
          this.#pkOps.add('verify');
          return verifySecretWrapper(address, w);
        }),
      );
      return valid && { value: valid.payload.slice(), seq: valid.seq };
    });
    this.#checkOpen();
    return found;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.proxy.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw OverlayError.closed(this.name);
  }
}

/** The OpenDHT secret-record backend (the factory the composition root calls). */
export function createOpenDhtSecretRecords(
  opts: OpenDhtSecretRecordsOptions,
): OpenDhtSecretRecords {
  return new OpenDhtSecretRecords(opts);
}
