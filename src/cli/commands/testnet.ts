/**
 * `p2psip testnet --nodes N [--port P] [--host 127.0.0.1] [--json] [--log K]` —
 * runs a private HyperDHT network on loopback in the foreground (for the demo,
 * manual trials and tests) and prints its bootstrap address as ONE line once
 * every node is up:
 *
 *   bootstrap 127.0.0.1:PORT
 *   {"bootstrap":[{"host":"127.0.0.1","port":PORT}],"nodes":N}      (--json)
 *
 * Runs until SIGINT or SIGTERM, then destroys every node and exits 0. Only
 * loopback addresses are accepted: nothing here contacts another machine.
 */
import { parseArgs } from 'node:util';
import { toHex } from '../../crypto/bytes.js';
import { isLoopbackV4, MAX_TESTNET_NODES, startTestnet } from '../../overlay/testnet.js';
import type { CliIo, Command } from '../command.js';
import { UsageError } from '../command.js';

export const DEFAULT_TESTNET_NODES = 5;

const usage = `Usage: p2psip testnet [--nodes N] [--port P] [--host ADDR] [--json] [--log K]

Runs a private HyperDHT network of N nodes on loopback until Ctrl-C / SIGTERM.
Prints "bootstrap HOST:PORT" when ready; give that to nodes as their bootstrap list.

Options:
  --nodes N    number of DHT nodes, 1..${MAX_TESTNET_NODES} (default ${DEFAULT_TESTNET_NODES})
  --port P     UDP port of the bootstrap node (default: a free port)
  --host ADDR  loopback address to bind, in 127.0.0.0/8 (default 127.0.0.1)
  --json       print {"bootstrap":[{"host","port"}],"nodes":N} instead
  --log K      print every request node K receives to stderr (what a DHT node learns)`;

export const testnet: Command = {
  name: 'testnet',
  summary: 'run a private HyperDHT network on loopback and print its bootstrap address',
  usage,
  async run(argv, io) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await runTestnet(argv, io, controller.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

/** The command body: runs until `signal` fires, then destroys the network; resolves to 0. */
export async function runTestnet(argv: string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const opts = parseOptions(argv);
  const net = await startTestnet({
    nodes: opts.nodes,
    host: opts.host,
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.log === undefined
      ? {}
      : {
          loggers: [opts.log],
          maxLogEntries: 1,
          onRequest: (e) =>
            io.stderr(
              `node ${e.node}: ${e.command} target=${e.target ? toHex(e.target) : '-'} ` +
                `value=${e.value?.byteLength ?? 0}B from ${e.from.host}:${e.from.port}`,
            ),
        }),
  });
  try {
    const [boot] = net.bootstrap;
    if (opts.json) io.stdout(JSON.stringify({ bootstrap: net.bootstrap, nodes: opts.nodes }));
    else io.stdout(`bootstrap ${boot?.host}:${boot?.port}`);
    io.stderr(`testnet: ${opts.nodes} HyperDHT nodes on ${opts.host}; Ctrl-C or SIGTERM stops it`);
    if (!signal.aborted) {
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
  } finally {
    await net.destroy();
  }
  io.stderr('testnet: stopped');
  return 0;
}

interface TestnetCliOptions {
  nodes: number;
  port: number | undefined;
  host: string;
  json: boolean;
  log: number | undefined;
}

function parseOptions(argv: string[]): TestnetCliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        json: { type: 'boolean' },
        log: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const nodes =
    intOption('--nodes', values['nodes'], 1, MAX_TESTNET_NODES) ?? DEFAULT_TESTNET_NODES;
  const log = intOption('--log', values['log'], 0, nodes - 1);
  const host = typeof values['host'] === 'string' ? values['host'] : '127.0.0.1';
  if (!isLoopbackV4(host)) throw new UsageError(`--host must be in 127.0.0.0/8, got "${host}"`);
  return {
    nodes,
    port: intOption('--port', values['port'], 1, 65535),
    host,
    json: values['json'] === true,
    log,
  };
}

function intOption(
  name: string,
  raw: string | boolean | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer ${min}..${max}, got "${String(raw)}"`);
  }
  return n;
}
