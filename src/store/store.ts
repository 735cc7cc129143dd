/**
 * The node's durable state: one SQLite file, `p2psip.db`, in the home folder.
 *
 * Why SQLite (better-sqlite3): real transactions and a journal, so a SIGKILL
 * or power cut never leaves half a write. `journal_mode=WAL` +
 * `synchronous=FULL` make every committed transaction durable before the
 * call returns (WAL with NORMAL could lose the last commits on power loss).
 * The synchronous API keeps every write a plain function call.
 *
 * Key material lives here (the identity seed), so the home folder is 0700 and
 * the database file 0600 (SQLite gives its -wal and -shm files the database
 * file's mode). Every write method runs in a transaction; several writes that
 * must land together go through {@link Store.transaction}.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PRIVACY_MODES, type PrivacyMode } from '../config/config.js';
import { toBase64url } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import { checkPairState, type PairState } from '../privacy/pair-state.js';
import { StoreError } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export const DB_FILE = 'p2psip.db';

/** The stored identity (seed included: handle with care, wipe after use). */
export interface StoredIdentity {
  aor: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
  createdAt: number;
}

export const CONTACT_SOURCES = ['card', 'learned'] as const;
/** Where a contact's pinned key came from: a contact card, or first use (TOFU). */
export type ContactSource = (typeof CONTACT_SOURCES)[number];

export interface Contact {
  aor: string;
  publicKey: Uint8Array;
  source: ContactSource;
  /** The name the contact's card gave (null: none, or learned on first use). */
  displayName: string | null;
  /** This contact's privacy mode; null = the node's configured mode. */
  privacyMode: PrivacyMode | null;
  createdAt: number;
  updatedAt: number;
}

/** A display name is at most this many bytes of UTF-8 (the card's limit). */
export const MAX_DISPLAY_NAME_BYTES = 64;

/**
 * Group names: 1–32 of A–Z a–z 0–9 . _ -, starting with a letter or digit;
 * unique ignoring ASCII case (SQLite NOCASE), and found ignoring case.
 * Plain ASCII so a name needs no quoting on a command line.
 */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** A named group of contacts. */
export interface ContactGroup {
  /** Never reused after a delete (state of later features is keyed on it). */
  id: number;
  name: string;
  createdAt: number;
  /** Member AORs, sorted. */
  members: string[];
}

export const CALL_OUTCOMES = [
  'answered',
  'missed',
  'rejected',
  'busy',
  'cancelled',
  'failed',
] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export interface CallLogEntry {
  id: number;
  /** Start of the call, ms since the epoch. */
  at: number;
  direction: 'in' | 'out';
  /** The other party's AOR (or whatever identified it when it is unknown). */
  peer: string;
  outcome: CallOutcome;
  durationMs: number;
  callId: string | null;
}

export interface StoreOptions {
  /** Create the home folder and database if missing (default true). */
  create?: boolean;
  /** Clock in ms since the epoch (tests inject one). */
  now?: () => number;
}

interface IdentityRow {
  aor: string;
  seed: Buffer;
  public_key: Buffer;
  created_at: number;
}
interface ContactRow {
  aor: string;
  public_key: Buffer;
  source: string;
  display_name: string | null;
  privacy_mode: string | null;
  created_at: number;
  updated_at: number;
}
interface GroupRow {
  id: number;
  name: string;
  created_at: number;
}
interface CallRow {
  id: number;
  at: number;
  direction: 'in' | 'out';
  peer: string;
  outcome: string;
  duration_ms: number;
  call_id: string | null;
}

export class Store {
  readonly homeDir: string;
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => number;

  private constructor(homeDir: string, path: string, db: Database.Database, now: () => number) {
    this.homeDir = homeDir;
    this.path = path;
    this.#db = db;
    this.#now = now;
  }

