// Tunnel framing: golden vectors (the same hex as docs/protocol-tunnel.md),
// stream splitting, bounded buffering, typed failures, datagrams.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex, utf8 } from '../../../src/crypto/bytes.js';
import {
  DEFAULT_MAX_FRAME_PAYLOAD,
  decodeDatagram,
  encodeDatagram,
  encodeFrame,
  encodeHello,
  FRAME_HEADER_LENGTH,
  type Frame,
  FrameDecoder,
  FrameType,
  MAX_DATAGRAM_PAYLOAD,
  PROTOCOL_VERSION,
  TunnelError,
  TunnelErrorCode,
  tunnelErrorCode,
} from '../../../src/tunnel/index.js';

/** Golden vectors; docs/protocol-tunnel.md lists exactly these. */
const GOLDEN = {
  sip: {
    payload: utf8('SIP/2.0 200 OK\r\n\r\n'),
    hex: '01000000125349502f322e3020323030204f4b0d0a0d0a',
  },
  hello: {
    hex: '020000000f0170327073697000010001' + '00010000',
  },
  datagram: {
    channel: 2,
    payload: fromHex('80000001'),
    hex: '10000280000001',
  },
} as const;

function throwsCode(fn: () => unknown, code: TunnelErrorCode): void {
  assert.throws(fn, (err: unknown) => tunnelErrorCode(err) === code);
}

test('golden vectors: SIP frame, hello frame, media datagram', () => {
  assert.equal(toHex(encodeFrame(FrameType.Sip, GOLDEN.sip.payload)), GOLDEN.sip.hex);
  const hello = encodeHello({
    minVersion: PROTOCOL_VERSION.min,
    maxVersion: PROTOCOL_VERSION.max,
    maxFramePayload: DEFAULT_MAX_FRAME_PAYLOAD,
  });
  assert.equal(toHex(encodeFrame(FrameType.Control, hello)), GOLDEN.hello.hex);
  assert.equal(
    toHex(encodeDatagram(GOLDEN.datagram.channel, GOLDEN.datagram.payload)),
    GOLDEN.datagram.hex,
  );

  const frames = new FrameDecoder().push(fromHex(GOLDEN.sip.hex + GOLDEN.hello.hex));
  assert.deepEqual(frames, [
    { type: FrameType.Sip, payload: GOLDEN.sip.payload },
    { type: FrameType.Control, payload: hello },
  ]);
  assert.deepEqual(decodeDatagram(fromHex(GOLDEN.datagram.hex)), {
    type: 0x10,
    channel: 2,
    payload: GOLDEN.datagram.payload,
  });
});

test('docs/protocol-tunnel.md shows the same golden vectors', () => {
  const doc = readFileSync(new URL('../../../docs/protocol-tunnel.md', import.meta.url), 'utf8');
  const hexInDoc = doc.replace(/[^0-9a-f\n]/g, '');
  for (const { hex } of Object.values(GOLDEN)) {
    assert.ok(hexInDoc.includes(hex), `docs/protocol-tunnel.md lacks vector ${hex}`);
  }
});

const frameArb: fc.Arbitrary<Frame> = fc
  .tuple(fc.constantFrom(FrameType.Sip, FrameType.Control), fc.uint8Array({ maxLength: 300 }))
  .map(([type, payload]) => ({ type, payload }));

