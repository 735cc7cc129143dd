/**
 * `p2psip contacts` through the real CLI entry point (main() with a capturing
 * CliIo): export in one home, add in another, list, groups, and the errors
 * with their exit codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { parseCard } from '../../../src/contacts/card.js';
import { renderQr } from '../../../src/contacts/qr.js';

async function p2psip(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

function homes(t: { after: (fn: () => void) => void }) {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-cli-contacts-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  return { alice: join(base, 'alice'), bob: join(base, 'bob'), none: join(base, 'none') };
}

async function init(home: string, aor: string) {
  const r = await p2psip('init', '--home', home, '--aor', aor);
  assert.equal(r.code, 0, r.err.join('\n'));
  return r.out[1]!.replace('publicKey: ', '');
}

test('export → add in another home → list shows source "card"; export prints the QR unless --no-qr/--json', async (t) => {
  const h = homes(t);
  const aliceKey = await init(h.alice, 'alice@example.org');
  await init(h.bob, 'bob@example.org');

  const exported = await p2psip('contacts', 'export', '--home', h.alice, '--name', 'Alice Liddell');
  assert.equal(exported.code, 0, exported.err.join('\n'));
  const card = exported.out[0]!;
  const parsed = parseCard(card);
  assert.equal(parsed.aor, 'alice@example.org');
  assert.equal(parsed.name, 'Alice Liddell');
  assert.equal(Buffer.from(parsed.publicKey).toString('hex'), aliceKey);
  assert.equal(exported.out[1], '');
  assert.deepEqual(exported.out.slice(2), renderQr(card), 'the QR of exactly the card line');

  const plain = await p2psip('contacts', 'export', '--home', h.alice, '--no-qr');
  assert.deepEqual(plain.out.length, 1);
  assert.match(plain.out[0]!, /^p2psip:alice@example\.org\?v=1&key=[^&]+&sig=/);
  const json = await p2psip('contacts', 'export', '--json', '--home', h.alice);
  assert.equal(json.out.length, 1);
  const obj = JSON.parse(json.out[0]!);
  assert.deepEqual(Object.keys(obj), ['aor', 'name', 'publicKey', 'card']);
  assert.deepEqual(
    [obj.aor, obj.name, obj.publicKey, obj.card],
    ['alice@example.org', null, aliceKey, plain.out[0]],
  );

  const added = await p2psip('contacts', 'add', card, '--home', h.bob);
  assert.equal(added.code, 0, added.err.join('\n'));
  assert.deepEqual(added.out, [
    `added alice@example.org (Alice Liddell), key ${aliceKey.slice(0, 16)}, from a card`,
  ]);
  const again = await p2psip('contacts', 'add', card, '--home', h.bob);
  assert.equal(again.code, 0);
  assert.match(again.out[0]!, /already a contact/);

  const listed = await p2psip('contacts', 'list', '--json', '--home', h.bob);
  assert.equal(listed.code, 0);
  assert.equal(listed.out.length, 1);
  const row = JSON.parse(listed.out[0]!);
  assert.equal(row.aor, 'alice@example.org');
  assert.equal(row.publicKey, aliceKey);
  assert.equal(row.source, 'card');
  assert.deepEqual(row.groups, []);
  assert.equal(row.name, 'Alice Liddell');
  assert.match(row.added, /^\d{4}-\d\d-\d\dT/);
  const table = await p2psip('contacts', 'list', '--home', h.bob);
  assert.match(table.out[0]!, /^AOR\s+SOURCE\s+ADDED\s+KEY\s+GROUPS\s+NAME$/);
  assert.match(
    table.out[1]!,
    new RegExp(
      `^alice@example\\.org\\s+card\\s+\\d{4}-\\d\\d-\\d\\d\\s+${aliceKey.slice(0, 16)}\\s+-\\s+Alice Liddell$`,
    ),
  );
  // Alice's own home refuses her own card.
  const self = await p2psip('contacts', 'add', card, '--home', h.alice);
  assert.equal(self.code, 1);
  assert.match(self.err[0]!, /your own/);
});

test('bad cards: one clear line on stderr, exit 1; a truncated card hints at shell quoting', async (t) => {
  const h = homes(t);
  await init(h.alice, 'alice@example.org');
  await init(h.bob, 'bob@example.org');
  const card = (await p2psip('contacts', 'export', '--no-qr', '--home', h.alice)).out[0]!;
  const cases: [string, RegExp][] = [
    [card.replace('alice', 'alicf'), /signature does not verify \(mistyped or tampered card\)/],
    [card.slice(0, card.indexOf('&')), /incomplete contact card.*single quotes/],
    [card.replace('v=1', 'v=2'), /version "2" is not supported/],
    ['hello', /does not start with "p2psip:"/],
  ];
  for (const [text, message] of cases) {
    const r = await p2psip('contacts', 'add', text, '--home', h.bob);
    assert.equal(r.code, 1, text);
    assert.equal(r.err.length, 1, `one line: ${r.err.join('|')}`);
    assert.match(r.err[0]!, /^p2psip contacts: /);
    assert.match(r.err[0]!, message);
    assert.ok(!r.err[0]!.includes('\n'));
  }
  const listed = await p2psip('contacts', 'list', '--json', '--home', h.bob);
  assert.deepEqual(listed.out, [], 'nothing was added');
});

test('key conflict: exit 1 naming both fingerprints; --force replaces', async (t) => {
  const h = homes(t);
  const base = join(h.alice, '..');
  const oldKey = await init(join(base, 'old'), 'carol@example.org');
  const newKey = await init(join(base, 'new'), 'carol@example.org');
  await init(h.bob, 'bob@example.org');
  const cardOf = async (home: string) =>
    (await p2psip('contacts', 'export', '--no-qr', '--home', home)).out[0]!;
  assert.equal(
    (await p2psip('contacts', 'add', await cardOf(join(base, 'old')), '--home', h.bob)).code,
    0,
  );
  const newCard = await cardOf(join(base, 'new'));
  const refused = await p2psip('contacts', 'add', newCard, '--home', h.bob);
  assert.equal(refused.code, 1);
  assert.ok(
    refused.err[0]!.includes(oldKey.slice(0, 16)) && refused.err[0]!.includes(newKey.slice(0, 16)),
    refused.err[0],
  );
  assert.match(refused.err[0]!, /--force/);
  const forced = await p2psip('contacts', 'add', newCard, '--force', '--home', h.bob);
  assert.equal(forced.code, 0);
  assert.match(
    forced.out[0]!,
    new RegExp(`replaced the pinned key ${oldKey.slice(0, 16)} with ${newKey.slice(0, 16)}`),
  );
  const row = JSON.parse((await p2psip('contacts', 'list', '--json', '--home', h.bob)).out[0]!);
  assert.equal(row.publicKey, newKey);
});

test('groups and remove through the CLI', async (t) => {
  const h = homes(t);
  await init(h.alice, 'alice@example.org');
  await init(h.bob, 'bob@example.org');
  const card = (await p2psip('contacts', 'export', '--no-qr', '--home', h.alice)).out[0]!;
  await p2psip('contacts', 'add', card, '--home', h.bob);
  const steps: [string[], number, RegExp][] = [
    [['group', 'create', 'family'], 0, /^created group family$/],
    [['group', 'create', 'Family'], 1, /already exists/],
    [['group', 'add', 'family', 'alice@example.org'], 0, /^group family: 1 added$/],
    [['group', 'add', 'family', 'dave@example.org'], 1, /contact dave@example\.org not found/],
    [['group', 'list'], 0, /^GROUP\s+MEMBERS$/],
  ];
  for (const [argv, code, line] of steps) {
    const r = await p2psip('contacts', ...argv, '--home', h.bob);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.err.join('|')}`);
    assert.match((code === 0 ? r.out : r.err)[0]!, line, argv.join(' '));
  }
  const groups = await p2psip('contacts', 'group', 'list', '--json', '--home', h.bob);
  assert.deepEqual(
    groups.out.map((l) => JSON.parse(l)),
    [{ name: 'family', members: ['alice@example.org'] }],
  );
  const row = JSON.parse((await p2psip('contacts', 'list', '--json', '--home', h.bob)).out[0]!);
  assert.deepEqual(row.groups, ['family']);
  assert.equal(
    (await p2psip('contacts', 'group', 'remove', 'family', 'alice@example.org', '--home', h.bob))
      .code,
    0,
  );
  assert.equal((await p2psip('contacts', 'remove', 'alice@example.org', '--home', h.bob)).code, 0);
  const gone = await p2psip('contacts', 'remove', 'alice@example.org', '--home', h.bob);
  assert.equal(gone.code, 1);
  assert.match(gone.err[0]!, /not found/);
  assert.equal((await p2psip('contacts', 'group', 'delete', 'family', '--home', h.bob)).code, 0);
  const none = await p2psip('contacts', 'group', 'list', '--home', h.bob);
  assert.match(none.out[0]!, /no groups yet/);
});

test('usage errors exit 2 with the usage; a missing home exits 1 without creating it', async (t) => {
  const h = homes(t);
  for (const argv of [
    [],
    ['frobnicate'],
    ['list'], // no --home
    ['add', '--home', h.none], // no card
    ['list', '--bogus', '--home', h.none],
    ['group', 'create', '--home', h.none],
    ['group', 'add', 'family', '--home', h.none],
    ['group', 'rename', 'a', 'b', '--home', h.none],
  ]) {
    const r = await p2psip('contacts', ...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err[0]!, /Usage: p2psip contacts SUBCOMMAND/);
  }
  const missing = await p2psip('contacts', 'list', '--home', h.none);
  assert.equal(missing.code, 1);
  assert.match(missing.err[0]!, /p2psip init/);
  const noInit = await p2psip('contacts', 'export', '--home', h.none);
  assert.equal(noInit.code, 1);
  const help = await p2psip('help', 'contacts');
  assert.match(help.out[0]!, /export \[--json\] \[--no-qr\]/);
});
