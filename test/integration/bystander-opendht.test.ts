/**
 * Issue 6 (with issue 4's bystander test): the bystander audit over a real
 * OpenDHT network. Three dhtnodes on loopback; alice's and bob's nodes use
 * overlay.backend 'opendht', each through its own logging HTTP taps in front
 * of the proxies (src/demo/http-tap.ts, src/demo/audit.ts), and share no
 * HyperDHT network. The taps see every request our nodes make to OpenDHT.
 *
 * Paranoid: no AOR, no identity public key (raw, hex, base64, base64url —
 * also inside the whole base64-decoded wrapper of every put), no key or
 * value recurring across the two epochs, and every stored value one size:
 * RECORD_SIZE (1,000) bytes of record, SECRET_OVERHEAD + RECORD_SIZE
 * (1,073) bytes on the wire. Open: the AOR is in clear, stored under the
 * OpenDHT key of openKey(aor) (dhtKeyOf(OpenDhtTag.lookupKey, …), as
 * src/overlay/opendht.ts computes it), and that key is asked for.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { toHex } from '../../src/crypto/bytes.js';
import { runAudit } from '../../src/demo/audit.js';
import { openKey } from '../../src/identity/open-key.js';
import type { PrivacyMode } from '../../src/node/modes.js';
import { analyzeBystander, formatTrace, traceRows } from '../../src/overlay/bystander.js';
import { dhtKeyOf, OpenDhtTag, SECRET_OVERHEAD } from '../../src/overlay/opendht-wire.js';
import type { DhtRequestLogEntry } from '../../src/overlay/testnet.js';
import { RECORD_SIZE } from '../../src/privacy/record.js';
import { startOpenDht } from '../helpers/opendht.js';

const AORS = ['alice@example.org', 'bob@example.org'] as const;

/** The OpenDHT key a node puts and gets its open record under. */
function openDhtKey(aor: string): string {
  return dhtKeyOf(OpenDhtTag.lookupKey, openKey(aor));
}

/** The whole base64-decoded `data` of a put (the wrapper as the DHT stores it). */
function wireData(e: DhtRequestLogEntry): Buffer {
  const body = JSON.parse(Buffer.from(e.value ?? new Uint8Array()).toString('utf8')) as {
    data: string;
  };
  return Buffer.from(body.data, 'base64');
}

/** The audit in `mode` on a fresh 3-dhtnode network (stopped after the test); the trace for messages. */
async function auditOver(t: TestContext, mode: PrivacyMode) {
  const net = await startOpenDht({ nodes: 3 });
  t.after(() => net.stop());
  const run = await runAudit({ mode, backend: 'opendht', opendht: { proxyUrls: net.proxyUrls } });
  const trace = formatTrace(traceRows(run.entries, run.users)).join('\n');
  const context = `${run.actions.join('\n')}\n${trace}`;
  // The scenario worked: every call answered, every message delivered, in both epochs.
  assert.equal(run.actions.length, 6, context);
  for (const a of run.actions) assert.match(a, / (200|202) /, context);
  return { run, trace, context, findings: analyzeBystander(run.entries, run.users) };
}

test('paranoid over OpenDHT: the proxies see no AOR, no identity key, nothing recurring across epochs, one value size', async (t) => {
  const { run, context, findings: f } = await auditOver(t, 'paranoid');
  assert.equal(run.backend, 'opendht');
  const puts = run.entries.filter((p) => p.entry.command === 'MUTABLE_PUT');
  const gets = run.entries.filter((p) => p.entry.command === 'MUTABLE_GET');
  assert.ok(
    puts.length > 4 && gets.length > 2,
    `the taps saw the data plane (${puts.length} puts, ${gets.length} gets)\n${context}`,
  );
  assert.ok(
    puts.some((p) => p.phase === 1) && puts.some((p) => p.phase === 2),
    `records put in both epochs\n${context}`,
  );
  assert.deepEqual(f.aorSightings, [], context);
  assert.deepEqual(f.keySightings, [], context);
  assert.deepEqual(f.labelledTargets, [], `no open key put or asked for\n${context}`);
  assert.deepEqual(f.recurring, [], context);
  // Independently of the audit's labels: no request names an open key's OpenDHT key.
  const openKeys = new Set(AORS.map(openDhtKey));
  for (const { entry } of run.entries)
    assert.ok(!entry.target || !openKeys.has(toHex(entry.target)), context);
  // One size: the record, and the whole wrapper the DHT stores.
  assert.equal(f.storedSizes.length, puts.length, 'every put is one of our records');
  assert.deepEqual([...new Set(f.storedSizes)], [RECORD_SIZE], context);
  const wire = puts.map((p) => wireData(p.entry));
  assert.deepEqual([...new Set(wire.map((w) => w.length))], [SECRET_OVERHEAD + RECORD_SIZE]);
  // Nothing of an identity inside the wrapper bytes either.
  for (const w of wire)
    for (const u of run.users) {
      assert.ok(!w.includes(Buffer.from(u.publicKey)), `${u.aor}'s key in a wrapper`);
      assert.ok(!w.includes(Buffer.from(u.aor)), `${u.aor} in a wrapper`);
    }
  t.diagnostic(
    `paranoid over OpenDHT: ${puts.length} puts (each ${RECORD_SIZE} B record, ${SECRET_OVERHEAD + RECORD_SIZE} B on the wire), ${gets.length} gets`,
  );
});

