// Golden vectors (test/vectors/privacy-v1.json, printed in docs/privacy.md).
// Two checks per value: our code reproduces the file exactly, and the file
// is recomputed here from the documented formulas with node:crypto (HKDF,
// SHA-256) and sodium-native (X25519, Ed25519→X25519, XChaCha20-Poly1305) —
// independently of src/privacy — so the docs, the code and the file agree.
import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fromHex, toHex } from '../../../src/crypto/index.js';
import { Identity } from '../../../src/identity/index.js';
import {
  advanceToEpoch,
  checkPairState,
  epochOf,
  groupEpochKeys,
  initialPairState,
  nodeTunnelSeed,
  openRecord,
  pairEpochKeys,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
  sealRecord,
} from '../../../src/privacy/index.js';
import packages from '../../vectors/package-v1.json' with { type: 'json' };
import v from '../../vectors/privacy-v1.json' with { type: 'json' };
import { keysHex } from './fixtures.js';

const require = createRequire(import.meta.url);
const sodium = require('sodium-native');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const buf = (h: string) => Buffer.from(h, 'hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const EMPTY = Buffer.alloc(0);

/** HKDF-SHA256 with info = label ‖ 0x00 ‖ context (docs/protocol.md "Domain separation"). */
function hkdf(label: string, ikm: Buffer, context: Buffer, salt = EMPTY, length = 32): Buffer {
  const info = Buffer.concat([Buffer.from(label), Buffer.of(0), context]);
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/** A ratchet tag: 16 bytes of HKDF under the tag label; data = kind ‖ sender ‖ receiver ‖ … */
function tag(confirm: Buffer, [kind, ...rest]: [number, ...Buffer[]]): Buffer {
  return hkdf(
    'p2psip/v1/ratchet-tag',
    confirm,
    Buffer.concat([Buffer.of(kind), ...rest]),
    EMPTY,
    16,
  );
}

const alicePub = buf(v.inputs.alice.publicKey);
const bobPub = buf(v.inputs.bob.publicKey);
const pair =
  Buffer.compare(alicePub, bobPub) <= 0
    ? Buffer.concat([alicePub, bobPub])
    : Buffer.concat([bobPub, alicePub]);
const epoch = v.inputs.epoch;
const binding = buf(v.inputs.binding);
const bindingField = Buffer.concat([Buffer.of(binding.length), binding]);

function keysOf(chain: Buffer, publisher: Buffer, reader: Buffer, e: number) {
  const ctx = Buffer.concat([publisher, reader, u32(e)]);
  return {
    lookupKey: hex(hkdf('p2psip/v1/secret-key', chain, ctx)),
    recordKey: hex(hkdf('p2psip/v1/record-key', chain, ctx)),
    recordSeed: hex(hkdf('p2psip/v1/record-seed', chain, ctx)),
    tunnelSeed: hex(hkdf('p2psip/v1/tunnel-seed', chain, ctx)),
  };
}

test('inputs: the identities are the package-v1 ones and the epoch is epochOf(unixTime)', () => {
  assert.equal(v.inputs.alice.seed, packages.vectors[0]!.seed);
  assert.equal(v.inputs.bob.seed, packages.vectors[1]!.seed);
  assert.equal(epochOf(v.inputs.unixTime, v.inputs.epochSeconds), epoch);
  assert.equal(epoch, Math.floor(v.inputs.unixTime / 3600));
});

test('independent recomputation: generation 0 from the static X25519 agreement', () => {
  const xsk = Buffer.alloc(32);
  const xpk = Buffer.alloc(32);
  sodium.crypto_sign_ed25519_sk_to_curve25519(
    xsk,
    Buffer.concat([buf(v.inputs.alice.seed), alicePub]),
  );
  sodium.crypto_sign_ed25519_pk_to_curve25519(xpk, bobPub);
  const raw = Buffer.alloc(32);
  sodium.crypto_scalarmult(raw, xsk, xpk);
  const root = hkdf('p2psip/v1/pair-secret', raw, pair);
  assert.equal(hex(root), v.generation0.root);
  const chain = hkdf('p2psip/v1/pair-epoch', root, Buffer.concat([pair, u32(epoch)]));
  assert.equal(hex(chain), v.generation0.chain);
  assert.equal(hex(hkdf('p2psip/v1/ratchet-confirm', root, u32(0))), v.generation0.confirm);
  assert.deepEqual(keysOf(chain, alicePub, bobPub, epoch), v.generation0.aliceToBob);
  assert.deepEqual(keysOf(chain, bobPub, alicePub, epoch), v.generation0.bobToAlice);
});

test('independent recomputation: OFFER, REPLY, CONFIRM and generation 1, byte for byte', () => {
  const offer = buf(v.ratchet.offer);
  const ephA = Buffer.alloc(32);
  sodium.crypto_scalarmult_base(ephA, buf(v.inputs.aliceRandomness));
  // OFFER: version ‖ epochSeconds ‖ epoch ‖ ephemeral ‖ n=1 ‖ gen 0 ‖ tag
  const offerHead = Buffer.concat([
    Buffer.of(1),
    u32(3600),
    u32(epoch),
    ephA,
    Buffer.of(1),
    u32(0),
  ]);
  const confirm0 = buf(v.generation0.confirm);
  const offerTag = tag(confirm0, [0x11, alicePub, bobPub, bindingField, offerHead, Buffer.of(0)]);
  assert.equal(hex(Buffer.concat([offerHead, offerTag])), v.ratchet.offer);

  const ephB = Buffer.alloc(32);
  sodium.crypto_scalarmult_base(ephB, buf(v.inputs.bobRandomness));
  const replyHead = Buffer.concat([Buffer.of(1), u32(epoch), u32(0), u32(1), ephB]);
  const dh = Buffer.alloc(32);
  sodium.crypto_scalarmult(dh, buf(v.inputs.bobRandomness), ephA);
  const transcript = Buffer.concat([bindingField, offer, replyHead]);
  const chain1 = hkdf(
    'p2psip/v1/ratchet',
    dh,
    Buffer.concat([pair, transcript]),
    buf(v.generation0.chain),
  );
  assert.equal(hex(chain1), v.generation1.chain);
  const confirm1 = hkdf('p2psip/v1/ratchet-confirm', chain1, u32(1));
  assert.equal(hex(confirm1), v.generation1.confirm);
  const replyTag = tag(confirm1, [0x12, bobPub, alicePub, transcript]);
  assert.equal(hex(Buffer.concat([replyHead, replyTag])), v.ratchet.reply);

  const confirmHead = Buffer.concat([Buffer.of(1), u32(1)]);
  const confirmTag = tag(confirm1, [0x13, alicePub, bobPub, confirmHead]);
  assert.equal(hex(Buffer.concat([confirmHead, confirmTag])), v.ratchet.confirm);

  assert.deepEqual(keysOf(chain1, alicePub, bobPub, epoch), v.generation1.aliceToBob);
  assert.deepEqual(keysOf(chain1, bobPub, alicePub, epoch), v.generation1.bobToAlice);
  const next = hkdf('p2psip/v1/epoch-step', chain1, u32(epoch + 1));
  assert.equal(hex(next), v.nextEpoch.chain);
  assert.deepEqual(keysOf(next, alicePub, bobPub, epoch + 1), v.nextEpoch.aliceToBob);
});

test('independent recomputation: the record opens with sodium and has the documented padding', () => {
  const record = buf(v.record.hex);
  assert.equal(record.length, 1000);
  assert.equal(createHash('sha256').update(record).digest('hex'), v.record.sha256);
  assert.equal(record[0], 1);
  assert.equal(hex(record.subarray(1, 25)), v.record.nonce);
  const padded = Buffer.alloc(1000 - 41);
  sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
    padded,
    null,
    record.subarray(25),
    record.subarray(0, 1),
    record.subarray(1, 25),
    buf(v.record.recordKey),
  );
  const pkg = Buffer.from(packages.vectors[0]!.package);
  assert.equal(padded.readUInt16BE(0), pkg.length);
  assert.equal(padded.subarray(2, 2 + pkg.length).toString(), pkg.toString());
  assert.ok(padded.subarray(2 + pkg.length).every((b) => b === 0));
  assert.equal(v.record.recordKey, v.generation1.aliceToBob.recordKey);
});

test('independent recomputation: group keys and the node tunnel seed', () => {
  const g = hkdf('p2psip/v1/group-epoch', buf(v.group.groupKey), u32(epoch));
  assert.equal(hex(hkdf('p2psip/v1/secret-key', g, u32(epoch))), v.group.lookupKey);
  assert.equal(hex(hkdf('p2psip/v1/record-key', g, u32(epoch))), v.group.recordKey);
  assert.equal(hex(hkdf('p2psip/v1/record-seed', g, u32(epoch))), v.group.recordSeed);
  const seed = hkdf('p2psip/v1/node-tunnel-seed', buf(v.nodeTunnel.localSeed), u32(epoch));
  assert.equal(hex(seed), v.nodeTunnel.seed);
});

test('our code reproduces every vector', () => {
  const alice = Identity.fromSeed(v.inputs.alice.aor, fromHex(v.inputs.alice.seed));
  const bob = Identity.fromSeed(v.inputs.bob.aor, fromHex(v.inputs.bob.seed));
  const a0 = initialPairState(alice, bob.publicKey, epoch);
  const b0 = initialPairState(bob, alice.publicKey, epoch);
  assert.equal(toHex(Buffer.from(a0.root, 'base64url')), v.generation0.root);
  assert.deepEqual(keysHex(pairEpochKeys(a0, epoch, 'to-peer')), v.generation0.aliceToBob);
  assert.deepEqual(keysHex(pairEpochKeys(b0, epoch, 'from-peer')), v.generation0.aliceToBob);
  assert.deepEqual(keysHex(pairEpochKeys(b0, epoch, 'to-peer')), v.generation0.bobToAlice);

  const { message, pending } = ratchetOffer(a0, fromHex(v.inputs.aliceRandomness), binding);
  assert.equal(toHex(message), v.ratchet.offer);
  const accepted = ratchetAccept(b0, message, fromHex(v.inputs.bobRandomness), binding);
  assert.equal(toHex(accepted.reply), v.ratchet.reply);
  const confirmed = ratchetConfirm(pending, accepted.reply);
  assert.equal(toHex(confirmed.confirm), v.ratchet.confirm);
  assert.deepEqual(confirmed.state, checkPairState(v.generation1.aliceState));
  const b1 = ratchetFinish(accepted.state, confirmed.confirm);
  assert.deepEqual(keysHex(pairEpochKeys(b1, epoch, 'from-peer')), v.generation1.aliceToBob);
  assert.deepEqual(keysHex(pairEpochKeys(b1, epoch, 'to-peer')), v.generation1.bobToAlice);

  const a2 = advanceToEpoch(confirmed.state, epoch + 1);
  assert.deepEqual(keysHex(pairEpochKeys(a2, epoch + 1, 'to-peer')), v.nextEpoch.aliceToBob);

  const pkg = new TextEncoder().encode(packages.vectors[0]!.package);
  const record = sealRecord(pkg, fromHex(v.record.recordKey), { nonce: fromHex(v.record.nonce) });
  assert.equal(toHex(record), v.record.hex);
  assert.deepEqual(openRecord(record, fromHex(v.record.recordKey)), pkg);

  const g = groupEpochKeys(fromHex(v.group.groupKey), epoch);
  assert.equal(toHex(g.lookupKey), v.group.lookupKey);
  assert.equal(toHex(g.recordKey), v.group.recordKey);
  assert.equal(toHex(g.recordSeed), v.group.recordSeed);
  assert.equal(toHex(nodeTunnelSeed(fromHex(v.nodeTunnel.localSeed), epoch)), v.nodeTunnel.seed);
});

test('docs/privacy.md prints the golden vectors', () => {
  const doc = readFileSync(new URL('../../../docs/privacy.md', import.meta.url), 'utf8');
  const shown = [
    v.generation0.root,
    v.generation0.chain,
    v.generation0.aliceToBob.lookupKey,
    v.generation0.bobToAlice.lookupKey,
    v.ratchet.offer,
    v.ratchet.reply,
    v.ratchet.confirm,
    v.generation1.chain,
    ...Object.values(v.generation1.aliceToBob),
    v.generation1.bobToAlice.lookupKey,
    v.nextEpoch.aliceToBob.lookupKey,
    v.record.sha256,
    v.group.lookupKey,
    v.nodeTunnel.seed,
  ];
  for (const h of shown) assert.ok(doc.includes(h), `docs/privacy.md lacks ${h}`);
});
