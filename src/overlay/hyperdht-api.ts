/**
 * The parts of HyperDHT the lookup layer uses: a view of the shared facade
 * in src/dht/hyperdht.ts, so the backend can run on a DHT node someone else
 * created (the composition root shares one node with the tunnel).
 */
export {
  type BootstrapNode,
  type DhtKeyPair,
  type DhtLookupReply,
  type DhtMutableRecord,
  type DhtQuery,
  type HyperDhtModule,
  loadHyperDht,
  type OverlayDht,
  toBuffer,
} from '../dht/hyperdht.js';
