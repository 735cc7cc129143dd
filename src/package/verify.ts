/** Verification of a registration package received from the lookup service. */
import { equalBytes } from '../crypto/bytes.js';
import { verifyLabelled } from '../crypto/ed25519.js';
import { NS } from '../crypto/ns.js';
import { normalizeAor } from '../identity/aor.js';
import { decodePackage } from './decode.js';
import { PackageError } from './errors.js';
import { MAX_UNIX_SECONDS, type PackageFields } from './fields.js';

/** Default tolerance for clocks that disagree, in seconds. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 120;

export interface VerifyOptions {
  /** The AOR that was looked up (any accepted spelling; compared in normal form). */
  expectedAor: string;
  /** The key pinned for this AOR, if any (contact card or first use). */
  expectedKey?: Uint8Array;
  /** Current Unix time in whole SECONDS (the package's unit), not Date.now() ms. */
  now: number;
  /** The highest seq already accepted for this AOR, if any. */
  lastSeq?: number;
  /** Allowed clock skew in seconds (default {@link DEFAULT_CLOCK_SKEW_SECONDS}). */
  skewSeconds?: number;
}

/**
 * Decodes and verifies; returns the fields or throws PackageError. Order:
 * TOO_LARGE / MALFORMED (decode) → BAD_SIGNATURE (under the package's own key,
 * over the exact received bytes) → AOR_MISMATCH → KEY_MISMATCH →
 * NOT_YET_VALID (created > now + skew) → EXPIRED (now > expires + skew) →
 * REPLAYED (seq ≤ lastSeq).
 */
export function verifyPackage(bytes: Uint8Array, options: VerifyOptions): PackageFields {
  if (!Number.isSafeInteger(options.now) || options.now < 0 || options.now > MAX_UNIX_SECONDS) {
    throw new RangeError(
      `verifyPackage: now=${options.now} is not Unix seconds (Date.now() is ms)`,
    );
  }
  const { fields, signedBytes, signature } = decodePackage(bytes);
  if (!verifyLabelled(NS.packageSig, signature, signedBytes, fields.key))
    throw PackageError.badSignature();
  const expectedAor = normalizeAor(options.expectedAor);
  if (fields.aor !== expectedAor) throw PackageError.aorMismatch(expectedAor, fields.aor);
  if (options.expectedKey !== undefined && !equalBytes(options.expectedKey, fields.key)) {
    throw PackageError.keyMismatch(fields.aor);
  }
  const skew = options.skewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (fields.created > options.now + skew)
    throw PackageError.notYetValid(fields.created, options.now);
  if (options.now > fields.expires + skew) throw PackageError.expired(fields.expires, options.now);
  if (options.lastSeq !== undefined && fields.seq <= options.lastSeq) {
    throw PackageError.replayed(fields.seq, options.lastSeq);
  }
  return fields;
}

/** Current Unix time in whole seconds. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
