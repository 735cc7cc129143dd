/**
 * The node's privacy side (docs/privacy.md, docs/protocol.md "Privacy
 * modes"): the mode, the pair secrets, the secret records published for
 * every contact, the secret resolver, and the per-epoch tunnel keys friends
 * dial after a secret lookup.
 *
 * Tunnel keys in secret mode — the per-node epoch key (privacy.md "Tunnel
 * keys"): the package sealed in a secret record names a hyperdht key derived
 * from a local secret and the epoch (`nodeTunnelSeed`), not the identity key.
 * DHT nodes near that key learn "someone connects to K" for a K that nothing
 * links to the identity and that changes every epoch. The node listens on
 * the keys of the epochs a friend may still be using (now ± grace), accepts
 * on them only callers whose identity key (proved by the Noise handshake) is
 * a contact's, and, in paranoid mode, does not listen on its identity key at
 * all (a listener announces its key in the DHT).
 */
import type { PrivacyMode } from '../config/config.js';
import { equalBytes, fromHex, toHex } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { type DhtKeyPair, loadHyperDht } from '../dht/hyperdht.js';
import { normalizeAor } from '../identity/aor.js';
import type { Identity } from '../identity/identity.js';
import type { SecretDht } from '../overlay/hyperdht-secret.js';
import { HyperDhtSecretRecords } from '../overlay/hyperdht-secret.js';
import { MAX_SECRET_TTL_SECONDS, type SecretRecordService } from '../overlay/secret-records.js';
import type { PackageContact } from '../package/fields.js';
import { nodeTunnelSeed, publishKeys } from '../privacy/keys.js';
import { epochOf, type PairState } from '../privacy/pair-state.js';
import { decoyRecord } from '../privacy/record.js';
import type { Store } from '../store/store.js';
import type { TunnelEndpoint } from '../tunnel/endpoint.js';
import type { GroupKeys } from './group-keys.js';
import type { LogFn } from './log.js';
import { isPrivacyMode, publishesOpen } from './modes.js';
import { PairSecrets } from './pair-secrets.js';
import { KvSecretSeqs, SecretPublisher } from './secret-publisher.js';
import { SecretResolver } from './secret-resolver.js';

/** Store kv entries. */
export const MODE_KEY = 'privacy.mode';
export const TUNNEL_SEED_KEY = 'tunnel.seed';

/** Epoch keys still recognised as ours in Route headers (a dialog may outlive its epoch). */
const ROUTE_KEY_EPOCHS = 24;

export interface NodePrivacyOptions {
  store: Store;
  identity: Identity;
  /** The node's DHT node (shared with the open lookup and the tunnels). */
  dht: SecretDht;
  endpoint: TunnelEndpoint;
  /** The mode when the store holds none (config `privacy.mode`). */
  initialMode: PrivacyMode;
  /** Signs a registration package naming `contacts` (PackagePublisher.currentPackage). */
  signPackage(contacts: PackageContact[]): Uint8Array;
  /** Re-publish secret records this often (ms). Default 600,000. */
  refreshMs?: number;
  /** How often epochs and listeners are checked (ms). Default 30,000. */
  tickMs?: number;
  epochSeconds?: number;
  graceSeconds?: number;
  /** Test hook: a secret record service other than the DHT's. */
  records?: SecretRecordService;
  now?: () => number;
  log: LogFn;
}

