/**
 * Publishing secret records for many friends (issue 4): one node with
 * FRIENDS contacts (default 1,000), the memory secret-record backend, a real
 * store (pair states in SQLite, one transaction per round), an injected clock.
 *
 *   npm run bench -- secret-publish          (FRIENDS=1000 to change)
 *   BACKEND=hyperdht npm run bench -- secret-publish
 *        the same rounds into a real HyperDHT testnet on loopback (5 nodes):
 *        every put is a signed mutable record sent over UDP
 *
 * Phases, each one round over all friends:
 *   first publish   — pair states created (one X25519 each), keys, seal, put
 *   refresh         — same package, same epoch: cached records re-put
 *   new package     — within the epoch: re-sealed, same keys
 *   epoch change    — states stepped and persisted, new keys, sealed, put
 * Reported per friend: CPU time (user + system, this process), bytes put,
 * public-key operations (privacy side: X25519; backend: key generations —
 * the HyperDHT backend adds one signature per NEW value, none on a refresh).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHyperDht } from '../src/dht/hyperdht.js';
import { Identity } from '../src/identity/identity.js';
import { PairSecrets } from '../src/node/pair-secrets.js';
import { KvSecretSeqs, SecretPublisher } from '../src/node/secret-publisher.js';
import { HyperDhtSecretRecords } from '../src/overlay/hyperdht-secret.js';
import { MemoryNetwork, MemorySecretRecords, PkOpTally } from '../src/overlay/index.js';
import { startTestnet } from '../src/overlay/testnet.js';
import { encodePackage } from '../src/package/encode.js';
import { Store } from '../src/store/index.js';
import type { BenchResult } from './index.js';

export async function run(): Promise<BenchResult[]> {
  const friends = Number(process.env.FRIENDS ?? 1000);
  const home = mkdtempSync(join(tmpdir(), 'p2psip-bench-secret-'));
  const store = Store.open(join(home, 'node'));
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const seed = new Uint8Array(32).fill(1);
    const identity = Identity.fromSeed('alice@example.org', seed);
    store.setIdentity({ aor: identity.aor, seed, publicKey: identity.publicKey });
    store.transaction(() => {
      for (let i = 0; i < friends; i++) {
        const friend = Identity.generate(`friend${i}@example.org`);
        store.addContact({ aor: friend.aor, publicKey: friend.publicKey, source: 'card' });
      }
    });
    let ms = 1_700_000_000_000;
    const now = () => ms;
    const network = new MemoryNetwork({ clock: { now, setTimeout: () => ({ cancel() {} }) } });
    const privacyOps = new PkOpTally();
    const backendOps = new PkOpTally();
    const hyper = process.env.BACKEND === 'hyperdht';
    const testnet = hyper ? await startTestnet({ nodes: 5 }) : undefined;
    const dht = testnet
      ? createHyperDht({ bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false })
      : undefined;
    if (dht) {
      await dht.ready();
      cleanup.push(async () => {
        await dht.destroy();
        await testnet?.destroy();
      });
    }
    const records = dht
      ? new HyperDhtSecretRecords({ dht, pkOps: backendOps })
      : new MemorySecretRecords(network, { pkOps: backendOps });
    const pairs = new PairSecrets({ store, identity, now, pkOps: privacyOps });
    const publisher = new SecretPublisher({
      records,
      pairs,
      friends: () => store.listContacts().map((c) => c.aor),
      seqs: new KvSecretSeqs(store),
    });
    let seq = 0;
    const pkg = () => {
      const created = Math.floor(ms / 1000);
      return encodePackage(
        {
          seq: ++seq,
          created,
          expires: created + 3600,
          contacts: [{ transport: 'hyperdht', key: new Uint8Array(32).fill(9) }],
        },
        identity,
      );
    };
    const results: BenchResult[] = [];
    const phase = async (name: string, round: () => ReturnType<SecretPublisher['publish']>) => {
      privacyOps.reset();
      backendOps.reset();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const report = await round();
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      if (!report || report.failed.length > 0 || report.records !== friends)
        throw new Error(`${name}: ${JSON.stringify(report)}`);
      const cpuUs = used.user + used.system;
      results.push({
        name: `${name} (${friends} friends, ${hyper ? 'hyperdht' : 'memory'})`,
        usPerOp: cpuUs / friends,
        extra: {
          wall_ms: wallMs.toFixed(0),
          sealed: report.sealed,
          bytes_per_friend: 1000,
          pk_privacy_per_friend: (privacyOps.total / friends).toFixed(2),
          pk_backend_per_friend: (backendOps.total / friends).toFixed(2),
        },
      });
    };
    await phase('first publish', () => publisher.publish(pkg()));
    ms += 10 * 60_000;
    await phase('refresh within the epoch', async () => (await publisher.refresh())!);
    await phase('new package within the epoch', () => publisher.publish(pkg()));
    ms += 3600_000;
    await phase('epoch change', async () => (await publisher.refresh())!);
    const stateBytes = store.getPairState('friend0@example.org');
    results.push({
      name: 'durable state per friend',
      extra: {
        pair_state_json_bytes: JSON.stringify(stateBytes).length,
        record_bytes: 1000,
      },
    });
    return results;
  } finally {
    for (const c of cleanup) await c();
    store.close();
    rmSync(home, { recursive: true, force: true });
  }
}
