/**
 * Group keys (issue 4, docs/privacy.md "Groups"): a publisher shares one
 * random 32-byte key per contact group with the group's members and then
 * publishes ONE secret record per group and epoch for all members who have
 * the key, instead of one per member — a refresh for N friends stays free of
 * public-key work, and an epoch change costs the backend 2 PK ops per group
 * instead of per friend.
 *
 *   GROUP_KEY (0x14) 53 bytes   version ‖ group id:16 ‖ key:32 ‖ epochSeconds:u32
 *   GROUP_ACK (0x15) 17 bytes   version ‖ group id:16
 *
 * Both travel inside the Noise tunnel, so they are confidential and bound to
 * the peer the tunnel proved to be (its IDENTITY frame, PeerIdentities).
 *
 * Publisher side (our groups):
 * - per store group, a random key and a random 16-byte id, durable in kv
 *   `group.out:<store group id>` with the members (and their pinned keys)
 *   the key was made for and the members that acknowledged it;
 * - a NEW key and id as soon as a member left the group (or its contact was
 *   deleted, or re-pinned to another key): a group key is not ratcheted, so
 *   whoever held the old one could read every later epoch. Members that were
 *   added keep the key (they get it on their next tunnel);
 * - on every tunnel whose peer is identified as a member without an ack for
 *   the current key: GROUP_KEY; the member's GROUP_ACK for the current id is
 *   recorded (durable) and `onChange` fires (publish again: that member now
 *   reads the group record instead of its per-friend one);
 * - `publishable()` is SecretPublisher's `groups`: groups with their acked members.
 *
 * Member side (groups of our contacts that include us):
 * - GROUP_KEY only from an identified peer that is a contact, with our epoch
 *   length (else no epoch would match): kept in kv
 *   `group.in:<tag(publisher AOR)>:<id hex>` (tag = first 16 bytes of
 *   SHA-256 of the AOR, hex: kv keys are at most 200 characters, an AOR up
 *   to 254), at most MAX_GROUP_KEYS_PER_PUBLISHER per publisher (the
 *   newest), then answered with GROUP_ACK;
 * - `groupKeysOf(aor)` is SecretResolver's hook: the keys of a contact, newest first.
 *
 * Handlers never throw (a throw would close the tunnel): unidentified peers,
 * non-contacts, non-members, stale ids and malformed bodies are logged and ignored.
 *
 * Wiring (for the lead): one service per node, created before peers may
 * send kinds 0x14/0x15 (a kind nobody handles closes the tunnel):
 *   `new GroupKeys({ store, endpoint, aorOf: (t) => peers.aorOf(t),
 *     epochSeconds: privacy.pairs.epochSeconds, onChange: () => privacy.refresh(), log })`;
 * `groups.identified(tunnel, peer.aor)` from PeerIdentities' onIdentified
 * (after `introduce`); SecretPublisher `groups: () => groups.publishable()`;
 * SecretResolver `groupKeysOf: (aor) => groups.groupKeysOf(aor)`; `close()` on stop.
 */
import { concatBytes, fromHex, toHex, utf8 } from '../crypto/bytes.js';
import { sha256 } from '../crypto/hash.js';
import { randomBytes } from '../crypto/random.js';
import { normalizeAor } from '../identity/aor.js';
import { PrivacyError } from '../privacy/errors.js';
import type { ContactGroup, Store } from '../store/store.js';
import type { TunnelEndpoint } from '../tunnel/endpoint.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import type { LogFn } from './log.js';
import type { PublishGroup } from './secret-publisher.js';

export const GROUP_KEY_KIND = 0x14;
export const GROUP_ACK_KIND = 0x15;
export const GROUP_MESSAGE_VERSION = 1;
export const GROUP_ID_BYTES = 16;
export const GROUP_KEY_BYTES = 32;
/** version ‖ id ‖ key ‖ epochSeconds. */
export const GROUP_KEY_MESSAGE_BYTES = 1 + GROUP_ID_BYTES + GROUP_KEY_BYTES + 4;
/** version ‖ id. */
export const GROUP_ACK_MESSAGE_BYTES = 1 + GROUP_ID_BYTES;
/** Keys kept per publisher on the member side (older ones are dropped on receipt of a newer). */
export const MAX_GROUP_KEYS_PER_PUBLISHER = 4;
export const GROUP_OUT_PREFIX = 'group.out:';
export const GROUP_IN_PREFIX = 'group.in:';

