/**
 * A private HyperDHT network on loopback, for tests, the demo and manual
 * trials (`p2psip testnet`). Node 0 is the bootstrap node (on `port`, or a free
 * ephemeral one); every node binds to a loopback address and bootstraps from
 * node 0 only, so nothing here ever contacts an outside address.
 *
 * Bystander logging (issue 4): the nodes listed in `loggers` record every
 * request they receive — command, target, raw value, sender — and decode what
 * they are asked to store (mutable puts: publisher key, seq, value; announces:
 * announcer key). Requests for a key go to the ~20 nodes closest to it, so in a
 * testnet of ≤ 20 nodes a logging node sees every key and value stored or
 * asked for: the worst case of an honest-but-curious DHT node.
 */
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { OverlayError } from './errors.js';
import { HyperDhtLookup, type HyperDhtLookupOptions } from './hyperdht.js';
import { loadHyperDht, type OverlayDht } from './hyperdht-api.js';

export const MAX_TESTNET_NODES = 64;

export interface TestnetOptions {
  /** Number of DHT nodes, 1..MAX_TESTNET_NODES (default 3). */
  nodes?: number;
  /** Loopback address to bind (127.0.0.0/8; default 127.0.0.1). */
  host?: string;
  /** UDP port of the bootstrap node; default: a free ephemeral port. */
  port?: number;
  /** Indices of nodes that log every request they receive (see the file comment). */
  loggers?: readonly number[];
  /** Called for every logged request, as it arrives. */
  onRequest?: (entry: DhtRequestLogEntry) => void;
  /** Entries kept per logging node; older ones are dropped (default 10,000). */
  maxLogEntries?: number;
}

export interface DhtRequestLogEntry {
  /** Index of the logging node. */
  node: number;
  /** hyperdht command name: LOOKUP, ANNOUNCE, UNANNOUNCE, MUTABLE_PUT, MUTABLE_GET, FIND_PEER, … */
  command: string;
  /** The DHT target: the topic for LOOKUP/ANNOUNCE, hash(publicKey) for mutable records. */
  target: Uint8Array | null;
  /** The raw request value. */
  value: Uint8Array | null;
  from: { host: string; port: number };
  /** MUTABLE_PUT: what the node is asked to store. */
  stored?: { publicKey: Uint8Array; seq: number; value: Uint8Array };
  /** ANNOUNCE / UNANNOUNCE: the announcer's key. */
  announcer?: Uint8Array;
}

/** A DHT node of the testnet: the lookup surface plus what the testnet itself uses. */
export interface TestnetNode extends OverlayDht {
  address(): { host: string; port: number } | null;
  onrequest(req: DhtRequest): boolean;
}

interface DhtRequest {
  command: number;
  target: Uint8Array | null;
  value: Uint8Array | null;
  from: { host: string; port: number };
}

export interface Testnet {
  /** The bootstrap list for clients: [{ host, port }] of node 0. */
  readonly bootstrap: { host: string; port: number }[];
  readonly nodes: TestnetNode[];
  /** The request log of a logging node (a copy); [] for other nodes. */
  log(node: number): DhtRequestLogEntry[];
  /** A HyperDHT lookup service on this network (an ephemeral client), closed by destroy(). */
  createLookup(opts?: Omit<HyperDhtLookupOptions, 'bootstrap' | 'dht' | 'network'>): HyperDhtLookup;
  /** Closes the lookups it created, then destroys every node (last first). Idempotent. */
  destroy(): Promise<void>;
}

