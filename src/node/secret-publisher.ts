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
 */
import { equalBytes, toHex } from '../crypto/bytes.js';
import { mapBounded } from '../overlay/checks.js';
import { MAX_SECRET_TTL_SECONDS, type SecretRecordService } from '../overlay/secret-records.js';
import { type EpochKeys, publishKeys } from '../privacy/keys.js';
import type { PairState } from '../privacy/pair-state.js';
import { sealRecord } from '../privacy/record.js';
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

export interface SecretPublisherOptions {
  records: SecretRecordService;
  /** Pair states and the epoch clock. */
  pairs: Pick<PairSecrets, 'statesFor' | 'publishEpochs' | 'epochSeconds'>;
  /** AORs of the friends to publish for now. */
  friends: () => Iterable<string>;
  seqs: SecretSeqs;
  /** Puts in flight at once. Default 16. */
  concurrency?: number;
  log?: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

/** What one publish/refresh round did. */
export interface SecretPublishReport {
  epochs: number[];
  friends: number;
  /** Records put (new + refreshed). */
  records: number;
  /** Of which newly sealed (new package, epoch or generation). */
  sealed: number;
  /** Of which re-put unchanged. */
  refreshed: number;
  /** Friends the round skipped (not a contact any more). */
  skipped: number;
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
      records: 0,
      sealed: 0,
      refreshed: 0,
      skipped: 0,
      failed: [],
    };
    const { states, skipped, failed } = this.#o.pairs.statesFor(this.#o.friends());
    report.friends = states.size + skipped.length + failed.length;
    report.skipped = skipped.length;
    report.failed.push(...failed);
    const jobs: { aor: string; keys: EpochKeys; seq: number }[] = [];
    for (const [aor, state] of states) {
      try {
        for (const e of epochs)
          for (const keys of this.#keysOf(aor, state, e))
            jobs.push({ aor, keys, seq: seqOf.get(e)! });
      } catch (error) {
        report.failed.push({ aor, error });
      }
    }
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
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => {});
    return run;
  }
}
