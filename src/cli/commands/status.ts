/**
 * `p2psip status --home DIR [--json]` — how each contact is reachable and
 * why (issue 4, "Saying why"): the node (AOR, running or not, the privacy
 * mode in force), then per contact the lookup a call would use now (secret
 * or open), the pair state's generation and epoch, and the last lookup's
 * outcome; then the callees looked up without a shared secret.
 *
 * Read-only and safe beside a running node: SQLite in WAL mode lets this
 * reader see the last committed state while the node writes. Nothing here
 * derives or stores a pair state (PairSecrets.stateFor would): a contact the
 * node has not used yet shows "none yet".
 *
 * The per-callee outcome is the store kv entry `reach:<aor>` the node writes
 * after every lookup (src/node/reach.ts).
 */
import { loadConfig } from '../../config/config.js';
import { shortFingerprint } from '../../contacts/card.js';
import { isPrivacyMode, type LookupPlan, lookupPlan, type PrivacyMode } from '../../node/modes.js';
import { MODE_KEY } from '../../node/privacy.js';
import { parseReach, REACH_PREFIX, type ReachEntry } from '../../node/reach.js';
import { readRuntime } from '../../node/runtime.js';
import { Store } from '../../store/store.js';
import { parseCommandArgs } from '../args.js';
import type { CliIo, Command } from '../command.js';
import { UsageError } from '../command.js';
import { table } from './contacts.js';

/** `--json` output, one object. Times are ISO 8601 (UTC); null = never / none. */
export interface StatusReport {
  node: {
    aor: string;
    running: boolean;
    pid: number | null;
    sip: { host: string; port: number } | null;
    startedAt: string | null;
    /** The mode in force: the store's (set at run time by `p2psip mode` or the softphone), else config. */
    mode: PrivacyMode;
    modeSource: 'store' | 'config';
    /** The lookup the node's mode gives a contact (shared secret) and anyone else. */
    lookup: { contacts: LookupPlan; others: LookupPlan };
    learnContacts: boolean;
  };
  contacts: ContactStatus[];
  /** Callees looked up that are not contacts (no shared secret: open key, or refused). */
  others: OtherStatus[];
}

export interface ContactStatus {
  aor: string;
  name: string | null;
  source: 'card' | 'learned';
  fingerprint: string;
  /** The contact's own mode (`p2psip contacts mode`), null = the node's. */
  modeOverride: PrivacyMode | null;
  /** The mode calls to this contact use. */
  mode: PrivacyMode;
  /** The lookup a call would make now (a contact always has a shared secret). */
  lookup: LookupPlan;
  /** null: no pair state stored yet (the node derives it at first use). */
  pair: { generation: number; epoch: number; ratcheted: boolean } | null;
  last: ReachJson | null;
}

export interface OtherStatus {
  aor: string;
  /** The lookup a call would make now (no shared secret). */
  lookup: LookupPlan;
  last: ReachJson;
}

export interface ReachJson {
  via: ReachEntry['via'];
  mode: string;
  lastAttempt: string;
  lastSuccess: string | null;
  lastFailure: string | null;
}

export const status: Command = {
  name: 'status',
  summary: 'how each contact is reachable (secret or open), last success, the mode',
  usage: [
    'Usage: p2psip status --home DIR [--json]',
    '',
    '  The node: AOR, running or not, the privacy mode in force, learnContacts.',
    '  Per contact: source (card or learned), key, mode (its own or the',
    "  node's), the lookup a call uses now (secret or open), the pair state",
    '  (generation 0 = from the identity keys only, not yet ratcheted) and the',
    '  last lookup: how, when it last succeeded, why it last failed.',
    '  Then the callees looked up without a shared secret.',
    '',
    "  --home DIR   the node's home folder (the node may be running)",
    '  --json       one JSON object',
    '',
    'Exit status: 0 done, 1 failed (message on stderr), 2 usage error.',
  ].join('\n'),
  async run(argv, io) {
    const opts = parseCommandArgs(argv, { home: { type: 'string' }, json: { type: 'boolean' } });
    const home = opts.home;
    if (typeof home !== 'string' || home === '') throw new UsageError('--home DIR is required');
    const report = readStatus(home);
    if (!report) {
      io.stderr(`p2psip status: no identity in ${home}; run \`p2psip init --home DIR --aor AOR\``);
      return 1;
    }
    if (opts.json) io.stdout(JSON.stringify(report));
    else printStatus(report, io);
    return 0;
  },
};