export class NodePrivacy {
  readonly pairs: PairSecrets;
  readonly records: SecretRecordService;
  readonly resolver: SecretResolver;
  /** Every tunnel key that is ours (identity + recent epoch keys), hex; live — the router reads it. */
  readonly ownKeys = new Set<string>();
  readonly #o: NodePrivacyOptions;
  readonly #publisher: SecretPublisher;
  readonly #tunnelSeed: Uint8Array;
  readonly #now: () => number;
  /** Epoch → key pair we listen on. */
  readonly #listening = new Map<number, DhtKeyPair>();
  /** Epoch → its tunnel key pair (current and neighbouring epochs). */
  readonly #keyPairs = new Map<number, DhtKeyPair>();
  /** Epoch → key hex, for every epoch key handed out recently. */
  readonly #epochOfKey = new Map<string, number>();
  /** Record seeds of a pair's generation that a ratchet step retired, to overwrite (see `ratchetPairs`). */
  readonly #retired: { seed: Uint8Array; epoch: number }[] = [];
  readonly #seqs: KvSecretSeqs;
  /** Per epoch: the signed package naming that epoch's tunnel key, for the current online state. */
  readonly #packages = new Map<number, Uint8Array>();
  #mode: PrivacyMode;
  #groups: Pick<GroupKeys, 'publishable' | 'groupKeysOf' | 'sync'> | undefined;
  #online = false;
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #lastRefresh = 0;
  #lastEpochs = '';
  #sync: Promise<void> = Promise.resolve();

