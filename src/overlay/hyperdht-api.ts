/**
 * The parts of HyperDHT the lookup layer uses, typed structurally: hyperdht
 * ships no TypeScript types, and a narrow interface lets the backend run on a
 * DHT instance someone else created (the composition root shares one node with
 * the tunnel). Loaded through createRequire because hyperdht is CommonJS.
 */
import { createRequire } from 'node:module';

/** A sodium Ed25519 key pair: secretKey = seed ‖ publicKey (64 bytes). */
export interface DhtKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

/** A bootstrap node: "host:port" or { host, port }. */
export type BootstrapNode = string | { host: string; port: number };

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

/** What the lookup backend needs from a HyperDHT node. */
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

/** The hyperdht module export: the class and its static helpers. */
export interface HyperDhtModule {
  new (options: Record<string, unknown>): OverlayDht;
  keyPair(seed?: Uint8Array): DhtKeyPair;
  bootstrapper(port: number, host: string, options?: Record<string, unknown>): OverlayDht;
}

let loaded: HyperDhtModule | undefined;

export function loadHyperDht(): HyperDhtModule {
  loaded ??= createRequire(import.meta.url)('hyperdht') as HyperDhtModule;
  return loaded;
}

/** hyperdht compares and stores keys with Buffer methods: hand it Buffer copies. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}
