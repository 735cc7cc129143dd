/**
 * The open lookup key of an AOR: BLAKE2b-256(UTF-8("p2psip/v1/open-key") ‖ 0x00 ‖ UTF-8(aor))
 * over the normal form of the AOR (./aor.ts). Anyone who knows the AOR can
 * compute it: it is the well-known key under which open-mode packages are
 * published (the seed's "open key"; secret keys come in issue 4).
 */
import { utf8 } from '../crypto/bytes.js';
import { labelledHash } from '../crypto/hash.js';
import { NS } from '../crypto/ns.js';
import { normalizeAor } from './aor.js';

export const OPEN_KEY_LENGTH = 32;

export function openKey(aor: string): Uint8Array {
  return labelledHash(NS.openKey, utf8(normalizeAor(aor)));
}
