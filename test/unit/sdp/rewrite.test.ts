// rewriteSdp and the small edits around it: only the lines that change are
// re-formatted, port 0 stays 0, hold and rtcp-mux attributes stay, IPv6 works,
// and the session/media c= placement rule holds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  effectiveConnection,
  mediaLine,
  origin,
  parseSdp,
  removeAttributes,
  rewriteSdp,
  rtcpAttribute,
  type Sdp,
  SdpError,
  SdpErrorCode,
  sdpToText,
  setMediaAttribute,
  setOriginAddress,
  streams,
} from '../../../src/sdp/index.js';
import { BARESIP_OFFER, crlf, LINPHONE_OFFER } from './fixtures.js';

const relay = { addrType: 'IP4', address: '127.0.0.2' } as const;

/** The lines of `after` that differ from `before` (same length assumed). */
function changed(before: string, after: string): [string, string][] {
  const a = before.split('\r\n');
  const b = after.split('\r\n');
  assert.equal(a.length, b.length, 'line count changed');
  return a.flatMap((l, i) => (l === b[i] ? [] : [[l, b[i]!] as [string, string]]));
}

test('baresip offer: session c= and m= port rewritten, every other line byte for byte', () => {
  const out = rewriteSdp(parseSdp(BARESIP_OFFER), () => ({
    address: relay,
    port: 40000,
    rtcpPort: 40001,
  }));
  assert.deepEqual(changed(BARESIP_OFFER, sdpToText(out)), [
    ['c=IN IP4 127.0.0.1', 'c=IN IP4 127.0.0.2'],
    ['m=audio 10128 RTP/AVP 0 8 101', 'm=audio 40000 RTP/AVP 0 8 101'],
  ]);
});

test('RTCP not on port+1 adds a=rtcp; adjacent RTCP adds nothing', () => {
  const out = rewriteSdp(parseSdp(BARESIP_OFFER), () => ({ port: 40000, rtcpPort: 40007 }));
  const text = sdpToText(out);
  assert.ok(text.endsWith('a=ptime:20\r\na=rtcp:40007\r\n'), text);
  assert.deepEqual(rtcpAttribute(out.media[0]!), { port: 40007 });
});

test('linphone offer: IPv6 → IPv4, a=rtcp address follows, media-level c= replaced, rtcp-mux and recvonly kept', () => {
  const sdp = parseSdp(LINPHONE_OFFER);
  const out = rewriteSdp(sdp, (s) => ({
    address: relay,
    port: 40000 + 10 * s.index,
    rtcpPort: 40001 + 10 * s.index,
  }));
  assert.deepEqual(changed(LINPHONE_OFFER, sdpToText(out)), [
    ['c=IN IP6 ::1', 'c=IN IP4 127.0.0.2'],
    ['m=audio 7078 RTP/AVP 96 0 8 101', 'm=audio 40000 RTP/AVP 96 0 8 101'],
    ['a=rtcp:7079 IN IP6 ::1', 'a=rtcp:40001 IN IP4 127.0.0.2'],
    ['m=video 9078 RTP/AVP 97', 'm=video 40010 RTP/AVP 97'],
    ['c=IN IP6 ::1', 'c=IN IP4 127.0.0.2'],
  ]);
  const [audio, video] = streams(out);
  assert.equal(audio?.rtcpMux, true);
  assert.equal(video?.direction, 'recvonly');
});

test('IPv4 → IPv6 works too', () => {
  const out = rewriteSdp(parseSdp(BARESIP_OFFER), () => ({
    address: { addrType: 'IP6', address: '::1' },
  }));
  assert.deepEqual(effectiveConnection(out, 0), { netType: 'IN', addrType: 'IP6', address: '::1' });
});

const TWO_STREAMS = crlf([
  'v=0',
  'o=- 5 6 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 0',
  'i=voice',
  'a=sendonly',
  'm=video 0 RTP/AVP 31',
  'm=audio 4002 RTP/AVP 8',
]);

test('port 0 stays 0 and the callback never sees the rejected stream', () => {
  const seen: number[] = [];
  const out = rewriteSdp(parseSdp(TWO_STREAMS), (s) => {
    seen.push(s.index);
    return { port: 50000 + s.index, address: relay };
  });
  assert.deepEqual(seen, [0, 2]);
  assert.deepEqual(
    out.media.map((m) => mediaLine(m).port),
    [50000, 0, 50002],
  );
  // Both live streams want the same address: the session c= carries it.
  assert.deepEqual(changed(TWO_STREAMS, sdpToText(out)), [
    ['c=IN IP4 192.0.2.1', 'c=IN IP4 127.0.0.2'],
    ['m=audio 4000 RTP/AVP 0', 'm=audio 50000 RTP/AVP 0'],
    ['m=audio 4002 RTP/AVP 8', 'm=audio 50002 RTP/AVP 8'],
  ]);
  // A rewrite may disable a stream (port 0) but never revive one.
  const off = rewriteSdp(parseSdp(TWO_STREAMS), (s) => (s.index === 2 ? { port: 0 } : undefined));
  assert.deepEqual(
    off.media.map((m) => mediaLine(m).port),
    [4000, 0, 0],
  );
});

