// Issue 4's must-show: "a test plays the attacker with a stolen identity key
// and fails to compute the current lookup key of a pair that has talked".
// The attacker here is stronger than one thief: it holds BOTH identity seeds
// and every byte the two nodes exchanged (OFFER, REPLY, CONFIRM, the channel
// binding) — everything except the ephemeral secrets, which never leave the
// ratchet functions and are never stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Identity } from '../../../src/identity/index.js';
import {
  advanceToEpoch,
  initialPairState,
  lookupKeys,
  openRecord,
  type PairState,
  PrivacyErrorCode,
  pairEpochKeys,
  privacyErrorCode,
  publishKeys,
  sealRecord,
} from '../../../src/privacy/index.js';
import { alice, bob, EPOCH, exchange, newPair } from './fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every lookup key the attacker can derive from the two stolen identities, for epochs near `epoch`. */
function attackerKeys(epoch: number): Set<string> {
  const stolenA = Identity.fromSeed(alice.aor, alice.toRecord().seed);
  const stolenB = Identity.fromSeed(bob.aor, bob.toRecord().seed);
  const out = new Set<string>();
  for (const state of [
    initialPairState(stolenA, bob.publicKey, epoch - 3),
    initialPairState(stolenB, alice.publicKey, epoch - 3),
  ]) {
    for (let e = epoch - 3; e <= epoch + 3; e++) {
      const s = advanceToEpoch(state, e);
      for (const dir of ['to-peer', 'from-peer'] as const) {
        out.add(hex(pairEpochKeys(s, e, dir).lookupKey));
      }
    }
  }
  return out;
}

function currentKeys(s: PairState, epoch: number): string[] {
  return [...publishKeys(s, epoch), ...lookupKeys(s, epoch)].map((k) => hex(k.lookupKey));
}

test('before the pair talks, the identity keys DO give the lookup keys (the documented price of no first message)', () => {
  const { a } = newPair();
  const stolen = attackerKeys(EPOCH);
  for (const k of currentKeys(a, EPOCH)) assert.ok(stolen.has(k));
});

test('after one exchange, both stolen identity keys give none of the current lookup keys', () => {
  const { a, b } = newPair();
  const x = exchange(a, b);
  const stolen = attackerKeys(EPOCH);
  for (const s of [x.offerer, x.responder]) {
    for (const k of currentKeys(s, EPOCH))
      assert.ok(!stolen.has(k), 'attacker computed a live key');
  }
  // Nor in later epochs, which the pair reaches without talking again.
  const later = advanceToEpoch(x.offerer, EPOCH + 24);
  const stolenLater = attackerKeys(EPOCH + 24);
  for (const k of currentKeys(later, EPOCH + 24)) assert.ok(!stolenLater.has(k));
});

test("after one exchange, the attacker cannot open the pair's records either", () => {
  const { a, b } = newPair();
  const { offerer } = exchange(a, b);
  const real = publishKeys(offerer, EPOCH)[0]!;
  const record = sealRecord(new TextEncoder().encode('<reg …/>'), real.recordKey);
  const stolenA = Identity.fromSeed(alice.aor, alice.toRecord().seed);
  const guess = pairEpochKeys(initialPairState(stolenA, bob.publicKey, EPOCH), EPOCH, 'to-peer');
  assert.throws(
    () => openRecord(record, guess.recordKey),
    (err) => privacyErrorCode(err) === PrivacyErrorCode.RecordAuth,
  );
});

test('a thief of the stored state at epoch e+1 cannot get epoch e back', () => {
  const { offerer } = exchange(newPair().a, newPair().b);
  const keyAtE = hex(publishKeys(offerer, EPOCH)[0]!.lookupKey);
  const stolenState = advanceToEpoch(offerer, EPOCH + 1);
  // The API refuses, and nothing in the stored state derives it: trying every
  // secret in the state as a chain at epoch e gives other keys.
  assert.throws(
    () => publishKeys(stolenState, EPOCH),
    (err) => privacyErrorCode(err) === PrivacyErrorCode.EpochPast,
  );
  for (const secret of [stolenState.root, stolenState.current.chain, stolenState.current.confirm]) {
    const fake = {
      ...stolenState,
      epoch: EPOCH,
      current: { ...stolenState.current, chain: secret },
    };
    assert.notEqual(hex(publishKeys(fake, EPOCH)[0]!.lookupKey), keyAtE);
  }
});
