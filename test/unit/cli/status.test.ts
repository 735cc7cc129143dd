/**
 * `p2psip status` and `p2psip contacts mode` through the real CLI entry
 * point, on temporary homes: contacts from cards, a per-contact override,
 * pair states (generation 0 from PairSecrets, and a ratcheted one), reach
 * entries the node would have written, and a run.json.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StatusReport } from '../../../src/cli/commands/status.js';
import { main } from '../../../src/cli/main.js';
import { loadConfig, writeConfig } from '../../../src/config/config.js';
import { Identity } from '../../../src/identity/identity.js';
import { PairSecrets } from '../../../src/node/pair-secrets.js';
import { MODE_KEY } from '../../../src/node/privacy.js';
import { nextReach, REACH_PREFIX } from '../../../src/node/reach.js';
import { writeRuntime } from '../../../src/node/runtime.js';
import { Store } from '../../../src/store/store.js';

async function p2psip(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

function tempBase(t: { after: (fn: () => void) => void }): string {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-cli-status-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  return base;
}

async function init(home: string, aor: string): Promise<void> {
  const r = await p2psip('init', '--home', home, '--aor', aor);
  assert.equal(r.code, 0, r.err.join('\n'));
}

/** `home` pins the card of `friendHome`; returns the friend's short fingerprint. */
async function befriend(home: string, friendHome: string): Promise<string> {
  const card = await p2psip('contacts', 'export', '--home', friendHome, '--json');
  assert.equal(card.code, 0, card.err.join('\n'));
  const { card: text, publicKey } = JSON.parse(card.out[0]!);
  const added = await p2psip('contacts', 'add', text, '--home', home);
  assert.equal(added.code, 0, added.err.join('\n'));
  return (publicKey as string).slice(0, 16);
}

