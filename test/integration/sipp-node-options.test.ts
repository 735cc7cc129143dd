/**
 * Issue 2 against a real node: sipp sends OPTIONS over UDP and TCP to a
 * `p2psip start` process on a loopback testnet and gets valid responses.
 * (sipp-options.test.ts does the same against the bare transport layer.)
 *
 * - OPTIONS to the node's own host:port from its softphone's AOR: the node
 *   answers 200 itself, with its capabilities (src/proxy/steps/node-itself.ts).
 * - OPTIONS from any other identity: 403 with a Warning saying why (a local
 *   softphone may only speak as the node's AOR; authorize-origin runs first).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { type TestContext, test } from 'node:test';
import { type NodeProcess, nodeLogs, startNode } from '../helpers/node-process.js';
import {
  describeSipp,
  headerValues,
  loggedKinds,
  readSippLog,
  runSipp,
  type SippTransport,
  sippFixture,
  sippKeys,
  sippLogPath,
  traceArgs,
} from '../helpers/sipp.js';
import { useTestnet } from '../helpers/testnet.js';

const CALLS = 3;

test('OPTIONS to a p2psip node over UDP and TCP: 200 from the node itself; a foreign From gets 403', async (tc: TestContext) => {
  const testnet = await useTestnet({}, tc);
  let node: NodeProcess | undefined;
  const paths: string[] = [];
  try {
    node = await startNode({
      aor: 'alice@example.org',
      bootstrap: testnet.bootstrap,
      extraArgs: ['--verbose'],
    });
    const target = `127.0.0.1:${node.ready.sip.port}`;
    for (const transport of ['u1', 't1'] as SippTransport[]) {
      const log = sippLogPath(`options-${transport}`);
      paths.push(log);
      const r = await runSipp({
        scenario: sippFixture('e2e/options-node.xml'),
        transport,
        target,
        calls: CALLS,
        timeoutSec: 20,
        args: [...sippKeys({ user: 'alice', domain: 'example.org' }), ...traceArgs(log)],
      });
      const context: string = `${describeSipp(r)}\n${nodeLogs(node)}`;
      assert.equal(r.code, 0, context);
      assert.equal(r.successful, CALLS, context);
      const saw = await readSippLog(log);
      assert.deepEqual(loggedKinds(saw, 'received'), Array(CALLS).fill('200'), context);
      const sent = saw.filter((m) => m.direction === 'sent');
      for (const [i, ok] of saw.filter((m) => m.direction === 'received').entries()) {
        const allow = headerValues(ok.text, 'Allow');
        for (const method of ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'MESSAGE', 'REGISTER'])
          assert.ok(allow.includes(method), `${method} in Allow: ${ok.text}`);
        assert.deepEqual(headerValues(ok.text, 'Server'), ['p2psip']);
        assert.ok(headerValues(ok.text, 'Accept').includes('application/sdp'), ok.text);
        assert.deepEqual(headerValues(ok.text, 'CSeq'), ['1 OPTIONS']);
        assert.deepEqual(
          headerValues(ok.text, 'Call-ID'),
          headerValues(sent[i]!.text, 'Call-ID'),
          'the answer belongs to the request',
        );
        assert.match(headerValues(ok.text, 'To')[0]!, /;tag=\S+$/);
        // RFC 3581: the node stamped where the request came from.
        const via = headerValues(ok.text, 'Via');
        assert.equal(via.length, 1, ok.text);
        assert.match(via[0]!, /;rport=\d+/);
        assert.match(via[0]!, /;received=127\.0\.0\.1/);
        assert.match(via[0]!, new RegExp(`^SIP/2\\.0/${transport === 'u1' ? 'UDP' : 'TCP'} `));
      }
    }

    // sipp's generic OPTIONS ping (From: sipp@127.0.0.1) is not the node's AOR.
    const log = sippLogPath('options-foreign');
    paths.push(log);
    const foreign = await runSipp({
      scenario: sippFixture('options-uac.xml'),
      transport: 'u1',
      target,
      calls: 1,
      timeoutSec: 20,
      args: traceArgs(log),
    });
    const saw = await readSippLog(log);
    const answer = saw.find((m) => m.direction === 'received');
    assert.ok(answer, `${describeSipp(foreign)}\n${nodeLogs(node)}`);
    assert.equal(answer.kind, '403', answer.text);
    assert.match(
      headerValues(answer.text, 'Warning')[0]!,
      /sipp@127\.0\.0\.1 is not this node's AOR alice@example\.org/,
    );
    assert.equal(foreign.failed, 1, 'sipp counts the 403 as a failed OPTIONS');
  } finally {
    await node?.stop();
    for (const p of paths) await rm(p, { force: true });
  }
});
