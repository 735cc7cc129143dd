/** How a local tool finds the node it talks to: --sip, else the running node's run.json, else config. */
import { loadConfig } from '../config/config.js';
import { readRuntime } from '../node/runtime.js';
import { Store } from '../store/store.js';
import { parseHostPort } from './args.js';
import { UsageError } from './command.js';

export interface LocalNode {
  aor: string;
  sip: { host: string; port: number };
  running: boolean;
}

export function localNode(home: string, sipFlag: string | undefined): LocalNode {
  const run = readRuntime(home);
  let aor = run?.aor;
  if (!aor) {
    const store = Store.open(home, { create: false });
    try {
      aor = store.getIdentity()?.aor;
    } finally {
      store.close();
    }
  }
  if (!aor)
    throw new UsageError(`no identity in ${home}: run \`p2psip init --home ${home} --aor AOR\``);
  if (sipFlag) return { aor, sip: parseHostPort(sipFlag, '--sip'), running: run !== undefined };
  if (run) return { aor, sip: run.sip, running: true };
  const config = loadConfig(home);
  return { aor, sip: { host: config.sip.host, port: config.sip.port }, running: false };
}
