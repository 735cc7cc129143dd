/**
 * Observability through node:diagnostics_channel: the socket layer logs
 * nothing itself; whoever wants to know subscribes.
 *
 *   p2psip:net:malformed   a message failed to frame or parse; `answered` says
 *                          whether an error response went back
 *   p2psip:net:error       something failed where no caller could be told: the
 *                          message handler threw, a socket errored, an
 *                          automatic answer could not be sent
 *   p2psip:net:connection  a TCP connection opened or closed
 */
import diagnostics from 'node:diagnostics_channel';
import type { TransportAddress } from '../sip/transport.js';

export const channels = {
  malformed: diagnostics.channel('p2psip:net:malformed'),
  error: diagnostics.channel('p2psip:net:error'),
  connection: diagnostics.channel('p2psip:net:connection'),
} as const;

export interface MalformedMessage {
  /** SipError code (e.g. SIP_BAD_CONTENT_LENGTH). */
  code: string;
  message: string;
  source: TransportAddress;
  /** True when an error response (400, 505, 513, …) was sent back. */
  answered: boolean;
  /** True when the connection was closed because of it (stream framing errors). */
  closed: boolean;
}

export interface NetErrorMessage {
  /** What was going on: 'handler', 'socket', 'answer', 'pong'. */
  where: string;
  error: unknown;
  remote?: TransportAddress;
}

export interface ConnectionMessage {
  event: 'open' | 'close';
  direction: 'inbound' | 'outbound';
  remote: TransportAddress;
}

export function publish<T extends object>(channel: diagnostics.Channel, message: () => T): void {
  if (channel.hasSubscribers) channel.publish(message());
}
