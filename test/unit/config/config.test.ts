import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  bootstrapList,
  CONFIG_FILE,
  ConfigError,
  ConfigErrorCode,
  defaultConfig,
  loadConfig,
  parseConfig,
  validateConfig,
  writeConfig,
} from '../../../src/config/index.js';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2psip-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function configError(code: string, field?: string, text?: RegExp) {
  return (e: unknown) =>
    e instanceof ConfigError &&
    e.code === code &&
    (field === undefined || e.field === field) &&
    (text === undefined || text.test(e.message));
}

test('defaults are private: local network, empty bootstrap, loopback binds, open privacy mode', () => {
  const d = defaultConfig();
  assert.equal(d.overlay.network, 'local');
  assert.deepEqual(d.overlay.bootstrap, []);
  assert.equal(d.overlay.host, '127.0.0.1');
  assert.equal(d.sip.host, '127.0.0.1');
  assert.equal(d.privacy.mode, 'open');
  assert.deepEqual(
    bootstrapList(d.overlay, ['node1.hyperdht.org:49737']),
    [],
    'no public nodes unless asked',
  );
});

test('a missing file gives the defaults; a partial file fills in the rest', (t) => {
  const home = tempHome(t);
  assert.deepEqual(loadConfig(home), defaultConfig());
  writeFileSync(
    join(home, CONFIG_FILE),
    '{ "sip": { "port": 5070 }, "privacy": { "mode": "paranoid" } }',
  );
  const c = loadConfig(home);
  assert.equal(c.sip.port, 5070);
  assert.equal(c.sip.host, '127.0.0.1');
  assert.equal(c.privacy.mode, 'paranoid');
  assert.deepEqual(c.overlay, defaultConfig().overlay);
});

test('the public network only when written explicitly; an explicit list always wins', () => {
  const pub = ['node1.hyperdht.org:49737', 'node2.hyperdht.org:49737'];
  const c = parseConfig('{ "overlay": { "network": "public" } }');
  assert.deepEqual(bootstrapList(c.overlay, pub), pub);
  const mine = parseConfig(
    '{ "overlay": { "network": "public", "bootstrap": ["192.0.2.1:49737"] } }',
  );
  assert.deepEqual(bootstrapList(mine.overlay, pub), ['192.0.2.1:49737']);
  const local = parseConfig(
    '{ "overlay": { "bootstrap": ["127.0.0.1:49737", "[::1]:49738", "dht.lan:1"] } }',
  );
  assert.deepEqual(bootstrapList(local.overlay, pub), [
    '127.0.0.1:49737',
    '[::1]:49738',
    'dht.lan:1',
  ]);
});

