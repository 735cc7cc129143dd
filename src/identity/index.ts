/** Identity: AOR normal form, the Ed25519 identity, the open lookup key. */
export * from './aor.js';
export * from './errors.js';
export * from './identity.js';
export * from './open-key.js';
