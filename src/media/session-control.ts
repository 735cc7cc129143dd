/**
 * Offer/answer glue between the proxy and the relay (RFC 3264, RFC 6337):
 * for each SDP body the proxy forwards, it says which side sent it and
 * whether it is an offer or an answer, and gets back the body to forward to
 * the other side. Sides are as the proxy sees them: 'local' = our softphone,
 * 'tunnel' = the peer node.
 *
 * What goes out:
 * - to the tunnel: every relayed stream points at our relay socket (the peer
 *   node never learns our softphone's address) and carries
 *   `a=x-p2psip-channel:<rtp> <rtcp>`, the channel ids we receive it on; ICE
 *   lines are removed (candidates would name the softphone's addresses and
 *   invite it to bypass the relay); `o=` names the relay host.
 * - to our softphone: every relayed stream points at our relay socket; the
 *   channel attribute (the peer's ids, which we send to) is removed.
 * - port 0 stays 0; a stream we cannot relay (TCP, several ports, over
 *   maxStreamsPerSession, no channel from the peer) goes out with port 0,
 *   i.e. declined, never direct and never in clear between the nodes.
 * - `c=0.0.0.0` (RFC 2543 hold) and the direction attributes pass as they
 *   are; the relay sends nothing to a softphone that said 0.0.0.0.
 *
 * When (docs/media.md has the table for each SIP message):
 *   onOffer(side, sdp)   INVITE/UPDATE/PRACK with an offer, 2xx/18x with a late offer
 *   onAnswer(side, sdp)  18x/2xx/ACK/PRACK/UPDATE-2xx with the answer; the same
 *                        answer again (183 then 200) gives the same result
 *   onOfferRejected()    the request carrying a re-offer failed (488, 491, …)
 *   close()              BYE, CANCEL, final failure of the initial INVITE
 * Calls are serialised per dialog; each resolves with the bytes to forward.
 * Errors: SdpError (→ 400/488/513 via mediaResponseFor) and MediaError.
 */
import {
  bytesToBinary,
  isIp4,
  isIp6,
  isUnspecifiedAddress,
  parseSdp,
  removeAttributes,
  rewriteSdp,
  type Sdp,
  SdpError,
  type StreamRewrite,
  type StreamView,
  serializeSdp,
  setMediaAttribute,
  setOriginAddress,
  streams,
} from '../sdp/index.js';
import { attributeValues } from '../sdp/model.js';
import { MediaError } from './errors.js';
import type { MediaLink } from './link.js';
import type { MediaRelay, RelaySession } from './relay.js';
import type { ChannelPair, RelayStream, StreamTarget } from './stream.js';

export type MediaSide = 'local' | 'tunnel';

/** The private attribute that carries a node's receive channel ids to the peer node. */
export const CHANNEL_ATTRIBUTE = 'x-p2psip-channel';

/** ICE lines (RFC 8839) removed before SDP reaches the tunnel. */
const ICE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'candidate',
  'remote-candidates',
  'end-of-candidates',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-lite',
  'ice-mismatch',
  'ice-pacing',
]);

/** Transport protocols whose packets are datagrams we can relay: RTP/AVP, UDP/TLS/RTP/SAVPF, udptl, … */
const DATAGRAM_PROTOS: ReadonlySet<string> = new Set(['RTP', 'UDP', 'UDPTL']);

/** True if the body is SDP (`Content-Type: application/sdp`, parameters ignored). */
export function isSdpContentType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/sdp';
}

/** The key the proxy uses for a call's media: Call-ID and the From tag of the initial INVITE. */
export function mediaKey(callId: string, callerTag: string): string {
  return `${callId}\n${callerTag}`;
}

