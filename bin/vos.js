#!/usr/bin/env node
// The `vos` command. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`error: vos needs Node.js 20.19 or later; this is ${process.version}\n`);
  process.exit(1);
}
let main;
try {
  await import('../dist/util/polyfill.js');
  ({ main } = await import('../dist/cli/index.js'));
} catch (err) {
  process.stderr.write(`error: cannot load dist/ (run \`npm run build\`): ${err?.message ?? err}\n`);
  process.exit(1);
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`error: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
