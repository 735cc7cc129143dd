/**
 * Issue 4, "must show": the 3×3 caller-mode × callee-mode matrix, with and
 * without a shared secret, end to end with sipp at both ends and real
 * `p2psip start` processes on a private loopback testnet.
 *
 *   alice's sipp (uac-matrix.xml) → node A ─ lookup (open or secret), tunnel → node B → bob's sipp
 *
 * Two pairs of nodes: one whose users exchanged contact cards before
 * starting (a pair secret exists from the identity keys, no message needed),
 * one that never did and does not learn contacts from calls
 * (`privacy.learnContacts: false`, so the cells stay without a secret).
 * Modes are switched at run time from the softphone side, the way a user
 * would switch a presence status: a MESSAGE to sip:privacy@p2psip.invalid.
 *
 * Each cell is reachable or unreachable exactly as docs/protocol.md "Privacy
 * modes" implies; a reachable cell also shows WHICH lookup found the callee
 * (node A's log), and an unreachable one carries the reason phrase and
 * Warning that say why.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { loadConfig, writeConfig } from '../../src/config/config.js';
import type { PrivacyMode } from '../../src/node/modes.js';
import { UserAgent } from '../../src/ua/user-agent.js';
import {
  createTempHome,
  initNode,
  type NodeProcess,
  nodeLogs,
  removeHome,
  startNode,
} from '../helpers/node-process.js';
import { startOpenDht } from '../helpers/opendht.js';
import {
  describeSipp,
  headerValues,
  readSippLog,
  runSipp,
  type SippProcess,
  sippFixture,
  sippKeys,
  sippLogPath,
  startSipp,
  traceArgs,
} from '../helpers/sipp.js';
import { useTestnet } from '../helpers/testnet.js';

const e2e = (name: string) => sippFixture(`e2e/${name}`);
const MODES: PrivacyMode[] = ['open', 'relaxed', 'paranoid'];
const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';

type Expect =
  | { reachable: true; via: 'open' | 'secret' }
  | { reachable: false; status: number; reason: RegExp; warning: RegExp };

/** The seed's table, cell by cell (caller mode → callee mode). */
function expected(caller: PrivacyMode, callee: PrivacyMode, secret: boolean): Expect {
  const openMiss: Expect = {
    reachable: false,
    status: 404,
    reason: /no open registration: unknown, or in paranoid mode/,
    warning: /paranoid mode, which publishes only for contacts/,
  };
  if (caller === 'open') return callee === 'paranoid' ? openMiss : { reachable: true, via: 'open' };
  if (secret) return { reachable: true, via: 'secret' };
  if (caller === 'relaxed')
    return callee === 'paranoid' ? openMiss : { reachable: true, via: 'open' };
  return {
    reachable: false,
    status: 404,
    reason: /paranoid mode calls contacts only/,
    warning: /never looks up open keys/,
  };
}

/** Card exchange in-process through the CLI's own entry point. */
async function cli(argv: string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  assert.equal(code, 0, `p2psip ${argv.join(' ')}: ${err.join('\n')}`);
  return out.join('\n');
}

async function exchangeCards(homeA: string, homeB: string): Promise<void> {
  const card = async (home: string) =>
    (
      JSON.parse(await cli(['contacts', 'export', '--home', home, '--json', '--no-qr'])) as {
        card: string;
      }
    ).card;
  const [a, b] = [await card(homeA), await card(homeB)];
  await cli(['contacts', 'add', '--home', homeA, b]);
  await cli(['contacts', 'add', '--home', homeB, a]);
}

/** What a softphone does to switch its node's mode; resolves once the node applied it. */
async function setMode(node: NodeProcess, aor: string, mode: PrivacyMode): Promise<void> {
  const ua = await UserAgent.open({ aor, node: node.ready.sip });
  try {
    const out = await ua.message('privacy@p2psip.invalid', mode);
    assert.equal(out.final?.status, 200, `mode ${mode}: ${out.final?.status} ${out.final?.reason}`);
    assert.equal(out.final?.reason, `OK (privacy mode ${mode})`);
  } finally {
    await ua.close();
  }
}

