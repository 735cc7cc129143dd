/**
 * ModeResolver (src/node/mode-resolver.ts) with fake open and secret
 * resolvers that count their calls: which lookup each (mode, pair state)
 * cell makes, that relaxed never falls back to the open key, and which
 * failures get a privacy explanation and which pass through unchanged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ModeResolver, type ResolutionReport } from '../../../src/node/mode-resolver.js';
import {
  explainOpenMiss,
  explainRefused,
  type LookupPlan,
  lookupPlan,
  PRIVACY_MODES,
  type PrivacyMode,
} from '../../../src/node/modes.js';
import type { Resolution, Resolver } from '../../../src/proxy/ports.js';

const BOB = 'bob@example.org';
const BOB_KEY = 'b'.repeat(64);
const FOUND: Resolution = { ok: true, peerKey: BOB_KEY, aor: BOB };

class FakeResolver implements Resolver {
  readonly calls: string[] = [];
  constructor(public answer: Resolution) {}
  async resolve(aor: string): Promise<Resolution> {
    this.calls.push(aor);
    return this.answer;
  }
}

function harness(opts: {
  mode: PrivacyMode;
  hasSecret: boolean;
  open?: Resolution;
  secret?: Resolution;
  routeKey?: string;
}) {
  const open = new FakeResolver(opts.open ?? FOUND);
  const secret = new FakeResolver(opts.secret ?? FOUND);
  const reports: ResolutionReport[] = [];
  const logs: string[] = [];
  const asked: string[] = [];
  const resolver = new ModeResolver({
    open,
    secret,
    modeFor: (aor) => {
      asked.push(aor);
      return opts.mode;
    },
    hasSecret: () => opts.hasSecret,
    ...(opts.routeKey ? { secretRouteKey: () => opts.routeKey! } : {}),
    onResolved: (r) => reports.push(r),
    log: (_level, msg) => logs.push(msg),
  });
  return { resolver, open, secret, reports, logs, asked };
}

/** Every (mode, pair state) cell with the lookup modes.ts gives it (that table: modes.test.ts). */
const CELLS: [PrivacyMode, boolean, LookupPlan][] = PRIVACY_MODES.flatMap((mode) =>
  [true, false].map((hasSecret): [PrivacyMode, boolean, LookupPlan] => [
    mode,
    hasSecret,
    lookupPlan(mode, hasSecret),
  ]),
);

test('each (mode, pair state) cell asks exactly the resolver its plan names, once', async () => {
  assert.deepEqual(CELLS.map(([, , plan]) => plan).sort(), [
    'open',
    'open',
    'open',
    'refuse',
    'secret',
    'secret',
  ]);
  for (const [mode, hasSecret, plan] of CELLS) {
    const h = harness({ mode, hasSecret });
    const r = await h.resolver.resolve(BOB);
    const label = `${mode}, hasSecret=${hasSecret}`;
    assert.equal(h.open.calls.length, plan === 'open' ? 1 : 0, label);
    assert.equal(h.secret.calls.length, plan === 'secret' ? 1 : 0, label);
    assert.equal(h.reports.length, 1, label);
    assert.equal(h.reports[0]!.plan, plan, label);
    assert.equal(h.reports[0]!.mode, mode, label);
    if (plan === 'refuse') {
      const e = explainRefused(BOB);
      assert.deepEqual(r, { ok: false, status: e.status, reason: e.reason, warning: e.warning });
      assert.equal(h.reports[0]!.ok, false);
    } else {
      assert.deepEqual(r, FOUND, label);
      assert.equal(h.reports[0]!.ok, true);
    }
  }
});

