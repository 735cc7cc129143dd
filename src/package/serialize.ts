/**
 * The one serialisation of package fields. The decoder re-serialises what it
 * parsed and compares bytes, so this function *is* the canonical form:
 * fixed element and attribute order, double quotes, no whitespace between
 * elements, no XML declaration, ASCII only, nothing that needs escaping.
 */
import { toBase64url } from '../crypto/bytes.js';
import type { PackageFields } from './fields.js';

export const XMLNS = 'urn:p2psip:reg:1';
/** What every package ends with; the signature element is always last. */
export const SIG_OPEN = '<sig>';
export const TAIL = '</sig></reg>';
export const ROOT_CLOSE = '</reg>';

/** The signed document: the package without its <sig> element. Ends with `</reg>`. */
export function serializeUnsigned(f: PackageFields): string {
  let out =
    `<reg xmlns="${XMLNS}" aor="${f.aor}" key="${toBase64url(f.key)}" seq="${f.seq}"` +
    ` created="${f.created}" expires="${f.expires}">`;
  for (const c of f.contacts) {
    out +=
      c.transport === 'hyperdht'
        ? `<contact transport="hyperdht" key="${toBase64url(c.key)}"/>`
        : `<contact transport="${c.transport}" addr="${c.addr}"/>`;
  }
  for (const e of f.extensions) out += `<ext name="${e.name}" value="${e.value}"/>`;
  return out + ROOT_CLOSE;
}

/** The full package: the signed document with `<sig>…</sig>` inserted before `</reg>`. */
export function withSignature(unsigned: string, signature: Uint8Array): string {
  return `${unsigned.slice(0, -ROOT_CLOSE.length)}${SIG_OPEN}${toBase64url(signature)}${TAIL}`;
}
