/**
 * One node-to-node tunnel: a Noise secret stream (HyperDHT) carrying framed
 * SIP, control frames and media datagrams. Both ends are authenticated by
 * key; `remotePublicKey` is what the Noise IK handshake proved, so the proxy
 * can check a request's From AOR against it (403 if they differ).
 *
 * Life cycle: created on a socket → sends its hello at once → 'ready' when the
 * peer's hello arrives (the first frame the peer may send) → frames flow →
 * 'close' once, with the reason. The endpoint (./endpoint.ts) creates tunnels;
 * users receive them from `connect()` or the endpoint's 'tunnel' event.
 */
import { EventEmitter } from 'node:events';
import { toHex } from '../crypto/bytes.js';
import type { TransportAddress } from '../sip/transport.js';
import {
  assertExtensionKind,
  ControlKind,
  decodeControl,
  decodeHelloBody,
  encodeControl,
  encodeHello,
  FIRST_EXTENSION_CONTROL_KIND,
  type Hello,
  negotiateVersion,
  PROTOCOL_VERSION,
} from './control.js';
import type { DhtError, SecretStream } from './dht.js';
import { TunnelError, TunnelErrorCode } from './errors.js';
import {
  DEFAULT_MAX_FRAME_PAYLOAD,
  decodeDatagram,
  encodeDatagram,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
} from './frame.js';
import { type IdleClock, IdleTimer, realClock } from './idle.js';

export type TunnelDirection = 'inbound' | 'outbound';

/** Handles an extension control frame (kind ≥ 0x10) received on a tunnel. */
export type ControlHandler = (body: Uint8Array, tunnel: Tunnel) => void;

export interface TunnelEvents {
  /** The peer's hello arrived; the tunnel is usable. Emitted synchronously, before any frame after it. */
  ready: [];
  sip: [bytes: Uint8Array, tunnel: Tunnel];
  datagram: [channel: number, bytes: Uint8Array, tunnel: Tunnel];
  /** Once. `reason` null = normal close (either side); otherwise why. */
  close: [reason: TunnelError | null, tunnel: Tunnel];
}

export interface TunnelOptions {
  direction: TunnelDirection;
  /** Our key on this connection (for inbound: the key the server listens on). */
  localPublicKey: Uint8Array;
  /** The largest frame payload we accept (announced in our hello). */
  maxFramePayload?: number;
  /** Close after this long with no frame and no holder; 0 = never. */
  idleTimeoutMs: number;
  /** After a graceful close() the peer gets this long to end its side before we destroy. */
  closeGraceMs?: number;
  /** Who handles extension control kinds; undefined = nobody (the frame is skipped and counted). */
  controlHandler?: (kind: number) => ControlHandler | undefined;
  clock?: IdleClock;
}

const CLOSE_GRACE_MS = 2_000;

/** A plain copy (hyperdht hands out Buffers, whose slice() is a view, not a copy). */
function copyOrNull(bytes: Uint8Array | null): Uint8Array | null {
  return bytes ? new Uint8Array(bytes) : null;
}

/** Maps what hyperdht or the stream reports to our codes; keeps TunnelErrors as they are. */
function mapSocketError(err: DhtError, wasReady: boolean): TunnelError {
  if (err instanceof TunnelError) return err;
  if (!wasReady) {
    if (err.code === 'PEER_NOT_FOUND') return TunnelError.peerNotFound(err);
    // The peer's announcement was found but no handshake reply came: a silent firewall refusal.
    if (err.code === 'PEER_CONNECTION_FAILED') return TunnelError.rejected(err);
    return TunnelError.connectFailed(err);
  }
  const closed = TunnelError.closed();
  return new TunnelError(closed.code, `${closed.message}: ${err.message}`, { cause: err });
}

export class Tunnel extends EventEmitter<TunnelEvents> {
  readonly direction: TunnelDirection;
  /** Resolves on 'ready'; rejects with the close reason if the tunnel closes first. */
  readonly ready: Promise<void>;
  /** Resolves when the tunnel has fully closed. */
  readonly closed: Promise<void>;

  #socket: SecretStream;
  #decoder: FrameDecoder;
  #idle: IdleTimer;
  #local: Hello;
  #peer: Hello | null = null;
  #version = 0;
  #localPublicKey: Uint8Array;
  #remotePublicKey: Uint8Array | null;
  /** The handshake itself holds the tunnel: idle time counts from 'ready'. */
  #releaseHandshakeHold: () => void;
  #controlHandler: TunnelOptions['controlHandler'];
  #ignoredControl = 0;
  #closeGraceMs: number;
  #clock: IdleClock;
  #graceTimer: unknown = null;
  #reason: TunnelError | null = null;
  #ending = false;
  #isClosed = false;
  #resolveReady!: () => void;
  #rejectReady!: (err: TunnelError) => void;
  #resolveClosed!: () => void;

