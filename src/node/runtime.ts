/**
 * `<home>/run.json`: written by a running node, removed when it stops, so
 * local tools (`p2psip message`, `call`, `status`) find the node's actual SIP
 * address even when `start --sip` overrode the config.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';

export const RUNTIME_FILE = 'run.json';

export interface RuntimeInfo {
  pid: number;
  aor: string;
  publicKey: string;
  sip: { host: string; port: number };
  startedAt: string;
}

export function writeRuntime(home: string, info: RuntimeInfo): void {
  writeFileAtomic(join(home, RUNTIME_FILE), `${JSON.stringify(info)}\n`);
}

export function removeRuntime(home: string): void {
  rmSync(join(home, RUNTIME_FILE), { force: true });
}

/** The running node's info, or undefined when none runs (no file, or its process is gone). */
export function readRuntime(home: string): RuntimeInfo | undefined {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(readFileSync(join(home, RUNTIME_FILE), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
  } catch {
    return undefined; // a stale file from a node that was killed
  }
  return info;
}
