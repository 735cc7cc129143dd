/** Random protocol identifiers (RFC 3261 §8.1.1.7 branch, §19.3 tags), from node:crypto. */
import { randomBytes } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE } from './types.js';

/** A new Via branch: the magic cookie plus 96 random bits (hex). */
export function generateBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomBytes(12).toString('hex');
}

/** A new From/To tag: 64 random bits (hex); RFC 3261 §19.3 asks for at least 32. */
export function generateTag(): string {
  return randomBytes(8).toString('hex');
}
