/**
 * A p2psip node as a child process, run from source, for end-to-end tests.
 *
 *   const testnet = await useTestnet();
 *   const a = await startNode({ aor: 'alice@example.org', bootstrap: testnet.bootstrap });
 *   try {
 *     // a.ready.sip.port: where alice's softphone registers (UDP and TCP)
 *     await a.waitForLog(/registered/, 10_000);
 *   } finally {
 *     await a.stop();
 *   }
 *
 * Runs `node --import tsx src/cli/run.ts start --home DIR --sip 127.0.0.1:PORT
 * --bootstrap HOST:PORT[,…] --json` in the repository root. The command prints
 * ONE JSON line on stdout when it is ready,
 *   {"event":"ready","aor":"…","publicKey":"<hex>","sip":{"host":"127.0.0.1","port":N},"bootstrap":["127.0.0.1:P"]}
 * and plain log lines on stderr. SIGTERM makes it withdraw its registration
 * package and exit 0.
 *
 * Network rule: --sip is always 127.0.0.1 and the bootstrap list is always
 * given explicitly and must be loopback; an empty list means "a network of
 * one", never the public HyperDHT.
 *
 * Homes: without `home`, a fresh one is made under os.tmpdir() (with
 * `p2psip init --aor`) and removed when the node has stopped. A `home` you pass
 * is yours (e.g. to restart a node on the same identity after kill9()): create
 * it with createTempHome() + initNode() and remove it with removeHome().
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig, writeConfig } from '../../src/config/config.js';
import { freePort } from './ports.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_ENTRY = join(REPO_ROOT, 'src', 'cli', 'run.ts');
const HOME_PREFIX = 'p2psip-node-';
const MAX_LINES = 20_000;
/** After SIGTERM (withdraw + DHT shutdown), before SIGKILL. */
const STOP_GRACE_MS = 10_000;

export type Endpoint = { host: string; port: number };

/** The line `p2psip start --json` prints once the node is ready. */
export interface NodeReady {
  event: 'ready';
  aor: string;
  publicKey: string;
  sip: Endpoint;
  bootstrap: string[];
  /** The node's own DHT address, when the command reports it. */
  dht?: Endpoint;
}

export interface NodeOptions {
  /** The node's home; default: a fresh temporary one, initialised for `aor` and removed after. */
  home?: string;
  /** The AOR to initialise a fresh home with; required without `home`. */
  aor?: string;
  /** Edits a fresh home's config.json before the start (e.g. another lookup backend). */
  configure?: (config: Config) => void;
  /** SIP port on 127.0.0.1 (UDP and TCP); default: a free one. */
  sipPort?: number;
  /** HyperDHT bootstrap nodes, loopback only ("127.0.0.1:P" or {host, port}); [] = a network of one. */
  bootstrap: ReadonlyArray<string | Endpoint>;
  /** More arguments for `start`, e.g. ['--verbose']. */
  extraArgs?: string[];
  /** Until the ready line; default 30 s (tsx compiles on start, the machine is shared). */
  readyTimeoutMs?: number;
  /** Watchdog: the process is killed after this long whatever happens; default 600 s. */
  lifetimeMs?: number;
}

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  pid: number;
  home: string;
  ready: NodeReady;
  /** stderr lines (the node's log) and stdout lines other than the ready line, in arrival order. */
  logs: string[];
  /** The first log line matching `re` at index `since` (default 0) or later; bounded by `timeoutMs`. */
  waitForLog(re: RegExp, timeoutMs: number, since?: number): Promise<string>;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<NodeExit>;
  /** Sends `signal`, waits for the exit (bounded, then SIGKILL), removes a home made here. */
  stop(signal?: NodeJS.Signals): Promise<NodeExit>;
  /** SIGKILL: no withdraw, no goodbye, as a crash. Removes a home made here. */
  kill9(): Promise<NodeExit>;
}

/**
 * One node per AOR (fresh homes, `--verbose` so failures can be diagnosed)
 * on `bootstrap`, started in order. If one fails to start, those already
 * running are stopped before the error is thrown.
 */
export async function startNodes<const T extends readonly string[]>(
  bootstrap: NodeOptions['bootstrap'],
  aors: T,
  extraArgs: string[] = ['--verbose'],
  configure?: (config: Config, index: number) => void,
): Promise<{ -readonly [K in keyof T]: NodeProcess }> {
  const started: NodeProcess[] = [];
  try {
    for (const [i, aor] of aors.entries())
      started.push(
        await startNode({
          aor,
          bootstrap,
          extraArgs,
          ...(configure ? { configure: (c: Config) => configure(c, i) } : {}),
        }),
      );
    return started as { -readonly [K in keyof T]: NodeProcess };
  } catch (err) {
    for (const n of started) await n.stop();
    throw err;
  }
}

