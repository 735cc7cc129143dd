/**
 * LAN multicast backend on loopback, in this process: the shared compliance
 * suites, the wire format, and what hostile LAN hosts can do (garbage,
 * answers for other keys or queries, forged secret records, query floods).
 *
 * Loopback without any route change: every socket names 127.0.0.1 as its
 * multicast interface (IP_MULTICAST_IF) and joins the group on it; Linux
 * then delivers the group's datagrams on lo with no multicast route (measured,
 * docs/overlay.md "LAN multicast"), and nothing leaves lo. Each harness uses
 * a fresh free port, so parallel runs do not hear each other.
 * Two real "hosts" (network namespaces + veth) are in multicast-netns.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ed25519Sign } from '../../../src/crypto/ed25519.js';
import {
  DEFAULT_MULTICAST_GROUP,
  decodeMessage,
  encodeMessage,
  MAX_SEQ,
  MAX_VALUE_BYTES,
  ManualClock,
  MC_HEADER_BYTES,
  MC_MAX_DATAGRAM_BYTES,
  type McMessage,
  McType,
  MulticastEndpoint,
  type MulticastEndpointOptions,
  MulticastLookup,
  MulticastSecretRecords,
  OverlayErrorCode,
  PkOpTally,
  publisherId,
  secretSignable,
  TokenBuckets,
} from '../../../src/overlay/index.js';
import { freePort } from '../../helpers/ports.js';
import { rejectsWith, runLookupCompliance } from './compliance.js';
import { GARBAGE, garbageBatch } from './fixtures/multicast-garbage.js';
import { runSecretCompliance } from './secret-compliance.js';

const LO = '127.0.0.1';
const GROUP = DEFAULT_MULTICAST_GROUP;
/** Short windows keep the suites quick; answers on lo arrive well within them. */
const FAST = { findWindowMs: 200, answerJitterMs: 20 } as const;

const key = () => new Uint8Array(randomBytes(32));
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => Buffer.from(b).toString();

async function endpointOptions(
  extra: Partial<MulticastEndpointOptions> = {},
): Promise<MulticastEndpointOptions> {
  return { interface: LO, port: await freePort(LO), ...extra };
}

runLookupCompliance('multicast', async () => {
  const clock = new ManualClock();
  const base = await endpointOptions(FAST);
  const services = await Promise.all(
    [0, 1, 2].map(() => MulticastLookup.open({ ...base, ...FAST, clock })),
  );
  return {
    services,
    advance: async (ms) => clock.advance(ms),
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
    },
  };
});

runSecretCompliance('multicast', async () => {
  const clock = new ManualClock();
  const pkOps = new PkOpTally();
  const base = await endpointOptions(FAST);
  const services = [
    await MulticastSecretRecords.open({ ...base, ...FAST, clock, pkOps }),
    await MulticastSecretRecords.open({ ...base, ...FAST, clock }),
  ];
  return {
    services,
    pkOps,
    advance: async (ms) => clock.advance(ms),
    teardown: async () => {
      await Promise.all(services.map((s) => s.close()));
    },
  };
});

// ---- helpers -----------------------------------------------------------------

/** Runs `body`, then closes everything it registered with `use`, even on failure. */
async function withCleanup(
  body: (use: <T extends { close(): unknown }>(x: T) => T) => Promise<void>,
): Promise<void> {
  const owned: { close(): unknown }[] = [];
  try {
    await body((x) => {
      owned.push(x);
      return x;
    });
  } finally {
    for (const x of owned.reverse()) await x.close();
  }
}

/**
 * A raw UDP socket on lo: sends to the group or to a port, records what
 * arrives. `member` also binds to the group port and joins it (a fake node).
 */
class RawPeer {
  readonly received: { message: McMessage | undefined; from: dgram.RemoteInfo }[] = [];
  readonly socket: dgram.Socket;
  onMessage: (message: McMessage, from: dgram.RemoteInfo) => void = () => {};

  private constructor(socket: dgram.Socket) {
    this.socket = socket;
    socket.on('message', (datagram, from) => {
      const decoded = decodeMessage(datagram);
      const message = decoded.ok ? decoded.message : undefined;
      this.received.push({ message, from });
      if (message) this.onMessage(message, from);
    });
  }