/** The status of the node in `home`; undefined when it has no identity. */
export function readStatus(home: string): StatusReport | undefined {
  const store = Store.open(home, { create: false });
  try {
    const self = store.getIdentityPublic();
    if (!self) return undefined;
    const config = loadConfig(home);
    const stored = store.getKv(MODE_KEY);
    const mode = isPrivacyMode(stored) ? stored : config.privacy.mode;
    const run = readRuntime(home);
    const reach = readReachEntries(store);
    const contacts = store.listContacts().map((c): ContactStatus => {
      const pair = store.getPairState(c.aor);
      const last = reach.get(c.aor);
      reach.delete(c.aor);
      const effective = c.privacyMode ?? mode;
      return {
        aor: c.aor,
        name: c.displayName,
        source: c.source,
        fingerprint: shortFingerprint(c.publicKey),
        modeOverride: c.privacyMode,
        mode: effective,
        lookup: lookupPlan(effective, true),
        pair: pair
          ? { generation: pair.current.gen, epoch: pair.epoch, ratcheted: pair.current.gen > 0 }
          : null,
        last: last ? reachJson(last) : null,
      };
    });
    const others = [...reach]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([aor, entry]) => ({ aor, lookup: lookupPlan(mode, false), last: reachJson(entry) }));
    return {
      node: {
        aor: self.aor,
        running: run !== undefined,
        pid: run?.pid ?? null,
        sip: run?.sip ?? null,
        startedAt: run?.startedAt ?? null,
        mode,
        modeSource: isPrivacyMode(stored) ? 'store' : 'config',
        lookup: { contacts: lookupPlan(mode, true), others: lookupPlan(mode, false) },
        learnContacts: config.privacy.learnContacts,
      },
      contacts,
      others,
    };
  } finally {
    store.close();
  }
}

/** The `reach:` entries of the store (how each callee was last looked up). */
function readReachEntries(store: Store): Map<string, ReachEntry> {
  const out = new Map<string, ReachEntry>();
  for (const row of store.listKv(REACH_PREFIX)) {
    const entry = parseReach(row.value);
    if (entry) out.set(row.key.slice(REACH_PREFIX.length), entry);
  }
  return out;
}

function reachJson(e: ReachEntry): ReachJson {
  return {
    via: e.via,
    mode: e.mode,
    lastAttempt: iso(e.lastAttempt),
    lastSuccess: e.lastSuccess === undefined ? null : iso(e.lastSuccess),
    lastFailure: e.lastFailure ?? null,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Seconds precision for the table. */
function shortTime(text: string | null): string {
  return text === null ? 'never' : text.replace(/\.\d{3}Z$/, 'Z');
}

const LOOKUP_WORDS: Record<LookupPlan, string> = {
  secret: 'secret key',
  open: 'open key',
  refuse: 'refused',
};

function printStatus(r: StatusReport, io: CliIo): void {
  const n = r.node;
  io.stdout(`node:     ${n.aor}`);
  io.stdout(
    n.running
      ? `running:  yes (pid ${n.pid}, SIP ${n.sip?.host}:${n.sip?.port}, since ${shortTime(n.startedAt)})`
      : 'running:  no',
  );
  io.stdout(
    `mode:     ${n.mode} (${n.modeSource === 'store' ? 'set with `p2psip mode` or from the softphone' : 'from config.json'})`,
  );
  io.stdout(
    `calls:    contacts by ${LOOKUP_WORDS[n.lookup.contacts]}, anyone else ${n.lookup.others === 'refuse' ? 'refused' : `by ${LOOKUP_WORDS[n.lookup.others]}`} (unless a contact has its own mode)`,
  );
  io.stdout(`learn contacts on first use: ${n.learnContacts ? 'yes' : 'no'}`);
  io.stdout('');
  if (r.contacts.length === 0) {
    io.stdout("no contacts: add a friend's card with `p2psip contacts add 'CARD'`");
  } else {
    table(
      io,
      [
        'CONTACT',
        'SOURCE',
        'KEY',
        'MODE',
        'LOOKUP',
        'PAIR',
        'LAST VIA',
        'LAST SUCCESS',
        'LAST FAILURE',
      ],
      r.contacts.map((c) => [
        c.aor,
        c.source,
        c.fingerprint,
        `${c.mode} (${c.modeOverride === null ? 'node' : 'own'})`,
        LOOKUP_WORDS[c.lookup],
        c.pair ? `gen ${c.pair.generation}, epoch ${c.pair.epoch}` : 'none yet',
        c.last ? LOOKUP_WORDS[c.last.via] : '-',
        c.last ? shortTime(c.last.lastSuccess) : 'never',
        c.last?.lastFailure ?? '-',
      ]),
    );
    if (r.contacts.some((c) => c.pair?.ratcheted === false))
      io.stdout(
        '(gen 0 = from the identity keys only — not yet ratcheted: a stolen identity key reveals its lookup keys)',
      );
  }
  if (r.others.length > 0) {
    io.stdout('');
    io.stdout('looked up without a shared secret:');
    table(
      io,
      ['CALLEE', 'LOOKUP NOW', 'LAST VIA', 'LAST MODE', 'LAST SUCCESS', 'LAST FAILURE'],
      r.others.map((o) => [
        o.aor,
        LOOKUP_WORDS[o.lookup],
        LOOKUP_WORDS[o.last.via],
        o.last.mode,
        shortTime(o.last.lastSuccess),
        o.last.lastFailure ?? '-',
      ]),
    );
  }
}
