/**
 * Network namespaces for tests that need more than one "host" (LAN multicast
 * between nodes). Everything a test creates lives inside namespaces named
 * `p2psip-<tag>-<random>`: loopback, veth pairs and the addresses on them
 * (test ranges only, 198.18.0.0/15), so no traffic and no route touches the
 * host's own interfaces or routing table. Deleting a namespace deletes the
 * veth ends in it.
 *
 * Needs root (CAP_NET_ADMIN / CAP_SYS_ADMIN): `requireRoot()` FAILS the test
 * with a message saying so — never a silent skip.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Throws (failing the test) unless the process runs as root and `ip netns` works. */
export async function requireRoot(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'this test creates network namespaces and needs root (CAP_NET_ADMIN): run it as root ' +
        '(CI does), e.g. `sudo node scripts/run-tests.mjs <file>`',
    );
  try {
    await run('ip', ['netns', 'list']);
  } catch (err) {
    throw new Error(
      `this test needs iproute2 with netns support (\`ip netns\`): install iproute2 (${String(err)})`,
    );
  }
}

export interface Netns {
  readonly name: string;
  /** Runs `ip -n NAME ARGS…`; resolves with stdout. */
  ip(...args: string[]): Promise<string>;
  /** Starts `ip netns exec NAME command args…` (the child lives inside the namespace). */
  spawn(command: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Deletes the namespace (and the veth ends in it). Idempotent. */
  remove(): Promise<void>;
}

/** A fresh namespace `p2psip-<tag>-<8 hex>` with `lo` up. */
export async function createNetns(tag: string): Promise<Netns> {
  const name = `p2psip-${tag}-${randomBytes(4).toString('hex')}`;
  await run('ip', ['netns', 'add', name]);
  let removed = false;
  const ns: Netns = {
    name,
    ip: async (...args) => (await run('ip', ['-n', name, ...args])).stdout,
    spawn: (command, args, opts = {}) =>
      spawn('ip', ['netns', 'exec', name, command, ...args], opts),
    remove: async () => {
      if (removed) return;
      removed = true;
      await run('ip', ['netns', 'del', name]).catch((err: unknown) => {
        if (!/No such file|not found/i.test(String(err))) throw err;
      });
    },
  };
  try {
    await ns.ip('link', 'set', 'lo', 'up');
  } catch (err) {
    await ns.remove();
    throw err;
  }
  return ns;
}

/**
 * Joins two namespaces with a veth pair (`a` ↔ `b`), each end up with its
 * address/prefix (e.g. '198.18.0.1/24'). Returns the interface names.
 */
export async function linkVeth(
  a: Netns,
  addressA: string,
  b: Netns,
  addressB: string,
): Promise<{ a: string; b: string }> {
  for (const address of [addressA, addressB])
    if (!/^198\.1[89]\.\d{1,3}\.\d{1,3}\/\d{1,2}$/.test(address))
      throw new Error(`linkVeth: ${address} is not in the test range 198.18.0.0/15`);
  const tag = randomBytes(3).toString('hex');
  const names = { a: `mc${tag}a`, b: `mc${tag}b` };
  // Created inside `a` directly: the pair never exists in the host namespace.
  await a.ip('link', 'add', names.a, 'type', 'veth', 'peer', 'name', names.b, 'netns', b.name);
  await a.ip('addr', 'add', addressA, 'dev', names.a);
  await b.ip('addr', 'add', addressB, 'dev', names.b);
  await a.ip('link', 'set', names.a, 'up');
  await b.ip('link', 'set', names.b, 'up');
  return names;
}
