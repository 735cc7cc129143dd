/**
 * Strict decoding of a registration package. fast-xml-parser checks the XML
 * structure (well-formedness, duplicate attributes, element tree), but trust
 * comes only from the raw bytes: after mapping the tree to fields, the fields
 * are serialised again and must reproduce the received bytes exactly. So any
 * variation — whitespace, attribute order, quoting, self-closing style,
 * padding in base64url, leading zeros — is PACKAGE_MALFORMED, and the bytes
 * the signature covers are exactly the bytes received.
 *
 * Checks run cheapest-first, before the XML parser sees anything: size,
 * UTF-8, printable ASCII, and no `<!` / `<?` / `&` at all — so no DOCTYPE, no
 * entity (no XXE, no entity expansion), no comment, CDATA or processing
 * instruction can reach the parser.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { fromBase64url, utf8 } from '../crypto/bytes.js';
import { SIGNATURE_LENGTH } from '../crypto/ed25519.js';
import { PackageError } from './errors.js';
import {
  MAX_PACKAGE_BYTES,
  type PackageContact,
  type PackageExtension,
  type PackageFields,
  validateFields,
} from './fields.js';
import {
  ROOT_CLOSE,
  SIG_OPEN,
  serializeUnsigned,
  TAIL,
  withSignature,
  XMLNS,
} from './serialize.js';

export interface DecodedPackage {
  fields: PackageFields;
  /** The signed document: the received bytes without the <sig> element. */
  signedBytes: Uint8Array;
  signature: Uint8Array;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  ignoreDeclaration: false,
  ignorePiTags: false,
  removeNSPrefix: false,
});

/** One node of fast-xml-parser's preserveOrder output. */
type XmlNode = Record<string, unknown> & { ':@'?: Record<string, unknown> };

const ROOT_ATTRS = ['xmlns', 'aor', 'key', 'seq', 'created', 'expires'];
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** Parses and structurally checks a package. Does NOT verify the signature or times. */
export function decodePackage(bytes: Uint8Array): DecodedPackage {
  if (!(bytes instanceof Uint8Array)) throw PackageError.malformed('expected bytes');
  if (bytes.length > MAX_PACKAGE_BYTES)
    throw PackageError.tooLarge(bytes.length, MAX_PACKAGE_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw PackageError.malformed('not UTF-8');
  }
  if (!/^[\x20-\x7e]+$/.test(text)) {
    throw PackageError.malformed(
      'only printable ASCII is allowed (no BOM, control characters or non-ASCII)',
    );
  }
  if (/<!|<\?|&/.test(text)) {
    throw PackageError.malformed(
      'DOCTYPE, entities, comments, CDATA and processing instructions are not allowed',
    );
  }
  const sigAt = text.lastIndexOf(SIG_OPEN);
  if (sigAt < 0 || !text.endsWith(TAIL))
    throw PackageError.malformed('must end with <sig>…</sig></reg>');
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw PackageError.malformed(`XML: ${valid.err.msg}`);

  const fields = toFields(parser.parse(text) as XmlNode[]);
  validateFields(fields);
  const signature = fromB64(
    text.slice(sigAt + SIG_OPEN.length, -TAIL.length),
    'sig',
    SIGNATURE_LENGTH,
  );
  const signed = text.slice(0, sigAt) + ROOT_CLOSE;
  const unsigned = serializeUnsigned(fields);
  if (unsigned !== signed || withSignature(unsigned, signature) !== text) {
    throw PackageError.malformed('not in canonical form');
  }
  return { fields, signedBytes: utf8(signed), signature };
}

function toFields(doc: XmlNode[]): PackageFields {
  if (doc.length !== 1) throw PackageError.malformed('expected exactly one root element');
  const root = element(doc[0]!, 'reg', ROOT_ATTRS);
  const a = root.attrs;
  if (a.xmlns !== XMLNS) throw PackageError.malformed(`xmlns: expected "${XMLNS}"`);
  const contacts: PackageContact[] = [];
  const extensions: PackageExtension[] = [];
  let sigSeen = false;
  for (const child of root.children) {
    const name = nameOf(child);
    if (sigSeen) throw PackageError.malformed('<sig> must be the last element');
    if (name === 'contact') contacts.push(contact(child, contacts.length));
    else if (name === 'ext') {
      const e = element(child, 'ext', ['name', 'value']);
      noChildren(e.children, 'ext');
      extensions.push({ name: e.attrs.name!, value: e.attrs.value! });
    } else if (name === 'sig') {
      const s = element(child, 'sig', []);
      if (s.children.length !== 1 || nameOf(s.children[0]!) !== '#text') {
        throw PackageError.malformed('<sig> must contain only the signature text');
      }
      sigSeen = true;
    } else {
      throw PackageError.malformed(
        `unknown element <${name}> (extensions go in <ext name=".." value=".."/>)`,
      );
    }
  }
  if (!sigSeen) throw PackageError.malformed('missing <sig>');
  return {
    aor: a.aor!,
    key: fromB64(a.key!, 'key', 32),
    seq: decimal(a.seq!, 'seq'),
    created: decimal(a.created!, 'created'),
    expires: decimal(a.expires!, 'expires'),
    contacts,
    extensions,
  };
}

function contact(node: XmlNode, i: number): PackageContact {
  const where = `contacts[${i}]`;
  const transport = node[':@']?.transport;
  if (transport === 'hyperdht') {
    const e = element(node, 'contact', ['transport', 'key']);
    noChildren(e.children, 'contact');
    return { transport, key: fromB64(e.attrs.key!, `${where}.key`, 32) };
  }
  if (transport === 'udp' || transport === 'tcp') {
    const e = element(node, 'contact', ['transport', 'addr']);
    noChildren(e.children, 'contact');
    return { transport, addr: e.attrs.addr! };
  }
  throw PackageError.malformed(`${where}.transport: expected hyperdht, udp or tcp`);
}

/** The single element name of a node, its exact attribute set and its children. */
function element(
  node: XmlNode,
  name: string,
  attrs: readonly string[],
): { attrs: Record<string, string>; children: XmlNode[] } {
  if (nameOf(node) !== name) throw PackageError.malformed(`expected <${name}>`);
  const got = node[':@'] ?? {};
  const keys = Object.keys(got);
  if (keys.length !== attrs.length || !attrs.every((k) => typeof got[k] === 'string')) {
    throw PackageError.malformed(
      `<${name}> must have exactly the attributes ${attrs.join(', ') || '(none)'}`,
    );
  }
  const children = node[name];
  if (!Array.isArray(children)) throw PackageError.malformed(`<${name}>: unexpected content`);
  return { attrs: got as Record<string, string>, children: children as XmlNode[] };
}

function nameOf(node: XmlNode): string {
  const names = Object.keys(node).filter((k) => k !== ':@');
  if (names.length !== 1) throw PackageError.malformed('unexpected XML node');
  return names[0]!;
}

function noChildren(children: XmlNode[], name: string): void {
  if (children.length > 0) throw PackageError.malformed(`<${name}> must be empty`);
}

function decimal(text: string, field: string): number {
  if (!DECIMAL.test(text) || !Number.isSafeInteger(Number(text))) {
    throw PackageError.malformed(`${field}: expected a canonical decimal 0..2^53-1`);
  }
  return Number(text);
}

function fromB64(text: string, field: string, length: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(text);
  } catch {
    throw PackageError.malformed(`${field}: not canonical unpadded base64url`);
  }
  if (bytes.length !== length) throw PackageError.malformed(`${field}: expected ${length} bytes`);
  return bytes;
}
