import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  advanceToEpoch,
  CONFIRM_BYTES,
  initialPairState,
  lookupKeys,
  ownOfferWins,
  type PairState,
  PrivacyError,
  PrivacyErrorCode,
  publishKeys,
  RATCHET_CONFIRM_KIND,
  RATCHET_OFFER_KIND,
  RATCHET_REPLY_KIND,
  REPLY_BYTES,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
  wipePending,
} from '../../../src/privacy/index.js';
import {
  alice,
  BINDING,
  bob,
  carol,
  code,
  EPOCH,
  exchange,
  fill,
  newPair,
  rand,
} from './fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Both sides hold the same current generation and neither keeps a previous one. */
function assertInStep(a: PairState, b: PairState): void {
  assert.equal(a.epoch, b.epoch, 'same epoch');
  assert.equal(a.current.gen, b.current.gen, 'same generation');
  assert.equal(a.current.chain, b.current.chain, 'same chain secret');
  assert.equal(a.current.confirm, b.current.confirm, 'same tag key');
  assert.equal(a.previous, null);
  assert.equal(b.previous, null);
}

/** Each side can find the other's record: a key one publishes under is one the other looks up with. */
function assertReachable(a: PairState, b: PairState, epoch: number): void {
  const meets = (pub: PairState, reader: PairState) => {
    const published = new Set(publishKeys(pub, epoch).map((k) => hex(k.lookupKey)));
    return lookupKeys(reader, epoch).some((k) => published.has(hex(k.lookupKey)));
  };
  assert.ok(meets(a, b), 'b finds a');
  assert.ok(meets(b, a), 'a finds b');
}

test('control kinds follow IDENTITY (0x10); REPLY and CONFIRM have fixed sizes', () => {
  assert.deepEqual(
    [RATCHET_OFFER_KIND, RATCHET_REPLY_KIND, RATCHET_CONFIRM_KIND],
    [0x11, 0x12, 0x13],
  );
  const { a, b } = newPair();
  const x = exchange(a, b);
  assert.equal(x.offer.length, 42 + 20, 'generation 0 offers one base');
  assert.equal(x.reply.length, REPLY_BYTES);
  assert.equal(x.confirm.length, CONFIRM_BYTES);
  const y = exchange(x.offerer, x.responder);
  assert.equal(y.offer.length, 42 + 2 * 20, 'generation 1 offers itself and generation 0');
});

test('a complete exchange: both sides move to generation 1 with the same new chain', () => {
  const { a, b } = newPair();
  const x = exchange(a, b);
  assertInStep(x.offerer, x.responder);
  assert.equal(x.offerer.current.gen, 1);
  assert.notEqual(x.offerer.current.chain, a.current.chain);
  const before = publishKeys(a, EPOCH)[0]!;
  const after = publishKeys(x.offerer, EPOCH)[0]!;
  assert.notEqual(hex(after.lookupKey), hex(before.lookupKey));
  assert.equal(hex(after.lookupKey), hex(lookupKeys(x.responder, EPOCH)[0]!.lookupKey));
});

test('every exchange makes a new generation and new keys; either side may offer', () => {
  let { a, b } = newPair();
  const seen = new Set<string>([hex(publishKeys(a, EPOCH)[0]!.lookupKey)]);
  for (let i = 1; i <= 4; i++) {
    const x = i % 2 === 1 ? exchange(a, b) : exchange(b, a);
    [a, b] = i % 2 === 1 ? [x.offerer, x.responder] : [x.responder, x.offerer];
    assertInStep(a, b);
    assert.equal(a.current.gen, i);
    const k = hex(publishKeys(a, EPOCH)[0]!.lookupKey);
    assert.ok(!seen.has(k), `generation ${i} repeats a lookup key`);
    seen.add(k);
  }
});

test('the same randomness on another tunnel (channel binding) gives another chain', () => {
  const { a, b } = newPair();
  const r1 = fill(32, 7);
  const r2 = fill(32, 8);
  const one = ratchetAccept(b, ratchetOffer(a, r1, fill(64, 1)).message, r2, fill(64, 1));
  const two = ratchetAccept(b, ratchetOffer(a, r1, fill(64, 2)).message, r2, fill(64, 2));
  assert.notEqual(one.state.current.chain, two.state.current.chain);
});

// ---- out of step: each case converges within one further exchange --------

test('OFFER lost: nothing changed; the next exchange works', () => {
  const { a, b } = newPair();
  const { pending } = ratchetOffer(a, rand(), BINDING);
  wipePending(pending);
  assert.ok(
    pending.ephemeralSecret.every((x) => x === 0),
    'wiped',
  );
  const x = exchange(a, b);
  assertInStep(x.offerer, x.responder);
});