test('relaxed with a secret NEVER calls the open resolver, whatever the secret lookup answers', async () => {
  const failures: Resolution[] = [
    {
      ok: false,
      status: 480,
      reason: 'Temporarily Unavailable (no record)',
      code: 'RECORD_NOT_FOUND',
    } as Resolution,
    {
      ok: false,
      status: 404,
      reason: 'Not Found (unreadable)',
      code: 'RECORD_UNREADABLE',
    } as Resolution,
    {
      ok: false,
      status: 404,
      reason: 'Not Found (bad package)',
      warning: 'signature',
      code: 'PACKAGE_INVALID',
    } as Resolution,
    {
      ok: false,
      status: 480,
      reason: 'Temporarily Unavailable (down)',
      code: 'LOOKUP_FAILED',
    } as Resolution,
    {
      ok: false,
      status: 480,
      reason: 'Temporarily Unavailable (offline)',
      code: 'NO_SOFTPHONE',
    } as Resolution,
    { ok: false, status: 500, reason: 'Server Internal Error (no code)' },
  ];
  for (const secret of failures) {
    const h = harness({ mode: 'relaxed', hasSecret: true, secret });
    const r = await h.resolver.resolve(BOB);
    assert.equal(r.ok, false);
    assert.equal(h.secret.calls.length, 1, secret.ok ? '' : secret.reason);
    assert.equal(
      h.open.calls.length,
      0,
      `open resolver called after "${secret.ok ? '' : secret.reason}"`,
    );
  }
});

test('property: a resolve never asks both resolvers, and asks the open one only when the plan is open', async () => {
  const answer = fc.oneof(
    fc.constant(FOUND),
    fc.record({
      ok: fc.constant(false as const),
      status: fc.constantFrom(404, 480, 500),
      reason: fc.constantFrom('Not Found (x)', 'Temporarily Unavailable (y)'),
      code: fc.constantFrom('RECORD_NOT_FOUND', 'LOOKUP_FAILED', 'NO_SOFTPHONE', 'PACKAGE_INVALID'),
    }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...PRIVACY_MODES),
      fc.boolean(),
      answer,
      answer,
      async (mode, hasSecret, open, secret) => {
        const h = harness({
          mode,
          hasSecret,
          open: open as Resolution,
          secret: secret as Resolution,
        });
        await h.resolver.resolve(BOB);
        const plan = CELLS.find(([m, s]) => m === mode && s === hasSecret)![2];
        assert.equal(h.open.calls.length, plan === 'open' ? 1 : 0);
        assert.equal(h.secret.calls.length, plan === 'secret' ? 1 : 0);
      },
    ),
    { numRuns: 200 },
  );
});

test('an open 404 without a warning gets the open-miss explanation (reason and warning)', async () => {
  for (const [mode, hasSecret] of [
    ['open', true],
    ['open', false],
    ['relaxed', false],
  ] as const) {
    const h = harness({ mode, hasSecret, open: { ok: false, status: 404, reason: 'Not Found' } });
    const r = await h.resolver.resolve(BOB);
    const e = explainOpenMiss(BOB, mode, hasSecret);
    assert.deepEqual(r, { ok: false, status: 404, reason: e.reason, warning: e.warning });
    assert.match(r.ok ? '' : r.reason, /no open registration: unknown, or in paranoid mode/);
    assert.deepEqual(
      { ok: h.reports[0]!.ok, status: h.reports[0]!.status, reason: h.reports[0]!.reason },
      { ok: false, status: 404, reason: e.reason },
    );
  }
});

test('an open 404 that already has a warning (e.g. invalid packages) keeps its own; other open failures pass unchanged', async () => {
  const invalid: Resolution = {
    ok: false,
    status: 404,
    reason: 'Not Found (no valid package)',
    warning: 'every package found failed verification',
  };
  const h = harness({ mode: 'open', hasSecret: false, open: invalid });
  assert.deepEqual(await h.resolver.resolve(BOB), invalid);

  const down: Resolution = { ok: false, status: 480, reason: 'Temporarily Unavailable (offline)' };
  const h2 = harness({ mode: 'relaxed', hasSecret: false, open: down });
  assert.deepEqual(await h2.resolver.resolve(BOB), down);
});

test('secret NO_SOFTPHONE and LOOKUP_FAILED pass through unchanged', async () => {
  for (const mode of ['relaxed', 'paranoid'] as const) {
    for (const code of ['NO_SOFTPHONE', 'LOOKUP_FAILED']) {
      const secret = {
        ok: false,
        status: 480,
        reason: `Temporarily Unavailable (${code})`,
        warning: 'as it is',
        code,
      } as Resolution;
      const h = harness({ mode, hasSecret: true, secret });
      const r = await h.resolver.resolve(BOB);
      assert.deepEqual(r, secret, `${mode} ${code}`);
      assert.doesNotMatch(r.ok ? '' : r.reason, /no open-key fallback/);
    }
  }
});

