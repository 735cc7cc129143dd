/**
 * Finds a friend's node by its SECRET records (docs/privacy.md "Privacy
 * modes"): with the pair state, derive the lookup keys of the friend's
 * records for us (`lookupKeys`: current generation, then previous), read the
 * record at each record seed's address, open it with the record key, and
 * verify the package inside with the friend's PINNED key. Epochs: now, then
 * the neighbour nearer in time (PairSecrets.lookupEpochs).
 *
 * Group records (docs/privacy.md "Groups"): for a friend that gave us group
 * keys (`groupKeysOf`, GroupKeys on our side), each epoch first tries the
 * group record(s) — newest key first, read in parallel — and only then the
 * pair records; the same verification applies (the package must be signed
 * by the friend's PINNED key, whoever else holds the group key). A success
 * through a group record is marked `group: true` (generation 0: group keys
 * are not ratcheted).
 *
 * Never falls back to the open key — that is the caller's decision, and by
 * privacy.md only when there is NO pair state (code NO_SECRET_STATE), never
 * when a secret lookup found nothing.
 *
 * Returns the proxy's `Resolution`; failures also carry a stable `code`:
 *
 * | code | status | when |
 * |---|---|---|
 * | BAD_AOR | 404 | not a user@domain address |
 * | NO_SECRET_STATE | 404 | not a contact, so no pair state (the open lookup may apply) |
 * | LOOKUP_FAILED | 480 | the secret record service failed or timed out |
 * | RECORD_NOT_FOUND | 480 | no record at any of the pair's addresses (friend offline, or records dropped) |
 * | RECORD_UNREADABLE | 404 | records found, none opens with the pair's record key |
 * | PACKAGE_INVALID | 404 | a record opens, its package fails verification (signature, AOR, pinned key, time, replay) |
 * | NO_SOFTPHONE | 480 | valid package without a HyperDHT contact (the offline package) |
 *
 * Wiring (for the lead): `new SecretResolver({ records, pairs, seen: store })`.
 */
import { toHex } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import type { PkOpCounter, SecretRecordService } from '../overlay/secret-records.js';
import { PackageError } from '../package/errors.js';
import type { PackageFields } from '../package/fields.js';
import { verifyPackage } from '../package/verify.js';
import { PrivacyError } from '../privacy/errors.js';
import { groupEpochKeys } from '../privacy/group.js';
import { lookupKeys, type RecordKeys } from '../privacy/keys.js';
import { bytes as decodeKey, type PairState } from '../privacy/pair-state.js';
import { openRecord } from '../privacy/record.js';
import type { Resolution, Resolver } from '../proxy/ports.js';
import type { PairSecrets } from './pair-secrets.js';
import { addressHint } from './resolver.js';

export type SecretFailureCode =
  | 'BAD_AOR'
  | 'NO_SECRET_STATE'
  | 'LOOKUP_FAILED'
  | 'RECORD_NOT_FOUND'
  | 'RECORD_UNREADABLE'
  | 'PACKAGE_INVALID'
  | 'NO_SOFTPHONE';

export type SecretResolution =
  | (Extract<Resolution, { ok: true }> & {
      epoch: number;
      /** The pair generation of the record; 0 for a group record. */
      generation: number;
      /** Present when a group record answered. */
      group?: true;
    })
  | (Extract<Resolution, { ok: false }> & { code: SecretFailureCode });

/** Where the highest package seq accepted per (AOR, key) is kept (the Store's kv). */
export interface SeenSeqs {
  getKv(key: string): string | undefined;
  setKv(key: string, value: string): void;
}

export interface SecretResolverOptions {
  records: SecretRecordService;
  pairs: Pick<PairSecrets, 'stateFor' | 'lookupEpochs'>;
  /**
   * The group keys `aor` gave us (GroupKeys `groupKeysOf`), best first:
   * their records are tried before the pair records. Optional.
   */
  groupKeysOf?: (aor: string) => Uint8Array[];
  /**
   * Replay protection: the highest package seq accepted per (AOR, key) from
   * secret records (`secret.seen:<aor>:<key hex>`). Kept apart from the open
   * resolver's: a node signs its open and its per-epoch secret packages
   * independently, so their seqs interleave; within each channel they only
   * grow. Optional (tests).
   */
  seen?: SeenSeqs;
  /** Time limit of the whole resolution (ms). Default 4000. */
  timeoutMs?: number;
  now?: () => number;
  /** Counts package verifications (the backend counts its own work). */
  pkOps?: PkOpCounter;
  log?: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

/** One record address to read: its keys and what a success there reports. */
interface Candidate {
  keys: RecordKeys;
  epoch: number;
  generation: number;
  group: boolean;
}

type Rejected = { kind: 'unreadable' | 'invalid'; why: string };
type Attempt = { kind: 'ok'; fields: PackageFields; at: Candidate } | Rejected;

export class SecretResolver implements Resolver {
  readonly #o: SecretResolverOptions;

  constructor(opts: SecretResolverOptions) {
    this.#o = opts;
  }

