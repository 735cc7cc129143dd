import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../../src/cli/command.js';
import { runTestnet, testnet } from '../../../src/cli/commands/testnet.js';
import { HyperDhtLookup } from '../../../src/overlay/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const entry = fileURLToPath(new URL('./fixtures/testnet-entry.ts', import.meta.url));

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  let onLine: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => (onLine = resolve));
  return {
    io: {
      stdout: (line: string) => {
        out.push(line);
        onLine(line);
      },
      stderr: (line: string) => err.push(line),
    },
    out,
    err,
    firstLine,
  };
}

/** A put/get through the network behind `bootstrap`, by a client that knows nothing else. */
async function roundTrip(bootstrap: { host: string; port: number }[]): Promise<string[]> {
  const a = new HyperDhtLookup({ bootstrap, host: '127.0.0.1', ephemeral: true });
  const b = new HyperDhtLookup({ bootstrap, host: '127.0.0.1', ephemeral: true });
  try {
    const key = new Uint8Array(randomBytes(32));
    await a.publish(key, new TextEncoder().encode('via testnet'), { ttlSeconds: 60, seq: 1 });
    return (await b.find(key)).map((r) => Buffer.from(r.value).toString());
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

test('testnet command: prints one bootstrap line, serves puts/gets, stops on abort with 0', async () => {
  const { io, out, err, firstLine } = captureIo();
  const controller = new AbortController();
  const running = runTestnet(['--nodes', '3'], io, controller.signal);
  const line = await firstLine;
  const match = /^bootstrap (127\.0\.0\.1):(\d+)$/.exec(line);
  assert.ok(match, line);
  assert.deepEqual(await roundTrip([{ host: match[1]!, port: Number(match[2]) }]), ['via testnet']);
  controller.abort();
  assert.equal(await running, 0);
  assert.equal(out.length, 1);
  assert.equal(err.at(-1), 'testnet: stopped');
});

test('testnet command: --json, an explicit --port and --log K', async () => {
  const { io, out, err, firstLine } = captureIo();
  const controller = new AbortController();
  // A port that is free right now: from a first run on an ephemeral port.
  const probe = captureIo();
  const probeStop = new AbortController();
  const probeRun = runTestnet(['--nodes', '1', '--json'], probe.io, probeStop.signal);
  const { bootstrap } = JSON.parse(await probe.firstLine) as {
    bootstrap: { host: string; port: number }[];
  };
  probeStop.abort();
  assert.equal(await probeRun, 0);
  const port = bootstrap[0]!.port;

  const running = runTestnet(
    ['--nodes', '2', '--port', String(port), '--json', '--log', '1'],
    io,
    controller.signal,
  );
  assert.deepEqual(JSON.parse(await firstLine), {
    bootstrap: [{ host: '127.0.0.1', port }],
    nodes: 2,
  });
  assert.deepEqual(await roundTrip([{ host: '127.0.0.1', port }]), ['via testnet']);
  controller.abort();
  assert.equal(await running, 0);
  assert.equal(out.length, 1);
  assert.ok(
    err.some((l) =>
      /^node 1: MUTABLE_PUT target=[0-9a-f]{64} value=\d+B from 127\.0\.0\.1:\d+$/.test(l),
    ),
    err.join('\n'),
  );
});

test('testnet command: usage errors for bad options, never a non-loopback host', async () => {
  const { io } = captureIo();
  const signal = AbortSignal.abort();
  for (const argv of [
    ['--nodes', 'x'],
    ['--nodes', '0'],
    ['--nodes', '65'],
    ['--port', '70000'],
    ['--host', '0.0.0.0'],
    ['--host', '192.0.2.1'],
    ['--log', '3', '--nodes', '3'],
    ['--bogus'],
    ['extra'],
  ]) {
    await assert.rejects(runTestnet(argv, io, signal), UsageError, argv.join(' '));
  }
  assert.equal(testnet.name, 'testnet');
  assert.match(testnet.usage, /--nodes N/);
});

test('testnet command as a process: bootstrap line, a client round trip, SIGTERM → exit 0', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, '--nodes', '3'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    exited.then(() => {
      throw new Error(`testnet exited before printing its bootstrap line: ${stderr}`);
    }),
  ])) as [string];
  const match = /^bootstrap (127\.0\.0\.1):(\d+)$/.exec(line);
  assert.ok(match, line);
  assert.deepEqual(await roundTrip([{ host: match[1]!, port: Number(match[2]) }]), ['via testnet']);
  assert.ok(child.pid);
  process.kill(child.pid, 'SIGTERM');
  const [code, signal] = await exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /testnet: stopped/);
});
