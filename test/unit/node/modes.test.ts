/**
 * The privacy-mode rules (src/node/modes.ts) against the table of
 * docs/privacy.md "Privacy modes", cell by cell, and the plain-words
 * explanations a softphone gets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  explainOpenMiss,
  explainRefused,
  explainSecretMiss,
  isPrivacyMode,
  type LookupPlan,
  lookupPlan,
  PRIVACY_MODES,
  type PrivacyMode,
  publishesOpen,
} from '../../../src/node/modes.js';

/** docs/privacy.md: [mode, pair state exists] → lookup. */
const TABLE: [PrivacyMode, boolean, LookupPlan][] = [
  ['open', true, 'open'],
  ['open', false, 'open'],
  ['relaxed', true, 'secret'],
  ['relaxed', false, 'open'],
  ['paranoid', true, 'secret'],
  ['paranoid', false, 'refuse'],
];

test('lookupPlan gives the lookup of docs/privacy.md for every (mode, pair state) cell', () => {
  assert.deepEqual([...PRIVACY_MODES].sort(), ['open', 'paranoid', 'relaxed']);
  assert.equal(TABLE.length, PRIVACY_MODES.length * 2, 'every cell listed once');
  for (const [mode, hasSecret, plan] of TABLE) {
    assert.equal(lookupPlan(mode, hasSecret), plan, `${mode}, hasSecret=${hasSecret}`);
  }
});

test('publishesOpen: open and relaxed keep the open record, paranoid withdraws it', () => {
  assert.equal(publishesOpen('open'), true);
  assert.equal(publishesOpen('relaxed'), true);
  assert.equal(publishesOpen('paranoid'), false);
});

test('isPrivacyMode accepts exactly the three words', () => {
  for (const m of PRIVACY_MODES) assert.equal(isPrivacyMode(m), true);
  for (const v of ['', 'Open', 'PARANOID', 'default', 'closed', ' open', null, undefined, 1, {}])
    assert.equal(isPrivacyMode(v), false, String(v));
});

test('explainRefused names the callee and the ways out', () => {
  const e = explainRefused('carol@example.org');
  assert.equal(e.status, 404);
  assert.match(e.reason, /paranoid mode calls contacts only; carol@example\.org is not one/);
  assert.match(e.warning, /never looks up open keys/);
  assert.match(e.warning, /add carol@example\.org's contact card/);
});

test('explainOpenMiss: an open-mode caller with a secret is told to switch mode; others that paranoid callees need a contact', () => {
  const withSecret = explainOpenMiss('bob@example.org', 'open', true);
  assert.equal(withSecret.status, 404);
  assert.match(withSecret.reason, /bob@example\.org has no open registration/);
  assert.match(withSecret.warning, /you share a secret with bob@example\.org/);
  for (const [mode, hasSecret] of [
    ['open', false],
    ['relaxed', false],
  ] as const) {
    const e = explainOpenMiss('bob@example.org', mode, hasSecret);
    assert.doesNotMatch(e.warning, /you share a secret/);
    assert.match(e.warning, /a paranoid user can only be called by a contact/);
  }
});

test('explainSecretMiss keeps the status, folds the reason and keeps an earlier warning', () => {
  const relaxed = explainSecretMiss('bob@example.org', 'relaxed', {
    status: 480,
    reason: 'Temporarily Unavailable (no record)',
  });
  assert.equal(relaxed.status, 480);
  assert.equal(
    relaxed.reason,
    'Temporarily Unavailable (no record; relaxed mode, no open-key fallback)',
  );
  assert.match(relaxed.warning, /^bob@example\.org published no record for our shared secret/);
  assert.match(relaxed.warning, /relaxed mode does not fall back to the open key/);

  const paranoid = explainSecretMiss('bob@example.org', 'paranoid', {
    status: 404,
    reason: 'Not Found (no valid registration for bob@example.org)',
    warning: 'the package signature did not verify',
  });
  assert.equal(paranoid.status, 404);
  assert.equal(
    paranoid.reason,
    'Not Found (no valid registration for bob@example.org; paranoid mode, no open-key fallback)',
  );
  assert.match(paranoid.warning, /^the package signature did not verify; bob@example\.org/);
  assert.match(paranoid.warning, /paranoid mode uses secret keys only/);
});