test('open over OpenDHT: the AOR is stored in clear under the open key, and that key is asked for', async (t) => {
  const { run, trace, context, findings: f } = await auditOver(t, 'open');
  for (const [i, aor] of AORS.entries()) {
    const key = openDhtKey(aor);
    const other = AORS[1 - i]!;
    const at = run.entries.filter((p) => p.entry.target && toHex(p.entry.target) === key);
    // The link: a put under the open key whose record names the AOR in clear.
    assert.ok(
      at.some(
        (p) =>
          p.entry.command === 'MUTABLE_PUT' &&
          Buffer.from(p.entry.stored?.value ?? new Uint8Array()).includes(aor),
      ),
      `${aor} stored in clear under ${key}\n${context}`,
    );
    assert.ok(
      at.some((p) => p.entry.command === 'MUTABLE_GET'),
      `${aor}'s open key asked for (by ${other}'s node)\n${context}`,
    );
    assert.ok(
      f.aorSightings.some((s) => s.aor === aor && s.command === 'MUTABLE_PUT'),
      `${aor} in clear\n${context}`,
    );
    assert.ok(
      f.labelledTargets.some(
        (l) => l.label === `open key of ${aor}` && l.command === 'MUTABLE_GET',
      ),
      context,
    );
    assert.ok(
      f.keySightings.some((s) => s.aor === aor),
      `${aor}'s identity key visible\n${context}`,
    );
  }
  assert.ok(
    f.recurring.some((r) => AORS.some((aor) => r.what === `target ${openDhtKey(aor)}`)),
    `open keys recur across epochs\n${context}`,
  );
  t.diagnostic(trace.split('\n').slice(0, 12).join('\n'));
});

test('p2psip audit --backend opendht: JSON findings through the CLI; without --proxy a usage error naming dhtnode', async (t) => {
  const usage = async (args: string[]) => {
    const err: string[] = [];
    const code = await main(['audit', ...args], { stdout: () => {}, stderr: (l) => err.push(l) });
    return { code, err: err.join('\n') };
  };
  const noProxy = await usage(['--backend', 'opendht']);
  assert.equal(noProxy.code, 2);
  assert.match(noProxy.err, /^p2psip audit: --backend opendht needs --proxy URL: .*dhtnode/);
  assert.equal((await usage(['--backend', 'kademlia'])).code, 2);
  assert.equal((await usage(['--proxy', 'http://127.0.0.1:1'])).code, 2, '--proxy without opendht');
  assert.match(
    (await usage(['--backend', 'opendht', '--proxy', 'ftp://127.0.0.1:1'])).err,
    /--proxy: an http:\/\//,
  );
  const net = await startOpenDht({ nodes: 3 });
  t.after(() => net.stop());
  const out: string[] = [];
  const args = ['audit', '--backend', 'opendht', '--mode', 'paranoid', '--json'];
  for (const u of net.proxyUrls) args.push('--proxy', u);
  const code = await main(args, { stdout: (l) => out.push(l), stderr: (l) => out.push(l) });
  assert.equal(code, 0, out.join('\n'));
  const report = JSON.parse(out.join('')) as {
    mode: string;
    backend: string;
    findings: { aorSightings: unknown[]; storedSizes: number[] };
    trace: { command: string; source: string }[];
  };
  assert.equal(report.mode, 'paranoid');
  assert.equal(report.backend, 'opendht');
  assert.deepEqual(report.findings.aorSightings, []);
  assert.deepEqual([...new Set(report.findings.storedSizes)], [RECORD_SIZE]);
  assert.ok(report.trace.some((r) => r.command === 'MUTABLE_PUT' && r.source === "alice's node"));
  assert.ok(report.trace.some((r) => r.command === 'MUTABLE_GET' && r.source === "bob's node"));
});