for (const [backend, secret] of [
  ['hyperdht', true],
  ['hyperdht', false],
  ['opendht', true],
  ['opendht', false],
] as const)
  test(`privacy-mode matrix over ${backend} ${secret ? 'WITH' : 'WITHOUT'} a shared secret: 9 cells, sipp → node → ${backend} → node → sipp`, async (tc: TestContext) => {
    // Over OpenDHT the nodes share no HyperDHT network at all (bootstrap []):
    // lookups go through two different dhtnode proxies of one OpenDHT
    // network, connections use the DHT address in the package.
    const testnet = backend === 'hyperdht' ? await useTestnet({}, tc) : undefined;
    const opendht = backend === 'opendht' ? await startOpenDht({ nodes: 3 }) : undefined;
    if (opendht) tc.after(() => opendht.stop());
    const bootstrap = testnet ? testnet.bootstrap : [];
    const homes = [await createTempHome(), await createTempHome()] as const;
    let a: NodeProcess | undefined;
    let b: NodeProcess | undefined;
    let bob: SippProcess | undefined;
    try {
      await initNode(homes[0], ALICE);
      await initNode(homes[1], BOB);
      if (secret) await exchangeCards(homes[0], homes[1]);
      for (const [i, home] of homes.entries()) {
        const config = loadConfig(home);
        if (!secret) config.privacy.learnContacts = false;
        if (opendht) {
          config.overlay.backend = 'opendht';
          config.overlay.opendht.proxies = [opendht.proxyUrls[i]!];
        }
        writeConfig(home, config);
      }
      a = await startNode({ home: homes[0], bootstrap, extraArgs: ['--verbose'] });
      b = await startNode({ home: homes[1], bootstrap, extraArgs: ['--verbose'] });
      const logs = () => nodeLogs(a, b);
      bob = await startSipp({
        scenario: e2e('uas-bob.xml'),
        transport: 'u1',
        target: `127.0.0.1:${b.ready.sip.port}`,
        calls: 1,
        timeoutSec: 240,
        args: [
          '-oocsf',
          e2e('uas-ooc.xml'),
          '-nd',
          '-d',
          '200000',
          ...sippKeys({ user: 'bob', domain: 'example.org', expires: '300' }),
        ],
      });
      await b.waitForLog(/published registration package seq=\d+ \(/, 15_000);

      const results: string[] = [];
      for (const caller of MODES) {
        for (const callee of MODES) {
          await setMode(a, ALICE, caller);
          await setMode(b, BOB, callee);
          const want = expected(caller, callee, secret);
          const mark = a.logs.length;
          const trace = sippLogPath('alice');
          const run = await runSipp({
            scenario: e2e('uac-matrix.xml'),
            transport: 'u1',
            target: `127.0.0.1:${a.ready.sip.port}`,
            calls: 1,
            timeoutSec: 30,
            args: [
              '-nd',
              ...sippKeys({ user: 'alice', domain: 'example.org', expires: '300', callee: BOB }),
              ...traceArgs(trace),
            ],
          });
          const cell = `${caller} → ${callee} (${secret ? 'secret' : 'no secret'})`;
          assert.equal(run.code, 0, `${cell}: ${describeSipp(run)}\n${logs()}`);
          const finals = (await readSippLog(trace)).filter(
            (m) =>
              m.direction === 'received' &&
              /^[2-6]\d\d$/.test(m.kind) &&
              / INVITE\r?$/m.test(m.text),
          );
          const final = finals.at(-1);
          assert.ok(final, `${cell}: no final response to the INVITE\n${logs()}`);
          const status = Number(final.kind);
          const reason = final.text.split(/\r?\n/, 1)[0]!.replace(/^SIP\/2\.0 \d{3} /, '');
          if (want.reachable) {
            assert.equal(
              status,
              200,
              `${cell}: expected an answered call, got ${status} ${reason}\n${logs()}`,
            );
            const found = await a.waitForLog(
              new RegExp(`${BOB} found by (\\w+) lookup`),
              5_000,
              mark,
            );
            assert.match(found, new RegExp(`found by ${want.via} lookup`), `${cell}\n${logs()}`);
          } else {
            assert.equal(status, want.status, `${cell}: got ${status} ${reason}\n${logs()}`);
            assert.match(reason, want.reason, `${cell}: reason phrase`);
            const warning = headerValues(final.text, 'Warning').join(' ');
            assert.match(warning, /^399 p2psip "/, `${cell}: Warning header`);
            assert.match(warning, want.warning, `${cell}: Warning text`);
            // The log says it too.
            await a.waitForLog(new RegExp(`${BOB} unreachable \\(${caller} mode`), 5_000, mark);
          }
          results.push(`${cell}: ${status} ${reason}`);
        }
      }
      tc.diagnostic(results.join('\n'));
    } finally {
      await bob?.stop();
      await a?.stop();
      await b?.stop();
      for (const home of homes) await removeHome(home);
    }
  });
