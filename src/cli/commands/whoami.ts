/**
 * `p2psip whoami --home DIR [--json]` — the node's AOR and Ed25519 public key
 * (hex). Never creates anything: a missing home or identity is an error that
 * says to run `p2psip init`.
 */
import { Identity } from '../../identity/identity.js';
import { Store } from '../../store/store.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const whoami: Command = {
  name: 'whoami',
  summary: "print the node's AOR and public key",
  usage: [
    'Usage: p2psip whoami --home DIR [--json]',
    '',
    "  --home DIR   the node's home folder",
    '  --json       print {"aor": "...", "publicKey": "<64 hex>"}',
  ].join('\n'),
  async run(argv, io) {
    const { home, json } = parseCommandArgs(argv, {
      home: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (typeof home !== 'string' || home === '') throw new UsageError('--home DIR is required');
    const store = Store.open(home, { create: false });
    let identity: Identity;
    try {
      const record = store.getIdentity();
      if (!record) {
        io.stderr(
          `p2psip whoami: no identity in ${store.homeDir}; run \`p2psip init --home DIR --aor AOR\``,
        );
        return 1;
      }
      try {
        identity = Identity.fromRecord(record);
      } finally {
        record.seed.fill(0);
      }
    } finally {
      store.close();
    }
    const { aor, publicKey } = identity.toJSON();
    identity.wipe();
    if (json) io.stdout(JSON.stringify({ aor, publicKey }));
    else {
      io.stdout(`aor: ${aor}`);
      io.stdout(`publicKey: ${publicKey}`);
    }
    return 0;
  },
};