  /**
   * Opens (by default creating) the home folder and its database, applying
   * pending migrations. A file that is not a database, or a newer schema,
   * gives a typed error and is left untouched.
   */
  static open(homeDir: string, options: StoreOptions = {}): Store {
    const home = resolve(homeDir);
    const create = options.create ?? true;
    prepareHome(home, create);
    const path = join(home, DB_FILE);
    if (!existsSync(path)) {
      if (!create) throw StoreError.noHome(path);
      closeSync(openSync(path, 'wx', 0o600));
    }
    tighten(path, 0o600);
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: true });
      // The first statement reads the header: a non-database fails here, before any write.
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw StoreError.schemaTooNew(path, version, SCHEMA_VERSION);
      db.pragma('busy_timeout = 5000');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`cannot enable WAL (journal_mode=${String(mode)})`);
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db, version);
      return new Store(home, path, db, options.now ?? Date.now);
    } catch (err) {
      db?.close();
      throw StoreError.from(err, path);
    }
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Runs `fn` in one transaction (nested calls become savepoints); all or
   * nothing. An error `fn` throws itself (not SQLite's) is rethrown unchanged
   * after the rollback, so callers' typed errors keep their type; database
   * failures become StoreError.
   */
  transaction<T>(fn: () => T): T {
    let own: { error: unknown } | undefined;
    const body = (): T => {
      try {
        return fn();
      } catch (error) {
        if (!(error instanceof Database.SqliteError)) own = { error };
        throw error;
      }
    };
    try {
      return this.#db.transaction(body)();
    } catch (err) {
      if (own && err === own.error) throw err;
      throw StoreError.from(err, this.path);
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  // --- identity ------------------------------------------------------------

  getIdentity(): StoredIdentity | undefined {
    const row = this.#run(
      () =>
        this.#db
          .prepare('SELECT aor, seed, public_key, created_at FROM identity WHERE id = 1')
          .get() as IdentityRow | undefined,
    );
    if (!row) return undefined;
    return {
      aor: row.aor,
      seed: new Uint8Array(row.seed),
      publicKey: new Uint8Array(row.public_key),
      createdAt: row.created_at,
    };
  }

  /** The identity's AOR and public key, without reading the seed out. */
  getIdentityPublic(): { aor: string; publicKey: Uint8Array } | undefined {
    const row = this.#run(
      () =>
        this.#db.prepare('SELECT aor, public_key FROM identity WHERE id = 1').get() as
          | Pick<IdentityRow, 'aor' | 'public_key'>
          | undefined,
    );
    return row && { aor: row.aor, publicKey: new Uint8Array(row.public_key) };
  }

  /** Stores the node's identity; STORE_IDENTITY_EXISTS unless `replace` is set. */
  setIdentity(
    identity: { aor: string; seed: Uint8Array; publicKey: Uint8Array },
    options: { replace?: boolean } = {},
  ): void {
    const aor = checkAor(identity.aor);
    checkBytes('identity seed', identity.seed, 32);
    checkBytes('identity public key', identity.publicKey, 32);
    this.transaction(() => {
      const existing = this.#db.prepare('SELECT aor FROM identity WHERE id = 1').get() as
        | { aor: string }
        | undefined;
      if (existing && !options.replace) throw StoreError.identityExists(existing.aor);
      this.#db
        .prepare(
          `INSERT INTO identity (id, aor, seed, public_key, created_at) VALUES (1, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET aor = excluded.aor, seed = excluded.seed,
             public_key = excluded.public_key, created_at = excluded.created_at`,
        )
        .run(aor, Buffer.from(identity.seed), Buffer.from(identity.publicKey), this.#now());
    });
  }

  // --- kv state ------------------------------------------------------------

  getKv(key: string): string | undefined {
    checkKey(key);
    const row = this.#run(
      () =>
        this.#db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as
          | { value: string }
          | undefined,
    );
    return row?.value;
  }

  /** Every kv entry whose key starts with `prefix` (non-empty), in key order. */
  listKv(prefix: string): { key: string; value: string }[] {
    checkKey(prefix);
    // Keys with the prefix sort between the prefix and the prefix with its
    // last character incremented.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.#run(
      () =>
        this.#db
          .prepare('SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key')
          .all(prefix, end) as { key: string; value: string }[],
    );
  }

  setKv(key: string, value: string): void {
    checkKey(key);
    if (typeof value !== 'string') throw StoreError.badValue(`kv ${key}`, 'value must be a string');
    this.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        )
        .run(key, value, this.#now());
    });
  }

  /** Deletes a key; true if it existed. */
  deleteKv(key: string): boolean {
    checkKey(key);
    return this.transaction(
      () => this.#db.prepare('DELETE FROM kv WHERE key = ?').run(key).changes > 0,
    );
  }

  /** A counter kept in kv (0 when unset). */
  getCounter(key: string): number {
    const text = this.getKv(key);
    return text === undefined ? 0 : parseCounter(key, text);
  }

  /**
   * Adds `by` (≥ 1) to a counter and returns the new value, durably: after a
   * crash the counter is never below a value this method returned — the
   * property the package sequence number needs.
   */
  incrementCounter(key: string, by = 1): number {
    if (!Number.isSafeInteger(by) || by < 1)
      throw StoreError.badValue(`counter ${key}`, 'step must be ≥ 1');
    return this.transaction(() => {
      const next = this.getCounter(key) + by;
      if (!Number.isSafeInteger(next)) throw StoreError.badValue(`counter ${key}`, 'overflow');
      this.setKv(key, String(next));
      return next;
    });
  }

  // --- contacts ------------------------------------------------------------

  /** Adds a contact; STORE_CONTACT_EXISTS if the AOR is known (a pinned key is never silently replaced). */
  addContact(contact: {
    aor: string;
    publicKey: Uint8Array;
    source: ContactSource;
    displayName?: string | null;
  }): Contact {
    const aor = checkAor(contact.aor);
    checkBytes('contact public key', contact.publicKey, 32);
    checkSource(contact.source);
    const displayName = contact.displayName ?? null;
    checkDisplayName(displayName);
    return this.transaction(() => {
      if (this.getContact(aor)) throw StoreError.contactExists(aor);
      const now = this.#now();
      this.#db
        .prepare(
          `INSERT INTO contacts (aor, public_key, source, display_name, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(aor, Buffer.from(contact.publicKey), contact.source, displayName, now, now);
      return this.getContact(aor)!;
    });
  }

  getContact(aor: string): Contact | undefined {
    const key = checkAor(aor);
    const row = this.#run(
      () =>
        this.#db.prepare('SELECT * FROM contacts WHERE aor = ?').get(key) as ContactRow | undefined,
    );
    return row && contactFromRow(row);
  }

  /** All contacts, ordered by AOR. */
  listContacts(): Contact[] {
    const rows = this.#run(
      () => this.#db.prepare('SELECT * FROM contacts ORDER BY aor').all() as ContactRow[],
    );
    return rows.map(contactFromRow);
  }

  /**
   * Changes a contact's key and/or source (an explicit re-pin), display name
   * or privacy override (null clears them); fields left out keep their value.
   * STORE_NOT_FOUND if unknown.
   */
  updateContact(
    aor: string,
    change: {
      publicKey?: Uint8Array;
      source?: ContactSource;
      displayName?: string | null;
      privacyMode?: PrivacyMode | null;
    },
  ): Contact {
    const key = checkAor(aor);
    if (change.publicKey !== undefined) checkBytes('contact public key', change.publicKey, 32);
    if (change.source !== undefined) checkSource(change.source);
    if (change.displayName !== undefined) checkDisplayName(change.displayName);
    if (change.privacyMode !== undefined) checkPrivacyMode(change.privacyMode);
    return this.transaction(() => {
      const current = this.getContact(key);
      if (!current) throw StoreError.notFound(`contact ${key}`);
      this.#db
        .prepare(
          `UPDATE contacts SET public_key = ?, source = ?, display_name = ?, privacy_mode = ?,
             updated_at = ? WHERE aor = ?`,
        )
        .run(
          Buffer.from(change.publicKey ?? current.publicKey),
          change.source ?? current.source,
          change.displayName === undefined ? current.displayName : change.displayName,
          change.privacyMode === undefined ? current.privacyMode : change.privacyMode,
          this.#now(),
          key,
        );
      return this.getContact(key)!;
    });
  }

  /** Deletes a contact (and its group memberships and pair state); true if it existed. */
  deleteContact(aor: string): boolean {
    const key = checkAor(aor);
    return this.transaction(
      () => this.#db.prepare('DELETE FROM contacts WHERE aor = ?').run(key).changes > 0,
    );
  }

  // --- contact groups --------------------------------------------------------

  /** Creates an empty group; STORE_GROUP_EXISTS if the name is taken (ignoring ASCII case). */
  createGroup(name: string): ContactGroup {
    checkGroupName(name);
    return this.transaction(() => {
      const existing = this.getGroup(name);
      if (existing) throw StoreError.groupExists(existing.name);
      this.#db
        .prepare('INSERT INTO contact_groups (name, created_at) VALUES (?, ?)')
        .run(name, this.#now());
      return this.getGroup(name)!;
    });
  }

  /** The group of that name (ignoring ASCII case), with its members. */
  getGroup(name: string): ContactGroup | undefined {
    checkGroupName(name);
    const row = this.#run(
      () =>
        this.#db.prepare('SELECT * FROM contact_groups WHERE name = ?').get(name) as
          | GroupRow
          | undefined,
    );
    return row && this.#groupFromRow(row);
  }

  /** All groups, ordered by name (ignoring ASCII case). */
  listGroups(): ContactGroup[] {
    const rows = this.#run(
      () => this.#db.prepare('SELECT * FROM contact_groups ORDER BY name').all() as GroupRow[],
    );
    return rows.map((row) => this.#groupFromRow(row));
  }

  /** Deletes a group (its contacts stay); true if it existed. */
  deleteGroup(name: string): boolean {
    checkGroupName(name);
    return this.transaction(
      () => this.#db.prepare('DELETE FROM contact_groups WHERE name = ?').run(name).changes > 0,
    );
  }

  /**
   * Adds contacts to a group, all or nothing: STORE_NOT_FOUND names the group
   * or the first AOR that is not a contact. Members already in the group are
   * left as they are. Returns how many were added.
   */
  addGroupMembers(name: string, aors: readonly string[]): number {
    const keys = aors.map(checkAor);
    return this.transaction(() => {
      const group = this.#requireGroup(name);
      let added = 0;
      for (const aor of keys) {
        if (!this.getContact(aor)) throw StoreError.notFound(`contact ${aor}`);
        added += this.#db
          .prepare(
            'INSERT OR IGNORE INTO contact_group_members (group_id, aor, added_at) VALUES (?, ?, ?)',
          )
          .run(group.id, aor, this.#now()).changes;
      }
      return added;
    });
  }

  /** Removes contacts from a group (STORE_NOT_FOUND for an unknown group); returns how many were members. */
  removeGroupMembers(name: string, aors: readonly string[]): number {
    const keys = aors.map(checkAor);
    return this.transaction(() => {
      const group = this.#requireGroup(name);
      let removed = 0;
      for (const aor of keys) {
        removed += this.#db
          .prepare('DELETE FROM contact_group_members WHERE group_id = ? AND aor = ?')
          .run(group.id, aor).changes;
      }
      return removed;
    });
  }

  #requireGroup(name: string): ContactGroup {
    const group = this.getGroup(name);
    if (!group) throw StoreError.notFound(`group ${name}`);
    return group;
  }

  #groupFromRow(row: GroupRow): ContactGroup {
    const members = this.#run(
      () =>
        this.#db
          .prepare('SELECT aor FROM contact_group_members WHERE group_id = ? ORDER BY aor')
          .all(row.id) as { aor: string }[],
    );
    return {
      id: row.id,
      name: row.name,
      createdAt: row.created_at,
      members: members.map((m) => m.aor),
    };
  }

  // --- pair secrets ----------------------------------------------------------

  /**
   * The stored pair state of a contact (checked with checkPairState), or
   * undefined. A stored value that no longer parses is STORE_BAD_VALUE
   * naming the contact (the caller may delete it and start the pair over).
   */
  getPairState(aor: string): PairState | undefined {
    const key = checkAor(aor);
    const row = this.#run(
      () =>
        this.#db.prepare('SELECT state FROM pair_secrets WHERE aor = ?').get(key) as
          | { state: string }
          | undefined,
    );
    if (!row) return undefined;
    try {
      return checkPairState(JSON.parse(row.state));
    } catch (err) {
      throw StoreError.badValue(`pair state of ${key}`, (err as Error).message);
    }
  }

  /**
   * Stores (replaces) a contact's pair state, in one transaction with the
   * checks: STORE_NOT_FOUND if the AOR is not a contact; STORE_BAD_VALUE if
   * the state is malformed or belongs to another key than the contact's
   * pinned one (a state computed before a re-pin must not come back).
   */
  putPairState(aor: string, state: PairState): void {
    const key = checkAor(aor);
    let text: string;
    try {
      text = JSON.stringify(checkPairState(state));
    } catch (err) {
      throw StoreError.badValue(`pair state of ${key}`, (err as Error).message);
    }
    this.transaction(() => {
      const contact = this.getContact(key);
      if (!contact) throw StoreError.notFound(`contact ${key}`);
      if (state.peer !== toBase64url(contact.publicKey)) {
        throw StoreError.badValue(`pair state of ${key}`, "peer is not the contact's pinned key");
      }
      this.#db
        .prepare(
          `INSERT INTO pair_secrets (aor, state, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (aor) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        )
        .run(key, text, this.#now());
    });
  }

  /** Deletes a contact's pair state; true if there was one. */
  deletePairState(aor: string): boolean {
    const key = checkAor(aor);
    return this.transaction(
      () => this.#db.prepare('DELETE FROM pair_secrets WHERE aor = ?').run(key).changes > 0,
    );
  }

  // --- call log ------------------------------------------------------------

  /** Appends a call and returns its id (ids only grow). */
  appendCall(
    entry: Omit<CallLogEntry, 'id' | 'at' | 'durationMs' | 'callId'> & Partial<CallLogEntry>,
  ): number {
    if (entry.direction !== 'in' && entry.direction !== 'out') {
      throw StoreError.badValue(
        'call direction',
        `expected "in" or "out", got ${String(entry.direction)}`,
      );
    }
    if (!CALL_OUTCOMES.includes(entry.outcome)) {
      throw StoreError.badValue('call outcome', `expected one of ${CALL_OUTCOMES.join(', ')}`);
    }
    if (typeof entry.peer !== 'string' || entry.peer.length === 0 || entry.peer.length > 512) {
      throw StoreError.badValue('call peer', 'expected 1..512 characters');
    }
    const durationMs = entry.durationMs ?? 0;
    if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
      throw StoreError.badValue('call duration', 'expected a whole number of ms ≥ 0');
    }
    return this.transaction(() => {
      const info = this.#db
        .prepare(
          'INSERT INTO call_log (at, direction, peer, outcome, duration_ms, call_id) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          entry.at ?? this.#now(),
          entry.direction,
          entry.peer,
          entry.outcome,
          durationMs,
          entry.callId ?? null,
        );
      return Number(info.lastInsertRowid);
    });
  }

  /** Calls, newest first; `beforeId` pages backwards. */
  listCalls(options: { limit?: number; beforeId?: number } = {}): CallLogEntry[] {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
      throw StoreError.badValue('call log limit', 'expected 1..10000');
    }
    const rows = this.#run(
      () =>
        this.#db
          .prepare('SELECT * FROM call_log WHERE id < ? ORDER BY id DESC LIMIT ?')
          .all(options.beforeId ?? Number.MAX_SAFE_INTEGER, limit) as CallRow[],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      direction: r.direction,
      peer: r.peer,
      outcome: r.outcome as CallOutcome,
      durationMs: r.duration_ms,
      callId: r.call_id,
    }));
  }

  /** The durability settings in force on this connection (2 = FULL). */
  durability(): { journalMode: string; synchronous: number } {
    return this.#run(() => ({
      journalMode: this.#db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.#db.pragma('synchronous', { simple: true }) as number,
    }));
  }

  /** `PRAGMA integrity_check` → true when the file is sound (for tests and `p2psip doctor`). */
  integrityOk(): boolean {
    return this.#run(() => this.#db.pragma('integrity_check', { simple: true })) === 'ok';
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw StoreError.from(err, this.path);
    }
  }
}

