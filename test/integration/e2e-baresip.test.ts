/**
 * Issue 3 with two real softphones: baresip 1.0.0 as alice at node A and as
 * bob at node B (`p2psip start` processes on a loopback testnet), over UDP
 * and over TCP. Both register; a MESSAGE goes each way and is printed by the
 * receiving baresip; alice calls bob, both see the call established, alice
 * hangs up and both see it closed.
 *
 * Media is not carried by the tunnel yet (issue 5): the SDP offers 127.0.0.1
 * addresses, so on one machine the RTP flows between the two baresips
 * directly. The test checks that alice sent RTP, not how it travelled.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { type Baresip, startBaresip } from '../helpers/baresip.js';
import { type NodeProcess, nodeLogs, startNodes } from '../helpers/node-process.js';
import { useTestnet } from '../helpers/testnet.js';

const WAIT_MS = 15_000;

for (const transport of ['udp', 'tcp'] as const) {
  test(`baresip ⇄ node A ⇄ HyperDHT ⇄ node B ⇄ baresip over ${transport.toUpperCase()}: registration, MESSAGE both ways, a call`, async (tc: TestContext) => {
    const testnet = await useTestnet({}, tc);
    let a: NodeProcess | undefined;
    let b: NodeProcess | undefined;
    let alice: Baresip | undefined;
    let bob: Baresip | undefined;
    /** Waits for `re` on `phone`; on failure the message carries both phones' output and both node logs. */
    const expect = async (phone: Baresip, re: RegExp, since?: ReturnType<Baresip['mark']>) => {
      try {
        return await phone.waitFor(re, WAIT_MS, since);
      } catch (err) {
        const out = (p: Baresip | undefined, name: string) =>
          p ? `--- ${name} baresip ---\n${p.output.slice(-60).join('\n')}` : '';
        throw new Error(
          `${(err as Error).message}\n${out(alice, 'alice')}\n${out(bob, 'bob')}\n${nodeLogs(a, b)}`,
        );
      }
    };
    try {
      [a, b] = await startNodes(testnet.bootstrap, ['alice@example.org', 'bob@example.org']);
      alice = await startBaresip({
        aor: 'alice@example.org',
        proxy: { host: '127.0.0.1', port: a.ready.sip.port, transport },
        contacts: ['sip:bob@example.org'],
      });
      bob = await startBaresip({
        aor: 'bob@example.org',
        proxy: { host: '127.0.0.1', port: b.ready.sip.port, transport },
        contacts: ['sip:alice@example.org'],
      });
      assert.equal(await expect(alice, /^REGISTER_/), 'REGISTER_OK sip:alice@example.org');
      assert.equal(await expect(bob, /^REGISTER_/), 'REGISTER_OK sip:bob@example.org');
      await a.waitForLog(/published registration package/, WAIT_MS);
      await b.waitForLog(/published registration package/, WAIT_MS);

      await alice.sendMessage('sip:bob@example.org', 'hello bob, from baresip');
      assert.equal(
        await expect(bob, /^MESSAGE /),
        'MESSAGE sip:alice@example.org hello bob, from baresip',
      );
      await bob.sendMessage('sip:alice@example.org', 'hello alice');
      assert.equal(await expect(alice, /^MESSAGE /), 'MESSAGE sip:bob@example.org hello alice');

      await alice.dial('sip:bob@example.org');
      await expect(alice, /^CALL_ESTABLISHED sip:bob@example\.org/);
      // Bob's phone shows the caller the nodes verified (the tunnel's identity).
      await expect(bob, /^CALL_ESTABLISHED sip:alice@example\.org/);
      const aliceMark = alice.mark();
      const bobMark = bob.mark();
      await alice.hangup();
      await expect(alice, /^CALL_CLOSED /, aliceMark);
      await expect(bob, /^CALL_CLOSED sip:alice@example\.org/, bobMark);
      const stats = await expect(alice, /^RTP_PACKETS /, aliceMark);
      const [sent] = stats.split(' ').slice(1).map(Number);
      assert.ok(sent! > 0, `alice sent RTP during the call: ${stats}`);
    } finally {
      await alice?.stop();
      await bob?.stop();
      await a?.stop();
      await b?.stop();
    }
  });
}
