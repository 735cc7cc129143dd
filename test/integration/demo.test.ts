/**
 * `p2psip demo` end to end: in-process through main() (narration, exit code,
 * no handles left behind), as a child process that must exit by itself with
 * 0 (--json lines), and a failing run that names its step and still cleans up.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { DEMO_STEPS, runDemo } from '../../src/demo/demo.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IM = 'Hello bob, this is alice, over p2psip!';
/** The demo normally takes ~3 s; this bound only catches a hang. */
const EXIT_BOUND_MS = 60_000;

function capture(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l) };
}

/** Active handles by kind (sockets, servers, timers): what a leak would add. */
function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/**
 * Every socket, server and timer the demo started is gone. hyperdht leaves a
 * 500 ms timer per tunnel handshake (local-address probe) that it does not
 * clear on destroy, so give those a bounded moment to run out first.
 */
async function assertNoHandlesLeft(before: Map<string, number>): Promise<void> {
  const extra = () => [...handleCounts()].filter(([kind, n]) => n > (before.get(kind) ?? 0));
  for (let i = 0; i < 40 && extra().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    extra().map(([kind, n]) => `${kind}: ${before.get(kind) ?? 0} before, ${n} after`),
    [],
  );
}

test('p2psip demo narrates every step, delivers the IM, answers and hangs up the call, exits 0 and leaves no handles', async () => {
  const before = handleCounts();
  const io = capture();
  const code = await main(['demo'], io);
  const text = io.out.join('\n');
  const flat = io.out.join(' ').replace(/\s+/g, ' ');
  assert.equal(code, 0, `exit code; stderr: ${io.err.join('\n')}\n${text}`);
  for (let n = 1; n <= 9; n++) assert.match(text, new RegExp(`^\\[${n}/9\\] `, 'm'), `step ${n}/9`);
  assert.ok(flat.includes(`bob's phone shows "${IM}" from alice@example.org`), 'IM delivered');
  assert.match(flat, /published it in the DHT under bob's open key [0-9a-f]{8}…/);
  assert.match(flat, /→ \d+ signed bytes/);
  assert.match(flat, /180 Ringing after [\d.]+ ms, 200 OK after [\d.]+ ms: the call was set up/);
  assert.match(
    flat,
    /her BYE follows the route .* 200 OK in [\d.]+ ms; bob's phone saw the call end/,
  );
  assert.match(flat, /Clean-up: .*the temporary homes are deleted/);
  assert.match(text, /^Done in [\d.]+ s/m);
  assert.doesNotMatch(text, /✗/);
  await assertNoHandlesLeft(before);
});

test('`p2psip demo --json` in its own process ends by itself with 0: one JSON line per step, all ok', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'demo', '--json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let timer: NodeJS.Timeout | undefined;
  const exit = await new Promise<number | string>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('did not exit by itself');
    }, EXIT_BOUND_MS);
    child.on('exit', (code, signal) => resolve(code ?? String(signal)));
  });
  clearTimeout(timer);
  assert.equal(exit, 0, `exit; stderr:\n${stderr}\nstdout:\n${stdout}`);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l['step']),
    [...DEMO_STEPS, 'done'],
  );
  assert.ok(lines.every((l) => l['ok'] === true));
  const step = (name: string) => lines.find((l) => l['step'] === name)!;
  assert.equal(step('message')['im'], IM);
  assert.equal(step('message')['from'], 'alice@example.org');
  assert.equal(step('message')['status'], 200);
  assert.deepEqual(step('call')['statuses'], [100, 180, 200]);
  assert.equal(step('hangup')['byeStatus'], 200);
  assert.equal(step('hangup')['endedAtBob'], true);
  assert.equal(typeof step('publish')['bytes'], 'number');
  assert.match(String(step('publish')['openKey']), /^[0-9a-f]{64}$/);
  assert.equal(step('testnet')['bootstrap']?.toString().startsWith('127.0.0.1:'), true);
  assert.equal(existsSync(String(step('homes')['home'])), false, 'temporary homes removed');
});

test('a step that fails stops the demo with its name and code, cleans up, and the result is not ok', async () => {
  const out: string[] = [];
  const result = await runDemo({ out: (l) => out.push(l), nodes: 1 });
  assert.equal(result.ok, false);
  assert.equal(result.error?.step, 'testnet');
  assert.equal(result.error?.code, 'DEMO_STEP_FAILED');
  assert.match(out.join('\n'), /✗ {3}Step "testnet" failed: the DHT needs at least 2 nodes/);
  assert.match(out.join('\n'), /did not complete \(DEMO_STEP_FAILED in step "testnet"\)/);
  assert.deepEqual(
    result.steps.map((s) => [s.step, s.ok]),
    [
      ['testnet', false],
      ['cleanup', true],
    ],
  );
  const io = capture();
  assert.equal(await main(['demo', '--nodes', '1'], io), 2, 'the CLI refuses it as a usage error');
  assert.match(io.err.join('\n'), /--nodes must be an integer 2\.\.64/);
});

test('a call bob refuses fails the call step with the SIP answer; everything started is stopped', async () => {
  const before = handleCounts();
  const out: string[] = [];
  const result = await runDemo({ out: (l) => out.push(l), bobAnswers: false });
  assert.equal(result.ok, false);
  assert.deepEqual(result.error && [result.error.step, result.error.code], [
    'call',
    'DEMO_STEP_FAILED',
  ]);
  assert.match(result.error?.message ?? '', /486 Busy Here/);
  assert.deepEqual(
    result.steps.map((s) => `${s.step}:${s.ok}`),
    ['testnet', 'homes', 'nodes', 'register', 'publish', 'message']
      .map((s) => `${s}:true`)
      .concat(['call:false', 'cleanup:true']),
  );
  const text = out.join('\n');
  assert.match(text, /✗ {3}Step "call" failed: bob's side answered 486/);
  assert.match(
    text,
    /Clean-up: the phones unregister and close, the nodes withdraw .* the temporary homes are deleted/s,
  );
  assert.equal(existsSync(String(result.steps[1]?.data['home'])), false, 'temporary homes removed');
  await assertNoHandlesLeft(before);
});