export async function startTestnet(opts: TestnetOptions = {}): Promise<Testnet> {
  const size = opts.nodes ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > MAX_TESTNET_NODES)
    throw OverlayError.badOption('nodes', size, `an integer 1..${MAX_TESTNET_NODES}`);
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackV4(host)) throw OverlayError.badOption('host', host, 'an address in 127.0.0.0/8');
  if (
    opts.port !== undefined &&
    (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535)
  )
    throw OverlayError.badOption('port', opts.port, 'an integer 1..65535');
  const loggers = new Set(opts.loggers ?? []);
  for (const i of loggers)
    if (!Number.isInteger(i) || i < 0 || i >= size)
      throw OverlayError.badOption('loggers', i, `node indices 0..${size - 1}`);
  const maxLog = opts.maxLogEntries ?? 10_000;

  const HyperDHT = loadHyperDht();
  const nodes: TestnetNode[] = [];
  const logs = new Map<number, DhtRequestLogEntry[]>();
  const lookups: HyperDhtLookup[] = [];
  let destroyed = false;

  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await Promise.allSettled(lookups.map((l) => l.close()));
    for (let i = nodes.length - 1; i >= 0; i--) await nodes[i]?.destroy();
  };

  try {
    const port = opts.port ?? (await freeUdpPort(host));
    const bootstrap = [{ host, port }];
    for (let i = 0; i < size; i++) {
      // hyperdht would default every node to its well-known port 49737: probe free ones.
      // An explicit --port must fail loudly if taken; a probed port may be raced (anyPort).
      const node = new HyperDHT({
        ephemeral: false,
        firewalled: false,
        host,
        ...(i === 0
          ? { bootstrap: [], port, anyPort: opts.port === undefined }
          : { bootstrap, port: await freeUdpPort(host) }),
      }) as unknown as TestnetNode;
      nodes.push(node);
      if (loggers.has(i)) logs.set(i, hookRequests(node, i, maxLog, opts.onRequest));
      await node.fullyBootstrapped();
      if (i === 0) {
        const actual = node.address();
        if (!actual) throw new Error('bootstrap node did not bind');
        bootstrap[0] = { host, port: actual.port };
      }
    }
    return {
      bootstrap,
      nodes,
      log: (i) => [...(logs.get(i) ?? [])],
      createLookup(lookupOpts = {}) {
        if (destroyed) throw OverlayError.closed('testnet');
        const lookup = new HyperDhtLookup({
          ephemeral: true,
          host,
          ...lookupOpts,
          bootstrap,
        });
        lookups.push(lookup);
        return lookup;
      },
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** A free UDP port on `host` right now (bind to 0, read, close). */
async function freeUdpPort(host: string): Promise<number> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return socket.address().port;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

export function isLoopbackV4(host: string): boolean {
  const parts = host.split('.');
  return (
    parts.length === 4 &&
    parts[0] === '127' &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}

interface HyperDhtMessages {
  mutablePutRequest: MessageCodec<{ publicKey: Uint8Array; seq: number; value: Uint8Array }>;
  announce: MessageCodec<{ peer: { publicKey: Uint8Array } | null }>;
}
interface MessageCodec<T> {
  decode(state: { start: number; end: number; buffer: Uint8Array }): T;
}

/** Wraps the node's request handler so every request is logged before hyperdht handles it. */
function hookRequests(
  node: TestnetNode,
  index: number,
  maxEntries: number,
  onRequest: ((entry: DhtRequestLogEntry) => void) | undefined,
): DhtRequestLogEntry[] {
  const require = createRequire(import.meta.url);
  const messages = require('hyperdht/lib/messages.js') as HyperDhtMessages;
  const { COMMANDS } = require('hyperdht/lib/constants.js') as {
    COMMANDS: Record<string, number>;
  };
  const names = new Map(Object.entries(COMMANDS).map(([name, n]) => [n, name]));
  const log: DhtRequestLogEntry[] = [];
  const handle = node.onrequest.bind(node);
  node.onrequest = (req: DhtRequest) => {
    const command = names.get(req.command) ?? `COMMAND_${req.command}`;
    const entry: DhtRequestLogEntry = {
      node: index,
      command,
      target: req.target ? new Uint8Array(req.target) : null,
      value: req.value ? new Uint8Array(req.value) : null,
      from: { host: req.from.host, port: req.from.port },
    };
    if (req.value) {
      const state = { start: 0, end: req.value.byteLength, buffer: req.value };
      try {
        if (command === 'MUTABLE_PUT') {
          const p = messages.mutablePutRequest.decode(state);
          entry.stored = {
            publicKey: new Uint8Array(p.publicKey),
            seq: p.seq,
            value: new Uint8Array(p.value),
          };
        } else if (command === 'ANNOUNCE' || command === 'UNANNOUNCE') {
          const a = messages.announce.decode(state);
          if (a.peer) entry.announcer = new Uint8Array(a.peer.publicKey);
        }
      } catch {
        // A malformed request: logged raw; hyperdht drops it.
      }
    }
    log.push(entry);
    if (log.length > maxEntries) log.shift();
    onRequest?.(entry);
    return handle(req);
  };
  return log;
}
