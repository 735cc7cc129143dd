/** Test helpers of the store suites: a store in a fresh temp home, removed after the test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, StoreError } from '../../../src/store/index.js';

export function openTemp(t: { after: (fn: () => void) => void }, now = () => 1000): Store {
  const base = mkdtempSync(join(tmpdir(), 'p2psip-store-'));
  const store = Store.open(join(base, 'home'), { now });
  t.after(() => {
    store.close();
    rmSync(base, { recursive: true, force: true });
  });
  return store;
}

/** An assert.throws predicate: a StoreError with this code. */
export const storeError = (code: string) => (e: unknown) =>
  e instanceof StoreError && e.code === code;
