/**
 * unlisten({ quiet: true }) lets a key's announcement lapse instead of
 * withdrawing it (closeServerQuietly in src/dht/hyperdht.ts, which replaces
 * one internal step of hyperdht 6.x). A logging DHT node shows the
 * difference; if a hyperdht upgrade changes the internals, this fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadHyperDht } from '../../../src/dht/hyperdht.js';
import { startTestnet } from '../../../src/overlay/testnet.js';
import { TunnelEndpoint } from '../../../src/tunnel/endpoint.js';

test('a quiet unlisten sends no UNANNOUNCE; a normal one does', async () => {
  const testnet = await startTestnet({ nodes: 3, loggers: [1] });
  const ep = new TunnelEndpoint({
    bootstrap: testnet.bootstrap,
    host: '127.0.0.1',
    accept: () => true,
  });
  try {
    const hyper = loadHyperDht();
    const quiet = hyper.keyPair();
    const loud = hyper.keyPair();
    const unannounced = (pk: Uint8Array) =>
      testnet
        .log(1)
        .filter(
          (e) =>
            e.command === 'UNANNOUNCE' &&
            e.announcer !== undefined &&
            Buffer.compare(e.announcer, pk) === 0,
        ).length;
    const announced = (pk: Uint8Array) =>
      testnet
        .log(1)
        .some(
          (e) => e.command === 'ANNOUNCE' && e.announcer && Buffer.compare(e.announcer, pk) === 0,
        );
    await ep.listen(quiet);
    await ep.listen(loud);
    assert.ok(announced(quiet.publicKey) && announced(loud.publicKey), 'both keys were announced');
    await ep.unlisten(quiet.publicKey, { quiet: true });
    await ep.unlisten(loud.publicKey);
    assert.equal(unannounced(quiet.publicKey), 0, 'the quiet key was not withdrawn');
    assert.ok(unannounced(loud.publicKey) > 0, 'the normal key was withdrawn');
    assert.deepEqual(ep.listeningKeys, []);
  } finally {
    await ep.close();
    await testnet.destroy();
  }
});
