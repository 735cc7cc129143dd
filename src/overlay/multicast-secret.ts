/**
 * Secret records over LAN multicast (the SecretRecordService of
 * src/overlay/secret-records.ts), on the same endpoint as MulticastLookup:
 *
 *   putSecret(seed, v, s):  A = Ed25519 public key of seed (the address, as in
 *                           hyperdht-secret.ts); sig = Ed25519(seed, label ‖ 0x00 ‖ s u64 BE ‖ v);
 *                           records[A] = { s, v, sig, expires }          — no traffic
 *   getSecret(A):           SECRET_QUERY(id, A) → group; the holder answers
 *                           SECRET_ANSWER(id, A, s, sig, v); the reader
 *                           VERIFIES sig under A and keeps the highest valid s.
 *
 * Why signed when the lookup is not: the contract of a secret record is
 * "only the holder of the seed writes it" (HyperDHT nodes check the
 * signature on put and get); here nobody stores for anyone, so the reader is
 * the only one who can check, and does.
 *
 * Public-key work, counted on `pkOps`: keygen once per seed (cached); sign
 * once per NEW (seq, value) — a refresh reuses the stored signature; verify
 * once per answer that would raise the best seq, at most
 * MAX_SECRET_VERIFIES per get (a LAN host that sees the query id can send
 * forged answers; each costs the reader a verify, so they are capped).
 */
import { concatBytes, utf8 } from '../crypto/bytes.js';
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from '../crypto/ed25519.js';
import { keyHex } from './checks.js';
import { emit } from './diagnostics.js';
import { MulticastService, type MulticastServiceOptions, onOwnEndpoint } from './multicast.js';
import type { MulticastEndpoint, MulticastEndpointOptions } from './multicast-endpoint.js';
import { McType } from './multicast-wire.js';
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

/**
 * Domain-separation label of the record signature. It belongs in the NS
 * table of src/crypto/ns.ts (owned elsewhere): to be moved there as
 * `multicastSecret`, same string.
 */
export const MULTICAST_SECRET_LABEL = 'p2psip/v1/multicast-secret';
/** Signatures a get verifies at most (forged answers beyond it are ignored). */
export const MAX_SECRET_VERIFIES = 16;

export interface MulticastSecretRecordsOptions
  extends MulticastServiceOptions,
    SecretBackendOptions {}

interface SeedEntry {
  seed: Uint8Array;
  address: Uint8Array;
  last?: LastPut & { signature: Uint8Array };
}

interface HeldRecord {
  seq: number;
  value: Uint8Array;
  signature: Uint8Array;
  expiresAt: number;
}

/** The bytes a secret record's signature covers: label ‖ 0x00 ‖ seq (u64 BE) ‖ value. */
export function secretSignable(seq: number, value: Uint8Array): Uint8Array {
  const seqBytes = new Uint8Array(8);
  const view = new DataView(seqBytes.buffer);
  view.setUint32(0, Math.floor(seq / 2 ** 32));
  view.setUint32(4, seq % 2 ** 32);
  return concatBytes(utf8(MULTICAST_SECRET_LABEL), Uint8Array.of(0), seqBytes, value);
}

export class MulticastSecretRecords extends MulticastService implements SecretRecordService {
  readonly #pkOps: PkOpCounter;
  readonly #seeds: SeedEntries<SeedEntry>;
  readonly #held = new Map<string, HeldRecord>();
  #badSignatures = 0;

  /** Opens its own endpoint (closed with the service). */
  static async open(
    opts: MulticastEndpointOptions & MulticastSecretRecordsOptions,
  ): Promise<MulticastSecretRecords> {
    return onOwnEndpoint(opts, (endpoint) => new MulticastSecretRecords(endpoint, opts, true));
  }

  /** On a shared endpoint (e.g. with MulticastLookup); close() leaves the endpoint open. */
  constructor(
    endpoint: MulticastEndpoint,
    opts: MulticastSecretRecordsOptions = {},
    ownsEndpoint = false,
  ) {
    super(endpoint, opts, McType.SecretQuery, ownsEndpoint);
    this.#pkOps = opts.pkOps ?? noPkOps;
    this.#seeds = new SeedEntries(
      (seed) => ({ seed: seed.slice(), address: ed25519PublicKey(seed) }),
      opts,
    );
    endpoint.setResponder(McType.SecretQuery, (query) => {
      const held = this.#live(keyHex(query.key));
      return held
        ? [
            {
              type: McType.SecretAnswer,
              queryId: query.queryId,
              key: query.key,
              seq: held.seq,
              signature: held.signature,
              value: held.value,
            },
          ]
        : [];
    });
  }

  /** Answers whose signature did not verify (forged or corrupted), since the start. */
  get badSignatures(): number {
    return this.#badSignatures;
  }

  addressOf(seed: Uint8Array): Uint8Array {
    return this.#seeds.of(seed).address.slice();
  }

  async putSecret(seed: Uint8Array, value: Uint8Array, opts: SecretPutOptions): Promise<void> {
    this.checkOpen();
    checkSecretPut(seed, value, opts);
    const entry = this.#seeds.of(seed);
    const kind = checkSecretSeq(entry.last, opts.seq, value);
    if (kind === 'new') {
      this.#pkOps.add('sign');
      const signature = ed25519Sign(secretSignable(opts.seq, value), entry.seed);
      entry.last = { seq: opts.seq, value: value.slice(), signature };
    }
    const last = entry.last!;
    this.#held.set(keyHex(entry.address), {
      seq: last.seq,
      value: last.value,
      signature: last.signature,
      expiresAt: this.clock.now() + opts.ttlSeconds * 1000,
    });
  }

  async getSecret(ref: SecretRef, opts: SecretGetOptions = {}): Promise<SecretRecord | undefined> {
    this.checkOpen();
    const address = refAddress(ref, (seed) => this.#seeds.of(seed).address);
    const ask = this.checkAsk(opts);
    const started = performance.now();
    const held = this.#live(keyHex(address));
    let best: SecretRecord | undefined = held && { value: held.value, seq: held.seq };
    let verifies = 0;
    let offered = 0;
    await this.endpoint.ask(McType.SecretQuery, address, ask, (answer) => {
      if (answer.type !== McType.SecretAnswer) return;
      offered++;
      if ((best && answer.seq <= best.seq) || verifies >= MAX_SECRET_VERIFIES) return;
      verifies++;
      this.#pkOps.add('verify');
      if (ed25519Verify(answer.signature, secretSignable(answer.seq, answer.value), address))
        best = { value: answer.value, seq: answer.seq };
      else this.#badSignatures++;
    });
    emit('find', {
      backend: this.name,
      key: address,
      found: best ? 1 : 0,
      candidates: offered,
      ms: performance.now() - started,
    });
    return best && { value: best.value.slice(), seq: best.seq };
  }

  #live(hex: string): HeldRecord | undefined {
    const held = this.#held.get(hex);
    if (held && held.expiresAt <= this.clock.now()) {
      this.#held.delete(hex);
      return undefined;
    }
    return held;
  }
}
