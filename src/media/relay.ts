/**
 * The node's media relay (issue 5). One {@link RelaySession} per call (the
 * proxy keys it by dialog), one {@link RelayStream} per relayed `m=` line.
 * Our softphone sends RTP/RTCP to the stream's UDP sockets on the node's SIP
 * host; the relay puts each packet, unchanged, into the tunnel as one
 * datagram on the channel the peer node asked for; datagrams from the tunnel
 * on our channels go out of the same sockets to our softphone.
 *
 * Why datagrams (docs/media.md): the tunnel's datagrams are unreliable and
 * unordered over UDX, like the RTP they carry — a lost packet costs one
 * packet, never a stall of everything behind it (head-of-line blocking on
 * the reliable stream would turn loss into latency).
 *
 * Lifecycle: `open()` on the first offer; streams added by offers and
 * released by answers that reject them; the session closes on BYE, CANCEL or
 * failure (the proxy calls close), or on its own after `idleTimeoutMs` with
 * no media and no signalling. Close releases sockets, channel ids and the
 * timer; `stats()` counts what is open, for leak tests.
 */
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { type IdleClock, IdleTimer, realClock } from '../tunnel/idle.js';
import { ChannelAllocator } from './channels.js';
import { MediaError } from './errors.js';
import type { DatagramSink, MediaLink } from './link.js';
import {
  type DropReason,
  type PacketKind,
  RelayStream,
  type StreamContext,
  type StreamCounters,
} from './stream.js';
import { bindPair, bindSocket, familyOf, type UdpFamily } from './udp.js';

export interface MediaRelayOptions {
  /** Where our softphones reach us: the node's SIP host (127.0.0.1 in tests). An IP address. */
  host: string;
  /** A session with no media and no signalling for this long closes itself. Default 180 s; 0 = never. */
  idleTimeoutMs?: number;
  /** Most open sessions. Default 1,000. */
  maxSessions?: number;
  /** Most relayed streams per session. Default 8. */
  maxStreamsPerSession?: number;
  /** Extra source addresses our softphones may send media from (loopback and their SDP address always may). */
  allowSource?: (address: string) => boolean;
  /** Timers (tests). */
  clock?: IdleClock;
  /** First channel pair tried (tests); default random. */
  channelStart?: number;
}

export interface RelayStats {
  sessions: number;
  streams: number;
  /** UDP sockets not yet closed. */
  sockets: number;
  /** Receive channel ids in use. */
  channels: number;
  /** Idle timers running (one per open session). */
  timers: number;
  packets: StreamCounters;
  dropped: Record<DropReason, number>;
}

export interface RelaySessionEvents {
  /** Once, with why: 'closed' (by the caller), 'idle', 'relay-closed'. */
  close: [reason: string];
}

const DEFAULTS = { idleTimeoutMs: 180_000, maxSessions: 1_000, maxStreamsPerSession: 8 } as const;

function zeroDrops(): Record<DropReason, number> {
  return {
    foreignSource: 0,
    noPeerChannel: 0,
    tooLarge: 0,
    linkDown: 0,
    noTarget: 0,
    unroutable: 0,
    wrongPeer: 0,
    unknownChannel: 0,
    sendError: 0,
  };
}

/** What a session needs from its relay (kept narrow so the two stay readable). */
interface RelayInternals {
  readonly host: string;
  readonly family: UdpFamily;
  readonly maxStreamsPerSession: number;
  readonly clock: IdleClock;
  readonly idleTimeoutMs: number;
  allocateChannels(
    session: RelaySession,
    stream: () => RelayStream | undefined,
  ): { rtp: number; rtcp: number };
  releaseChannels(rtp: number): void;
  track(socket: Socket): void;
  retire(socket: Socket): Promise<void>;
  drop(reason: DropReason): void;
  allowSource(address: string): boolean;
  timerStarted(): void;
  timerStopped(): void;
  forget(session: RelaySession): void;
}

export class RelaySession extends EventEmitter<RelaySessionEvents> {
  readonly key: string;
  /** Resolves once the session is closed and all its sockets are. */
  readonly closed: Promise<void>;
  #relay: RelayInternals;
  #link: MediaLink;
  #streams = new Map<number, RelayStream>();
  #binding = new Map<number, Promise<RelayStream>>();
  #idle: IdleTimer;
  #isClosed = false;
  #resolveClosed!: () => void;

  /** @internal Use MediaRelay.open(). */
  constructor(relay: RelayInternals, key: string, link: MediaLink) {
    super();
    this.key = key;
    this.#relay = relay;
    this.#link = link;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#idle = new IdleTimer(relay.idleTimeoutMs, () => this.#close('idle'), relay.clock);
    relay.timerStarted();
  }

