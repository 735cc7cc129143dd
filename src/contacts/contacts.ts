/**
 * Contacts: friends' AORs with their pinned identity keys, and named groups,
 * over the node's Store.
 *
 * A key is pinned two ways, and the user can always see which:
 * - `card`: added from a contact card the friend gave (`p2psip contacts add`);
 * - `learned`: kept on first use after an open-mode call whose caller proved
 *   the key (the node calls {@link Contacts.learn}).
 *
 * A pinned key is never replaced silently: a card with another key for a
 * known AOR is CONTACT_KEY_CONFLICT (naming both fingerprints) unless the user
 * says `force`; learning never touches a known AOR. A card with the same key
 * upgrades a learned contact to `card` (the user has now confirmed the key
 * out of band).
 */
import { equalBytes } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import { type Contact, type ContactGroup, GROUP_NAME, type Store } from '../store/store.js';
import { type ContactCard, parseCard, shortFingerprint } from './card.js';
import { ContactError } from './errors.js';

/** What {@link Contacts.addCard} did. */
export type AddCardOutcome =
  /** A new contact. */
  | 'added'
  /** A learned contact's key was confirmed by a card: now `card`. */
  | 'confirmed'
  /** Same key, the card's display name differs: name updated. */
  | 'updated'
  /** Nothing to change. */
  | 'unchanged'
  /** A different pinned key was replaced (only with `force`). */
  | 'replaced';

export interface AddCardResult {
  outcome: AddCardOutcome;
  contact: Contact;
  /** The key that `force` replaced. */
  previousKey?: Uint8Array;
}

/** What {@link Contacts.learn} did: only an unknown AOR is learned. */
export type LearnOutcome =
  | 'learned'
  /** Already a contact with this key. */
  | 'known'
  /** Already a contact with ANOTHER key: the pinned key is kept. */
  | 'pinned-differs'
  /** The node's own AOR or key. */
  | 'self';

/** A contact as listed: with its groups and short fingerprint. */
export interface ContactEntry extends Contact {
  /** {@link shortFingerprint} of the key. */
  fingerprint: string;
  /** Names of the groups it is in, sorted. */
  groups: string[];
}

