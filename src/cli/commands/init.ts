/**
 * `p2psip init --home DIR --aor AOR [--force]` — creates a node's home: the
 * store (p2psip.db, 0600 in a 0700 folder), a new Ed25519 identity for the
 * AOR, and a default (private) config.json if there is none. An existing
 * identity is kept unless --force, because replacing it loses the old key and
 * every friend who pinned it will refuse the new one.
 */
import { type InitHomeResult, initHome } from '../../home/home.js';
import { IdentityError } from '../../identity/errors.js';
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
    let result: InitHomeResult;
    try {
      result = initHome(home, aorText, { force: force === true });
    } catch (err) {
      if (err instanceof IdentityError) throw new UsageError(err.message);
      throw err;
    }
    if (!result.created) {
      io.stderr(
        `p2psip init: ${result.homeDir} already has an identity (${result.existing.aor}); ` +
          'use --force to replace it (the old key is lost)',
      );
      return 1;
    }
    if (result.replaced) {
      io.stderr(
        `p2psip init: replaced the identity of ${result.replaced.aor} (old key ${result.replaced.publicKey})`,
      );
    }
    if (result.configProblem !== undefined) {
      io.stderr(
        `p2psip init: warning: kept the existing config, which is invalid: ${result.configProblem}`,
      );
    }
    io.stdout(`aor: ${result.aor}`);
    io.stdout(`publicKey: ${result.publicKey}`);
    return 0;
  },
};
