/**
 * The parts of HyperDHT (and of the Noise secret stream it returns) that the
 * tunnel uses, typed structurally: hyperdht ships no TypeScript types, and a
 * narrow interface also lets the endpoint run on a DHT someone else created
 * (the node's composition root shares one instance with the lookup service).
 */
import { createRequire } from 'node:module';

/** A HyperDHT / sodium Ed25519 key pair: secretKey = seed ‖ publicKey (64 bytes). */
export interface DhtKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** An error from hyperdht carries a string `code` (PEER_NOT_FOUND, …). */
export type DhtError = Error & { code?: string };

/** `@hyperswarm/secret-stream`'s NoiseSecretStream, as far as we use it. */
export interface SecretStream {
  /** Our key on this connection. */
  readonly publicKey: Uint8Array | null;
  /** The peer's key: the one we dialled, or (inbound) the one its handshake proved. */
  readonly remotePublicKey: Uint8Array | null;
  /** Unique per Noise session, equal on both ends; null before the handshake. */
  readonly handshakeHash: Uint8Array | null;
  readonly destroying: boolean;
  write(data: Uint8Array): boolean;
  end(): void;
  destroy(err?: Error): void;
  /** Unreliable, unordered encrypted message over UDX (no-op before the handshake). */
  trySend(data: Uint8Array): void;
  setKeepAlive(ms: number): void;
  /** Destroys the stream after `ms` without any received bytes (keep-alives count). */
  setTimeout(ms: number): void;
  on(event: 'data' | 'message', fn: (data: Uint8Array) => void): this;
  on(event: 'error', fn: (err: DhtError) => void): this;
  on(event: 'open' | 'end' | 'close', fn: () => void): this;
}

export interface DhtServerOptions {
  /** Return true to REJECT (hyperdht's convention). */
  firewall(remotePublicKey: Uint8Array, payload: unknown): boolean | Promise<boolean>;
}

export interface DhtServer {
  listen(keyPair: DhtKeyPair): Promise<unknown>;
  close(): Promise<void>;
}

/** What the endpoint needs from a HyperDHT node. */
export interface TunnelDht {
  readonly destroyed: boolean;
  connect(remotePublicKey: Uint8Array, options: { keyPair: DhtKeyPair }): SecretStream;
  createServer(options: DhtServerOptions, onconnection: (socket: SecretStream) => void): DhtServer;
  destroy(options?: { force?: boolean }): Promise<void>;
}

/** A bootstrap node: "host:port" or { host, port }. */
export type BootstrapNode = string | { host: string; port: number };

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

type DhtConstructor = new (options: Record<string, unknown>) => TunnelDht;

/** A new HyperDHT node (ephemeral: it does not store records for others). */
export function createDht(options: OwnedDhtOptions): TunnelDht {
  if (!Array.isArray(options.bootstrap)) {
    throw new TypeError('createDht: an explicit bootstrap list is required (never the public one)');
  }
  const HyperDHT = createRequire(import.meta.url)('hyperdht') as DhtConstructor;
  return new HyperDHT({
    bootstrap: [...options.bootstrap],
    ephemeral: true,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
}

/** hyperdht compares keys with Buffer methods: hand it Buffers (copies). */
export function toDhtKeyPair(keyPair: DhtKeyPair): { publicKey: Buffer; secretKey: Buffer } {
  return { publicKey: Buffer.from(keyPair.publicKey), secretKey: Buffer.from(keyPair.secretKey) };
}