// ---- messages ------------------------------------------------------------------

export interface GroupKeyMessage {
  /** 16 bytes: names this key (a new key has a new id). */
  id: Uint8Array;
  /** 32 bytes. */
  key: Uint8Array;
  /** The publisher's epoch length (the member must use the same). */
  epochSeconds: number;
}

export function encodeGroupKey(m: GroupKeyMessage): Uint8Array {
  checkLength('group id', m.id, GROUP_ID_BYTES);
  checkLength('group key', m.key, GROUP_KEY_BYTES);
  if (!Number.isInteger(m.epochSeconds) || m.epochSeconds < 1 || m.epochSeconds > 0xffffffff)
    throw PrivacyError.badArgument('epochSeconds', 'an integer 1..2^32-1');
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, m.epochSeconds);
  return concatBytes(Uint8Array.of(GROUP_MESSAGE_VERSION), m.id, m.key, tail);
}

/** PRIVACY_MESSAGE_MALFORMED for a wrong length, version or epoch length 0. */
export function decodeGroupKey(body: Uint8Array): GroupKeyMessage {
  checkMessage('GROUP_KEY', body, GROUP_KEY_MESSAGE_BYTES);
  const epochSeconds = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(
    1 + GROUP_ID_BYTES + GROUP_KEY_BYTES,
  );
  if (epochSeconds === 0) throw PrivacyError.messageMalformed('GROUP_KEY', 'epoch length 0');
  return {
    id: body.slice(1, 1 + GROUP_ID_BYTES),
    key: body.slice(1 + GROUP_ID_BYTES, 1 + GROUP_ID_BYTES + GROUP_KEY_BYTES),
    epochSeconds,
  };
}

export function encodeGroupAck(id: Uint8Array): Uint8Array {
  checkLength('group id', id, GROUP_ID_BYTES);
  return concatBytes(Uint8Array.of(GROUP_MESSAGE_VERSION), id);
}

/** The acknowledged id; PRIVACY_MESSAGE_MALFORMED for a wrong length or version. */
export function decodeGroupAck(body: Uint8Array): Uint8Array {
  checkMessage('GROUP_ACK', body, GROUP_ACK_MESSAGE_BYTES);
  return body.slice(1);
}

function checkLength(what: string, bytes: Uint8Array, n: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n)
    throw PrivacyError.badArgument(what, `${n} bytes`);
}

function checkMessage(what: string, body: Uint8Array, n: number): void {
  if (!(body instanceof Uint8Array) || body.length !== n)
    throw PrivacyError.messageMalformed(what, `expected ${n} bytes, got ${body?.length}`);
  if (body[0] !== GROUP_MESSAGE_VERSION)
    throw PrivacyError.messageMalformed(what, `unknown version ${body[0]}`);
}

// ---- durable state -----------------------------------------------------------------

/** Our key of one of our groups (`group.out:<group>`). */
export interface OutgoingGroupKey {
  /** The store's group id (never reused after a delete). */
  group: number;
  name: string;
  /** 16-byte key id, hex. */
  id: string;
  /** 32-byte key, hex. */
  key: string;
  /** The members the key is for: AOR → pinned identity key (hex) when it was made or they joined. */
  members: Record<string, string>;
  /** Members that acknowledged this key, sorted. */
  acked: string[];
  /** When the key was made (ms). */
  created: number;
}

/** A key a publisher gave us (`group.in:<tag>:<id>`). */
interface IncomingGroupKey {
  from: string;
  id: string;
  key: string;
  epochSeconds: number;
  received: number;
  /** Arrival order per publisher (1, 2, …): newest first, even within one millisecond. */
  n: number;
}

/** The slice of the Store GroupKeys uses. */
export type GroupStore = Pick<
  Store,
  | 'listGroups'
  | 'listContacts'
  | 'getContact'
  | 'getKv'
  | 'setKv'
  | 'deleteKv'
  | 'listKv'
  | 'transaction'
