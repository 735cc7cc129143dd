/**
 * A node's home folder, made the one way `p2psip init` makes it: the store
 * (p2psip.db, 0600 in a 0700 folder), a new Ed25519 identity for the AOR, and
 * a default (private) config.json if there is none. `p2psip init` and the
 * demo's temporary homes both call {@link initHome}, so a demo node starts
 * from exactly what a user's node starts from.
 *
 * An existing identity is kept unless `force`, because replacing it loses the
 * old key and every friend who pinned it will refuse the new one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, defaultConfig, loadConfig, writeConfig } from '../config/config.js';
import { ConfigError } from '../config/errors.js';
import { toHex } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import { Identity } from '../identity/identity.js';
import { Store } from '../store/store.js';

export interface InitHomeOptions {
  /** Replace an existing identity (its key is lost). */
  force?: boolean;
}

/** What {@link initHome} did. `created: false` = an identity was there and `force` was not given. */
export type InitHomeResult =
  | {
      created: true;
      /** The home folder, resolved. */
      homeDir: string;
      aor: string;
      publicKey: string;
      /** The identity that `force` replaced. */
      replaced?: { aor: string; publicKey: string };
      /** An existing config.json was kept although it is invalid: why (never overwritten). */
      configProblem?: string;
    }
  | { created: false; homeDir: string; existing: { aor: string; publicKey: string } };

/**
 * Creates (or completes) a home for `aorText`. Throws IdentityError
 * IDENTITY_BAD_AOR for an invalid AOR (before touching the disk) and
 * StoreError for an unusable folder.
 */
export function initHome(
  home: string,
  aorText: string,
  opts: InitHomeOptions = {},
): InitHomeResult {
  const aor = normalizeAor(aorText);
  const store = Store.open(home);
  try {
    const existing = store.getIdentity();
    if (existing && !opts.force) {
      existing.seed.fill(0);
      return {
        created: false,
        homeDir: store.homeDir,
        existing: { aor: existing.aor, publicKey: toHex(existing.publicKey) },
      };
    }
    const identity = Identity.generate(aor);
    const record = identity.toRecord();
    try {
      store.setIdentity(record, { replace: true });
    } finally {
      record.seed.fill(0);
      identity.wipe();
    }
    let replaced: { aor: string; publicKey: string } | undefined;
    if (existing) {
      replaced = { aor: existing.aor, publicKey: toHex(existing.publicKey) };
      existing.seed.fill(0);
    }
    const configProblem = ensureConfig(store.homeDir);
    return {
      created: true,
      homeDir: store.homeDir,
      aor: identity.aor,
      publicKey: identity.publicKeyHex,
      ...(replaced ? { replaced } : {}),
      ...(configProblem === undefined ? {} : { configProblem }),
    };
  } finally {
    store.close();
  }
}

/** Writes the default config if none exists; an existing invalid one is kept and its problem returned. */
function ensureConfig(home: string): string | undefined {
  if (!existsSync(join(home, CONFIG_FILE))) {
    writeConfig(home, defaultConfig());
    return undefined;
  }
  try {
    loadConfig(home);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}
