/**
 * `p2psip mode` with a stopped node: the mode goes into the store (used at
 * the next start), is printed back, and a word that is not a mode is a
 * usage error that changes nothing. (A running node is switched over SIP:
 * test/integration/privacy-node.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { loadConfig, writeConfig } from '../../../src/config/config.js';
import { MODE_KEY } from '../../../src/node/privacy.js';
import { Store } from '../../../src/store/store.js';

async function p2psip(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

async function home(t: { after: (fn: () => void) => void }): Promise<string> {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-cli-mode-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const h = join(base, 'alice');
  const r = await p2psip('init', '--home', h, '--aor', 'alice@example.org');
  assert.equal(r.code, 0, r.err.join('\n'));
  return h;
}

function storedMode(h: string): string | undefined {
  const store = Store.open(h, { create: false });
  try {
    return store.getKv(MODE_KEY);
  } finally {
    store.close();
  }
}

test('mode with a stopped node: `mode paranoid` writes the store, `mode` prints it', async (t) => {
  const h = await home(t);
  const before = await p2psip('mode', '--home', h);
  assert.equal(before.code, 0, before.err.join('\n'));
  assert.deepEqual(before.out, ['privacy mode: open (takes effect when the node starts)']);
  assert.equal(storedMode(h), undefined, 'asking writes nothing');

  const set = await p2psip('mode', '--home', h, 'paranoid');
  assert.equal(set.code, 0, set.err.join('\n'));
  assert.deepEqual(set.out, ['privacy mode: paranoid (takes effect when the node starts)']);
  assert.equal(storedMode(h), 'paranoid');

  const shown = await p2psip('mode', '--home', h, '--json');
  assert.equal(shown.code, 0);
  assert.deepEqual(JSON.parse(shown.out[0]!), {
    mode: 'paranoid',
    running: false,
    applied: 'at next start',
  });

  const upper = await p2psip('mode', '--home', h, 'Relaxed');
  assert.equal(upper.code, 0, upper.err.join('\n'));
  assert.equal(storedMode(h), 'relaxed', 'the word is case-folded');
});

test('the stored mode wins over config; without one, config privacy.mode is shown', async (t) => {
  const h = await home(t);
  const config = loadConfig(h);
  writeConfig(h, { ...config, privacy: { ...config.privacy, mode: 'relaxed' } });
  assert.deepEqual((await p2psip('mode', '--home', h)).out, [
    'privacy mode: relaxed (takes effect when the node starts)',
  ]);
  await p2psip('mode', '--home', h, 'open');
  assert.deepEqual((await p2psip('mode', '--home', h)).out, [
    'privacy mode: open (takes effect when the node starts)',
  ]);
});

test('a word that is not a mode is exit 2 with the usage, and the store is unchanged', async (t) => {
  const h = await home(t);
  await p2psip('mode', '--home', h, 'relaxed');
  for (const word of ['invisible', 'default', '']) {
    const r = await p2psip('mode', '--home', h, word);
    assert.equal(r.code, 2, `"${word}"`);
    assert.equal(r.out.length, 0);
    const err = r.err.join('\n');
    assert.match(err, new RegExp(`unknown mode "${word}": say open, relaxed, paranoid`));
    assert.match(err, /Usage: p2psip mode --home DIR/);
  }
  assert.equal(storedMode(h), 'relaxed');
  const two = await p2psip('mode', '--home', h, 'open', 'paranoid');
  assert.equal(two.code, 2);
  const noHome = await p2psip('mode', 'open');
  assert.equal(noHome.code, 2);
  assert.match(noHome.err[0]!, /--home DIR is required/);
  assert.equal(storedMode(h), 'relaxed');
});
