// Durability under SIGKILL: a child commits writes in a loop and is killed by
// PID mid-loop; reopening must find a sound database holding every write the
// child reported as committed, with the counter and the call log consistent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/store/index.js';

const CHILD = new URL('./crash-child.ts', import.meta.url).pathname;

/** Runs the child until it has reported `killAfter` commits, then SIGKILLs it. Returns the last reported value. */
function runAndKill(
  home: string,
  killAfter: number,
): Promise<{ last: number; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, '20000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = 0;
    let seen = 0;
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        last = Number(line);
        seen++;
      }
      if (seen >= killAfter && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ last, signal });
    });
  });
}

test('SIGKILL during writes loses no committed write and leaves a consistent database', async (t) => {
  const home = join(mkdtempSync(join(tmpdir(), 'p2psip-crash-')), 'home');
  t.after(() => rmSync(join(home, '..'), { recursive: true, force: true }));
  let previous = 0;
  for (let round = 0; round < 2; round++) {
    const { last, signal } = await runAndKill(home, 150);
    assert.equal(signal, 'SIGKILL', 'the child was killed mid-loop');
    assert.ok(last >= previous + 150, `round ${round}: reported ${last} after ${previous}`);
    const store = Store.open(home);
    try {
      assert.equal(store.integrityOk(), true);
      const seq = store.getCounter('seq');
      // Every reported commit is there; at most the one in flight may also have landed.
      assert.ok(seq === last || seq === last + 1, `counter ${seq}, last reported ${last}`);
      // Counter and call log were written in one transaction: they agree exactly.
      const calls = store.listCalls({ limit: 10_000 });
      assert.equal(calls.length, seq);
      assert.equal(calls[0]!.peer, `p${seq}@crash.test`);
      assert.deepEqual(
        calls.map((c) => c.durationMs),
        Array.from({ length: seq }, (_, i) => seq - i),
      );
      previous = seq;
    } finally {
      store.close();
    }
  }
});