/** Parses `a=x-p2psip-channel:<rtp> <rtcp>`; null when the stream has none. */
export function readChannels(sdp: Sdp, index: number): ChannelPair | null {
  const values = attributeValues(sdp.media[index]?.lines ?? [], CHANNEL_ATTRIBUTE);
  if (values.length === 0) return null;
  const m = /^([0-9]{1,5}) ([0-9]{1,5})$/.exec(values[0] ?? '');
  const rtp = Number(m?.[1]);
  const rtcp = Number(m?.[2]);
  if (!m || values.length > 1 || rtp > 0xffff || rtcp > 0xffff || rtp === rtcp) {
    throw SdpError.badAttribute(`${CHANNEL_ATTRIBUTE}:${values.join(',')}`);
  }
  return { rtp, rtcp };
}

function relayable(v: StreamView, max: number): boolean {
  const first = v.media.proto.split('/')[0]?.toUpperCase() ?? '';
  return DATAGRAM_PROTOS.has(first) && v.media.portCount === undefined && v.index < max;
}

function onHold(v: StreamView): boolean {
  return v.connection !== undefined && isUnspecifiedAddress(v.connection.address);
}

/** Where the softphone that wrote this stream receives RTP and RTCP. */
function targetOf(v: StreamView): StreamTarget {
  const c = v.connection;
  if (!c) throw SdpError.missingConnection(v.index);
  if (onHold(v)) return { rtp: 'hold', rtcp: 'hold' };
  const ip = (a: string) => isIp4(a) || isIp6(a);
  const rtp = ip(c.address) ? { address: c.address, port: v.media.port } : null;
  const rtcpAddress = v.rtcp?.connection?.address ?? c.address;
  const rtcpPort = v.rtcp?.port ?? v.media.port + 1;
  const rtcp =
    ip(rtcpAddress) && rtcpPort <= 0xffff ? { address: rtcpAddress, port: rtcpPort } : null;
  return { rtp, rtcp };
}

interface Snapshot {
  target: StreamTarget;
  send: ChannelPair | null;
  mux: boolean;
}

/** One offer, as far as the answer to it needs to know. */
interface OfferContext {
  readonly from: MediaSide;
  readonly count: number;
  /** Streams rewritten to the relay in the offer we forwarded. */
  readonly relayed: Set<number>;
  /** Streams that offered rtcp-mux. */
  readonly muxOffered: Set<number>;
  /** Streams this offer created (released if it is rejected). */
  readonly created: Set<number>;
  /** State of the streams that existed before, for a rejected offer. */
  readonly saved: Map<number, Snapshot>;
}

/** The media of one dialog: its relay session and where offer/answer stands. */
export class MediaDialog {
  readonly key: string;
  readonly session: RelaySession;
  #relay: MediaRelay;
  #pending: OfferContext | null = null;
  #answered: { offer: OfferContext; from: MediaSide; input: string; output: Uint8Array } | null =
    null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(relay: MediaRelay, key: string, link: MediaLink) {
    this.key = key;
    this.#relay = relay;
    this.session = relay.open(key, link);
  }

  get isClosed(): boolean {
    return this.session.isClosed;
  }

  /** An offer from `from`; resolves with the body to forward to the other side. */
  onOffer(from: MediaSide, body: Uint8Array): Promise<Uint8Array> {
    return this.#serial(() => this.#offer(from, body));
  }

  /** The answer from `from` to the pending offer (or the same answer again). */
  onAnswer(from: MediaSide, body: Uint8Array): Promise<Uint8Array> {
    return this.#serial(() => this.#answer(from, body));
  }