  static async open(opts: { member?: { group: string; port: number }; address?: string } = {}) {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) =>
      opts.member
        ? socket.bind(opts.member.port, opts.member.group, resolve)
        : socket.bind(0, opts.address ?? LO, resolve),
    );
    if (opts.member) socket.addMembership(opts.member.group, LO);
    socket.setMulticastInterface(LO);
    socket.setMulticastTTL(1);
    return new RawPeer(socket);
  }

  send(datagram: Uint8Array, port: number, address: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(datagram, port, address, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * Waits (bounded: at most `tries` turns of 10 ms) until `done()` holds;
 * returns whether it did. Not a timing assertion: the caller asserts on the
 * state, and on a slow machine more turns only wait longer.
 */
async function until(done: () => boolean, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  return done();
}

/**
 * Sends `datagrams` in chunks of 32, waiting after each chunk until the
 * receiver has `counted()` them all: a socket's receive buffer (212,992 bytes
 * here) holds only ~200 small datagrams on lo, and a sender in the same
 * process outruns the receiver. Flooding faster only measures the kernel's
 * drops, not the node.
 */
async function paced(
  datagrams: Uint8Array[],
  send: (d: Uint8Array) => Promise<void>,
  counted: () => number,
): Promise<void> {
  for (let i = 0; i < datagrams.length; i += 32) {
    const chunk = datagrams.slice(i, i + 32);
    for (const d of chunk) await send(d);
    const sent = i + chunk.length;
    assert.ok(await until(() => counted() >= sent), `receiver counted ${counted()} of ${sent}`);
  }
}

// ---- wire format -------------------------------------------------------------

describe('multicast wire format', () => {
  const id = new Uint8Array(16).fill(0x11);
  const k = new Uint8Array(32).fill(0x22);

  test('a QUERY is the 54-byte header, byte for byte', () => {
    const datagram = encodeMessage({ type: McType.Query, queryId: id, key: k });
    assert.equal(MC_HEADER_BYTES, 54);
    assert.equal(
      Buffer.from(datagram).toString('hex'),
      `50324d43` + `01` + `01` + '11'.repeat(16) + '22'.repeat(32),
    );
  });

  test('an ANSWER and a SECRET_ANSWER, byte for byte', () => {
    const answer = encodeMessage({
      type: McType.Answer,
      queryId: id,
      key: k,
      publisher: new Uint8Array(32).fill(0x33),
      seq: 0x0102_0304_0506,
      value: bytes('hi'),
    });
    assert.equal(
      Buffer.from(answer).toString('hex'),
      `50324d43` +
        `01` +
        `02` +
        '11'.repeat(16) +
        '22'.repeat(32) +
        '33'.repeat(32) +
        '0000010203040506' +
        '0002' +
        '6869',
    );
    const secret = encodeMessage({
      type: McType.SecretAnswer,
      queryId: id,
      key: k,
      seq: 7,
      signature: new Uint8Array(64).fill(0x44),
      value: bytes('x'),
    });
    assert.equal(
      Buffer.from(secret).toString('hex'),
      `50324d43` +
        `01` +
        `04` +
        '11'.repeat(16) +
        '22'.repeat(32) +
        '0000000000000007' +
        '44'.repeat(64) +
        '0001' +
        '78',
    );
    assert.equal(MC_MAX_DATAGRAM_BYTES, 54 + 8 + 64 + 2 + MAX_VALUE_BYTES);
  });

  test('property: every message round-trips', () => {
    const b = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    const value = fc.uint8Array({ minLength: 1, maxLength: MAX_VALUE_BYTES });
    const seq = fc.integer({ min: 0, max: MAX_SEQ });
    const message: fc.Arbitrary<McMessage> = fc.oneof(
      fc.record({
        type: fc.constantFrom(McType.Query, McType.SecretQuery),
        queryId: b(16),
        key: b(32),
      }),
      fc.record({
        type: fc.constant(McType.Answer),
        queryId: b(16),
        key: b(32),
        publisher: b(32),
        seq,
        value,
      }),
      fc.record({
        type: fc.constant(McType.SecretAnswer),
        queryId: b(16),
        key: b(32),
        seq,
        signature: b(64),
        value,
      }),
    );
    fc.assert(
      fc.property(message, (m) => {
        // fc.record builds null-prototype objects: compare against a plain copy.
        assert.deepEqual(decodeMessage(encodeMessage(m)), { ok: true, message: { ...m } });
      }),
      { numRuns: 300 },
    );
  });

  test('property: decoding arbitrary bytes never throws; what decodes re-encodes to the same bytes', () => {
    const header = Buffer.from('50324d4301', 'hex');
    const datagram = fc.oneof(
      fc.uint8Array({ maxLength: MC_MAX_DATAGRAM_BYTES + 10 }),
      // Mostly well-framed starts, so the type and length checks get exercised too.
      fc
        .tuple(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 1200 }))
        .map(([type, rest]) => Uint8Array.of(...header, type, ...rest)),
    );
    fc.assert(
      fc.property(datagram, (d) => {
        const decoded = decodeMessage(d);
        if (decoded.ok) assert.deepEqual(encodeMessage(decoded.message), d);
      }),
      { numRuns: 2000 },
    );
  });

  for (const g of GARBAGE)
    test(`garbage: ${g.name} is dropped as '${g.reason}'`, () => {
      assert.deepEqual(decodeMessage(g.make()), { ok: false, reason: g.reason });
    });

  test('the encoder refuses what the decoder would drop', () => {
    const base = { type: McType.Answer, queryId: id, key: k, publisher: k } as const;
    assert.throws(
      () => encodeMessage({ ...base, seq: MAX_SEQ + 1, value: bytes('v') }),
      RangeError,
    );
    assert.throws(() => encodeMessage({ ...base, seq: 1, value: new Uint8Array(0) }), RangeError);
    assert.throws(
      () => encodeMessage({ ...base, seq: 1, value: new Uint8Array(MAX_VALUE_BYTES + 1) }),
      RangeError,
    );
    assert.throws(() => encodeMessage({ ...base, key: k.slice(1), seq: 1, value: bytes('v') }));
  });
});

