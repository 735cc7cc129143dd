import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advanceToEpoch,
  deriveChainKeys,
  initialPairState,
  lookupKeys,
  MAX_KEYS_AHEAD,
  nodeTunnelSeed,
  PrivacyErrorCode,
  pairEpochKeys,
  publishKeys,
  ratchetAccept,
  ratchetOffer,
} from '../../../src/privacy/index.js';
import {
  alice,
  BINDING,
  carol,
  code,
  EPOCH,
  exchange,
  fill,
  keysHex,
  newPair,
  rand,
} from './fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('both sides derive the same keys for each direction', () => {
  const { a, b } = newPair();
  const x = exchange(a, b);
  for (const [sa, sb] of [
    [a, b],
    [x.offerer, x.responder],
  ] as const) {
    assert.deepEqual(
      keysHex(pairEpochKeys(sa, EPOCH, 'to-peer')),
      keysHex(pairEpochKeys(sb, EPOCH, 'from-peer')),
    );
    assert.deepEqual(
      keysHex(pairEpochKeys(sa, EPOCH, 'from-peer')),
      keysHex(pairEpochKeys(sb, EPOCH, 'to-peer')),
    );
  }
});

test('direction A→B differs from B→A, and the four keys of one record differ from each other', () => {
  const { offerer: a } = exchange(newPair().a, newPair().b);
  const ab = keysHex(pairEpochKeys(a, EPOCH, 'to-peer'));
  const ba = keysHex(pairEpochKeys(a, EPOCH, 'from-peer'));
  const all = [...Object.values(ab), ...Object.values(ba)];
  assert.equal(new Set(all).size, 8);
});

test('every epoch has unrelated keys (no key repeats across 48 epochs, both directions)', () => {
  let { offerer: s } = exchange(newPair().a, newPair().b);
  const seen = new Set<string>();
  for (let e = EPOCH; e < EPOCH + 48; e++) {
    s = advanceToEpoch(s, e);
    for (const dir of ['to-peer', 'from-peer'] as const) {
      for (const k of Object.values(keysHex(pairEpochKeys(s, e, dir)))) {
        assert.ok(!seen.has(k), `key repeated at epoch ${e}`);
        seen.add(k);
      }
    }
  }
  assert.equal(seen.size, 48 * 2 * 4);
});

test('another friend gets other keys in the same epoch', () => {
  const ab = pairEpochKeys(newPair().a, EPOCH, 'to-peer');
  const ac = pairEpochKeys(initialPairState(alice, carol.publicKey, EPOCH), EPOCH, 'to-peer');
  assert.notEqual(hex(ab.lookupKey), hex(ac.lookupKey));
  assert.notEqual(hex(ab.recordSeed), hex(ac.recordSeed));
});

test('keys are derivable up to MAX_KEYS_AHEAD past the state, never before it', () => {
  const { a } = newPair();
  assert.equal(MAX_KEYS_AHEAD, 2);
  assert.equal(pairEpochKeys(a, EPOCH + 2, 'to-peer').epoch, EPOCH + 2);
  assert.equal(
    code(() => pairEpochKeys(a, EPOCH + 3, 'to-peer')),
    PrivacyErrorCode.EpochTooFar,
  );
  assert.equal(
    code(() => pairEpochKeys(a, EPOCH - 1, 'to-peer')),
    PrivacyErrorCode.EpochPast,
  );
  assert.equal(
    code(() => pairEpochKeys(a, EPOCH, 'sideways' as never)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => pairEpochKeys(a, EPOCH, 'to-peer', 'previous')),
    PrivacyErrorCode.BadArgument,
  );
});

test('deriving ahead equals advancing first (the reader held back for a grace period agrees)', () => {
  const { offerer: a } = exchange(newPair().a, newPair().b);
  assert.deepEqual(
    keysHex(pairEpochKeys(a, EPOCH + 2, 'to-peer')),
    keysHex(pairEpochKeys(advanceToEpoch(a, EPOCH + 2), EPOCH + 2, 'to-peer')),
  );
});

test('publish under current (+ previous while unconfirmed); look up current first, then previous', () => {
  const { a, b } = newPair();
  assert.equal(publishKeys(a, EPOCH).length, 1);
  const { state: b1 } = ratchetAccept(b, ratchetOffer(a, rand(), BINDING).message, rand(), BINDING);
  const pub = publishKeys(b1, EPOCH);
  assert.deepEqual(
    pub.map((k) => k.generation),
    [1, 0],
  );
  assert.ok(pub.every((k) => k.direction === 'to-peer'));
  const look = lookupKeys(b1, EPOCH);
  assert.deepEqual(
    look.map((k) => k.generation),
    [1, 0],
  );
  assert.ok(look.every((k) => k.direction === 'from-peer'));
  assert.equal(hex(look[1]!.lookupKey), hex(publishKeys(a, EPOCH)[0]!.lookupKey));
});

test('deriveChainKeys binds publisher, reader and epoch', () => {
  const chain = fill(32, 9);
  const p = fill(32, 1);
  const r = fill(32, 2);
  const base = keysHex({
    ...deriveChainKeys(chain, p, r, 5),
    epoch: 5,
    generation: 0,
    direction: 'to-peer',
  });
  for (const other of [
    deriveChainKeys(chain, r, p, 5),
    deriveChainKeys(chain, p, r, 6),
    deriveChainKeys(fill(32, 8), p, r, 5),
  ]) {
    assert.notEqual(hex(other.lookupKey), base.lookupKey);
  }
});

test('nodeTunnelSeed: one per node and epoch', () => {
  const s = fill(32, 0x55);
  assert.notEqual(hex(nodeTunnelSeed(s, EPOCH)), hex(nodeTunnelSeed(s, EPOCH + 1)));
  assert.notEqual(hex(nodeTunnelSeed(s, EPOCH)), hex(nodeTunnelSeed(fill(32, 0x56), EPOCH)));
  assert.equal(
    code(() => nodeTunnelSeed(fill(31, 0), EPOCH)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => nodeTunnelSeed(s, -1)),
    PrivacyErrorCode.BadArgument,
  );
});
