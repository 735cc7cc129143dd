/** Media relay (issue 5): RTP/RTCP between a softphone and the tunnel, and the SDP offer/answer glue. */
export * from './channels.js';
export * from './errors.js';
export * from './link.js';
export * from './relay.js';
export * from './session-control.js';
export * from './stream.js';
export * from './udp.js';
