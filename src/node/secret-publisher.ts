/**
 * Publishes the node's registration package for each friend as a secret
 * record (docs/privacy.md "Records", "Where records live"): per friend and
 * epoch, the package sealed with that pair's record key (1,000 bytes, like
 * every record) and put under the pair's record seed(s) — `publishKeys`:
 * the current generation, and the previous one until the friend confirmed
 * the current.
 *
 * Cost (counted, not assumed):
 * - a NEW package (the softphone registered) or a new epoch: per friend and
 *   record, 4 HKDF + one seal here; in the HyperDHT backend one key
 *   generation (new seed) and one signature (new value);
 * - a REFRESH (same package, same epoch: `refresh()`): the cached record is
 *   re-put with the same seq, so the backend re-sends its cached signature —
 *   no public-key operation anywhere, no seal.
 *
 * Record seqs: the storing nodes see them, so they must not link records.
 * A durable per-epoch publication counter (1, 2, … within each epoch,
 * {@link KvSecretSeqs}) gives every record of one round the same small
 * number that any node's records of any epoch also carry — never the global
 * package seq, which would tie all of one node's records together.
 *
 * Wiring (for the lead): `new SecretPublisher({ records, pairs, friends,
 * seqs: new KvSecretSeqs(store) })`; call `publish(packageBytes)` whenever
 * the package changes (the same bytes PackagePublisher publishes under the
 * open key, or the offline package), and `refresh()` on a timer (every
 * ~10 min keeps records alive through churn; at each epoch start it moves
 * every record to the new epoch's keys). Which friends get records is the
 * node's privacy-mode decision: `friends()` returns their AORs.
 *
 * Groups (optional, docs/privacy.md "Groups"): with `groups` (GroupKeys
 * `publishable()`), each group gets ONE record per epoch, sealed with the
 * group's record key (`groupEpochKeys`) and put at its record seed, with the
 * round's seq — cached like the pair records, so a refresh re-puts it with
 * no public-key operation. The group's `members` (those who acknowledged its
 * key) get no per-friend record: N acknowledged members cost one record.
 * A group id that disappears (the key was replaced because a member left,
 * or the group was deleted) has its records of the current epochs
 * overwritten with a decoy, so the old key opens nothing published from now on.
 * Without `groups` nothing of this happens (behaviour as before).
 */
import { equalBytes, toHex } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import { mapBounded } from '../overlay/checks.js';
import { MAX_SECRET_TTL_SECONDS, type SecretRecordService } from '../overlay/secret-records.js';
import { type GroupEpochKeys, groupEpochKeys } from '../privacy/group.js';
import { type EpochKeys, publishKeys } from '../privacy/keys.js';
import type { PairState } from '../privacy/pair-state.js';
import { decoyRecord, sealRecord } from '../privacy/record.js';
import type { PairSecrets } from './pair-secrets.js';

/** Durable counter of publication rounds per epoch. */
export interface SecretSeqs {
  /** The next seq for records of `epoch` (1, 2, …); never repeats, also across restarts. */
  next(epoch: number): number;
}

/** The slice of the Store {@link KvSecretSeqs} uses. */
export interface SeqKv {
  getKv(key: string): string | undefined;
  setKv(key: string, value: string): void;
  transaction<T>(fn: () => T): T;
}

/** Store key of {@link KvSecretSeqs}. */
export const SECRET_SEQ_KEY = 'secret.seq';

/**
 * {@link SecretSeqs} in the store's kv table: one JSON object
 * `{ "<epoch>": n }`, epochs older than the one asked for minus one dropped.
 */
export class KvSecretSeqs implements SecretSeqs {
  readonly #store: SeqKv;

  constructor(store: SeqKv) {
    this.#store = store;
  }

  next(epoch: number): number {
    return this.#store.transaction(() => {
      const text = this.#store.getKv(SECRET_SEQ_KEY);
      const all = parseSeqs(text);
      const n = (all[String(epoch)] ?? 0) + 1;
      const kept: Record<string, number> = { [String(epoch)]: n };
      for (const [e, v] of Object.entries(all))
        if (Number(e) >= epoch - 1 && Number(e) !== epoch) kept[e] = v;
      this.#store.setKv(SECRET_SEQ_KEY, JSON.stringify(kept));
      return n;
    });
  }
}

function parseSeqs(text: string | undefined): Record<string, number> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(value)) {
      if (/^\d+$/.test(k) && Number.isSafeInteger(v) && (v as number) > 0) out[k] = v as number;
    }
    return out;
  } catch {
    return {};
  }
}

/** A group served by one record per epoch (GroupKeys `publishable()`). */
export interface PublishGroup {
  /** The key's id (hex): a new key always comes with a new id. */
  id: string;
  /** The 32-byte group key. */
  key: Uint8Array;
  /**
   * AORs served by the group record (they acknowledged this key): no
   * per-friend record for them. Only those among `friends()` count; a group
   * with none gets no record.
   */
  members: string[];
}

