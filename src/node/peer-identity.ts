/**
 * Who is at the other end of a tunnel. The Noise handshake authenticates a
 * public key; the first control frame each side sends (kind 0x10, IDENTITY)
 * carries its signed registration package, which binds that key to an AOR.
 * The proxy then accepts requests through the tunnel only From that AOR.
 *
 *   IDENTITY body = the sender's current registration package (docs/protocol.md)
 *
 * Checks: the package verifies (signature, validity), the tunnel's
 * authenticated remote key is either its identity key (the peer dialled us
 * as itself) or a hyperdht contact the identity signed into the package (we
 * dialled the peer's per-epoch tunnel key, docs/privacy.md "Tunnel keys"),
 * and — when we hold a contact for that AOR — the identity key equals the
 * pinned key.
 */
import { equalBytes, toHex } from '../crypto/bytes.js';
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
  /** Our package to introduce ourselves with on `tunnel` (it must name the key the peer dialled). */
  ownPackage: (tunnel: Tunnel) => Uint8Array;
  /** Called once per tunnel when the peer's identity verified. */
  onIdentified?: (tunnel: Tunnel, peer: PeerIdentity) => void;
  now?: () => number;
  log: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

/** Who a tunnel's peer proved to be. */
export interface PeerIdentity {
  aor: string;
  /** The identity key (hex) its package was signed with. */
  key: string;
}

export class PeerIdentities {
  readonly #o: PeerIdentityOptions;
  readonly #peers = new WeakMap<Tunnel, PeerIdentity>();
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
    return this.#peers.get(tunnel)?.aor;
  }

  /** The verified AOR and identity key of the peer, once its IDENTITY frame arrived. */
  identityOf(tunnel: Tunnel): PeerIdentity | undefined {
    return this.#peers.get(tunnel);
  }

  /** Sends our IDENTITY once per tunnel, before any SIP. */
  introduce(tunnel: Tunnel): void {
    if (this.#introduced.has(tunnel) || !tunnel.isOpen) return;
    this.#introduced.add(tunnel);
    tunnel.sendControl(IDENTITY_CONTROL_KIND, this.#o.ownPackage(tunnel));
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
      const remote = tunnel.remotePublicKey;
      const named = fields.contacts.some(
        (c) => c.transport === 'hyperdht' && equalBytes(c.key, remote),
      );
      if (!equalBytes(fields.key, remote) && !named) {
        throw PackageError.keyMismatch(fields.aor);
      }
      if (this.#peers.has(tunnel)) return; // one identity per tunnel
      const peer = { aor: fields.aor, key: toHex(fields.key) };
      this.#peers.set(tunnel, peer);
      this.#o.log('debug', `tunnel peer ${tunnel.remoteKeyHex.slice(0, 12)}… is ${fields.aor}`);
      this.#o.onIdentified?.(tunnel, peer);
    } catch (err) {
      this.#o.log(
        'warn',
        `tunnel peer ${tunnel.remoteKeyHex.slice(0, 12)}… sent a bad identity: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}
