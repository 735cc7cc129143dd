/**
 * `p2psip demo`: the whole system on one machine, narrated for a newcomer.
 *
 *   private HyperDHT testnet (127.0.0.1)
 *     ├─ alice's node ── alice's softphone (built-in UA)
 *     └─ bob's node   ── bob's softphone   (built-in UA, answers by itself)
 *
 * Steps: DHT up → two homes (as `p2psip init`) → two nodes → both phones
 * REGISTER (bob's node publishes its signed package) → alice sends bob an IM
 * → alice calls bob, 2 s, hangs up → everything stopped, homes removed.
 *
 * The figures come from what really happened: UA responses and their times,
 * the overlay and tunnel diagnostics channels (p2psip:overlay:*, p2psip:tunnel:*),
 * and the requests the testnet's DHT nodes received (what a bystander sees).
 * Every wait is bounded (./wait.ts); a failed step stops the demo, which
 * still cleans up and reports what failed. Nothing but 127.0.0.1 is used.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../crypto/bytes.js';
import { initHome } from '../home/home.js';
import { openKey } from '../identity/open-key.js';
import type { LogLevel } from '../node/log.js';
import { P2pSipNode } from '../node/node.js';
import { type DhtRequestLogEntry, startTestnet, type Testnet } from '../overlay/testnet.js';
import { decodePackage } from '../package/decode.js';
import type { PackageFields } from '../package/fields.js';
import { verifyPackage } from '../package/verify.js';
import type { Progress } from '../ua/user-agent.js';
import { UserAgent } from '../ua/user-agent.js';
import { DemoError, DemoErrorCode } from './errors.js';
import { Recorder, within } from './wait.js';
import { type Watch, watchDiagnostics } from './watch.js';

export interface DemoOptions {
  /** Receives every output line: narration, or one JSON object per step with `json`. */
  out: (line: string) => void;
  /** One JSON line per step (for scripts) instead of the narration. */
  json?: boolean;
  /** HyperDHT nodes in the private testnet, {@link MIN_DEMO_NODES}..64 (default 5). */
  nodes?: number;
  /** How long the call stays up before alice hangs up (default 2000 ms). */
  holdMs?: number;
  /** The nodes' log lines as they happen (`--verbose`); otherwise only shown after a failure. */
  log?: (line: string) => void;
  /**
   * false: bob's phone refuses calls (486 Busy Here), so the call step fails
   * after the network, nodes and phones are up; shows (and tests) how a failed
   * step is reported and cleaned up. Default true.
   */
  bobAnswers?: boolean;
}

export const DEMO_STEPS = [
  'testnet',
  'homes',
  'nodes',
  'register',
  'publish',
  'message',
  'call',
  'hangup',
  'cleanup',
] as const;
export type DemoStepName = (typeof DEMO_STEPS)[number];

export interface DemoStep {
  step: DemoStepName;
  /** 1-based position in {@link DEMO_STEPS}. */
  n: number;
  ok: boolean;
  /** What happened, in plain words (one or a few lines). */
  text: string[];
  /** The figures behind the words: times in ms, sizes in bytes, keys in hex, SIP statuses. */
  data: Record<string, string | number | boolean | number[]>;
}

export interface DemoResult {
  ok: boolean;
  steps: DemoStep[];
  /** Why the demo stopped early. */
  error?: { step: DemoStepName; code: string; message: string };
  ms: number;
}

/**
 * A testnet of one node cannot store anything: hyperdht's commit finds no
 * node that answers with an id and fails with "Too few nodes responded"
 * (measured; 2 and more work).
 */
export const MIN_DEMO_NODES = 2;

/** Limits of the bounded waits (ms). The whole demo normally takes about 5 s. */
const LIMIT = { start: 15_000, sip: 12_000, publish: 10_000, stop: 5_000 } as const;
const AORS = { alice: 'alice@example.org', bob: 'bob@example.org' } as const;
const IM_TEXT = 'Hello bob, this is alice, over p2psip!';

interface Person {
  aor: string;
  home: string;
  key: string;
  node?: P2pSipNode;
  ua?: UserAgent;
}