>;

/** What one reconciliation with the store's groups changed (group names). */
export interface GroupSyncReport {
  /** New groups: a first key. */
  created: string[];
  /** A member left (or was re-pinned): a new key, no acks yet. */
  rotated: string[];
  /** Members joined: same key, they get it on their next tunnel. */
  grown: string[];
  /** Keys of deleted groups removed. */
  dropped: number;
}

const outKey = (group: number) => `${GROUP_OUT_PREFIX}${group}`;
/** Per-publisher prefix of incoming keys: a hash keeps the kv key short for any AOR. */
const inPrefix = (aor: string) => `${GROUP_IN_PREFIX}${toHex(sha256(utf8(aor)).subarray(0, 16))}:`;

// ---- the service -------------------------------------------------------------------

export interface GroupKeysOptions {
  store: GroupStore;
  /** Where the handlers for kinds 0x14 and 0x15 are registered. */
  endpoint: Pick<TunnelEndpoint, 'onControl'>;
  /** The peer's AOR once its IDENTITY verified on `tunnel` (PeerIdentities.aorOf). */
  aorOf: (tunnel: Tunnel) => string | undefined;
  /** Our epoch length (PairSecrets.epochSeconds): sent with our keys, required of keys we get. */
  epochSeconds: number;
  /** Cryptographically secure random bytes. Default src/crypto/random.ts. */
  random?: (n: number) => Uint8Array;
  now?: () => number;
  /**
   * What we publish changed outside a publish round (an ack arrived, a key
   * was replaced or a group deleted): publish again (NodePrivacy.refresh).
   */
  onChange?: () => void;
  log?: LogFn;
}

export class GroupKeys {
  readonly #o: GroupKeysOptions;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  /** Identified open tunnels per AOR: where new keys go without waiting for the next tunnel. */
  readonly #tunnels = new Map<string, Set<Tunnel>>();
  /** Key ids already sent on a tunnel. */
  readonly #sent = new WeakMap<Tunnel, Set<string>>();
  readonly #off: (() => void)[] = [];
  #closed = false;

