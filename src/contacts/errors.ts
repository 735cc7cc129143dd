/**
 * Typed contact errors: one class, stable string codes, a factory per
 * condition. Parsing a card from anywhere throws only ContactError, whatever
 * the text is (fuzzed in the tests).
 */

/** Stable error codes. Append only. */
export const ContactErrorCode = {
  /** Not a p2psip contact card, or a field breaks its rule (docs/protocol.md "Contacts and cards"). */
  CardMalformed: 'CONTACT_CARD_MALFORMED',
  /** The card ends before its signature is complete: it was cut when copied. */
  CardTruncated: 'CONTACT_CARD_TRUNCATED',
  /** More characters than a card may have (checked before anything is parsed). */
  CardTooLong: 'CONTACT_CARD_TOO_LONG',
  /** A card of a version this p2psip does not read (`v` is not 1). */
  CardUnsupportedVersion: 'CONTACT_CARD_UNSUPPORTED_VERSION',
  /** The fields are valid but not written in the one canonical form. */
  CardNonCanonical: 'CONTACT_CARD_NON_CANONICAL',
  /** The signature does not verify under the card's key: mistyped or tampered. */
  CardBadSignature: 'CONTACT_CARD_BAD_SIGNATURE',
  /** A different key is already pinned for this AOR (replace explicitly with --force). */
  KeyConflict: 'CONTACT_KEY_CONFLICT',
  /** The card is this node's own (its AOR or its key). */
  Self: 'CONTACT_SELF',
  /** An AOR given to a contact operation is not an AOR. */
  BadAor: 'CONTACT_BAD_AOR',
  /** A group name breaks the grammar (1–32 of A–Z a–z 0–9 . _ -, starting with a letter or digit). */
  BadGroupName: 'CONTACT_BAD_GROUP_NAME',
  /** A group with this name (compared ignoring ASCII case) already exists. */
  GroupExists: 'CONTACT_GROUP_EXISTS',
  /** No contact or no group of that name. */
  NotFound: 'CONTACT_NOT_FOUND',
} as const;
export type ContactErrorCode = (typeof ContactErrorCode)[keyof typeof ContactErrorCode];

export class ContactError extends Error {
  readonly code: ContactErrorCode;

  constructor(code: ContactErrorCode, message: string) {
    super(message);
    this.name = 'ContactError';
    this.code = code;
  }

  static malformed(why: string) {
    return new ContactError(ContactErrorCode.CardMalformed, `invalid contact card: ${why}`);
  }
  /** A display name breaking its rule (on a card: a malformed card). */
  static badDisplayName(why: string) {
    return new ContactError(ContactErrorCode.CardMalformed, `invalid display name: ${why}`);
  }
  static truncated(why: string) {
    return new ContactError(
      ContactErrorCode.CardTruncated,
      `incomplete contact card: ${why} (was it cut off when copied?)`,
    );
  }
  static tooLong(length: number, max: number) {
    return new ContactError(
      ContactErrorCode.CardTooLong,
      `invalid contact card: ${length} characters, at most ${max}`,
    );
  }
  static unsupportedVersion(version: string) {
    const shown = version.length > 16 ? `${version.slice(0, 16)}…` : version;
    return new ContactError(
      ContactErrorCode.CardUnsupportedVersion,
      `contact card version ${JSON.stringify(shown)} is not supported (this p2psip reads v=1; upgrade p2psip?)`,
    );
  }
  static nonCanonical(why: string) {
    return new ContactError(
      ContactErrorCode.CardNonCanonical,
      `contact card not in canonical form: ${why}`,
    );
  }
  static badSignature(aor: string) {
    return new ContactError(
      ContactErrorCode.CardBadSignature,
      `contact card for ${aor}: signature does not verify (mistyped or tampered card)`,
    );
  }
  static keyConflict(aor: string, pinned: string, offered: string, learned: boolean) {
    const from = learned ? 'learned on first use' : 'from a card';
    return new ContactError(
      ContactErrorCode.KeyConflict,
      `${aor} is pinned to key ${pinned} (${from}), the card has key ${offered}; ` +
        'check with your contact, then add with --force to replace the pinned key',
    );
  }
  static self(aor: string) {
    return new ContactError(
      ContactErrorCode.Self,
      `the card is your own (${aor}); add your friends' cards`,
    );
  }
  static badAor(message: string) {
    return new ContactError(ContactErrorCode.BadAor, message);
  }
  static badGroupName(name: string) {
    const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    return new ContactError(
      ContactErrorCode.BadGroupName,
      `invalid group name ${JSON.stringify(shown)}: 1–32 of A–Z a–z 0–9 . _ -, starting with a letter or digit`,
    );
  }
  static groupExists(name: string) {
    return new ContactError(ContactErrorCode.GroupExists, `group ${name} already exists`);
  }
  static notFound(what: string) {
    return new ContactError(ContactErrorCode.NotFound, `${what} not found`);
  }
}
