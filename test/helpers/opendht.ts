/**
 * A private OpenDHT network on loopback for tests: N `dhtnode` processes
 * (Debian package `dhtnode`, OpenDHT 2.4.12), each with its REST proxy.
 *
 *   const net = await startOpenDht({ nodes: 3 });
 *   try {
 *     const lookup = createOpenDhtLookup({ proxyUrls: net.proxyUrls });
 *     …
 *   } finally {
 *     await net.stop();
 *   }
 *
 * Node i runs `dhtnode -s -n <random network id> -p <free port>
 * [-b 127.0.0.1:<node 0's port>] --proxyserver <free port> --proxy-addr 127.0.0.1`:
 * a network id nobody else uses (a private overlay), bootstrap only to node 0
 * on 127.0.0.1, the HTTP proxy bound to 127.0.0.1. dhtnode 2.4.12 binds its
 * UDP socket to 0.0.0.0, but with no bootstrap other than 127.0.0.1 it only
 * ever talks to loopback. Ready = every proxy's `GET /` reports at least one
 * good IPv4 node (bounded wait). `kill(i)` SIGKILLs one node (a crash);
 * `stop()` SIGKILLs all by PID and waits until they have exited.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { killOnExit, signalChild } from './node-process.js';
import { freePorts } from './ports.js';

export const INSTALL_DHTNODE = 'install dhtnode (apt-get install dhtnode)';
const READY_TIMEOUT_MS = 20_000;
const POLL_MS = 50;
const MAX_LOG_CHARS = 20_000;

export interface OpenDhtOptions {
  /** 3..5 nodes (default 3). */
  nodes?: number;
  /** Until every proxy reports a good node (default 20 s). */
  readyTimeoutMs?: number;
}

export interface OpenDhtNode {
  pid: number;
  /** The DHT UDP port. */
  port: number;
  proxyUrl: string;
  /** stdout + stderr so far (bounded), for assertion messages. */
  log(): string;
  /** True once the process has exited. */
  readonly exited: boolean;
}

export interface OpenDhtNetwork {
  networkId: number;
  nodes: OpenDhtNode[];
  /** Node i's proxy is proxyUrls[i]. */
  proxyUrls: string[];
  /** SIGKILLs node i and waits until it has exited. */
  kill(i: number): Promise<void>;
  /** SIGKILLs every node still running and waits for all to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Throws with the install hint unless `dhtnode` can be run. */
export function requireDhtnode(): void {
  const r = spawnSync('dhtnode', ['-h'], { stdio: 'ignore', timeout: 10_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error(`dhtnode not found on PATH: ${INSTALL_DHTNODE}`);
}

export async function startOpenDht(opts: OpenDhtOptions = {}): Promise<OpenDhtNetwork> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 3 || count > 5)
    throw new Error(`startOpenDht: nodes must be 3..5, got ${count}`);
  requireDhtnode();
  const networkId = randomInt(1, 2 ** 31);
  const ports = await freePorts(2 * count);
  const children: Child[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = ports[2 * i] as number;
      const proxyPort = ports[2 * i + 1] as number;
      const args = ['-s', '-n', String(networkId), '-p', String(port)];
      if (i > 0) args.push('-b', `127.0.0.1:${ports[0]}`);
      args.push('--proxyserver', String(proxyPort), '--proxy-addr', '127.0.0.1');
      children.push(new Child(args, port, `http://127.0.0.1:${proxyPort}`));
    }
    await waitReady(children, opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
  } catch (err) {
    await Promise.all(children.map((c) => c.kill()));
    throw err;
  }
  return {
    networkId,
    nodes: children,
    proxyUrls: children.map((c) => c.proxyUrl),
    kill: async (i) => {
      const child = children[i];
      if (!child) throw new Error(`startOpenDht: no node ${i}`);
      await child.kill();
    },
    stop: async () => {
      await Promise.all(children.map((c) => c.kill()));
    },
  };
}

class Child implements OpenDhtNode {
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #closed: Promise<void>;
  #log = '';
  #exited = false;

  constructor(
    readonly args: string[],
    readonly port: number,
    readonly proxyUrl: string,
  ) {
    this.#child = spawn('dhtnode', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(this.#child);
    const append = (d: string) => {
      if (this.#log.length < MAX_LOG_CHARS) this.#log += d;
    };
    this.#child.stdout?.setEncoding('utf8').on('data', append);
    this.#child.stderr?.setEncoding('utf8').on('data', append);
    this.#closed = new Promise((resolve) => {
      this.#child.once('error', (err) => {
        append(`spawn error: ${err.message}\n`);
        this.#exited = true;
        resolve();
      });
      this.#child.once('close', () => {
        this.#exited = true;
        resolve();
      });
    });
    this.pid = this.#child.pid ?? -1;
  }

  get exited(): boolean {
    return this.#exited;
  }

  log(): string {
    return this.#log;
  }

  async kill(): Promise<void> {
    signalChild(this.#child, 'SIGKILL');
    await this.#closed;
  }
}

/** Polls every proxy's `GET /` until each reports a good IPv4 node; bounded by `timeoutMs`. */
async function waitReady(children: Child[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(children);
  const last = new Map<Child, string>();
  for (let round = 0; pending.size > 0; round++) {
    for (const c of [...pending]) {
      if (c.exited)
        throw new Error(
          `dhtnode ${c.args.join(' ')} exited before it was ready (${INSTALL_DHTNODE} if missing):\n${c.log()}`,
        );
      const info = await nodeInfo(c.proxyUrl);
      last.set(c, info.text);
      if (info.good > 0) pending.delete(c);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `OpenDHT network not ready within ${timeoutMs} ms (${round} polls); not ready:\n` +
          [...pending].map((c) => `${c.proxyUrl}: ${last.get(c)}\n${c.log()}`).join('\n'),
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function nodeInfo(url: string): Promise<{ good: number; text: string }> {
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    const info = JSON.parse(text) as { ipv4?: { good?: unknown } };
    const good = typeof info.ipv4?.good === 'number' ? info.ipv4.good : 0;
    return { good, text };
  } catch (err) {
    return { good: 0, text: String(err) };
  }
}
