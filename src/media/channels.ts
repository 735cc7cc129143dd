/**
 * Receive channel ids, node-wide. Each relayed stream gets a pair — RTP on an
 * even id, RTCP on the next odd one — chosen by the node that RECEIVES on
 * them and announced to the peer node in the SDP it sends
 * (`a=x-p2psip-channel:<rtp> <rtcp>`, stripped before any softphone sees it).
 * Like a UDP port, a channel is the receiver's to pick, so it is unique
 * without any coordination: across all calls, all tunnels and all peers of
 * this node (docs/media.md, "Channel ids").
 */
import { MediaError } from './errors.js';

const PAIRS = 0x8000;

export class ChannelAllocator {
  #used = new Set<number>();
  #cursor: number;

  /** `start`: the first pair tried (tests); default random, so ids do not reveal call counts. */
  constructor(start = Math.floor(Math.random() * PAIRS)) {
    this.#cursor = start % PAIRS;
  }

  /** Pairs in use. */
  get size(): number {
    return this.#used.size;
  }

  /** A free pair; MEDIA_EXHAUSTED when all 32,768 are taken. */
  allocate(): { rtp: number; rtcp: number } {
    if (this.#used.size >= PAIRS) throw MediaError.exhausted('media channel ids');
    while (this.#used.has(this.#cursor)) this.#cursor = (this.#cursor + 1) % PAIRS;
    const pair = this.#cursor;
    this.#used.add(pair);
    this.#cursor = (pair + 1) % PAIRS;
    return { rtp: pair * 2, rtcp: pair * 2 + 1 };
  }

  /** Gives a pair back (by either of its ids); unknown ids are ignored. */
  release(channel: number): void {
    this.#used.delete(Math.floor(channel / 2));
  }
}