function prepareHome(home: string, create: boolean): void {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(home);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw StoreError.badHome(home, String(err));
  }
  if (!st) {
    if (!create) throw StoreError.noHome(home);
    try {
      mkdirSync(home, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw StoreError.badHome(home, (err as Error).message);
    }
    st = statSync(home);
  }
  if (!st.isDirectory()) throw StoreError.badHome(home, 'exists and is not a directory');
  tighten(home, 0o700);
}

/** Removes group/other permission bits (the home and DB hold key material). */
function tighten(path: string, mode: number): void {
  try {
    const current = statSync(path).mode & 0o777;
    if ((current & ~mode) !== 0) chmodSync(path, current & mode);
  } catch (err) {
    throw StoreError.badHome(path, `cannot restrict permissions: ${(err as Error).message}`);
  }
}

function migrate(db: Database.Database, from: number): void {
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function checkAor(aor: string): string {
  try {
    return normalizeAor(aor);
  } catch (err) {
    throw StoreError.badValue('aor', (err as Error).message);
  }
}

function checkBytes(what: string, value: unknown, length: number): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw StoreError.badValue(what, `expected ${length} bytes`);
  }
}

function checkSource(source: unknown): void {
  if (!CONTACT_SOURCES.includes(source as ContactSource)) {
    throw StoreError.badValue('contact source', `expected one of ${CONTACT_SOURCES.join(', ')}`);
  }
}

