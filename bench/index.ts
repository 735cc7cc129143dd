/**
 * `npm run bench` — runs every benchmark module in this folder (each exports
 * `run(): Promise<BenchResult[]>`) and prints one table. Pass names to run a
 * subset: `npm run bench -- sip-parse`. Results belong in docs/BENCHMARKS.md
 * together with the command that produced them.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';

export interface BenchResult {
  name: string;
  opsPerSec?: number;
  usPerOp?: number;
  /** Free-form extra figures (p50, p99, bytes, …). */
  extra?: Record<string, number | string>;
}

const here = new URL('.', import.meta.url);
const wanted = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

console.log(
  `# p2psip benchmarks — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${new Date().toISOString()}`,
);
let failed = false;
for (const name of modules) {
  const mod = (await import(new URL(`./${name}.ts`, here).href)) as {
    run?: () => Promise<BenchResult[]>;
  };
  if (typeof mod.run !== 'function') continue;
  console.log(`\n## ${name}`);
  try {
    for (const r of await mod.run()) {
      const parts = [r.name.padEnd(44)];
      if (r.opsPerSec !== undefined) parts.push(`${Math.round(r.opsPerSec).toLocaleString('en')} ops/s`);
      if (r.usPerOp !== undefined) parts.push(`${r.usPerOp.toFixed(2)} µs/op`);
      for (const [k, v] of Object.entries(r.extra ?? {})) parts.push(`${k}=${v}`);
      console.log(parts.join('  '));
    }
  } catch (err) {
    failed = true;
    console.error(`${name} failed:`, err);
  }
}
process.exitCode = failed ? 1 : 0;
