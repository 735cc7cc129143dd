/**
 * A private HyperDHT network on 127.0.0.1 for tests (src/overlay/testnet.ts),
 * destroyed with the test or suite that started it.
 */
import { after, type TestContext } from 'node:test';
import { startTestnet, type Testnet, type TestnetOptions } from '../../src/overlay/testnet.js';

export type { DhtRequestLogEntry, Testnet } from '../../src/overlay/testnet.js';

/**
 * Starts a testnet and registers its teardown: with `t` in that test's
 * `t.after`, otherwise in the enclosing suite's (or file's) `after`.
 */
export async function useTestnet(opts: TestnetOptions = {}, t?: TestContext): Promise<Testnet> {
  const testnet = await startTestnet(opts);
  if (t) t.after(() => testnet.destroy());
  else after(() => testnet.destroy());
  return testnet;
}

/** Runs `body` with a fresh testnet and always destroys it afterwards. */
export async function withTestnet<T>(
  opts: TestnetOptions,
  body: (testnet: Testnet) => Promise<T>,
): Promise<T> {
  const testnet = await startTestnet(opts);
  try {
    return await body(testnet);
  } finally {
    await testnet.destroy();
  }
}
