/**
 * An Ed25519 identity for one local AOR. The 32-byte seed stays inside the
 * object (a #private field: not enumerable, not printed, not serialised);
 * everything that needs it — package signatures, the HyperDHT key pair, key
 * agreement — is a method here, and every signature or derived key is bound
 * to a label from the one NS table (src/crypto/ns.ts).
 */
import { inspect } from 'node:util';
import { equalBytes, toHex, wipe } from '../crypto/bytes.js';
import { ed25519PublicKey, SEED_LENGTH, signLabelled } from '../crypto/ed25519.js';
import { deriveKey } from '../crypto/kdf.js';
import type { NsLabel } from '../crypto/ns.js';
import { randomBytes } from '../crypto/random.js';
import {
  x25519PublicFromEd25519,
  x25519SecretFromEd25519Seed,
  x25519Shared,
} from '../crypto/x25519.js';
import { normalizeAor } from './aor.js';
import { IdentityError } from './errors.js';

/** What the store keeps for an identity. */
export interface IdentityRecord {
  aor: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/** A sodium / HyperDHT key pair: secretKey = seed ‖ publicKey (64 bytes). */
export interface HyperdhtKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

export class Identity {
  /** Normal-form AOR (./aor.ts). */
  readonly aor: string;
  readonly #publicKey: Uint8Array;
  readonly #seed: Uint8Array;
  #wiped = false;

  private constructor(aor: string, seed: Uint8Array) {
    this.aor = normalizeAor(aor);
    this.#seed = seed.slice();
    this.#publicKey = ed25519PublicKey(this.#seed);
  }

  /** A new identity with a random seed. */
  static generate(aor: string): Identity {
    const seed = randomBytes(SEED_LENGTH);
    try {
      return new Identity(aor, seed);
    } finally {
      wipe(seed);
    }
  }

  /** The identity of a known 32-byte seed (the seed is copied). */
  static fromSeed(aor: string, seed: Uint8Array): Identity {
    return new Identity(aor, seed);
  }

  /** An identity loaded from storage; IDENTITY_KEY_MISMATCH if the stored public key is not the seed's. */
  static fromRecord(record: IdentityRecord): Identity {
    const id = new Identity(record.aor, record.seed);
    if (!equalBytes(id.#publicKey, record.publicKey)) throw IdentityError.keyMismatch(id.aor);
    return id;
  }

  /** The 32-byte Ed25519 public key (a copy). */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  get publicKeyHex(): string {
    return toHex(this.#publicKey);
  }

  /** What the store should keep (a copy of the seed; wipe it after writing). */
  toRecord(): IdentityRecord {
    this.#assertLive();
    return { aor: this.aor, seed: this.#seed.slice(), publicKey: this.publicKey };
  }

  /** Ed25519 signature of UTF-8(label) ‖ 0x00 ‖ message. */
  sign(label: NsLabel, message: Uint8Array): Uint8Array {
    this.#assertLive();
    return signLabelled(label, message, this.#seed);
  }

  /**
   * The same key as a HyperDHT / sodium key pair, for `dht.createServer().listen(kp)`
   * and `dht.connect(key, { keyPair })`. Fresh buffers each call; the caller owns them.
   */
  hyperdhtKeyPair(): HyperdhtKeyPair {
    this.#assertLive();
    const secretKey = Buffer.alloc(64);
    secretKey.set(this.#seed, 0);
    secretKey.set(this.#publicKey, 32);
    return { publicKey: Buffer.from(this.#publicKey), secretKey };
  }

  /**
   * A key agreed with a peer identity (static-static X25519 of the two Ed25519
   * keys, converted to Montgomery form), passed through HKDF-SHA256 under
   * `label` with `context`. Symmetric: the peer computes the same key with our
   * public key if both use the same label and context (order the two AORs in
   * the context canonically). The raw X25519 output never leaves this method.
   */
  agree(label: NsLabel, peerPublicKey: Uint8Array, context?: Uint8Array): Uint8Array {
    this.#assertLive();
    const secret = x25519SecretFromEd25519Seed(this.#seed);
    const raw = x25519Shared(secret, x25519PublicFromEd25519(peerPublicKey));
    try {
      return deriveKey(label, raw, context === undefined ? {} : { context });
    } finally {
      wipe(secret);
      wipe(raw);
    }
  }

  /** Overwrites the seed; the object cannot sign any more. */
  wipe(): void {
    wipe(this.#seed);
    this.#wiped = true;
  }

  #assertLive(): void {
    if (this.#wiped) throw IdentityError.wiped(this.aor);
  }

  toJSON(): { aor: string; publicKey: string } {
    return { aor: this.aor, publicKey: this.publicKeyHex };
  }

  [inspect.custom](): string {
    return `Identity { aor: '${this.aor}', publicKey: '${this.publicKeyHex}' }`;
  }
}
