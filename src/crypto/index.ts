/** The crypto wrappers: thin, one operation per file, labels from ./ns.ts. */
export * from './aead.js';
export * from './bytes.js';
export * from './ed25519.js';
export * from './errors.js';
export * from './hash.js';
export * from './kdf.js';
export * from './ns.js';
export * from './random.js';
export * from './x25519.js';