  constructor(opts: GroupKeysOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? randomBytes;
    const handlers: [number, string, (aor: string, body: Uint8Array, t: Tunnel) => void][] = [
      [GROUP_KEY_KIND, 'GROUP_KEY', (a, b, t) => this.#onKey(a, b, t)],
      [GROUP_ACK_KIND, 'GROUP_ACK', (a, b) => this.#onAck(a, b)],
    ];
    try {
      for (const [kind, what, handler] of handlers)
        this.#off.push(
          opts.endpoint.onControl(kind, (body, t) => this.#receive(what, handler, body, t)),
        );
    } catch (err) {
      for (const off of this.#off) off();
      throw err;
    }
  }

  /**
   * Reconciles our keys with the store's groups (a group edited from the CLI
   * takes effect here): first keys for new groups, a new key where a member
   * left, member lists grown, keys of deleted groups removed. New keys go
   * out at once on identified open tunnels; `onChange` fires when what we
   * publish changed.
   */
  sync(): GroupSyncReport {
    return this.#sync(true);
  }

  /**
   * SecretPublisher's `groups`: after a sync, every group with the members
   * that acknowledged its current key (groups nobody acknowledged yet are
   * left out: their members still get per-friend records).
   */
  publishable(): PublishGroup[] {
    this.#sync(false);
    return this.#outgoing()
      .filter((g) => g.acked.length > 0)
      .map((g) => ({ id: g.id, key: fromHex(g.key), members: [...g.acked] }));
  }

  /** Our groups `aor` is a member of, and whether it acknowledged each one's current key. */
  groupsFor(aorInput: string): { name: string; acked: boolean }[] {
    const aor = normal(aorInput);
    if (aor === undefined) return [];
    const keys = new Map(this.#outgoing().map((g) => [g.group, g]));
    return this.#o.store
      .listGroups()
      .filter((g) => g.members.includes(aor))
      .map((g) => ({ name: g.name, acked: keys.get(g.id)?.acked.includes(aor) === true }));
  }

  /**
   * The peer of `tunnel` proved to be `aor` (PeerIdentities' onIdentified):
   * sends it the current key of each of our groups it is a member of and has
   * not acknowledged, and keeps the tunnel for keys made while it is open.
   */
  identified(tunnel: Tunnel, aorInput: string): void {
    if (this.#closed || !tunnel.isOpen) return;
    const aor = normal(aorInput);
    if (aor === undefined || this.#peerOf(tunnel) !== aor) {
      this.#log('warn', `group keys: tunnel peer is not ${aorInput} by its identity: nothing sent`);
      return;
    }
    this.#track(tunnel, aor);
    try {
      this.#sync(true, tunnel);
      this.#offer(tunnel, aor);
    } catch (err) {
      this.#log('warn', `group keys for ${aor}: ${describe(err)}`);
    }
  }

  /** The group keys `aor` gave us, newest first (SecretResolver's `groupKeysOf`); none for a non-contact. */
  groupKeysOf(aorInput: string): Uint8Array[] {
    const aor = normal(aorInput);
    if (aor === undefined || !this.#o.store.getContact(aor)) return [];
    return this.#incoming(aor)
      .filter((k) => k.epochSeconds === this.#o.epochSeconds)
      .map((k) => fromHex(k.key));
  }

  /** Removes the handlers and forgets the tunnels. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#off) off();
    this.#tunnels.clear();
  }

  // ---- publisher side ------------------------------------------------------------

  /** `quietOn`: a tunnel `identified` offers to itself right after (no double send). */
  #sync(notify: boolean, quietOn?: Tunnel): GroupSyncReport {
    const report: GroupSyncReport = { created: [], rotated: [], grown: [], dropped: 0 };
    const store = this.#o.store;
    store.transaction(() => {
      const stored = new Map<number, OutgoingGroupKey>();
      for (const { key, value } of store.listKv(GROUP_OUT_PREFIX)) {
        const g = parseOutgoing(value);
        if (g && key === outKey(g.group)) stored.set(g.group, g);
        else {
          store.deleteKv(key);
          this.#log('warn', `group keys: unreadable entry ${key} removed`);
        }
      }
      const groups = store.listGroups();
      const pinned = groups.length === 0 ? new Map<string, string>() : this.#pinnedKeys();
      for (const group of groups) {
        const members = membersOf(group, pinned);
        const old = stored.get(group.id);
        stored.delete(group.id);
        if (!old) {
          this.#write(this.#fresh(group, members));
          report.created.push(group.name);
          continue;
        }
        const left = Object.entries(old.members).filter(([aor, key]) => members[aor] !== key);
        if (left.length > 0) {
          this.#write(this.#fresh(group, members));
          report.rotated.push(group.name);
          this.#log(
            'info',
            `group ${group.name}: new key (${left.length} member(s) left or changed key)`,
          );
          continue;
        }
        const joined = Object.keys(members).some((aor) => !Object.hasOwn(old.members, aor));
        if (joined || old.name !== group.name) {
          this.#write({ ...old, name: group.name, members });
          if (joined) report.grown.push(group.name);
        }
      }
      for (const g of stored.values()) {
        store.deleteKv(outKey(g.group));
        report.dropped++;
      }
    });
    if (report.created.length + report.rotated.length + report.grown.length > 0)
      this.#distribute(quietOn);
    if (notify && (report.rotated.length > 0 || report.dropped > 0)) this.#changed();
    return report;
  }

  /** Every contact's pinned key (hex), in one query. */
  #pinnedKeys(): Map<string, string> {
    return new Map(this.#o.store.listContacts().map((c) => [c.aor, toHex(c.publicKey)]));
  }

  #fresh(group: ContactGroup, members: Record<string, string>): OutgoingGroupKey {
    const id = this.#random(GROUP_ID_BYTES);
    const key = this.#random(GROUP_KEY_BYTES);
    try {
      checkLength('random group id', id, GROUP_ID_BYTES);
      checkLength('random group key', key, GROUP_KEY_BYTES);
      return {
        group: group.id,
        name: group.name,
        id: toHex(id),
        key: toHex(key),
        members,
        acked: [],
        created: this.#now(),
      };
    } finally {
      key.fill(0);
    }
  }

  #write(g: OutgoingGroupKey): void {
    this.#o.store.setKv(outKey(g.group), JSON.stringify(g));
  }

  #outgoing(): OutgoingGroupKey[] {
    const out: OutgoingGroupKey[] = [];
    for (const { value } of this.#o.store.listKv(GROUP_OUT_PREFIX)) {
      const g = parseOutgoing(value);
      if (g) out.push(g);
    }
    return out;
  }

  /** Sends `aor`, on `tunnel`, each current key it should have and that this tunnel has not carried. */
  #offer(tunnel: Tunnel, aor: string): void {
    if (!tunnel.isOpen) return;
    let sent = this.#sent.get(tunnel);
    if (!sent) {
      sent = new Set();
      this.#sent.set(tunnel, sent);
    }
    for (const g of this.#outgoing()) {
      // Also to members that acked before: one that lost its stored keys
      // (a restored backup) gets the key back on its next tunnel (53 bytes).
      if (!Object.hasOwn(g.members, aor) || sent.has(g.id)) continue;
      const key = fromHex(g.key);
      try {
        const body = encodeGroupKey({ id: fromHex(g.id), key, epochSeconds: this.#o.epochSeconds });
        tunnel.sendControl(GROUP_KEY_KIND, body);
        body.fill(0);
        sent.add(g.id);
        this.#log('debug', `group ${g.name}: key sent to ${aor}`);
      } catch (err) {
        this.#log('info', `group ${g.name}: key not sent to ${aor}: ${describe(err)}`);
      } finally {
        key.fill(0);
      }
    }
  }

  /** New keys to every member with an identified open tunnel (one tunnel per member). */
  #distribute(except?: Tunnel): void {
    for (const [aor, tunnels] of this.#tunnels) {
      const open = [...tunnels].find((t) => t.isOpen && t !== except);
      if (open) this.#offer(open, aor);
    }
  }

  #track(tunnel: Tunnel, aor: string): void {
    let set = this.#tunnels.get(aor);
    if (!set) {
      set = new Set();
      this.#tunnels.set(aor, set);
    }
    if (set.has(tunnel)) return;
    set.add(tunnel);
    tunnel.once('close', () => {
      set.delete(tunnel);
      if (set.size === 0 && this.#tunnels.get(aor) === set) this.#tunnels.delete(aor);
    });
  }

  #onAck(aor: string, body: Uint8Array): void {
    const id = toHex(decodeGroupAck(body));
    // No sync here (it costs O(members)): an ack of a member removed since
    // the last sync is recorded on the old key, which that sync replaces
    // before any round publishes with it (publishable() syncs first).
    const done = this.#o.store.transaction(() => {
      const g = this.#outgoing().find((o) => o.id === id);
      if (!g) {
        this.#log('debug', `GROUP_ACK from ${aor} for a key that is not current: ignored`);
        return undefined;
      }
      if (!Object.hasOwn(g.members, aor)) {
        this.#log('info', `GROUP_ACK from ${aor}, not a member of group ${g.name}: ignored`);
        return undefined;
      }
      if (g.acked.includes(aor)) return undefined;
      const acked = [...g.acked, aor].sort();
      this.#write({ ...g, acked });
      return { name: g.name, acked: acked.length, of: Object.keys(g.members).length };
    });
    if (!done) return;
    this.#log('info', `group ${done.name}: ${aor} has the key (${done.acked}/${done.of} members)`);
    this.#changed();
  }

  // ---- member side -----------------------------------------------------------------

  #onKey(from: string, body: Uint8Array, tunnel: Tunnel): void {
    if (!this.#o.store.getContact(from)) {
      this.#log('info', `GROUP_KEY from ${from}, not a contact: ignored`);
      return;
    }
    const m = decodeGroupKey(body);
    try {
      if (m.epochSeconds !== this.#o.epochSeconds) {
        this.#log(
          'warn',
          `GROUP_KEY from ${from} for ${m.epochSeconds}-second epochs, ours are ${this.#o.epochSeconds}: ignored`,
        );
        return;
      }
      const id = toHex(m.id);
      const prefix = inPrefix(from);
      this.#o.store.transaction(() => {
        const older = this.#incoming(from).filter((k) => k.id !== id);
        const entry: IncomingGroupKey = {
          from,
          id,
          key: toHex(m.key),
          epochSeconds: m.epochSeconds,
          received: this.#now(),
          n: (older[0]?.n ?? 0) + 1,
        };
        this.#o.store.setKv(`${prefix}${id}`, JSON.stringify(entry));
        for (const k of older.slice(MAX_GROUP_KEYS_PER_PUBLISHER - 1))
          this.#o.store.deleteKv(`${prefix}${k.id}`);
      });
      tunnel.sendControl(GROUP_ACK_KIND, encodeGroupAck(m.id));
      this.#log('debug', `group key ${id.slice(0, 8)}… from ${from} stored and acknowledged`);
    } finally {
      m.key.fill(0);
    }
  }

  /** Keys `aor` gave us, newest first. */
  #incoming(aor: string): IncomingGroupKey[] {
    const out: IncomingGroupKey[] = [];
    for (const { value } of this.#o.store.listKv(inPrefix(aor))) {
      const k = parseIncoming(value);
      if (k?.from === aor) out.push(k);
    }
    return out.sort((a, b) => b.n - a.n);
  }

  // ---- helpers -----------------------------------------------------------------------

  /** Runs a handler for the tunnel's proved peer; nothing it does may throw out of here. */
  #receive(
    what: string,
    handler: (aor: string, body: Uint8Array, t: Tunnel) => void,
    body: Uint8Array,
    tunnel: Tunnel,
  ): void {
    try {
      if (this.#closed) return;
      const aor = this.#peerOf(tunnel);
      if (aor === undefined) {
        this.#log('info', `${what} from a peer that has not identified itself: ignored`);
        return;
      }
      handler(aor, body, tunnel);
    } catch (err) {
      this.#log('warn', `${what}: ${describe(err)}`);
    }
  }

  #peerOf(tunnel: Tunnel): string | undefined {
    const aor = this.#o.aorOf(tunnel);
    return aor === undefined ? undefined : normal(aor);
  }

  #changed(): void {
    try {
      this.#o.onChange?.();
    } catch (err) {
      this.#log('warn', `group keys: onChange failed: ${describe(err)}`);
    }
  }

  #log(level: 'debug' | 'info' | 'warn', msg: string): void {
    this.#o.log?.(level, msg);
  }
}

