// Real-world shaped SDP bodies shared by the SDP and media tests.

export const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** What baresip 1.0.0 offers on loopback (PCMU/PCMA + telephone-event, RTCP on port+1). */
export const BARESIP_OFFER = crlf([
  'v=0',
  'o=- 1871524407 3142290329 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 10128 RTP/AVP 0 8 101',
  'b=AS:64',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:1373455410 cname:2ab1c2d1-8c45-4f1e-a06f-3e2d1a5f9a01',
  'a=rtcp-rsize',
  'a=ptime:20',
]);

/** A linphone-style offer: IPv6, per-media c=, a=rtcp with address, rtcp-mux, two streams. */
export const LINPHONE_OFFER = crlf([
  'v=0',
  'o=bob 3392 1201 IN IP6 ::1',
  's=Talk',
  'c=IN IP6 ::1',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'm=audio 7078 RTP/AVP 96 0 8 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtcp:7079 IN IP6 ::1',
  'a=rtcp-mux',
  'a=rtcp-fb:* trr-int 1000',
  'm=video 9078 RTP/AVP 97',
  'c=IN IP6 ::1',
  'a=rtpmap:97 H264/90000',
  'a=recvonly',
]);
