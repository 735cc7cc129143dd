/**
 * Keeps the node's registration package in the lookup service while a
 * softphone is registered: publish on the first binding, refresh before it
 * lapses, withdraw when the last binding goes (RFC 3261 registration →
 * P2P publication, as in the seed).
 */

import type { Identity } from '../identity/identity.js';
import { openKey } from '../identity/open-key.js';
import type { LookupService } from '../overlay/lookup-service.js';
import { encodePackage } from '../package/encode.js';
import type { PackageContact } from '../package/fields.js';
import type { Store } from '../store/store.js';

/** Store counter holding the last package / record sequence number (only grows, survives restarts). */
export const SEQ_COUNTER = 'package.seq';

/** Store kv: '1' while a record under the open key may exist (so a restart in paranoid mode withdraws it). */
export const OPEN_PUBLISHED_KEY = 'open.published';

export interface PublisherOptions {
  lookup: LookupService;
  identity: Identity;
  store: Store;
  /** How peers reach us: our tunnel key(s). */
  contacts: () => PackageContact[];
  /** Lifetime of a published package. Default 3600 s. */
  ttlSeconds?: number;
  /** Refresh this long before expiry. Default: at half the lifetime. */
  refreshSeconds?: number;
  now?: () => number;
  log: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

export class PackagePublisher {
  readonly #o: Required<Omit<PublisherOptions, 'refreshSeconds'>> & { refreshSeconds: number };
  #timer: NodeJS.Timeout | undefined;
  #published = false;
  /** Serialises publish/withdraw so they land in call order. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #online = true;

  constructor(opts: PublisherOptions) {
    const ttl = opts.ttlSeconds ?? 3600;
    this.#o = {
      now: Date.now,
      ...opts,
      ttlSeconds: ttl,
      refreshSeconds: opts.refreshSeconds ?? ttl / 2,
    };
  }

  get published(): boolean {
    return this.#published;
  }

  /** The current signed package (also sent to peers when a tunnel opens). */
  currentPackage(contacts = this.#o.contacts()): { bytes: Uint8Array; seq: number } {
    const seq = this.#o.store.incrementCounter(SEQ_COUNTER);
    const created = Math.floor(this.#o.now() / 1000);
    const bytes = encodePackage(
      { seq, created, expires: created + this.#o.ttlSeconds, contacts },
      this.#o.identity,
    );
    return { bytes, seq };
  }

  /**
   * Publishes now and keeps refreshing until `withdraw()` or `close()`.
   * `online: false` publishes the package with no contacts: "this AOR exists
   * and its node runs, but no softphone is registered", so callers get 480
   * rather than 404.
   */
  publish(online = true): Promise<void> {
    this.#online = online;
    return this.#enqueue(async () => {
      const { bytes, seq } = this.currentPackage(online ? this.#o.contacts() : []);
      await this.#o.lookup.publish(openKey(this.#o.identity.aor), bytes, {
        ttlSeconds: this.#o.ttlSeconds,
        seq,
      });
      this.#published = true;
      if (this.#o.store.getKv(OPEN_PUBLISHED_KEY) !== '1')
        this.#o.store.setKv(OPEN_PUBLISHED_KEY, '1');
      this.#o.log(
        'info',
        `published ${online ? '' : 'offline '}registration package seq=${seq} (${bytes.length} bytes)`,
      );
      this.#schedule();
    });
  }

  /**
   * Removes the package from the lookup service and stops refreshing. Also
   * withdraws a record an earlier run left (the store remembers), and
   * touches the open key not at all when there never was one.
   */
  withdraw(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#enqueue(async () => {
      if (!this.#published && this.#o.store.getKv(OPEN_PUBLISHED_KEY) !== '1') return;
      await this.#o.lookup.withdraw(openKey(this.#o.identity.aor));
      this.#published = false;
      this.#o.store.setKv(OPEN_PUBLISHED_KEY, '0');
      this.#o.log('info', 'withdrew registration package');
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.publish(this.#online).catch((err: unknown) => {
        this.#o.log('warn', `refresh failed: ${err instanceof Error ? err.message : String(err)}`);
        this.#schedule();
      });
    }, this.#o.refreshSeconds * 1000);
    this.#timer.unref();
  }

  #enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(() => (this.#closed ? undefined : job()));
    this.#queue = run.catch(() => {});
    return run;
  }
}
