/**
 * LAN multicast between real "hosts": three network namespaces the test
 * creates, A and B joined by a veth pair (198.18.0.1/24 ↔ 198.18.0.2/24, the
 * benchmarking test range, only inside the namespaces), C alone on its
 * loopback. One child process per namespace (`ip netns exec`, because a
 * socket cannot switch namespaces) runs a node with the DEFAULT group and
 * port (fixtures/multicast-node.ts). Nothing is created in the host's
 * namespace and no host route changes; every namespace is deleted in `after`,
 * also when a test failed.
 *
 * Needs root: FAILS with a message saying so otherwise (requireRoot).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ed25519PublicKey } from '../../../src/crypto/ed25519.js';
import type { McDropReason, MulticastStats } from '../../../src/overlay/index.js';
import { createNetns, linkVeth, type Netns, requireRoot } from '../../helpers/netns.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/multicast-node.ts', import.meta.url));
/** Guard against a hung child (never an assertion on speed): a call that takes this long fails. */
const CALL_GUARD_MS = 30_000;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const key = () => hex(randomBytes(32));
const utf = (text: string) => Buffer.from(text).toString('hex');
const text = (h: string) => Buffer.from(h, 'hex').toString();

interface Found {
  value: string;
  seq: number;
  publisher: string;
}

