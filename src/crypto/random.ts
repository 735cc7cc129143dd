/** Cryptographically secure random bytes (node:crypto, the OS CSPRNG). */
import { randomBytes as nodeRandomBytes } from 'node:crypto';

export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 65536) {
    throw new RangeError(`randomBytes: bad length ${length}`);
  }
  return new Uint8Array(nodeRandomBytes(length));
}