test('streams inheriting the session c= but wanting different addresses get their own c= (after m= and i=)', () => {
  const out = rewriteSdp(parseSdp(TWO_STREAMS), (s) =>
    s.index === 0 ? { address: relay } : { address: { addrType: 'IP4', address: '127.0.0.3' } },
  );
  const text = sdpToText(out);
  assert.ok(text.includes('c=IN IP4 192.0.2.1\r\n'), 'session c= kept');
  assert.ok(
    text.includes('m=audio 4000 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 127.0.0.2\r\na=sendonly'),
    text,
  );
  assert.ok(text.endsWith('m=audio 4002 RTP/AVP 8\r\nc=IN IP4 127.0.0.3\r\n'), text);
  assert.equal(effectiveConnection(out, 0)?.address, '127.0.0.2');
  assert.equal(effectiveConnection(out, 1)?.address, '192.0.2.1');
  assert.equal(effectiveConnection(out, 2)?.address, '127.0.0.3');
  // One stream changed, one kept: the kept one still sees the old session address.
  const one = rewriteSdp(parseSdp(TWO_STREAMS), (s) =>
    s.index === 0 ? { address: relay } : undefined,
  );
  assert.equal(effectiveConnection(one, 0)?.address, '127.0.0.2');
  assert.equal(effectiveConnection(one, 2)?.address, '192.0.2.1');
});

test('legacy hold c=0.0.0.0 and direction attributes survive when only ports change', () => {
  const body = crlf([
    'v=0',
    'o=- 5 7 IN IP4 192.0.2.1',
    's=-',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'm=audio 4000 RTP/AVP 0',
    'a=inactive',
  ]);
  const out = rewriteSdp(parseSdp(body), (s) => ({
    ...(s.connection?.address === '0.0.0.0' ? {} : { address: relay }),
    port: 40000,
  }));
  assert.deepEqual(changed(body, sdpToText(out)), [
    ['m=audio 4000 RTP/AVP 0', 'm=audio 40000 RTP/AVP 0'],
  ]);
});

test('a stream with no c= anywhere gets its own; extra media c= lines collapse into one', () => {
  const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0';
  const out = rewriteSdp(parseSdp(body), () => ({ address: relay, port: 4100, rtcpPort: 4200 }));
  // No final line ending before: none after either, and the old last line got one.
  assert.equal(
    sdpToText(out),
    'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4100 RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\na=rtcp:4200',
  );
  const layered = crlf([
    'v=0',
    'o=- 1 1 IN IP4 192.0.2.1',
    'm=video 4000 RTP/AVP 31',
    'c=IN IP4 224.2.1.1/127',
    'c=IN IP4 224.2.1.2/127',
    'a=x',
  ]);
  const one = rewriteSdp(parseSdp(layered), () => ({ address: relay }));
  assert.equal(
    sdpToText(one),
    layered.replace('c=IN IP4 224.2.1.1/127\r\nc=IN IP4 224.2.1.2/127', 'c=IN IP4 127.0.0.2'),
  );
});

test('bad rewrite input: an address with a space is SdpError, a port outside 0..65535 is RangeError', () => {
  const sdp = parseSdp(BARESIP_OFFER);
  assert.throws(
    () => rewriteSdp(sdp, () => ({ address: { addrType: 'IP4', address: '1.2.3.4 x' } })),
    (e: unknown) => e instanceof SdpError && e.code === SdpErrorCode.BadConnection,
  );
  assert.throws(() => rewriteSdp(sdp, () => ({ port: 70000 })), RangeError);
  assert.throws(() => rewriteSdp(sdp, () => ({ rtcpPort: -1 })), RangeError);
});

test('setOriginAddress changes only the o= address', () => {
  const out = setOriginAddress(parseSdp(LINPHONE_OFFER), relay);
  assert.deepEqual(changed(LINPHONE_OFFER, sdpToText(out)), [
    ['o=bob 3392 1201 IN IP6 ::1', 'o=bob 3392 1201 IN IP4 127.0.0.2'],
  ]);
  assert.equal(origin(out).sessionVersion, '1201');
});

test('setMediaAttribute adds, replaces and removes; removeAttributes drops by name at both levels', () => {
  let sdp: Sdp = parseSdp(TWO_STREAMS);
  sdp = setMediaAttribute(sdp, 0, 'x-p2psip-channel', '10 11');
  sdp = setMediaAttribute(sdp, 2, 'x-p2psip-channel', '12 13');
  let text = sdpToText(sdp);
  assert.ok(text.includes('a=sendonly\r\na=x-p2psip-channel:10 11\r\nm=video'), text);
  assert.ok(text.endsWith('m=audio 4002 RTP/AVP 8\r\na=x-p2psip-channel:12 13\r\n'), text);
  sdp = setMediaAttribute(sdp, 0, 'x-p2psip-channel', '20 21');
  assert.ok(sdpToText(sdp).includes('a=x-p2psip-channel:20 21\r\nm=video'));
  sdp = setMediaAttribute(sdp, 0, 'x-p2psip-channel', null);
  sdp = removeAttributes(sdp, (n) => n === 'x-p2psip-channel');
  assert.equal(sdpToText(sdp), TWO_STREAMS);

  const ice = crlf([
    'v=0',
    'o=- 1 1 IN IP4 192.0.2.1',
    'a=ice-lite',
    'c=IN IP4 192.0.2.1',
    'm=audio 4000 RTP/AVP 0',
    'a=ice-ufrag:abcd',
    'a=candidate:1 1 UDP 2130706431 192.0.2.1 4000 typ host',
    'a=sendrecv',
  ]).replace(/\r\n$/, '');
  text = sdpToText(
    removeAttributes(parseSdp(ice), (n) => n.startsWith('ice-') || n === 'candidate'),
  );
  assert.equal(
    text,
    'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv',
  );
  // Removing the last line of a body without a final line ending keeps it without one.
  text = sdpToText(removeAttributes(parseSdp(ice), (n) => n === 'sendrecv'));
  assert.ok(text.endsWith('typ host'), JSON.stringify(text));
  assert.throws(() => setMediaAttribute(parseSdp(ice), 0, 'bad name', 'x'), SdpError);
  assert.throws(() => setMediaAttribute(parseSdp(ice), 3, 'x', 'y'), RangeError);
});
