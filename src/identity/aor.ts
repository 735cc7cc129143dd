/**
 * AOR (address-of-record) parsing and normalisation: `user@domain`.
 *
 * One AOR has exactly one normal form, because the open lookup key and the
 * signed registration package are computed from its bytes:
 * - an optional `sip:` scheme (any case) is stripped; other schemes are refused;
 * - the user part is kept as written (RFC 3261 §19.1.4: user parts compare
 *   case-sensitively), 1–64 characters of RFC 3261 `unreserved` and
 *   `user-unreserved` minus `&` (so the AOR never needs XML escaping in the
 *   package); `%` escapes are refused rather than decoded, so that two
 *   spellings of one user cannot give two lookup keys;
 * - the domain is lowercased and must be a DNS name of letter-digit-hyphen
 *   labels (which includes IPv4 dotted quads), ≤ 253 characters;
 * - no port, URI parameters or headers: those describe a contact, not an AOR;
 * - the whole AOR is at most {@link MAX_AOR_LENGTH} characters.
 */
import { IdentityError } from './errors.js';

export const MAX_AOR_LENGTH = 254;
const MAX_USER_LENGTH = 64;
const MAX_DOMAIN_LENGTH = 253;

const USER = /^[A-Za-z0-9\-_.!~*'()=+$,;?/]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The normal form of an AOR, or IDENTITY_BAD_AOR saying what is wrong. */
export function normalizeAor(input: string): string {
  if (typeof input !== 'string') throw IdentityError.badAor(String(input), 'not a string');
  let rest = input;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'sip') {
      throw IdentityError.badAor(input, `unsupported scheme "${scheme[1]}:" (only sip:)`);
    }
    rest = rest.slice(scheme[0].length);
  }
  const at = rest.indexOf('@');
  if (at < 0) throw IdentityError.badAor(input, 'missing "@" (expected user@domain)');
  if (rest.indexOf('@', at + 1) >= 0) throw IdentityError.badAor(input, 'more than one "@"');
  const user = rest.slice(0, at);
  const domain = rest.slice(at + 1).toLowerCase();
  if (user.length === 0 || user.length > MAX_USER_LENGTH) {
    throw IdentityError.badAor(input, `user part must have 1..${MAX_USER_LENGTH} characters`);
  }
  if (!USER.test(user)) {
    throw IdentityError.badAor(
      input,
      'user part has a character outside the allowed set (no %, &, spaces)',
    );
  }
  if (/[:;?>]/.test(domain)) {
    throw IdentityError.badAor(input, 'port, URI parameters or headers are not part of an AOR');
  }
  if (domain.length === 0 || domain.length > MAX_DOMAIN_LENGTH) {
    throw IdentityError.badAor(input, `domain must have 1..${MAX_DOMAIN_LENGTH} characters`);
  }
  if (!domain.split('.').every((label) => LABEL.test(label))) {
    throw IdentityError.badAor(input, 'domain is not a DNS name (letters, digits, hyphens, dots)');
  }
  const aor = `${user}@${domain}`;
  if (aor.length > MAX_AOR_LENGTH) {
    throw IdentityError.badAor(input, `longer than ${MAX_AOR_LENGTH} characters`);
  }
  return aor;
}

/** True when `input` is already in normal form. */
export function isNormalAor(input: string): boolean {
  try {
    return normalizeAor(input) === input;
  } catch {
    return false;
  }
}
