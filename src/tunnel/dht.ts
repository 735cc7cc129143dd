/**
 * The parts of HyperDHT (and of the Noise secret stream it returns) that the
 * tunnel uses, typed structurally: hyperdht ships no TypeScript types, and a
 * narrow interface also lets the endpoint run on a DHT someone else created
 * (the node's composition root shares one instance with the lookup service).
 */
import { type BootstrapNode, createHyperDht, type TunnelDht } from '../dht/hyperdht.js';

export {
  type BootstrapNode,
  closeServerQuietly,
  type DhtError,
  type DhtServer,
  type DhtServerOptions,
  type SecretStream,
  type TunnelDht,
  toDhtKeyPair,
} from '../dht/hyperdht.js';

export interface OwnedDhtOptions {
  /**
   * Required, never defaulted: hyperdht treats a missing list as "join the
   * public network". Pass `[]` for a first node, loopback addresses in tests.
   */
  bootstrap: readonly BootstrapNode[];
  /** Address to bind; '127.0.0.1' in tests. */
  host?: string;
  port?: number;
}

/** A key pair as the tunnel's callers hold it (converted to Buffers for hyperdht by toDhtKeyPair). */
export interface DhtKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A DHT node owned by a tunnel endpoint (ephemeral: it stores nothing for others). */
export function createDht(options: OwnedDhtOptions): TunnelDht {
  return createHyperDht({ ...options, ephemeral: true });
}
