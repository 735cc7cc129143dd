/**
 * Issue 3 end to end with sipp at both ends and real `p2psip start` processes
 * on a private loopback testnet, over UDP and over TCP:
 *
 *   bob's sipp (uas-bob.xml + uas-ooc.xml) ─REGISTER→ node B ─package→ HyperDHT
 *   alice's sipp (uac-call.xml) ─INVITE bob@example.org→ node A ─lookup, tunnel→ node B → bob
 *     INVITE / 100 / 180 / 200 / ACK, a MESSAGE in the call, BYE; ACK and BYE along Record-Route
 *   alice's sipp (uac-message.xml) ─MESSAGE bob@example.org→ … → bob (pager mode, own Call-IDs)
 *
 * What the in-process two-nodes test cannot show, shown here: real clients,
 * real node processes (fresh ones: the first tunnel of a fresh node is what
 * used to time out, docs/protocol-tunnel.md "Connect latency"), both
 * transports, the route set as sipp computes it. Each test makes its own
 * testnet and nodes. The TCP test places the call three times in a row and
 * checks that every ACK reached bob before the MESSAGE of its call: an ACK
 * was once seen lost over TCP (2 of 15 runs, not reproduced since).
 * Node logs (--verbose) are in every assertion message.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { type TestContext, test } from 'node:test';
import { type NodeProcess, nodeLogs, startNodes } from '../helpers/node-process.js';
import { startOpenDht } from '../helpers/opendht.js';
import {
  describeSipp,
  headerValues,
  type LoggedMessage,
  loggedKinds,
  readSippLog,
  requestUriOf,
  runSipp,
  type SippProcess,
  type SippTransport,
  sippFixture,
  sippKeys,
  sippLogPath,
  startSipp,
  traceArgs,
} from '../helpers/sipp.js';
import { useTestnet } from '../helpers/testnet.js';

const e2e = (name: string) => sippFixture(`e2e/${name}`);
const ALICE = { user: 'alice', domain: 'example.org', expires: '60' };
const BOB = { user: 'bob', domain: 'example.org', expires: '60' };

const tunnelUri = (key: string) => `<sip:${key}@p2p.invalid;lr>`;
const localUri = (node: NodeProcess, t: 'udp' | 'tcp') =>
  `<sip:127.0.0.1:${node.ready.sip.port};transport=${t};lr>`;
const byKind = (log: LoggedMessage[], direction: 'sent' | 'received', kind: string) =>
  log.filter((m) => m.direction === direction && m.kind === kind);

for (const [transport, calls, backend] of [
  ['u1', 1, 'hyperdht'],
  ['t1', 3, 'hyperdht'],
  ['u1', 2, 'opendht'],
] as [SippTransport, number, 'hyperdht' | 'opendht'][]) {
  const t: 'udp' | 'tcp' = transport === 'u1' ? 'udp' : 'tcp';
  test(`sipp → node A → ${backend === 'hyperdht' ? 'HyperDHT' : 'OpenDHT'} → node B → sipp over ${t.toUpperCase()}: ${calls} call(s) along Record-Route, MESSAGE in and out of the call`, async (tc: TestContext) => {
    // Over OpenDHT each node looks up through its own dhtnode proxy and has
    // a HyperDHT node of its own (no network in common): tunnels connect by
    // the DHT address in the package.
    const testnet = backend === 'hyperdht' ? await useTestnet({}, tc) : undefined;
    const opendht = backend === 'opendht' ? await startOpenDht({ nodes: 3 }) : undefined;
    if (opendht) tc.after(() => opendht.stop());
    const bobLog = sippLogPath('bob');
    const aliceLog = sippLogPath('alice');
    let a: NodeProcess | undefined;
    let b: NodeProcess | undefined;
    let bob: SippProcess | undefined;
    try {
      [a, b] = await startNodes(
        testnet ? testnet.bootstrap : [],
        ['alice@example.org', 'bob@example.org'],
        ['--verbose'],
        (config, i) => {
          if (!opendht) return;
          config.overlay.backend = 'opendht';
          config.overlay.opendht.proxies = [opendht.proxyUrls[i]!];
        },
      );
      const logs = () => nodeLogs(a, b);
      // Bob stays registered up to 60 s; the test stops him when alice is done.
      bob = await startSipp({
        scenario: e2e('uas-bob.xml'),
        transport,
        target: `127.0.0.1:${b.ready.sip.port}`,
        calls: 1,
        timeoutSec: 90,
        args: [
          '-oocsf',
          e2e('uas-ooc.xml'),
          '-nd',
          '-d',
          '60000',
          ...sippKeys(BOB),
          ...traceArgs(bobLog),
        ],
      });
      await b.waitForLog(/published registration package/, 15_000);

      // One call at a time (-l 1), each REGISTER → INVITE … ACK → MESSAGE → BYE with its own Call-ID.
      const call = await runSipp({
        scenario: e2e('uac-call.xml'),
        transport,
        target: `127.0.0.1:${a.ready.sip.port}`,
        calls,
        timeoutSec: 30,
        args: [
          '-l',
          '1',
          '-d',
          '200',
          ...sippKeys({ ...ALICE, callee: 'bob@example.org', text: 'hello bob' }),
          ...traceArgs(aliceLog),
        ],
      });
      assert.equal(call.code, 0, `${describeSipp(call)}\n${logs()}`);
      assert.equal(call.successful, calls, `${describeSipp(call)}\n${logs()}`);

      const pager = await runSipp({
        scenario: e2e('uac-message.xml'),
        transport,
        target: `127.0.0.1:${a.ready.sip.port}`,
        calls: 2,
        timeoutSec: 30,
        args: sippKeys({ ...ALICE, callee: 'bob@example.org', text: 'pager mode' }),
      });
      assert.equal(pager.code, 0, `${describeSipp(pager)}\n${logs()}`);
      assert.equal(pager.successful, 2, `${describeSipp(pager)}\n${logs()}`);

      await bob.stop();
      const bobSaw = await readSippLog(bobLog);
      const aliceSaw = await readSippLog(aliceLog);
      const received = loggedKinds(bobSaw, 'received');
      const count = (k: string) => received.filter((r) => r === k).length;
      const context = `bob received ${received.join(' ')}\n${logs()}`;
      assert.equal(count('INVITE'), calls, context);
      assert.equal(count('ACK'), calls, context);
      assert.equal(count('BYE'), calls, context);
      assert.equal(count('MESSAGE'), calls + 2, context);
      for (const m of byKind(bobSaw, 'received', 'MESSAGE')) {
        assert.match(m.text, /\r?\n\r?\n(hello bob|pager mode)$/, context);
        assert.deepEqual(headerValues(m.text, 'From').length, 1);
        assert.match(headerValues(m.text, 'From')[0]!, /^<sip:alice@example\.org>;tag=/);
      }

      // The route set (RFC 3261 §16.6 step 4, RFC 5658 double Record-Route):
      // B-local, B-tunnel, A-tunnel, A-local as bob sees it; alice uses it reversed.
      const recordRoute = [
        localUri(b, t),
        tunnelUri(b.ready.publicKey),
        tunnelUri(a.ready.publicKey),
        localUri(a, t),
      ];
      for (const invite of byKind(bobSaw, 'received', 'INVITE')) {
        assert.deepEqual(headerValues(invite.text, 'Record-Route'), recordRoute, context);
        assert.equal(
          requestUriOf(invite.text),
          `sip:bob@127.0.0.1:${bob.localPort};transport=${t.toUpperCase()}`,
        );
      }
      for (const kind of ['ACK', 'BYE']) {
        for (const sent of byKind(aliceSaw, 'sent', kind)) {
          assert.deepEqual(headerValues(sent.text, 'Route'), [...recordRoute].reverse(), kind);
        }
        for (const got of byKind(bobSaw, 'received', kind)) {
          // B removed its own entries; the Request-URI is bob's Contact from the 200.
          assert.deepEqual(headerValues(got.text, 'Route'), [], `${kind} at bob: ${got.text}`);
          assert.equal(
            requestUriOf(got.text),
            `sip:bob@127.0.0.1:${bob.localPort};transport=${t.toUpperCase()}`,
          );
          assert.match(headerValues(got.text, 'To')[0]!, /^<sip:bob@example\.org>;tag=\S+$/);
        }
      }
      // Every ACK went A → tunnel to B → bob's flow, as each node logs it.
      const hops = async (node: NodeProcess, re: RegExp) => {
        for (let i = 0, since = 0; i < calls; i++) {
          const line = await node.waitForLog(re, 5_000, since);
          since = node.logs.indexOf(line, since) + 1;
        }
      };
      await hops(a, new RegExp(`ACK \\S+ forwarded to tunnel ${b.ready.publicKey.slice(0, 12)}`));
      await hops(b, new RegExp(`ACK \\S+ forwarded to ${t} 127\\.0\\.0\\.1:${bob.localPort}$`));
      // Each ACK reached bob before the MESSAGE of its call (the lost-ACK check).
      const flow = received.filter((k) => k !== 'REGISTER' && k !== '200');
      for (let i = 0; i < calls; i++) {
        assert.deepEqual(
          flow.slice(i * 4, i * 4 + 4),
          ['INVITE', 'ACK', 'MESSAGE', 'BYE'],
          context,
        );
      }
    } finally {
      await bob?.stop();
      await a?.stop();
      await b?.stop();
      await rm(bobLog, { force: true });
      await rm(aliceLog, { force: true });
    }
  });
}
