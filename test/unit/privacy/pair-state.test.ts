import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advanceToEpoch,
  checkPairState,
  DEFAULT_EPOCH_SECONDS,
  epochOf,
  initialPairState,
  MAX_EPOCH_SKIP,
  PrivacyErrorCode,
  pairEpochKeys,
  privacyErrorCode,
  ratchetAccept,
  ratchetOffer,
} from '../../../src/privacy/index.js';
import { alice, bob, carol, code, EPOCH, exchange, fill, keysHex, newPair } from './fixtures.js';

test('both friends compute the same pair state with no message exchanged', () => {
  const { a, b } = newPair();
  assert.equal(a.root, b.root);
  assert.deepEqual(a.current, b.current);
  assert.equal(a.current.gen, 0);
  assert.equal(a.previous, null);
  assert.equal(a.self, b.peer);
  assert.equal(a.peer, b.self);
  assert.equal(a.epochSeconds, DEFAULT_EPOCH_SECONDS);
});

test('generation 0 depends on the epoch only: friends who start at different epochs agree', () => {
  const a = initialPairState(alice, bob.publicKey, EPOCH);
  const b = initialPairState(bob, alice.publicKey, EPOCH + 5);
  assert.deepEqual(advanceToEpoch(a, EPOCH + 5).current, b.current);
});

test('a different friend gives a different root', () => {
  const ab = initialPairState(alice, bob.publicKey, EPOCH);
  const ac = initialPairState(alice, carol.publicKey, EPOCH);
  assert.notEqual(ab.root, ac.root);
});

test('advancing is one-way: after epoch e+1 the state cannot produce epoch e', () => {
  const { offerer: a1 } = exchange(newPair().a, newPair().b);
  const keysE = keysHex(pairEpochKeys(a1, EPOCH, 'to-peer'));
  const a2 = advanceToEpoch(a1, EPOCH + 1);
  assert.equal(a2.epoch, EPOCH + 1);
  assert.notEqual(a2.current.chain, a1.current.chain);
  assert.equal(a2.current.confirm, a1.current.confirm, 'the tag key does not move with epochs');
  // Nothing of epoch e's chain is left in the stored state …
  assert.ok(!JSON.stringify(a2).includes(a1.current.chain));
  // … and the derivation API refuses past epochs rather than guessing.
  assert.equal(
    code(() => pairEpochKeys(a2, EPOCH, 'to-peer')),
    PrivacyErrorCode.EpochPast,
  );
  assert.equal(
    code(() => advanceToEpoch(a2, EPOCH)),
    PrivacyErrorCode.EpochPast,
  );
  // The same epoch again is a no-op; keys of e+1 are the ones e would derive ahead.
  assert.equal(advanceToEpoch(a2, EPOCH + 1), a2);
  assert.deepEqual(
    keysHex(pairEpochKeys(a2, EPOCH + 1, 'to-peer')),
    keysHex(pairEpochKeys(a1, EPOCH + 1, 'to-peer')),
  );
  assert.notDeepEqual(keysHex(pairEpochKeys(a2, EPOCH + 1, 'to-peer')), keysE);
});

test('advancing several epochs at once equals advancing one at a time', () => {
  const { offerer: a1 } = exchange(newPair().a, newPair().b);
  let stepped = a1;
  for (let e = EPOCH + 1; e <= EPOCH + 4; e++) stepped = advanceToEpoch(stepped, e);
  assert.deepEqual(advanceToEpoch(a1, EPOCH + 4), stepped);
});

test('a skip beyond MAX_EPOCH_SKIP is refused before any work', () => {
  const { a } = newPair();
  assert.equal(
    code(() => advanceToEpoch(a, EPOCH + MAX_EPOCH_SKIP + 1)),
    PrivacyErrorCode.EpochTooFar,
  );
  assert.equal(advanceToEpoch(a, EPOCH + MAX_EPOCH_SKIP).epoch, EPOCH + MAX_EPOCH_SKIP);
  assert.equal(
    code(() => advanceToEpoch(a, 2 ** 32)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => advanceToEpoch(a, 1.5)),
    PrivacyErrorCode.BadArgument,
  );
});

