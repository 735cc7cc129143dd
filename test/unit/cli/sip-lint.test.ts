/**
 * `p2psip sip-lint` through the real CLI entry point (main() with a capturing
 * CliIo): the JSON lines, their key order, and the exit codes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../../src/cli/main.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SHARED = join(ROOT, '..', 'shared', 'testdata', 'rfc4475');
const EXTRA = join(ROOT, 'test', 'fixtures', 'rfc4475-extra');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['sip-lint', ...argv], {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
  });
  return { code, out, err };
}

test('one JSON line per file, keys file, parsed, verdict, status, reason in that order; exit 0', async () => {
  const files = [
    join(SHARED, 'wsinv.dat'),
    join(SHARED, 'unkscm.dat'),
    join(EXTRA, 'bigcode.dat'),
    join(EXTRA, 'zeromf.dat'),
  ];
  const { code, out, err } = await run(...files);
  assert.equal(code, 0);
  assert.deepEqual(err, []);
  assert.equal(out.length, 4);
  const rows = out.map((l) => JSON.parse(l));
  for (const r of rows)
    assert.deepEqual(Object.keys(r), ['file', 'parsed', 'verdict', 'status', 'reason']);
  assert.deepEqual(
    rows.map((r) => [r.file, r.parsed, r.verdict, r.status]),
    [
      [files[0], true, 'accept', null],
      [files[1], true, 'reject', 416],
      [files[2], false, 'drop', null],
      [files[3], true, 'reject', 483],
    ],
  );
  assert.match(rows[0].reason, /^ok/);
  assert.match(rows[1].reason, /nobodyknowsthisscheme/);
});

test('an unreadable file gets an error line, the others are still checked; exit 1', async () => {
  const missing = join(EXTRA, 'no-such-message.dat');
  const { code, out } = await run(missing, join(EXTRA, 'bext01.dat'), EXTRA);
  assert.equal(code, 1);
  assert.equal(out.length, 3);
  const [a, b, c] = out.map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(a), ['file', 'error']);
  assert.equal(a.file, missing);
  assert.match(a.error, /ENOENT/);
  assert.deepEqual([b.verdict, b.status], ['reject', 420]);
  assert.match(c.error, /EISDIR/, 'a directory is not a readable message file');
});

test('options: --supported, --answer, --max-size, --stream, --scheme', async () => {
  const bext01 = join(EXTRA, 'bext01.dat');
  let r = await run(
    '--supported',
    'noProxiesSupportThis',
    '--supported',
    'norDoAnyProxiesSupportThis',
    bext01,
  );
  assert.equal(JSON.parse(r.out[0]!).verdict, 'accept');
  r = await run('--answer', join(EXTRA, 'zeromf.dat'));
  assert.equal(JSON.parse(r.out[0]!).verdict, 'accept');
  r = await run('--max-size', '1000', join(SHARED, 'longreq.dat'));
  assert.equal(JSON.parse(r.out[0]!).status, 513);
  r = await run('--stream', join(SHARED, 'inv2543.dat'));
  assert.deepEqual([JSON.parse(r.out[0]!).verdict, JSON.parse(r.out[0]!).status], ['reject', 400]);
  r = await run('--scheme', 'soap.beep', join(SHARED, 'novelsc.dat'));
  assert.equal(JSON.parse(r.out[0]!).verdict, 'accept');
  assert.equal(r.code, 0);
});

test('usage errors exit 2 with the usage text; --help exits 0', async () => {
  for (const argv of [[], ['--bogus', 'x.dat'], ['--max-size', '-3', 'x.dat'], ['--max-size']]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.deepEqual(r.out, []);
    assert.match(r.err.join('\n'), /Usage: p2psip sip-lint/);
  }
  const help = await run('--help');
  assert.equal(help.code, 0);
  assert.match(help.out.join('\n'), /Exit status: 0 when every file could be read/);
});