/** Splits `bytes` at the given (sorted, deduplicated) cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

test('property: frames come out the same however the byte stream is split', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
        const decoder = new FrameDecoder();
        const out: Frame[] = [];
        for (const chunk of split(stream, cuts)) out.push(...decoder.push(chunk));
        assert.deepEqual(out, frames);
        assert.equal(decoder.buffered, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: byte-at-a-time decoding never buffers more than one header plus one payload', () => {
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 6 }), (frames) => {
      const max = 300;
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
      const decoder = new FrameDecoder(max);
      let count = 0;
      for (let i = 0; i < stream.length; i++) {
        count += decoder.push(stream.subarray(i, i + 1)).length;
        assert.ok(decoder.buffered <= FRAME_HEADER_LENGTH + max);
      }
      assert.equal(count, frames.length);
    }),
    { numRuns: 100 },
  );
});

test('decoded payloads are copies: mutating the input afterwards changes nothing', () => {
  const bytes = encodeFrame(FrameType.Sip, utf8('abc'));
  const [frame] = new FrameDecoder().push(bytes);
  bytes.fill(0);
  assert.deepEqual(frame?.payload, utf8('abc'));
});

test('an announced length over the limit fails at once, before the payload arrives', () => {
  const decoder = new FrameDecoder(1000);
  // Header only: 0x01, length 1001. Nothing of the payload was sent.
  throwsCode(() => decoder.push(fromHex('01000003e9')), TunnelErrorCode.FrameTooLarge);
  assert.equal(decoder.buffered, 0);
  // The decoder stays failed: the stream cannot be resynchronised.
  throwsCode(
    () => decoder.push(encodeFrame(FrameType.Sip, utf8('x'))),
    TunnelErrorCode.FrameTooLarge,
  );
  assert.equal(decoder.failed?.code, TunnelErrorCode.FrameTooLarge);

  // The maximum itself is fine.
  const ok = new FrameDecoder(4);
  assert.equal(ok.push(encodeFrame(FrameType.Sip, utf8('abcd'), 4)).length, 1);
});

test('a 4 GiB length announcement is refused without allocating', () => {
  throwsCode(() => new FrameDecoder().push(fromHex('01ffffffff')), TunnelErrorCode.FrameTooLarge);
});

test('unknown frame types fail with PROTOCOL, reserved ones and datagram types included', () => {
  for (const type of [0x00, 0x03, 0x0f, 0x10, 0x7f, 0xff]) {
    const bytes = new Uint8Array([type, 0, 0, 0, 0]);
    throwsCode(() => new FrameDecoder().push(bytes), TunnelErrorCode.Protocol);
  }
});

test('property: random garbage either decodes or throws a TunnelError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const decoder = new FrameDecoder(64);
      try {
        decoder.push(bytes);
      } catch (err) {
        assert.ok(err instanceof TunnelError, String(err));
        assert.ok(
          err.code === TunnelErrorCode.Protocol || err.code === TunnelErrorCode.FrameTooLarge,
        );
      }
    }),
    { numRuns: 300 },
  );
});

test('encodeFrame refuses oversize payloads (typed) and unknown types (RangeError)', () => {
  throwsCode(
    () => encodeFrame(FrameType.Sip, new Uint8Array(11), 10),
    TunnelErrorCode.FrameTooLarge,
  );
  assert.throws(() => encodeFrame(0x09 as FrameType, new Uint8Array(1)), RangeError);
  assert.throws(() => new FrameDecoder(-1), RangeError);
  assert.throws(() => new FrameDecoder(2 ** 32), RangeError);
});

test('datagrams: round trip, channel range, size limit, junk is dropped (null)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: MAX_DATAGRAM_PAYLOAD }),
      (channel, payload) => {
        assert.deepEqual(decodeDatagram(encodeDatagram(channel, payload)), {
          type: 0x10,
          channel,
          payload,
        });
      },
    ),
    { numRuns: 100 },
  );
  assert.throws(() => encodeDatagram(0x10000, new Uint8Array(1)), RangeError);
  assert.throws(() => encodeDatagram(-1, new Uint8Array(1)), RangeError);
  throwsCode(
    () => encodeDatagram(1, new Uint8Array(MAX_DATAGRAM_PAYLOAD + 1)),
    TunnelErrorCode.FrameTooLarge,
  );
  assert.equal(decodeDatagram(fromHex('1000')), null); // too short
  assert.equal(decodeDatagram(fromHex('11000100')), null); // unknown type
  assert.equal(decodeDatagram(fromHex('01000100')), null); // a stream type is not a datagram
  const oversize = new Uint8Array(3 + MAX_DATAGRAM_PAYLOAD + 1);
  oversize[0] = 0x10;
  assert.equal(decodeDatagram(oversize), null);
});