/** Everything the demo started, so that cleanup can stop it whatever failed. */
interface World {
  root?: string;
  testnet?: Testnet;
  alice?: Person;
  bob?: Person;
  /** Things still starting when their wait ran out: stopped when (if) they finish. */
  late: Promise<unknown>[];
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const steps: DemoStep[] = [];
  const nodeLog: string[] = [];
  const log = (who: string) => (level: LogLevel, msg: string) => {
    const line = `${who}'s node: ${level} ${msg}`;
    o.log?.(line);
    nodeLog.push(line);
    if (nodeLog.length > 30) nodeLog.shift();
  };
  const say: Say = (step, text, data, ok = true) => {
    const s: DemoStep = { step, n: DEMO_STEPS.indexOf(step) + 1, ok, text, data };
    steps.push(s);
    print(o, s);
  };
  const world: World = { late: [] };
  const watch = watchDiagnostics();
  let current: DemoStepName = 'testnet';
  let error: DemoResult['error'];

  if (!o.json) {
    o.out('p2psip demo: alice and bob message and call each other with no server in between,');
    o.out(
      'only a private DHT on this machine (127.0.0.1) and an encrypted tunnel between their nodes.',
    );
    o.out('');
  }
  try {
    current = 'testnet';
    await startDht(world, watch, o.nodes ?? 5, say);
    current = 'homes';
    makeHomes(world, say);
    current = 'nodes';
    await startNodes(world, log, say);
    current = 'register';
    await registerPhones(world, o.bobAnswers ?? true, say);
    current = 'publish';
    await showPublication(world, watch, say);
    current = 'message';
    await sendMessage(world, watch, say);
    current = 'call';
    const call = await callBob(world, watch, o.holdMs ?? 2000, say);
    current = 'hangup';
    await hangUp(call, o.holdMs ?? 2000, say);
  } catch (err) {
    const own = (err as { code?: unknown } | null)?.code;
    const code = typeof own === 'string' ? own : DemoErrorCode.Unexpected;
    const message = err instanceof Error ? err.message : String(err);
    error = { step: current, code, message };
    const failed: DemoStep = {
      step: current,
      n: DEMO_STEPS.indexOf(current) + 1,
      ok: false,
      text: [`Step "${current}" failed: ${message}`],
      data: { code, message },
    };
    steps.push(failed);
    print(o, failed);
    if (!o.json && nodeLog.length > 0) {
      o.out('      What the nodes logged last:');
      for (const line of nodeLog.slice(-8)) o.out(`        ${line}`);
    }
  }
  current = 'cleanup';
  const cleaned = await cleanUp(world);
  watch.close();
  say(
    'cleanup',
    [
      `Clean-up: ${cleaned.parts.length ? cleaned.parts.join(', ') : 'nothing had started'} (${ms(cleaned.ms)}).`,
      ...(cleaned.problems.length ? [`Clean-up problems: ${cleaned.problems.join('; ')}`] : []),
    ],
    { ms: round(cleaned.ms), problems: cleaned.problems.length },
    cleaned.problems.length === 0,
  );
  const total = performance.now() - started;
  const ok = error === undefined && cleaned.problems.length === 0;
  if (o.json)
    o.out(JSON.stringify({ step: 'done', ok, ms: round(total), ...(error ? { error } : {}) }));
  else {
    o.out('');
    const last = ok
      ? `Done in ${(total / 1000).toFixed(1)} s: an IM and a call between alice and bob, found through the DHT, carried by an encrypted tunnel, no server anywhere.`
      : `The demo did not complete (${error ? `${error.code} in step "${error.step}"` : 'clean-up problems'}).`;
    for (const line of wrap(last, WIDTH)) o.out(line);
  }
  return { ok, steps, ...(error ? { error } : {}), ms: total };
}

type Say = (step: DemoStepName, text: string[], data: DemoStep['data'], ok?: boolean) => void;

async function startDht(world: World, watch: Watch, nodes: number, say: Say): Promise<void> {
  if (!Number.isInteger(nodes) || nodes < MIN_DEMO_NODES)
    throw DemoError.stepFailed(
      `the DHT needs at least ${MIN_DEMO_NODES} nodes to store records, got ${nodes}`,
    );
  const t0 = performance.now();
  // Every testnet node logs the requests it receives: the demo shows what a
  // DHT node learns. In a network this small every node is close to every key.
  const starting = startTestnet({
    nodes,
    host: '127.0.0.1',
    loggers: Array.from({ length: nodes }, (_, i) => i),
    maxLogEntries: 1,
    onRequest: (e) => {
      if (e.command === 'MUTABLE_PUT' || e.command === 'ANNOUNCE') watch.dht.push(e);
    },
  });
  world.testnet = await bounded(world, starting, LIMIT.start, 'starting the private DHT', (t) =>
    t.destroy(),
  );
  const boot = world.testnet.bootstrap[0]!;
  say(
    'testnet',
    [
      `A private DHT: ${nodes} HyperDHT nodes on 127.0.0.1 (bootstrap ${boot.host}:${boot.port}), up in ${ms(performance.now() - t0)}. It stands in for the public DHT; nothing in this demo talks to another machine.`,
    ],
    { nodes, bootstrap: `${boot.host}:${boot.port}`, ms: round(performance.now() - t0) },
  );
}

