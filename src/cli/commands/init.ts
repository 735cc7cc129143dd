/**
 * `p2psip init --home DIR --aor AOR [--force]` — creates a node's home: the
 * store (p2psip.db, 0600 in a 0700 folder), a new Ed25519 identity for the
 * AOR, and a default (private) config.json if there is none. An existing
 * identity is kept unless --force, because replacing it loses the old key and
 * every friend who pinned it will refuse the new one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, defaultConfig, loadConfig, writeConfig } from '../../config/config.js';
import { ConfigError } from '../../config/errors.js';
import { normalizeAor } from '../../identity/aor.js';
import { IdentityError } from '../../identity/errors.js';
import { Identity } from '../../identity/identity.js';
import { Store } from '../../store/store.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const init: Command = {
  name: 'init',
  summary: 'create a node home: identity for an AOR, store and default config',
  usage: [
    'Usage: p2psip init --home DIR --aor AOR [--force]',
    '',
    "  --home DIR   the node's home folder (created, mode 0700)",
    '  --aor AOR    your address, e.g. alice@example.org (sip: is optional)',
    '  --force      replace an existing identity (the old key is lost)',
  ].join('\n'),
  async run(argv, io) {
    const {
      home,
      aor: aorText,
      force,
    } = parseCommandArgs(argv, {
      home: { type: 'string' },
      aor: { type: 'string' },
      force: { type: 'boolean' },
    });
    if (typeof home !== 'string' || home === '') throw new UsageError('--home DIR is required');
    if (typeof aorText !== 'string') throw new UsageError('--aor AOR is required');
    let aor: string;
    try {
      aor = normalizeAor(aorText);
    } catch (err) {
      if (err instanceof IdentityError) throw new UsageError(err.message);
      throw err;
    }

    const store = Store.open(home);
    try {
      const existing = store.getIdentity();
      if (existing && !force) {
        io.stderr(
          `p2psip init: ${store.homeDir} already has an identity (${existing.aor}); ` +
            'use --force to replace it (the old key is lost)',
        );
        return 1;
      }
      const identity = Identity.generate(aor);
      const record = identity.toRecord();
      try {
        store.setIdentity(record, { replace: true });
      } finally {
        record.seed.fill(0);
        identity.wipe();
      }
      if (existing) {
        io.stderr(
          `p2psip init: replaced the identity of ${existing.aor} (old key ${Buffer.from(existing.publicKey).toString('hex')})`,
        );
        existing.seed.fill(0);
      }
      ensureConfig(store.homeDir, io.stderr);
      io.stdout(`aor: ${identity.aor}`);
      io.stdout(`publicKey: ${identity.publicKeyHex}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

/** Writes the default config if none exists; warns (never overwrites) when an existing one is invalid. */
function ensureConfig(home: string, warn: (line: string) => void): void {
  if (!existsSync(join(home, CONFIG_FILE))) {
    writeConfig(home, defaultConfig());
    return;
  }
  try {
    loadConfig(home);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    warn(`p2psip init: warning: kept the existing config, which is invalid: ${err.message}`);
  }
}