/** The nodes' logs, labelled, for assertion messages (what a CI failure needs to be diagnosed). */
export function nodeLogs(...nodes: ReadonlyArray<NodeProcess | undefined>): string {
  return nodes
    .filter((n) => n !== undefined)
    .map((n) => `--- node ${n.ready?.aor ?? n.home} (pid ${n.pid}) log ---\n${n.logs.join('\n')}`)
    .join('\n');
}

/** Parses the ready line; undefined for any other line, an Error for a ready line of the wrong shape. */
export function parseReadyLine(line: string): NodeReady | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || v['event'] !== 'ready') return undefined;
  const bad = (what: string) => new Error(`p2psip ready line: ${what}: ${text}`);
  if (typeof v['aor'] !== 'string' || v['aor'] === '') throw bad('no aor');
  if (typeof v['publicKey'] !== 'string' || !/^[0-9a-f]{64}$/.test(v['publicKey'])) {
    throw bad('publicKey is not 32 bytes of lower-case hex');
  }
  if (!isEndpoint(v['sip'])) throw bad('sip is not {host, port}');
  const boot = v['bootstrap'];
  if (!Array.isArray(boot) || !boot.every((b) => typeof b === 'string')) {
    throw bad('bootstrap is not a list of "host:port"');
  }
  const ready: NodeReady = {
    event: 'ready',
    aor: v['aor'],
    publicKey: v['publicKey'],
    sip: { host: v['sip'].host, port: v['sip'].port },
    bootstrap: boot as string[],
  };
  if (v['dht'] !== undefined) {
    if (!isEndpoint(v['dht'])) throw bad('dht is not {host, port}');
    ready.dht = { host: v['dht'].host, port: v['dht'].port };
  }
  return ready;
}

/** "host:port" for each entry, after checking it is loopback. */
export function bootstrapArg(list: ReadonlyArray<string | Endpoint>): string {
  return list
    .map((b) => {
      const text =
        typeof b === 'string' ? b : `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`;
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
      const host = m?.[1] ?? m?.[2];
      if (!m || !host || !isLoopback(host)) {
        throw new Error(`bootstrap ${JSON.stringify(text)}: tests use loopback addresses only`);
      }
      return text;
    })
    .join(',');
}

/** A new empty folder under os.tmpdir() for a node home. */
export function createTempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), HOME_PREFIX));
}

/** Removes a home made by createTempHome (refuses any other path). */
export async function removeHome(home: string): Promise<void> {
  const base = resolve(tmpdir()) + sep;
  const path = resolve(home);
  if (!path.startsWith(base + HOME_PREFIX))
    throw new Error(`removeHome: ${home} is not a temporary node home`);
  await rm(path, { recursive: true, force: true });
}

