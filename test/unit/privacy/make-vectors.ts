// Writes the privacy golden vectors from fixed inputs:
//   node --import tsx test/unit/privacy/make-vectors.ts > test/vectors/privacy-v1.json
// Run it only when the v1 format changes on purpose (then it is v2 and needs
// new labels). vectors.test.ts checks the file against this code AND
// recomputes it with node:crypto and sodium-native from the documented formulas.
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '../../../src/crypto/index.js';
import { Identity } from '../../../src/identity/index.js';
import {
  advanceToEpoch,
  epochOf,
  groupEpochKeys,
  initialPairState,
  nodeTunnelSeed,
  pairEpochKeys,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
  sealRecord,
} from '../../../src/privacy/index.js';
import packages from '../../vectors/package-v1.json' with { type: 'json' };
import { fill, keysHex } from './fixtures.js';

const alicePkg = packages.vectors[0]!;
const bobPkg = packages.vectors[1]!;
const b64 = (text: string) => toHex(Buffer.from(text, 'base64url'));

const unixTime = 1_700_000_000;
const epochSeconds = 3600;
const epoch = epochOf(unixTime, epochSeconds);
const binding = Uint8Array.from({ length: 64 }, (_, i) => 0x40 + i);
const aliceRandomness = fill(32, 0x11);
const bobRandomness = fill(32, 0x22);
const recordNonce = fill(24, 0x33);
const groupKey = fill(32, 0x44);
const localSeed = fill(32, 0x55);

const alice = Identity.fromSeed(alicePkg.aor, fromHex(alicePkg.seed));
const bob = Identity.fromSeed(bobPkg.aor, fromHex(bobPkg.seed));
const a0 = initialPairState(alice, bob.publicKey, epoch, { epochSeconds });
const b0 = initialPairState(bob, alice.publicKey, epoch, { epochSeconds });

const { message: offer, pending } = ratchetOffer(a0, aliceRandomness, binding);
const accepted = ratchetAccept(b0, offer, bobRandomness, binding);
const confirmed = ratchetConfirm(pending, accepted.reply);
const b1 = ratchetFinish(accepted.state, confirmed.confirm);
const a1 = confirmed.state;
const a2 = advanceToEpoch(a1, epoch + 1);
const gen1AliceToBob = pairEpochKeys(a1, epoch, 'to-peer');
const packageBytes = new TextEncoder().encode(alicePkg.package);
const record = sealRecord(packageBytes, gen1AliceToBob.recordKey, { nonce: recordNonce });
const group = groupEpochKeys(groupKey, epoch);

if (b1.current.chain !== a1.current.chain) throw new Error('sides disagree');

const out = {
  description:
    'p2psip privacy v1 golden vectors (docs/privacy.md). Fixed identities (the package-v1 seeds), epoch, ephemeral randomness, channel binding and nonce give exactly these bytes. Secrets are hex here; a stored pair state holds them as base64url.',
  inputs: {
    alice: { aor: alicePkg.aor, seed: alicePkg.seed, publicKey: alice.publicKeyHex },
    bob: { aor: bobPkg.aor, seed: bobPkg.seed, publicKey: bob.publicKeyHex },
    unixTime,
    epochSeconds,
    epoch,
    binding: toHex(binding),
    aliceRandomness: toHex(aliceRandomness),
    bobRandomness: toHex(bobRandomness),
  },
  generation0: {
    root: b64(a0.root),
    chain: b64(a0.current.chain),
    confirm: b64(a0.current.confirm),
    aliceToBob: keysHex(pairEpochKeys(a0, epoch, 'to-peer')),
    bobToAlice: keysHex(pairEpochKeys(a0, epoch, 'from-peer')),
  },
  ratchet: {
    offer: toHex(offer),
    reply: toHex(accepted.reply),
    confirm: toHex(confirmed.confirm),
  },
  generation1: {
    chain: b64(a1.current.chain),
    confirm: b64(a1.current.confirm),
    aliceToBob: keysHex(gen1AliceToBob),
    bobToAlice: keysHex(pairEpochKeys(a1, epoch, 'from-peer')),
    aliceState: a1,
  },
  nextEpoch: {
    epoch: epoch + 1,
    chain: b64(a2.current.chain),
    aliceToBob: keysHex(pairEpochKeys(a2, epoch + 1, 'to-peer')),
  },
  record: {
    note: 'alice → bob, generation 1, the package of package-v1 vector 1',
    recordKey: toHex(gen1AliceToBob.recordKey),
    nonce: toHex(recordNonce),
    packageSize: packageBytes.length,
    size: record.length,
    sha256: createHash('sha256').update(record).digest('hex'),
    hex: toHex(record),
  },
  group: {
    groupKey: toHex(groupKey),
    epoch,
    lookupKey: toHex(group.lookupKey),
    recordKey: toHex(group.recordKey),
    recordSeed: toHex(group.recordSeed),
  },
  nodeTunnel: { localSeed: toHex(localSeed), epoch, seed: toHex(nodeTunnelSeed(localSeed, epoch)) },
};

process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
