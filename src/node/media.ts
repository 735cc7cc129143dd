/**
 * The proxy's MediaPort for a node (issue 5, docs/media.md "The interface
 * the proxy calls"): every SDP offer and answer that crosses between our
 * softphone and a peer node is rewritten so that RTP and RTCP go to our
 * relay, which carries them through the tunnel as datagrams. One
 * MediaDialog per call, keyed by Call-ID and the caller's From tag.
 *
 *   INVITE/UPDATE/PRACK with SDP      → offer      (re-offer in a dialog)
 *   18x/2xx with SDP to an offer      → answer
 *   2xx with SDP to an INVITE without → offer (late offer); its ACK → answer
 *   ≥ 300 to an offer                 → offer rejected (an initial one closes the call's media)
 *   BYE                               → close
 *
 * A message between two local softphones (no tunnel side) is left alone.
 * SDP inside multipart bodies is refused (488): forwarded unrewritten it
 * would leak the softphone's address and bypass the relay.
 */
import {
  attachDatagrams,
  type DatagramSource,
  isSdpContentType,
  MediaControl,
  type MediaDialog,
  type MediaLink,
  MediaRelay,
  type MediaSide,
  mediaKey,
  mediaResponseFor,
  type RelayStats,
} from '../media/index.js';
import type { MediaPort, Rejection } from '../proxy/ports.js';
import type { Side } from '../proxy/routing.js';
import { getCallId, getFrom, getTo } from '../sip/message/index.js';
import type { SipRequest, SipResponse } from '../sip/message/message.js';
import type { LogFn } from './log.js';

const OFFERING = new Set(['INVITE', 'UPDATE', 'PRACK']);

export interface NodeMediaOptions {
  /** Where our softphones reach the node (the SIP host): the relay binds there. */
  host: string;
  /** Emits the tunnels' datagrams (the TunnelEndpoint). */
  datagrams: DatagramSource;
  /** Sends a datagram on the open tunnel to a peer key (hex); throws when there is none. */
  sendDatagram(peerKey: string, channel: number, bytes: Uint8Array): void;
  idleTimeoutMs?: number;
  log: LogFn;
}

export class NodeMedia implements MediaPort {
  readonly relay: MediaRelay;
  readonly #control: MediaControl;
  readonly #detach: () => void;
  readonly #o: NodeMediaOptions;

  constructor(opts: NodeMediaOptions) {
    this.#o = opts;
    this.relay = new MediaRelay({
      host: opts.host,
      ...(opts.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: opts.idleTimeoutMs }),
    });
    this.#control = new MediaControl(this.relay);
    this.#detach = attachDatagrams(opts.datagrams, this.relay);
  }

  stats(): RelayStats {
    return this.relay.stats();
  }

  async close(): Promise<void> {
    this.#detach();
    await this.relay.close();
  }

  async request(req: SipRequest, from: Side, to: Side): Promise<Rejection | undefined> {
    const peer = tunnelOf(from, to);
    if (!peer) return undefined;
    const callId = getCallId(req);
    const fromTag = getFrom(req).params.get('tag') ?? undefined;
    const toTag = getTo(req).params.get('tag') ?? undefined;
    if (req.method === 'BYE') {
      const d = this.#control.find(callId, [fromTag, toTag]);
      if (d) await this.#control.close(d.key);
      return undefined;
    }
    if (!OFFERING.has(req.method) && req.method !== 'ACK') return undefined;
    const type = req.get('Content-Type');
    if (req.body.length > 0 && type && /^\s*multipart\//i.test(type))
      return {
        status: 488,
        reason: 'Not Acceptable Here (SDP in multipart bodies is not relayed)',
      };
    if (req.body.length === 0 || !isSdpContentType(type)) return undefined;
    let created: MediaDialog | undefined;
    try {
      if (req.method === 'ACK') {
        const d = this.#control.find(callId, [fromTag, toTag]);
        if (d) req.body = await d.onAnswer(sideOf(from), req.body);
        return undefined;
      }
      let d = toTag === undefined ? undefined : this.#control.find(callId, [fromTag, toTag]);
      if (!d) {
        d = this.#control.dialog(mediaKey(callId, fromTag ?? ''), this.#link(peer));
        created = d;
      }
      req.body = await d.onOffer(sideOf(from), req.body);
      return undefined;
    } catch (err) {
      // A call refused for its SDP keeps nothing open.
      if (created) await this.#control.close(created.key);
      const r = mediaResponseFor(err);
      this.#o.log('info', `${req.method} ${callId}: media refused: ${r.status} ${r.reason}`);
      return { status: r.status, reason: r.reason };
    }
  }

  async response(res: SipResponse, request: SipRequest, from: Side, to: Side): Promise<boolean> {
    const peer = tunnelOf(from, to);
    if (!peer || !OFFERING.has(request.method)) return true;
    const callId = getCallId(request);
    const fromTag = getFrom(request).params.get('tag') ?? undefined;
    const toTag = getTo(request).params.get('tag') ?? getTo(res).params.get('tag') ?? undefined;
    const offered = request.body.length > 0 && isSdpContentType(request.get('Content-Type'));
    let d: MediaDialog | undefined = this.#control.find(callId, [fromTag, toTag]);
    if (res.status >= 300) {
      if (d && offered) await d.onOfferRejected();
      else if (d && toTag === undefined) await this.#control.close(d.key);
      return true;
    }
    if (res.body.length === 0 || !isSdpContentType(res.get('Content-Type'))) return true;
    try {
      if (offered) {
        if (!d) return false; // an answer to an offer we never saw
        res.body = await d.onAnswer(sideOf(from), res.body);
      } else {
        // A late offer in the 2xx (the INVITE had no SDP); its ACK answers.
        d ??= this.#control.dialog(mediaKey(callId, fromTag ?? ''), this.#link(peer));
        res.body = await d.onOffer(sideOf(from), res.body);
      }
      return true;
    } catch (err) {
      const r = mediaResponseFor(err);
      this.#o.log('warn', `${res.status} ${callId}: media not relayed: ${r.status} ${r.reason}`);
      return false;
    }
  }

  /** The dialog's link: to whatever tunnel is open to that peer key when a packet goes out. */
  #link(peerKey: string): MediaLink {
    return {
      peer: peerKey,
      sendDatagram: (channel, bytes) => this.#o.sendDatagram(peerKey, channel, bytes),
    };
  }
}

function tunnelOf(a: Side, b: Side): string | undefined {
  if (a.kind === 'tunnel' && b.kind === 'local') return a.peerKey;
  if (b.kind === 'tunnel' && a.kind === 'local') return b.peerKey;
  return undefined;
}

function sideOf(s: Side): MediaSide {
  return s.kind === 'local' ? 'local' : 'tunnel';
}
