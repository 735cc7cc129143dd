/**
 * The shared compliance suite of the lookup layer: every LookupService backend
 * (memory, HyperDHT; OpenDHT and LAN multicast next) runs these same tests
 * through `runLookupCompliance(name, makeHarness)`. Backend-agnostic: a
 * harness yields ≥ 2 services that are independent publishers on ONE network,
 * a way to move that network's time, and a teardown.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  KEY_BYTES,
  type LookupService,
  MAX_SEQ,
  MAX_TTL_SECONDS,
  MAX_VALUE_BYTES,
  OverlayErrorCode,
  overlayErrorCode,
} from '../../../src/overlay/index.js';

export interface LookupHarness {
  /** At least two services: independent publishers on one network. */
  services: LookupService[];
  /**
   * Moves the network's clock forward by `ms`, then waits until the background
   * work this started (expiry, refresh) has finished.
   */
  advance(ms: number): Promise<void>;
  /** Closes the services and the network. */
  teardown(): Promise<void>;
}

export type MakeLookupHarness = () => Promise<LookupHarness>;

const key = () => new Uint8Array(randomBytes(KEY_BYTES));
const bytes = (text: string) => new TextEncoder().encode(text);
const TTL = 3600;

export async function rejectsWith(p: Promise<unknown>, code: OverlayErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(overlayErrorCode(err), code, `expected ${code}, got ${String(err)}`);
    return true;
  });
}

function values(found: { value: Uint8Array }[]): string[] {
  return found.map((r) => Buffer.from(r.value).toString('hex')).sort();
}

/**
 * `withHarness(body)`: a test that runs `body` with a fresh harness (≥ 2
 * services) and always tears it down. Shared by the secret-record suite.
 */
export function harnessRunner<S, H extends { services: S[]; teardown(): Promise<void> }>(
  makeHarness: () => Promise<H>,
) {
  return (body: (a: S, b: S, h: H) => Promise<void>) => async () => {
    const h = await makeHarness();
    try {
      const [a, b] = h.services;
      assert.ok(a && b, 'a harness must yield at least two services');
      await body(a, b, h);
    } finally {
      await h.teardown();
    }
  };
}

