/**
 * One relayed media stream (one `m=` line) on one node: the UDP sockets our
 * softphone sends to, the channel ids we receive on from the peer node, the
 * peer's channel ids we send to, and where our softphone wants its packets.
 *
 *   softphone ──UDP──▶ rtp/rtcp socket ──datagram(send.rtp|rtcp)──▶ peer node
 *   softphone ◀──UDP── rtp/rtcp socket ◀──datagram(recv.rtp|rtcp)── peer node
 *
 * Symmetric RTP (RFC 4961 style latching): the SDP says where the softphone
 * receives; the first packet the softphone sends to a socket, if it comes
 * from an expected host (loopback, the SDP's own address, or what the node
 * allows), fixes the destination to that packet's source. After that only
 * that source is accepted. A new SDP target re-opens latching.
 */
import type { Socket } from 'node:dgram';
import { MAX_DATAGRAM_PAYLOAD } from '../tunnel/frame.js';
import { isLoopback, reachable, type UdpFamily } from './udp.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** Where our softphone receives: an address, 'hold' (c=0.0.0.0: send it nothing) or null (not known yet). */
export type Destination = Endpoint | 'hold' | null;

export interface StreamTarget {
  readonly rtp: Destination;
  readonly rtcp: Destination;
}

export interface ChannelPair {
  readonly rtp: number;
  readonly rtcp: number;
}

export type PacketKind = 'rtp' | 'rtcp';

/** Why a packet was not relayed (counted in MediaRelay.stats().dropped). */
export type DropReason =
  /** From the softphone side: a source that is not the expected host, or not the latched one. */
  | 'foreignSource'
  /** From the softphone: the peer node's channels are not known yet (no answer yet). */
  | 'noPeerChannel'
  /** From the softphone: larger than a tunnel datagram can carry (MAX_DATAGRAM_PAYLOAD). */
  | 'tooLarge'
  /** From the softphone: the link threw (no open tunnel). */
  | 'linkDown'
  /** From the tunnel: our softphone's address is unknown or it is on hold. */
  | 'noTarget'
  /** From the tunnel: the softphone's address is of the other IP family than the relay host. */
  | 'unroutable'
  /** From the tunnel: the datagram came from another peer than the session's. */
  | 'wrongPeer'
  /** From the tunnel: no stream receives on that channel. */
  | 'unknownChannel'
  /** A UDP send to the softphone failed. */
  | 'sendError';

export interface StreamCounters {
  fromSoftphone: number;
  toTunnel: number;
  fromTunnel: number;
  toSoftphone: number;
}

/** What a stream needs from its session and relay. */
export interface StreamContext {
  readonly family: UdpFamily;
  sendToPeer(channel: number, bytes: Uint8Array): boolean;
  touch(): void;
  drop(reason: DropReason): void;
  allowSource(address: string): boolean;
  /** A socket the stream no longer uses (mux agreed, or the stream closed). */
  retire(socket: Socket): Promise<void>;
}

function sameDestination(a: Destination, b: Destination): boolean {
  if (a === null || b === null || a === 'hold' || b === 'hold') return a === b;
  return a.address === b.address && a.port === b.port;
}

export class RelayStream {
  readonly index: number;
  /** Our channel ids: the peer node sends this stream's packets to them. */
  readonly recv: ChannelPair;
  readonly counters: StreamCounters = {
    fromSoftphone: 0,
    toTunnel: 0,
    fromTunnel: 0,
    toSoftphone: 0,
  };
  #ctx: StreamContext;
  #rtp: Socket;
  #rtcp: Socket | null;
  #send: ChannelPair | null = null;
  #sdp: StreamTarget = { rtp: null, rtcp: null };
  #latched: { rtp: Endpoint | null; rtcp: Endpoint | null } = { rtp: null, rtcp: null };
  #mux = false;
  #closed = false;

  constructor(ctx: StreamContext, index: number, recv: ChannelPair, rtp: Socket, rtcp: Socket) {
    this.#ctx = ctx;
    this.index = index;
    this.recv = recv;
    this.#rtp = rtp;
    this.#rtcp = rtcp;
    this.#listen(rtp, 'rtp');
    this.#listen(rtcp, 'rtcp');
  }

  /** The port our softphone sends RTP to (and, with rtcp-mux, RTCP too). */
  get rtpPort(): number {
    return this.#rtp.address().port;
  }

  /** The port our softphone sends RTCP to; with rtcp-mux in use, the RTP port. */
  get rtcpPort(): number {
    return this.#rtcp ? this.#rtcp.address().port : this.rtpPort;
  }

  get mux(): boolean {
    return this.#mux;
  }

  /** The peer node's channel ids for this stream; null until its SDP named them. */
  get send(): ChannelPair | null {
    return this.#send;
  }

  /** Where the SDP says our softphone receives. */
  get target(): StreamTarget {
    return this.#sdp;
  }

