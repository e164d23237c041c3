// The esbuild plugin that bundles the node's shared code for the browser (web/build.mjs, and the test
// that runs the page's light client without Node's globals): browser versions of the few Node modules
// that code imports, in web/platform/. Any other Node module stays unresolved and fails the build.
import { join, resolve } from 'node:path';

/** @param {string} root the checkout */
export function browserPlatform(root) {
  const shim = (f) => join(root, 'web', 'platform', f);
  const builtins = { 'node:crypto': 'node-crypto.ts', 'node:url': 'node-url.ts', 'node:net': 'node-net.ts' };
  const swapped = new Map([[join(root, 'chain', 'hash.js'), shim('chain-hash.ts')]]);
  return {
    name: 'vos-browser-platform',
    setup(b) {
      b.onResolve({ filter: /^node:(crypto|url|net)$/ }, (a) => ({ path: shim(builtins[a.path]) }));
      b.onResolve({ filter: /\/hash\.js$/ }, (a) => {
        const to = swapped.get(resolve(a.resolveDir, a.path));
        return to === undefined ? undefined : { path: to };
      });
    },
  };
}
