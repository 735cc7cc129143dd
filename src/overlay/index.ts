/** The lookup layer: one interface, its backends and the loopback testnet (docs/overlay.md). */
export * from './checks.js';
export * from './clock.js';
export * from './diagnostics.js';
export * from './errors.js';
export * from './hyperdht.js';
export {
  type BootstrapNode,
  type DhtKeyPair,
  loadHyperDht,
  type OverlayDht,
} from './hyperdht-api.js';
export * from './hyperdht-secret.js';
export * from './lookup-service.js';
export * from './memory.js';
export * from './memory-secret.js';
export * from './multicast.js';
export * from './multicast-endpoint.js';
export * from './multicast-secret.js';
export * from './multicast-wire.js';
export * from './opendht.js';
export {
  OPENDHT_MAX_RESPONSE_BYTES,
  OPENDHT_REQUEST_TIMEOUT_MS,
  OpenDhtProxy,
  type OpenDhtProxyOptions,
} from './opendht-proxy.js';
export * from './opendht-secret.js';
export { OpenDhtValueType, type OpenDhtValueTypeInfo } from './opendht-wire.js';
export * from './secret-records.js';
export * from './testnet.js';