  get link(): MediaLink {
    return this.#link;
  }

  /** Switches to another link (the dialog moved to a new tunnel, e.g. after a re-dial). */
  setLink(link: MediaLink): void {
    this.#link = link;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  stream(index: number): RelayStream | undefined {
    return this.#streams.get(index);
  }

  get streams(): RelayStream[] {
    return [...this.#streams.values()];
  }

  /** Records activity (signalling also counts, so a long ring or hold does not time out). */
  touch(): void {
    this.#idle.touch();
  }

  /**
   * The stream for `m=` line `index`, created on first use: a socket pair on
   * the relay host and a channel pair. MEDIA_CLOSED if the session closes
   * meanwhile, MEDIA_EXHAUSTED past maxStreamsPerSession, MEDIA_NO_PORTS.
   */
  async ensureStream(index: number): Promise<RelayStream> {
    if (this.#isClosed) throw MediaError.closed('media session');
    const existing = this.#streams.get(index) ?? this.#binding.get(index);
    if (existing) return existing;
    if (!Number.isInteger(index) || index < 0 || index >= this.#relay.maxStreamsPerSession) {
      throw MediaError.exhausted(`media streams per session (${this.#relay.maxStreamsPerSession})`);
    }
    const binding = this.#bind(index);
    this.#binding.set(index, binding);
    try {
      return await binding;
    } finally {
      this.#binding.delete(index);
    }
  }

  /** Gives a stream whose RTCP socket was closed by rtcp-mux a new one. */
  async reopenRtcp(stream: RelayStream): Promise<void> {
    if (!stream.needsRtcpSocket) return;
    const socket = await bindSocket(this.#relay.family, this.#relay.host, 0);
    this.#relay.track(socket);
    stream.adoptRtcpSocket(socket);
  }

  /** Closes stream `index` (its m= line was rejected) and frees its channels. */
  async releaseStream(index: number): Promise<void> {
    const stream = this.#streams.get(index);
    if (!stream) return;
    this.#streams.delete(index);
    this.#relay.releaseChannels(stream.recv.rtp);
    await stream.close();
  }

  /** Releases everything (BYE, CANCEL, failure). Idempotent; resolves once sockets are closed. */
  close(): Promise<void> {
    this.#close('closed');
    return this.closed;
  }

  /** @internal The relay is shutting down. */
  shutdown(): Promise<void> {
    this.#close('relay-closed');
    return this.closed;
  }

  async #bind(index: number): Promise<RelayStream> {
    let stream: RelayStream | undefined;
    const recv = this.#relay.allocateChannels(this, () => stream);
    let pair: Awaited<ReturnType<typeof bindPair>>;
    try {
      pair = await bindPair(this.#relay.family, this.#relay.host);
    } catch (err) {
      this.#relay.releaseChannels(recv.rtp);
      throw err;
    }
    this.#relay.track(pair.rtp);
    this.#relay.track(pair.rtcp);
    stream = new RelayStream(this.#context(), index, recv, pair.rtp, pair.rtcp);
    if (this.#isClosed) {
      this.#relay.releaseChannels(recv.rtp);
      await stream.close();
      throw MediaError.closed('media session');
    }
    this.#streams.set(index, stream);
    return stream;
  }

  #context(): StreamContext {
    const relay = this.#relay;
    return {
      family: relay.family,
      sendToPeer: (channel, bytes) => {
        try {
          this.#link.sendDatagram(channel, bytes);
          return true;
        } catch {
          relay.drop('linkDown');
          return false;
        }
      },
      touch: () => this.#idle.touch(),
      drop: (reason) => relay.drop(reason),
      allowSource: (address) => relay.allowSource(address),
      retire: (socket) => relay.retire(socket),
    };
  }

  #close(reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#idle.stop();
    this.#relay.timerStopped();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const s of streams) this.#relay.releaseChannels(s.recv.rtp);
    this.#relay.forget(this);
    // Streams still binding see #isClosed when their bind finishes and close themselves.
    const binding = [...this.#binding.values()].map((p) =>
      p.then(
        () => {},
        () => {},
      ),
    );
    void Promise.all([...streams.map((s) => s.close()), ...binding]).then(() => {
      this.emit('close', reason);
      this.#resolveClosed();
    });
  }
}

export class MediaRelay implements DatagramSink {
  readonly host: string;
  readonly family: UdpFamily;
  /** For `c=IN <addrType> <host>` in the SDP our softphones get. */
  readonly addrType: 'IP4' | 'IP6';
  readonly maxStreamsPerSession: number;
  #options: MediaRelayOptions;
  #sessions = new Map<string, RelaySession>();
  #channels = new Map<number, { stream: () => RelayStream | undefined; session: RelaySession }>();
  #allocator: ChannelAllocator;
  #sockets = new Set<Socket>();
  #retiring = new WeakSet<Socket>();
  #timers = 0;
  #dropped = zeroDrops();
  /** Counters of streams already closed (live streams add theirs in stats()). */
  #past: StreamCounters = { fromSoftphone: 0, toTunnel: 0, fromTunnel: 0, toSoftphone: 0 };
  #closing: Promise<void> | null = null;
  #internals: RelayInternals;

  constructor(options: MediaRelayOptions) {
    this.host = options.host;
    this.family = familyOf(options.host);
    this.addrType = this.family === 'udp6' ? 'IP6' : 'IP4';
    this.maxStreamsPerSession = options.maxStreamsPerSession ?? DEFAULTS.maxStreamsPerSession;
    this.#options = options;
    this.#allocator = new ChannelAllocator(options.channelStart);
    this.#internals = this.#makeInternals();
  }

  get isClosed(): boolean {
    return this.#closing !== null;
  }

  /**
   * A new session for `key` (the dialog), sending through `link`.
   * MEDIA_CLOSED after close(); MEDIA_EXHAUSTED at maxSessions; a key already
   * open is a caller bug (TypeError) — look it up with get().
   */
  open(key: string, link: MediaLink): RelaySession {
    if (this.#closing) throw MediaError.closed();
    if (this.#sessions.has(key)) throw new TypeError(`media session ${key} is already open`);
    const max = this.#options.maxSessions ?? DEFAULTS.maxSessions;
    if (this.#sessions.size >= max) throw MediaError.exhausted(`media sessions (${max})`);
    const session = new RelaySession(this.#internals, key, link);
    this.#sessions.set(key, session);
    return session;
  }

  get(key: string): RelaySession | undefined {
    return this.#sessions.get(key);
  }

  /**
   * A datagram from the tunnel. True if a stream took it; false (and counted)
   * if no stream receives on `channel` or it came from another peer.
   */
  deliver(channel: number, bytes: Uint8Array, peer: string): boolean {
    const entry = this.#channels.get(channel & ~1);
    const stream = entry?.stream();
    if (!entry || !stream) {
      this.#dropped.unknownChannel++;
      return false;
    }
    if (entry.session.link.peer !== peer) {
      this.#dropped.wrongPeer++;
      return false;
    }
    const kind: PacketKind = channel === stream.recv.rtp ? 'rtp' : 'rtcp';
    stream.deliver(kind, bytes);
    return true;
  }

  stats(): RelayStats {
    const packets = { ...this.#past };
    let streams = 0;
    for (const session of this.#sessions.values()) {
      for (const s of session.streams) {
        streams++;
        for (const k of Object.keys(packets) as (keyof StreamCounters)[])
          packets[k] += s.counters[k];
      }
    }
    return {
      sessions: this.#sessions.size,
      streams,
      sockets: this.#sockets.size,
      channels: this.#allocator.size * 2,
      timers: this.#timers,
      packets,
      dropped: { ...this.#dropped },
    };
  }

  /** Closes every session and socket; resolves once all sockets are closed. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#sessions.values()].map((s) => s.shutdown())).then(
      () => {},
    );
    return this.#closing;
  }

  #makeInternals(): RelayInternals {
    const options = this.#options;
    return {
      host: this.host,
      family: this.family,
      maxStreamsPerSession: this.maxStreamsPerSession,
      clock: options.clock ?? realClock,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      allocateChannels: (session, stream) => {
        const pair = this.#allocator.allocate();
        this.#channels.set(pair.rtp, { stream, session });
        return pair;
      },
      releaseChannels: (rtp) => {
        const entry = this.#channels.get(rtp);
        const s = entry?.stream();
        if (s)
          for (const k of Object.keys(this.#past) as (keyof StreamCounters)[])
            this.#past[k] += s.counters[k];
        this.#channels.delete(rtp);
        this.#allocator.release(rtp);
      },
      track: (socket) => {
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
      },
      retire: (socket) =>
        new Promise<void>((resolve) => {
          if (!this.#sockets.has(socket)) {
            resolve();
            return;
          }
          socket.once('close', () => resolve());
          // Closing twice throws (ERR_SOCKET_DGRAM_NOT_RUNNING); a second caller just waits.
          if (!this.#retiring.has(socket)) {
            this.#retiring.add(socket);
            socket.close();
          }
        }),
      drop: (reason) => {
        this.#dropped[reason]++;
      },
      allowSource: (address) => options.allowSource?.(address) ?? false,
      timerStarted: () => {
        this.#timers++;
      },
      timerStopped: () => {
        this.#timers--;
      },
      forget: (session) => {
        if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key);
      },
    };
  }
}
