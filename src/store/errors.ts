/** Typed store errors: one class, stable string codes, a factory per condition. */

/** Stable error codes. Append only. */
export const StoreErrorCode = {
  /** The home path exists but is not a directory, or cannot be created / secured. */
  BadHome: 'STORE_BAD_HOME',
  /** The home folder or its database does not exist and the caller asked not to create it. */
  NoHome: 'STORE_NO_HOME',
  /** p2psip.db is not a SQLite database or is damaged. Nothing was changed. */
  Corrupt: 'STORE_CORRUPT',
  /** The database was written by a newer p2psip (schema version above ours). Nothing was changed. */
  SchemaTooNew: 'STORE_SCHEMA_TOO_NEW',
  /** Another process holds a lock for longer than the busy timeout. */
  Locked: 'STORE_LOCKED',
  /** An identity is already stored and the caller did not ask to replace it. */
  IdentityExists: 'STORE_IDENTITY_EXISTS',
  /** A contact with this AOR already exists (keys are pinned; replace explicitly). */
  ContactExists: 'STORE_CONTACT_EXISTS',
  /** The row to update does not exist. */
  NotFound: 'STORE_NOT_FOUND',
  /** A value handed to the store is invalid (wrong key length, unknown enum value…). */
  BadValue: 'STORE_BAD_VALUE',
  /** Any other I/O or SQLite failure. */
  Io: 'STORE_IO',
  /** A contact group with this name already exists. */
  GroupExists: 'STORE_GROUP_EXISTS',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }

  static badHome(path: string, why: string) {
    return new StoreError(StoreErrorCode.BadHome, `home ${path}: ${why}`);
  }
  static noHome(path: string) {
    return new StoreError(
      StoreErrorCode.NoHome,
      `${path} does not exist (run \`p2psip init\` first)`,
    );
  }
  static schemaTooNew(path: string, found: number, supported: number) {
    return new StoreError(
      StoreErrorCode.SchemaTooNew,
      `${path}: schema version ${found} is newer than this p2psip supports (${supported}); upgrade p2psip`,
    );
  }
  static identityExists(aor: string) {
    return new StoreError(
      StoreErrorCode.IdentityExists,
      `an identity (${aor}) already exists; replacing it loses the old key`,
    );
  }
  static contactExists(aor: string) {
    return new StoreError(StoreErrorCode.ContactExists, `contact ${aor} already exists`);
  }
  static groupExists(name: string) {
    return new StoreError(StoreErrorCode.GroupExists, `group ${name} already exists`);
  }
  static notFound(what: string) {
    return new StoreError(StoreErrorCode.NotFound, `${what} not found`);
  }
  static badValue(what: string, why: string) {
    return new StoreError(StoreErrorCode.BadValue, `${what}: ${why}`);
  }

  /** Maps a better-sqlite3 / fs error to a StoreError (StoreErrors pass through). */
  static from(err: unknown, path: string): StoreError {
    if (err instanceof StoreError) return err;
    const code = (err as { code?: unknown }).code;
    const msg = err instanceof Error ? err.message : String(err);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      return new StoreError(StoreErrorCode.Corrupt, `${path}: not a usable database (${msg})`, {
        cause: err,
      });
    }
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      return new StoreError(StoreErrorCode.Locked, `${path}: database is locked (${msg})`, {
        cause: err,
      });
    }
    return new StoreError(StoreErrorCode.Io, `${path}: ${msg}`, { cause: err });
  }
}