// ---- endpoint ----------------------------------------------------------------

describe('multicast endpoint', () => {
  test('options are checked: the interface is required, the group must be multicast', async () => {
    const bad: [string, unknown][] = [
      ['interface', {}],
      ['interface', { interface: '0.0.0.0' }],
      ['interface', { interface: 'lo' }],
      ['interface', { interface: '239.255.80.83' }],
      ['group', { interface: LO, group: '192.0.2.1' }],
      ['port', { interface: LO, port: 0 }],
      ['ttl', { interface: LO, ttl: 0 }],
      ['answerJitterMs', { interface: LO, answerJitterMs: -1 }],
      ['queryCopies', { interface: LO, queryCopies: 0 }],
      ['answerRate.burst', { interface: LO, answerRate: { burst: 0, perSecond: 1 } }],
    ];
    for (const [name, opts] of bad)
      await assert.rejects(
        MulticastEndpoint.open(opts as MulticastEndpointOptions),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, OverlayErrorCode.BadOption);
          assert.match(err.message, new RegExp(`^${name.replace('.', '\\.')}:`));
          return true;
        },
      );
  });

  test('service options are checked too (the endpoint a failed open made is closed again)', async () => {
    const opts = await endpointOptions();
    await rejectsWith(
      MulticastLookup.open({ ...opts, findWindowMs: 0 }),
      OverlayErrorCode.BadOption,
    );
    await rejectsWith(
      MulticastLookup.open({ ...opts, maxCandidates: 0 }),
      OverlayErrorCode.BadOption,
    );
    await rejectsWith(
      MulticastSecretRecords.open({ ...opts, findWindowMs: 1.5 }),
      OverlayErrorCode.BadOption,
    );
  });

  test('an interface address this host does not have fails with OVERLAY_BACKEND (nothing bound)', async () => {
    const opts = await endpointOptions({ interface: '192.0.2.1' });
    await rejectsWith(MulticastEndpoint.open(opts), OverlayErrorCode.Backend);
    // The group port was released: a proper endpoint binds it now.
    const ok = await MulticastEndpoint.open({ ...opts, interface: LO });
    await ok.close();
  });

  test('token buckets: a burst, then the refill rate, per source, bounded memory', () => {
    let now = 0;
    const buckets = new TokenBuckets({ burst: 3, perSecond: 2 }, () => now);
    const takes = (source: string, n: number) =>
      Array.from({ length: n }, () => buckets.take(source)).filter(Boolean).length;
    assert.equal(takes('a', 10), 3);
    assert.equal(takes('b', 10), 3, 'another source has its own bucket');
    now += 1000;
    assert.equal(takes('a', 10), 2);
    now += 60_000;
    assert.equal(takes('a', 10), 3, 'never more than the burst');
    for (let i = 0; i < 2000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(buckets.size, 1024);
  });
});

