/** Durable state: the SQLite store, its schema, crash-safe file replacement. */
export * from './atomic-file.js';
export * from './errors.js';
export { SCHEMA_VERSION } from './schema.js';
export * from './store.js';
