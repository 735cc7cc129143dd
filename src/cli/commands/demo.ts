/**
 * `p2psip demo [--json] [--verbose]` — the README's first command: a private
 * loopback DHT, alice's and bob's nodes and softphones in this process, an IM
 * and a call between them, each step explained with its real figures; then
 * everything is stopped and the temporary homes removed. Ends by itself;
 * exit 0 when every step worked, 1 with the failed step named otherwise.
 */
import { MIN_DEMO_NODES, runDemo } from '../../demo/demo.js';
import { MAX_TESTNET_NODES } from '../../overlay/testnet.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { DEFAULT_TESTNET_NODES } from './testnet.js';

export const demo: Command = {
  name: 'demo',
  summary: 'run a complete narrated demo on loopback: two nodes, an IM and a call through the DHT',
  usage: `Usage: p2psip demo [--json] [--verbose] [--nodes N]

  Starts a private HyperDHT network on 127.0.0.1, two nodes (alice@example.org,
  bob@example.org) with temporary homes and softphones, sends an IM and makes a
  2-second call between them, explains each step, cleans up and exits.
  Nothing but 127.0.0.1 is used. Exit 0 when every step worked.

  --json      one JSON object per step: {"step","n","ok",…figures,"text"}, then {"step":"done","ok","ms"}
  --verbose   also print the nodes' log lines (stderr)
  --nodes N   HyperDHT nodes in the private network, ${MIN_DEMO_NODES}..${MAX_TESTNET_NODES} (default ${DEFAULT_TESTNET_NODES})`,
  async run(argv, io) {
    const args = parseCommandArgs(argv, {
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      nodes: { type: 'string' },
    });
    const raw = String(args.nodes ?? DEFAULT_TESTNET_NODES);
    const nodes = Number(raw);
    if (!/^\d{1,2}$/.test(raw) || nodes < MIN_DEMO_NODES || nodes > MAX_TESTNET_NODES)
      throw new UsageError(`--nodes must be an integer ${MIN_DEMO_NODES}..${MAX_TESTNET_NODES}`);
    const result = await runDemo({
      out: io.stdout,
      json: args.json === true,
      nodes,
      ...(args.verbose ? { log: io.stderr } : {}),
    });
    if (result.error) io.stderr(`p2psip demo: ${result.error.step}: ${result.error.message}`);
    return result.ok ? 0 : 1;
  },
};