export class Contacts {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Adds (or confirms) the contact a card names. `card` is the card text
   * (surrounding white space is ignored) or a parsed card. Throws
   * ContactError: the card's parse codes, CONTACT_SELF, CONTACT_KEY_CONFLICT.
   */
  addCard(card: string | ContactCard, options: { force?: boolean } = {}): AddCardResult {
    const parsed = typeof card === 'string' ? parseCard(card.trim()) : card;
    return this.#store.transaction(() => {
      if (this.#isSelf(parsed.aor, parsed.publicKey)) throw ContactError.self(parsed.aor);
      const displayName = parsed.name ?? null;
      const existing = this.#store.getContact(parsed.aor);
      if (!existing) {
        const contact = this.#store.addContact({
          aor: parsed.aor,
          publicKey: parsed.publicKey,
          source: 'card',
          displayName,
        });
        return { outcome: 'added', contact };
      }
      if (equalBytes(existing.publicKey, parsed.publicKey)) {
        if (existing.source === 'card' && existing.displayName === displayName) {
          return { outcome: 'unchanged', contact: existing };
        }
        const contact = this.#store.updateContact(parsed.aor, { source: 'card', displayName });
        return { outcome: existing.source === 'learned' ? 'confirmed' : 'updated', contact };
      }
      if (!options.force) {
        throw ContactError.keyConflict(
          parsed.aor,
          shortFingerprint(existing.publicKey),
          shortFingerprint(parsed.publicKey),
          existing.source === 'learned',
        );
      }
      const contact = this.#store.updateContact(parsed.aor, {
        publicKey: parsed.publicKey,
        source: 'card',
        displayName,
      });
      return { outcome: 'replaced', contact, previousKey: existing.publicKey };
    });
  }

  /**
   * Keeps `publicKey` as `aor`'s key, learned on first use — for the node to
   * call after an open-mode call whose caller proved this key. Only an
   * unknown AOR is added; a known one is never changed (a pinned key wins).
   */
  learn(aor: string, publicKey: Uint8Array): { outcome: LearnOutcome; contact?: Contact } {
    const key = checkAor(aor);
    return this.#store.transaction(() => {
      if (this.#isSelf(key, publicKey)) return { outcome: 'self' };
      const existing = this.#store.getContact(key);
      if (existing) {
        const same = equalBytes(existing.publicKey, publicKey);
        return { outcome: same ? 'known' : 'pinned-differs', contact: existing };
      }
      const contact = this.#store.addContact({ aor: key, publicKey, source: 'learned' });
      return { outcome: 'learned', contact };
    });
  }

  get(aor: string): ContactEntry | undefined {
    const contact = this.#store.getContact(checkAor(aor));
    return contact && this.#entries([contact])[0];
  }

  /** All contacts, ordered by AOR. */
  list(): ContactEntry[] {
    return this.#entries(this.#store.listContacts());
  }

  /** Removes a contact (and its group memberships); CONTACT_NOT_FOUND if unknown. */
  remove(aor: string): Contact {
    const key = checkAor(aor);
    return this.#store.transaction(() => {
      const contact = this.#requireContact(key);
      this.#store.deleteContact(key);
      return contact;
    });
  }

  createGroup(name: string): ContactGroup {
    checkGroupName(name);
    return this.#store.transaction(() => {
      const existing = this.#store.getGroup(name);
      if (existing) throw ContactError.groupExists(existing.name);
      return this.#store.createGroup(name);
    });
  }

  /** Deletes a group (its contacts stay); CONTACT_NOT_FOUND if unknown. */
  deleteGroup(name: string): ContactGroup {
    return this.#store.transaction(() => {
      const group = this.#requireGroup(name);
      this.#store.deleteGroup(name);
      return group;
    });
  }

  /** Adds contacts to a group, all or nothing; returns how many were not members yet. */
  addToGroup(name: string, aors: readonly string[]): number {
    const keys = aors.map(checkAor);
    return this.#store.transaction(() => {
      this.#requireGroup(name);
      for (const key of keys) this.#requireContact(key);
      return this.#store.addGroupMembers(name, keys);
    });
  }

  /** Removes AORs from a group; returns how many were members. */
  removeFromGroup(name: string, aors: readonly string[]): number {
    const keys = aors.map(checkAor);
    return this.#store.transaction(() => {
      this.#requireGroup(name);
      return this.#store.removeGroupMembers(name, keys);
    });
  }

  /** All groups with their members, ordered by name. */
  listGroups(): ContactGroup[] {
    return this.#store.listGroups();
  }

  #isSelf(aor: string, publicKey: Uint8Array): boolean {
    const self = this.#store.getIdentityPublic();
    return self !== undefined && (self.aor === aor || equalBytes(self.publicKey, publicKey));
  }

  #requireContact(aor: string): Contact {
    const contact = this.#store.getContact(aor);
    if (!contact) throw ContactError.notFound(`contact ${aor}`);
    return contact;
  }

  #requireGroup(name: string): ContactGroup {
    checkGroupName(name);
    const group = this.#store.getGroup(name);
    if (!group) throw ContactError.notFound(`group ${name}`);
    return group;
  }

  #entries(contacts: Contact[]): ContactEntry[] {
    const groupsOf = new Map<string, string[]>();
    for (const group of this.#store.listGroups()) {
      for (const aor of group.members)
        groupsOf.set(aor, [...(groupsOf.get(aor) ?? []), group.name]);
    }
    return contacts.map((c) => ({
      ...c,
      fingerprint: shortFingerprint(c.publicKey),
      groups: groupsOf.get(c.aor) ?? [],
    }));
  }
}

function checkAor(aor: string): string {
  try {
    return normalizeAor(aor);
  } catch (err) {
    throw ContactError.badAor((err as Error).message);
  }
}

function checkGroupName(name: string): void {
  if (typeof name !== 'string' || !GROUP_NAME.test(name))
    throw ContactError.badGroupName(String(name));
}
