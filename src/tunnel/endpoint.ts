/**
 * The node's tunnel endpoint: listens on any number of key pairs (added and
 * removed at run time, issue 4's per-friend/per-epoch keys), lets the node's
 * accept policy decide who may connect, dials peers and keeps one open tunnel
 * per (remote key, local key) for reuse.
 *
 * Reuse rules:
 *   - `connect()` returns the open tunnel for (remote, local) if there is one,
 *     whichever side opened it; concurrent connects share one attempt.
 *   - A tunnel closes after `idleTimeoutMs` with no frame and no holder; the
 *     next `connect()` dials again.
 *
 * Privacy: dialling routes the handshake through DHT nodes near hash(key);
 * they learn "someone at IP x connects to key K". In secret mode K is a
 * per-friend, per-epoch key (issue 4), never the long-lived identity key.
 * A refused connection gets no answer at all (hyperdht's firewall is silent),
 * so a stranger cannot even tell whether the key is online.
 */
import { EventEmitter } from 'node:events';
import { toHex } from '../crypto/bytes.js';
import { assertExtensionKind } from './control.js';
import {
  closeServerQuietly,
  createDht,
  type DhtKeyPair,
  type DhtServer,
  type OwnedDhtOptions,
  type SecretStream,
  type TunnelDht,
  toDhtKeyPair,
} from './dht.js';
import { channels, publish, type TunnelRejectMessage } from './diagnostics.js';
import { TunnelError } from './errors.js';
import { DEFAULT_MAX_FRAME_PAYLOAD } from './frame.js';
import { type IdleClock, realClock } from './idle.js';
import { type ControlHandler, Tunnel, type TunnelDirection } from './tunnel.js';

/**
 * Decides whether `remotePublicKey` may open a tunnel to our key
 * `localPublicKey`. Runs inside the Noise handshake, before we answer: false
 * (or a throw) means no answer at all.
 */
export type AcceptPolicy = (
  remotePublicKey: Uint8Array,
  localPublicKey: Uint8Array,
) => boolean | Promise<boolean>;

export interface TunnelEndpointOptions {
  /** A DHT node to use (not destroyed by close()); otherwise give `bootstrap` and the endpoint owns one. */
  dht?: TunnelDht;
  /** Bootstrap list of the DHT the endpoint creates and owns. Never defaulted (public network). */
  bootstrap?: OwnedDhtOptions['bootstrap'];
  /** Bind address of the owned DHT node ('127.0.0.1' in tests). */
  host?: string;
  port?: number;
  /** Who may connect to us. Default: nobody (fail closed). */
  accept?: AcceptPolicy;
  /**
   * Our own limit for connect() (DHT lookup + Noise + hello). A refusal is
   * silent and hyperdht only gives up after several seconds; this lets the
   * proxy answer 480 sooner. Default 5,000 ms.
   */
  connectTimeoutMs?: number;
  /** Close tunnels with no frame and no holder for this long; 0 = never. Default 60,000 ms. */
  idleTimeoutMs?: number;
  /** Largest frame payload we accept. Default 64 KiB. */
  maxFramePayload?: number;
  /** Secret-stream keep-alive interval. Default 5,000 ms. */
  keepAliveMs?: number;
  /** Destroy a tunnel after this long without receiving anything (keep-alives count). Default 20,000 ms. */
  deadPeerTimeoutMs?: number;
  /** Clock for idle/grace timers (tests). */
  clock?: IdleClock;
}

export interface ConnectOptions {
  /** The key pair we connect as: the identity the peer authenticates (and the proxy checks). */
  keyPair: DhtKeyPair;
  /** Overrides the endpoint's connect timeout for this call. */
  timeoutMs?: number;
  /**
   * Where the peer's DHT node is, if known (a `udp` contact of its package):
   * the handshake goes there directly instead of through a DHT lookup, so
   * the two need no DHT network in common.
   */
  relayAddresses?: { host: string; port: number }[];
}

