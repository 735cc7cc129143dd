/** Builds and signs a registration package with the node's identity. */
import { utf8 } from '../crypto/bytes.js';
import { NS } from '../crypto/ns.js';
import type { Identity } from '../identity/identity.js';
import { PackageError } from './errors.js';
import { MAX_PACKAGE_BYTES, type PackageFields, validateFields } from './fields.js';
import { serializeUnsigned, withSignature } from './serialize.js';

/** Everything but what the identity supplies (aor, key). */
export type PackageInput = Omit<PackageFields, 'aor' | 'key' | 'extensions'> & {
  extensions?: PackageFields['extensions'];
};

/**
 * The signed package bytes. The signature is Ed25519 by the identity over
 * UTF-8("p2psip/v1/package-sig") ‖ 0x00 ‖ (the package without its <sig> element).
 * PACKAGE_MALFORMED for invalid fields, PACKAGE_TOO_LARGE above {@link MAX_PACKAGE_BYTES}.
 */
export function encodePackage(input: PackageInput, identity: Identity): Uint8Array {
  const fields: PackageFields = {
    aor: identity.aor,
    key: identity.publicKey,
    seq: input.seq,
    created: input.created,
    expires: input.expires,
    contacts: input.contacts,
    extensions: input.extensions ?? [],
  };
  validateFields(fields);
  const unsigned = serializeUnsigned(fields);
  const bytes = utf8(withSignature(unsigned, identity.sign(NS.packageSig, utf8(unsigned))));
  if (bytes.length > MAX_PACKAGE_BYTES)
    throw PackageError.tooLarge(bytes.length, MAX_PACKAGE_BYTES);
  return bytes;
}