function makeHomes(world: World, say: Say): void {
  world.root = mkdtempSync(join(tmpdir(), 'p2psip-demo-'));
  const make = (name: string, aor: string): Person => {
    const made = initHome(join(world.root!, name), aor);
    if (!made.created) throw DemoError.stepFailed(`${made.homeDir} already had an identity`);
    return { aor: made.aor, home: made.homeDir, key: made.publicKey };
  };
  world.alice = make('alice', AORS.alice);
  world.bob = make('bob', AORS.bob);
  say(
    'homes',
    [
      'Each user gets a home, made exactly as `p2psip init` makes one (in a temporary folder): a store, a private config and a new Ed25519 key that IS the identity. No account, no server.',
      `${world.alice.aor}: key ${short(world.alice.key)}   ${world.bob.aor}: key ${short(world.bob.key)}`,
    ],
    { aliceKey: world.alice.key, bobKey: world.bob.key, home: world.root },
  );
}

async function startNodes(
  world: World,
  log: (who: string) => (level: LogLevel, msg: string) => void,
  say: Say,
): Promise<void> {
  const t0 = performance.now();
  const bootstrap = world.testnet!.bootstrap.map((b) => `${b.host}:${b.port}`);
  for (const [who, p] of [
    ['alice', world.alice!],
    ['bob', world.bob!],
  ] as const) {
    const starting = P2pSipNode.start({
      home: p.home,
      sipHost: '127.0.0.1',
      sipPort: 0,
      bootstrap,
      log: log(who),
    });
    p.node = await bounded(world, starting, LIMIT.start, `starting ${who}'s node`, (n) => n.stop());
  }
  const a = world.alice!.node!.info.sip;
  const b = world.bob!.node!.info.sip;
  say(
    'nodes',
    [
      `Each user runs a p2psip node: alice's SIP proxy listens on ${a.host}:${a.port}, bob's on ${b.host}:${b.port}. Both joined the DHT and wait for encrypted tunnels addressed to their keys (${ms(performance.now() - t0)} for both).`,
    ],
    {
      aliceSip: `${a.host}:${a.port}`,
      bobSip: `${b.host}:${b.port}`,
      ms: round(performance.now() - t0),
    },
  );
}

async function registerPhones(world: World, bobAnswers: boolean, say: Say): Promise<void> {
  const bob = world.bob!;
  const alice = world.alice!;
  bob.ua = await UserAgent.open({ aor: bob.aor, node: bob.node!.info.sip, autoAnswer: bobAnswers });
  alice.ua = await UserAgent.open({ aor: alice.aor, node: alice.node!.info.sip });
  const times: Record<string, number> = {};
  for (const p of [bob, alice]) {
    const out = await within(p.ua!.register(600), LIMIT.sip, `${p.aor}'s REGISTER`);
    expectStatus(out.final, `${p.aor}'s REGISTER`);
    times[p === bob ? 'bobMs' : 'aliceMs'] = round(out.responses.at(-1)!.ms);
  }
  say(
    'register',
    [
      `Their softphones (the built-in user agent, standing in for baresip or Linphone) REGISTER to their own node as to any SIP server: bob → 200 OK in ${times['bobMs']} ms, alice → 200 OK in ${times['aliceMs']} ms. ${bobAnswers ? "Bob's phone answers calls by itself." : "Bob's phone is set to refuse calls."}`,
    ],
    { bobStatus: 200, aliceStatus: 200, ...times },
  );
}