  async resolve(aorInput: string, signal?: AbortSignal): Promise<SecretResolution> {
    let aor: string;
    try {
      aor = normalizeAor(aorInput);
    } catch (err) {
      return fail('BAD_AOR', 404, 'Not Found (not a valid user@domain address)', String(err));
    }
    const state = this.#o.pairs.stateFor(aor);
    if (!state) return fail('NO_SECRET_STATE', 404, `Not Found (no secret state for ${aor})`);
    const pinned = decodeKey(state.peer);
    const now = this.#o.now ?? Date.now;
    const deadline = now() + (this.#o.timeoutMs ?? 4000);
    const attempts: Rejected[] = [];
    const groupKeys = this.#groupKeysOf(aor);
    let found = 0;
    for (const epoch of this.#o.pairs.lookupEpochs()) {
      // Group records first (one read serves every member), then the pair's.
      for (const candidates of [groupCandidates(groupKeys, epoch), pairCandidates(state, epoch)]) {
        if (candidates.length === 0) continue;
        let records: (Awaited<ReturnType<SecretRecordService['getSecret']>> | undefined)[];
        try {
          records = await Promise.all(
            candidates.map((c) =>
              this.#o.records.getSecret(
                { seed: c.keys.recordSeed },
                { timeoutMs: Math.max(1, deadline - now()), ...(signal ? { signal } : {}) },
              ),
            ),
          );
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          this.#o.log?.('warn', `secret lookup of ${aor} failed: ${why}`);
          return fail(
            'LOOKUP_FAILED',
            480,
            'Temporarily Unavailable (lookup service unreachable)',
            why,
          );
        }
        for (const [i, rec] of records.entries()) {
          if (!rec) continue;
          found++;
          const attempt = this.#check(
            aor,
            rec.value,
            candidates[i]!,
            pinned,
            Math.floor(now() / 1000),
          );
          if (attempt.kind === 'ok') return this.#accept(aor, attempt.fields, attempt.at);
          attempts.push(attempt);
        }
      }
    }
    if (found === 0)
      return fail(
        'RECORD_NOT_FOUND',
        480,
        `Temporarily Unavailable (no secret record of ${aor} found)`,
      );
    const why = attempts.map((a) => a.why).join(', ');
    this.#o.log?.('warn', `ignored ${attempts.length} secret record(s) for ${aor}: ${why}`);
    return attempts.some((a) => a.kind === 'invalid')
      ? fail('PACKAGE_INVALID', 404, `Not Found (no valid registration for ${aor})`, why)
      : fail('RECORD_UNREADABLE', 404, `Not Found (no readable secret record of ${aor})`, why);
  }

  /** The group keys of `aor` (none when the hook fails: the pair records still work). */
  #groupKeysOf(aor: string): Uint8Array[] {
    if (!this.#o.groupKeysOf) return [];
    try {
      return this.#o.groupKeysOf(aor);
    } catch (err) {
      this.#o.log?.(
        'warn',
        `group keys of ${aor} unavailable: ${err instanceof Error ? err.message : String(err)}`,
      );
      return [];
    }
  }

  #check(aor: string, record: Uint8Array, at: Candidate, pinned: Uint8Array, now: number): Attempt {
    let pkg: Uint8Array;
    try {
      pkg = openRecord(record, at.keys.recordKey);
    } catch (err) {
      return { kind: 'unreadable', why: err instanceof PrivacyError ? err.code : String(err) };
    }
    try {
      const seen = this.#o.seen?.getKv(seqKey(aor, pinned));
      this.#o.pkOps?.add('verify');
      const fields = verifyPackage(pkg, {
        expectedAor: aor,
        expectedKey: pinned,
        now,
        // The same package found again is fine; an older one is a replay.
        ...(seen === undefined ? {} : { lastSeq: Number(seen) - 1 }),
      });
      return { kind: 'ok', fields, at };
    } catch (err) {
      return { kind: 'invalid', why: err instanceof PackageError ? err.code : String(err) };
    }
  }

  #accept(aor: string, fields: PackageFields, at: Candidate): SecretResolution {
    this.#o.seen?.setKv(seqKey(aor, fields.key), String(fields.seq));
    const contact = fields.contacts.find((c) => c.transport === 'hyperdht');
    if (contact?.transport !== 'hyperdht')
      return fail(
        'NO_SOFTPHONE',
        480,
        `Temporarily Unavailable (${aor} has no softphone registered)`,
      );
    const hint = addressHint(fields.contacts);
    return {
      ok: true,
      peerKey: toHex(contact.key),
      aor,
      epoch: at.epoch,
      generation: at.generation,
      ...(at.group ? { group: true as const } : {}),
      ...(hint ? { hint } : {}),
    };
  }
}

/** The group records of `epoch`, one per key. */
function groupCandidates(keys: Uint8Array[], epoch: number): Candidate[] {
  const out: Candidate[] = [];
  for (const key of keys) {
    try {
      out.push({ keys: groupEpochKeys(key, epoch), epoch, generation: 0, group: true });
    } catch (err) {
      if (!(err instanceof PrivacyError)) throw err; // a malformed key: skipped
    }
  }
  return out;
}

/** The pair's records of `epoch` (current generation, then previous); none for an epoch it cannot derive. */
function pairCandidates(state: PairState, epoch: number): Candidate[] {
  try {
    return lookupKeys(state, epoch).map((k) => ({
      keys: k,
      epoch: k.epoch,
      generation: k.generation,
      group: false,
    }));
  } catch (err) {
    if (err instanceof PrivacyError) return []; // an epoch the state cannot derive (past)
    throw err;
  }
}

function fail(
  code: SecretFailureCode,
  status: number,
  reason: string,
  warning?: string,
): SecretResolution {
  return { ok: false, status, reason, code, ...(warning === undefined ? {} : { warning }) };
}

/** The secret channel's replay key (the open resolver keeps `resolver.seq:…`). */
function seqKey(aor: string, key: Uint8Array): string {
  return `secret.seen:${aor}:${toHex(key)}`;
}