// ---- lookup behaviour on lo ----------------------------------------------------

describe('multicast lookup on loopback', () => {
  test('a find ends shortly after the first answer (its second query copy is never sent); settleMs null waits the window', async () =>
    withCleanup(async (use) => {
      // Window 3 s, 2 copies: the second copy would go out at 1 s.
      const base = await endpointOptions({ answerJitterMs: 0, queryCopies: 2 });
      const k = key();
      const holder = use(await MulticastLookup.open({ ...base }));
      await holder.publish(k, bytes('here'), { ttlSeconds: 60, seq: 1 });
      const settling = use(await MulticastLookup.open({ ...base, findWindowMs: 3000 }));
      assert.deepEqual(
        (await settling.find(k)).map((r) => text(r.value)),
        ['here'],
      );
      assert.equal(settling.stats.queriesSent, 1, 'ended before the second copy');
      const patient = use(
        await MulticastLookup.open({ ...base, findWindowMs: 1500, settleMs: null }),
      );
      assert.deepEqual(
        (await patient.find(k)).map((r) => text(r.value)),
        ['here'],
      );
      assert.equal(patient.stats.queriesSent, 2, 'waited the whole window');
    }));

  test('the publisher id is the one every backend derives; a restarted node replaces its record by seq', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions(FAST);
      const seed = new Uint8Array(32).fill(5);
      const k = key();
      const reader = use(await MulticastLookup.open({ ...base, ...FAST }));
      const before = use(await MulticastLookup.open({ ...base, ...FAST, seed }));
      await before.publish(k, bytes('before'), { ttlSeconds: 60, seq: 10 });
      assert.deepEqual(
        (await reader.find(k)).map((r) => [text(r.value), r.seq, Buffer.from(r.publisher)]),
        [['before', 10, Buffer.from(publisherId(seed, k))]],
      );
      // The same node again (same seed) while the old instance still answers:
      // one publisher, and the finder keeps the higher seq.
      const after = use(await MulticastLookup.open({ ...base, ...FAST, seed }));
      await after.publish(k, bytes('after'), { ttlSeconds: 60, seq: 11 });
      assert.deepEqual(
        (await reader.find(k)).map((r) => [text(r.value), r.seq]),
        [['after', 11]],
      );
    }));

  test('holders answer only for the key asked, each answer carries its query id', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions({ answerJitterMs: 0 });
      const holder = use(await MulticastLookup.open(base));
      const [k1, k2] = [key(), key()];
      await holder.publish(k1, bytes('one'), { ttlSeconds: 60, seq: 1 });
      await holder.publish(k2, bytes('two'), { ttlSeconds: 60, seq: 1 });
      const asker = use(await RawPeer.open());
      const ask = (n: number, k: Uint8Array) =>
        asker.send(
          encodeMessage({ type: McType.Query, queryId: new Uint8Array(16).fill(n), key: k }),
          base.port!,
          GROUP,
        );
      // An unknown key, then k1, then k2: answers leave in order (no jitter),
      // so once k2's has arrived, any answer to the first query would have too.
      await ask(1, key());
      await ask(2, k1);
      await ask(3, k2);
      assert.ok(await until(() => asker.received.length >= 2));
      assert.deepEqual(
        asker.received.map(({ message: m }) =>
          m?.type === McType.Answer ? [m.queryId[0], text(m.value), Buffer.from(m.key)] : m,
        ),
        [
          [2, 'one', Buffer.from(k1)],
          [3, 'two', Buffer.from(k2)],
        ],
      );
      assert.equal(holder.stats.queriesReceived, 3);
    }));

  test('answers for another query, another key or of another type are dropped as unmatched', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions({ queryCopies: 1 });
      const finder = use(await MulticastLookup.open(base));
      const fake = use(await RawPeer.open({ member: { group: GROUP, port: base.port! } }));
      const k = key();
      fake.onMessage = (m, from) => {
        if (m.type !== McType.Query) return;
        const answer = (over: Partial<McMessage>) =>
          encodeMessage({
            type: McType.Answer,
            queryId: m.queryId,
            key: m.key,
            publisher: new Uint8Array(32).fill(7),
            seq: 1,
            value: bytes('good'),
            ...over,
          } as McMessage);
        for (const d of [
          answer({ key: key() }),
          answer({ queryId: new Uint8Array(16) }),
          encodeMessage({
            type: McType.SecretAnswer,
            queryId: m.queryId,
            key: m.key,
            seq: 1,
            signature: new Uint8Array(64),
            value: bytes('bad'),
          }),
          answer({}),
        ])
          void fake.send(d, from.port, from.address);
      };
      const found = await finder.find(k);
      assert.deepEqual(
        found.map((r) => text(r.value)),
        ['good'],
      );
      assert.equal(finder.stats.answersReceived, 4);
      assert.equal(finder.stats.unmatched, 3);
    }));

  test('a flood of malformed datagrams is counted and dropped; the node goes on answering', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions(FAST);
      const a = use(await MulticastLookup.open({ ...base, ...FAST }));
      const b = use(await MulticastLookup.open({ ...base, ...FAST }));
      const k = key();
      await a.publish(k, bytes('still here'), { ttlSeconds: 60, seq: 1 });
      const attacker = use(await RawPeer.open());
      const rounds = 20;
      const { datagrams, expected } = garbageBatch(rounds);
      // At the group port (every node hears it) and at a's answer port.
      await paced(
        datagrams,
        (d) => attacker.send(d, base.port!, GROUP),
        () => a.stats.malformed,
      );
      await paced(
        datagrams,
        (d) => attacker.send(d, a.queryAddress.port, LO),
        () => a.stats.malformed - datagrams.length,
      );
      // Well-formed but on the wrong socket: an answer to the group, a query to the answer port.
      const q = encodeMessage({ type: McType.Query, queryId: new Uint8Array(16), key: k });
      const ans = encodeMessage({
        type: McType.Answer,
        queryId: new Uint8Array(16),
        key: k,
        publisher: k,
        seq: 1,
        value: bytes('x'),
      });
      await attacker.send(ans, base.port!, GROUP);
      await attacker.send(q, a.queryAddress.port, LO);
      const total = datagrams.length * 2;
      assert.ok(
        await until(() => a.stats.malformed === total && a.stats.unexpected === 2),
        JSON.stringify(a.stats),
      );
      const doubled = Object.fromEntries(Object.entries(expected).map(([r, n]) => [r, n * 2]));
      assert.deepEqual(a.stats.malformedBy, doubled);
      assert.ok(await until(() => b.stats.malformed === datagrams.length));
      assert.deepEqual(
        (await b.find(k)).map((r) => text(r.value)),
        ['still here'],
      );
    }));

  test('property: arbitrary datagrams at the group never crash a node and are all accounted for', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions(FAST);
      const node = use(await MulticastLookup.open({ ...base, ...FAST }));
      const attacker = use(await RawPeer.open());
      const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 1500 }), {
        numRuns: 200,
        seed: 6,
      });
      const seen = () => node.stats.malformed + node.stats.unexpected + node.stats.queriesReceived;
      await paced(samples, (d) => attacker.send(d, base.port!, GROUP), seen);
      assert.ok(await until(() => seen() === samples.length), JSON.stringify(node.stats));
      const k = key();
      await node.publish(k, bytes('alive'), { ttlSeconds: 60, seq: 1 });
      assert.equal((await node.find(k)).length, 1);
    }));

  test('answers are rate-limited per source address (token bucket): a query flood gets the burst only', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions({
        answerJitterMs: 0,
        answerRate: { burst: 3, perSecond: 0 },
      });
      const holder = use(await MulticastLookup.open(base));
      const k = key();
      await holder.publish(k, bytes('v'), { ttlSeconds: 60, seq: 1 });
      const flooder = use(await RawPeer.open());
      const other = use(await RawPeer.open({ address: '127.0.0.2' }));
      const query = (n: number) =>
        encodeMessage({ type: McType.Query, queryId: new Uint8Array(16).fill(n), key: k });
      for (let i = 0; i < 10; i++) await flooder.send(query(i), base.port!, GROUP);
      assert.ok(
        await until(() => holder.stats.answersSent + holder.stats.rateLimited === 10),
        JSON.stringify(holder.stats),
      );
      assert.equal(holder.stats.answersSent, 3);
      assert.equal(holder.stats.rateLimited, 7);
      // Another source still gets its answer.
      await other.send(query(42), base.port!, GROUP);
      assert.ok(await until(() => other.received.length === 1));
      assert.equal(other.received[0]!.from.port, holder.queryAddress.port);
      assert.ok(await until(() => flooder.received.length === 3));
    }));

  test('find: the caller\u2019s signal aborts the window; closing the service fails a find in flight', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions();
      const a = use(await MulticastLookup.open({ ...base, findWindowMs: 60_000 }));
      const controller = new AbortController();
      const pending = a.find(key(), { signal: controller.signal });
      controller.abort();
      await rejectsWith(pending, OverlayErrorCode.Aborted);
      const inFlight = a.find(key());
      await a.close();
      await rejectsWith(inFlight, OverlayErrorCode.Closed);
    }));

  test('a lookup and secret records share one endpoint; each closes without closing it', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions(FAST);
      const shared = use(await MulticastEndpoint.open(base));
      const lookup = new MulticastLookup(shared, FAST);
      const secrets = new MulticastSecretRecords(shared, FAST);
      assert.throws(() => new MulticastLookup(shared), { code: OverlayErrorCode.BadOption });
      const reader = use(await MulticastLookup.open({ ...base, ...FAST }));
      const readerSecrets = use(await MulticastSecretRecords.open({ ...base, ...FAST }));
      const [k, seed] = [key(), key()];
      await lookup.publish(k, bytes('open'), { ttlSeconds: 60, seq: 1 });
      await secrets.putSecret(seed, bytes('secret'), { ttlSeconds: 60, seq: 1 });
      assert.deepEqual(
        (await reader.find(k)).map((r) => text(r.value)),
        ['open'],
      );
      await lookup.close();
      assert.deepEqual(await reader.find(k), [], 'a closed lookup no longer answers');
      assert.equal(text((await readerSecrets.getSecret({ seed }))!.value), 'secret');
      await secrets.close();
      assert.equal(shared.closed, false);
    }));
});

