/** Node-to-node tunnels over HyperDHT (Noise), carrying framed SIP, control frames and media. */
export * from './control.js';
export * from './dht.js';
export * from './diagnostics.js';
export * from './endpoint.js';
export * from './errors.js';
export * from './frame.js';
export * from './idle.js';
export * from './tunnel.js';
