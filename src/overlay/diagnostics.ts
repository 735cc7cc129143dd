/**
 * Observability of the lookup layer through `node:diagnostics_channel`
 * (named `p2psip:overlay:<event>`, the undici habit). Publishing costs nothing
 * when nobody subscribes. Messages carry keys as bytes: subscribers are local
 * code (logs, tests, benchmarks) and decide what to print.
 */
import { channel } from 'node:diagnostics_channel';

export interface OverlayEvents {
  /** A record was published (or refreshed by the caller). */
  publish: { backend: string; key: Uint8Array; seq: number; bytes: number; ms: number };
  /** A record was withdrawn, by the caller or because its ttl ran out (`expired`). */
  withdraw: { backend: string; key: Uint8Array; expired: boolean };
  /** A find finished. */
  find: { backend: string; key: Uint8Array; found: number; candidates: number; ms: number };
  /** A backend re-announced a live record in the background (HyperDHT). */
  refresh: { backend: string; key: Uint8Array; seq: number };
  /** Background work (refresh, expiry) failed; it is retried or dropped as documented. */
  error: { backend: string; key: Uint8Array; operation: string; error: unknown };
}

export type OverlayEventName = keyof OverlayEvents;

/** The channel name of an event, for `diagnostics_channel.subscribe`. */
export function overlayChannelName(event: OverlayEventName): string {
  return `p2psip:overlay:${event}`;
}

const channels = {
  publish: channel(overlayChannelName('publish')),
  withdraw: channel(overlayChannelName('withdraw')),
  find: channel(overlayChannelName('find')),
  refresh: channel(overlayChannelName('refresh')),
  error: channel(overlayChannelName('error')),
} satisfies Record<OverlayEventName, unknown>;

export function emit<E extends OverlayEventName>(event: E, message: OverlayEvents[E]): void {
  const ch = channels[event];
  if (ch.hasSubscribers) ch.publish(message);
}
