/**
 * The lookup services a node's config names (overlay.backend: one, or a
 * list used all at once), opened for the node: each backend's open-record
 * LookupService and secret-record service, merged by src/overlay/multi.ts
 * when there are several.
 *
 * Connections always go through HyperDHT (the node's own DHT node), also
 * when no lookup is HyperDHT: the package then carries the node's DHT
 * address as a `udp` contact and a caller dials the hyperdht key with that
 * address as the relay hint — the server's own DHT node handles the Noise
 * handshake, so two nodes need no DHT network in common (docs/overlay.md
 * "Connecting without a shared DHT").
 */
import { backendsOf, type Config, type OverlayBackend } from '../config/config.js';
import type { HyperDht } from '../dht/hyperdht.js';
import { HyperDhtLookup } from '../overlay/hyperdht.js';
import { HyperDhtSecretRecords } from '../overlay/hyperdht-secret.js';
import type { LookupService } from '../overlay/lookup-service.js';
import { MultiLookup, MultiSecretRecords } from '../overlay/multi.js';
import { MulticastLookup } from '../overlay/multicast.js';
import { MulticastEndpoint } from '../overlay/multicast-endpoint.js';
import { MulticastSecretRecords } from '../overlay/multicast-secret.js';
import { createOpenDhtLookup } from '../overlay/opendht.js';
import { createOpenDhtSecretRecords } from '../overlay/opendht-secret.js';
import type { SecretRecordService } from '../overlay/secret-records.js';
import type { LogFn } from './log.js';

export interface NodeOverlays {
  backends: OverlayBackend[];
  lookup: LookupService;
  records: SecretRecordService;
  /** True when a lookup other than HyperDHT is in use: packages carry the DHT address hint. */
  needsAddressHint: boolean;
  close(): Promise<void>;
}

export async function openOverlays(
  overlay: Config['overlay'],
  parts: { dht: HyperDht; seed: Uint8Array; log: LogFn },
): Promise<NodeOverlays> {
  const backends = backendsOf(overlay);
  const lookups: LookupService[] = [];
  const records: SecretRecordService[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    for (const backend of backends) {
      if (backend === 'hyperdht') {
        lookups.push(new HyperDhtLookup({ dht: parts.dht, seed: parts.seed }));
        records.push(new HyperDhtSecretRecords({ dht: parts.dht }));
      } else if (backend === 'opendht') {
        const proxyUrls = overlay.opendht.proxies;
        if (proxyUrls.length === 0)
          throw new Error(
            'overlay.backend "opendht" needs overlay.opendht.proxies: the URL of a dhtnode REST proxy (dhtnode --proxyserver PORT --proxy-addr 127.0.0.1)',
          );
        lookups.push(createOpenDhtLookup({ proxyUrls, seed: parts.seed }));
        records.push(createOpenDhtSecretRecords({ proxyUrls }));
      } else {
        const endpoint = await MulticastEndpoint.open({
          interface: overlay.multicast.interface,
          group: overlay.multicast.group,
          port: overlay.multicast.port,
        });
        closers.push(() => endpoint.close());
        lookups.push(new MulticastLookup(endpoint, { seed: parts.seed }));
        records.push(new MulticastSecretRecords(endpoint));
      }
    }
  } catch (err) {
    for (const s of [...lookups, ...records]) await s.close().catch(() => {});
    for (const c of closers) await c().catch(() => {});
    throw err;
  }
  const log = (level: 'debug' | 'info' | 'warn', msg: string) => parts.log(level, msg);
  const lookup = lookups.length === 1 ? lookups[0]! : new MultiLookup(lookups, { log });
  const secret = records.length === 1 ? records[0]! : new MultiSecretRecords(records, { log });
  return {
    backends,
    lookup,
    records: secret,
    needsAddressHint: backends.some((b) => b !== 'hyperdht'),
    async close() {
      await lookup.close();
      await secret.close();
      for (const c of closers) await c().catch(() => {});
    },
  };
}