  /** Where packets from the tunnel go now (latched source, else the SDP's address). */
  destination(kind: PacketKind): Destination {
    const k = kind === 'rtcp' && !this.#mux && this.#rtcp ? 'rtcp' : 'rtp';
    const sdp = this.#sdp[k];
    if (sdp === 'hold') return 'hold';
    return this.#latched[k] ?? sdp;
  }

  get sockets(): number {
    return this.#closed ? 0 : this.#rtcp ? 2 : 1;
  }

  /** Sets where our softphone receives (from its SDP). Unchanged → latching is kept. */
  setTarget(target: StreamTarget): void {
    if (
      sameDestination(target.rtp, this.#sdp.rtp) &&
      sameDestination(target.rtcp, this.#sdp.rtcp)
    ) {
      return;
    }
    this.#sdp = target;
    this.#latched = { rtp: null, rtcp: null };
  }

  setSend(channels: ChannelPair | null): void {
    this.#send = channels;
  }

  /**
   * rtcp-mux agreed (RFC 5761): RTCP shares the RTP socket and the RTCP
   * socket is closed. Turning it off again needs a socket: {@link needsRtcpSocket}.
   */
  setMux(on: boolean): void {
    this.#mux = on;
    if (on && this.#rtcp) {
      const socket = this.#rtcp;
      this.#rtcp = null;
      void this.#ctx.retire(socket);
    }
  }

  get needsRtcpSocket(): boolean {
    return !this.#closed && this.#rtcp === null;
  }

  /** Gives the stream an RTCP socket again (a later offer without rtcp-mux). */
  adoptRtcpSocket(socket: Socket): void {
    if (this.#closed || this.#rtcp) {
      void this.#ctx.retire(socket);
      return;
    }
    this.#rtcp = socket;
    this.#mux = false;
    this.#latched.rtcp = null;
    this.#listen(socket, 'rtcp');
  }

  /** A datagram from the peer node on one of our channels. */
  deliver(kind: PacketKind, bytes: Uint8Array): void {
    if (this.#closed) return;
    this.counters.fromTunnel++;
    this.#ctx.touch();
    const dest = this.destination(kind);
    if (dest === null || dest === 'hold') {
      this.#ctx.drop('noTarget');
      return;
    }
    if (!reachable(this.#ctx.family, dest.address)) {
      this.#ctx.drop('unroutable');
      return;
    }
    const socket = kind === 'rtcp' && !this.#mux && this.#rtcp ? this.#rtcp : this.#rtp;
    this.counters.toSoftphone++;
    socket.send(bytes, dest.port, dest.address, (err) => {
      if (err) this.#ctx.drop('sendError');
    });
  }

  /** Closes both sockets; resolves once they are closed. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const sockets = [this.#rtp, this.#rtcp].filter((s): s is Socket => s !== null);
    this.#rtcp = null;
    return Promise.all(sockets.map((s) => this.#ctx.retire(s))).then(() => {});
  }

  #listen(socket: Socket, kind: PacketKind): void {
    socket.on('message', (msg, rinfo) => this.#fromSoftphone(kind, msg, rinfo.address, rinfo.port));
    // ICMP errors and the like: one lost packet, never a crash.
    socket.on('error', () => this.#ctx.drop('sendError'));
  }

  #fromSoftphone(socketKind: PacketKind, msg: Uint8Array, address: string, port: number): void {
    if (this.#closed) return;
    // With rtcp-mux, RTCP arrives on the RTP socket and travels on the RTP channel.
    const kind: PacketKind = this.#mux ? 'rtp' : socketKind;
    if (!this.#accept(kind, address, port)) {
      this.#ctx.drop('foreignSource');
      return;
    }
    this.counters.fromSoftphone++;
    this.#ctx.touch();
    if (msg.length > MAX_DATAGRAM_PAYLOAD) {
      this.#ctx.drop('tooLarge');
      return;
    }
    if (this.#send === null) {
      this.#ctx.drop('noPeerChannel');
      return;
    }
    const channel = socketKind === 'rtcp' && !this.#mux ? this.#send.rtcp : this.#send.rtp;
    if (this.#ctx.sendToPeer(channel, msg)) this.counters.toTunnel++;
  }

  /** Latching: the first packet from an expected host fixes the destination; then only that source. */
  #accept(kind: PacketKind, address: string, port: number): boolean {
    const latched = this.#latched[kind];
    if (latched) return latched.address === address && latched.port === port;
    const expected = (d: Destination) => d !== null && d !== 'hold' && d.address === address;
    if (
      !isLoopback(address) &&
      !expected(this.#sdp.rtp) &&
      !expected(this.#sdp.rtcp) &&
      !this.#ctx.allowSource(address)
    ) {
      return false;
    }
    this.#latched[kind] = { address, port };
    return true;
  }
}
