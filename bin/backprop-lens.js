#!/usr/bin/env node
'use strict';
// The CLI lives in dist/cli.js, built by `npm run build` (which `npm install` runs through `prepare`).
let cli;
try {
  cli = require('../dist/cli.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('backprop-lens: dist/cli.js is missing; run `npm run build` first.\n');
    process.exit(2);
  }
  throw err;
}
cli.main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(cli.terminalText(`backprop-lens: internal error: ${err && err.stack ? err.stack : err}\n`)); process.exitCode = 2; },
);
