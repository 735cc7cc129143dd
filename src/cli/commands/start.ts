/**
 * `p2psip start --home DIR [--sip HOST:PORT] [--bootstrap HOST:PORT,…] [--json] [--verbose]`
 *
 * Runs a node in the foreground. Prints ONE line when it is ready (SIP bound,
 * DHT bootstrapped, listening for peers):
 *
 *   p2psip ready: alice@example.org on sip:127.0.0.1:5070 (udp, tcp), key 3b6a…, bootstrap 127.0.0.1:49737
 *
 * or with --json: {"event":"ready","aor",…,"publicKey",…,"sip":{"host","port"},"bootstrap":[…]}.
 * Logs go to stderr. SIGINT/SIGTERM withdraw the package and exit 0.
 */

import { consoleLogger } from '../../node/log.js';
import { P2pSipNode } from '../../node/node.js';
import { removeRuntime, writeRuntime } from '../../node/runtime.js';
import { parseCommandArgs, parseHostPort } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const start: Command = {
  name: 'start',
  summary: 'run a node in the foreground (SIP proxy for your softphone + DHT peer)',
  usage: `Usage: p2psip start --home DIR [--sip HOST:PORT] [--bootstrap HOST:PORT,...] [--json] [--verbose]

  --home DIR          the node's home folder (made by \`p2psip init\`)
  --sip HOST:PORT     where softphones reach the node (default: config sip.host/sip.port)
  --bootstrap LIST    comma-separated HyperDHT bootstrap nodes (default: config overlay.bootstrap;
                      empty = a private network of one). Never the public network unless the
                      config says "network": "public".
  --json              print the ready line as JSON
  --verbose           debug logging`,
  async run(argv, io) {
    const args = parseCommandArgs(argv, {
      home: { type: 'string' },
      sip: { type: 'string' },
      bootstrap: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
    });
    if (typeof args.home !== 'string' || args.home === '')
      throw new UsageError('--home DIR is required');
    const sip = typeof args.sip === 'string' ? parseHostPort(args.sip, '--sip') : undefined;
    let bootstrap: string[] | undefined;
    if (typeof args.bootstrap === 'string') {
      bootstrap = args.bootstrap
        .split(',')
        .filter((s) => s.trim() !== '')
        .map((s) => s.trim());
      for (const b of bootstrap) parseHostPort(b, '--bootstrap');
    }
    const log = consoleLogger(args.verbose ? 'debug' : 'info');
    // Signal handlers go in before the ready line: a supervisor may send
    // SIGTERM the moment it reads it, and must get a clean withdraw + exit 0.
    let stopRequested!: (signal: string) => void;
    const stopped = new Promise<string>((resolve) => {
      stopRequested = resolve;
    });
    const onInt = () => stopRequested('SIGINT');
    const onTerm = () => stopRequested('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    try {
      const node = await P2pSipNode.start({
        home: args.home,
        ...(sip ? { sipHost: sip.host, sipPort: sip.port } : {}),
        ...(bootstrap ? { bootstrap } : {}),
        log,
      });
      const { info } = node;
      writeRuntime(args.home, {
        pid: process.pid,
        aor: info.aor,
        publicKey: info.publicKey,
        sip: info.sip,
        startedAt: new Date().toISOString(),
      });
      if (args.json) {
        io.stdout(
          JSON.stringify({
            event: 'ready',
            aor: info.aor,
            publicKey: info.publicKey,
            sip: info.sip,
            bootstrap: info.bootstrap,
            dht: info.dht,
          }),
        );
      } else {
        const host = info.sip.host.includes(':') ? `[${info.sip.host}]` : info.sip.host;
        io.stdout(
          `p2psip ready: ${info.aor} on sip:${host}:${info.sip.port} (udp, tcp), key ${info.publicKey.slice(0, 16)}…, ` +
            `bootstrap ${info.bootstrap.length ? info.bootstrap.join(',') : '(none: network of one)'}`,
        );
      }
      const signal = await stopped;
      log('info', `${signal}: withdrawing and stopping`);
      removeRuntime(args.home);
      await node.stop();
      log('info', 'stopped');
      return 0;
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  },
};
