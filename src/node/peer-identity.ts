/**
 * Who is at the other end of a tunnel. The Noise handshake authenticates a
 * public key; the first control frame each side sends (kind 0x10, IDENTITY)
 * carries its signed registration package, which binds that key to an AOR.
 * The proxy then accepts requests through the tunnel only From that AOR.
 *
 *   IDENTITY body = the sender's current registration package (docs/protocol.md)
 *
 * Checks: the package verifies (signature, validity), its key equals the
 * tunnel's authenticated remote key, and — when we hold a contact for that
 * AOR — equals the pinned key.
 */
import { equalBytes } from '../crypto/bytes.js';
import { decodePackage } from '../package/decode.js';
import { PackageError } from '../package/errors.js';
import { verifyPackage } from '../package/verify.js';
import type { Store } from '../store/store.js';
import type { TunnelEndpoint } from '../tunnel/endpoint.js';
import type { Tunnel } from '../tunnel/tunnel.js';

export const IDENTITY_CONTROL_KIND = 0x10;

export interface PeerIdentityOptions {
  endpoint: TunnelEndpoint;
  store: Store;
  /** Our package to introduce ourselves with. */
  ownPackage: () => Uint8Array;
  now?: () => number;
  log: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

export class PeerIdentities {
  readonly #o: PeerIdentityOptions;
  readonly #peers = new WeakMap<Tunnel, string>();
  readonly #introduced = new WeakSet<Tunnel>();
  readonly #off: () => void;

  constructor(opts: PeerIdentityOptions) {
    this.#o = opts;
    this.#off = opts.endpoint.onControl(IDENTITY_CONTROL_KIND, (body, tunnel) =>
      this.#onIdentity(body, tunnel),
    );
    opts.endpoint.on('tunnel', (tunnel) => this.introduce(tunnel));
  }

  /** The verified AOR of the peer, once its IDENTITY frame arrived. */
  aorOf(tunnel: Tunnel): string | undefined {
    return this.#peers.get(tunnel);
  }

  /** Sends our IDENTITY once per tunnel, before any SIP. */
  introduce(tunnel: Tunnel): void {
    if (this.#introduced.has(tunnel) || !tunnel.isOpen) return;
    this.#introduced.add(tunnel);
    tunnel.sendControl(IDENTITY_CONTROL_KIND, this.#o.ownPackage());
  }

  close(): void {
    this.#off();
  }

  #onIdentity(body: Uint8Array, tunnel: Tunnel): void {
    try {
      const claimed = decodePackage(body).fields.aor;
      const pinned = this.#o.store.getContact(claimed)?.publicKey;
      const fields = verifyPackage(body, {
        expectedAor: claimed,
        now: Math.floor((this.#o.now ?? Date.now)() / 1000),
        ...(pinned ? { expectedKey: pinned } : {}),
      });
      if (!equalBytes(fields.key, tunnel.remotePublicKey)) {
        throw PackageError.keyMismatch(fields.aor);
      }
      this.#peers.set(tunnel, fields.aor);
      this.#o.log('debug', `tunnel peer ${tunnel.remoteKeyHex.slice(0, 12)}… is ${fields.aor}`);
    } catch (err) {
      this.#o.log(
        'warn',
        `tunnel peer ${tunnel.remoteKeyHex.slice(0, 12)}… sent a bad identity: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}
