// Child process for crash.test.ts: commits "bump the seq counter + append a
// call-log row" in one transaction per step and reports each committed value
// on stdout. The parent SIGKILLs it mid-loop. Bounded: at most MAX steps.
import { Store } from '../../../src/store/index.js';

const [home, maxText] = process.argv.slice(2);
const MAX = Number(maxText ?? '20000');
const store = Store.open(home!);
for (let i = 0; i < MAX; i++) {
  const n = store.transaction(() => {
    const seq = store.incrementCounter('seq');
    store.appendCall({
      direction: 'out',
      peer: `p${seq}@crash.test`,
      outcome: 'answered',
      durationMs: seq,
    });
    return seq;
  });
  process.stdout.write(`${n}\n`);
}
store.close();