/** Members of a store group with their pinned keys (a member without a contact counts as gone). */
function membersOf(group: ContactGroup, pinned: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const aor of group.members) {
    const key = pinned.get(aor);
    if (key !== undefined) out[aor] = key;
  }
  return out;
}

function parseOutgoing(text: string): OutgoingGroupKey | undefined {
  try {
    const v = JSON.parse(text) as Partial<OutgoingGroupKey>;
    if (
      Number.isSafeInteger(v.group) &&
      typeof v.name === 'string' &&
      isHex(v.id, GROUP_ID_BYTES) &&
      isHex(v.key, GROUP_KEY_BYTES) &&
      typeof v.members === 'object' &&
      v.members !== null &&
      Object.values(v.members).every((k) => isHex(k, 32)) &&
      Array.isArray(v.acked) &&
      v.acked.every((a) => typeof a === 'string') &&
      typeof v.created === 'number'
    )
      return v as OutgoingGroupKey;
  } catch {
    // not JSON
  }
  return undefined;
}

function parseIncoming(text: string): IncomingGroupKey | undefined {
  try {
    const v = JSON.parse(text) as Partial<IncomingGroupKey>;
    if (
      typeof v.from === 'string' &&
      isHex(v.id, GROUP_ID_BYTES) &&
      isHex(v.key, GROUP_KEY_BYTES) &&
      Number.isSafeInteger(v.epochSeconds) &&
      typeof v.received === 'number' &&
      Number.isSafeInteger(v.n)
    )
      return v as IncomingGroupKey;
  } catch {
    // not JSON
  }
  return undefined;
}

function isHex(v: unknown, bytes: number): v is string {
  return typeof v === 'string' && v.length === 2 * bytes && /^[0-9a-f]+$/.test(v);
}

function normal(aor: string): string | undefined {
  try {
    return normalizeAor(aor);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
