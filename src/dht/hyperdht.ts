/**
 * The one typed facade over the `hyperdht` package (CommonJS, no TypeScript
 * types), shared by the lookup layer (src/overlay) and the tunnel
 * (src/tunnel). Each of them depends only on the slice it uses
 * (`OverlayDht`, `TunnelDht`); the composition root creates one `HyperDht`
 * that serves both.
 *
 * Never the public network by accident: hyperdht treats a missing bootstrap
 * list as "join the public HyperDHT network", so {@link createHyperDht}
 * refuses to run without an explicit list.
 */
import { createRequire } from 'node:module';

/** A sodium Ed25519 key pair: secretKey = seed ‖ publicKey (64 bytes). hyperdht wants Buffers. */
export interface DhtKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

/** A bootstrap node: "host:port" or { host, port }. */
export type BootstrapNode = string | { host: string; port: number };

export type DhtError = Error & { code?: string };

// ---- what the lookup layer uses -------------------------------------------

/** A running DHT query (a streamx Readable of replies). */
export interface DhtQuery<T> extends AsyncIterable<T> {
  destroy(err?: Error): void;
  finished(): Promise<void>;
}

export interface DhtLookupReply {
  peers: { publicKey: Uint8Array }[];
}

export interface DhtMutableRecord {
  seq: number;
  value: Uint8Array;
  signature: Uint8Array;
}

export interface OverlayDht {
  readonly destroyed: boolean;
  fullyBootstrapped(): Promise<void>;
  lookup(topic: Buffer): DhtQuery<DhtLookupReply>;
  announce(topic: Buffer, keyPair: DhtKeyPair): DhtQuery<unknown>;
  unannounce(topic: Buffer, keyPair: DhtKeyPair): Promise<void>;
  mutablePut(keyPair: DhtKeyPair, value: Buffer, opts: { seq: number }): Promise<unknown>;
  mutableGet(publicKey: Buffer, opts?: { latest?: boolean }): Promise<DhtMutableRecord | null>;
  destroy(): Promise<void>;
}

// ---- what the tunnel uses --------------------------------------------------

/** @hyperswarm/secret-stream as hyperdht's connect/createServer hand it out. */
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
  /** Resolves true once everything written so far is acknowledged by the peer, false if destroyed first. */
  flush?(): Promise<boolean>;
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

/**
 * Closes a hyperdht server WITHOUT withdrawing its announcement: the
 * storing nodes drop it when it lapses (≈ 20 min) instead of being told
 * "this key retires now". For per-epoch tunnel keys (docs/privacy.md
 * "Tunnel keys"): an unannounce would put the retired key back in front of
 * DHT nodes in the next epoch, next to the new key's announcement.
 *
 * hyperdht 6.x has no option for it; its Server.close() runs
 * `_announcer.stop()`, which ends with `_unannounceCurrent()`. We replace
 * that one step on this server's announcer. test/unit/tunnel/quiet-close
 * checks a logging DHT node sees no UNANNOUNCE, so an upgrade that changes
 * the internals fails there, not silently.
 */
export async function closeServerQuietly(server: DhtServer): Promise<void> {
  const announcer = (server as { _announcer?: { _unannounceCurrent?: () => Promise<void> } | null })
    ._announcer;
  if (announcer && typeof announcer._unannounceCurrent === 'function')
    announcer._unannounceCurrent = () => Promise.resolve();
  await server.close();
}

export interface TunnelDht {
  readonly destroyed: boolean;
  connect(
    remotePublicKey: Uint8Array,
    options: { keyPair: DhtKeyPair; relayAddresses?: { host: string; port: number }[] },
  ): SecretStream;
  createServer(options: DhtServerOptions, onconnection: (socket: SecretStream) => void): DhtServer;
  destroy(options?: { force?: boolean }): Promise<void>;
}

// ---- the whole node -----------------------------------------------------------

export interface HyperDht extends OverlayDht, TunnelDht {
  ready(): Promise<void>;
  address(): { host: string; port: number };
  destroy(options?: { force?: boolean }): Promise<void>;
}

/** The hyperdht module export: the class and its static helpers. */
export interface HyperDhtModule {
  new (options: Record<string, unknown>): HyperDht;
  keyPair(seed?: Uint8Array): DhtKeyPair;
  bootstrapper(port: number, host: string, options?: Record<string, unknown>): HyperDht;
}

let loaded: HyperDhtModule | undefined;

export function loadHyperDht(): HyperDhtModule {
  loaded ??= createRequire(import.meta.url)('hyperdht') as HyperDhtModule;
  return loaded;
}

export interface CreateDhtOptions {
  /**
   * Required, never defaulted: hyperdht treats a missing list as "join the
   * public network". Pass `[]` for a first node, loopback addresses in tests.
   */
  bootstrap: readonly BootstrapNode[];
  /** Address to bind; '127.0.0.1' in tests and by default config. */
  host?: string;
  port?: number;
  /** true: never store records for others. Default: hyperdht's adaptive mode. */
  ephemeral?: boolean;
  /**
   * false: peers may connect to our address directly (no holepunching).
   * Default: hyperdht's, firewalled until its own reachability probe says otherwise.
   */
  firewalled?: boolean;
}

export function createHyperDht(options: CreateDhtOptions): HyperDht {
  if (!Array.isArray(options.bootstrap)) {
    throw new TypeError('an explicit bootstrap list is required (never the public one by default)');
  }
  const HyperDHT = loadHyperDht();
  return new HyperDHT({
    bootstrap: [...options.bootstrap],
    ...(options.ephemeral === undefined ? {} : { ephemeral: options.ephemeral }),
    ...(options.firewalled === undefined ? {} : { firewalled: options.firewalled }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
}

/** hyperdht compares and stores keys with Buffer methods: hand it Buffer copies. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

export function toDhtKeyPair(keyPair: {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}): DhtKeyPair {
  return { publicKey: Buffer.from(keyPair.publicKey), secretKey: Buffer.from(keyPair.secretKey) };
}