/** A node process inside a namespace, driven by JSON lines. */
class Host {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  readonly #stderr: string[] = [];
  #next = 1;
  #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr!.on('data', (d: Buffer) => this.#stderr.push(d.toString()));
  }

  static async start(ns: Netns, options: Record<string, unknown>): Promise<Host> {
    const child = ns.spawn(
      process.execPath,
      ['--import', 'tsx', fixture, JSON.stringify(options)],
      {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const host = new Host(child);
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      const guard = setTimeout(
        () => reject(new Error(`no ready line from ${ns.name}`)),
        CALL_GUARD_MS,
      );
      child.once('exit', (code) => {
        clearTimeout(guard);
        reject(new Error(`node in ${ns.name} exited (${code}): ${host.#stderr.join('')}`));
      });
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg['ready']) {
          clearTimeout(guard);
          resolve();
          return;
        }
        host.#waiting.get(msg['id'] as number)?.(msg);
      });
    });
    try {
      await ready;
    } catch (err) {
      await host.close();
      throw err;
    }
    return host;
  }

  async call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`${op}: no reply`)), CALL_GUARD_MS);
      this.#waiting.set(id, (r) => {
        clearTimeout(guard);
        resolve(r);
      });
      this.#child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
    this.#waiting.delete(id);
    if (!reply['ok']) throw new Error(`${op} failed: ${String(reply['message'])}`);
    return reply['result'] as T;
  }

  find(k: string): Promise<Found[]> {
    return this.call<Found[]>('find', { key: k });
  }

  stats(): Promise<MulticastStats & { badSignatures: number }> {
    return this.call('stats');
  }

  /** Asks the node to close and waits for it to exit; kills it if it does not. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin!.end(`${JSON.stringify({ id: 0, op: 'close' })}\n`);
    const guard = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(guard);
  }
}

const values = (found: Found[]) => found.map((r) => text(r.value)).sort();

/** Polls `read` (bounded: 200 turns of 25 ms) until `done` holds; returns the last value. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 200 && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = await read();
  }
  return v;
}

describe('LAN multicast between network namespaces', () => {
  const namespaces: Netns[] = [];
  const hosts: Host[] = [];
  let a: Host;
  let b: Host;
  let c: Host;

  before(async () => {
    await requireRoot();
    const [nsA, nsB, nsC] = [
      await createNetns('mc'),
      await createNetns('mc'),
      await createNetns('mc'),
    ];
    namespaces.push(nsA, nsB, nsC);
    await linkVeth(nsA, '198.18.0.1/24', nsB, '198.18.0.2/24');
    // Default group and port: the namespaces are private, so the defaults are safe to test.
    a = await Host.start(nsA, { interface: '198.18.0.1' });
    hosts.push(a);
    b = await Host.start(nsB, { interface: '198.18.0.2' });
    hosts.push(b);
    c = await Host.start(nsC, { interface: '127.0.0.1' });
    hosts.push(c);
  });

  after(async () => {
    await Promise.allSettled(hosts.map((h) => h.close()));
    await Promise.allSettled(namespaces.map((ns) => ns.remove()));
  });

  test('a record of host A is found from host B over the link; host C, not linked, sees nothing', async () => {
    const k = key();
    await a.call('publish', { key: k, value: utf('from A'), seq: 1, ttlSeconds: 60 });
    await b.call('publish', { key: k, value: utf('from B'), seq: 1, ttlSeconds: 60 });
    await c.call('publish', { key: k, value: utf('from C'), seq: 1, ttlSeconds: 60 });
    assert.deepEqual(values(await b.find(k)), ['from A', 'from B']);
    assert.deepEqual(values(await a.find(k)), ['from A', 'from B']);
    assert.deepEqual(values(await c.find(k)), ['from C']);
    assert.ok((await b.stats()).answersReceived >= 1, 'B got its answer over the veth');
  });

  test('publisher replacement across hosts: A\u2019s higher seq replaces its record at B; withdraw removes it', async () => {
    const k = key();
    await a.call('publish', { key: k, value: utf('v1'), seq: 1, ttlSeconds: 60 });
    const [first] = await b.find(k);
    await a.call('publish', { key: k, value: utf('v2'), seq: 2, ttlSeconds: 60 });
    const found = await b.find(k);
    assert.deepEqual(
      found.map((r) => [text(r.value), r.seq, r.publisher]),
      [['v2', 2, first?.publisher]],
    );
    await a.call('withdraw', { key: k });
    assert.deepEqual(await b.find(k), []);
  });

  test('a secret record put on A is read from B by seed and by address, its signature verified', async () => {
    const seed = randomBytes(32);
    const address = hex(ed25519PublicKey(new Uint8Array(seed)));
    await a.call('putSecret', { seed: hex(seed), value: utf('sealed'), seq: 3, ttlSeconds: 60 });
    assert.deepEqual(await b.call('getSecret', { seed: hex(seed) }), {
      value: utf('sealed'),
      seq: 3,
    });
    assert.deepEqual(await b.call('getSecret', { address }), { value: utf('sealed'), seq: 3 });
    assert.equal(await c.call('getSecret', { address }), null);
    assert.equal((await b.stats()).badSignatures, 0);
  });

  test('a garbage flood from B is counted by A, reason by reason, and A goes on answering', async () => {
    const before = await a.stats();
    const expected = await b.call<Record<string, number>>('spray', { rounds: 5 });
    const sent = Object.values(expected).reduce((x, y) => x + y, 0);
    const afterFlood = await until(
      () => a.stats(),
      (s) => s.malformed >= before.malformed + sent,
    );
    assert.equal(afterFlood.malformed, before.malformed + sent);
    for (const [reason, n] of Object.entries(expected))
      assert.equal(
        (afterFlood.malformedBy[reason as McDropReason] ?? 0) -
          (before.malformedBy[reason as McDropReason] ?? 0),
        n,
        reason,
      );
    const k = key();
    await a.call('publish', { key: k, value: utf('alive'), seq: 1, ttlSeconds: 60 });
    assert.deepEqual(values(await b.find(k)), ['alive']);
  });

  test('nothing of the test is in the host namespace: no veth, no test addresses', async () => {
    const run = promisify(execFile);
    const links = (await run('ip', ['-o', 'link'])).stdout;
    const addresses = (await run('ip', ['-o', 'addr'])).stdout;
    assert.doesNotMatch(links, /mc[0-9a-f]{6}[ab]/);
    assert.doesNotMatch(addresses, /198\.18\./);
  });
});