export interface SecretPublisherOptions {
  records: SecretRecordService;
  /** Pair states and the epoch clock. */
  pairs: Pick<PairSecrets, 'statesFor' | 'publishEpochs' | 'epochSeconds'>;
  /** AORs of the friends to publish for now. */
  friends: () => Iterable<string>;
  /**
   * The groups to publish one record per epoch for, read once per round.
   * Absent: per-friend records only. If it throws, the round publishes
   * per-friend records for every friend and retires nothing.
   */
  groups?: () => Iterable<PublishGroup>;
  seqs: SecretSeqs;
  /** Puts in flight at once. Default 16. */
  concurrency?: number;
  log?: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

/** What one publish/refresh round did. */
export interface SecretPublishReport {
  epochs: number[];
  /** Friends served by per-friend records this round (group members with an ack excluded). */
  friends: number;
  /** Groups published (with at least one member). */
  groups: number;
  /** Friends served by those group records instead of per-friend ones. */
  grouped: number;
  /** Records put (new + refreshed), per-friend and group. */
  records: number;
  /** Of which newly sealed (new package, epoch or generation). */
  sealed: number;
  /** Of which re-put unchanged. */
  refreshed: number;
  /** Friends the round skipped (not a contact any more). */
  skipped: number;
  /** Group records of vanished group keys overwritten with a decoy. */
  retired: number;
  /** Per friend (its AOR) or group (`group:<id>`). */
  failed: { aor: string; error: unknown }[];
}

interface CachedRecord {
  epoch: number;
  seq: number;
  record: Uint8Array;
}

export class SecretPublisher {
  readonly #o: SecretPublisherOptions;
  /** Per epoch: the package published in it and its round seq. */
  readonly #rounds = new Map<number, { bytes: Uint8Array; seq: number }>();
  /** By lookup key (unique per pair, generation, epoch and direction). */
  readonly #cache = new Map<string, CachedRecord>();
  /** Derived keys per friend and epoch. */
  readonly #keys = new Map<string, { id: string; keys: EpochKeys[]; epoch: number }>();
  /** Derived keys per group id and epoch: what was published, and what to retire. */
  readonly #groupKeys = new Map<string, { id: string; key: Uint8Array; keys: GroupEpochKeys }>();
  #package: ((epoch: number) => Uint8Array) | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: SecretPublisherOptions) {
    this.#o = opts;
  }