function withStore<T>(home: string, fn: (store: Store) => T): T {
  const store = Store.open(home, { create: false });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

async function statusJson(home: string): Promise<StatusReport> {
  const r = await p2psip('status', '--home', home, '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out.length, 1, 'one JSON object');
  return JSON.parse(r.out[0]!) as StatusReport;
}

test('status --json: node, contacts with mode, lookup, pair state and last lookup; non-contacts from reach entries', async (t) => {
  const base = tempBase(t);
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => join(base, n)) as [
    string,
    string,
    string,
  ];
  await init(alice, 'alice@example.org');
  await init(bob, 'bob@example.org');
  await init(carol, 'carol@example.org');
  const bobFp = await befriend(alice, bob);
  const carolFp = await befriend(alice, carol);

  // carol gets her own mode; bob follows the node's.
  const set = await p2psip('contacts', 'mode', 'carol@example.org', 'paranoid', '--home', alice);
  assert.equal(set.code, 0, set.err.join('\n'));
  assert.deepEqual(set.out, [
    "carol@example.org: privacy mode paranoid (overrides the node's mode)",
  ]);

  const t0 = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
  const { bobEpoch } = withStore(alice, (store) => {
    const record = store.getIdentity()!;
    const identity = Identity.fromRecord(record);
    record.seed.fill(0);
    const pairs = new PairSecrets({ store, identity });
    const bobState = pairs.stateFor('bob@example.org')!; // generation 0, stored
    const carolState = pairs.stateFor('carol@example.org')!;
    identity.wipe();
    // As after two completed ratchet steps with carol.
    store.putPairState('carol@example.org', {
      ...carolState,
      current: { ...carolState.current, gen: 2 },
    });
    // What the node writes after its lookups (src/node/node.ts #noteReach).
    const ok = nextReach(undefined, { via: 'secret', mode: 'open', ok: true }, t0);
    const then = nextReach(
      ok,
      { via: 'secret', mode: 'open', ok: false, reason: 'Temporarily Unavailable (offline)' },
      t0 + 60_000,
    );
    store.setKv(`${REACH_PREFIX}bob@example.org`, JSON.stringify(then));
    const dave = nextReach(
      undefined,
      {
        via: 'open',
        mode: 'open',
        ok: false,
        reason: 'Not Found (dave@example.org has no open registration)',
      },
      t0,
    );
    store.setKv(`${REACH_PREFIX}dave@example.org`, JSON.stringify(dave));
    const erin = nextReach(undefined, { via: 'open', mode: 'relaxed', ok: true }, t0 + 1000);
    store.setKv(`${REACH_PREFIX}erin@example.org`, JSON.stringify(erin));
    // Not entries: garbage under the prefix, and keys just outside it.
    store.setKv(`${REACH_PREFIX}zed@example.org`, 'not json');
    store.setKv('reach;odd@example.org', JSON.stringify(erin));
    store.setKv('reach', JSON.stringify(erin));
    return { bobEpoch: bobState.epoch };
  });

  const s = await statusJson(alice);
  assert.deepEqual(s.node, {
    aor: 'alice@example.org',
    running: false,
    pid: null,
    sip: null,
    startedAt: null,
    mode: 'open',
    modeSource: 'config',
    lookup: { contacts: 'open', others: 'open' },
    learnContacts: true,
  });
  assert.deepEqual(
    s.contacts.map((c) => c.aor),
    ['bob@example.org', 'carol@example.org'],
  );
  const [b, c] = s.contacts as [StatusReport['contacts'][0], StatusReport['contacts'][0]];
  assert.deepEqual(b, {
    aor: 'bob@example.org',
    name: null,
    source: 'card',
    fingerprint: bobFp,
    modeOverride: null,
    mode: 'open',
    lookup: 'open',
    pair: { generation: 0, epoch: bobEpoch, ratcheted: false },
    last: {
      via: 'secret',
      mode: 'open',
      lastAttempt: new Date(t0 + 60_000).toISOString(),
      lastSuccess: new Date(t0).toISOString(),
      lastFailure: 'Temporarily Unavailable (offline)',
    },
  });
  assert.equal(c.fingerprint, carolFp);
  assert.equal(c.modeOverride, 'paranoid');
  assert.equal(c.mode, 'paranoid');
  assert.equal(c.lookup, 'secret', 'a paranoid override looks carol up by the secret');
  assert.deepEqual(c.pair, { generation: 2, epoch: c.pair!.epoch, ratcheted: true });
  assert.equal(c.last, null, 'never looked up');
  assert.deepEqual(s.others, [
    {
      aor: 'dave@example.org',
      lookup: 'open',
      last: {
        via: 'open',
        mode: 'open',
        lastAttempt: new Date(t0).toISOString(),
        lastSuccess: null,
        lastFailure: 'Not Found (dave@example.org has no open registration)',
      },
    },
    {
      aor: 'erin@example.org',
      lookup: 'open',
      last: {
        via: 'open',
        mode: 'relaxed',
        lastAttempt: new Date(t0 + 1000).toISOString(),
        lastSuccess: new Date(t0 + 1000).toISOString(),
        lastFailure: null,
      },
    },
  ]);

  // Switched to paranoid (stopped node: into the store): contacts by secret, others refused.
  const mode = await p2psip('mode', '--home', alice, 'paranoid');
  assert.equal(mode.code, 0, mode.err.join('\n'));
  const config = loadConfig(alice);
  writeConfig(alice, { ...config, privacy: { ...config.privacy, learnContacts: false } });
  const p = await statusJson(alice);
  assert.equal(p.node.mode, 'paranoid');
  assert.equal(p.node.modeSource, 'store');
  assert.equal(p.node.learnContacts, false);
  assert.deepEqual(p.node.lookup, { contacts: 'secret', others: 'refuse' });
  assert.deepEqual(
    p.contacts.map((x) => [x.aor, x.mode, x.lookup]),
    [
      ['bob@example.org', 'paranoid', 'secret'],
      ['carol@example.org', 'paranoid', 'secret'],
    ],
  );
  assert.deepEqual(
    p.others.map((o) => [o.aor, o.lookup]),
    [
      ['dave@example.org', 'refuse'],
      ['erin@example.org', 'refuse'],
    ],
  );

  // A running node (run.json naming a live pid: this process).
  const startedAt = new Date(t0).toISOString();
  writeRuntime(alice, {
    pid: process.pid,
    aor: 'alice@example.org',
    publicKey: '00'.repeat(32),
    sip: { host: '127.0.0.1', port: 5099 },
    startedAt,
  });
  const r = await statusJson(alice);
  assert.equal(r.node.running, true);
  assert.equal(r.node.pid, process.pid);
  assert.deepEqual(r.node.sip, { host: '127.0.0.1', port: 5099 });
  assert.equal(r.node.startedAt, startedAt);

  // The table says the same in words.
  const human = await p2psip('status', '--home', alice);
  assert.equal(human.code, 0, human.err.join('\n'));
  const text = human.out.join('\n');
  assert.match(text, /^node: +alice@example\.org$/m);
  assert.match(
    text,
    new RegExp(`^running: +yes \\(pid ${process.pid}, SIP 127\\.0\\.0\\.1:5099`, 'm'),
  );
  assert.match(text, /^mode: +paranoid \(set with `p2psip mode` or from the softphone\)$/m);
  assert.match(text, /^calls: +contacts by secret key, anyone else refused/m);
  assert.match(text, /^learn contacts on first use: no$/m);
  const header = human.out.find((l) => l.startsWith('CONTACT'))!;
  assert.match(
    header,
    /^CONTACT +SOURCE +KEY +MODE +LOOKUP +PAIR +LAST VIA +LAST SUCCESS +LAST FAILURE$/,
  );
  const bobRow = human.out.find((l) => l.startsWith('bob@example.org'))!;
  const col = (name: string) => header.indexOf(name);
  assert.equal(bobRow.indexOf('card'), col('SOURCE'), 'columns are aligned');
  assert.equal(bobRow.indexOf(bobFp), col('KEY'));
  assert.equal(bobRow.indexOf('paranoid (node)'), col('MODE'));
  assert.equal(bobRow.indexOf(`gen 0, epoch ${bobEpoch}`), col('PAIR'));
  assert.equal(bobRow.indexOf('2030-01-02T03:04:05Z'), col('LAST SUCCESS'));
  assert.equal(bobRow.indexOf('Temporarily Unavailable (offline)'), col('LAST FAILURE'));
  const carolRow = human.out.find((l) => l.startsWith('carol@example.org'))!;
  assert.match(carolRow, /paranoid \(own\) +secret key +gen 2, epoch \d+ +- +never +-$/);
  assert.match(text, /gen 0 = from the identity keys only — not yet ratcheted/);
  assert.match(text, /^looked up without a shared secret:$/m);
  assert.match(text, /^dave@example\.org +refused +open key +open +never +Not Found/m);
  assert.doesNotMatch(text, /zed@|odd@/);
});

test('status of a home without contacts says how to add one; no identity is exit 1; no --home is exit 2', async (t) => {
  const base = tempBase(t);
  const home = join(base, 'alice');
  await init(home, 'alice@example.org');
  const r = await p2psip('status', '--home', home);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.ok(r.out.includes("no contacts: add a friend's card with `p2psip contacts add 'CARD'`"));
  assert.ok(!r.out.some((l) => l.startsWith('looked up without')));
  const json = await statusJson(home);
  assert.deepEqual([json.contacts, json.others], [[], []]);

  const empty = join(base, 'empty');
  Store.open(empty).close(); // a store without an identity
  const noIdentity = await p2psip('status', '--home', empty);
  assert.equal(noIdentity.code, 1);
  assert.match(noIdentity.err[0]!, /no identity in .*; run `p2psip init/);
  const missing = await p2psip('status', '--home', join(base, 'missing'));
  assert.equal(missing.code, 1);
  assert.match(missing.err[0]!, /does not exist/);
  const usage = await p2psip('status');
  assert.equal(usage.code, 2);
  assert.match(usage.err.join('\n'), /--home DIR is required/);
});

test('contacts mode: set, show, back to default; unknown words and non-contacts are refused', async (t) => {
  const base = tempBase(t);
  const [alice, bob] = [join(base, 'alice'), join(base, 'bob')];
  await init(alice, 'alice@example.org');
  await init(bob, 'bob@example.org');
  await befriend(alice, bob);
  const mode = () => withStore(alice, (s) => s.getContact('bob@example.org')!.privacyMode);

  const show = await p2psip('contacts', 'mode', 'bob@example.org', '--home', alice);
  assert.deepEqual(show.out, ['bob@example.org: privacy mode of the node (no override)']);
  for (const m of ['open', 'RELAXED', 'paranoid'] as const) {
    const r = await p2psip('contacts', 'mode', 'sip:bob@example.org', m, '--home', alice);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.equal(mode(), m.toLowerCase());
  }
  const shown = await p2psip('contacts', 'mode', 'bob@example.org', '--home', alice);
  assert.deepEqual(shown.out, [
    "bob@example.org: privacy mode paranoid (overrides the node's mode)",
  ]);
  const back = await p2psip('contacts', 'mode', 'bob@example.org', 'default', '--home', alice);
  assert.deepEqual(back.out, ['bob@example.org: privacy mode of the node (no override)']);
  assert.equal(mode(), null);

  const bad = await p2psip('contacts', 'mode', 'bob@example.org', 'hidden', '--home', alice);
  assert.equal(bad.code, 2);
  assert.match(bad.err[0]!, /unknown mode "hidden": say open, relaxed, paranoid or default/);
  assert.equal(mode(), null, 'unchanged');
  const stranger = await p2psip('contacts', 'mode', 'dave@example.org', 'open', '--home', alice);
  assert.equal(stranger.code, 1);
  assert.deepEqual(stranger.err, ['p2psip contacts: dave@example.org is not a contact']);
  assert.equal((await p2psip('contacts', 'mode', '--home', alice)).code, 2);
  const help = await p2psip('help', 'contacts');
  assert.match(help.out.join('\n'), /mode AOR \[open\|relaxed\|paranoid\|default\]/);
});

test('status is listed by `p2psip help`, right after mode', async () => {
  const r = await p2psip('help');
  const names = r.out.map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter((n) => n !== undefined);
  assert.equal(names[names.indexOf('mode') + 1], 'status');
});

test('the store is only read: a status leaves the pair-state table as it was', async (t) => {
  const base = tempBase(t);
  const [alice, bob] = [join(base, 'alice'), join(base, 'bob')];
  await init(alice, 'alice@example.org');
  await init(bob, 'bob@example.org');
  await befriend(alice, bob);
  const s = await statusJson(alice);
  assert.equal(s.contacts[0]!.pair, null, 'no pair state yet: shown as none');
  assert.equal(
    withStore(alice, (store) => store.getPairState('bob@example.org')),
    undefined,
    'status did not derive one',
  );
  assert.equal(
    withStore(alice, (store) => store.getKv(MODE_KEY)),
    undefined,
  );
});