/** Runs `p2psip init --home DIR --aor AOR` from source; rejects with its output on failure. */
export async function initNode(home: string, aor: string, timeoutMs = 60_000): Promise<string> {
  const r = await runCli(['init', '--home', home, '--aor', aor], timeoutMs);
  if (r.code !== 0) {
    throw new Error(
      `p2psip init failed (exit ${r.code} signal ${r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/** Starts a node; resolves with its ready line. On any start-up failure the process is killed. */
export async function startNode(opts: NodeOptions): Promise<NodeProcess> {
  const bootstrap = bootstrapArg(opts.bootstrap);
  let home = opts.home;
  let ownHome = false;
  if (home === undefined) {
    if (!opts.aor) throw new Error('startNode: give `aor` (for a fresh home) or `home`');
    home = await createTempHome();
    ownHome = true;
    try {
      await initNode(home, opts.aor);
      if (opts.configure) {
        const config = loadConfig(home);
        opts.configure(config);
        writeConfig(home, config);
      }
    } catch (err) {
      await removeHome(home);
      throw err;
    }
  }
  // A free port can be taken by another test between freePort() and the
  // node's bind (tests run two at a time, relays bind ephemeral ports): the
  // node then exits with "cannot bind"; pick another port (3 tries).
  for (let attempt = 1; ; attempt++) {
    const sipPort = opts.sipPort ?? (await freePort());
    const args = [
      ...tsxArgs(),
      'start',
      '--home',
      home,
      '--sip',
      `127.0.0.1:${sipPort}`,
      '--bootstrap',
      bootstrap,
      '--json',
      ...(opts.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child, ownHome ? home : undefined);
    const proc = new NodeChild(child, home, ownHome, opts.lifetimeMs ?? 600_000);
    try {
      proc.ready = await proc.waitReady(opts.readyTimeoutMs ?? 30_000, args);
      return proc;
    } catch (err) {
      const raced =
        opts.sipPort === undefined &&
        attempt < 3 &&
        /cannot bind/.test(err instanceof Error ? err.message : String(err));
      if (raced) {
        await proc.exited; // it exited by itself; its home is reused
        continue;
      }
      await proc.kill9();
      throw err;
    }
  }
}

class NodeChild implements NodeProcess {
  readonly pid: number;
  readonly logs: string[] = [];
  readonly exited: Promise<NodeExit>;
  ready!: NodeReady;
  readonly #child: ChildProcess;
  readonly #ownHome: boolean;
  readonly #listeners = new Set<() => void>();
  #stdout: string[] = [];
  #exit: NodeExit | undefined;
  #partial = { out: '', err: '' };

  constructor(
    child: ChildProcess,
    readonly home: string,
    ownHome: boolean,
    lifetimeMs: number,
  ) {
    this.#child = child;
    this.pid = child.pid as number;
    this.#ownHome = ownHome;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.#onText('out', d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.#onText('err', d));
    const watchdog = setTimeout(() => signalChild(child, 'SIGKILL'), lifetimeMs);
    watchdog.unref();
    this.exited = new Promise((resolve) => {
      child.once('error', () => {});
      child.once('close', (code, sig) => {
        clearTimeout(watchdog);
        this.#exit = { code, signal: sig };
        this.#notify();
        resolve(this.#exit);
      });
    });
  }

  waitReady(timeoutMs: number, args: string[]): Promise<NodeReady> {
    return this.#until(
      timeoutMs,
      () => {
        for (const line of this.#stdout) {
          const ready = parseReadyLine(line);
          if (ready) return ready;
        }
        if (this.#exit) {
          throw new Error(
            `p2psip start exited before ready (code ${this.#exit.code}, signal ${this.#exit.signal})\n` +
              `node ${args.join(' ')}\n${this.#tail()}`,
          );
        }
        return undefined;
      },
      () => `p2psip start: no ready line within ${timeoutMs} ms\n${this.#tail()}`,
    );
  }

  waitForLog(re: RegExp, timeoutMs: number, since = 0): Promise<string> {
    return this.#until(
      timeoutMs,
      () => {
        const found = this.logs.slice(since).find((l) => re.test(l));
        if (found !== undefined) return found;
        if (this.#exit)
          throw new Error(
            `node exited (code ${this.#exit.code}); ${re} never logged\n${this.#tail()}`,
          );
        return undefined;
      },
      () => `node: ${re} not logged within ${timeoutMs} ms\n${this.#tail()}`,
    );
  }

  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<NodeExit> {
    if (!this.#exit) {
      signalChild(this.#child, sig);
      const kill = setTimeout(() => signalChild(this.#child, 'SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
    }
    if (this.#ownHome) await removeHome(this.home);
    return this.exited;
  }

  kill9(): Promise<NodeExit> {
    return this.stop('SIGKILL');
  }

  /** Re-evaluates `probe` on every output line and on exit, until it returns a value or throws. */
  #until<T>(timeoutMs: number, probe: () => T | undefined, onTimeout: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (value !== undefined) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(onTimeout()));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  #onText(stream: 'out' | 'err', text: string): void {
    const lines = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (stream === 'out') {
        if (this.#stdout.length < MAX_LINES) this.#stdout.push(line);
        if (line.startsWith('{"event":"ready"')) continue;
      }
      if (this.logs.length < MAX_LINES) this.logs.push(line);
    }
    this.#notify();
  }

  #notify(): void {
    for (const check of [...this.#listeners]) check();
  }

  #tail(): string {
    return [...this.#stdout.slice(-10), ...this.logs.slice(-40)].join('\n');
  }
}

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command from source to its end (killed after `timeoutMs`). */
function runCli(argv: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsxArgs(), ...argv], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => signalChild(child, 'SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

function tsxArgs(): string[] {
  return ['--import', 'tsx', CLI_ENTRY];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEndpoint(v: unknown): v is Endpoint {
  return (
    isRecord(v) &&
    typeof v['host'] === 'string' &&
    Number.isInteger(v['port']) &&
    (v['port'] as number) > 0 &&
    (v['port'] as number) < 65536
  );
}

function isLoopback(host: string): boolean {
  return host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Children still running (with a folder to remove), killed if the test process exits without stopping them. */
const live = new Map<ChildProcess, string | undefined>();
let exitHookInstalled = false;

/**
 * Registers `child` to be SIGKILLed, and `folder` removed, if this process
 * exits while the child still runs (a test that forgot stop(), an uncaught
 * error). A SIGKILL of the test process itself cannot be covered.
 */
export function killOnExit(child: ChildProcess, folder?: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, dir] of live) {
        signalChild(c, 'SIGKILL');
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  live.set(child, folder);
  child.once('close', () => live.delete(child));
}

/** Sends `sig` to `child` by PID unless it has already exited. */
export function signalChild(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, sig);
  } catch {
    // already gone
  }
}
