/**
 * What the demo listens to while it runs: the overlay and tunnel diagnostics
 * channels (p2psip:overlay:publish / find, p2psip:tunnel:open) and the
 * requests the testnet's DHT nodes receive. Subscribing costs the nodes
 * nothing they would not do anyway; `close()` unsubscribes.
 */
import diagnostics from 'node:diagnostics_channel';
import { type OverlayEvents, overlayChannelName } from '../overlay/diagnostics.js';
import type { DhtRequestLogEntry } from '../overlay/testnet.js';
import { type TunnelOpenMessage, channels as tunnelChannels } from '../tunnel/diagnostics.js';
import { Recorder } from './wait.js';

export interface Watch {
  /** A lookup service finished publishing a record (key = the lookup key). */
  publishes: Recorder<OverlayEvents['publish']>;
  /** A lookup finished (key, how many records, ms). */
  finds: Recorder<OverlayEvents['find']>;
  /** A tunnel finished its handshake, either direction. */
  tunnels: Recorder<TunnelOpenMessage>;
  /** Store and announce requests a testnet DHT node received (push them from the testnet's onRequest). */
  dht: Recorder<DhtRequestLogEntry>;
  close(): void;
}

export function watchDiagnostics(): Watch {
  const watch = {
    publishes: new Recorder<OverlayEvents['publish']>(),
    finds: new Recorder<OverlayEvents['find']>(),
    tunnels: new Recorder<TunnelOpenMessage>(),
    dht: new Recorder<DhtRequestLogEntry>(),
  };
  const subscriptions: Array<[string, (message: unknown) => void]> = [
    [overlayChannelName('publish'), (m) => watch.publishes.push(m as OverlayEvents['publish'])],
    [overlayChannelName('find'), (m) => watch.finds.push(m as OverlayEvents['find'])],
    [tunnelChannels.open.name as string, (m) => watch.tunnels.push(m as TunnelOpenMessage)],
  ];
  for (const [name, fn] of subscriptions) diagnostics.subscribe(name, fn);
  return {
    ...watch,
    close: () => {
      for (const [name, fn] of subscriptions) diagnostics.unsubscribe(name, fn);
    },
  };
}
