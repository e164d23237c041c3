#!/usr/bin/env node
// The `vos` command. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
import '../dist/util/polyfill.js';
import { main } from '../dist/cli/index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`vos: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
