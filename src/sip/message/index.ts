/**
 * The SIP message layer: model, parser, serializer and header grammar
 * (RFC 3261 §7, §19, §20, §25). Pure: no I/O.
 */
export * from './accessors.js';
export { isToken, quote, unquote } from './chars.js';
export * from './cseq.js';
export { isHost, isIPv4, isIPv6 } from './host.js';
export * from './ids.js';
export * from './list.js';
export {
  COMPACT_FORMS,
  canonicalHeaderName,
  EMPTY,
  type HeaderField,
  LIST_HEADERS,
  type SipMessage,
  SipRequest,
  SipResponse,
} from './message.js';
export * from './name-addr.js';
export { type ParseOptions, parseMessage } from './parse.js';
export * from './response.js';
export * from './serialize.js';
export * from './types.js';
export { formatUri, parseRequestUri, parseUri } from './uri.js';
export * from './via.js';
