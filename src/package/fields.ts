/**
 * The fields of a registration package and their rules (docs/protocol.md,
 * "Registration package"). One validator serves both directions: encode
 * refuses to sign what decode would refuse to accept.
 */
import { isIP } from 'node:net';
import { isNormalAor } from '../identity/aor.js';
import { PackageError } from './errors.js';

/** Bytes a package may have: HyperDHT values must stay around 1 KB. */
export const MAX_PACKAGE_BYTES = 1000;
export const MAX_CONTACTS = 8;
export const MAX_EXTENSIONS = 4;
/** Longest validity window (expires − created): 7 days. Packages are republished long before. */
export const MAX_LIFETIME_SECONDS = 7 * 24 * 3600;
/** Times are Unix seconds below 10^11 (year 5138); larger values are milliseconds by mistake. */
export const MAX_UNIX_SECONDS = 99_999_999_999;

/** How to reach the node. */
export type PackageContact =
  /** The node's HyperDHT server public key (32 bytes; may equal the identity key in open mode). */
  | { transport: 'hyperdht'; key: Uint8Array }
  /** A direct address "ip:port" / "[ipv6]:port" for direct Noise connections (issue 6). */
  | { transport: 'udp' | 'tcp'; addr: string };

/** The extension point: signed name/value pairs that verifiers not knowing `name` ignore. */
export interface PackageExtension {
  name: string;
  value: string;
}

export interface PackageFields {
  /** Normal-form AOR (src/identity/aor.ts). */
  aor: string;
  /** Ed25519 identity public key (32 bytes) that signs the package. */
  key: Uint8Array;
  /** Sequence number: only grows from one package of an AOR to the next. */
  seq: number;
  /** Unix time in whole seconds. */
  created: number;
  /** Unix time in whole seconds; expires > created. */
  expires: number;
  /** In order of preference; may be empty (= registered nowhere, e.g. after REGISTER Expires: 0). */
  contacts: PackageContact[];
  /** Sorted by name, unique names. */
  extensions: PackageExtension[];
}

const EXT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Printable ASCII without the characters XML would need to escape. */
const EXT_VALUE = /^[\x20-\x21\x23-\x25\x27-\x3b\x3d\x3f-\x7e]{0,200}$/;

/** Throws PACKAGE_MALFORMED naming the first field that breaks a rule. */
export function validateFields(f: PackageFields): void {
  if (!isNormalAor(f.aor)) throw PackageError.malformed('aor: not a normal-form AOR');
  if (!(f.key instanceof Uint8Array) || f.key.length !== 32)
    throw PackageError.malformed('key: expected 32 bytes');
  if (!Number.isSafeInteger(f.seq) || f.seq < 0) {
    throw PackageError.malformed('seq: expected a whole number 0..2^53-1');
  }
  for (const name of ['created', 'expires'] as const) {
    if (!Number.isSafeInteger(f[name]) || f[name] < 0 || f[name] > MAX_UNIX_SECONDS) {
      throw PackageError.malformed(`${name}: expected Unix seconds 0..${MAX_UNIX_SECONDS}`);
    }
  }
  if (f.expires <= f.created) throw PackageError.malformed('expires: must be after created');
  if (f.expires - f.created > MAX_LIFETIME_SECONDS) {
    throw PackageError.malformed(`expires: validity longer than ${MAX_LIFETIME_SECONDS} s`);
  }
  if (!Array.isArray(f.contacts) || f.contacts.length > MAX_CONTACTS) {
    throw PackageError.malformed(`contacts: at most ${MAX_CONTACTS}`);
  }
  const seen = new Set<string>();
  f.contacts.forEach((c, i) => {
    const id = checkContact(c, `contacts[${i}]`);
    if (seen.has(id)) throw PackageError.malformed(`contacts[${i}]: duplicate contact`);
    seen.add(id);
  });
  if (!Array.isArray(f.extensions) || f.extensions.length > MAX_EXTENSIONS) {
    throw PackageError.malformed(`extensions: at most ${MAX_EXTENSIONS}`);
  }
  f.extensions.forEach((e, i) => {
    if (typeof e.name !== 'string' || !EXT_NAME.test(e.name)) {
      throw PackageError.malformed(`extensions[${i}].name: expected [a-z][a-z0-9-]{0,31}`);
    }
    if (typeof e.value !== 'string' || !EXT_VALUE.test(e.value)) {
      throw PackageError.malformed(
        `extensions[${i}].value: printable ASCII without " & < >, ≤ 200`,
      );
    }
    if (i > 0 && f.extensions[i - 1]!.name >= e.name) {
      throw PackageError.malformed(`extensions[${i}]: names must be unique and sorted`);
    }
  });
}

/** Validates one contact; returns a string identifying it (for duplicate detection). */
function checkContact(c: PackageContact, where: string): string {
  if (c.transport === 'hyperdht') {
    if (!(c.key instanceof Uint8Array) || c.key.length !== 32) {
      throw PackageError.malformed(`${where}.key: expected 32 bytes`);
    }
    return `hyperdht ${Buffer.from(c.key).toString('hex')}`;
  }
  if (c.transport === 'udp' || c.transport === 'tcp') {
    if (typeof c.addr !== 'string' || !isCanonicalAddr(c.addr)) {
      throw PackageError.malformed(`${where}.addr: expected canonical "ip:port" or "[ipv6]:port"`);
    }
    return `${c.transport} ${c.addr}`;
  }
  throw PackageError.malformed(`${where}.transport: expected hyperdht, udp or tcp`);
}

const PORT = /^[1-9][0-9]{0,4}$/;
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

/** Canonical "a.b.c.d:port" or "[v6]:port" with the RFC 5952 text form of v6, port 1..65535. */
export function isCanonicalAddr(addr: string): boolean {
  const colon = addr.lastIndexOf(':');
  if (colon < 0) return false;
  const host = addr.slice(0, colon);
  const port = addr.slice(colon + 1);
  if (!PORT.test(port) || Number(port) > 65535) return false;
  if (host.startsWith('[') && host.endsWith(']')) {
    const v6 = host.slice(1, -1);
    if (isIP(v6) !== 6 || v6.includes('%')) return false;
    try {
      return new URL(`http://${host}/`).hostname === host;
    } catch {
      return false;
    }
  }
  return IPV4.test(host);
}