test('REPLY lost (or the offerer crashed before storing): both stay reachable, one exchange repairs it', () => {
  const { a, b } = newPair();
  const { message } = ratchetOffer(a, rand(), BINDING);
  const { state: b1 } = ratchetAccept(b, message, rand(), BINDING);
  // b moved to generation 1 but keeps generation 0 until a confirms.
  assert.equal(b1.current.gen, 1);
  assert.equal(b1.previous?.gen, 0);
  assert.equal(publishKeys(b1, EPOCH).length, 2, 'b publishes under both');
  assertReachable(a, b1, EPOCH);
  // a offers again from generation 0; b builds on its previous generation.
  const again = exchange(a, b1);
  assertInStep(again.offerer, again.responder);
  assert.equal(again.offerer.current.gen, 1);
  assert.notEqual(again.offerer.current.chain, b1.current.chain, 'the lost generation is dropped');
});

test('REPLY lost, then the responder offers: the offerer picks the base it holds', () => {
  const { a, b } = newPair();
  const { state: b1 } = ratchetAccept(b, ratchetOffer(a, rand(), BINDING).message, rand(), BINDING);
  const x = exchange(b1, a);
  assertInStep(x.offerer, x.responder);
  assert.equal(x.offerer.current.gen, 1);
});

test('CONFIRM lost (or the responder crashed before storing it): reachable, and the next OFFER confirms', () => {
  const { a, b } = newPair();
  const { message, pending } = ratchetOffer(a, rand(), BINDING);
  const accepted = ratchetAccept(b, message, rand(), BINDING);
  const { state: a1 } = ratchetConfirm(pending, accepted.reply);
  const b1 = accepted.state; // CONFIRM never arrives
  assert.equal(a1.previous, null);
  assert.equal(b1.previous?.gen, 0);
  assertReachable(a1, b1, EPOCH);
  const x = exchange(a1, b1);
  assertInStep(x.offerer, x.responder);
  assert.equal(x.offerer.current.gen, 2, 'built on generation 1, which b now knows a holds');
});

test('the responder crashed before storing its new state: the offerer never commits; next exchange works', () => {
  const { a, b } = newPair();
  const { message, pending } = ratchetOffer(a, rand(), BINDING);
  ratchetAccept(b, message, rand(), BINDING); // computed, never stored, REPLY never sent
  wipePending(pending);
  const x = exchange(a, b);
  assertInStep(x.offerer, x.responder);
  assert.equal(x.offerer.current.gen, 1);
});

test('a side restored from an old backup: the exchange falls back to generation 0 and converges', () => {
  let { a, b } = newPair();
  ({ offerer: a, responder: b } = exchange(a, b));
  const oldA = a; // generation 1, restored later
  for (let i = 0; i < 2; i++) ({ offerer: a, responder: b } = exchange(a, b));
  assert.equal(b.current.gen, 3);
  const x = exchange(oldA, b);
  assertInStep(x.offerer, x.responder);
  assert.equal(x.offerer.current.gen, 1, 'rebuilt on generation 0 with fresh ephemerals');
  assert.notEqual(x.offerer.current.chain, oldA.current.chain);
});

test('same generation number, different secrets: the OFFER is refused, a reset OFFER converges', () => {
  const { a, b } = newPair();
  const a1 = exchange(a, b).offerer; // generation 1, path X
  const b1 = exchange(a, b).responder; // generation 1, path Y (both sides restored to gen 0 once)
  assert.equal(a1.current.gen, b1.current.gen);
  assert.notEqual(a1.current.chain, b1.current.chain);
  assert.equal(
    code(() => ratchetAccept(b1, ratchetOffer(a1, rand(), BINDING).message, rand(), BINDING)),
    PrivacyErrorCode.MessageAuth,
    'the tag of a generation b holds fails: no silent fallback',
  );
  const reset = ratchetOffer(a1, rand(), BINDING, { reset: true });
  assert.equal(reset.message.length, 42 + 20, 'names generation 0 only');
  const accepted = ratchetAccept(b1, reset.message, rand(), BINDING);
  const { state: a2, confirm } = ratchetConfirm(reset.pending, accepted.reply);
  assertInStep(a2, ratchetFinish(accepted.state, confirm));
  assert.equal(a2.current.gen, 1);
});

