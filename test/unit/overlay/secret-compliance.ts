/**
 * The shared compliance suite of SecretRecordService backends (memory,
 * HyperDHT): `runSecretCompliance(name, makeHarness)`. A harness yields ≥ 2
 * services on ONE network (a writer and a reader), a way to move time, and
 * a teardown.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ed25519PublicKey } from '../../../src/crypto/ed25519.js';
import {
  MAX_SECRET_TTL_SECONDS,
  MAX_SEQ,
  MAX_VALUE_BYTES,
  OverlayErrorCode,
  type PkOpTally,
  type SecretRecordService,
} from '../../../src/overlay/index.js';
import { harnessRunner, rejectsWith } from './compliance.js';

export interface SecretHarness {
  services: SecretRecordService[];
  /** The PK-op tally of services[0]. */
  pkOps: PkOpTally;
  advance(ms: number): Promise<void>;
  teardown(): Promise<void>;
}

const seed = () => new Uint8Array(randomBytes(32));
const bytes = (text: string) => new TextEncoder().encode(text);
const TTL = 3600;

const text = (r: { value: Uint8Array } | undefined) =>
  r === undefined ? undefined : Buffer.from(r.value).toString();

export function runSecretCompliance(name: string, makeHarness: () => Promise<SecretHarness>): void {
  const withHarness = harnessRunner<SecretRecordService, SecretHarness>(makeHarness);

  describe(`SecretRecordService compliance: ${name}`, () => {
    test(
      'put then get from another node, by seed and by address; the address is the Ed25519 key of the seed',
      withHarness(async (a, b) => {
        const s = seed();
        await a.putSecret(s, bytes('secret'), { seq: 1, ttlSeconds: TTL });
        assert.deepEqual(a.addressOf(s), ed25519PublicKey(s));
        assert.deepEqual(b.addressOf(s), a.addressOf(s));
        const bySeed = await b.getSecret({ seed: s });
        assert.equal(text(bySeed), 'secret');
        assert.equal(bySeed?.seq, 1);
        assert.equal(text(await b.getSecret({ address: a.addressOf(s) })), 'secret');
      }),
    );

    test(
      'an unknown seed or address gives undefined',
      withHarness(async (a, b) => {
        await a.putSecret(seed(), bytes('elsewhere'), { seq: 1, ttlSeconds: TTL });
        assert.equal(await b.getSecret({ seed: seed() }), undefined);
        assert.equal(await b.getSecret({ address: ed25519PublicKey(seed()) }), undefined);
      }),
    );

    test(
      'binary values of every byte and of the maximum size round-trip unchanged',
      withHarness(async (a, b) => {
        const all = new Uint8Array(256).map((_, i) => i);
        const max = new Uint8Array(randomBytes(MAX_VALUE_BYTES));
        const [s1, s2] = [seed(), seed()];
        await a.putSecret(s1, all, { seq: 0, ttlSeconds: TTL });
        await a.putSecret(s2, max, { seq: 0, ttlSeconds: TTL });
        assert.deepEqual(Buffer.from((await b.getSecret({ seed: s1 }))!.value), Buffer.from(all));
        assert.deepEqual(Buffer.from((await b.getSecret({ seed: s2 }))!.value), Buffer.from(max));
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ minLength: 1, maxLength: MAX_VALUE_BYTES }),
            async (value) => {
              const s = seed();
              await a.putSecret(s, value, { seq: 1, ttlSeconds: TTL });
              assert.deepEqual(
                Buffer.from((await b.getSecret({ seed: s }))!.value),
                Buffer.from(value),
              );
            },
          ),
          { numRuns: 8 },
        );
      }),
    );

    test(
      'seq only grows: a higher seq replaces, a lower one or a reused one with another value is refused',
      withHarness(async (a, b) => {
        const s = seed();
        await a.putSecret(s, bytes('one'), { seq: 1, ttlSeconds: TTL });
        await a.putSecret(s, bytes('two'), { seq: 2, ttlSeconds: TTL });
        assert.deepEqual(await b.getSecret({ seed: s }), { value: bytes('two'), seq: 2 });
        await rejectsWith(
          a.putSecret(s, bytes('old'), { seq: 1, ttlSeconds: TTL }),
          OverlayErrorCode.SeqTooLow,
        );
        await rejectsWith(
          a.putSecret(s, bytes('other'), { seq: 2, ttlSeconds: TTL }),
          OverlayErrorCode.SeqTooLow,
        );
        assert.deepEqual(await b.getSecret({ seed: s }), { value: bytes('two'), seq: 2 });
      }),
    );

    test(
      'a refresh (same seq, same value) is accepted and costs no public-key operation',
      withHarness(async (a, b, h) => {
        const s = seed();
        const value = new Uint8Array(randomBytes(1000));
        await a.putSecret(s, value, { seq: 3, ttlSeconds: TTL });
        const afterFirst = h.pkOps.total;
        assert.ok(afterFirst >= 1, 'the first put derives a key pair');
        for (let i = 0; i < 3; i++) await a.putSecret(s, value, { seq: 3, ttlSeconds: TTL });
        assert.equal(h.pkOps.total, afterFirst, 'refreshes did public-key work');
        assert.deepEqual(await b.getSecret({ seed: s }), { value, seq: 3 });
      }),
    );

    test(
      'a record is still found just before its ttl runs out; a refresh restarts the ttl',
      withHarness(async (a, b, h) => {
        const s = seed();
        await a.putSecret(s, bytes('v'), { seq: 1, ttlSeconds: 60 });
        await h.advance(50_000);
        await a.putSecret(s, bytes('v'), { seq: 1, ttlSeconds: 60 });
        await h.advance(50_000);
        assert.equal(text(await b.getSecret({ seed: s })), 'v');
      }),
    );

    test(
      'bad arguments are refused with typed errors and use no seq',
      withHarness(async (a) => {
        const s = seed();
        const ok = { seq: 1, ttlSeconds: TTL };
        await rejectsWith(
          a.putSecret(s, new Uint8Array(MAX_VALUE_BYTES + 1), ok),
          OverlayErrorCode.ValueTooLarge,
        );
        await rejectsWith(a.putSecret(s, new Uint8Array(0), ok), OverlayErrorCode.BadValue);
        for (const bad of [new Uint8Array(31), new Uint8Array(33), 'k' as unknown as Uint8Array]) {
          await rejectsWith(a.putSecret(bad, bytes('v'), ok), OverlayErrorCode.BadKey);
          await rejectsWith(a.getSecret({ seed: bad }), OverlayErrorCode.BadKey);
          await rejectsWith(a.getSecret({ address: bad }), OverlayErrorCode.BadKey);
          assert.throws(() => a.addressOf(bad), { code: OverlayErrorCode.BadKey });
        }
        for (const opts of [
          { seq: -1, ttlSeconds: TTL },
          { seq: MAX_SEQ + 1, ttlSeconds: TTL },
          { seq: 0.5, ttlSeconds: TTL },
          { seq: 1, ttlSeconds: 0 },
          { seq: 1, ttlSeconds: MAX_SECRET_TTL_SECONDS + 1 },
        ]) {
          await rejectsWith(a.putSecret(s, bytes('v'), opts), OverlayErrorCode.BadOption);
        }
        await rejectsWith(a.getSecret({ seed: s }, { timeoutMs: 0 }), OverlayErrorCode.BadOption);
        await rejectsWith(
          a.putSecret(s, bytes('v'), { ...ok, signal: AbortSignal.abort() }),
          OverlayErrorCode.Aborted,
        );
        await rejectsWith(
          a.getSecret({ seed: s }, { signal: AbortSignal.abort() }),
          OverlayErrorCode.Aborted,
        );
        assert.equal(await a.getSecret({ seed: s }), undefined);
        await a.putSecret(s, bytes('v'), ok);
      }),
    );

    test(
      'a closed service refuses calls with OVERLAY_CLOSED; close is idempotent; others go on',
      withHarness(async (a, b) => {
        const s = seed();
        await b.putSecret(s, bytes('b'), { seq: 1, ttlSeconds: TTL });
        await a.close();
        await a.close();
        await rejectsWith(
          a.putSecret(seed(), bytes('v'), { seq: 1, ttlSeconds: TTL }),
          OverlayErrorCode.Closed,
        );
        await rejectsWith(a.getSecret({ seed: s }), OverlayErrorCode.Closed);
        assert.equal(text(await b.getSecret({ seed: s })), 'b');
      }),
    );
  });
}