  /**
   * The pending offer failed (a re-INVITE or UPDATE got 488/491/…): streams
   * it created are released and the others get their old state back. If no
   * offer was ever answered (the initial INVITE failed), the dialog closes.
   */
  onOfferRejected(): Promise<void> {
    return this.#serial(async () => {
      if (!this.#answered) {
        this.#pending = null;
        await this.session.close();
        return;
      }
      await this.#rollback();
    });
  }

  /** Releases everything (BYE, CANCEL, failure). */
  close(): Promise<void> {
    this.#pending = null;
    return this.session.close();
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.session.isClosed) throw MediaError.closed('media session');
      this.session.touch();
      return op();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async #offer(from: MediaSide, body: Uint8Array): Promise<Uint8Array> {
    const sdp = parseSdp(body);
    // Everything that can be wrong with the SDP is found before anything changes.
    const max = this.#relay.maxStreamsPerSession;
    const plan: { v: StreamView; channels: ChannelPair | null; target: StreamTarget | null }[] = [];
    for (const v of streams(sdp)) {
      if (v.media.port === 0) continue;
      const channels = from === 'tunnel' ? readChannels(sdp, v.index) : null;
      if (!relayable(v, max) || (from === 'tunnel' && channels === null)) continue;
      plan.push({ v, channels, target: from === 'local' ? targetOf(v) : null });
    }
    // A new offer supersedes one still pending (glare is the endpoints' to settle with 491).
    if (this.#pending) await this.#rollback();
    const ctx: OfferContext = {
      from,
      count: sdp.media.length,
      relayed: new Set(),
      muxOffered: new Set(),
      created: new Set(),
      saved: new Map(),
    };
    this.#pending = ctx;
    try {
      for (const { v, channels, target } of plan) {
        const existing = this.session.stream(v.index);
        if (existing) {
          ctx.saved.set(v.index, {
            target: existing.target,
            send: existing.send,
            mux: existing.mux,
          });
        }
        const stream = await this.session.ensureStream(v.index);
        if (!existing) ctx.created.add(v.index);
        // Every offer gets a real RTCP port, even one offering rtcp-mux: the answer
        // may decline mux, and our softphone must then have somewhere to send RTCP.
        // The answer closes it again if mux is agreed.
        await this.session.reopenRtcp(stream);
        // RFC 3264 §8: the offerer must be ready to receive on what it offers, so
        // its side takes effect now; the answerer's side waits for the answer.
        if (target) stream.setTarget(target);
        if (channels) stream.setSend(channels);
        ctx.relayed.add(v.index);
        if (v.rtcpMux) ctx.muxOffered.add(v.index);
      }
    } catch (err) {
      // No ports, or closed meanwhile: undo this offer, the proxy answers 5xx.
      await this.#rollback();
      throw err;
    }
    return this.#forward(sdp, from, ctx.relayed);
  }

  async #answer(from: MediaSide, body: Uint8Array): Promise<Uint8Array> {
    let offer = this.#pending;
    const input = bytesToBinary(body);
    if (!offer) {
      const last = this.#answered;
      if (!last || last.from !== from) throw SdpError.offerAnswer('an answer without an offer');
      // The same answer again (reliable 183, then 200): same result, no change.
      if (last.input === input) return last.output;
      offer = last.offer; // e.g. a 200 from another fork than the 183: it wins
    }
    if (offer.from === from) {
      throw SdpError.offerAnswer('an answer from the side that made the offer');
    }
    const sdp = parseSdp(body);
    if (sdp.media.length !== offer.count) {
      throw SdpError.offerAnswer(
        `the answer has ${sdp.media.length} media streams, the offer had ${offer.count} (RFC 3264 §6)`,
      );
    }
    const plan: {
      v: StreamView;
      stream: RelayStream;
      channels: ChannelPair | null;
      target: StreamTarget | null;
    }[] = [];
    for (const v of streams(sdp)) {
      const stream = this.session.stream(v.index);
      if (v.media.port === 0 || !offer.relayed.has(v.index) || !stream) continue;
      const channels = from === 'tunnel' ? readChannels(sdp, v.index) : null;
      if (from === 'tunnel' && channels === null) continue;
      plan.push({ v, stream, channels, target: from === 'local' ? targetOf(v) : null });
    }
    const kept = new Set<number>();
    for (const { v, stream, channels, target } of plan) {
      if (target) stream.setTarget(target);
      if (channels) stream.setSend(channels);
      // RFC 5761, RFC 8035: rtcp-mux is in use when the offer had it and the answer repeats it.
      const mux = v.rtcpMux && offer.muxOffered.has(v.index);
      if (!mux) await this.session.reopenRtcp(stream);
      stream.setMux(mux);
      kept.add(v.index);
    }
    this.#pending = null;
    for (const s of this.session.streams) {
      if (!kept.has(s.index)) await this.session.releaseStream(s.index);
    }
    const output = this.#forward(sdp, from, kept);
    this.#answered = { offer, from, input, output };
    return output;
  }

  async #rollback(): Promise<void> {
    const ctx = this.#pending;
    this.#pending = null;
    if (!ctx) return;
    for (const index of ctx.created) await this.session.releaseStream(index);
    for (const [index, snap] of ctx.saved) {
      const stream = this.session.stream(index);
      if (!stream) continue;
      stream.setTarget(snap.target);
      stream.setSend(snap.send);
      if (snap.mux) stream.setMux(true);
    }
  }

  /** The body for the other side: relayed streams point at our sockets; the rest are declined. */
  #forward(sdp: Sdp, from: MediaSide, relayed: ReadonlySet<number>): Uint8Array {
    const address = { addrType: this.#relay.addrType, address: this.#relay.host };
    let out = rewriteSdp(sdp, (v): StreamRewrite => {
      const stream = this.session.stream(v.index);
      if (!relayed.has(v.index) || !stream) return { port: 0 };
      const ownRtcp = v.rtcp !== undefined;
      // An offer with a=rtcp on the RTP port means "mux only" (RFC 8858): keep that shape.
      const rtcpPort =
        stream.mux || v.rtcp?.port === v.media.port ? stream.rtpPort : stream.rtcpPort;
      return {
        ...(onHold(v) ? {} : { address }),
        port: stream.rtpPort,
        ...(stream.mux && !ownRtcp ? {} : { rtcpPort }),
      };
    });
    out = removeAttributes(
      out,
      (name) => ICE_ATTRIBUTES.has(name) || (from === 'tunnel' && name === CHANNEL_ATTRIBUTE),
    );
    if (from === 'local') {
      for (const v of streams(out)) {
        const stream = this.session.stream(v.index);
        const value =
          relayed.has(v.index) && stream ? `${stream.recv.rtp} ${stream.recv.rtcp}` : null;
        out = setMediaAttribute(out, v.index, CHANNEL_ATTRIBUTE, value);
      }
    }
    return serializeSdp(setOriginAddress(out, address));
  }
}