describe('multicast secret records on loopback', () => {
  test('forged answers (bad signature, another key\u2019s signature) are verified and dropped', async () =>
    withCleanup(async (use) => {
      const base = await endpointOptions({ queryCopies: 1 });
      const writer = use(await MulticastSecretRecords.open(base));
      const pkOps = new PkOpTally();
      const reader = use(await MulticastSecretRecords.open({ ...base, pkOps }));
      const fake = use(await RawPeer.open({ member: { group: GROUP, port: base.port! } }));
      const seed = key();
      const stranger = key();
      await writer.putSecret(seed, bytes('genuine'), { seq: 1, ttlSeconds: 60 });
      fake.onMessage = (m, from) => {
        if (m.type !== McType.SecretQuery) return;
        const forged = (seq: number, signature: Uint8Array) =>
          encodeMessage({
            type: McType.SecretAnswer,
            queryId: m.queryId,
            key: m.key,
            seq,
            signature,
            value: bytes('forged'),
          });
        void fake.send(forged(99, new Uint8Array(64).fill(1)), from.port, from.address);
        const other = ed25519Sign(secretSignable(98, bytes('forged')), stranger);
        void fake.send(forged(98, other), from.port, from.address);
      };
      const got = await reader.getSecret({ seed });
      assert.deepEqual(got && [text(got.value), got.seq], ['genuine', 1]);
      assert.equal(reader.badSignatures, 2);
      assert.equal(pkOps.counts.verify, 3);
    }));

  test('a record is held only while its ttl runs (local expiry on the writer\u2019s clock)', async () =>
    withCleanup(async (use) => {
      const clock = new ManualClock();
      const base = await endpointOptions(FAST);
      const writer = use(await MulticastSecretRecords.open({ ...base, ...FAST, clock }));
      const reader = use(await MulticastSecretRecords.open({ ...base, ...FAST }));
      const seed = key();
      await writer.putSecret(seed, bytes('v'), { seq: 1, ttlSeconds: 60 });
      clock.advance(59_999);
      assert.equal((await reader.getSecret({ address: writer.addressOf(seed) }))?.seq, 1);
      clock.advance(1);
      assert.equal(await reader.getSecret({ seed }), undefined);
    }));
});
