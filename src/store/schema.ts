/**
 * The database schema as an append-only list of migrations. The version is
 * SQLite's `PRAGMA user_version` (in the file header, so it changes in the
 * same transaction as the tables). Migration i takes version i to i + 1.
 *
 * Never edit a migration that has shipped; append a new one (issue 4 adds
 * pair_secrets, privacy columns on contacts, …). Tables are STRICT so a wrong
 * type is an error rather than a silent conversion. Enum-like TEXT columns
 * that will grow (contact source, call outcome) are checked in code, not with
 * SQL CHECKs, because SQLite cannot alter a CHECK constraint in place.
 */
export const MIGRATIONS: readonly string[] = [
  // 0 → 1 (issue 3): identity, kv, contacts, call_log.
  `
  CREATE TABLE identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    aor         TEXT    NOT NULL,
    seed        BLOB    NOT NULL CHECK (length(seed) = 32),
    public_key  BLOB    NOT NULL CHECK (length(public_key) = 32),
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE kv (
    key         TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE contacts (
    aor         TEXT    PRIMARY KEY,
    public_key  BLOB    NOT NULL CHECK (length(public_key) = 32),
    source      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE call_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    peer        TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    call_id     TEXT
  ) STRICT;
  CREATE INDEX call_log_at ON call_log (at);
  `,
  // 1 → 2 (issue 4, contacts): a contact's display name (from its card), a
  // per-contact privacy-mode override (NULL = the node's configured mode),
  // and named groups of contacts. Group ids are AUTOINCREMENT so an id is
  // never reused: the privacy work keys group state on it. Memberships go
  // with their contact or group (ON DELETE CASCADE; Store.open turns
  // foreign_keys on). Pairwise secrets come later as their own table keyed by
  // contact (pair_secrets, aor REFERENCES contacts ON DELETE CASCADE).
  `
  ALTER TABLE contacts ADD COLUMN display_name TEXT;
  ALTER TABLE contacts ADD COLUMN privacy_mode TEXT;

  CREATE TABLE contact_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE contact_group_members (
    group_id    INTEGER NOT NULL REFERENCES contact_groups (id) ON DELETE CASCADE,
    aor         TEXT    NOT NULL REFERENCES contacts (aor) ON DELETE CASCADE,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (group_id, aor)
  ) STRICT;
  CREATE INDEX contact_group_members_aor ON contact_group_members (aor);
  `,
  // 2 → 3 (issue 4, privacy): the durable pair state per contact (a PairState
  // as JSON, src/privacy/pair-state.ts). It goes with its contact (ON DELETE
  // CASCADE), and a changed pinned key deletes it (trigger): the state was
  // derived from the old key, so keeping it would publish under — and accept
  // records from — a pair that no longer exists. In SQL rather than in
  // Store.updateContact so no write path can skip it.
  `
  CREATE TABLE pair_secrets (
    aor         TEXT    PRIMARY KEY REFERENCES contacts (aor) ON DELETE CASCADE,
    state       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TRIGGER pair_secrets_repin AFTER UPDATE OF public_key ON contacts
    WHEN old.public_key IS NOT new.public_key
  BEGIN
    DELETE FROM pair_secrets WHERE aor = new.aor;
  END;
  `,
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;
