/**
 * Issue 3: "A node killed with SIGKILL and restarted keeps its identity and is
 * reachable again after its softphone re-registers."
 *
 * Real `p2psip start` processes on a loopback testnet, sipp softphones (UDP):
 * bob's node B runs on a home the test owns, so it can be SIGKILLed (no
 * withdraw, no goodbye on the tunnel) and started again on the same home and
 * SIP port. Alice's node A is never restarted: its tunnel to B still looks
 * open after the crash, which is what used to swallow the next message (the
 * node now notices the unacknowledged frame and dials again, src/node/node.ts).
 *
 *   1. bob registers at B; alice's MESSAGE is answered 200
 *   2. SIGKILL B; start it again: same AOR, same public key
 *   3. before bob registers again: 480 (B is up, no softphone)
 *   4. bob registers again: alice's MESSAGE gets 200, and a call goes through
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { type TestContext, test } from 'node:test';
import {
  createTempHome,
  initNode,
  type NodeProcess,
  nodeLogs,
  removeHome,
  startNode,
} from '../helpers/node-process.js';
import {
  describeSipp,
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
const ALICE = { user: 'alice', domain: 'example.org', expires: '60' };
const BOB = { user: 'bob', domain: 'example.org', expires: '60' };

test('a node SIGKILLed and restarted keeps its identity and is reachable again once its softphone re-registers', async (tc: TestContext) => {
  const testnet = await useTestnet({}, tc);
  const home = await createTempHome();
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  let crashed: NodeProcess | undefined;
  const phones: SippProcess[] = [];
  const paths: string[] = [];
  const logs = () => nodeLogs(a, crashed, b);

  /** bob's sipp, registered at `node` (and answering MESSAGE and INVITE) until stopped. */
  const registerBob = async (node: NodeProcess) => {
    const since = node.logs.length;
    const bob = await startSipp({
      scenario: e2e('uas-bob.xml'),
      target: `127.0.0.1:${node.ready.sip.port}`,
      calls: 1,
      timeoutSec: 120,
      args: ['-oocsf', e2e('uas-ooc.xml'), '-nd', '-d', '100000', ...sippKeys(BOB)],
    });
    phones.push(bob);
    await node.waitForLog(/published registration package/, 15_000, since);
    return bob;
  };
  /** alice sends one MESSAGE to bob through A; returns sipp's result and the answer alice got. */
  const message = async (text: string) => {
    const log = sippLogPath('alice');
    paths.push(log);
    const r = await runSipp({
      scenario: e2e('uac-message.xml'),
      target: `127.0.0.1:${a!.ready.sip.port}`,
      calls: 1,
      timeoutSec: 40,
      args: [...sippKeys({ ...ALICE, callee: 'bob@example.org', text }), ...traceArgs(log)],
    });
    const answers = (await readSippLog(log)).filter(
      (m) => m.direction === 'received' && !/CSeq: 1 REGISTER/.test(m.text),
    );
    return { r, status: answers.at(-1)?.kind, context: `${describeSipp(r)}\n${logs()}` };
  };

  try {
    await initNode(home, 'bob@example.org');
    a = await startNode({
      aor: 'alice@example.org',
      bootstrap: testnet.bootstrap,
      extraArgs: ['--verbose'],
    });
    b = await startNode({ home, bootstrap: testnet.bootstrap, extraArgs: ['--verbose'] });
    const before = b.ready;

    const bob1 = await registerBob(b);
    const first = await message('before the crash');
    assert.equal(first.r.code, 0, first.context);
    assert.equal(first.status, '200', first.context);

    crashed = b;
    assert.deepEqual(await b.kill9(), { code: null, signal: 'SIGKILL' });
    await bob1.stop();
    b = await startNode({
      home,
      sipPort: before.sip.port,
      bootstrap: testnet.bootstrap,
      extraArgs: ['--verbose'],
    });
    assert.equal(b.ready.aor, before.aor);
    assert.equal(b.ready.publicKey, before.publicKey, 'the identity survived the crash');
    assert.deepEqual(b.ready.sip, before.sip);

    const unregistered = await message('nobody there yet');
    assert.equal(unregistered.status, '480', unregistered.context);

    await registerBob(b);
    const again = await message('after the restart');
    assert.equal(again.r.code, 0, again.context);
    assert.equal(again.status, '200', again.context);

    const call = await runSipp({
      scenario: e2e('uac-call.xml'),
      target: `127.0.0.1:${a.ready.sip.port}`,
      calls: 1,
      timeoutSec: 30,
      args: ['-d', '200', ...sippKeys({ ...ALICE, callee: 'bob@example.org', text: 'call' })],
    });
    assert.equal(call.code, 0, `${describeSipp(call)}\n${logs()}`);
    assert.equal(call.successful, 1, `${describeSipp(call)}\n${logs()}`);
  } finally {
    for (const p of phones) await p.stop();
    await a?.stop();
    await b?.stop();
    await crashed?.stop();
    await removeHome(home);
    for (const p of paths) await rm(p, { force: true });
  }
});