export function runLookupCompliance(name: string, makeHarness: MakeLookupHarness): void {
  const withHarness = harnessRunner<LookupService, LookupHarness>(makeHarness);

  describe(`LookupService compliance: ${name}`, () => {
    test(
      'publish then find from another node: value, seq and a 32-byte publisher id',
      withHarness(async (a, b) => {
        const k = key();
        await a.publish(k, bytes('hello'), { ttlSeconds: TTL, seq: 7 });
        const found = await b.find(k);
        assert.equal(found.length, 1);
        assert.deepEqual(Buffer.from(found[0]!.value).toString(), 'hello');
        assert.equal(found[0]!.seq, 7);
        assert.equal(found[0]!.publisher.byteLength, 32);
        // The publisher finds its own record too.
        assert.deepEqual(values(await a.find(k)), values(found));
      }),
    );

    test(
      'find on an unknown key returns []',
      withHarness(async (a, b) => {
        await a.publish(key(), bytes('elsewhere'), { ttlSeconds: TTL, seq: 1 });
        assert.deepEqual(await b.find(key()), []);
      }),
    );

    test(
      'values are opaque bytes: every byte value and the maximum size round-trip',
      withHarness(async (a, b) => {
        const all = new Uint8Array(256).map((_, i) => i);
        const max = new Uint8Array(randomBytes(MAX_VALUE_BYTES));
        const k1 = key();
        const k2 = key();
        await a.publish(k1, all, { ttlSeconds: TTL, seq: 1 });
        await a.publish(k2, max, { ttlSeconds: TTL, seq: 1 });
        assert.deepEqual(
          (await b.find(k1)).map((r) => Buffer.from(r.value)),
          [Buffer.from(all)],
        );
        assert.deepEqual(
          (await b.find(k2)).map((r) => Buffer.from(r.value)),
          [Buffer.from(max)],
        );
      }),
    );

    test(
      'property: any value of 1..MAX_VALUE_BYTES bytes comes back unchanged',
      withHarness(async (a, b) => {
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ minLength: 1, maxLength: MAX_VALUE_BYTES }),
            async (value) => {
              const k = key();
              await a.publish(k, value, { ttlSeconds: TTL, seq: 1 });
              const found = await b.find(k);
              assert.equal(found.length, 1);
              assert.deepEqual(Buffer.from(found[0]!.value), Buffer.from(value));
            },
          ),
          { numRuns: 12 },
        );
      }),
    );

    test(
      'the store keeps its own copy: changing the published buffer changes nothing',
      withHarness(async (a, b) => {
        const k = key();
        const value = bytes('original');
        await a.publish(k, value, { ttlSeconds: TTL, seq: 1 });
        value.fill(0x21);
        const found = await b.find(k);
        assert.equal(Buffer.from(found[0]!.value).toString(), 'original');
        found[0]!.value.fill(0x21);
        assert.equal(Buffer.from((await b.find(k))[0]!.value).toString(), 'original');
      }),
    );

    test(
      'two publishers under one key: both records are found, with distinct publisher ids',
      withHarness(async (a, b) => {
        const k = key();
        await a.publish(k, bytes('from a'), { ttlSeconds: TTL, seq: 1 });
        await b.publish(k, bytes('from b'), { ttlSeconds: TTL, seq: 1 });
        for (const s of [a, b]) {
          const found = await s.find(k);
          assert.deepEqual(found.map((r) => Buffer.from(r.value).toString()).sort(), [
            'from a',
            'from b',
          ]);
          assert.notDeepEqual(found[0]!.publisher, found[1]!.publisher);
        }
      }),
    );

    test(
      'a publisher id is stable under one key and differs across keys (unlinkable)',
      withHarness(async (a, b) => {
        const k1 = key();
        const k2 = key();
        await a.publish(k1, bytes('v1'), { ttlSeconds: TTL, seq: 1 });
        await a.publish(k2, bytes('v2'), { ttlSeconds: TTL, seq: 1 });
        const first = (await b.find(k1))[0]!.publisher;
        await a.publish(k1, bytes('v1 again'), { ttlSeconds: TTL, seq: 2 });
        assert.deepEqual((await b.find(k1))[0]!.publisher, first);
        assert.notDeepEqual((await b.find(k2))[0]!.publisher, first);
      }),
    );

    test(
      'refresh with a higher seq replaces the same publisher\u2019s older value',
      withHarness(async (a, b) => {
        const k = key();
        await a.publish(k, bytes('old'), { ttlSeconds: TTL, seq: 1 });
        await b.publish(k, bytes('other'), { ttlSeconds: TTL, seq: 1 });
        await a.publish(k, bytes('new'), { ttlSeconds: TTL, seq: 2 });
        const found = await b.find(k);
        assert.deepEqual(found.map((r) => Buffer.from(r.value).toString()).sort(), [
          'new',
          'other',
        ]);
        assert.equal(found.find((r) => Buffer.from(r.value).toString() === 'new')!.seq, 2);
      }),
    );

    test(
      'an equal or lower seq is refused with OVERLAY_SEQ_TOO_LOW and the record stays',
      withHarness(async (a, b) => {
        const k = key();
        await a.publish(k, bytes('v5'), { ttlSeconds: TTL, seq: 5 });
        await rejectsWith(
          a.publish(k, bytes('same'), { ttlSeconds: TTL, seq: 5 }),
          OverlayErrorCode.SeqTooLow,
        );
        await rejectsWith(
          a.publish(k, bytes('lower'), { ttlSeconds: TTL, seq: 4 }),
          OverlayErrorCode.SeqTooLow,
        );
        assert.deepEqual(
          (await b.find(k)).map((r) => Buffer.from(r.value).toString()),
          ['v5'],
        );
        // Seqs are per key: another key starts afresh.
        await a.publish(key(), bytes('x'), { ttlSeconds: TTL, seq: 0 });
      }),
    );

    test(
      'withdraw removes only the caller\u2019s record; a later higher seq publishes again',
      withHarness(async (a, b) => {
        const k = key();
        await a.publish(k, bytes('a'), { ttlSeconds: TTL, seq: 3 });
        await b.publish(k, bytes('b'), { ttlSeconds: TTL, seq: 3 });
        await a.withdraw(k);
        assert.deepEqual(
          (await b.find(k)).map((r) => Buffer.from(r.value).toString()),
          ['b'],
        );
        await a.withdraw(k); // again: a no-op
        await a.withdraw(key()); // never published: a no-op
        await rejectsWith(
          a.publish(k, bytes('a3'), { ttlSeconds: TTL, seq: 3 }),
          OverlayErrorCode.SeqTooLow,
        );
        await a.publish(k, bytes('a4'), { ttlSeconds: TTL, seq: 4 });
        assert.deepEqual((await b.find(k)).map((r) => Buffer.from(r.value).toString()).sort(), [
          'a4',
          'b',
        ]);
      }),
    );

    test(
      'a record lives for its ttl and is gone after it',
      withHarness(async (a, b, h) => {
        const short = key();
        const long = key();
        await a.publish(short, bytes('short'), { ttlSeconds: 60, seq: 1 });
        await a.publish(long, bytes('long'), { ttlSeconds: 2 * 3600, seq: 1 });
        await h.advance(59_000);
        assert.equal((await b.find(short)).length, 1);
        await h.advance(2_000);
        assert.deepEqual(await b.find(short), []);
        // A long ttl outlives the DHT's own lifetimes (HyperDHT re-announces).
        await h.advance(3600_000);
        assert.equal((await b.find(long)).length, 1);
        await h.advance(3600_000);
        assert.deepEqual(await b.find(long), []);
      }),
    );

    test(
      'a refresh extends the lifetime to the new ttl',
      withHarness(async (a, b, h) => {
        const k = key();
        await a.publish(k, bytes('v1'), { ttlSeconds: 60, seq: 1 });
        await h.advance(50_000);
        await a.publish(k, bytes('v2'), { ttlSeconds: 60, seq: 2 });
        await h.advance(50_000);
        assert.deepEqual(
          (await b.find(k)).map((r) => Buffer.from(r.value).toString()),
          ['v2'],
        );
        await h.advance(11_000);
        assert.deepEqual(await b.find(k), []);
      }),
    );

    test(
      'bad arguments are refused with typed errors',
      withHarness(async (a) => {
        const k = key();
        const ok = { ttlSeconds: TTL, seq: 1 };
        await rejectsWith(
          a.publish(k, new Uint8Array(MAX_VALUE_BYTES + 1), ok),
          OverlayErrorCode.ValueTooLarge,
        );
        await rejectsWith(a.publish(k, new Uint8Array(0), ok), OverlayErrorCode.BadValue);
        await rejectsWith(
          a.publish(k, 'text' as unknown as Uint8Array, ok),
          OverlayErrorCode.BadValue,
        );
        for (const bad of [new Uint8Array(31), new Uint8Array(33), 'k' as unknown as Uint8Array]) {
          await rejectsWith(a.publish(bad, bytes('v'), ok), OverlayErrorCode.BadKey);
          await rejectsWith(a.find(bad), OverlayErrorCode.BadKey);
          await rejectsWith(a.withdraw(bad), OverlayErrorCode.BadKey);
        }
        for (const opts of [
          { ttlSeconds: 0, seq: 1 },
          { ttlSeconds: MAX_TTL_SECONDS + 1, seq: 1 },
          { ttlSeconds: 1.5, seq: 1 },
          { ttlSeconds: TTL, seq: -1 },
          { ttlSeconds: TTL, seq: MAX_SEQ + 1 },
          { ttlSeconds: TTL, seq: 0.5 },
        ]) {
          await rejectsWith(a.publish(k, bytes('v'), opts), OverlayErrorCode.BadOption);
        }
        await rejectsWith(a.find(k, { timeoutMs: 0 }), OverlayErrorCode.BadOption);
        // None of the refused calls published anything or used up a seq.
        assert.deepEqual(await a.find(k), []);
        await a.publish(k, bytes('v'), ok);
      }),
    );

    test(
      'an aborted signal stops publish and find with OVERLAY_ABORTED',
      withHarness(async (a) => {
        const k = key();
        const signal = AbortSignal.abort();
        await rejectsWith(
          a.publish(k, bytes('v'), { ttlSeconds: TTL, seq: 1, signal }),
          OverlayErrorCode.Aborted,
        );
        await rejectsWith(a.find(k, { signal }), OverlayErrorCode.Aborted);
      }),
    );

    test(
      'a closed service refuses calls with OVERLAY_CLOSED; close is idempotent; others go on',
      withHarness(async (a, b) => {
        const k = key();
        await b.publish(k, bytes('b'), { ttlSeconds: TTL, seq: 1 });
        await a.close();
        await a.close();
        await rejectsWith(
          a.publish(k, bytes('v'), { ttlSeconds: TTL, seq: 1 }),
          OverlayErrorCode.Closed,
        );
        await rejectsWith(a.find(k), OverlayErrorCode.Closed);
        await rejectsWith(a.withdraw(k), OverlayErrorCode.Closed);
        assert.equal((await b.find(k)).length, 1);
      }),
    );
  });
}
