/**
 * Issue 4, "must show": the bystander test. One DHT node of a private
 * loopback network logs every request it receives (keys, values, stored
 * records, announcers) while alice and bob — friends holding each other's
 * card — call and message each other through two epochs (src/demo/audit.ts).
 *
 * Paranoid: the log holds no AOR, no identity public key (raw, hex, base64,
 * base64url), no key or value of the data plane that recurs across the two
 * epochs, and every stored value has one size. Open: the open key ↔ AOR link
 * is there to see, as in the seed's trace.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAudit } from '../../src/demo/audit.js';
import { analyzeBystander, formatTrace, traceRows } from '../../src/overlay/bystander.js';
import { RECORD_SIZE } from '../../src/privacy/record.js';

test('paranoid mode: a logging DHT node sees no AOR, no identity key, nothing recurring across epochs, one value size', async (t) => {
  const run = await runAudit({ mode: 'paranoid' });
  const trace = formatTrace(traceRows(run.entries, run.users)).join('\n');
  const context = `${run.actions.join('\n')}\n${trace}`;
  // The scenario itself worked: every call answered, every message delivered, in both epochs.
  assert.equal(run.actions.length, 6, context);
  for (const a of run.actions) assert.match(a, / (200|202) /, context);
  const f = analyzeBystander(run.entries, run.users);
  assert.ok(
    f.dataRequests > 10,
    `the logging node saw the data plane (${f.dataRequests})\n${context}`,
  );
  assert.deepEqual(f.aorSightings, [], context);
  assert.deepEqual(f.keySightings, [], context);
  assert.deepEqual(f.labelledTargets, [], `no open key asked for\n${context}`);
  assert.deepEqual(f.recurring, [], context);
  assert.ok(f.storedSizes.length > 0, `records were stored\n${context}`);
  assert.deepEqual([...new Set(f.storedSizes)], [RECORD_SIZE], context);
  t.diagnostic(
    `paranoid: ${f.dataRequests} data-plane requests, ${f.storedSizes.length} records stored`,
  );
});

test('open mode: the open key ↔ AOR link is visible to the same bystander', async (t) => {
  const run = await runAudit({ mode: 'open' });
  const trace = formatTrace(traceRows(run.entries, run.users)).join('\n');
  const context = `${run.actions.join('\n')}\n${trace}`;
  for (const a of run.actions) assert.match(a, / (200|202) /, context);
  const f = analyzeBystander(run.entries, run.users);
  for (const aor of ['alice@example.org', 'bob@example.org']) {
    assert.ok(
      f.aorSightings.some((s) => s.aor === aor && s.command === 'MUTABLE_PUT'),
      `${aor} stored in clear\n${context}`,
    );
    assert.ok(
      f.labelledTargets.some((l) => l.label === `open key of ${aor}` && l.command === 'LOOKUP'),
      `${aor}'s open key looked up\n${context}`,
    );
    assert.ok(
      f.keySightings.some((s) => s.aor === aor),
      `${aor}'s identity key visible\n${context}`,
    );
  }
  assert.ok(f.recurring.length > 0, 'open keys recur across epochs');
  t.diagnostic(trace.split('\n').slice(0, 12).join('\n'));
});