export interface TunnelEndpointEvents {
  /** A tunnel finished its hello (either direction). */
  tunnel: [tunnel: Tunnel];
  sip: [bytes: Uint8Array, tunnel: Tunnel];
  datagram: [channel: number, bytes: Uint8Array, tunnel: Tunnel];
}

interface Listener {
  server: DhtServer;
  listening: Promise<void>;
}

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  keepAliveMs: 5_000,
  deadPeerTimeoutMs: 20_000,
} as const;

const refuseAll: AcceptPolicy = () => false;

function poolKey(remote: Uint8Array, local: Uint8Array): string {
  return `${toHex(remote)}:${toHex(local)}`;
}

function assertKey(what: string, key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new TypeError(`${what} must be a 32-byte Uint8Array`);
  }
}

export class TunnelEndpoint extends EventEmitter<TunnelEndpointEvents> {
  readonly dht: TunnelDht;
  #ownsDht: boolean;
  #accept: AcceptPolicy;
  #options: Required<
    Pick<
      TunnelEndpointOptions,
      'connectTimeoutMs' | 'idleTimeoutMs' | 'maxFramePayload' | 'keepAliveMs' | 'deadPeerTimeoutMs'
    >
  >;
  #clock: IdleClock;
  #listeners = new Map<string, Listener>();
  /** Open tunnels available for reuse, one per (remote, local). */
  #pool = new Map<string, Tunnel>();
  /** Every tunnel not yet closed (including ones still saying hello, and duplicates). */
  #tunnels = new Set<Tunnel>();
  /** Dial attempts in flight, shared by concurrent connect() calls. */
  #dialing = new Map<string, Promise<Tunnel>>();
  #controlHandlers = new Map<number, ControlHandler>();
  #closing: Promise<void> | null = null;

