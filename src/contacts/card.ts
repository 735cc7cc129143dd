/**
 * Contact cards: a `p2psip:` URI that says "this AOR is this Ed25519 key",
 * signed by that key, to hand to a friend (pasted, or as a QR code).
 *
 * ```
 * p2psip:alice@example.org?v=1&key=<43 base64url>[&name=<percent-encoded>]&sig=<86 base64url>
 * ```
 *
 * Decisions (docs/protocol.md, "Contacts and cards", is the normative text):
 * - One canonical form. The parser re-serialises the fields it read and
 *   requires the exact received text, so one set of fields has exactly one
 *   card text and one QR code.
 * - A self-signature, not a checksum: a checksum catches typos but anyone can
 *   recompute it after changing the AOR or name; the signature catches both
 *   and proves the card was made by the holder of the key. (Whether the key
 *   is really your friend's is proved by how you got the card, not by it.)
 * - Signed bytes = the card text before `&sig=`, exactly as the package signs
 *   its exact bytes: nothing to canonicalise before verifying.
 * - Strict, in a fixed order, so every failure has one stable code: length,
 *   characters, scheme, version, completeness, structure, fields,
 *   canonical form, signature. Any text gives a ContactError, never another
 *   exception (fuzzed in the tests).
 */
import { equalBytes, fromBase64url, toBase64url, toHex, utf8 } from '../crypto/bytes.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, verifyLabelled } from '../crypto/ed25519.js';
import { NS } from '../crypto/ns.js';
import { normalizeAor } from '../identity/aor.js';
import type { Identity } from '../identity/identity.js';
import { ContactError } from './errors.js';

export const CARD_SCHEME = 'p2psip:';
export const CARD_VERSION = 1;
/** No card may be longer (checked before parsing). The longest canonical v1 card is 730 characters. */
export const MAX_CARD_LENGTH = 1024;
/** A display name is 1..64 bytes of UTF-8. */
export const MAX_NAME_BYTES = 64;

/** What a card says. */
export interface CardFields {
  /** The AOR in normal form (src/identity/aor.ts). */
  aor: string;
  /** The Ed25519 identity public key (32 bytes). */
  publicKey: Uint8Array;
  /** How the card's owner calls themself (optional, shown to the friend who adds the card). */
  name?: string;
}

/** A card that parsed and verified, with its exact text. */
export interface ContactCard extends CardFields {
  /** The 64-byte Ed25519 signature under NS.contactCard. */
  signature: Uint8Array;
  /** The card text (canonical). */
  text: string;
}

const SIG_CHARS = 86;
const SIG_FIELD = '&sig=';
const COMPLETE_SIG = new RegExp(`&sig=[A-Za-z0-9_-]{${SIG_CHARS}}$`);
const PARTIAL_SIG = new RegExp(`&sig=[A-Za-z0-9_-]{0,${SIG_CHARS - 1}}$`);
const FIELD_ORDER = ['v', 'key', 'name', 'sig'] as const;
type FieldName = (typeof FIELD_ORDER)[number];
/** C0/C1 controls, format characters (bidi overrides, zero-width), line/paragraph separators, lone surrogates. */
const NAME_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
/** RFC 3986 unreserved: the only characters written as themselves in a name. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A card for `identity`, signed with its key. Throws CONTACT_CARD_MALFORMED for a bad `name`. */
export function createCard(identity: Identity, options: { name?: string } = {}): ContactCard {
  const fields: CardFields = {
    aor: identity.aor,
    publicKey: identity.publicKey,
    ...(options.name === undefined ? {} : { name: checkDisplayName(options.name) }),
  };
  const signed = signedText(fields);
  const signature = identity.sign(NS.contactCard, utf8(signed));
  return { ...fields, signature, text: `${signed}${SIG_FIELD}${toBase64url(signature)}` };
}

/**
 * Parses and verifies a card. Throws ContactError (and nothing else) with the
 * first failing check's code, in this order: CARD_TOO_LONG, CARD_MALFORMED
 * (characters, scheme), CARD_UNSUPPORTED_VERSION, CARD_TRUNCATED (no complete
 * signature at the end), CARD_MALFORMED (structure, fields),
 * CARD_NON_CANONICAL, CARD_BAD_SIGNATURE.
 */
export function parseCard(text: string): ContactCard {
  if (typeof text !== 'string') throw ContactError.malformed('not a string');
  if (text.length > MAX_CARD_LENGTH) throw ContactError.tooLong(text.length, MAX_CARD_LENGTH);
  if (!/^[\x21-\x7e]*$/.test(text)) {
    throw ContactError.malformed('contains spaces, control or non-ASCII characters');
  }
  if (text.slice(0, CARD_SCHEME.length).toLowerCase() !== CARD_SCHEME) {
    throw ContactError.malformed(`does not start with "${CARD_SCHEME}"`);
  }
  const q = text.indexOf('?');
  const parts = q < 0 ? [] : text.slice(q + 1).split('&');
  checkVersion(parts);
  if (!COMPLETE_SIG.test(text)) {
    if (!text.includes(SIG_FIELD) || PARTIAL_SIG.test(text)) {
      throw ContactError.truncated('no complete signature at the end');
    }
    throw ContactError.malformed(
      `the signature must be the last field, ${SIG_CHARS} base64url characters`,
    );
  }
  const values = readFields(parts);
  const fields = decodeFields(text.slice(CARD_SCHEME.length, q), values);
  const signed = signedText(fields);
  const canonical = `${signed}${SIG_FIELD}${values.sig}`;
  if (canonical !== text) throw ContactError.nonCanonical(firstDifference(canonical, text));
  const signature = decodeB64('sig', values.sig!, SIGNATURE_LENGTH);
  if (!verifyLabelled(NS.contactCard, signature, utf8(signed), fields.publicKey)) {
    throw ContactError.badSignature(fields.aor);
  }
  return { ...fields, signature, text };
}