test('invalid fields are named with the file', () => {
  const cases: Array<[string, string, string]> = [
    ['{ "sip": { "port": 70000 } }', ConfigErrorCode.Invalid, 'sip.port'],
    ['{ "sip": { "port": "5060" } }', ConfigErrorCode.Invalid, 'sip.port'],
    ['{ "sip": { "host": "localhost" } }', ConfigErrorCode.Invalid, 'sip.host'],
    ['{ "sip": { "transports": [] } }', ConfigErrorCode.Invalid, 'sip.transports'],
    ['{ "sip": { "transports": ["udp", "sctp"] } }', ConfigErrorCode.Invalid, 'sip.transports[1]'],
    ['{ "sip": { "transports": ["udp", "udp"] } }', ConfigErrorCode.Invalid, 'sip.transports'],
    ['{ "overlay": { "backend": "kademlia" } }', ConfigErrorCode.Invalid, 'overlay.backend'],
    ['{ "overlay": { "network": "PUBLIC" } }', ConfigErrorCode.Invalid, 'overlay.network'],
    [
      '{ "overlay": { "bootstrap": "127.0.0.1:49737" } }',
      ConfigErrorCode.Invalid,
      'overlay.bootstrap',
    ],
    [
      '{ "overlay": { "bootstrap": ["127.0.0.1:49737", "127.0.0.1"] } }',
      ConfigErrorCode.Invalid,
      'overlay.bootstrap[1]',
    ],
    [
      '{ "overlay": { "bootstrap": ["127.0.0.1:0"] } }',
      ConfigErrorCode.Invalid,
      'overlay.bootstrap[0]',
    ],
    [
      '{ "overlay": { "bootstrap": ["::1:49737"] } }',
      ConfigErrorCode.Invalid,
      'overlay.bootstrap[0]',
    ],
    ['{ "overlay": { "bootstrap": [49737] } }', ConfigErrorCode.Invalid, 'overlay.bootstrap[0]'],
    ['{ "privacy": { "mode": "secret" } }', ConfigErrorCode.Invalid, 'privacy.mode'],
    ['{ "privacy": null }', ConfigErrorCode.Invalid, 'privacy'],
    ['{ "privacy": { "mode": null } }', ConfigErrorCode.Invalid, 'privacy.mode'],
    ['{ "overlay": { "network": null } }', ConfigErrorCode.Invalid, 'overlay.network'],
    ['{ "version": 2 }', ConfigErrorCode.Invalid, 'version'],
    ['[]', ConfigErrorCode.Invalid, '(top level)'],
    [
      '{ "overlay": { "bootsrap": ["127.0.0.1:49737"] } }',
      ConfigErrorCode.UnknownKey,
      'overlay.bootsrap',
    ],
    ['{ "netwrok": "public" }', ConfigErrorCode.UnknownKey, 'netwrok'],
    ['{ "__proto__": { "x": 1 } }', ConfigErrorCode.UnknownKey, '__proto__'],
  ];
  for (const [text, code, field] of cases) {
    assert.throws(
      () => parseConfig(text, '/home/a/config.json'),
      configError(
        code,
        field,
        new RegExp(`^/home/a/config\\.json: ${field.replace(/[.[\]()]/g, '\\$&')}: `),
      ),
      text,
    );
  }
});

test('syntax errors say where; non-UTF-8 is refused', (t) => {
  assert.throws(
    () => parseConfig('{\n  "sip": {\n    "port": 5060,\n  }\n}', 'c.json'),
    configError(ConfigErrorCode.Syntax, undefined, /^c\.json: not valid JSON: .*line 4 column 3/),
  );
  const home = tempHome(t);
  writeFileSync(join(home, CONFIG_FILE), Buffer.from([0x7b, 0xff, 0x7d]));
  assert.throws(
    () => loadConfig(home),
    configError(ConfigErrorCode.Syntax, undefined, /not UTF-8/),
  );
  // A BOM from a Windows editor is tolerated.
  assert.equal(parseConfig('\ufeff{}').sip.port, 5060);
});

test('a config.json that is a directory is CONFIG_UNREADABLE', (t) => {
  const home = tempHome(t);
  mkdirSync(join(home, CONFIG_FILE));
  assert.throws(() => loadConfig(home), configError(ConfigErrorCode.Unreadable));
});

test('writeConfig: validates, writes atomically with mode 0600, round-trips, leaves no temp files', (t) => {
  const home = tempHome(t);
  const c = defaultConfig();
  c.overlay.bootstrap = ['127.0.0.1:49737'];
  c.privacy.mode = 'relaxed';
  writeConfig(home, c);
  assert.deepEqual(loadConfig(home), c);
  assert.equal(statSync(join(home, CONFIG_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(home), [CONFIG_FILE]);
  const before = readFileSync(join(home, CONFIG_FILE), 'utf8');
  const bad = { ...c, sip: { ...c.sip, port: -1 } };
  assert.throws(() => writeConfig(home, bad), configError(ConfigErrorCode.Invalid, 'sip.port'));
  assert.equal(
    readFileSync(join(home, CONFIG_FILE), 'utf8'),
    before,
    'a refused write changes nothing',
  );
});

test('validateConfig never throws anything but ConfigError on arbitrary JSON', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
      try {
        validateConfig(v);
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
      }
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      try {
        parseConfig(s);
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});