async function showPublication(world: World, watch: Watch, say: Say): Promise<void> {
  const bob = world.bob!;
  const topic = toHex(openKey(bob.aor));
  // The registration made bob's node sign a package with a contact (its
  // tunnel key) and publish it. A stranger on the DHT reads it back; the
  // testnet nodes' request logs say who was asked to keep it.
  const found = await readBack(world.testnet!, bob.aor);
  const pub = await watch.publishes.next(
    (e) => toHex(e.key) === topic && e.seq === found.fields.seq,
    LIMIT.publish,
    "bob's node finishing the publication",
  );
  const storedBy = new Set(
    watch.dht.all((e) => onlinePackageOf(e, bob.aor)?.seq === found.fields.seq).map((e) => e.node),
  ).size;
  const announcedTo = new Set(
    watch.dht
      .all((e) => e.command === 'ANNOUNCE' && e.target !== null && toHex(e.target) === topic)
      .map((e) => e.node),
  ).size;
  const nodes = world.testnet!.nodes.length;
  say(
    'publish',
    [
      `bob's node turned the registration into a signed registration package (seq ${found.fields.seq}, ${found.bytes} bytes) and published it in the DHT under bob's open key ${short(topic)} in ${ms(pub.ms)}. alice's node did the same for alice.`,
      `What the DHT sees: key ${short(topic)} → ${found.bytes} signed bytes` +
        (announcedTo + storedBy > 0
          ? ` (${announcedTo} of the ${nodes} testnet nodes list the record, ${storedBy} store it).`
          : '.') +
        ` A stranger on the DHT looked that key up and read the package in ${ms(found.ms)}: it names ${bob.aor} and his node's key in clear, and the open key is a hash of the AOR, so in open mode anyone can link that key to bob's AOR. The privacy modes (issue 4) encrypt the package under rotating secret keys.`,
    ],
    {
      aor: bob.aor,
      openKey: topic,
      seq: found.fields.seq,
      bytes: found.bytes,
      ms: round(pub.ms),
      readBackMs: round(found.ms),
      dhtNodes: nodes,
      storedBy,
      announcedTo,
    },
  );
}

/**
 * Looks `aor` up from a fresh DHT client, as anyone could, until a package
 * with a contact (an online one) verifies; bounded by LIMIT.publish.
 */
