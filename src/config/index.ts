/** config.json: validated, private defaults, atomic writes. */
export * from './config.js';
export * from './errors.js';
