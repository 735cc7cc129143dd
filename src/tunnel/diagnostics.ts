/**
 * Observability through node:diagnostics_channel (undici's habit): nothing is
 * logged by the tunnel itself; whoever wants to know subscribes.
 *
 *   p2psip:tunnel:open    a tunnel finished its hello (either direction)
 *   p2psip:tunnel:close   a tunnel closed; `reason` is a TunnelError code or null (normal close)
 *   p2psip:tunnel:reject  the accept policy refused (or failed on) an inbound handshake
 *
 * Messages carry public keys in hex. They are identifiers a local operator may
 * see; nothing here is sent anywhere.
 */
import diagnostics from 'node:diagnostics_channel';
import type { TunnelErrorCode } from './errors.js';

export const channels = {
  open: diagnostics.channel('p2psip:tunnel:open'),
  close: diagnostics.channel('p2psip:tunnel:close'),
  reject: diagnostics.channel('p2psip:tunnel:reject'),
} as const;

export interface TunnelOpenMessage {
  remotePublicKey: string;
  localPublicKey: string;
  direction: 'inbound' | 'outbound';
  version: number;
}

export interface TunnelCloseMessage {
  remotePublicKey: string;
  localPublicKey: string;
  direction: 'inbound' | 'outbound';
  /** Null for a normal close by either side; otherwise why. */
  reason: TunnelErrorCode | null;
  /** False when it closed before its hello finished (a failed connect or a bad peer). */
  wasOpen: boolean;
}

export interface TunnelRejectMessage {
  remotePublicKey: string;
  localPublicKey: string;
  /** 'policy' = the accept policy said no; 'policy-error' = it threw; 'closing' = endpoint closing. */
  why: 'policy' | 'policy-error' | 'closing';
}

export function publish<T extends object>(channel: diagnostics.Channel, message: () => T): void {
  if (channel.hasSubscribers) channel.publish(message());
}