test('other secret failures say "no open-key fallback" in plain words, keeping status and any warning', async () => {
  const cases = [
    { code: 'RECORD_NOT_FOUND', status: 480, reason: 'Temporarily Unavailable (no record)' },
    { code: 'RECORD_UNREADABLE', status: 404, reason: 'Not Found (unreadable)' },
    { code: 'PACKAGE_INVALID', status: 404, reason: 'Not Found (bad)', warning: 'bad signature' },
    { code: undefined, status: 500, reason: 'Server Internal Error (thrown)' },
  ];
  for (const mode of ['relaxed', 'paranoid'] as const) {
    for (const c of cases) {
      const secret = { ok: false, ...c } as Resolution;
      const h = harness({ mode, hasSecret: true, secret });
      const r = await h.resolver.resolve(BOB);
      assert.equal(r.ok, false);
      if (r.ok) continue;
      assert.equal(r.status, c.status);
      assert.match(r.reason, new RegExp(`; ${mode} mode, no open-key fallback\\)$`));
      assert.ok(r.reason.startsWith(c.reason.slice(0, -1)), r.reason);
      assert.match(r.warning ?? '', /published no record for our shared secret/);
      if (c.warning) assert.ok(r.warning!.startsWith(`${c.warning}; `), r.warning);
      assert.equal('code' in r, false, 'the explanation is a plain Resolution');
      assert.deepEqual(
        { plan: h.reports[0]!.plan, ok: h.reports[0]!.ok, reason: h.reports[0]!.reason },
        { plan: 'secret', ok: false, reason: r.reason },
      );
      assert.equal(h.open.calls.length, 0);
    }
  }
});

test('a secret success Record-Routes with the epoch key; an open success does not', async () => {
  const h = harness({ mode: 'paranoid', hasSecret: true, routeKey: 'e'.repeat(64) });
  assert.deepEqual(await h.resolver.resolve(BOB), { ...FOUND, localKey: 'e'.repeat(64) });
  const h2 = harness({ mode: 'open', hasSecret: true, routeKey: 'e'.repeat(64) });
  assert.deepEqual(await h2.resolver.resolve(BOB), FOUND);
});

test('the AOR is normalised before the mode is asked; a bad address goes to the open resolver to explain', async () => {
  const h = harness({ mode: 'relaxed', hasSecret: true });
  await h.resolver.resolve('sip:bob@EXAMPLE.org');
  assert.deepEqual(h.asked, [BOB]);
  assert.deepEqual(h.secret.calls, [BOB]);
  assert.equal(h.reports[0]!.aor, BOB);

  const bad: Resolution = { ok: false, status: 404, reason: 'Not Found (bad address)' };
  const h2 = harness({ mode: 'paranoid', hasSecret: false, open: bad });
  assert.deepEqual(await h2.resolver.resolve('not an address'), bad);
  assert.deepEqual(h2.open.calls, ['not an address']);
  assert.equal(h2.reports.length, 0);
});

test('onResolved reports every resolution; the log says found or unreachable and why', async () => {
  const h = harness({ mode: 'paranoid', hasSecret: false });
  await h.resolver.resolve(BOB);
  const e = explainRefused(BOB);
  assert.deepEqual(h.reports, [
    { aor: BOB, mode: 'paranoid', plan: 'refuse', ok: false, status: 404, reason: e.reason },
  ]);
  assert.equal(h.logs.length, 1);
  assert.match(h.logs[0]!, /unreachable \(paranoid mode, refuse lookup\)/);

  const ok = harness({ mode: 'relaxed', hasSecret: true });
  await ok.resolver.resolve(BOB);
  assert.deepEqual(ok.reports, [{ aor: BOB, mode: 'relaxed', plan: 'secret', ok: true }]);
  assert.match(ok.logs[0]!, /found by secret lookup \(relaxed mode\)/);
});
