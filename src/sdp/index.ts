/** SDP (RFC 8866): a byte-exact model, parser/serializer and the rewrites a media relay needs. Pure, no I/O. */
export * from './errors.js';
export * from './model.js';
export * from './parse.js';
export * from './rewrite.js';
