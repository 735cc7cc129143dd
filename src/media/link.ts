/**
 * The tunnel side of the media relay, as narrow as the relay needs: a way to
 * send a datagram to the peer node, and who that peer is (so datagrams from
 * any other peer are dropped). Unit tests link two relays with an in-memory
 * pair; the node links a session to its dialog's tunnel with
 * {@link tunnelLink} and feeds received datagrams in with
 * {@link attachDatagrams}.
 */
import type { Tunnel } from '../tunnel/tunnel.js';

export interface MediaLink {
  /**
   * The peer node datagrams for this session must come from: the tunnel's
   * authenticated remote key (hex). `deliver()` drops datagrams from others.
   */
  readonly peer: string;
  /**
   * Sends one datagram to the peer node. Unreliable: may drop silently. May
   * throw when there is no open tunnel; the relay counts that and drops.
   */
  sendDatagram(channel: number, bytes: Uint8Array): void;
}

/** A link over one open tunnel. */
export function tunnelLink(tunnel: Tunnel): MediaLink {
  return {
    peer: tunnel.remoteKeyHex,
    sendDatagram: (channel, bytes) => tunnel.sendDatagram(channel, bytes),
  };
}

/** Anything that emits `'datagram' (channel, bytes, tunnel)`: a TunnelEndpoint or a Tunnel. */
export interface DatagramSource {
  on(
    event: 'datagram',
    fn: (channel: number, bytes: Uint8Array, tunnel: { readonly remoteKeyHex: string }) => void,
  ): unknown;
  off(
    event: 'datagram',
    fn: (channel: number, bytes: Uint8Array, tunnel: { readonly remoteKeyHex: string }) => void,
  ): unknown;
}

/** Something that takes received datagrams: MediaRelay. */
export interface DatagramSink {
  deliver(channel: number, bytes: Uint8Array, peer: string): boolean;
}

/** Feeds every datagram `source` emits into `sink`; returns the function that stops it. */
export function attachDatagrams(source: DatagramSource, sink: DatagramSink): () => void {
  const fn = (channel: number, bytes: Uint8Array, tunnel: { readonly remoteKeyHex: string }) => {
    sink.deliver(channel, bytes, tunnel.remoteKeyHex);
  };
  source.on('datagram', fn);
  return () => source.off('datagram', fn);
}