/**
 * A display name as cards carry it: 1..64 bytes of UTF-8 in Unicode NFC, no
 * leading or trailing white space, no control, format (bidi override,
 * zero-width) or line-separator characters — so a name cannot disguise itself
 * in a terminal. Returns the name; CONTACT_CARD_MALFORMED says what is wrong.
 */
export function checkDisplayName(name: string): string {
  const bytes = typeof name === 'string' ? utf8(name).length : 0;
  if (bytes === 0 || bytes > MAX_NAME_BYTES) {
    throw ContactError.badDisplayName(`must have 1..${MAX_NAME_BYTES} bytes of UTF-8`);
  }
  if (NAME_FORBIDDEN.test(name)) {
    throw ContactError.badDisplayName('has a control, format or separator character');
  }
  if (name.trim() !== name) {
    throw ContactError.badDisplayName('starts or ends with white space');
  }
  if (name.normalize('NFC') !== name) {
    throw ContactError.badDisplayName('is not in Unicode NFC');
  }
  return name;
}

/**
 * The first 8 bytes of the key in hex (16 characters): the start of the key
 * as `p2psip whoami` prints it, for telling keys apart at a glance. Comparing
 * keys for trust means comparing all 64 hex characters.
 */
export function shortFingerprint(publicKey: Uint8Array): string {
  return toHex(publicKey.subarray(0, 8));
}

/** Two cards (or a card and a contact) name the same AOR and key. */
export function sameBinding(a: CardFields, b: CardFields): boolean {
  return a.aor === b.aor && equalBytes(a.publicKey, b.publicKey);
}

/** The signed part: everything before `&sig=`. */
function signedText(fields: CardFields): string {
  const name = fields.name === undefined ? '' : `&name=${percentEncode(fields.name)}`;
  return `${CARD_SCHEME}${encodeAor(fields.aor)}?v=${CARD_VERSION}&key=${toBase64url(fields.publicKey)}${name}`;
}

/** The AOR in a card: its normal form with `?` (legal in a SIP user part) written `%3F`. */
function encodeAor(aor: string): string {
  return aor.replaceAll('?', '%3F');
}

/** UTF-8, every byte outside RFC 3986 unreserved as `%XX` with uppercase hex (a space is `%20`). */
function percentEncode(text: string): string {
  let out = '';
  for (const b of utf8(text)) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function percentDecode(what: string, text: string): string {
  if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(text))
    throw ContactError.malformed(`${what}: bad % escape`);
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%') {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  try {
    return fatalUtf8.decode(new Uint8Array(bytes));
  } catch {
    throw ContactError.malformed(`${what}: % escapes are not UTF-8`);
  }
}

/** A `v` field with another decimal version: refuse before reading fields that version may define differently. */
function checkVersion(parts: string[]): void {
  for (const part of parts) {
    if (!part.startsWith('v=')) continue;
    const v = part.slice(2);
    if (/^(?:0|[1-9][0-9]*)$/.test(v) && v !== String(CARD_VERSION)) {
      throw ContactError.unsupportedVersion(v);
    }
  }
}

/** The raw field values: known names only, each once, in the canonical order. */
function readFields(parts: string[]): Partial<Record<FieldName, string>> {
  const values: Partial<Record<FieldName, string>> = {};
  const seen: FieldName[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0) throw ContactError.malformed(`field ${JSON.stringify(name)} has no "="`);
    if (!(FIELD_ORDER as readonly string[]).includes(name)) {
      throw ContactError.malformed(`unknown field ${JSON.stringify(name.slice(0, 20))}`);
    }
    const field = name as FieldName;
    if (values[field] !== undefined) throw ContactError.malformed(`field ${field} appears twice`);
    values[field] = part.slice(eq + 1);
    seen.push(field);
  }
  for (const required of ['v', 'key', 'sig'] as const) {
    if (values[required] === undefined) throw ContactError.malformed(`no ${required} field`);
  }
  const order = FIELD_ORDER.filter((f) => values[f] !== undefined);
  if (seen.join('&') !== order.join('&')) {
    throw ContactError.nonCanonical(`fields must be in the order ${order.join(', ')}`);
  }
  if (values.v !== String(CARD_VERSION)) throw ContactError.malformed('v must be 1');
  return values;
}

function decodeFields(aorText: string, values: Partial<Record<FieldName, string>>): CardFields {
  const decodedAor = percentDecode('AOR', aorText);
  let aor: string;
  try {
    aor = normalizeAor(decodedAor);
  } catch (err) {
    throw ContactError.malformed((err as Error).message);
  }
  if (aor !== decodedAor) throw ContactError.nonCanonical('the AOR is not in normal form');
  const publicKey = decodeB64('key', values.key!, PUBLIC_KEY_LENGTH);
  if (values.name === undefined) return { aor, publicKey };
  return { aor, publicKey, name: checkDisplayName(percentDecode('name', values.name)) };
}

function decodeB64(what: string, text: string, length: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(text, what);
  } catch {
    throw ContactError.malformed(`${what}: not canonical unpadded base64url`);
  }
  if (bytes.length !== length) throw ContactError.malformed(`${what}: expected ${length} bytes`);
  return bytes;
}

function firstDifference(canonical: string, text: string): string {
  let i = 0;
  while (i < canonical.length && canonical[i] === text[i]) i++;
  return `differs from the canonical form at character ${i + 1} (expected ${JSON.stringify(canonical.slice(i, i + 12))})`;
}