  constructor(socket: SecretStream, options: TunnelOptions) {
    super();
    this.direction = options.direction;
    this.#localPublicKey = new Uint8Array(options.localPublicKey);
    this.#socket = socket;
    this.#remotePublicKey = copyOrNull(socket.remotePublicKey);
    const maxFramePayload = options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD;
    this.#decoder = new FrameDecoder(maxFramePayload);
    this.#local = {
      minVersion: PROTOCOL_VERSION.min,
      maxVersion: PROTOCOL_VERSION.max,
      maxFramePayload,
    };
    this.#controlHandler = options.controlHandler;
    this.#closeGraceMs = options.closeGraceMs ?? CLOSE_GRACE_MS;
    this.#clock = options.clock ?? realClock;
    this.#idle = new IdleTimer(
      options.idleTimeoutMs,
      () => this.#closeGracefully(TunnelError.idle(options.idleTimeoutMs)),
      this.#clock,
    );
    this.#releaseHandshakeHold = this.#idle.hold();
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A connect that nobody awaits must not become an unhandled rejection.
    this.ready.catch(() => {});
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });

    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('message', (bytes) => this.#onMessage(bytes));
    socket.on('end', () => {
      // The peer finished sending; finish ours so the stream closes on both ends.
      this.#ending = true;
      socket.end();
    });
    socket.on('error', (err) => {
      this.#reason ??= mapSocketError(err, this.#peer !== null);
    });
    socket.on('close', () => this.#onClose());
    socket.on('open', () => {
      this.#remotePublicKey ??= copyOrNull(socket.remotePublicKey);
    });

    // Our hello goes first; streamx queues it until the handshake completes.
    this.#write(FrameType.Control, encodeHello(this.#local));
  }

  /** The peer's key as the Noise IK handshake authenticated it (a copy). */
  get remotePublicKey(): Uint8Array {
    return new Uint8Array(this.#remoteKey());
  }

  get remoteKeyHex(): string {
    return toHex(this.#remoteKey());
  }

  /** Our key on this connection (a copy). */
  get localPublicKey(): Uint8Array {
    return new Uint8Array(this.#localPublicKey);
  }

  /** The transport address the SIP core sees for this peer (src/sip/transport.ts). */
  get address(): TransportAddress {
    return { protocol: 'tunnel', host: this.remoteKeyHex, port: 0 };
  }

  /** Unique per Noise session and equal on both ends (channel binding for issue 4). */
  get handshakeHash(): Uint8Array | null {
    return copyOrNull(this.#socket.handshakeHash);
  }

  /** The negotiated protocol version; 0 before 'ready'. */
  get version(): number {
    return this.#version;
  }

  /** Ready and not closing: frames can be sent. */
  get isOpen(): boolean {
    return this.#peer !== null && !this.#ending && !this.#isClosed;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Why it closed (null: normal close, or still open). */
  get closeReason(): TunnelError | null {
    return this.#reason;
  }

  /** Extension control frames received that no handler here knows (skipped). */
  get ignoredControlFrames(): number {
    return this.#ignoredControl;
  }

  /** How many holders keep it from closing when idle. */
  get holders(): number {
    return this.#idle.holders;
  }

  /** Keeps the tunnel open while idle (a dialog holds its tunnel); call the result to release. */
  hold(): () => void {
    return this.#idle.hold();
  }

  /** Sends one SIP message (raw bytes). CLOSED if closing; FRAME_TOO_LARGE over the peer's limit. */
  sendSip(bytes: Uint8Array): void {
    this.#assertSendable();
    this.#write(FrameType.Sip, bytes);
  }

  /** Sends an extension control frame (kind 0x10–0xff) to the peer's handler of that kind. */
  sendControl(kind: number, body: Uint8Array): void {
    assertExtensionKind(kind);
    this.#assertSendable();
    this.#write(FrameType.Control, encodeControl(kind, body));
  }

  /**
   * Sends one media datagram (unreliable, unordered, encrypted; issue 5).
   * Dropped silently by the network under loss; never blocks.
   */
  sendDatagram(channel: number, bytes: Uint8Array): void {
    this.#assertSendable();
    const datagram = encodeDatagram(channel, bytes);
    this.#idle.touch();
    this.#socket.trySend(datagram);
  }

  /**
   * True once every frame sent so far has been acknowledged by the peer's
   * transport (UDX), false if that has not happened within `timeoutMs` or the
   * tunnel closes first. A peer that crashed leaves our side looking open until
   * the dead-peer timeout (20 s by default); a sender learns it here instead.
   */
  delivered(timeoutMs: number): Promise<boolean> {
    if (this.#isClosed) return Promise.resolve(false);
    const flushed = this.#socket.flush ? this.#socket.flush() : Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(false), timeoutMs);
      const settle = (ok: boolean) => {
        this.#clock.clearTimeout(timer);
        resolve(ok);
      };
      flushed.then(
        (ok) => settle(ok === true),
        () => settle(false),
      );
    });
  }

  /** Graceful close: pending frames are flushed; resolves once closed. */
  close(): Promise<void> {
    this.#closeGracefully(null);
    return this.closed;
  }

  /** Immediate close with a reason (protocol violations, endpoint shutdown). */
  destroy(reason: TunnelError | null = null): void {
    if (this.#isClosed) return;
    if (reason) this.#reason ??= reason;
    this.#socket.destroy();
  }

  #remoteKey(): Uint8Array {
    if (this.#remotePublicKey === null) throw TunnelError.closed('tunnel (not yet open)');
    return this.#remotePublicKey;
  }

  #assertSendable(): void {
    if (this.#ending || this.#isClosed) throw TunnelError.closed();
    if (this.#peer === null) throw TunnelError.closed('tunnel (hello not finished)');
  }

  #write(type: FrameType, payload: Uint8Array): void {
    const limit = Math.min(this.#local.maxFramePayload, this.#peer?.maxFramePayload ?? Infinity);
    const frame = encodeFrame(type, payload, limit);
    this.#idle.touch();
    this.#socket.write(frame);
  }

  #closeGracefully(reason: TunnelError | null): void {
    if (this.#isClosed || this.#ending) return;
    this.#ending = true;
    if (reason) this.#reason ??= reason;
    this.#idle.stop();
    this.#socket.end();
    this.#graceTimer = this.#clock.setTimeout(() => {
      this.#graceTimer = null;
      this.#socket.destroy();
    }, this.#closeGraceMs);
  }

  #onData(chunk: Uint8Array): void {
    if (this.#isClosed) return;
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.destroy(err as TunnelError);
      return;
    }
    for (const frame of frames) {
      if (this.#isClosed || this.#socket.destroying) return;
      this.#idle.touch();
      try {
        this.#onFrame(frame);
      } catch (err) {
        this.destroy(
          err instanceof TunnelError
            ? err
            : new TunnelError(TunnelErrorCode.Closed, `a tunnel listener threw: ${String(err)}`, {
                cause: err,
              }),
        );
        return;
      }
    }
  }

  #onFrame(frame: Frame): void {
    if (frame.type === FrameType.Control) {
      this.#onControl(frame.payload);
      return;
    }
    if (this.#peer === null) throw TunnelError.protocol('SIP frame before hello');
    this.emit('sip', frame.payload, this);
  }

  #onControl(payload: Uint8Array): void {
    const { kind, body } = decodeControl(payload);
    if (kind === ControlKind.Hello) {
      if (this.#peer !== null) throw TunnelError.protocol('second hello');
      const peer = decodeHelloBody(body);
      this.#version = negotiateVersion(this.#local, peer);
      this.#peer = peer;
      this.#remotePublicKey ??= copyOrNull(this.#socket.remotePublicKey);
      this.#releaseHandshakeHold();
      this.emit('ready');
      this.#resolveReady();
      return;
    }
    if (this.#peer === null) throw TunnelError.protocol('control frame before hello');
    if (kind < FIRST_EXTENSION_CONTROL_KIND)
      throw TunnelError.protocol(`unknown control kind 0x${kind.toString(16)}`);
    // An extension kind nobody here handles (a newer peer's feature) is
    // skipped, not fatal: the tunnel and any call on it stay up.
    const handler = this.#controlHandler?.(kind);
    if (!handler) {
      this.#ignoredControl++;
      return;
    }
    handler(body, this);
  }

  #onMessage(bytes: Uint8Array): void {
    if (this.#peer === null || this.#isClosed) return;
    const datagram = decodeDatagram(bytes);
    if (datagram === null) return;
    this.#idle.touch();
    this.emit('datagram', datagram.channel, datagram.payload, this);
  }

  #onClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#ending = true;
    this.#idle.stop();
    if (this.#graceTimer !== null) {
      this.#clock.clearTimeout(this.#graceTimer);
      this.#graceTimer = null;
    }
    if (this.#peer === null) this.#rejectReady(this.#reason ?? TunnelError.closed());
    this.emit('close', this.#reason, this);
    this.#resolveClosed();
  }
}