async function readBack(
  testnet: Testnet,
  aor: string,
): Promise<{ fields: PackageFields; bytes: number; ms: number }> {
  const stranger = testnet.createLookup();
  const deadline = performance.now() + LIMIT.publish;
  try {
    for (let round = 0; round < 200 && performance.now() < deadline; round++) {
      const t0 = performance.now();
      const records = await stranger.find(openKey(aor), { timeoutMs: 2_000 });
      const lookupMs = performance.now() - t0;
      for (const r of records) {
        try {
          const fields = verifyPackage(r.value, {
            expectedAor: aor,
            now: Math.floor(Date.now() / 1000),
          });
          if (fields.contacts.length > 0) return { fields, bytes: r.value.length, ms: lookupMs };
        } catch {
          // Not a valid package of this AOR (anyone can write under an open key): skip it.
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await stranger.close();
  }
  throw DemoError.timeout(`reading ${aor}'s online package back from the DHT`, LIMIT.publish);
}

async function sendMessage(world: World, watch: Watch, say: Say): Promise<void> {
  const { alice, bob } = { alice: world.alice!, bob: world.bob! };
  const mark = performance.now();
  const arrived = new Recorder<{ text: string; from: string; bytes: number }>();
  bob.ua!.on('message', (m) => arrived.push({ text: m.text, from: m.from, bytes: m.body.length }));
  const out = await within(alice.ua!.message(bob.aor, IM_TEXT), LIMIT.sip, "alice's MESSAGE");
  expectStatus(out.final, "alice's MESSAGE to bob");
  const got = await arrived.next(() => true, LIMIT.sip, "the message at bob's phone");
  if (got.text !== IM_TEXT || got.from !== alice.aor)
    throw DemoError.stepFailed(`bob's phone got ${JSON.stringify(got.text)} from ${got.from}`);
  const find = firstFind(watch, bob.aor, mark);
  const tunnel = watch.tunnels.all(
    (e) =>
      e.at >= mark &&
      e.direction === 'outbound' &&
      e.localPublicKey === alice.key &&
      e.remotePublicKey === bob.key,
  )[0];
  const total = out.responses.at(-1)!.ms;
  say(
    'message',
    [
      `alice's phone sends bob an instant message (SIP MESSAGE): "${IM_TEXT}"`,
      (find
        ? `alice's node looked bob up in the DHT (${find.found} package found in ${ms(find.ms)}) and verified bob's signature on it; `
        : "alice's node found bob's package and verified bob's signature on it; ") +
        (tunnel && find
          ? `then it opened a Noise tunnel to bob's node (key ${short(bob.key)}) in ${ms(tunnel.at - find.at)} and introduced itself with its own signed package.`
          : `then it reached bob's node (key ${short(bob.key)}) through a Noise tunnel and introduced itself with its own signed package.`),
      `bob's node checked that the From (${alice.aor}) is the identity proven in the tunnel and passed the message on: bob's phone shows "${got.text}" from ${got.from}. 200 OK was back at alice after ${ms(total)}.`,
    ],
    {
      im: got.text,
      from: got.from,
      delivered: true,
      status: out.final!.status,
      ms: round(total),
      ...(find ? { lookupMs: round(find.ms), found: find.found } : {}),
      ...(tunnel && find ? { tunnelMs: round(tunnel.at - find.at) } : {}),
    },
  );
}

interface CallInProgress {
  done: ReturnType<UserAgent['call']>;
  bobEnded: Recorder<{ by: string; reason: string }>;
}

async function callBob(
  world: World,
  watch: Watch,
  holdMs: number,
  say: Say,
): Promise<CallInProgress> {
  const { alice, bob } = { alice: world.alice!, bob: world.bob! };
  const mark = performance.now();
  const up = new Recorder<{ who: 'alice' | 'bob' | 'unanswered'; failure?: string }>();
  const bobEnded = new Recorder<{ by: string; reason: string }>();
  alice.ua!.on('established', () => up.push({ who: 'alice' }));
  bob.ua!.on('established', () => up.push({ who: 'bob' }));
  bob.ua!.on('ended', (e) => bobEnded.push({ by: e.by, reason: e.reason }));
  const progress: Progress[] = [];
  const done = alice.ua!.call(bob.aor, holdMs, (p) => progress.push(p));
  // call() returns before 'established' only when the call was not answered.
  done.then(
    (r) => {
      if (up.all((e) => e.who === 'alice').length > 0) return;
      const f = r.invite.final;
      up.push({
        who: 'unanswered',
        failure: f
          ? `bob's side answered ${f.status} ${f.reason}`
          : 'no answer to the INVITE (timeout)',
      });
    },
    (err: unknown) =>
      up.push({ who: 'unanswered', failure: err instanceof Error ? err.message : String(err) }),
  );
  const answer = await up.next((e) => e.who !== 'bob', LIMIT.sip, "an answer to alice's INVITE");
  if (answer.failure !== undefined) throw DemoError.stepFailed(answer.failure);
  await up.next((e) => e.who === 'bob', LIMIT.sip, "alice's ACK at bob's phone");
  const find = firstFind(watch, bob.aor, mark);
  const reused = !watch.tunnels.all((e) => e.at >= mark && e.localPublicKey === alice.key)[0];
  const ok = progress.find((p) => p.status === 200);
  const steps = progress
    .map(
      (p) =>
        `${p.status} ${p.reason}${p.status === 100 ? " (alice's node)" : ''} after ${ms(p.ms)}`,
    )
    .join(', ');
  say(
    'call',
    [
      'alice calls bob (SIP INVITE with an SDP offer). Her node ' +
        (find ? `looks bob up in the DHT again (${ms(find.ms)})` : "finds bob's node") +
        (reused ? ', reuses the open tunnel,' : ',') +
        " and bob's node rings bob's phone:",
      `${steps}: the call was set up in ${ms(ok?.ms ?? 0)}. alice's ACK reached bob's phone through both nodes: the call is up (signalling only: this demo sends no audio).`,
    ],
    {
      answered: true,
      statuses: progress.map((p) => p.status),
      setupMs: round(ok?.ms ?? 0),
      tunnelReused: reused,
      ...(find ? { lookupMs: round(find.ms) } : {}),
    },
  );
  return { done, bobEnded };
}

async function hangUp(call: CallInProgress, holdMs: number, say: Say): Promise<void> {
  const result = await within(call.done, holdMs + LIMIT.sip, "alice's hang-up");
  const bye = result.bye;
  if (bye?.final?.status !== 200)
    throw DemoError.stepFailed(
      bye?.final
        ? `BYE answered ${bye.final.status}`
        : 'no answer to the BYE (or bob hung up first)',
    );
  const ended = await call.bobEnded.next(() => true, LIMIT.sip, "the call ending at bob's phone");
  const byeMs = bye.responses.at(-1)!.ms;
  say(
    'hangup',
    [
      `After ${holdMs / 1000} s alice hangs up: her BYE follows the route the nodes recorded in the INVITE (alice's node → tunnel → bob's node → bob's phone): 200 OK in ${ms(byeMs)}; bob's phone saw the call end.`,
    ],
    { holdMs, byeStatus: 200, byeMs: round(byeMs), endedAtBob: ended.by === 'remote' },
  );
}

/** Stops everything the demo started, each part bounded; never throws. */
async function cleanUp(world: World): Promise<{ ms: number; parts: string[]; problems: string[] }> {
  const t0 = performance.now();
  const parts: string[] = [];
  const problems: string[] = [];
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await within(work(), LIMIT.stop, what);
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const people = [world.alice, world.bob].filter((p): p is Person => p !== undefined);
  const phones = people.filter((p) => p.ua);
  const nodes = people.filter((p) => p.node);
  // Each group in parallel, each part bounded: a worst case of a few limits, not a sum of all.
  await Promise.all(
    phones.map(async (p) => {
      if (p.node) await attempt(`unregistering ${p.aor}`, () => p.ua!.unregister());
      await attempt(`closing ${p.aor}'s phone`, () => p.ua!.close());
    }),
  );
  if (phones.length) parts.push('the phones unregister and close');
  await Promise.all(nodes.map((p) => attempt(`stopping ${p.aor}'s node`, () => p.node!.stop())));
  if (nodes.length) parts.push('the nodes withdraw their packages and stop');
  if (world.testnet) {
    await attempt('stopping the DHT', () => world.testnet!.destroy());
    parts.push('the DHT shuts down');
  }
  await Promise.allSettled(world.late);
  if (world.root) {
    try {
      rmSync(world.root, { recursive: true, force: true });
      parts.push('the temporary homes are deleted');
    } catch (err) {
      problems.push(`removing ${world.root}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { ms: performance.now() - t0, parts, problems };
}

/**
 * Waits for something that is starting; when the wait runs out, whatever it
 * becomes later is disposed of (cleanup waits for that, bounded).
 */
async function bounded<T>(
  world: World,
  starting: Promise<T>,
  limitMs: number,
  what: string,
  dispose: (t: T) => Promise<unknown>,
): Promise<T> {
  try {
    return await within(starting, limitMs, what);
  } catch (err) {
    world.late.push(
      within(
        starting.then(dispose, () => {}),
        LIMIT.stop,
        `${what} (late)`,
      ).catch(() => {}),
    );
    throw err;
  }
}

function onlinePackageOf(e: DhtRequestLogEntry, aor: string): PackageFields | undefined {
  if (e.command !== 'MUTABLE_PUT' || !e.stored || e.stored.value.length === 0) return undefined;
  try {
    const { fields } = decodePackage(e.stored.value);
    return fields.aor === aor && fields.contacts.length > 0 ? fields : undefined;
  } catch {
    return undefined;
  }
}

function firstFind(watch: Watch, aor: string, since: number) {
  const key = toHex(openKey(aor));
  return watch.finds.all((e) => e.at >= since && toHex(e.key) === key)[0];
}

function expectStatus(final: { status: number; reason: string } | undefined, what: string): void {
  if (!final) throw DemoError.stepFailed(`${what}: no answer (SIP timeout)`);
  if (final.status !== 200) throw DemoError.stepFailed(`${what}: ${final.status} ${final.reason}`);
}

function print(o: DemoOptions, s: DemoStep): void {
  if (o.json) {
    o.out(JSON.stringify({ step: s.step, n: s.n, ok: s.ok, ...s.data, text: s.text.join(' ') }));
    return;
  }
  const head = s.ok ? `[${s.n}/${DEMO_STEPS.length}]` : '  ✗  ';
  const lines = s.text.flatMap((paragraph) => wrap(paragraph, WIDTH - head.length - 1));
  lines.forEach((line, i) => {
    o.out(`${i === 0 ? head : ' '.repeat(head.length)} ${line}`);
  });
}

/** Narration width in columns. */
const WIDTH = 100;

/** Splits a paragraph into lines of at most `width` columns, at spaces. */
function wrap(paragraph: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** A key for people: the first 8 hex digits. */
function short(hex: string): string {
  return `${hex.slice(0, 8)}…`;
}

function ms(v: number): string {
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
