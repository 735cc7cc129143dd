#!/usr/bin/env node
// The installed CLI: runs the compiled entry (dist/ is built by `npm run build`,
// which `npm ci` runs through the `prepare` script).
import '../dist/cli/run.js';