test('crossed OFFERs: exactly one side keeps its own; the other accepts it', () => {
  const { a, b } = newPair();
  assert.notEqual(ownOfferWins(a), ownOfferWins(b));
  const [winner, loser] = ownOfferWins(a) ? [a, b] : [b, a];
  const w = ratchetOffer(winner, rand(), BINDING);
  const l = ratchetOffer(loser, rand(), BINDING);
  wipePending(l.pending); // the loser drops its own offer …
  const accepted = ratchetAccept(loser, w.message, rand(), BINDING); // … and answers the winner's
  const { state: w1, confirm } = ratchetConfirm(w.pending, accepted.reply);
  assertInStep(w1, ratchetFinish(accepted.state, confirm));
});

test('a repeated CONFIRM changes nothing; a CONFIRM of another generation is unexpected', () => {
  const { a, b } = newPair();
  const x = exchange(a, b);
  assert.deepEqual(ratchetFinish(x.responder, x.confirm), x.responder);
  const y = exchange(x.offerer, x.responder);
  assert.equal(
    code(() => ratchetFinish(y.responder, x.confirm)),
    PrivacyErrorCode.UnexpectedMessage,
  );
});

test('a REPLY that does not answer this pending offer is refused', () => {
  const { a, b } = newPair();
  const first = ratchetOffer(a, rand(), BINDING);
  const second = ratchetOffer(a, rand(), BINDING);
  const reply = ratchetAccept(b, second.message, rand(), BINDING).reply;
  assert.equal(
    code(() => ratchetConfirm(first.pending, reply)),
    PrivacyErrorCode.MessageAuth,
  );
  // A reply built on a generation we never offered.
  const x = exchange(a, b);
  const later = ratchetOffer(x.offerer, rand(), BINDING);
  const replyGen2 = ratchetAccept(x.responder, later.message, rand(), BINDING).reply;
  assert.equal(
    code(() => ratchetConfirm(first.pending, replyGen2)),
    PrivacyErrorCode.UnexpectedMessage,
  );
});

// ---- epochs ---------------------------------------------------------------

test('peers one epoch apart ratchet at the later epoch, whichever side is ahead', () => {
  for (const [ea, eb] of [
    [EPOCH + 1, EPOCH],
    [EPOCH, EPOCH + 1],
  ] as const) {
    const a = advanceToEpoch(newPair().a, ea);
    const b = advanceToEpoch(newPair().b, eb);
    const x = exchange(a, b);
    assertInStep(x.offerer, x.responder);
    assert.equal(x.offerer.epoch, EPOCH + 1);
  }
});

test('peers two epochs apart, or with different epoch lengths, are refused', () => {
  const a = advanceToEpoch(newPair().a, EPOCH + 2);
  const { b } = newPair();
  assert.equal(
    code(() => ratchetAccept(b, ratchetOffer(a, rand(), BINDING).message, rand(), BINDING)),
    PrivacyErrorCode.EpochSkew,
  );
  const b1800 = initialPairState(bob, alice.publicKey, EPOCH, { epochSeconds: 1800 });
  assert.equal(
    code(() =>
      ratchetAccept(b1800, ratchetOffer(newPair().a, rand(), BINDING).message, rand(), BINDING),
    ),
    PrivacyErrorCode.EpochLengthMismatch,
  );
});

test('a REPLY whose epoch is not the offer epoch or the next one is refused', () => {
  const { a, b } = newPair();
  const { message, pending } = ratchetOffer(a, rand(), BINDING);
  const reply = ratchetAccept(advanceToEpoch(b, EPOCH + 1), message, rand(), BINDING).reply;
  assert.equal(ratchetConfirm(pending, reply).state.epoch, EPOCH + 1);
  // The same REPLY against an offer made two epochs earlier.
  const early = { ...pending, state: { ...pending.state, epoch: EPOCH - 1 } };
  assert.equal(
    code(() => ratchetConfirm(early, reply)),
    PrivacyErrorCode.EpochSkew,
  );
  // … or one epoch later than the REPLY.
  const late = { ...pending, state: { ...pending.state, epoch: EPOCH + 2 } };
  assert.equal(
    code(() => ratchetConfirm(late, reply)),
    PrivacyErrorCode.EpochSkew,
  );
});

// ---- authentication -------------------------------------------------------

test('OFFERs are bound to sender, receiver and tunnel', () => {
  const { a, b } = newPair();
  const { message } = ratchetOffer(a, rand(), BINDING);
  // Reflected back to the sender.
  assert.equal(
    code(() => ratchetAccept(a, message, rand(), BINDING)),
    PrivacyErrorCode.MessageAuth,
  );
  // Another tunnel.
  assert.equal(
    code(() => ratchetAccept(b, message, rand(), fill(64, 0x77))),
    PrivacyErrorCode.MessageAuth,
  );
  // Carol's offer to bob is not alice's.
  const cb = initialPairState(carol, bob.publicKey, EPOCH);
  const fromCarol = ratchetOffer(cb, rand(), BINDING).message;
  assert.equal(
    code(() => ratchetAccept(b, fromCarol, rand(), BINDING)),
    PrivacyErrorCode.MessageAuth,
  );
});

