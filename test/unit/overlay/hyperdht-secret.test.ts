import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { toHex } from '../../../src/crypto/bytes.js';
import { blake2b } from '../../../src/crypto/hash.js';
import { HyperDhtSecretRecords, OverlayErrorCode, PkOpTally } from '../../../src/overlay/index.js';
import { RECORD_SIZE, sealRecord } from '../../../src/privacy/record.js';
import { withTestnet } from '../../helpers/testnet.js';
import { runSecretCompliance } from './secret-compliance.js';

runSecretCompliance('hyperdht', async () => {
  const { startTestnet } = await import('../../../src/overlay/testnet.js');
  const testnet = await startTestnet({ nodes: 5 });
  const pkOps = new PkOpTally();
  const services = [
    new HyperDhtSecretRecords({ dht: testnet.createLookup().dht, pkOps }),
    new HyperDhtSecretRecords({ dht: testnet.createLookup().dht }),
  ];
  return {
    services,
    pkOps,
    // HyperDHT nodes keep a record 48 h; the suite only checks the lower bound.
    advance: async () => {},
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
      await testnet.destroy();
    },
  };
});

test('hyperdht secrets: needs a DHT node', () => {
  assert.throws(() => new HyperDhtSecretRecords({} as never), { code: OverlayErrorCode.BadOption });
});

test('hyperdht secrets: a 1,000-byte sealed record round-trips in a 40-node testnet; nothing is announced; a refresh re-puts the same signed record without signing', async () => {
  await withTestnet({ nodes: 40, loggers: [1, 2, 3, 4, 5, 6, 7, 8] }, async (testnet) => {
    const pkOps = new PkOpTally();
    const writer = new HyperDhtSecretRecords({ dht: testnet.createLookup().dht, pkOps });
    const reader = new HyperDhtSecretRecords({ dht: testnet.createLookup().dht });
    const seed = new Uint8Array(randomBytes(32));
    const record = sealRecord(new Uint8Array(860).fill(7), new Uint8Array(32).fill(1));
    assert.equal(record.byteLength, RECORD_SIZE);
    await writer.putSecret(seed, record, { seq: 1, ttlSeconds: 3600 });
    assert.deepEqual(pkOps.counts, { keygen: 1, sign: 1, verify: 0, x25519: 0 });
    const got = await reader.getSecret({ address: writer.addressOf(seed) });
    assert.deepEqual(got && Buffer.from(got.value), Buffer.from(record));
    assert.equal(got?.seq, 1);

    const target = toHex(blake2b(writer.addressOf(seed), 32));
    const puts = () =>
      [1, 2, 3, 4, 5, 6, 7, 8]
        .flatMap((i) => testnet.log(i))
        .filter((e) => e.command === 'MUTABLE_PUT' && e.target && toHex(e.target) === target);
    const before = puts().length;
    assert.ok(before >= 1, 'no logging node was asked to store the record');
    await writer.putSecret(seed, record, { seq: 1, ttlSeconds: 3600 });
    assert.deepEqual(pkOps.counts, { keygen: 1, sign: 1, verify: 0, x25519: 0 });
    assert.ok(puts().length > before, 'the refresh did not reach the storing nodes');
    for (const e of puts()) assert.deepEqual(Buffer.from(e.stored!.value), Buffer.from(record));
    const all = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((i) => testnet.log(i));
    assert.equal(all.filter((e) => e.command === 'ANNOUNCE').length, 0);
    // The refreshed record still verifies for a reader (hyperdht checks the signature).
    assert.equal((await reader.getSecret({ seed }))?.seq, 1);
    await writer.close();
    await reader.close();
  });
});
