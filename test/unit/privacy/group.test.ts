import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  groupEpochKeys,
  openRecord,
  PrivacyErrorCode,
  pairEpochKeys,
  sealRecord,
} from '../../../src/privacy/index.js';
import { code, EPOCH, fill, newPair } from './fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const G = fill(32, 0x44);

test('every member derives the same one record per epoch', () => {
  const publisher = groupEpochKeys(G, EPOCH);
  const member = groupEpochKeys(Uint8Array.from(G), EPOCH);
  assert.deepEqual(member, publisher);
  const rec = sealRecord(fill(300, 1), publisher.recordKey);
  assert.deepEqual(openRecord(rec, member.recordKey), fill(300, 1));
});

test('epochs and groups are unlinkable; group keys never equal pair keys', () => {
  const seen = new Set<string>();
  for (let e = EPOCH; e < EPOCH + 24; e++) {
    for (const g of [G, fill(32, 0x45)]) {
      const k = groupEpochKeys(g, e);
      for (const x of [k.lookupKey, k.recordKey, k.recordSeed]) {
        assert.ok(!seen.has(hex(x)));
        seen.add(hex(x));
      }
    }
  }
  const pair = pairEpochKeys(newPair().a, EPOCH, 'to-peer');
  assert.ok(!seen.has(hex(pair.lookupKey)));
});

test('bad group key or epoch is PRIVACY_BAD_ARGUMENT', () => {
  assert.equal(
    code(() => groupEpochKeys(fill(16, 1), EPOCH)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => groupEpochKeys(G, 2 ** 32)),
    PrivacyErrorCode.BadArgument,
  );
});
