/**
 * `p2psip contacts export|add|list|remove|mode|group … --home DIR` — friends and
 * their pinned identity keys. `export` prints this node's contact card (a
 * signed `p2psip:` URI) and its QR code; `add` pins a friend's card; `list`
 * shows where each key came from (a card, or learned on first use); groups
 * are named sets of contacts. The logic is src/contacts/; this file only
 * parses arguments and prints.
 */

import { type CardFields, createCard, shortFingerprint } from '../../contacts/card.js';
import { type AddCardResult, Contacts } from '../../contacts/contacts.js';
import { ContactError, ContactErrorCode } from '../../contacts/errors.js';
import { renderQr } from '../../contacts/qr.js';
import { toHex } from '../../crypto/bytes.js';
import { Identity } from '../../identity/identity.js';
import { isPrivacyMode, PRIVACY_MODES } from '../../node/modes.js';
import { Store } from '../../store/store.js';
import { parseCommandArgs, parseWithPositionals, type Spec } from '../args.js';
import type { CliIo, Command } from '../command.js';
import { UsageError } from '../command.js';

const HOME: Spec = { home: { type: 'string' } };
const JSON_FLAG: Spec = { json: { type: 'boolean' } };

export const contacts: Command = {
  name: 'contacts',
  summary: 'your contact card, friends and their pinned keys, groups',
  usage: [
    'Usage: p2psip contacts SUBCOMMAND --home DIR [options]',
    '',
    '  export [--json] [--no-qr] [--invert] [--name NAME]',
    '        print your contact card (a p2psip: URI with your AOR and key, signed',
    '        by your key) and its QR code; --name puts a display name on it;',
    '        --invert draws the QR for dark-on-light terminals',
    "  add 'CARD' [--force]",
    '        pin a friend\'s card (quote it: it contains "&"); a different key',
    '        already pinned for that AOR is refused unless --force',
    '  list [--json]',
    '        contacts with their key, where it came from (card, or learned on',
    '        first use), date added and groups; --json: one JSON object a line',
    '  remove AOR',
    '  mode AOR [open|relaxed|paranoid|default]',
    "        this contact's own privacy mode for calling it (default: the node's",
    '        mode again); without a mode, prints it. A running node uses it from',
    '        its next lookup of AOR',
    '  group create NAME | group delete NAME',
    '  group add NAME AOR... | group remove NAME AOR...',
    '  group list [--json]',
    '        groups of contacts; NAME is 1-32 of A-Z a-z 0-9 . _ -',
    '',
    "  --home DIR   the node's home folder (made by `p2psip init`)",
    '',
    'Exit status: 0 done, 1 refused or failed (message on stderr), 2 usage error.',
  ].join('\n'),
  async run(argv, io) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'export':
        return exportCard(rest, io);
      case 'add':
        return add(rest, io);
      case 'list':
        return list(rest, io);
      case 'remove':
        return remove(rest, io);
      case 'mode':
        return contactMode(rest, io);
      case 'group':
        return group(rest, io);
      case undefined:
        throw new UsageError('a subcommand is required');
      default:
        throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
    }
  },
};

function exportCard(argv: string[], io: CliIo): number {
  const opts = parseCommandArgs(argv, {
    ...HOME,
    ...JSON_FLAG,
    'no-qr': { type: 'boolean' },
    invert: { type: 'boolean' },
    name: { type: 'string' },
  });
  const name = opts.name as string | undefined;
  const card = withStore(opts, (store) => {
    const record = store.getIdentity();
    if (!record) return undefined;
    let identity: Identity;
    try {
      identity = Identity.fromRecord(record);
    } finally {
      record.seed.fill(0);
    }
    try {
      return createCard(identity, name === undefined ? {} : { name });
    } catch (err) {
      if (err instanceof ContactError) throw new UsageError(`--name: ${err.message}`);
      throw err;
    } finally {
      identity.wipe();
    }
  });
  if (!card) {
    io.stderr('p2psip contacts: no identity in this home; run `p2psip init --home DIR --aor AOR`');
    return 1;
  }
  if (opts.json) {
    io.stdout(JSON.stringify({ ...describe(card), card: card.text }));
    return 0;
  }
  io.stdout(card.text);
  if (!opts['no-qr']) {
    io.stdout('');
    for (const line of renderQr(card.text, { invert: opts.invert === true })) io.stdout(line);
  }
  return 0;
}

function add(argv: string[], io: CliIo): number {
  const { values, positionals } = parseWithPositionals(
    argv,
    { ...HOME, force: { type: 'boolean' } },
    1,
  );
  if (positionals.length > 1) {
    throw new UsageError('one card at a time (a card has no spaces; quote it)');
  }
  let result: AddCardResult;
  try {
    result = withStore(values, (store) =>
      new Contacts(store).addCard(positionals[0]!, { force: values.force === true }),
    );
  } catch (err) {
    if (err instanceof ContactError && err.code === ContactErrorCode.CardTruncated) {
      io.stderr(
        `p2psip contacts: ${err.message}; put the card in single quotes, a shell cuts it at "&"`,
      );
      return 1;
    }
    throw err;
  }
  const c = result.contact;
  const who = `${c.aor}${c.displayName === null ? '' : ` (${c.displayName})`}`;
  const key = shortFingerprint(c.publicKey);
  switch (result.outcome) {
    case 'added':
      io.stdout(`added ${who}, key ${key}, from a card`);
      break;
    case 'confirmed':
      io.stdout(`${who}: key ${key} confirmed by the card (was learned on first use)`);
      break;
    case 'updated':
      io.stdout(`${who}: display name updated, key ${key} unchanged`);
      break;
    case 'unchanged':
      io.stdout(`${who}: already a contact with key ${key}`);
      break;
    case 'replaced':
      io.stdout(
        `${who}: replaced the pinned key ${shortFingerprint(result.previousKey!)} with ${key}`,
      );
      break;
  }
  return 0;
}