  constructor(options: TunnelEndpointOptions) {
    super();
    if (options.dht) {
      this.dht = options.dht;
      this.#ownsDht = false;
    } else if (options.bootstrap) {
      this.dht = createDht({
        bootstrap: options.bootstrap,
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.port === undefined ? {} : { port: options.port }),
      });
      this.#ownsDht = true;
    } else {
      throw new TypeError('TunnelEndpoint needs a `dht` or an explicit `bootstrap` list');
    }
    this.#accept = options.accept ?? refuseAll;
    this.#clock = options.clock ?? realClock;
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      maxFramePayload: options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD,
      keepAliveMs: options.keepAliveMs ?? DEFAULTS.keepAliveMs,
      deadPeerTimeoutMs: options.deadPeerTimeoutMs ?? DEFAULTS.deadPeerTimeoutMs,
    };
  }

  get isClosed(): boolean {
    return this.#closing !== null;
  }

  /** Public keys (hex) we listen on. */
  get listeningKeys(): string[] {
    return [...this.#listeners.keys()];
  }

  /** Open tunnels, in no particular order. */
  get tunnels(): Tunnel[] {
    return [...this.#tunnels].filter((t) => t.isOpen);
  }

  /** Starts accepting tunnels to `keyPair.publicKey` (idempotent per key). */
  async listen(keyPair: DhtKeyPair): Promise<void> {
    this.#assertNotClosed();
    assertKey('keyPair.publicKey', keyPair.publicKey);
    const localPublicKey = new Uint8Array(keyPair.publicKey);
    const hex = toHex(localPublicKey);
    const existing = this.#listeners.get(hex);
    if (existing) return existing.listening;

    const server = this.dht.createServer(
      { firewall: (remote) => this.#refuses(new Uint8Array(remote), localPublicKey) },
      (socket) => this.#onInbound(socket, localPublicKey),
    );
    const listening = server.listen(toDhtKeyPair(keyPair)).then(() => {});
    this.#listeners.set(hex, { server, listening });
    try {
      await listening;
    } catch (err) {
      if (this.#listeners.get(hex)?.server === server) this.#listeners.delete(hex);
      await server.close().catch(() => {});
      throw err;
    }
  }

  /**
   * Stops accepting on a key. Open tunnels on it stay (a call in progress
   * outlives its epoch key) unless `closeTunnels` is set. `quiet`: let the
   * key's announcement lapse in the DHT instead of withdrawing it
   * (closeServerQuietly, for retiring per-epoch keys).
   */
  async unlisten(
    publicKey: Uint8Array,
    options: { closeTunnels?: boolean; quiet?: boolean } = {},
  ): Promise<void> {
    assertKey('publicKey', publicKey);
    const hex = toHex(publicKey);
    const listener = this.#listeners.get(hex);
    if (!listener) return;
    this.#listeners.delete(hex);
    await listener.listening.catch(() => {});
    if (options.quiet) await closeServerQuietly(listener.server);
    else await listener.server.close();
    if (options.closeTunnels) {
      const closing = [...this.#tunnels]
        .filter((t) => t.direction === 'inbound' && toHex(t.localPublicKey) === hex)
        .map((t) => t.close());
      await Promise.all(closing);
    }
  }

  /**
   * The tunnel to `remotePublicKey` as `keyPair`: the open one if any, else a
   * new connection (concurrent calls share one attempt). Rejects with a
   * TunnelError: PEER_NOT_FOUND, CONNECT_TIMEOUT, REJECTED, CONNECT_FAILED,
   * PROTOCOL or CLOSED.
   */
  connect(remotePublicKey: Uint8Array, options: ConnectOptions): Promise<Tunnel> {
    if (this.isClosed) return Promise.reject(TunnelError.closed('endpoint'));
    assertKey('remotePublicKey', remotePublicKey);
    assertKey('keyPair.publicKey', options.keyPair.publicKey);
    const key = poolKey(remotePublicKey, options.keyPair.publicKey);
    const open = this.#pool.get(key);
    if (open?.isOpen) return Promise.resolve(open);
    const dialing = this.#dialing.get(key);
    if (dialing) return dialing;
    const attempt = this.#dial(remotePublicKey, options).finally(() => {
      this.#dialing.delete(key);
    });
    this.#dialing.set(key, attempt);
    return attempt;
  }

  /** The open tunnel for (remote, local) without dialling, if any. */
  find(remotePublicKey: Uint8Array, localPublicKey: Uint8Array): Tunnel | undefined {
    const t = this.#pool.get(poolKey(remotePublicKey, localPublicKey));
    return t?.isOpen ? t : undefined;
  }

  /**
   * Routes extension control frames of `kind` (0x10–0xff) on every tunnel to
   * `handler`; returns the function that removes it. A kind nobody handles
   * is skipped (counted per tunnel), so register before peers may send it.
   */
  onControl(kind: number, handler: ControlHandler): () => void {
    assertExtensionKind(kind);
    if (this.#controlHandlers.has(kind)) {
      throw new RangeError(`control kind 0x${kind.toString(16)} already has a handler`);
    }
    this.#controlHandlers.set(kind, handler);
    return () => {
      if (this.#controlHandlers.get(kind) === handler) this.#controlHandlers.delete(kind);
    };
  }

  /** Destroys every tunnel and server, clears every timer, destroys the DHT if we own it. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const tunnels = [...this.#tunnels];
    for (const t of tunnels) t.destroy(TunnelError.closed('endpoint'));
    const servers = [...this.#listeners.values()];
    this.#listeners.clear();
    await Promise.all([
      ...tunnels.map((t) => t.closed),
      ...servers.map(async (l) => {
        await l.listening.catch(() => {});
        await l.server.close();
      }),
    ]);
    this.#pool.clear();
    if (this.#ownsDht) await this.dht.destroy();
  }

  #assertNotClosed(): void {
    if (this.isClosed) throw TunnelError.closed('endpoint');
  }

  async #dial(remotePublicKey: Uint8Array, options: ConnectOptions): Promise<Tunnel> {
    const timeoutMs = options.timeoutMs ?? this.#options.connectTimeoutMs;
    const socket = this.dht.connect(Buffer.from(remotePublicKey), {
      keyPair: toDhtKeyPair(options.keyPair),
      ...(options.relayAddresses?.length ? { relayAddresses: options.relayAddresses } : {}),
    });
    const tunnel = this.#adopt(socket, 'outbound', options.keyPair.publicKey);
    const timer = this.#clock.setTimeout(
      () => tunnel.destroy(TunnelError.connectTimeout(timeoutMs)),
      timeoutMs,
    );
    try {
      await tunnel.ready;
    } finally {
      this.#clock.clearTimeout(timer);
    }
    return tunnel;
  }

  async #refuses(remotePublicKey: Uint8Array, localPublicKey: Uint8Array): Promise<boolean> {
    let why: TunnelRejectMessage['why'] | null = null;
    if (this.isClosed) {
      why = 'closing';
    } else {
      try {
        if ((await this.#accept(remotePublicKey, localPublicKey)) !== true) why = 'policy';
      } catch {
        why = 'policy-error';
      }
    }
    if (why === null) return false;
    publish(channels.reject, () => ({
      remotePublicKey: toHex(remotePublicKey),
      localPublicKey: toHex(localPublicKey),
      why,
    }));
    return true;
  }

  #onInbound(socket: SecretStream, localPublicKey: Uint8Array): void {
    if (this.isClosed) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const tunnel = this.#adopt(socket, 'inbound', localPublicKey);
    // A peer that never says hello is dropped after the connect timeout.
    const timer = this.#clock.setTimeout(
      () => tunnel.destroy(TunnelError.protocol('no hello from peer')),
      this.#options.connectTimeoutMs,
    );
    const clear = () => this.#clock.clearTimeout(timer);
    tunnel.ready.then(clear, clear);
  }

  /** Wraps a socket in a Tunnel and wires it to the pool, the events and diagnostics. */
  #adopt(socket: SecretStream, direction: TunnelDirection, localPublicKey: Uint8Array): Tunnel {
    socket.setKeepAlive(this.#options.keepAliveMs);
    socket.setTimeout(this.#options.deadPeerTimeoutMs);
    const tunnel = new Tunnel(socket, {
      direction,
      localPublicKey,
      maxFramePayload: this.#options.maxFramePayload,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      controlHandler: (kind) => this.#controlHandlers.get(kind),
      clock: this.#clock,
    });
    this.#tunnels.add(tunnel);
    tunnel.on('ready', () => {
      const key = poolKey(tunnel.remotePublicKey, tunnel.localPublicKey);
      if (!this.#pool.get(key)?.isOpen) this.#pool.set(key, tunnel);
      publish(channels.open, () => ({
        remotePublicKey: tunnel.remoteKeyHex,
        localPublicKey: toHex(tunnel.localPublicKey),
        direction,
        version: tunnel.version,
      }));
      this.emit('tunnel', tunnel);
    });
    tunnel.on('sip', (bytes, t) => this.emit('sip', bytes, t));
    tunnel.on('datagram', (channel, bytes, t) => this.emit('datagram', channel, bytes, t));
    tunnel.on('close', (reason, t) => {
      this.#tunnels.delete(t);
      const wasOpen = t.version !== 0;
      if (wasOpen) {
        const key = poolKey(t.remotePublicKey, t.localPublicKey);
        if (this.#pool.get(key) === t) {
          this.#pool.delete(key);
          // A second tunnel to the same peer (both sides dialled at once) takes over.
          const spare = [...this.#tunnels].find(
            (o) => o.isOpen && poolKey(o.remotePublicKey, o.localPublicKey) === key,
          );
          if (spare) this.#pool.set(key, spare);
        }
      }
      publish(channels.close, () => ({
        remotePublicKey: wasOpen
          ? t.remoteKeyHex
          : toHex(socket.remotePublicKey ?? new Uint8Array()),
        localPublicKey: toHex(t.localPublicKey),
        direction,
        reason: reason?.code ?? null,
        wasOpen,
      }));
    });
    return tunnel;
  }
}