  constructor(opts: NodePrivacyOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    const stored = opts.store.getKv(MODE_KEY);
    this.#mode = isPrivacyMode(stored) ? stored : opts.initialMode;
    let seedHex = opts.store.getKv(TUNNEL_SEED_KEY);
    if (seedHex === undefined) {
      seedHex = toHex(randomBytes(32));
      opts.store.setKv(TUNNEL_SEED_KEY, seedHex);
    }
    this.#tunnelSeed = fromHex(seedHex);
    this.ownKeys.add(opts.identity.publicKeyHex);
    this.pairs = new PairSecrets({
      store: opts.store,
      identity: opts.identity,
      now: this.#now,
      ...(opts.epochSeconds === undefined ? {} : { epochSeconds: opts.epochSeconds }),
      ...(opts.graceSeconds === undefined ? {} : { graceSeconds: opts.graceSeconds }),
      log: opts.log,
    });
    this.records = opts.records ?? new HyperDhtSecretRecords({ dht: opts.dht });
    this.#seqs = new KvSecretSeqs(opts.store);
    this.#publisher = new SecretPublisher({
      records: this.records,
      pairs: this.pairs,
      friends: () => opts.store.listContacts().map((c) => c.aor),
      groups: () => this.#groups?.publishable() ?? [],
      seqs: this.#seqs,
      log: opts.log,
    });
    this.resolver = new SecretResolver({
      records: this.records,
      pairs: this.pairs,
      seen: opts.store,
      groupKeysOf: (aor) => this.#groups?.groupKeysOf(aor) ?? [],
      // Package validity is wall-clock time; `now` is the epoch clock (tests move it).
      log: opts.log,
    });
  }

  /** Group keys (one record per group and epoch for acknowledged members); bound after construction. */
  useGroups(groups: Pick<GroupKeys, 'publishable' | 'groupKeysOf' | 'sync'>): void {
    this.#groups = groups;
  }

  get mode(): PrivacyMode {
    return this.#mode;
  }

  /** The caller's mode for one callee: the contact's override, else the node's mode. */
  modeFor(aor: string): PrivacyMode {
    return this.#o.store.getContact(normalizeAor(aor))?.privacyMode ?? this.#mode;
  }

  /** A shared secret exists with every contact (from the two identity keys, no message needed). */
  hasSecret(aor: string): boolean {
    return this.#o.store.getContact(normalizeAor(aor)) !== undefined;
  }

  /** Whether the open record should exist now. */
  get publishesOpen(): boolean {
    return publishesOpen(this.#mode);
  }

  /** Switches the mode (durable); the caller re-syncs publication. Returns the previous mode. */
  setMode(mode: PrivacyMode): PrivacyMode {
    if (!isPrivacyMode(mode)) throw new TypeError(`unknown privacy mode ${String(mode)}`);
    const previous = this.#mode;
    this.#o.store.setKv(MODE_KEY, mode);
    this.#mode = mode;
    if (previous !== mode) this.#o.log('info', `privacy mode ${previous} → ${mode}`);
    return previous;
  }

  /** Starts listening on epoch keys and the refresh timer. */
  async start(): Promise<void> {
    this.#started = true;
    await this.#syncListeners();
    this.#timer = setInterval(() => void this.tick(), this.#o.tickMs ?? 30_000);
    this.#timer.unref();
  }

  /**
   * (Re)publishes the secret records of every contact: the package naming
   * the epoch's tunnel key when a softphone is registered, the offline
   * package otherwise (sealed to the same size, so DHT nodes cannot tell).
   */
  publish(online: boolean): Promise<void> {
    if (online !== this.#online) this.#packages.clear();
    this.#online = online;
    return this.#round(() => this.#publisher.publish((e) => this.secretPackage(e)));
  }

  /** A contact was added, removed or ratcheted: its records follow on the next round. */
  refresh(): Promise<void> {
    return this.#round(() => this.#publisher.refresh());
  }

  /** Periodic work: listeners for the epochs in use, records at an epoch change, refresh. */
  async tick(): Promise<void> {
    if (!this.#started) return;
    await this.#syncListeners();
    try {
      this.#groups?.sync(); // a member removed by the CLI retires the group's key now
    } catch (err) {
      this.#o.log('warn', `group keys: ${err instanceof Error ? err.message : String(err)}`);
    }
    const epochs = this.pairs.publishEpochs().join(',');
    const due = this.#now() - this.#lastRefresh >= (this.#o.refreshMs ?? 600_000);
    if (epochs !== this.#lastEpochs || due) await this.refresh();
  }

  /** The signed package of `epoch` (cached while the online state stays). */
  secretPackage(epoch: number): Uint8Array {
    let bytes = this.#packages.get(epoch);
    if (!bytes) {
      const contacts: PackageContact[] = this.#online
        ? [{ transport: 'hyperdht', key: this.tunnelKeyPair(epoch).publicKey }]
        : [];
      bytes = this.#o.signPackage(contacts);
      this.#packages.set(epoch, bytes);
      for (const e of this.#packages.keys()) if (e < epoch - 2) this.#packages.delete(e);
    }
    return bytes;
  }

  /** The node's tunnel key pair of `epoch` (one key for all friends). */
  tunnelKeyPair(epoch: number): DhtKeyPair {
    // Asked on every secret lookup (Record-Route key): derived once per epoch.
    const cached = this.#keyPairs.get(epoch);
    if (cached) return cached;
    const kp = loadHyperDht().keyPair(nodeTunnelSeed(this.#tunnelSeed, epoch));
    this.#keyPairs.set(epoch, kp);
    for (const e of this.#keyPairs.keys()) if (e < epoch - 2) this.#keyPairs.delete(e);
    const hex = toHex(kp.publicKey);
    if (!this.#epochOfKey.has(hex)) {
      this.#epochOfKey.set(hex, epoch);
      this.ownKeys.add(hex);
      for (const [k, e] of this.#epochOfKey) {
        if (e < epoch - ROUTE_KEY_EPOCHS) {
          this.#epochOfKey.delete(k);
          this.ownKeys.delete(k);
        }
      }
    }
    return kp;
  }

  /**
   * The pair states as the ratchet driver should see them. A step that
   * retires a generation (the offerer's confirm, the responder's finish)
   * leaves that generation's records of the current epochs in the DHT until
   * they lapse — readable by anyone who can derive generation 0, i.e. a thief
   * of an identity key. So the retired record seeds are noted here and, on
   * the next round, overwritten with a decoy (`decoyRecord`: the version
   * byte and random bytes, a higher seq; to a DHT node it looks like any
   * record update).
   */
  get ratchetPairs(): Pick<PairSecrets, 'stateFor' | 'update'> {
    return {
      stateFor: (aor) => this.pairs.stateFor(aor),
      update: (aor, state) => {
        const before = this.#o.store.getPairState(normalizeAor(aor));
        this.pairs.update(aor, state);
        if (before) this.#noteRetired(before, state);
      },
    };
  }

  #noteRetired(before: PairState, after: PairState): void {
    for (const epoch of this.pairs.publishEpochs()) {
      try {
        const kept = new Set(publishKeys(after, epoch).map((k) => toHex(k.recordSeed)));
        for (const k of publishKeys(before, epoch))
          if (!kept.has(toHex(k.recordSeed))) this.#retired.push({ seed: k.recordSeed, epoch });
      } catch {
        // an epoch one of the states cannot derive: nothing of it was published
      }
    }
  }

  async #overwriteRetired(): Promise<void> {
    const ttlSeconds = Math.min(2 * this.pairs.epochSeconds, MAX_SECRET_TTL_SECONDS);
    for (const r of this.#retired.splice(0)) {
      try {
        await this.records.putSecret(r.seed, decoyRecord(), {
          seq: this.#seqs.next(r.epoch),
          ttlSeconds,
        });
      } catch (err) {
        this.#o.log(
          'warn',
          `could not overwrite a retired record: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /** Our tunnel key (hex) of the current epoch. */
  currentTunnelKey(): string {
    return toHex(this.tunnelKeyPair(this.pairs.currentEpoch()).publicKey);
  }

  /** The epoch whose tunnel key `keyHex` is, if it is one of ours. */
  epochOfKey(keyHex: string): number | undefined {
    return this.#epochOfKey.get(keyHex);
  }

  /**
   * The accept policy: the identity key takes anyone (open and relaxed
   * modes; the proxy checks who they are), an epoch key only contacts.
   */
  accepts(remote: Uint8Array, local: Uint8Array): boolean {
    const localHex = toHex(local);
    if (localHex === this.#o.identity.publicKeyHex) return this.publishesOpen;
    if (!this.#epochOfKey.has(localHex)) return false;
    return this.#o.store.listContacts().some((c) => equalBytes(c.publicKey, remote));
  }

  /** Listen on the identity key in open and relaxed mode only. */
  async syncIdentityListener(): Promise<void> {
    const kp = this.#o.identity.hyperdhtKeyPair();
    if (this.publishesOpen) await this.#o.endpoint.listen(kp);
    else await this.#o.endpoint.unlisten(kp.publicKey);
  }

  async close(): Promise<void> {
    this.#started = false;
    clearInterval(this.#timer);
    await this.#sync.catch(() => {});
  }

  #round(
    job: () => Promise<
      { records: number; friends: number; groups?: number; grouped?: number } | undefined
    >,
  ): Promise<void> {
    const run = this.#sync.then(async () => {
      this.#lastRefresh = this.#now();
      this.#lastEpochs = this.pairs.publishEpochs().join(',');
      const report = await job();
      await this.#overwriteRetired();
      if (report)
        this.#o.log(
          'debug',
          `secret records: ${report.records} put for ${report.friends} contact(s)${report.groups ? `, ${report.groups} group record(s) for ${report.grouped} of them` : ''}`,
        );
    });
    this.#sync = run.catch(() => {});
    return run;
  }

  /** Listen on the tunnel keys of every epoch within ± grace of now; stop on older ones. */
  async #syncListeners(): Promise<void> {
    const s = Math.floor(this.#now() / 1000);
    const g = this.pairs.graceSeconds;
    const want = new Set<number>();
    for (const t of [s - g, s, s + g]) want.add(epochOf(Math.max(0, t), this.pairs.epochSeconds));
    for (const e of want) {
      if (this.#listening.has(e)) continue;
      const kp = this.tunnelKeyPair(e);
      this.#listening.set(e, kp);
      try {
        await this.#o.endpoint.listen(kp);
      } catch (err) {
        this.#listening.delete(e);
        this.#o.log(
          'warn',
          `could not listen on the epoch ${e} tunnel key: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    for (const [e, kp] of this.#listening) {
      if (want.has(e)) continue;
      this.#listening.delete(e);
      // Retired quietly: an unannounce would show the old key again in the new epoch.
      await this.#o.endpoint.unlisten(kp.publicKey, { quiet: true }).catch(() => {});
    }
  }
}