/** The media dialogs of a node, by key (see {@link mediaKey}). */
export class MediaControl {
  readonly relay: MediaRelay;
  #dialogs = new Map<string, MediaDialog>();

  constructor(relay: MediaRelay) {
    this.relay = relay;
  }

  get size(): number {
    return this.#dialogs.size;
  }

  /** The dialog's media, created on first use (a closed one is replaced). */
  dialog(key: string, link: MediaLink): MediaDialog {
    const existing = this.get(key);
    if (existing) return existing;
    const dialog = new MediaDialog(this.relay, key, link);
    this.#dialogs.set(key, dialog);
    dialog.session.once('close', () => {
      if (this.#dialogs.get(key) === dialog) this.#dialogs.delete(key);
    });
    return dialog;
  }

  /** The open dialog for `key`, if any. */
  get(key: string): MediaDialog | undefined {
    const d = this.#dialogs.get(key);
    if (d?.isClosed) {
      this.#dialogs.delete(key);
      return undefined;
    }
    return d;
  }

  /** The open dialog for a Call-ID and either of the dialog's tags (whichever was the caller's). */
  find(callId: string, tags: readonly (string | undefined)[]): MediaDialog | undefined {
    for (const tag of tags) {
      const d = tag === undefined ? undefined : this.get(mediaKey(callId, tag));
      if (d) return d;
    }
    return undefined;
  }

  /** Releases the dialog's media (BYE, CANCEL, failure); no-op if unknown. */
  async close(key: string): Promise<void> {
    const d = this.#dialogs.get(key);
    this.#dialogs.delete(key);
    await d?.close();
  }
}
