// `p2psip init` and `p2psip whoami`. Called through the command objects' `run`
// with a capturing CliIo until src/cli/main.ts registers them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CliIo } from '../../../src/cli/command.js';
import { UsageError } from '../../../src/cli/command.js';
import { init } from '../../../src/cli/commands/init.js';
import { whoami } from '../../../src/cli/commands/whoami.js';
import { defaultConfig, loadConfig } from '../../../src/config/index.js';
import { Identity } from '../../../src/identity/index.js';
import { Store, StoreError, StoreErrorCode } from '../../../src/store/index.js';

function capture(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l) };
}

function tempHome(t: { after: (fn: () => void) => void }): string {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-cli-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  return join(base, 'node');
}

test('init creates home, store, identity and default config; whoami --json prints it', async (t) => {
  const home = tempHome(t);
  const io = capture();
  assert.equal(await init.run(['--home', home, '--aor', 'sip:alice@Example.org'], io), 0);
  assert.equal(io.out[0], 'aor: alice@example.org');
  const key = /^publicKey: ([0-9a-f]{64})$/.exec(io.out[1]!)?.[1];
  assert.ok(key, io.out.join('\n'));
  assert.equal(statSync(home).mode & 0o777, 0o700);
  assert.equal(statSync(join(home, 'p2psip.db')).mode & 0o777, 0o600);
  assert.deepEqual(loadConfig(home), defaultConfig());

  // The stored seed really belongs to the printed key.
  const store = Store.open(home);
  const rec = store.getIdentity()!;
  store.close();
  assert.equal(Identity.fromRecord(rec).publicKeyHex, key);

  const who = capture();
  assert.equal(await whoami.run(['--home', home, '--json'], who), 0);
  assert.deepEqual(JSON.parse(who.out.join('')), { aor: 'alice@example.org', publicKey: key });
  assert.equal(who.out.length, 1);
  assert.equal(Object.keys(JSON.parse(who.out[0]!)).join(','), 'aor,publicKey');

  const plain = capture();
  assert.equal(await whoami.run(['--home', home], plain), 0);
  assert.deepEqual(plain.out, ['aor: alice@example.org', `publicKey: ${key}`]);
});

test('init refuses to replace an identity without --force, and keeps the old one intact', async (t) => {
  const home = tempHome(t);
  const first = capture();
  await init.run(['--home', home, '--aor', 'alice@example.org'], first);
  const again = capture();
  assert.equal(await init.run(['--home', home, '--aor', 'bob@example.org'], again), 1);
  assert.match(again.err.join('\n'), /already has an identity \(alice@example\.org\).*--force/);
  const who = capture();
  await whoami.run(['--home', home, '--json'], who);
  assert.equal(JSON.parse(who.out[0]!).publicKey, first.out[1]!.slice('publicKey: '.length));

  const forced = capture();
  assert.equal(await init.run(['--home', home, '--aor', 'bob@example.org', '--force'], forced), 0);
  assert.match(forced.err.join('\n'), /replaced the identity of alice@example\.org/);
  const who2 = capture();
  await whoami.run(['--home', home, '--json'], who2);
  assert.equal(JSON.parse(who2.out[0]!).aor, 'bob@example.org');
  assert.notEqual(JSON.parse(who2.out[0]!).publicKey, JSON.parse(who.out[0]!).publicKey);
});

test('init keeps an existing config.json (and warns if it is invalid)', async (t) => {
  const home = tempHome(t);
  await init.run(['--home', home, '--aor', 'alice@example.org'], capture());
  const custom = '{ "privacy": { "mode": "paranoid" } }\n';
  writeFileSync(join(home, 'config.json'), custom);
  await init.run(['--home', home, '--aor', 'alice@example.org', '--force'], capture());
  assert.equal(readFileSync(join(home, 'config.json'), 'utf8'), custom);

  writeFileSync(join(home, 'config.json'), '{ "privacy": { "mode": "secret" } }');
  const io = capture();
  assert.equal(await init.run(['--home', home, '--aor', 'alice@example.org', '--force'], io), 0);
  assert.match(io.err.join('\n'), /warning: .*config\.json: privacy\.mode/);
  assert.equal(
    readFileSync(join(home, 'config.json'), 'utf8'),
    '{ "privacy": { "mode": "secret" } }',
  );
});

test('usage errors: missing flags, bad AOR, unknown options, positionals', async (t) => {
  const home = tempHome(t);
  const cases: string[][] = [
    ['--aor', 'alice@example.org'],
    ['--home', home],
    ['--home', home, '--aor', 'not-an-aor'],
    ['--home', home, '--aor', 'alice@example.org', '--bogus'],
    ['--home', home, '--aor', 'alice@example.org', 'extra'],
    ['--home', '--aor', 'alice@example.org'],
  ];
  for (const argv of cases) {
    await assert.rejects(init.run(argv, capture()), UsageError, argv.join(' '));
  }
  await assert.rejects(whoami.run([], capture()), UsageError);
  await assert.rejects(whoami.run(['--home', home, '--xml'], capture()), UsageError);
});

test('whoami on a missing home or a home without identity says to run init, and creates nothing', async (t) => {
  const home = tempHome(t);
  await assert.rejects(
    whoami.run(['--home', home], capture()),
    (e) =>
      e instanceof StoreError && e.code === StoreErrorCode.NoHome && /p2psip init/.test(e.message),
  );
  assert.throws(() => statSync(home), /ENOENT/);
  Store.open(home).close();
  const io = capture();
  assert.equal(await whoami.run(['--home', home], io), 1);
  assert.match(io.err.join('\n'), /no identity .*p2psip init/);
});
