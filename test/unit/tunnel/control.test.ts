// Control frames: hello encoding, version negotiation, extension kinds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/crypto/bytes.js';
import {
  ControlKind,
  decodeControl,
  decodeHelloBody,
  encodeControl,
  encodeHello,
  HELLO_LENGTH,
  type Hello,
  negotiateVersion,
  TunnelErrorCode,
  tunnelErrorCode,
} from '../../../src/tunnel/index.js';

const helloArb: fc.Arbitrary<Hello> = fc
  .record({
    a: fc.integer({ min: 1, max: 0xffff }),
    b: fc.integer({ min: 1, max: 0xffff }),
    maxFramePayload: fc.integer({ min: 0, max: 0xffff_ffff }),
  })
  .map(({ a, b, maxFramePayload }) => ({
    minVersion: Math.min(a, b),
    maxVersion: Math.max(a, b),
    maxFramePayload,
  }));

function protocolError(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => tunnelErrorCode(err) === TunnelErrorCode.Protocol);
}

test('hello: byte layout and round trip', () => {
  const bytes = encodeHello({ minVersion: 1, maxVersion: 3, maxFramePayload: 1024 });
  assert.equal(bytes.length, HELLO_LENGTH);
  assert.equal(toHex(bytes), '01' + '703270736970' + '0001' + '0003' + '00000400');
  fc.assert(
    fc.property(helloArb, (hello) => {
      const { kind, body } = decodeControl(encodeHello(hello));
      assert.equal(kind, ControlKind.Hello);
      assert.deepEqual(decodeHelloBody(body), hello);
    }),
    { numRuns: 200 },
  );
});

test('hello: later versions may append bytes; v1 ignores them', () => {
  const extended = fromHex(
    `${toHex(encodeHello({ minVersion: 1, maxVersion: 2, maxFramePayload: 9 }))}beef`,
  );
  assert.deepEqual(decodeHelloBody(decodeControl(extended).body), {
    minVersion: 1,
    maxVersion: 2,
    maxFramePayload: 9,
  });
});

test('hello: bad magic, short body, inverted or zero versions → PROTOCOL', () => {
  const good = encodeHello({ minVersion: 1, maxVersion: 1, maxFramePayload: 5 });
  const badMagic = good.slice();
  badMagic[1] = 0x50; // 'P'
  protocolError(() => decodeHelloBody(decodeControl(badMagic).body));
  protocolError(() => decodeHelloBody(good.subarray(1, HELLO_LENGTH - 1)));
  protocolError(() => decodeHelloBody(fromHex('703270736970' + '0002' + '0001' + '00000000')));
  protocolError(() => decodeHelloBody(fromHex('703270736970' + '0000' + '0001' + '00000000')));
  protocolError(() => decodeControl(new Uint8Array(0)));
  assert.throws(
    () => encodeHello({ minVersion: 2, maxVersion: 1, maxFramePayload: 0 }),
    RangeError,
  );
  assert.throws(
    () => encodeHello({ minVersion: 0, maxVersion: 1, maxFramePayload: 0 }),
    RangeError,
  );
});

test('negotiation: highest common version, symmetric; disjoint ranges → PROTOCOL', () => {
  const h = (minVersion: number, maxVersion: number): Hello => ({
    minVersion,
    maxVersion,
    maxFramePayload: 0,
  });
  assert.equal(negotiateVersion(h(1, 1), h(1, 1)), 1);
  assert.equal(negotiateVersion(h(1, 3), h(2, 5)), 3);
  assert.equal(negotiateVersion(h(2, 5), h(1, 3)), 3);
  protocolError(() => negotiateVersion(h(1, 1), h(2, 2)));
  fc.assert(
    fc.property(helloArb, helloArb, (a, b) => {
      let ab: number | string;
      let ba: number | string;
      try {
        ab = negotiateVersion(a, b);
      } catch (err) {
        ab = String(tunnelErrorCode(err));
      }
      try {
        ba = negotiateVersion(b, a);
      } catch (err) {
        ba = String(tunnelErrorCode(err));
      }
      assert.equal(ab, ba);
      if (typeof ab === 'number') {
        assert.ok(
          ab >= a.minVersion && ab <= a.maxVersion && ab >= b.minVersion && ab <= b.maxVersion,
        );
      }
    }),
    { numRuns: 200 },
  );
});

test('extension control kinds: 0x10–0xff only', () => {
  assert.equal(toHex(encodeControl(0x10, fromHex('aa'))), '10aa');
  assert.equal(toHex(encodeControl(0xff, new Uint8Array(0))), 'ff');
  for (const kind of [0x00, ControlKind.Hello, 0x0f, 0x100, 1.5]) {
    assert.throws(() => encodeControl(kind, new Uint8Array(0)), RangeError);
  }
});
