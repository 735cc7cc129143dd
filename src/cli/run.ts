/**
 * Process entry for the CLI: `bin/p2psip.js` runs the compiled copy of this
 * file; tests and development run it from source with `node --import tsx
 * src/cli/run.ts …`.
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
