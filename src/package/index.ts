/** The signed registration package: fields, encode, decode, verify (docs/protocol.md). */
export * from './decode.js';
export * from './encode.js';
export * from './errors.js';
export * from './fields.js';
export { XMLNS } from './serialize.js';
export * from './verify.js';