  /**
   * Publishes the current signed registration package for every friend:
   * the same bytes for every epoch, or one package per epoch (a function;
   * it is called once per round and epoch, so it should return cached bytes
   * while nothing changed — new bytes mean a new seal and signature).
   */
  publish(
    packageBytes: Uint8Array | ((epoch: number) => Uint8Array),
  ): Promise<SecretPublishReport> {
    return this.#enqueue(() => {
      if (typeof packageBytes === 'function') this.#package = packageBytes;
      else {
        const copy = packageBytes.slice();
        this.#package = () => copy;
      }
      return this.#round(this.#package);
    });
  }

  /** Re-puts the last package (free within an epoch; moves to new keys at an epoch change). */
  refresh(): Promise<SecretPublishReport | undefined> {
    return this.#enqueue(async () => (this.#package ? this.#round(this.#package) : undefined));
  }

  async #round(packageOf: (epoch: number) => Uint8Array): Promise<SecretPublishReport> {
    const epochs = this.#o.pairs.publishEpochs();
    this.#prune(Math.min(...epochs));
    const bytesOf = new Map(epochs.map((e) => [e, packageOf(e)]));
    const seqOf = new Map(epochs.map((e) => [e, this.#roundSeq(e, bytesOf.get(e)!)]));
    const ttlSeconds = Math.min(2 * this.#o.pairs.epochSeconds, MAX_SECRET_TTL_SECONDS);
    const report: SecretPublishReport = {
      epochs,
      friends: 0,
      groups: 0,
      grouped: 0,
      records: 0,
      sealed: 0,
      refreshed: 0,
      skipped: 0,
      retired: 0,
      failed: [],
    };
    const all = [...this.#o.friends()];
    const groups = this.#groupsNow();
    const served = new Set<string>();
    const jobs: { aor: string; keys: GroupEpochKeys; seq: number }[] = [];
    const published = new Set<string>();
    if (groups) {
      // Only friends count as readers: who gets records stays `friends()`'s decision.
      const friendSet = new Set(all.map(normal));
      for (const g of groups) {
        const members = g.members.map(normal).filter((m) => friendSet.has(m));
        if (members.length === 0) continue; // nobody reads it: no record (an old one retires)
        published.add(g.id);
        try {
          const keys = epochs.map((e) => this.#groupKeysOf(g, e));
          for (const k of keys)
            jobs.push({ aor: `group:${g.id}`, keys: k, seq: seqOf.get(k.epoch)! });
          for (const m of members) served.add(m);
          report.groups++;
        } catch (error) {
          report.failed.push({ aor: `group:${g.id}`, error });
        }
      }
    }
    report.grouped = served.size;
    const friends = all.filter((aor) => !served.has(normal(aor)));
    const { states, skipped, failed } = this.#o.pairs.statesFor(friends);
    report.friends = states.size + skipped.length + failed.length;
    report.skipped = skipped.length;
    report.failed.push(...failed);
    for (const [aor, state] of states) {
      try {
        for (const e of epochs)
          for (const keys of this.#keysOf(aor, state, e))
            jobs.push({ aor, keys, seq: seqOf.get(e)! });
      } catch (error) {
        report.failed.push({ aor, error });
      }
    }
    if (groups) await this.#retire(published, epochs, ttlSeconds, report);
    await mapBounded(jobs, this.#o.concurrency ?? 16, async ({ aor, keys, seq }) => {
      const id = toHex(keys.lookupKey);
      let cached = this.#cache.get(id);
      const fresh = !cached || cached.seq !== seq;
      if (fresh) {
        const bytes = bytesOf.get(keys.epoch)!;
        cached = { epoch: keys.epoch, seq, record: sealRecord(bytes, keys.recordKey) };
        this.#cache.set(id, cached);
      }
      try {
        await this.#o.records.putSecret(keys.recordSeed, cached!.record, { seq, ttlSeconds });
        report.records++;
        if (fresh) report.sealed++;
        else report.refreshed++;
      } catch (error) {
        report.failed.push({ aor, error });
      }
    });
    if (report.failed.length > 0)
      this.#o.log?.('warn', `secret records: ${report.failed.length} put(s) failed`);
    return report;
  }

  /**
   * publishKeys, cached per friend while its state and the epoch stay the
   * same (a refresh derives nothing). The cache key is the state's epoch and
   * chain values, so a ratchet step or a re-pin (new state) misses it.
   */
  #keysOf(aor: string, state: PairState, epoch: number): EpochKeys[] {
    const id = `${state.peer}|${state.epoch}|${state.current.chain}|${state.previous?.chain ?? ''}`;
    const slot = `${aor}|${epoch}`;
    const hit = this.#keys.get(slot);
    if (hit?.id === id) return hit.keys;
    const keys = publishKeys(state, epoch);
    this.#keys.set(slot, { id, keys, epoch });
    return keys;
  }

  /** The groups of this round (with members); undefined when there are none to know of. */
  #groupsNow(): PublishGroup[] | undefined {
    if (!this.#o.groups) return undefined;
    try {
      return [...this.#o.groups()];
    } catch (err) {
      this.#o.log?.(
        'warn',
        `secret records: group list failed, per-friend records for everyone: ${err instanceof Error ? err.message : String(err)}`,
      );
      return undefined;
    }
  }

  /** groupEpochKeys, cached per group id and epoch while the key stays the same. */
  #groupKeysOf(g: PublishGroup, epoch: number): GroupEpochKeys {
    const slot = `${g.id}|${epoch}`;
    const hit = this.#groupKeys.get(slot);
    if (hit && equalBytes(hit.key, g.key)) return hit.keys;
    const keys = groupEpochKeys(g.key, epoch);
    this.#groupKeys.set(slot, { id: g.id, key: g.key.slice(), keys });
    return keys;
  }

  /**
   * Overwrites, with a decoy at a new seq, every record of a publish epoch
   * whose group id is no longer listed (the key was replaced or the group
   * deleted): from now on the old key opens nothing current. A failed
   * overwrite is retried next round.
   */
  async #retire(
    current: Set<string>,
    epochs: number[],
    ttlSeconds: number,
    report: SecretPublishReport,
  ): Promise<void> {
    for (const [slot, g] of [...this.#groupKeys]) {
      if (current.has(g.id)) continue;
      if (!epochs.includes(g.keys.epoch)) {
        this.#groupKeys.delete(slot);
        continue;
      }
      try {
        const seq = this.#o.seqs.next(g.keys.epoch);
        await this.#o.records.putSecret(g.keys.recordSeed, decoyRecord(), { seq, ttlSeconds });
        this.#groupKeys.delete(slot);
        this.#cache.delete(toHex(g.keys.lookupKey));
        report.retired++;
      } catch (error) {
        report.failed.push({ aor: `group:${g.id}`, error });
      }
    }
  }

  /** The seq of this epoch's round for `bytes`: a new one when the package changed. */
  #roundSeq(epoch: number, bytes: Uint8Array): number {
    const round = this.#rounds.get(epoch);
    if (round && equalBytes(round.bytes, bytes)) return round.seq;
    const seq = this.#o.seqs.next(epoch);
    this.#rounds.set(epoch, { bytes, seq });
    return seq;
  }

  #prune(oldest: number): void {
    for (const [id, c] of this.#cache) if (c.epoch < oldest) this.#cache.delete(id);
    for (const e of this.#rounds.keys()) if (e < oldest) this.#rounds.delete(e);
    for (const [slot, k] of this.#keys) if (k.epoch < oldest) this.#keys.delete(slot);
    for (const [slot, g] of this.#groupKeys)
      if (g.keys.epoch < oldest) this.#groupKeys.delete(slot);
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** An AOR in normal form (as the store keeps them); the input itself if it is not one. */
function normal(aor: string): string {
  try {
    return normalizeAor(aor);
  } catch {
    return aor;
  }
}