function checkDisplayName(name: unknown): void {
  if (name === null) return;
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    Buffer.byteLength(name, 'utf8') > MAX_DISPLAY_NAME_BYTES
  ) {
    throw StoreError.badValue(
      'contact display name',
      `expected null or 1..${MAX_DISPLAY_NAME_BYTES} bytes of UTF-8`,
    );
  }
}

function checkPrivacyMode(mode: unknown): void {
  if (mode !== null && !PRIVACY_MODES.includes(mode as PrivacyMode)) {
    throw StoreError.badValue(
      'contact privacy mode',
      `expected null or one of ${PRIVACY_MODES.join(', ')}`,
    );
  }
}

function checkGroupName(name: unknown): void {
  if (typeof name !== 'string' || !GROUP_NAME.test(name)) {
    throw StoreError.badValue(
      'group name',
      '1–32 of A–Z a–z 0–9 . _ -, starting with a letter or digit',
    );
  }
}

function checkKey(key: string): void {
  // Room for a prefix, an AOR (up to 254 characters) and a 64-hex key.
  if (typeof key !== 'string' || key.length === 0 || key.length > 400) {
    throw StoreError.badValue('kv key', 'expected 1..400 characters');
  }
}

function parseCounter(key: string, text: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw StoreError.badValue(
      `counter ${key}`,
      `stored value ${JSON.stringify(text)} is not a counter`,
    );
  }
  return Number(text);
}

function contactFromRow(row: ContactRow): Contact {
  return {
    aor: row.aor,
    publicKey: new Uint8Array(row.public_key),
    source: row.source as ContactSource,
    displayName: row.display_name,
    privacyMode: row.privacy_mode as PrivacyMode | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
