/**
 * Put/get latency of the lookup backends side by side, each on its own
 * loopback network, a writer and a reader service talking to different
 * nodes:
 *
 *   memory    one MemoryNetwork (the floor: argument checks + copies)
 *   hyperdht  a private HyperDHT testnet of 5 nodes in this process
 *   opendht   3 dhtnode processes (Debian `dhtnode`), REST proxies on 127.0.0.1
 *
 *   npm run bench -- lookup-backends          (OPS=200 to change)
 *
 * Per backend, OPS sequential operations of each kind, each timed alone:
 * publish (a new key, 600-byte value), find (of those keys, from the other
 * node), find again (unchanged records: OpenDHT's cached verdicts);
 * putSecret and getSecret likewise. Reported: p50, p99, max.
 * Needs `dhtnode` (apt-get install dhtnode).
 */
import { randomBytes } from 'node:crypto';
import {
  createOpenDhtLookup,
  createOpenDhtSecretRecords,
  HyperDhtSecretRecords,
  type LookupService,
  MemoryLookup,
  MemoryNetwork,
  MemorySecretRecords,
  type SecretRecordService,
} from '../src/overlay/index.js';
import { startTestnet } from '../src/overlay/testnet.js';
import { startOpenDht } from '../test/helpers/opendht.js';
import type { BenchResult } from './index.js';

const VALUE_BYTES = 600;

interface Pair<S> {
  writer: S;
  reader: S;
}

export async function run(): Promise<BenchResult[]> {
  const ops = Number(process.env.OPS ?? 200);
  const results: BenchResult[] = [];

  const memory = new MemoryNetwork();
  await measure(
    'memory',
    ops,
    { writer: new MemoryLookup(memory), reader: new MemoryLookup(memory) },
    { writer: new MemorySecretRecords(memory), reader: new MemorySecretRecords(memory) },
    results,
  );

  const testnet = await startTestnet({ nodes: 5 });
  try {
    const [w, r] = [testnet.createLookup(), testnet.createLookup()];
    await measure(
      'hyperdht (5-node testnet)',
      ops,
      { writer: w, reader: r },
      {
        writer: new HyperDhtSecretRecords({ dht: w.dht }),
        reader: new HyperDhtSecretRecords({ dht: r.dht }),
      },
      results,
    );
  } finally {
    await testnet.destroy();
  }

  const net = await startOpenDht({ nodes: 3 });
  try {
    const at = (i: number) => ({ proxyUrls: [net.proxyUrls[i] as string] });
    await measure(
      'opendht (3 dhtnodes)',
      ops,
      { writer: createOpenDhtLookup(at(0)), reader: createOpenDhtLookup(at(1)) },
      { writer: createOpenDhtSecretRecords(at(0)), reader: createOpenDhtSecretRecords(at(1)) },
      results,
    );
  } finally {
    await net.stop();
  }
  return results;
}

async function measure(
  backend: string,
  ops: number,
  lookups: Pair<LookupService>,
  secrets: Pair<SecretRecordService>,
  results: BenchResult[],
): Promise<void> {
  try {
    const keys = Array.from({ length: ops }, () => new Uint8Array(randomBytes(32)));
    const value = new Uint8Array(randomBytes(VALUE_BYTES));
    const findOne = async (k: Uint8Array) => {
      const found = await lookups.reader.find(k);
      if (found.length !== 1) throw new Error(`${backend}: find returned ${found.length} records`);
    };
    results.push(
      summary(
        `${backend}: publish`,
        await timeEach(keys, (k) => lookups.writer.publish(k, value, { ttlSeconds: 600, seq: 1 })),
      ),
      summary(`${backend}: find`, await timeEach(keys, findOne)),
      summary(`${backend}: find again (same record)`, await timeEach(keys, findOne)),
      summary(
        `${backend}: putSecret`,
        await timeEach(keys, (seed) =>
          secrets.writer.putSecret(seed, value, { seq: 1, ttlSeconds: 600 }),
        ),
      ),
      summary(
        `${backend}: getSecret`,
        await timeEach(keys, async (seed) => {
          if (!(await secrets.reader.getSecret({ seed }))) throw new Error(`${backend}: no secret`);
        }),
      ),
    );
  } finally {
    for (const s of [lookups.writer, lookups.reader, secrets.writer, secrets.reader])
      await s.close();
  }
}

async function timeEach<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (const item of items) {
    const started = performance.now();
    await fn(item);
    ms.push(performance.now() - started);
  }
  return ms.sort((a, b) => a - b);
}

function summary(name: string, sortedMs: number[]): BenchResult {
  const at = (p: number) =>
    sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] ?? Number.NaN;
  const total = sortedMs.reduce((a, b) => a + b, 0);
  return {
    name,
    opsPerSec: (1000 * sortedMs.length) / total,
    extra: {
      p50_ms: at(50).toFixed(2),
      p99_ms: at(99).toFixed(2),
      max_ms: (sortedMs.at(-1) ?? Number.NaN).toFixed(2),
    },
  };
}
