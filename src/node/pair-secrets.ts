/**
 * The node's pair secrets: one durable PairState per contact (store table
 * pair_secrets), created on first use from our identity and the contact's
 * pinned key, kept at the current epoch, and the one clock the secret
 * publisher and resolver share (docs/privacy.md "Durable pair state").
 *
 * Epoch policy (docs/privacy.md "Epochs: one-way"): the state is stored at
 * epochOf(now − grace), so for `grace` seconds into a new epoch the previous
 * epoch's keys can still be derived (a friend whose clock is a little behind
 * still finds us, and we still find it); records are published for
 * epochOf(now) and, in the last `grace` seconds of an epoch, for the next one
 * too; lookups try epochOf(now) and then the neighbour nearer in time.
 *
 * Wiring (for the lead): `new PairSecrets({ store, identity })` — `store` is
 * the node's Store (only the four methods of {@link PairStore} are used).
 * Call `update(aor, state)` with the state every ratchet step returns, BEFORE
 * sending the message it produced (the commit order of privacy.md).
 */

import { toBase64url } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import type { Identity } from '../identity/identity.js';
import type { PkOpCounter } from '../overlay/secret-records.js';
import { PrivacyError, PrivacyErrorCode } from '../privacy/errors.js';
import {
  advanceToEpoch,
  DEFAULT_EPOCH_SECONDS,
  epochOf,
  initialPairState,
  type PairState,
} from '../privacy/pair-state.js';

/** The slice of the Store this service uses. */
export interface PairStore {
  getContact(aor: string): { publicKey: Uint8Array } | undefined;
  getPairState(aor: string): PairState | undefined;
  putPairState(aor: string, state: PairState): void;
  deletePairState(aor: string): boolean;
  /** All-or-nothing batch (one durable commit for many writes). */
  transaction<T>(fn: () => T): T;
}

/** Grace period around an epoch boundary (privacy.md: 5 min). */
export const DEFAULT_GRACE_SECONDS = 300;

export interface PairSecretsOptions {
  store: PairStore;
  /** Our identity (its seed agrees the static pair root: one X25519 per new pair). */
  identity: Identity;
  /** Wall clock in ms since the Unix epoch. Default Date.now. */
  now?: () => number;
  /** Epoch length of NEW pairs (both friends must use the same). Default 3600. */
  epochSeconds?: number;
  /** Default DEFAULT_GRACE_SECONDS; at most half an epoch. */
  graceSeconds?: number;
  /** Counts the X25519 of each new pair. */
  pkOps?: PkOpCounter;
  log?: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

export class PairSecrets {
  readonly epochSeconds: number;
  readonly graceSeconds: number;
  readonly #o: PairSecretsOptions;
  readonly #now: () => number;
  readonly #self: string;

  constructor(opts: PairSecretsOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.epochSeconds = opts.epochSeconds ?? DEFAULT_EPOCH_SECONDS;
    this.graceSeconds = opts.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    epochOf(0, this.epochSeconds); // checks the length (PRIVACY_BAD_ARGUMENT)
    if (
      !Number.isInteger(this.graceSeconds) ||
      this.graceSeconds < 0 ||
      this.graceSeconds > this.epochSeconds / 2
    ) {
      throw PrivacyError.badArgument('graceSeconds', `an integer 0..${this.epochSeconds / 2}`);
    }
    this.#self = toBase64url(opts.identity.publicKey);
  }

  /** The epoch of the clock now. */
  currentEpoch(): number {
    return epochOf(this.#seconds(), this.epochSeconds);
  }

  /** The epochs to publish records for now: the current one, and the next in its last `grace`. */
  publishEpochs(): number[] {
    const s = this.#seconds();
    const e = epochOf(s, this.epochSeconds);
    const nextStarts = (e + 1) * this.epochSeconds;
    return nextStarts - s <= this.graceSeconds ? [e, e + 1] : [e];
  }

  /** The epochs to look a friend up in, in order: now, then the neighbour nearer in time. */
  lookupEpochs(): number[] {
    const s = this.#seconds();
    const e = epochOf(s, this.epochSeconds);
    const into = s - e * this.epochSeconds;
    return into < this.epochSeconds / 2 && e > 0 ? [e, e - 1] : [e, e + 1];
  }

  /**
   * The pair state with a contact, at the stored epoch (epochOf(now − grace)):
   * created on first use (one X25519), moved forward and persisted when the
   * epoch has passed. Undefined when `aor` is not a contact. A state too far
   * behind to step (PRIVACY_EPOCH_TOO_FAR) starts over from generation 0.
   */
  stateFor(aorInput: string): PairState | undefined {
    const aor = normalizeAor(aorInput);
    const contact = this.#o.store.getContact(aor);
    if (!contact) return undefined;
    const epoch = epochOf(Math.max(0, this.#seconds() - this.graceSeconds), this.epochSeconds);
    const stored = this.#o.store.getPairState(aor);
    const pinned = toBase64url(contact.publicKey);
    if (stored && stored.peer === pinned && stored.self === this.#self) {
      if (stored.epoch >= epoch) return stored; // current, or our clock went back: keep it
      try {
        const moved = advanceToEpoch(stored, epoch);
        this.#o.store.putPairState(aor, moved);
        return moved;
      } catch (err) {
        if (!(err instanceof PrivacyError) || err.code !== PrivacyErrorCode.EpochTooFar) throw err;
        this.#o.log?.('warn', `pair state with ${aor} is too old to step forward: starting over`);
      }
    }
    this.#o.pkOps?.add('x25519');
    const fresh = initialPairState(this.#o.identity, contact.publicKey, epoch, {
      epochSeconds: this.epochSeconds,
    });
    this.#o.store.putPairState(aor, fresh);
    return fresh;
  }

  /**
   * {@link stateFor} for many contacts in ONE store transaction: at an epoch
   * change every state moves forward, and one commit (one fsync) for all of
   * them instead of one per friend. Per-friend failures are returned, not thrown.
   */
  statesFor(aors: Iterable<string>): {
    states: Map<string, PairState>;
    skipped: string[];
    failed: { aor: string; error: unknown }[];
  } {
    const states = new Map<string, PairState>();
    const skipped: string[] = [];
    const failed: { aor: string; error: unknown }[] = [];
    this.#o.store.transaction(() => {
      for (const aor of aors) {
        try {
          const state = this.stateFor(aor);
          if (state) states.set(aor, state);
          else skipped.push(aor);
        } catch (error) {
          failed.push({ aor, error });
        }
      }
    });
    return { states, skipped, failed };
  }

  /** Stores a state a ratchet step returned (before its message is sent). */
  update(aor: string, state: PairState): void {
    this.#o.store.putPairState(aor, state);
  }

  /** Drops the pair state (the next use starts again from generation 0). */
  forget(aor: string): boolean {
    return this.#o.store.deletePairState(aor);
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }
}
