/**
 * Group keys: a publisher shares one 32-byte key with a group of friends and
 * publishes ONE record per epoch for all of them instead of one per friend.
 *
 *   G(e)       = HKDF(ikm = groupKey, info = "p2psip/v1/group-epoch" ‖ 0 ‖ u32be(e))
 *   lookupKey  = HKDF(ikm = G(e), info = "p2psip/v1/secret-key"  ‖ 0 ‖ u32be(e))
 *   recordKey  = HKDF(ikm = G(e), info = "p2psip/v1/record-key"  ‖ 0 ‖ u32be(e))
 *   recordSeed = HKDF(ikm = G(e), info = "p2psip/v1/record-seed" ‖ 0 ‖ u32be(e))
 *
 * (The pair derivations use the same labels with a 68-byte context; a group
 * context is 4 bytes, and the key material differs anyway.) Records are the
 * same fixed-size records as for pairs (./record.ts). A group key is not
 * ratcheted: whoever holds it can derive every epoch, so it is replaced when
 * a member leaves (docs/privacy.md "Groups").
 */
import { deriveKey } from '../crypto/kdf.js';
import { NS } from '../crypto/ns.js';
import { SECRET_BYTES, u32be } from './chain.js';
import { PrivacyError } from './errors.js';
import type { RecordKeys } from './keys.js';
import { checkEpoch } from './pair-state.js';

export interface GroupEpochKeys extends RecordKeys {
  epoch: number;
}

/** The lookup key, record key and record seed of a group's one record at `epoch`. */
export function groupEpochKeys(groupKey: Uint8Array, epoch: number): GroupEpochKeys {
  if (!(groupKey instanceof Uint8Array) || groupKey.length !== SECRET_BYTES) {
    throw PrivacyError.badArgument('group key', `${SECRET_BYTES} bytes`);
  }
  checkEpoch(epoch, 'epoch');
  const context = u32be(epoch);
  const g = deriveKey(NS.groupEpoch, groupKey, { context });
  try {
    return {
      epoch,
      lookupKey: deriveKey(NS.secretKey, g, { context }),
      recordKey: deriveKey(NS.recordKey, g, { context }),
      recordSeed: deriveKey(NS.recordSeed, g, { context }),
    };
  } finally {
    g.fill(0);
  }
}
