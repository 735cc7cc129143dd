/** Contacts: signed contact cards, pinned keys (from a card or learned on first use), groups, the terminal QR code. */
export * from './card.js';
export * from './contacts.js';
export * from './errors.js';
export * from './qr.js';