test('epochOf: whole epochs of Unix seconds; milliseconds refused', () => {
  assert.equal(epochOf(1_700_000_000), 472_222);
  assert.equal(epochOf(3599), 0);
  assert.equal(epochOf(3600), 1);
  assert.equal(epochOf(1_700_000_000, 300), 5_666_666);
  assert.equal(
    code(() => epochOf(1_700_000_000_000)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => epochOf(-1)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => epochOf(1_700_000_000, 10)),
    PrivacyErrorCode.BadArgument,
  );
});

test('initialPairState refuses our own key, wrong lengths, non-points and bad epochs', () => {
  assert.equal(
    code(() => initialPairState(alice, alice.publicKey, EPOCH)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => initialPairState(alice, new Uint8Array(31), EPOCH)),
    PrivacyErrorCode.BadArgument,
  );
  // y = 2 is not the y-coordinate of any Ed25519 point.
  const notAPoint = new Uint8Array(32);
  notAPoint[0] = 2;
  assert.equal(
    code(() => initialPairState(alice, notAPoint, EPOCH)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => initialPairState(alice, bob.publicKey, -1)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => initialPairState(alice, bob.publicKey, EPOCH, { epochSeconds: 59 })),
    PrivacyErrorCode.BadArgument,
  );
});

test('the state is JSON-safe and survives a store round trip unchanged', () => {
  const { offerer, responder } = exchange(newPair().a, newPair().b);
  for (const s of [offerer, responder, newPair().a]) {
    const back = checkPairState(JSON.parse(JSON.stringify(s)));
    assert.deepEqual(back, s);
  }
});

test('checkPairState names the broken field of a malformed state', () => {
  const { a } = newPair();
  const cases: Array<[string, (s: Record<string, unknown>) => void]> = [
    ['v', (s) => (s.v = 2)],
    ['self', (s) => (s.self = 'x')],
    ['peer', (s) => (s.peer = s.self)],
    ['epochSeconds', (s) => (s.epochSeconds = 1)],
    ['epoch', (s) => (s.epoch = -3)],
    ['root', (s) => (s.root = `${s.root as string}A`)],
    ['current', (s) => (s.current = null)],
    ['current.gen', (s) => (s.current = { ...(s.current as object), gen: 1.5 })],
    ['previous.chain', (s) => (s.previous = { ...(s.current as object), chain: 'AAAA' })],
    ['state', (s) => (s.extra = 1)],
    ['state', (s) => delete s.previous],
  ];
  for (const [field, breakIt] of cases) {
    const s = JSON.parse(JSON.stringify(a)) as Record<string, unknown>;
    breakIt(s);
    try {
      checkPairState(s);
      assert.fail(`accepted a state with a broken ${field}`);
    } catch (err) {
      assert.equal(privacyErrorCode(err), PrivacyErrorCode.StateMalformed, field);
      assert.match((err as Error).message, new RegExp(field.replace('.', '\\.')));
    }
  }
  assert.equal(
    code(() => checkPairState(null)),
    PrivacyErrorCode.StateMalformed,
  );
  assert.equal(
    code(() => checkPairState('{}')),
    PrivacyErrorCode.StateMalformed,
  );
});

test('advanceToEpoch keeps the previous generation moving with the current one', () => {
  const { a, b } = newPair();
  // b answers an offer and has not seen the CONFIRM yet: it keeps generation 0.
  const { message } = ratchetOffer(a, fill(32, 1), fill(64, 2));
  const { state: b1 } = ratchetAccept(b, message, fill(32, 3), fill(64, 2));
  assert.equal(b1.previous?.gen, 0);
  const b2 = advanceToEpoch(b1, EPOCH + 2);
  assert.equal(b2.previous?.gen, 0);
  assert.deepEqual(b2.previous, advanceToEpoch(newPair().b, EPOCH + 2).current);
});