test('bad arguments are PRIVACY_BAD_ARGUMENT', () => {
  const { a } = newPair();
  assert.equal(
    code(() => ratchetOffer(a, new Uint8Array(31), BINDING)),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => ratchetOffer(a, rand(), new Uint8Array(256))),
    PrivacyErrorCode.BadArgument,
  );
  assert.equal(
    code(() => ratchetAccept(a, new Uint8Array(62), rand(), 'x' as never)),
    PrivacyErrorCode.BadArgument,
  );
});

// ---- fuzzing: every mutation is a PrivacyError, never anything else ------

/** States in which every byte of every message is covered by the tag the receiver checks. */
function scenarios() {
  const { a: a0, b: b0 } = newPair();
  const x1 = exchange(a0, b0);
  const x2 = exchange(x1.offerer, x1.responder);
  // b answered a third offer; the CONFIRM is outstanding: b holds 3 and keeps 2.
  const third = ratchetOffer(x2.offerer, rand(), BINDING);
  const acc = ratchetAccept(x2.responder, third.message, rand(), BINDING);
  const a3 = ratchetConfirm(third.pending, acc.reply).state;
  return [
    { name: 'generation 0, one base', from: a0, to: b0 },
    { name: 'generation 2, two bases', from: x2.offerer, to: x2.responder },
    { name: 'unconfirmed, three bases', from: acc.state, to: a3 },
  ];
}

const ALLOWED = new Set<string>(Object.values(PrivacyErrorCode));

function rejects(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (!(err instanceof PrivacyError) || !ALLOWED.has(err.code)) throw err;
    return true;
  }
}

const mutation = (max: number) =>
  fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(max - 1),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(max - 1), xor: fc.constant(0) }),
    fc.record({
      kind: fc.constant('grow' as const),
      at: fc.nat(max - 1),
      xor: fc.integer({ min: 0, max: 255 }),
    }),
  );

function mutate(msg: Uint8Array, m: { kind: 'flip' | 'cut' | 'grow'; at: number; xor: number }) {
  if (m.kind === 'cut') return msg.slice(0, m.at % msg.length);
  if (m.kind === 'grow') return Uint8Array.from([...msg, m.xor]);
  const out = msg.slice();
  out[m.at % msg.length]! ^= m.xor;
  return out;
}

for (const s of scenarios()) {
  test(`fuzz (${s.name}): every mutated OFFER, REPLY and CONFIRM is refused with a PrivacyError`, () => {
    const offer = ratchetOffer(s.from, rand(), BINDING);
    const accepted = ratchetAccept(s.to, offer.message, rand(), BINDING);
    const confirmed = ratchetConfirm(offer.pending, accepted.reply);
    fc.assert(
      fc.property(mutation(offer.message.length), (m) =>
        rejects(() => ratchetAccept(s.to, mutate(offer.message, m), rand(), BINDING)),
      ),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(mutation(REPLY_BYTES), (m) =>
        rejects(() => ratchetConfirm(offer.pending, mutate(accepted.reply, m))),
      ),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(mutation(CONFIRM_BYTES), (m) =>
        rejects(() => ratchetFinish(accepted.state, mutate(confirmed.confirm, m))),
      ),
      { numRuns: 100 },
    );
  });
}

test('fuzz: arbitrary bytes as any ratchet message are a PrivacyError', () => {
  const { a, b } = newPair();
  const { pending } = ratchetOffer(a, rand(), BINDING);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      assert.ok(rejects(() => ratchetAccept(b, bytes, rand(), BINDING)));
      assert.ok(rejects(() => ratchetConfirm(pending, bytes)));
      assert.ok(rejects(() => ratchetFinish(b, bytes)));
      return true;
    }),
    { numRuns: 200 },
  );
});

test('a low-order ephemeral key in a REPLY is malformed, not a crash', () => {
  const { a, b } = newPair();
  const { message, pending } = ratchetOffer(a, rand(), BINDING);
  const reply = ratchetAccept(b, message, rand(), BINDING).reply.slice();
  reply.fill(0, 13, 45); // the all-zero point has order 1
  assert.equal(
    code(() => ratchetConfirm(pending, reply)),
    PrivacyErrorCode.MessageMalformed,
  );
});