function list(argv: string[], io: CliIo): number {
  const opts = parseCommandArgs(argv, { ...HOME, ...JSON_FLAG });
  const entries = withStore(opts, (store) => new Contacts(store).list());
  if (opts.json) {
    for (const c of entries) {
      io.stdout(
        JSON.stringify({
          ...describe(c),
          fingerprint: c.fingerprint,
          source: c.source,
          groups: c.groups,
          privacyMode: c.privacyMode,
          added: new Date(c.createdAt).toISOString(),
        }),
      );
    }
    return 0;
  }
  if (entries.length === 0) {
    io.stdout("no contacts yet: add a friend's card with `p2psip contacts add 'CARD'`");
    return 0;
  }
  table(
    io,
    ['AOR', 'SOURCE', 'ADDED', 'KEY', 'GROUPS', 'NAME'],
    entries.map((c) => [
      c.aor,
      c.source,
      new Date(c.createdAt).toISOString().slice(0, 10),
      c.fingerprint,
      c.groups.join(',') || '-',
      c.displayName ?? '',
    ]),
  );
  return 0;
}

function remove(argv: string[], io: CliIo): number {
  const { values, positionals } = parseWithPositionals(argv, HOME, 1);
  if (positionals.length > 1) throw new UsageError('remove takes one AOR');
  const removed = withStore(values, (store) => new Contacts(store).remove(positionals[0]!));
  io.stdout(`removed ${removed.aor} (key ${shortFingerprint(removed.publicKey)})`);
  return 0;
}

/** `mode AOR [WORD]`: the contact's privacy override (null = the node's mode). */
function contactMode(argv: string[], io: CliIo): number {
  const { values, positionals } = parseWithPositionals(argv, HOME, 1, 2);
  const [aor, word] = positionals as [string, string | undefined];
  const wanted = word?.toLowerCase();
  if (wanted !== undefined && wanted !== 'default' && !isPrivacyMode(wanted))
    throw new UsageError(`unknown mode "${word}": say ${PRIVACY_MODES.join(', ')} or default`);
  const contact = withStore(values, (store) => {
    const current = store.getContact(aor);
    if (!current) return undefined;
    if (wanted === undefined) return current;
    return store.updateContact(aor, { privacyMode: wanted === 'default' ? null : wanted });
  });
  if (!contact) {
    io.stderr(`p2psip contacts: ${aor} is not a contact`);
    return 1;
  }
  io.stdout(
    contact.privacyMode === null
      ? `${contact.aor}: privacy mode of the node (no override)`
      : `${contact.aor}: privacy mode ${contact.privacyMode} (overrides the node's mode)`,
  );
  return 0;
}

function group(argv: string[], io: CliIo): number {
  const [action, ...rest] = argv;
  if (action === 'list') {
    const opts = parseCommandArgs(rest, { ...HOME, ...JSON_FLAG });
    const groups = withStore(opts, (store) => new Contacts(store).listGroups());
    if (opts.json) {
      for (const g of groups) io.stdout(JSON.stringify({ name: g.name, members: g.members }));
    } else if (groups.length === 0) {
      io.stdout('no groups yet: make one with `p2psip contacts group create NAME`');
    } else {
      table(
        io,
        ['GROUP', 'MEMBERS'],
        groups.map((g) => [g.name, g.members.join(', ') || '-']),
      );
    }
    return 0;
  }
  const counts: Record<string, [number, number]> = {
    create: [1, 1],
    delete: [1, 1],
    add: [2, Number.POSITIVE_INFINITY],
    remove: [2, Number.POSITIVE_INFINITY],
  };
  const range = action === undefined ? undefined : counts[action];
  if (!range) throw new UsageError('group: expected create, delete, add, remove or list');
  const { values, positionals } = parseWithPositionals(rest, HOME, range[0]);
  if (positionals.length > range[1]) throw new UsageError(`group ${action} takes one NAME`);
  const [name, ...aors] = positionals as [string, ...string[]];
  const line = withStore(values, (store) => {
    const book = new Contacts(store);
    switch (action) {
      case 'create':
        return `created group ${book.createGroup(name).name}`;
      case 'delete':
        return `deleted group ${book.deleteGroup(name).name}`;
      case 'add':
        return `group ${name}: ${book.addToGroup(name, aors)} added`;
      default:
        return `group ${name}: ${book.removeFromGroup(name, aors)} removed`;
    }
  });
  io.stdout(line);
  return 0;
}

/** Opens the home's store (never creating it), runs `fn`, closes. */
function withStore<T>(values: Record<string, unknown>, fn: (store: Store) => T): T {
  const home = values.home;
  if (typeof home !== 'string' || home === '') throw new UsageError('--home DIR is required');
  const store = Store.open(home, { create: false });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** The leading JSON fields of a card or contact. */
function describe(
  c: CardFields | { aor: string; publicKey: Uint8Array; displayName: string | null },
) {
  const name = 'displayName' in c ? c.displayName : (c.name ?? null);
  return { aor: c.aor, name, publicKey: toHex(c.publicKey) };
}

/** Left-aligned columns, two spaces apart (also `p2psip status`). */
export function table(io: CliIo, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) {
    io.stdout(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  }
}
